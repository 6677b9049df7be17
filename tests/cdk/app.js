// The CDK app the tests deploy: a queue feeding a Python function (through an SQS event source) that writes
// each order to a table and a receipt to a bucket, with its own role. `-c release=2` is the app's next
// release: the function's environment and the queue's visibility timeout change (an update in place).
const path = require("path");
const cdk = require("aws-cdk-lib");
const dynamodb = require("aws-cdk-lib/aws-dynamodb");
const iam = require("aws-cdk-lib/aws-iam");
const lambda = require("aws-cdk-lib/aws-lambda");
const { SqsEventSource } = require("aws-cdk-lib/aws-lambda-event-sources");
const s3 = require("aws-cdk-lib/aws-s3");
const sqs = require("aws-cdk-lib/aws-sqs");

class OrdersStack extends cdk.Stack {
  constructor(scope, id, props) {
    super(scope, id, props);
    const release = this.node.tryGetContext("release") || "1";
    const bucket = new s3.Bucket(this, "Receipts", { removalPolicy: cdk.RemovalPolicy.DESTROY });
    const queue = new sqs.Queue(this, "Orders", { visibilityTimeout: cdk.Duration.seconds(release === "1" ? 30 : 45) });
    const table = new dynamodb.Table(this, "OrdersTable", {
      partitionKey: { name: "id", type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      removalPolicy: cdk.RemovalPolicy.DESTROY,
    });
    const role = new iam.Role(this, "HandlerRole", {
      assumedBy: new iam.ServicePrincipal("lambda.amazonaws.com"),
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName("service-role/AWSLambdaBasicExecutionRole")],
    });
    const handler = new lambda.Function(this, "Handler", {
      runtime: lambda.Runtime.PYTHON_3_11,
      handler: "handler.main",
      code: lambda.Code.fromAsset(path.join(__dirname, "handler")),
      role,
      timeout: cdk.Duration.seconds(10),
      environment: { TABLE: table.tableName, BUCKET: bucket.bucketName, RELEASE: release },
    });
    table.grantWriteData(handler);
    bucket.grantPut(handler);
    handler.addEventSource(new SqsEventSource(queue, { batchSize: 5 }));
    new cdk.CfnOutput(this, "QueueUrl", { value: queue.queueUrl });
    new cdk.CfnOutput(this, "TableName", { value: table.tableName });
    new cdk.CfnOutput(this, "BucketName", { value: bucket.bucketName });
    new cdk.CfnOutput(this, "FunctionName", { value: handler.functionName });
  }
}

const app = new cdk.App();
new OrdersStack(app, "OvercastOrders", {
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});
