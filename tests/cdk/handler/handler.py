"""Each order from the queue: an item in the table and a receipt in the bucket."""

import json
import os

import boto3

dynamodb = boto3.client("dynamodb")
s3 = boto3.client("s3")


def main(event, context):
    for record in event["Records"]:
        order = json.loads(record["body"])
        dynamodb.put_item(
            TableName=os.environ["TABLE"],
            Item={
                "id": {"S": order["id"]},
                "item": {"S": order["item"]},
                "release": {"S": os.environ["RELEASE"]},
            },
        )
        s3.put_object(
            Bucket=os.environ["BUCKET"], Key=f"receipts/{order['id']}.json", Body=record["body"].encode()
        )
    return {"processed": len(event["Records"])}
