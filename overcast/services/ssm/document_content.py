"""SSM documents' content: parsing JSON or YAML, what DescribeDocument derives from it (schema version,
description, parameters, platforms), the conversion GetDocument's DocumentFormat asks for, and AWS's own
documents. Pure logic."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from overcast.errors import ServiceError

# Actions that run on each platform (Command documents): what PlatformTypes is derived from.
_PLATFORM_ACTIONS = {
    "aws:runShellScript": ("Linux", "MacOS"),
    "aws:runPowerShellScript": ("Windows",),
}


def invalid_content(message: str = "The content for the document is not valid.") -> ServiceError:
    return ServiceError("InvalidDocumentContent", message)


def parse(content: str, document_format: str) -> dict[str, Any]:
    """The document as a dict; InvalidDocumentContent when it is not one."""
    try:
        if document_format == "YAML":
            import yaml  # PyYAML, present wherever the AWS CLI is; YAML documents need it

            found = yaml.safe_load(content)
        else:
            found = json.loads(content)
    except ImportError:
        raise invalid_content("YAML documents need PyYAML installed beside Overcast.") from None
    except Exception:  # noqa: BLE001 - any parse failure is the same answer
        raise invalid_content(f"{document_format} not well-formed.") from None
    if not isinstance(found, dict):
        raise invalid_content()
    if "schemaVersion" not in found:
        raise ServiceError("InvalidDocumentSchemaVersion", "Document schema version is missing.")
    return found


def render(document: dict[str, Any], document_format: str) -> str:
    if document_format == "YAML":
        import yaml

        return yaml.safe_dump(document, sort_keys=False)
    return json.dumps(document, indent=2)


def content_hash(content: str) -> str:
    return hashlib.sha256(content.encode()).hexdigest()


def described(document: dict[str, Any]) -> dict[str, Any]:
    """DescribeDocument's members that come from the content."""
    result: dict[str, Any] = {}
    if document.get("description"):
        result["Description"] = str(document["description"])
    parameters = []
    for name, spec in (document.get("parameters") or {}).items():
        entry: dict[str, Any] = {"Name": name, "Type": str(spec.get("type", "String"))}
        if spec.get("description"):
            entry["Description"] = str(spec["description"])
        if "default" in spec:
            default = spec["default"]
            entry["DefaultValue"] = default if isinstance(default, str) else json.dumps(default)
        parameters.append(entry)
    if parameters:
        result["Parameters"] = parameters
    result["PlatformTypes"] = platforms(document)
    result["SchemaVersion"] = str(document["schemaVersion"])
    return result


def platforms(document: dict[str, Any]) -> list[str]:
    steps = document.get("mainSteps") or list((document.get("runtimeConfig") or {}).values())
    actions = {step.get("action") for step in steps if isinstance(step, dict)}
    actions |= set(document.get("runtimeConfig") or {})
    found: list[str] = []
    for action in sorted(actions, key=str):
        for platform in _PLATFORM_ACTIONS.get(action, ()):
            if platform not in found:
                found.append(platform)
    return found or ["Windows", "Linux", "MacOS"]


def _run_script(action: str, description: str, commands_help: str) -> dict[str, Any]:
    return {
        "schemaVersion": "2.2",
        "description": description,
        "parameters": {
            "commands": {"type": "StringList", "description": commands_help, "minItems": 1},
            "workingDirectory": {
                "type": "String",
                "default": "",
                "description": "(Optional) The path to the working directory on your instance.",
            },
            "executionTimeout": {
                "type": "String",
                "default": "3600",
                "description": "(Optional) The time in seconds for a command to complete before it is considered to have failed.",
            },
        },
        "mainSteps": [
            {
                "precondition": {
                    "StringEquals": ["platformType", "Windows" if "Power" in action else "Linux"]
                },
                "action": action,
                "name": "runScript" if "Power" not in action else "runPowerShellScript",
                "inputs": {
                    "runCommand": "{{ commands }}",
                    "workingDirectory": "{{ workingDirectory }}",
                    "timeoutSeconds": "{{ executionTimeout }}",
                },
            }
        ],
    }


# AWS's own documents (Owner "Amazon"), answered read-only.
AWS_DOCUMENTS: dict[str, tuple[str, dict[str, Any]]] = {
    "AWS-RunShellScript": (
        "Command",
        _run_script(
            "aws:runShellScript",
            "Run a shell script or specify the commands to run.",
            "(Required) Specify a shell script or a command to run.",
        ),
    ),
    "AWS-RunPowerShellScript": (
        "Command",
        _run_script(
            "aws:runPowerShellScript",
            "Run a PowerShell script or specify the paths to scripts to run.",
            "(Required) Specify the commands to run or the paths to existing scripts on the instance.",
        ),
    ),
}
AWS_DOCUMENTS_CREATED = 1_500_000_000.0
