"""Parameter Store's hot path: GetParameter of a String parameter."""

import json

_HEADERS = {"Content-Type": "application/x-amz-json-1.1"}

OPERATIONS = [
    {
        "name": "ssm-get-parameter",
        "service": "ssm",
        "protocol": "json",
        "method": "POST",
        "path": "/",
        "headers": {**_HEADERS, "X-Amz-Target": "AmazonSSM.GetParameter"},
        "body": json.dumps({"Name": "/overcast/bench/url"}),
        "setup": [
            {
                "service": "ssm",
                "method": "POST",
                "path": "/",
                "headers": {**_HEADERS, "X-Amz-Target": "AmazonSSM.PutParameter"},
                "body": json.dumps(
                    {
                        "Name": "/overcast/bench/url",
                        "Value": "https://example.com",
                        "Type": "String",
                        "Overwrite": True,
                    }
                ),
            }
        ],
        "expect": '"Value"',
        "default": True,
        "target": 2.0,
    }
]
