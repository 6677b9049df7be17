"""The helpers CloudFormation puts beside inline Lambda code (`Code.ZipFile`) for custom resources: Python's
`cfnresponse` module and Node.js's `cfn-response`. Both PUT the response document to the request's
ResponseURL, as AWS's do; written for Overcast (stdlib only)."""

PYTHON = '''"""cfnresponse: send a custom resource's response to CloudFormation's presigned ResponseURL."""

import json
import urllib.request

SUCCESS = "SUCCESS"
FAILED = "FAILED"


def send(event, context, responseStatus, responseData, physicalResourceId=None, noEcho=False, reason=None):
    body = json.dumps(
        {
            "Status": responseStatus,
            "Reason": reason or "See the details in CloudWatch Log Stream: " + context.log_stream_name,
            "PhysicalResourceId": physicalResourceId or context.log_stream_name,
            "StackId": event["StackId"],
            "RequestId": event["RequestId"],
            "LogicalResourceId": event["LogicalResourceId"],
            "NoEcho": noEcho,
            "Data": responseData,
        }
    ).encode()
    request = urllib.request.Request(
        event["ResponseURL"], data=body, method="PUT", headers={"content-type": "", "content-length": str(len(body))}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            print("Status code:", response.status)
    except Exception as error:
        print("send(..) failed executing http.request(..):", error)
'''

NODE = """// cfn-response: send a custom resource's response to CloudFormation's presigned ResponseURL.
exports.SUCCESS = "SUCCESS";
exports.FAILED = "FAILED";

exports.send = function (event, context, responseStatus, responseData, physicalResourceId, noEcho) {
  return new Promise((resolve) => {
    const body = JSON.stringify({
      Status: responseStatus,
      Reason: "See the details in CloudWatch Log Stream: " + context.logStreamName,
      PhysicalResourceId: physicalResourceId || context.logStreamName,
      StackId: event.StackId,
      RequestId: event.RequestId,
      LogicalResourceId: event.LogicalResourceId,
      NoEcho: noEcho || false,
      Data: responseData,
    });
    const url = new URL(event.ResponseURL);
    const client = url.protocol === "https:" ? require("https") : require("http");
    const request = client.request(
      url,
      { method: "PUT", headers: { "content-type": "", "content-length": Buffer.byteLength(body) } },
      (response) => {
        console.log("Status code: " + response.statusCode);
        response.resume();
        response.on("end", () => { resolve(); if (context.done) context.done(); });
      }
    );
    request.on("error", (error) => {
      console.log("send(..) failed executing https.request(..): " + error);
      resolve();
      if (context.done) context.done();
    });
    request.write(body);
    request.end();
  });
};
"""
