"""User pools: create (with every policy AWS returns and its defaults), describe, update, delete (deletion
protection), list; custom attributes, the MFA configuration, tags."""

from __future__ import annotations

import secrets
import string
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.cognitoidp import passwords, schema
from overcast.services.cognitoidp.store import Pool
from overcast.services.kit import jws as signing
from overcast.services.kit.arns import parse_arn
from overcast.services.kit.paging import decode_token, page_of
from overcast.services.kit.tags import TagRules

if TYPE_CHECKING:
    from overcast.services.cognitoidp.provider import CognitoIdpProvider

TAG_RULES = TagRules(reserved_prefix=None)
# What UpdateUserPool replaces (a member left out returns to its default); the rest is fixed at creation.
UPDATABLE = (
    "Policies",
    "DeletionProtection",
    "LambdaConfig",
    "AutoVerifiedAttributes",
    "SmsVerificationMessage",
    "EmailVerificationMessage",
    "EmailVerificationSubject",
    "VerificationMessageTemplate",
    "SmsAuthenticationMessage",
    "UserAttributeUpdateSettings",
    "MfaConfiguration",
    "DeviceConfiguration",
    "EmailConfiguration",
    "SmsConfiguration",
    "AdminCreateUserConfig",
    "UserPoolAddOns",
    "AccountRecoverySetting",
    "UserPoolTier",
)
PASSED_THROUGH = (
    "SmsVerificationMessage",
    "EmailVerificationMessage",
    "EmailVerificationSubject",
    "SmsAuthenticationMessage",
    "DeviceConfiguration",
    "SmsConfiguration",
    "UserPoolAddOns",
    "AccountRecoverySetting",
    "AutoVerifiedAttributes",
)


def invalid(message: str) -> ServiceError:
    return ServiceError("InvalidParameterException", message, 400)


def new_pool_id(region: str) -> str:
    alphabet = string.ascii_letters + string.digits
    return f"{region}_{''.join(secrets.choice(alphabet) for _ in range(9))}"


def settings_of(params: dict[str, Any]) -> dict[str, Any]:
    """The updatable members of a pool's description, from a Create/UpdateUserPool request with AWS's
    defaults for those it leaves out."""
    policies = params.get("Policies") or {}
    config: dict[str, Any] = {
        "Policies": {
            "PasswordPolicy": passwords.policy_of(policies.get("PasswordPolicy")),
            "SignInPolicy": policies.get("SignInPolicy") or {"AllowedFirstAuthFactors": ["PASSWORD"]},
        },
        "DeletionProtection": params.get("DeletionProtection") or "INACTIVE",
        "LambdaConfig": params.get("LambdaConfig") or {},
    }
    for name in PASSED_THROUGH:
        if params.get(name) is not None:
            config[name] = params[name]
    template = {
        "DefaultEmailOption": "CONFIRM_WITH_CODE",
        **(params.get("VerificationMessageTemplate") or {}),
    }
    for source, target in (
        ("SmsVerificationMessage", "SmsMessage"),
        ("EmailVerificationMessage", "EmailMessage"),
        ("EmailVerificationSubject", "EmailSubject"),
    ):
        if params.get(source) and target not in template:
            template[target] = params[source]
    config["VerificationMessageTemplate"] = template
    config["UserAttributeUpdateSettings"] = params.get("UserAttributeUpdateSettings") or {
        "AttributesRequireVerificationBeforeUpdate": []
    }
    config["MfaConfiguration"] = params.get("MfaConfiguration") or "OFF"
    config["EmailConfiguration"] = params.get("EmailConfiguration") or {
        "EmailSendingAccount": "COGNITO_DEFAULT"
    }
    config["AdminCreateUserConfig"] = {
        "AllowAdminCreateUserOnly": False,
        "UnusedAccountValidityDays": 7,
        **(params.get("AdminCreateUserConfig") or {}),
    }
    config["UserPoolTier"] = params.get("UserPoolTier") or "ESSENTIALS"
    required = config["UserAttributeUpdateSettings"].get("AttributesRequireVerificationBeforeUpdate") or []
    if any(name not in (config.get("AutoVerifiedAttributes") or ()) for name in required):
        raise invalid(
            "All attributes in AttributesRequireVerificationBeforeUpdate must exist in AutoVerifiedAttributes"
        )
    return config


