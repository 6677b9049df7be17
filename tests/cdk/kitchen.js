// A CDK app of the constructs users reach for across services, as CDK writes their templates: a topic feeding
// a queue (with its dead-letter queue), a function with its log group, URL, a schedule and an alarm, a
// KMS-encrypted versioned bucket, a table with a stream and an index, an SSM parameter, a generated secret,
// a state machine calling the function, a Kinesis stream. `-c release=2` changes the table's sort key (a
// replacement) and the alarm's threshold (in place).
const cdk = require("aws-cdk-lib");
const cloudwatch = require("aws-cdk-lib/aws-cloudwatch");
const dynamodb = require("aws-cdk-lib/aws-dynamodb");
const events = require("aws-cdk-lib/aws-events");
const targets = require("aws-cdk-lib/aws-events-targets");
const kinesis = require("aws-cdk-lib/aws-kinesis");
const kms = require("aws-cdk-lib/aws-kms");
const lambda = require("aws-cdk-lib/aws-lambda");
const logs = require("aws-cdk-lib/aws-logs");
const s3 = require("aws-cdk-lib/aws-s3");
const secretsmanager = require("aws-cdk-lib/aws-secretsmanager");
const sns = require("aws-cdk-lib/aws-sns");
const subscriptions = require("aws-cdk-lib/aws-sns-subscriptions");
const sqs = require("aws-cdk-lib/aws-sqs");
const ssm = require("aws-cdk-lib/aws-ssm");
const sfn = require("aws-cdk-lib/aws-stepfunctions");
const tasks = require("aws-cdk-lib/aws-stepfunctions-tasks");

class KitchenStack extends cdk.Stack {
  constructor(scope, id, props) {
    super(scope, id, props);
    const release = this.node.tryGetContext("release") || "1";
    const destroy = { removalPolicy: cdk.RemovalPolicy.DESTROY };
    const topic = new sns.Topic(this, "Topic");
    const queue = new sqs.Queue(this, "Queue", {
      deadLetterQueue: { queue: new sqs.Queue(this, "DeadLetters"), maxReceiveCount: 3 },
    });
    topic.addSubscription(new subscriptions.SqsSubscription(queue, { rawMessageDelivery: true }));
    const logGroup = new logs.LogGroup(this, "Logs", { retention: logs.RetentionDays.ONE_WEEK, ...destroy });
    const fn = new lambda.Function(this, "Fn", {
      runtime: lambda.Runtime.PYTHON_3_12,
      handler: "index.handler",
      code: lambda.Code.fromInline("def handler(event, context):\n    return {'doubled': event.get('n', 0) * 2}\n"),
      logGroup,
    });
    const url = fn.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.NONE });
    new events.Rule(this, "Every", {
      schedule: events.Schedule.rate(cdk.Duration.minutes(5)),
      targets: [new targets.LambdaFunction(fn)],
    });
    new cloudwatch.Alarm(this, "Errors", {
      metric: fn.metricErrors(),
      threshold: release === "1" ? 1 : 3,
      evaluationPeriods: 1,
    });
    const key = new kms.Key(this, "Key", { enableKeyRotation: true, ...destroy });
    const bucket = new s3.Bucket(this, "Bucket", {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: key,
      versioned: true,
      ...destroy,
    });
    const table = new dynamodb.Table(this, "Table", {
      partitionKey: { name: "pk", type: dynamodb.AttributeType.STRING },
      sortKey: { name: release === "1" ? "sk" : "sort", type: dynamodb.AttributeType.NUMBER },
      stream: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
      ...destroy,
    });
    table.addGlobalSecondaryIndex({ indexName: "byOwner", partitionKey: { name: "owner", type: dynamodb.AttributeType.STRING } });
    table.grantReadWriteData(fn);
    new ssm.StringParameter(this, "Colour", { parameterName: "/kitchen/colour", stringValue: "blue" });
    const secret = new secretsmanager.Secret(this, "Secret", {
      generateSecretString: { secretStringTemplate: JSON.stringify({ user: "app" }), generateStringKey: "password" },
    });
    secret.grantRead(fn);
    const machine = new sfn.StateMachine(this, "Machine", {
      definitionBody: sfn.DefinitionBody.fromChainable(
        new tasks.LambdaInvoke(this, "Double", { lambdaFunction: fn, payloadResponseOnly: true }).next(
          new sfn.Succeed(this, "Done"),
        ),
      ),
    });
    const stream = new kinesis.Stream(this, "Stream", { shardCount: 1 });
    const outputs = {
      TopicArn: topic.topicArn,
      QueueUrl: queue.queueUrl,
      FunctionUrl: url.url,
      BucketName: bucket.bucketName,
      TableName: table.tableName,
      SecretArn: secret.secretArn,
      MachineArn: machine.stateMachineArn,
      StreamName: stream.streamName,
    };
    for (const [name, value] of Object.entries(outputs)) new cdk.CfnOutput(this, name, { value });
  }
}

const app = new cdk.App();
new KitchenStack(app, "OvercastKitchen", {
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});
