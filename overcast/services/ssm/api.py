"""What other services call Parameter Store for: a parameter's value read as a caller (CloudFormation's
`{{resolve:ssm:name[:version]}}` and `{{resolve:ssm-secure:...}}` dynamic references, parameter types such
as `AWS::SSM::Parameter::Value<String>`), validated and authorized as that caller's GetParameter (and, for a
SecureString, kms:Decrypt through Parameter Store)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from overcast.identity import Principal

if TYPE_CHECKING:
    from overcast.platform import Platform


def parameter_value(
    platform: Platform,
    principal: Principal,
    account_id: str,
    region: str,
    name: str,
    *,
    decrypt: bool = False,
) -> str:
    """The value of the parameter `name` (`name:version` and `name:label` select a version); GetParameter's
    ServiceErrors (`ParameterNotFound`, `ParameterVersionNotFound`, `AccessDeniedException`) as they are."""
    answer = platform.call_now(
        "ssm",
        "GetParameter",
        {"Name": name, "WithDecryption": decrypt},
        principal=principal,
        account_id=account_id,
        region=region,
    )
    return answer["Parameter"]["Value"]
