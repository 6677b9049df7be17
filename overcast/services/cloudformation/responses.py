"""Where custom resources and wait conditions answer: presigned S3 PUT URLs, as in AWS.

AWS gives a custom resource a ResponseURL into a bucket of its own; Overcast keeps that bucket in an account
of its own (`SERVICE_ACCOUNT`, never a user's), made on first use through S3's and IAM's own operations: the
bucket (versioned, so that every signal PUT to a wait condition handle is kept), and an IAM user whose access
key signs the URLs (so they verify under --iam enforce too) and whose only permission is to put objects in it.
CloudFormation reads the responses back with GetObject, polling until they arrive or the clock says the wait
is over.
"""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

from overcast.errors import ServiceError
from overcast.identity import root_principal

if TYPE_CHECKING:
    from overcast.services.cloudformation.provider import CloudFormationProvider

SERVICE_ACCOUNT = "919191919191"  # the account that owns CloudFormation's response buckets
USER = "cloudformation-responses"
URL_LIFETIME = 7200  # seconds a ResponseURL stays valid (AWS: 2 hours)


class Responses:
    def __init__(self, service: CloudFormationProvider) -> None:
        self.service = service
        self.platform = service.platform
        self._key: tuple[str, str] | None = None
        self._ready: set[str] = set()
        self._lock = asyncio.Lock()

    @staticmethod
    def bucket(region: str) -> str:
        return f"cloudformation-custom-resource-response-{region.replace('-', '')}"

    async def _call(
        self, service: str, operation: str, params: dict[str, Any], region: str
    ) -> dict[str, Any]:
        return await self.platform.call(
            service,
            operation,
            params,
            principal=root_principal(SERVICE_ACCOUNT),
            account_id=SERVICE_ACCOUNT,
            region=region,
        )

    async def _prepare(self, region: str) -> tuple[str, str]:
        """The signing key and the region's bucket, made once."""
        async with self._lock:
            if self._key is None:
                self._key = await self._signing_key(region)
            if region not in self._ready:
                bucket = self.bucket(region)
                params: dict[str, Any] = {"Bucket": bucket}
                if region != "us-east-1":
                    params["CreateBucketConfiguration"] = {"LocationConstraint": region}
                try:
                    await self._call("s3", "CreateBucket", params, region)
                except ServiceError as error:
                    if error.code not in ("BucketAlreadyOwnedByYou",):
                        raise
                await self._call(
                    "s3",
                    "PutBucketVersioning",
                    {"Bucket": bucket, "VersioningConfiguration": {"Status": "Enabled"}},
                    region,
                )
                self._ready.add(region)
            return self._key

    async def _signing_key(self, region: str) -> tuple[str, str]:
        stored = self.service.store.db.get_meta("cloudformation.response_key")
        if stored:
            key, secret = json.loads(stored)
            return key, secret
        try:
            await self._call("iam", "CreateUser", {"UserName": USER}, region)
        except ServiceError as error:
            if error.code != "EntityAlreadyExists":
                raise
        policy = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "s3:PutObject",
                    "Resource": "arn:aws:s3:::cloudformation-custom-resource-response-*/*",
                }
            ],
        }
        await self._call(
            "iam",
            "PutUserPolicy",
            {"UserName": USER, "PolicyName": "responses", "PolicyDocument": json.dumps(policy)},
            region,
        )
        created = (await self._call("iam", "CreateAccessKey", {"UserName": USER}, region))["AccessKey"]
        key, secret = created["AccessKeyId"], created["SecretAccessKey"]
        with self.service.db.transaction():
            self.service.store.db.set_meta("cloudformation.response_key", json.dumps([key, secret]))
        return key, secret

    def endpoint(self) -> str:
        config = self.platform.config
        host = "127.0.0.1" if config.host in ("0.0.0.0", "::", "") else config.host
        return f"http://{host}:{config.port}"

    async def url(self, region: str, key: str) -> str:
        """A presigned PUT URL for `key` in the region's response bucket."""
        from urllib.parse import quote

        from botocore.auth import S3SigV4QueryAuth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials

        access_key, secret = await self._prepare(region)
        target = f"{self.endpoint()}/{self.bucket(region)}/{quote(key, safe='/')}"
        request = AWSRequest(method="PUT", url=target)
        auth = S3SigV4QueryAuth(Credentials(access_key, secret), "s3", region, expires=URL_LIFETIME)
        auth.add_auth(request)
        return request.url

    async def bodies(self, region: str, key: str) -> list[bytes]:
        """Every body PUT to `key` so far, oldest first."""
        bucket = self.bucket(region)
        try:
            listed = await self._call("s3", "ListObjectVersions", {"Bucket": bucket, "Prefix": key}, region)
        except ServiceError:
            return []
        versions = [v for v in listed.get("Versions", []) if v["Key"] == key]
        versions.sort(key=lambda v: v["LastModified"])
        found = []
        for version in versions:
            response = await self._call(
                "s3", "GetObject", {"Bucket": bucket, "Key": key, "VersionId": version["VersionId"]}, region
            )
            body = response.get("Body", b"")
            if not isinstance(body, bytes | bytearray):
                body = b"".join([chunk async for chunk in body])
            found.append(bytes(body))
        return found

    async def put(self, region: str, key: str, body: bytes) -> None:
        """A signal written by CloudFormation itself (SignalResource)."""
        await self._prepare(region)
        await self._call("s3", "PutObject", {"Bucket": self.bucket(region), "Key": key, "Body": body}, region)

    async def wait(self, region: str, key: str, deadline: float, enough) -> list[bytes] | None:
        """Poll until `enough(bodies)` holds (returns the bodies) or the virtual clock passes `deadline`
        (returns None)."""
        clock = self.platform.clock
        interval = 0.02
        while True:
            bodies = await self.bodies(region, key)
            if enough(bodies):
                return bodies
            if clock.now() >= deadline:
                return None
            await clock.wait_for_change(interval)  # wakes early when the clock is advanced
            interval = min(interval * 2, 0.5)
