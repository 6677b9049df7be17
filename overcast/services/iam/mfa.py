"""Virtual MFA devices with real TOTP codes (RFC 6238 on the virtual clock): enabled with two consecutive
codes, and checked by STS (`verify_code`), which accepts each code once."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any, NamedTuple

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.iam.keys import new_mfa_seed, totp, totp_step

if TYPE_CHECKING:
    from overcast.services.iam.provider import IamProvider
    from overcast.services.iam.store import IamStore


def _invalid_codes() -> ServiceError:
    return ServiceError("InvalidAuthenticationCode", "Authentication code for device is not valid.", 403)


def verify_code(store: IamStore, now: float, account: str, serial: str, code: str) -> bool:
    """Is `code` the current code of the enabled device `serial` of `account` (and not one already used)?
    A code that is accepted is used up."""
    device = store.mfa_device(serial)
    if device is None or device[1] != account or device[5] is None:
        return False
    step = totp_step(device[4], code, now, after=device[8])
    if step is None:
        return False
    store.set_mfa_counter(serial, step)
    return True


def qr_code_png(text: str) -> bytes:
    """A PNG of the QR code of `text` (segno: the reference pure-Python encoder, ISO/IEC 18004)."""
    import segno

    image = io.BytesIO()
    segno.make(text, error="m", micro=False).save(image, kind="png", scale=4)
    return image.getvalue()


class Tagged(NamedTuple):
    """What the tag table needs of a taggable thing that is not an entity (a virtual MFA device)."""

    arn: str
    account: str


class MfaDeviceOperations(Operations):
    service: IamProvider

    def create_virtual_mfa_device(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        path = params.get("Path") or "/"
        name = params["VirtualMFADeviceName"]
        serial = f"arn:aws:iam::{ctx.account_id}:mfa{path}{name}"
        if self.service.store.mfa_device(serial):
            raise ServiceError(
                "EntityAlreadyExists", "MFADevice entity at the same path and name already exists.", 409
            )
        seed = new_mfa_seed()
        self.service.store.add_mfa_device(serial, ctx.account_id, name, path, seed, self.clock.now())
        device = Tagged(serial, ctx.account_id)
        self.service.add_tags(device, params.get("Tags"))
        shape: dict[str, Any] = {
            "SerialNumber": serial,
            "Base32StringSeed": seed.encode(),
            "QRCodePNG": qr_code_png(f"otpauth://totp/{name}@{ctx.account_id}?secret={seed}"),
        }
        if params.get("Tags"):
            shape["Tags"] = self.service.tags_of(device)
        return {"VirtualMFADevice": shape}

    def tag_mfa_device(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self.service.add_tags(self._tagged(ctx, params["SerialNumber"]), params["Tags"])
        return {}

    def untag_mfa_device(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self.service.tags.remove(self._tagged(ctx, params["SerialNumber"]).arn, params["TagKeys"])
        self.service.changed()
        return {}

    def list_mfa_device_tags(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return {"Tags": self.service.tags_of(self._tagged(ctx, params["SerialNumber"])), "IsTruncated": False}

    def _tagged(self, ctx: RequestContext, serial: str) -> Tagged:
        """A virtual MFA device as tags know it: its serial number is its ARN."""
        return Tagged(self._device(ctx, serial)[0], ctx.account_id)

    def enable_mfa_device(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        user = self.service.entity(ctx, "user", params["UserName"])
        device = self._device(ctx, params["SerialNumber"])
        if device[5]:
            raise ServiceError("EntityAlreadyExists", "MFA Device is already in use.", 409)
        first = self._two_codes(device[4], params, window=10)
        self.service.store.set_mfa_user(device[0], user.key, self.clock.now(), first + 1)
        return {}

    def resync_mfa_device(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        device = self._device(ctx, params["SerialNumber"])
        first = self._two_codes(device[4], params, window=20)
        self.service.store.set_mfa_counter(device[0], first + 1)
        return {}

    def deactivate_mfa_device(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        device = self._device(ctx, params["SerialNumber"])
        user = self.service.caller_user(ctx, params)
        if device[5] != user.key:
            raise ServiceError(
                "NoSuchEntity",
                f"MFA Device with serial number {device[0]} is not enabled for user {user.name}.",
                404,
            )
        self.service.store.set_mfa_user(device[0], None, None)
        return {}

    def delete_virtual_mfa_device(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        device = self._device(ctx, params["SerialNumber"])
        if device[5]:
            raise ServiceError("DeleteConflict", "MFA Device is still in use", 409)
        self.service.store.delete_mfa_device(device[0])
        self.service.tags.forget(device[0])
        return {}

    def list_mfa_devices(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        if not params.get("UserName") and ctx.principal.kind == "root":
            return {"MFADevices": [], "IsTruncated": False}
        user = self.service.caller_user(ctx, params)
        devices = [
            {"UserName": user.name, "SerialNumber": d[0], "EnableDate": d[6]}
            for d in self.service.store.mfa_devices(ctx.account_id, user.key)
        ]
        return {"MFADevices": devices, "IsTruncated": False}

    def list_virtual_mfa_devices(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        store = self.service.store
        status = params.get("AssignmentStatus") or "Any"
        devices = []
        for device in store.mfa_devices(ctx.account_id):
            assigned = device[5] is not None
            if (status == "Assigned" and not assigned) or (status == "Unassigned" and assigned):
                continue
            shape: dict[str, Any] = {"SerialNumber": device[0]}
            if assigned:
                user = store.get(ctx.account_id, "user", device[5])
                if user:
                    shape["User"] = self.service.user_shape(user)
                shape["EnableDate"] = device[6]
            devices.append(shape)
        return {"VirtualMFADevices": devices, "IsTruncated": False}

    def _device(self, ctx: RequestContext, serial: str) -> tuple:
        row = self.service.store.mfa_device(serial)
        if row is None or row[1] != ctx.account_id:
            raise ServiceError("NoSuchEntity", f"MFA Device with serial number {serial} does not exist.", 404)
        return row

    def _two_codes(self, seed: str, params: dict[str, Any], *, window: int) -> int:
        """The time step of AuthenticationCode1, which AuthenticationCode2 must follow."""
        first = totp_step(seed, params["AuthenticationCode1"], self.clock.now(), window=window)
        if first is None or totp(seed, first + 1) != params["AuthenticationCode2"]:
            raise _invalid_codes()
        return first
