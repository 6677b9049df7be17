"""KMS's hot paths: Encrypt and Decrypt of 4 KiB, GenerateDataKey (the envelope encryption every SSE-KMS
request makes). Each server makes its own key in the setup; its id is captured as ${key_id}."""

import base64
import json

_PLAINTEXT = base64.b64encode(bytes(range(256)) * 16).decode()  # 4 KiB, the most Encrypt takes
_ENCRYPT = json.dumps({"KeyId": "${key_id}", "Plaintext": _PLAINTEXT})


def _headers(action: str) -> dict[str, str]:
    return {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": f"TrentService.{action}"}


def _create_key() -> dict:
    return {
        "service": "kms",
        "method": "POST",
        "path": "/",
        "headers": _headers("CreateKey"),
        "body": json.dumps({"Description": "overcast benchmark"}),
        "capture": {"key_id": "KeyMetadata.KeyId"},
    }


def _operation(name: str, action: str, body: str, setup: list[dict], expect: str) -> dict:
    return {
        "name": name,
        "service": "kms",
        "protocol": "json",
        "method": "POST",
        "path": "/",
        "headers": _headers(action),
        "body": body,
        "setup": setup,
        "expect": expect,
        "default": True,
        "target": 2.0,
    }


OPERATIONS = [
    _operation(
        "kms-encrypt-4k",
        "Encrypt",
        _ENCRYPT,
        [_create_key()],
        '"CiphertextBlob"',
    ),
    _operation(
        "kms-decrypt-4k",
        "Decrypt",
        '{"CiphertextBlob": "${blob}"}',
        [
            _create_key(),
            {
                "service": "kms",
                "method": "POST",
                "path": "/",
                "headers": _headers("Encrypt"),
                "body": _ENCRYPT,
                "capture": {"blob": "CiphertextBlob"},
            },
        ],
        '"Plaintext"',
    ),
    _operation(
        "kms-generate-data-key",
        "GenerateDataKey",
        '{"KeyId": "${key_id}", "KeySpec": "AES_256"}',
        [_create_key()],
        '"CiphertextBlob"',
    ),
]