class UserPoolOperations(Operations):
    service: CognitoIdpProvider

    def create_user_pool(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        if params.get("UsernameAttributes") and params.get("AliasAttributes"):
            raise invalid("Only one of the aliasAttributes or usernameAttributes can be set in a User Pool.")
        pool_id = new_pool_id(ctx.region)
        now = self.clock.now()
        config = settings_of(params)
        config.update(
            {
                "Id": pool_id,
                "Name": params["PoolName"],
                "SchemaAttributes": schema.build_schema(params.get("Schema")),
            }
        )
        for name in ("UsernameAttributes", "AliasAttributes", "UsernameConfiguration"):
            if params.get(name) is not None:
                config[name] = params[name]
        config["CreationDate"] = config["LastModifiedDate"] = now
        kid, pem = signing.new_key()
        pool = Pool(pool_id, ctx.account_id, ctx.region, params["PoolName"], config, kid, pem)
        self.service.store.add_pool(pool)
        if params.get("UserPoolTags"):
            self.service.tags.add(
                pool.arn, params["UserPoolTags"], TAG_RULES, account=ctx.account_id, region=ctx.region
            )
        return {"UserPool": self.describe(pool)}

    def describe(self, pool: Pool) -> dict[str, Any]:
        """DescribeUserPool's UserPool."""
        config = {k: v for k, v in pool.config.items() if not k.startswith("_")}
        config["Arn"] = pool.arn
        config["EstimatedNumberOfUsers"] = self.service.store.user_count(pool.id)
        config["UserPoolTags"] = self.service.tags.get(pool.arn)
        for domain, details in self.service.store.pool_domains(pool.id):
            config["CustomDomain" if details.get("CustomDomainConfig") else "Domain"] = domain
        return config

    def describe_user_pool(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return {"UserPool": self.describe(self.service.pool_for(ctx, params["UserPoolId"]))}

    def update_user_pool(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        pool = self.service.pool_for(ctx, params["UserPoolId"])
        fixed = {k: v for k, v in pool.config.items() if k not in UPDATABLE and k not in PASSED_THROUGH}
        pool.config = {**fixed, **settings_of(params), "LastModifiedDate": self.clock.now()}
        if params.get("PoolName"):
            pool.name = pool.config["Name"] = params["PoolName"]
        self.service.store.save_pool(pool)
        if params.get("UserPoolTags") is not None:
            self.service.tags.replace(
                pool.arn, params["UserPoolTags"], TAG_RULES, account=pool.account, region=pool.region
            )
        return {}

    def delete_user_pool(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        pool = self.service.pool_for(ctx, params["UserPoolId"])
        if pool.config.get("DeletionProtection") == "ACTIVE":
            raise invalid(
                "The user pool cannot be deleted because deletion protection is activated. "
                "Deletion protection must be inactivated first."
            )
        if self.service.store.pool_domains(pool.id):
            raise invalid(
                "User pool cannot be deleted. It has a domain configured that should be deleted first."
            )
        self.service.store.delete_pool(pool.id)
        self.service.tags.forget(pool.arn)
        return {}

    def list_user_pools(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        limit = params["MaxResults"]
        after = decode_token(params.get("NextToken"), lambda: invalid("Invalid pagination token"), "pools")
        rows = self.service.store.pools(ctx.account_id, ctx.region, after, limit + 1)
        page, token = page_of(rows, limit, lambda pool: pool.id, "pools")
        result: dict[str, Any] = {
            "UserPools": [
                {
                    "Id": pool.id,
                    "Name": pool.name,
                    "LambdaConfig": pool.config.get("LambdaConfig") or {},
                    "LastModifiedDate": pool.config["LastModifiedDate"],
                    "CreationDate": pool.config["CreationDate"],
                }
                for pool in page
            ]
        }
        if token:
            result["NextToken"] = token
        return result

    def add_custom_attributes(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        pool = self.service.pool_for(ctx, params["UserPoolId"])
        existing = {entry["Name"] for entry in pool.config["SchemaAttributes"]}
        for entry in params["CustomAttributes"]:
            added = schema.custom_attribute(entry)
            if added["Name"] in existing:
                raise invalid(f"{added['Name']}: Existing attribute already has name {added['Name']}.")
            pool.config["SchemaAttributes"].append(added)
            existing.add(added["Name"])
        pool.config["LastModifiedDate"] = self.clock.now()
        self.service.store.save_pool(pool)
        return {}

    def get_csv_header(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        pool = self.service.pool_for(ctx, params["UserPoolId"])
        names = [
            entry["Name"]
            for entry in pool.config["SchemaAttributes"]
            if entry["Name"] not in ("sub", "identities")
        ]
        header = ["cognito:username", *names, "cognito:mfa_enabled"]
        return {"UserPoolId": pool.id, "CSVHeader": header}

    # -- MFA configuration ------------------------------------------------------------------------------

    def set_user_pool_mfa_config(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        pool = self.service.pool_for(ctx, params["UserPoolId"])
        config = pool.config
        if "SmsMfaConfiguration" in params:
            sms = params["SmsMfaConfiguration"] or {}
            if sms.get("SmsAuthenticationMessage"):
                config["SmsAuthenticationMessage"] = sms["SmsAuthenticationMessage"]
            if sms.get("SmsConfiguration"):
                config["SmsConfiguration"] = sms["SmsConfiguration"]
        if "SoftwareTokenMfaConfiguration" in params:
            config["_software_mfa"] = bool((params["SoftwareTokenMfaConfiguration"] or {}).get("Enabled"))
        if "EmailMfaConfiguration" in params:
            config["_email_mfa"] = params["EmailMfaConfiguration"]
        mode = params.get("MfaConfiguration") or config.get("MfaConfiguration", "OFF")
        if mode != "OFF" and not (config.get("_software_mfa") or config.get("SmsConfiguration")):
            raise invalid(
                "At least one of [SmsMfaConfiguration, SoftwareTokenMfaConfiguration] must be enabled."
            )
        config["MfaConfiguration"] = mode
        config["LastModifiedDate"] = self.clock.now()
        self.service.store.save_pool(pool)
        return self._mfa_config(pool)

    def get_user_pool_mfa_config(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._mfa_config(self.service.pool_for(ctx, params["UserPoolId"]))

    @staticmethod
    def _mfa_config(pool: Pool) -> dict[str, Any]:
        config = pool.config
        result: dict[str, Any] = {"MfaConfiguration": config.get("MfaConfiguration", "OFF")}
        if config.get("SmsConfiguration") or config.get("SmsAuthenticationMessage"):
            sms: dict[str, Any] = {}
            if config.get("SmsAuthenticationMessage"):
                sms["SmsAuthenticationMessage"] = config["SmsAuthenticationMessage"]
            if config.get("SmsConfiguration"):
                sms["SmsConfiguration"] = config["SmsConfiguration"]
            result["SmsMfaConfiguration"] = sms
        if "_software_mfa" in config:
            result["SoftwareTokenMfaConfiguration"] = {"Enabled": config["_software_mfa"]}
        if config.get("_email_mfa"):
            result["EmailMfaConfiguration"] = config["_email_mfa"]
        result["WebAuthnConfiguration"] = {"UserVerification": "preferred"}
        return result

    # -- tags ------------------------------------------------------------------------------------------

    def _tagged_pool(self, ctx: RequestContext, arn: str) -> Pool:
        parsed = parse_arn(arn)
        pool = (
            self.service.store.pool(parsed.resource_id)
            if parsed and parsed.resource_type == "userpool"
            else None
        )
        if pool is None or pool.account != ctx.account_id:
            raise ServiceError("ResourceNotFoundException", f"User pool {arn} does not exist.", 400)
        return pool

    def tag_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        pool = self._tagged_pool(ctx, params["ResourceArn"])
        self.service.tags.add(
            pool.arn, params.get("Tags") or {}, TAG_RULES, account=pool.account, region=pool.region
        )
        return {}

    def untag_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        pool = self._tagged_pool(ctx, params["ResourceArn"])
        self.service.tags.remove(pool.arn, params.get("TagKeys") or [])
        return {}

    def list_tags_for_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        pool = self._tagged_pool(ctx, params["ResourceArn"])
        return {"Tags": self.service.tags.get(pool.arn)}
