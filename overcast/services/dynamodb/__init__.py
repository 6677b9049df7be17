"""DynamoDB and DynamoDB Streams."""
