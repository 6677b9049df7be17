"""Secrets Manager's hot path: GetSecretValue (a KMS decryption of the version's data key on every call)."""

import json

_HEADERS = {"Content-Type": "application/x-amz-json-1.1"}

OPERATIONS = [
    {
        "name": "secretsmanager-get-secret-value",
        "service": "secretsmanager",
        "protocol": "json",
        "method": "POST",
        "path": "/",
        "headers": {**_HEADERS, "X-Amz-Target": "secretsmanager.GetSecretValue"},
        "body": json.dumps({"SecretId": "overcast-bench-secret"}),
        "setup": [
            {
                "service": "secretsmanager",
                "method": "POST",
                "path": "/",
                "headers": {**_HEADERS, "X-Amz-Target": "secretsmanager.CreateSecret"},
                "body": json.dumps({"Name": "overcast-bench-secret", "SecretString": '{"password": "p"}'}),
            }
        ],
        "expect": '"SecretString"',
        "default": True,
        "target": 2.0,
    }
]
