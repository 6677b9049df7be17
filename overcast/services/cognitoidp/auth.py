"""Signing in: InitiateAuth and AdminInitiateAuth (USER_PASSWORD_AUTH, ADMIN_USER_PASSWORD_AUTH, USER_SRP_AUTH,
REFRESH_TOKEN_AUTH, CUSTOM_AUTH) and the challenges RespondToAuthChallenge answers (PASSWORD_VERIFIER,
NEW_PASSWORD_REQUIRED, SOFTWARE_TOKEN_MFA, SMS_MFA, SELECT_MFA_TYPE, MFA_SETUP, CUSTOM_CHALLENGE).

A challenge's state is a session row (its id is the Session the client echoes; for PASSWORD_VERIFIER, which
AWS answers without a Session, the secret block names it), expiring after the client's AuthSessionValidity.
"""

from __future__ import annotations

import base64
import json
import secrets
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.cognitoidp import messages, srp, totp
from overcast.services.cognitoidp.clients import allows
from overcast.services.cognitoidp.store import Pool, User
from overcast.services.cognitoidp.tokens import digest
from overcast.services.cognitoidp.triggers import user_attributes

if TYPE_CHECKING:
    from overcast.services.cognitoidp.provider import CognitoIdpProvider

CLIENT_FLOWS = {
    "USER_SRP_AUTH",
    "REFRESH_TOKEN_AUTH",
    "REFRESH_TOKEN",
    "USER_PASSWORD_AUTH",
    "CUSTOM_AUTH",
    "USER_AUTH",
}
ADMIN_FLOWS = {
    "USER_AUTH",
    "ADMIN_USER_PASSWORD_AUTH",
    "ADMIN_NO_SRP_AUTH",
    "USER_SRP_AUTH",
    "REFRESH_TOKEN_AUTH",
    "REFRESH_TOKEN",
    "CUSTOM_AUTH",
}
FLOW_NAMES = {"ADMIN_NO_SRP_AUTH": "ADMIN_USER_PASSWORD_AUTH", "REFRESH_TOKEN": "REFRESH_TOKEN_AUTH"}


def invalid(message: str) -> ServiceError:
    return ServiceError("InvalidParameterException", message, 400)


def wrong_credentials() -> ServiceError:
    return ServiceError("NotAuthorizedException", "Incorrect username or password.", 400)


def expired_session() -> ServiceError:
    return ServiceError("NotAuthorizedException", "Invalid session for the user, session is expired.", 400)


def required(values: dict[str, str], *names: str) -> None:
    for name in names:
        if not values.get(name):
            raise invalid(f"Missing required parameter {name}")


