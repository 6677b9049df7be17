"""The instance metadata service, as an instance sees it at 169.254.169.254 (served per instance on the Unix
socket its sandbox forwards to): IMDSv2 tokens (PUT /latest/api/token with a TTL of 1..21600 seconds on the
virtual clock; `HttpTokens=required` refuses requests without one with 401), IMDSv1 where allowed,
`HttpEndpoint=disabled` closes the connection; the meta-data tree (instance-id, ami-id, local-ipv4,
public-ipv4, placement/, network/interfaces/macs/..., public-keys/, tags/instance/ when enabled), user-data,
dynamic/instance-identity/document, and iam/security-credentials/<role> with the instance profile role's
credentials from STS (for ec2.amazonaws.com, renewed 15 minutes before they expire)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import secrets
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from overcast.platform import Platform

MAX_TTL = 21600
RENEW_BEFORE = 900.0  # seconds before expiry that role credentials are renewed
_REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
            405: "Method Not Allowed"}  # fmt: skip


def _iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Imds:
    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self._secret = secrets.token_bytes(32)
        self._credentials: dict[str, dict[str, Any]] = {}  # instance id → its role's current credentials

    def handler(self, instance_id: str):
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                while await self._one(instance_id, reader, writer):
                    pass
            except (ConnectionError, asyncio.IncompleteReadError, ValueError):
                pass
            finally:
                writer.close()

        return handle

    async def _one(
        self, instance_id: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bool:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, target, _ = lines[0].split(" ", 2)
        headers = {
            k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:] if ":" in line)
        }
        if int(headers.get("content-length") or 0):
            await reader.readexactly(int(headers["content-length"]))
        answer = self.answer(instance_id, method, target.split("?", 1)[0], headers)
        if answer is None:  # the endpoint is disabled: nothing listens
            return False
        status, body, extra = answer
        response = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}", "Content-Type: text/plain",
                    f"Content-Length: {len(body)}", "Server: EC2ws", *extra, "", ""]  # fmt: skip
        writer.write("\r\n".join(response).encode() + body)
        await writer.drain()
        return headers.get("connection", "").lower() != "close"

    # -- answering -------------------------------------------------------------------------------------

    def answer(
        self, instance_id: str, method: str, path: str, headers: dict[str, str]
    ) -> tuple[int, bytes, list[str]] | None:
        from overcast.services.ec2.api import provider
        from overcast.services.sts import api as sts

        sts.prepare(self.platform)  # built outside a transaction, before credentials are asked of it
        with self.platform.db.transaction():
            ec2 = provider(self.platform)
            instance = ec2.store.get(instance_id)
            if instance is None:
                return None
            described = ec2.net.render(instance)
        options = described["MetadataOptions"]
        if options["HttpEndpoint"] != "enabled":
            return None
        now = self.platform.clock.now()
        if path == "/latest/api/token":
            if method != "PUT":
                return 405, b"", []
            if "x-forwarded-for" in headers:
                return 403, b"", []
            ttl = headers.get("x-aws-ec2-metadata-token-ttl-seconds", "")
            if not ttl.isdigit() or not 1 <= int(ttl) <= MAX_TTL:
                return 400, b"", []
            return 200, self._token(instance_id, now + int(ttl)).encode(), [
                f"X-Aws-Ec2-Metadata-Token-Ttl-Seconds: {ttl}"]  # fmt: skip
        if method not in ("GET", "HEAD"):
            return 405, b"", []
        token = headers.get("x-aws-ec2-metadata-token")
        if token is not None and not self._valid(instance_id, token, now):
            return 401, b"", []
        if token is None and options["HttpTokens"] == "required":
            return 401, b"", []
        value = self._lookup(instance, described, path)
        if value is None:
            return 404, b"", []
        return 200, (value if isinstance(value, bytes) else value.encode()), []

    def _token(self, instance_id: str, expiry: float) -> str:
        payload = f"{instance_id}:{expiry:.3f}"
        signature = hmac.new(self._secret, payload.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(payload.encode() + b"|" + signature).decode()

    def _valid(self, instance_id: str, token: str, now: float) -> bool:
        try:
            payload, signature = base64.urlsafe_b64decode(token.encode()).split(b"|", 1)
        except (ValueError, TypeError):
            return False
        expected = hmac.new(self._secret, payload, hashlib.sha256).digest()
        owner, expiry = payload.decode().rsplit(":", 1)
        return hmac.compare_digest(signature, expected) and owner == instance_id and float(expiry) > now

    def _lookup(self, instance: Any, described: dict[str, Any], path: str) -> str | bytes | None:
        if path in ("/latest/user-data", "/latest/user-data/"):
            data = instance.body.get("_UserData")
            return base64.b64decode(data) if data else None
        if path == "/latest/dynamic/instance-identity/document":
            return json.dumps(self._identity(instance, described), indent=2)
        if path in ("/latest", "/latest/"):
            return "dynamic\nmeta-data\nuser-data" if instance.body.get("_UserData") else "dynamic\nmeta-data"
        if not path.startswith("/latest/meta-data"):
            return None
        tree = self._tree(instance, described)
        node: Any = tree
        for part in [p for p in path[len("/latest/meta-data") :].split("/") if p]:
            if not isinstance(node, dict) or part not in node:
                return None
            node = node[part]
        if isinstance(node, dict):
            return "\n".join(f"{k}/" if isinstance(v, dict) else k for k, v in node.items())
        return node() if callable(node) else str(node)

    def _identity(self, instance: Any, described: dict[str, Any]) -> dict[str, Any]:
        return {
            "accountId": instance.account,
            "architecture": described["Architecture"],
            "availabilityZone": described["Placement"]["AvailabilityZone"],
            "imageId": described["ImageId"],
            "instanceId": instance.id,
            "instanceType": described["InstanceType"],
            "pendingTime": _iso(described["LaunchTime"]),
            "privateIp": described.get("PrivateIpAddress"),
            "region": instance.region,
            "version": "2017-09-30",
        }

    def _tree(self, instance: Any, described: dict[str, Any]) -> dict[str, Any]:
        interfaces = described.get("NetworkInterfaces") or []
        primary = next((i for i in interfaces if i["Attachment"]["DeviceIndex"] == 0), None)
        placement = described["Placement"]
        tree: dict[str, Any] = {
            "ami-id": described["ImageId"],
            "ami-launch-index": described["AmiLaunchIndex"],
            "ami-manifest-path": "(unknown)",
            "block-device-mapping": {"ami": described["RootDeviceName"], "root": described["RootDeviceName"]},
            "hostname": described.get("PrivateDnsName", ""),
            "instance-action": "none",
            "instance-id": instance.id,
            "instance-life-cycle": described.get("InstanceLifecycle", "on-demand"),
            "instance-type": described["InstanceType"],
            "local-hostname": described.get("PrivateDnsName", ""),
            "local-ipv4": described.get("PrivateIpAddress", ""),
            "placement": {
                "availability-zone": placement["AvailabilityZone"],
                "availability-zone-id": placement["AvailabilityZoneId"],
                "region": instance.region,
            },
            "reservation-id": instance.body["_ReservationId"],
            "security-groups": "\n".join(g["GroupName"] for g in described.get("SecurityGroups") or []),
            "services": {"domain": "amazonaws.com", "partition": "aws"},
        }
        if primary is not None:
            tree["mac"] = primary["MacAddress"]
            tree["network"] = {
                "interfaces": {"macs": {i["MacAddress"]: self._interface(i) for i in interfaces}}
            }
        if described.get("PublicIpAddress"):
            tree["public-ipv4"] = described["PublicIpAddress"]
            tree["public-hostname"] = described.get("PublicDnsName", "")
        if described.get("KeyName") and instance.body.get("_PublicKey"):
            tree["public-keys"] = {f"0={described['KeyName']}": {"openssh-key": instance.body["_PublicKey"]}}
            tree["public-keys"]["0"] = tree["public-keys"][f"0={described['KeyName']}"]
        if described["MetadataOptions"]["InstanceMetadataTags"] == "enabled":
            tree["tags"] = {"instance": {t["Key"]: t["Value"] for t in described.get("Tags") or []}}
        profile = described.get("IamInstanceProfile")
        if profile:
            role_arn = instance.body["IamInstanceProfile"].get("_role")
            info = json.dumps({"Code": "Success", "LastUpdated": _iso(self.platform.clock.now()),
                               "InstanceProfileArn": profile["Arn"], "InstanceProfileId": profile["Id"]}, indent=2)  # fmt: skip
            iam: dict[str, Any] = {"info": info}
            if role_arn:
                role = role_arn.rsplit("/", 1)[1]
                iam["security-credentials"] = {role: lambda: self._role_credentials(instance, role_arn)}
            tree["iam"] = iam
        return tree

    @staticmethod
    def _interface(interface: dict[str, Any]) -> dict[str, Any]:
        node: dict[str, Any] = {
            "device-number": interface["Attachment"]["DeviceIndex"],
            "interface-id": interface["NetworkInterfaceId"],
            "local-hostname": interface.get("PrivateDnsName", ""),
            "local-ipv4s": "\n".join(p["PrivateIpAddress"] for p in interface["PrivateIpAddresses"]),
            "mac": interface["MacAddress"],
            "owner-id": interface["OwnerId"],
            "security-group-ids": "\n".join(g["GroupId"] for g in interface["Groups"]),
            "security-groups": "\n".join(g["GroupName"] for g in interface["Groups"]),
            "subnet-id": interface["SubnetId"],
            "vpc-id": interface["VpcId"],
        }
        if interface.get("Association"):
            node["public-ipv4s"] = interface["Association"]["PublicIp"]
            node["public-hostname"] = interface["Association"].get("PublicDnsName", "")
        return node

    def _role_credentials(self, instance: Any, role_arn: str) -> str:
        from overcast.services.sts import api as sts

        now = self.platform.clock.now()
        current = self._credentials.get(instance.id)
        if current is None or current["role"] != role_arn or current["expires"] - RENEW_BEFORE <= now:
            with self.platform.db.transaction():
                issued = sts.credentials_for_role(self.platform, role_arn, "ec2.amazonaws.com", instance.id,
                                                  source_account=instance.account)  # fmt: skip
            expiration = issued["Expiration"]
            expires = expiration.timestamp() if hasattr(expiration, "timestamp") else float(expiration)
            current = {"role": role_arn, "issued": now, "expires": expires, "credentials": issued}
            self._credentials[instance.id] = current
        issued = current["credentials"]
        return json.dumps({
            "Code": "Success",
            "LastUpdated": _iso(current["issued"]),
            "Type": "AWS-HMAC",
            "AccessKeyId": issued["AccessKeyId"],
            "SecretAccessKey": issued["SecretAccessKey"],
            "Token": issued["SessionToken"],
            "Expiration": _iso(current["expires"]),
        }, indent=2)  # fmt: skip

    def forget(self, instance_id: str) -> None:
        self._credentials.pop(instance_id, None)