class AuthOperations(Operations):
    service: CognitoIdpProvider

    # -- starting ----------------------------------------------------------------------------------------

    async def initiate_auth(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        pool, client = self.service.client_for(params["ClientId"])
        if params["AuthFlow"] not in CLIENT_FLOWS:
            raise invalid("Initiate Auth method not supported.")
        return await self._initiate(ctx, pool, client, params)

    async def admin_initiate_auth(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        pool = self.service.pool_for(ctx, params["UserPoolId"])
        pool, client = self.service.client_for(params["ClientId"], pool)
        if params["AuthFlow"] not in ADMIN_FLOWS:
            raise invalid("Initiate Auth method not supported.")
        return await self._initiate(ctx, pool, client, params)

    async def _initiate(
        self, ctx: RequestContext, pool: Pool, client: dict[str, Any], params: dict[str, Any]
    ) -> dict[str, Any]:
        flow = FLOW_NAMES.get(params["AuthFlow"], params["AuthFlow"])
        values = params.get("AuthParameters") or {}
        metadata = params.get("ClientMetadata")
        if not allows(client, flow):
            raise invalid(
                f"{flow} flow not enabled for this client"
                if flow == "USER_PASSWORD_AUTH"
                else "Auth flow not enabled for this client"
            )
        if flow == "REFRESH_TOKEN_AUTH":
            return await self._refresh(ctx, pool, client, values, metadata)
        required(values, "USERNAME")
        self.service.check_secret_hash(client, values["USERNAME"], values.get("SECRET_HASH"))
        if flow in ("USER_PASSWORD_AUTH", "ADMIN_USER_PASSWORD_AUTH"):
            required(values, "PASSWORD")
            user = self.service.find_user(pool, values["USERNAME"])
            if user is None:
                user = await self.service.accounts.migrate(
                    pool,
                    client,
                    values["USERNAME"],
                    values["PASSWORD"],
                    "UserMigration_Authentication",
                    metadata,
                )
            user = self._existing(client, user)
            await self._pre_authentication(pool, client, user, params)
            if not self.service.accounts.password_matches(user, values["PASSWORD"]):
                raise wrong_credentials()
            return await self._after_password(ctx, pool, client, user, metadata)
        if flow == "USER_AUTH":
            user = self._existing(client, self.service.find_user(pool, values["USERNAME"]))
            await self._pre_authentication(pool, client, user, params)
            available = self._first_factors(pool, user)
            preferred = values.get("PREFERRED_CHALLENGE")
            if preferred in available:
                return await self._first_factor(ctx, pool, client, user, preferred, values, metadata)
            answer = self._challenge(pool, client, user, "SELECT_CHALLENGE", {})
            answer["AvailableChallenges"] = available
            return answer
        if flow == "USER_SRP_AUTH":
            required(values, "SRP_A")
            user = self._existing(client, self.service.find_user(pool, values["USERNAME"]))
            if not srp.valid_a(values["SRP_A"]):
                raise invalid("SRP_A is not valid.")
            await self._pre_authentication(pool, client, user, params)
            return self._password_verifier(pool, client, user, values["SRP_A"])
        user = self._existing(client, self.service.find_user(pool, values["USERNAME"]))
        await self._pre_authentication(pool, client, user, params)
        history: list[dict[str, Any]] = []
        if values.get("SRP_A"):  # the password first (SRP), then the custom challenges
            if not srp.valid_a(values["SRP_A"]):
                raise invalid("SRP_A is not valid.")
            history.append({"challengeName": "SRP_A", "challengeResult": True, "challengeMetadata": None})
        return await self._custom_step(ctx, pool, client, user, history, metadata, values.get("SRP_A"))

    @staticmethod
    def _first_factors(pool: Pool, user: User) -> list[str]:
        """The first factors USER_AUTH offers this user: the pool's AllowedFirstAuthFactors that the user
        can use (a password; a verified email or phone number for one-time codes)."""
        allowed = ((pool.config.get("Policies") or {}).get("SignInPolicy") or {}).get(
            "AllowedFirstAuthFactors"
        )
        allowed = allowed or ["PASSWORD"]
        attributes = user.attributes
        available = []
        if "PASSWORD" in allowed and user.secrets.get("digest"):
            available += ["PASSWORD", "PASSWORD_SRP"]
        if "EMAIL_OTP" in allowed and attributes.get("email_verified") == "true":
            available.append("EMAIL_OTP")
        if "SMS_OTP" in allowed and attributes.get("phone_number_verified") == "true":
            available.append("SMS_OTP")
        return available

    async def _first_factor(
        self,
        ctx: RequestContext,
        pool: Pool,
        client: dict[str, Any],
        user: User,
        factor: str,
        values: dict[str, str],
        metadata,
    ) -> dict[str, Any]:
        """USER_AUTH's chosen first factor: a password (plain or SRP) or a one-time code sent to the outbox."""
        if factor == "PASSWORD":
            required(values, "PASSWORD")
            if not self.service.accounts.password_matches(user, values["PASSWORD"]):
                raise wrong_credentials()
            return await self._after_password(ctx, pool, client, user, metadata)
        if factor == "PASSWORD_SRP":
            required(values, "SRP_A")
            if not srp.valid_a(values["SRP_A"]):
                raise invalid("SRP_A is not valid.")
            return self._password_verifier(pool, client, user, values["SRP_A"])
        if factor not in ("EMAIL_OTP", "SMS_OTP"):
            raise invalid(f"The challenge {factor} is not available for the user.")
        channel, name = ("EMAIL", "email") if factor == "EMAIL_OTP" else ("SMS", "phone_number")
        destination = user.attributes[name]
        code = f"{secrets.randbelow(100_000_000):08d}"
        with self.db.transaction():
            self.service.messages.write(pool, user, channel, destination, "otp", code)
        return self._challenge(
            pool,
            client,
            user,
            factor,
            {
                "CODE_DELIVERY_DELIVERY_MEDIUM": channel,
                "CODE_DELIVERY_DESTINATION": messages.masked(channel, destination),
            },
            {"code": code},
        )

    @staticmethod
    def _existing(client: dict[str, Any], user: User | None) -> User:
        if user is None:
            if client.get("PreventUserExistenceErrors") == "ENABLED":
                raise wrong_credentials()
            raise ServiceError("UserNotFoundException", "User does not exist.", 400)
        return user

    async def _pre_authentication(
        self, pool: Pool, client: dict[str, Any], user: User, params: dict[str, Any]
    ) -> None:
        await self.service.triggers.run(
            pool,
            "PreAuthentication",
            "PreAuthentication_Authentication",
            user.username,
            client["ClientId"],
            {
                "userAttributes": user_attributes(user),
                "validationData": params.get("ClientMetadata") or {},
                "userNotFound": False,
            },
        )

    async def _refresh(
        self, ctx: RequestContext, pool: Pool, client: dict[str, Any], values: dict[str, str], metadata
    ) -> dict[str, Any]:
        required(values, "REFRESH_TOKEN")
        record = self.service.tokens.refresh_record(values["REFRESH_TOKEN"], client["ClientId"])
        user = self.service.store.user(pool.id, record["key"])
        if user is None:
            raise ServiceError("NotAuthorizedException", "Invalid Refresh Token", 400)
        if "ClientSecret" in client:
            self.service.check_secret_hash(
                client, values.get("USERNAME") or user.username, values.get("SECRET_HASH")
            )
        if not user.enabled:
            raise ServiceError("NotAuthorizedException", "User is disabled.", 400)
        result = await self.service.tokens.issue(
            ctx,
            pool,
            client,
            user,
            source="TokenGeneration_RefreshTokens",
            auth_time=record["data"].get("auth_time"),
            origin_jti=record["origin_jti"],
            scopes=record["data"].get("scopes"),
            metadata=metadata,
            with_refresh=False,
            issuer=record["data"].get("issuer"),
        )
        return {"ChallengeParameters": {}, "AuthenticationResult": result}

    async def get_tokens_from_refresh_token(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        """The refresh grant as an operation of its own; with refresh token rotation on, a new refresh token
        replaces the one presented."""
        pool, client = self.service.client_for(params["ClientId"])
        if "ClientSecret" in client and params.get("ClientSecret") != client["ClientSecret"]:
            raise ServiceError("NotAuthorizedException", "Invalid client secret", 400)
        record = self.service.tokens.refresh_record(params["RefreshToken"], client["ClientId"])
        user = self.service.store.user(pool.id, record["key"])
        if user is None:
            raise ServiceError("NotAuthorizedException", "Invalid Refresh Token", 400)
        if not user.enabled:
            raise ServiceError("NotAuthorizedException", "User is disabled.", 400)
        rotate = (client.get("RefreshTokenRotation") or {}).get("Feature") == "ENABLED"
        result = await self.service.tokens.issue(
            ctx,
            pool,
            client,
            user,
            source="TokenGeneration_RefreshTokens",
            auth_time=record["data"].get("auth_time"),
            origin_jti=None if rotate else record["origin_jti"],
            scopes=record["data"].get("scopes"),
            metadata=params.get("ClientMetadata"),
            with_refresh=rotate,
            issuer=record["data"].get("issuer"),
        )
        if rotate:
            with self.db.transaction():
                self.service.store.revoke_refresh(digest(params["RefreshToken"]))
        return {"AuthenticationResult": result}

    # -- sessions ------------------------------------------------------------------------------------------

    def _new_session(
        self,
        pool: Pool,
        client: dict[str, Any],
        user: User,
        data: dict[str, Any],
        session_id: str | None = None,
    ) -> str:
        session_id = session_id or base64.b64encode(secrets.token_bytes(192)).decode()
        minutes = client.get("AuthSessionValidity") or 3
        now = self.clock.now()
        with self.db.transaction():
            self.service.store.put_session(
                digest(session_id),
                pool.id,
                {"client": client["ClientId"], "key": user.key, **data},
                now + minutes * 60,
                now,
            )
        return session_id

    def _session(
        self, pool: Pool, client: dict[str, Any], session_id: str | None
    ) -> tuple[dict[str, Any], User]:
        if not session_id:
            raise invalid("Missing required parameter Session")
        found = self.service.store.session(digest(session_id))
        if found is None or found[0] != pool.id or found[1].get("client") != client["ClientId"]:
            raise ServiceError("NotAuthorizedException", "Invalid session for the user.", 400)
        if found[2] <= self.clock.now():
            raise expired_session()
        user = self.service.store.user(pool.id, found[1]["key"])
        if user is None:
            raise ServiceError("UserNotFoundException", "User does not exist.", 400)
        return found[1], user

    def _challenge(
        self, pool: Pool, client: dict[str, Any], user: User, name: str, parameters: dict[str, str], data=None
    ) -> dict[str, Any]:
        session = self._new_session(pool, client, user, {"challenge": name, **(data or {})})
        return {"ChallengeName": name, "Session": session, "ChallengeParameters": parameters}

    # -- after the password ------------------------------------------------------------------------------

    def _password_verifier(
        self, pool: Pool, client: dict[str, Any], user: User, a_hex: str, history: list | None = None
    ) -> dict[str, Any]:
        """PASSWORD_VERIFIER: the SRP parameters; the secret block names the state. Within custom
        authentication (`history`), the custom challenges go on once the password is verified."""
        b_hex, big_b_hex = srp.server_challenge(user.secrets.get("srp_verifier") or "0")
        secret_block = base64.b64encode(secrets.token_bytes(512)).decode()
        state: dict[str, Any] = {"challenge": "PASSWORD_VERIFIER", "a": a_hex, "b": b_hex, "B": big_b_hex}
        if history is not None:
            state["history"] = history
        self._new_session(pool, client, user, state, secret_block)
        return {
            "ChallengeName": "PASSWORD_VERIFIER",
            "ChallengeParameters": {
                "SALT": user.secrets.get("srp_salt") or "00",
                "SECRET_BLOCK": secret_block,
                "SRP_B": big_b_hex,
                "USERNAME": user.username,
                "USER_ID_FOR_SRP": user.username,
            },
        }

    async def _after_password(
        self,
        ctx: RequestContext,
        pool: Pool,
        client: dict[str, Any],
        user: User,
        metadata,
        *,
        source: str = "TokenGeneration_Authentication",
    ) -> dict[str, Any]:
        """The next step once the password is right: the user's state, then MFA, then tokens."""
        if not user.enabled:
            raise ServiceError("NotAuthorizedException", "User is disabled.", 400)
        if user.status == "UNCONFIRMED":
            raise ServiceError("UserNotConfirmedException", "User is not confirmed.", 400)
        if user.status == "RESET_REQUIRED":
            raise ServiceError("PasswordResetRequiredException", "Password reset required for the user", 400)
        if user.status == "FORCE_CHANGE_PASSWORD":
            if user.secrets.get("temporary_until", float("inf")) <= self.clock.now():
                raise ServiceError(
                    "NotAuthorizedException",
                    "Temporary password has expired and must be reset by an administrator.",
                    400,
                )
            shown = {
                k: v
                for k, v in user.attributes.items()
                if k not in ("email_verified", "phone_number_verified")
            }
            return self._challenge(
                pool,
                client,
                user,
                "NEW_PASSWORD_REQUIRED",
                {
                    "USER_ID_FOR_SRP": user.username,
                    "requiredAttributes": "[]",
                    "userAttributes": json.dumps(shown),
                },
            )
        challenge = self._mfa_challenge(pool, client, user)
        if challenge is not None:
            return challenge
        return await self._success(ctx, pool, client, user, metadata, source=source)

    def _mfa_challenge(self, pool: Pool, client: dict[str, Any], user: User) -> dict[str, Any] | None:
        mode = pool.config.get("MfaConfiguration", "OFF")
        if mode == "OFF":
            return None
        enabled = [
            m for m in user.settings.get("mfa_enabled") or [] if m in ("SMS_MFA", "SOFTWARE_TOKEN_MFA")
        ]
        if not enabled:
            if mode != "ON":
                return None
            can_setup = []
            if pool.config.get("_software_mfa"):
                can_setup.append("SOFTWARE_TOKEN_MFA")
            if pool.config.get("SmsConfiguration") and user.attributes.get("phone_number"):
                return self._sms_challenge(pool, client, user)
            return self._challenge(
                pool,
                client,
                user,
                "MFA_SETUP",
                {"MFAS_CAN_SETUP": json.dumps(can_setup), "USER_ID_FOR_SRP": user.username},
            )
        preferred = user.settings.get("mfa_preferred")
        if preferred not in enabled:
            if len(enabled) > 1:
                return self._challenge(
                    pool,
                    client,
                    user,
                    "SELECT_MFA_TYPE",
                    {"MFAS_CAN_CHOOSE": json.dumps(enabled), "USER_ID_FOR_SRP": user.username},
                )
            preferred = enabled[0]
        if preferred == "SOFTWARE_TOKEN_MFA":
            return self._challenge(
                pool, client, user, "SOFTWARE_TOKEN_MFA", {"USER_ID_FOR_SRP": user.username}
            )
        return self._sms_challenge(pool, client, user)

    def _sms_challenge(self, pool: Pool, client: dict[str, Any], user: User) -> dict[str, Any]:
        phone = user.attributes.get("phone_number", "")
        code = messages.new_code()
        with self.db.transaction():
            self.service.messages.write(pool, user, "SMS", phone, "mfa", code)
        return self._challenge(
            pool,
            client,
            user,
            "SMS_MFA",
            {
                "CODE_DELIVERY_DELIVERY_MEDIUM": "SMS",
                "CODE_DELIVERY_DESTINATION": messages.masked("SMS", phone),
                "USER_ID_FOR_SRP": user.username,
            },
            {"code": code},
        )

    async def _success(
        self,
        ctx: RequestContext,
        pool: Pool,
        client: dict[str, Any],
        user: User,
        metadata,
        *,
        source: str = "TokenGeneration_Authentication",
    ) -> dict[str, Any]:
        await self.service.triggers.run(
            pool,
            "PostAuthentication",
            "PostAuthentication_Authentication",
            user.username,
            client["ClientId"],
            {
                "userAttributes": user_attributes(user),
                "newDeviceUsed": False,
                "clientMetadata": metadata or {},
            },
        )
        result = await self.service.tokens.issue(ctx, pool, client, user, source=source, metadata=metadata)
        if pool.config.get("DeviceConfiguration"):
            with self.db.transaction():
                result["NewDeviceMetadata"] = self.service.accounts.new_device(pool, user)
        return {"ChallengeParameters": {}, "AuthenticationResult": result}

    # -- custom authentication -----------------------------------------------------------------------------

    async def _custom_step(
        self,
        ctx: RequestContext,
        pool: Pool,
        client: dict[str, Any],
        user: User,
        history: list[dict[str, Any]],
        metadata,
        srp_a: str | None = None,
    ) -> dict[str, Any]:
        """Ask DefineAuthChallenge what comes next; issue tokens, fail, or create the next challenge (the
        password through SRP when the client sent SRP_A and the trigger asks for PASSWORD_VERIFIER)."""
        triggers = self.service.triggers
        if not triggers.configured(pool, "DefineAuthChallenge"):
            raise invalid("Custom auth lambda trigger is not configured for the user pool.")
        answer = (
            await triggers.run(
                pool,
                "DefineAuthChallenge",
                "DefineAuthChallenge_Authentication",
                user.username,
                client["ClientId"],
                {
                    "userAttributes": user_attributes(user),
                    "session": history,
                    "clientMetadata": metadata or {},
                    "userNotFound": False,
                },
                {"challengeName": None, "issueTokens": False, "failAuthentication": False},
            )
            or {}
        )
        if answer.get("failAuthentication"):
            raise wrong_credentials()
        if answer.get("issueTokens"):
            return await self._after_password(ctx, pool, client, user, metadata)
        name = answer.get("challengeName") or "CUSTOM_CHALLENGE"
        if name == "PASSWORD_VERIFIER" and srp_a:
            return self._password_verifier(pool, client, user, srp_a, history)
        if name != "CUSTOM_CHALLENGE":
            raise ServiceError(
                "InvalidLambdaResponseException", "Invalid lambda response: unsupported challenge", 400
            )
        created = (
            await triggers.run(
                pool,
                "CreateAuthChallenge",
                "CreateAuthChallenge_Authentication",
                user.username,
                client["ClientId"],
                {
                    "userAttributes": user_attributes(user),
                    "challengeName": name,
                    "session": history,
                    "clientMetadata": metadata or {},
                    "userNotFound": False,
                },
                {
                    "publicChallengeParameters": None,
                    "privateChallengeParameters": None,
                    "challengeMetadata": None,
                },
            )
            or {}
        )
        public = {str(k): str(v) for k, v in (created.get("publicChallengeParameters") or {}).items()}
        return self._challenge(
            pool,
            client,
            user,
            name,
            {**public, "USERNAME": user.username},
            {
                "history": history,
                "private": created.get("privateChallengeParameters") or {},
                "metadata": created.get("challengeMetadata"),
            },
        )

    # -- answering challenges ------------------------------------------------------------------------------

    async def respond_to_auth_challenge(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        pool, client = self.service.client_for(params["ClientId"])
        return await self._respond(ctx, pool, client, params)

    async def admin_respond_to_auth_challenge(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        pool = self.service.pool_for(ctx, params["UserPoolId"])
        pool, client = self.service.client_for(params["ClientId"], pool)
        return await self._respond(ctx, pool, client, params)

    async def _respond(
        self, ctx: RequestContext, pool: Pool, client: dict[str, Any], params: dict[str, Any]
    ) -> dict[str, Any]:
        name = params["ChallengeName"]
        answers = params.get("ChallengeResponses") or {}
        metadata = params.get("ClientMetadata")
        if name == "PASSWORD_VERIFIER":
            return await self._verify_password_claim(ctx, pool, client, answers, metadata)
        state, user = self._session(pool, client, params.get("Session"))
        if state.get("challenge") != name:
            raise ServiceError("NotAuthorizedException", "Invalid session for the user.", 400)
        if answers.get("USERNAME") and "ClientSecret" in client:
            self.service.check_secret_hash(client, answers["USERNAME"], answers.get("SECRET_HASH"))
        session_id = digest(params["Session"])
        if name == "NEW_PASSWORD_REQUIRED":
            required(answers, "NEW_PASSWORD")
            changes = {
                k.removeprefix("userAttributes."): v
                for k, v in answers.items()
                if k.startswith("userAttributes.")
            }
            with self.db.transaction():
                self.service.accounts.set_password(pool, user, answers["NEW_PASSWORD"])
                user.status = "CONFIRMED"
                if changes:
                    self.service.accounts.update_attributes(pool, user, changes, admin=False)
                user.modified = self.clock.now()
                self.service.store.save_user(user)
                self.service.store.delete_session(session_id)
            return await self._after_password(
                ctx, pool, client, user, metadata, source="TokenGeneration_NewPasswordChallenge"
            )
        if name == "SOFTWARE_TOKEN_MFA":
            required(answers, "SOFTWARE_TOKEN_MFA_CODE")
            secret = user.secrets.get("totp_secret")
            if not secret or not totp.verify(secret, answers["SOFTWARE_TOKEN_MFA_CODE"], self.clock.now()):
                raise ServiceError("CodeMismatchException", "Invalid code received for user", 400)
        elif name == "SMS_MFA":
            required(answers, "SMS_MFA_CODE")
            if answers["SMS_MFA_CODE"] != state.get("code"):
                raise ServiceError("CodeMismatchException", "Invalid code or auth state for the user.", 400)
        elif name == "SELECT_MFA_TYPE":
            required(answers, "ANSWER")
            with self.db.transaction():
                self.service.store.delete_session(session_id)
            if answers["ANSWER"] == "SOFTWARE_TOKEN_MFA":
                return self._challenge(
                    pool, client, user, "SOFTWARE_TOKEN_MFA", {"USER_ID_FOR_SRP": user.username}
                )
            if answers["ANSWER"] == "SMS_MFA":
                return self._sms_challenge(pool, client, user)
            raise invalid("Invalid MFA type selected.")
        elif name == "MFA_SETUP":
            if not state.get("totp_verified"):
                raise invalid("Software token MFA setup is not complete for the user.")
        elif name == "SELECT_CHALLENGE":
            required(answers, "ANSWER")
            if answers["ANSWER"] not in self._first_factors(pool, user):
                raise invalid(f"The challenge {answers['ANSWER']} is not available for the user.")
            with self.db.transaction():
                self.service.store.delete_session(session_id)
            return await self._first_factor(ctx, pool, client, user, answers["ANSWER"], answers, metadata)
        elif name in ("EMAIL_OTP", "SMS_OTP"):
            required(answers, f"{name}_CODE")
            if answers[f"{name}_CODE"] != state.get("code"):
                raise ServiceError("CodeMismatchException", "Invalid code received for user", 400)
        elif name == "CUSTOM_CHALLENGE":
            required(answers, "ANSWER")
            return await self._custom_answer(
                ctx, pool, client, user, state, session_id, answers["ANSWER"], metadata
            )
        else:
            raise invalid(f"Challenge {name} is not supported.")
        with self.db.transaction():
            self.service.store.delete_session(session_id)
        return await self._success(ctx, pool, client, user, metadata)

    async def _verify_password_claim(
        self, ctx, pool: Pool, client: dict[str, Any], answers: dict[str, str], metadata
    ) -> dict[str, Any]:
        required(answers, "USERNAME", "PASSWORD_CLAIM_SECRET_BLOCK", "PASSWORD_CLAIM_SIGNATURE", "TIMESTAMP")
        self.service.check_secret_hash(client, answers["USERNAME"], answers.get("SECRET_HASH"))
        session_id = digest(answers["PASSWORD_CLAIM_SECRET_BLOCK"])
        found = self.service.store.session(session_id)
        if found is None or found[0] != pool.id or found[1].get("challenge") != "PASSWORD_VERIFIER":
            raise wrong_credentials()
        if found[2] <= self.clock.now():
            raise expired_session()
        state = found[1]
        user = self.service.store.user(pool.id, state["key"])
        if user is None:
            raise ServiceError("UserNotFoundException", "User does not exist.", 400)
        with self.db.transaction():
            self.service.store.delete_session(session_id)
        try:
            matches = srp.signature_matches(
                answers["PASSWORD_CLAIM_SIGNATURE"],
                pool_name=pool.short_name,
                user_id=user.username,
                verifier_hex=user.secrets.get("srp_verifier") or "0",
                a_hex=state["a"],
                b_hex=state["b"],
                big_b_hex=state["B"],
                secret_block=answers["PASSWORD_CLAIM_SECRET_BLOCK"],
                timestamp=answers["TIMESTAMP"],
            )
        except ValueError:
            matches = False
        if "history" in state:  # custom authentication goes on
            step = {
                "challengeName": "PASSWORD_VERIFIER",
                "challengeResult": matches,
                "challengeMetadata": None,
            }
            return await self._custom_step(ctx, pool, client, user, [*state["history"], step], metadata)
        if not matches:
            raise wrong_credentials()
        return await self._after_password(ctx, pool, client, user, metadata)

    async def _custom_answer(
        self,
        ctx,
        pool: Pool,
        client: dict[str, Any],
        user: User,
        state: dict[str, Any],
        session_id: str,
        answer: str,
        metadata,
    ) -> dict[str, Any]:
        verdict = (
            await self.service.triggers.run(
                pool,
                "VerifyAuthChallengeResponse",
                "VerifyAuthChallengeResponse_Authentication",
                user.username,
                client["ClientId"],
                {
                    "userAttributes": user_attributes(user),
                    "privateChallengeParameters": state.get("private") or {},
                    "challengeAnswer": answer,
                    "clientMetadata": metadata or {},
                    "userNotFound": False,
                },
                {"answerCorrect": False},
            )
            or {}
        )
        history = list(state.get("history") or [])
        history.append(
            {
                "challengeName": "CUSTOM_CHALLENGE",
                "challengeResult": bool(verdict.get("answerCorrect")),
                "challengeMetadata": state.get("metadata"),
            }
        )
        with self.db.transaction():
            self.service.store.delete_session(session_id)
        return await self._custom_step(ctx, pool, client, user, history, metadata)
