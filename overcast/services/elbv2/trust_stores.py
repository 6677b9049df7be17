"""Trust stores for mutual TLS: CA certificate bundles and certificate revocation lists read from S3, which an
HTTPS listener in `verify` mode checks its clients' certificates against."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cryptography import x509

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.elbv2.common import NAME, hex_id, page, trust_store_not_found, validation
from overcast.services.elbv2.store import TrustStore
from overcast.services.elbv2.tagging import RULES, check_new_tags
from overcast.services.kit.arns import parse_arn

if TYPE_CHECKING:
    from overcast.services.elbv2.provider import ElbV2Provider

MAX_TRUST_STORES = 100  # per account and region
MAX_REVOKED = 500_000  # revoked entries per trust store


def revocation_not_found(revocation_id: int) -> ServiceError:
    return ServiceError("RevocationIdNotFound", f"Revocation ID '{revocation_id}' not found", 400)


def read_bundle(data: bytes) -> tuple[str, int]:
    """The CA certificates of a PEM bundle (as PEM) and their number."""
    try:
        certificates = x509.load_pem_x509_certificates(data)
    except ValueError:
        certificates = []
    if not certificates:
        raise ServiceError(
            "InvalidCaCertificatesBundle",
            "The specified ca certificate bundle is in an invalid format, or corrupt.",
            400,
        )
    return data.decode("ascii", "replace"), len(certificates)


def read_crl(data: bytes) -> list[int]:
    """The serial numbers a certificate revocation list (PEM or DER) revokes."""
    try:
        crl = (
            x509.load_pem_x509_crl(data)
            if data.lstrip().startswith(b"-----")
            else x509.load_der_x509_crl(data)
        )
    except ValueError:
        raise ServiceError(
            "InvalidRevocationContent",
            "The provided revocation file is an invalid format, or uses an incorrect algorithm.",
            400,
        ) from None
    return [entry.serial_number for entry in crl]


class TrustStoreOperations(Operations):
    service: ElbV2Provider

    def trust_store(self, ctx: RequestContext, arn: str) -> TrustStore:
        found = self.service.store.trust_store(arn)
        if found is None or found.account != ctx.account_id or found.region != ctx.region:
            raise trust_store_not_found(arn)
        return found

    def described(self, store: TrustStore) -> dict[str, Any]:
        revoked = sum(count for _, _, count in self.service.store.revocations(store.arn))
        return {"Name": store.name, "TrustStoreArn": store.arn, "Status": "ACTIVE",
                "NumberOfCaCertificates": store.certificates, "TotalRevokedEntries": revoked}  # fmt: skip

    async def _object(
        self, ctx: RequestContext, bucket: str, key: str, version: str | None, missing: ServiceError
    ) -> bytes:
        """An object the caller can read in S3 (with the caller's permissions, as ELB reads it)."""
        request = {"Bucket": bucket, "Key": key, **({"VersionId": version} if version else {})}
        try:
            found = await self.platform.call("s3", "GetObject", request, principal=ctx.principal,
                                             account_id=ctx.account_id, region=ctx.region)  # fmt: skip
        except ServiceError as error:
            if error.code in ("NoSuchKey", "NoSuchBucket", "NoSuchVersion", "AccessDenied", "NotImplemented"):
                raise missing from error
            raise
        body = found.get("Body", b"")
        if isinstance(body, bytes | bytearray):
            return bytes(body)
        return b"".join([chunk async for chunk in body])

    async def _bundle(self, ctx: RequestContext, params: dict[str, Any]) -> tuple[str, int]:
        missing = ServiceError(
            "CaCertificatesBundleNotFound", "The specified ca certificate bundle does not exist.", 400
        )
        data = await self._object(ctx, params["CaCertificatesBundleS3Bucket"], params["CaCertificatesBundleS3Key"],
                                  params.get("CaCertificatesBundleS3ObjectVersion"), missing)  # fmt: skip
        return read_bundle(data)

    # -- create / modify / describe / delete ----------------------------------------------------------------------

    async def create_trust_store(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = params["Name"]
        if not NAME.match(name):
            raise validation(
                "Trust store name must be 32 characters or fewer, contain only alphanumerics and hyphens, and not begin or end with a hyphen"
            )
        check_new_tags(params.get("Tags"))
        bundle, count = await self._bundle(ctx, params)
        with self.db.transaction():
            store = self.service.store
            if store.trust_store_named(ctx.account_id, ctx.region, name) is not None:
                raise ServiceError(
                    "DuplicateTrustStoreName", f"A trust store with the name '{name}' already exists", 400
                )
            if len(store.trust_stores(ctx.account_id, ctx.region)) >= MAX_TRUST_STORES:
                raise ServiceError(
                    "TooManyTrustStores",
                    "You've reached the limit on the number of trust stores for your account",
                    400,
                )
            arn = f"arn:aws:elasticloadbalancing:{ctx.region}:{ctx.account_id}:truststore/{name}/{hex_id()}"
            trust = TrustStore(arn, ctx.account_id, ctx.region, name, bundle, count, self.clock.now())
            store.put_trust_store(trust)
            if params.get("Tags"):
                tags = {tag["Key"]: tag.get("Value", "") for tag in params["Tags"]}
                self.service.tags.add(arn, tags, RULES, account=ctx.account_id, region=ctx.region)
            return {"TrustStores": [self.described(trust)]}

    async def modify_trust_store(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.db.transaction():
            self.trust_store(ctx, params["TrustStoreArn"])
        bundle, count = await self._bundle(ctx, params)
        with self.db.transaction():
            trust = self.trust_store(ctx, params["TrustStoreArn"])
            trust.bundle, trust.certificates = bundle, count
            self.service.store.put_trust_store(trust)
            self.service.changed()
            uses = self.service.store.listeners_using_trust_store(trust.arn)
            self.db.after_commit(lambda: [self.service.data_plane.reopen(item.arn) for item in uses])
            return {"TrustStores": [self.described(trust)]}

    def describe_trust_stores(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        store = self.service.store
        if params.get("TrustStoreArns"):
            found = [self.trust_store(ctx, arn) for arn in params["TrustStoreArns"]]
        else:
            found = store.trust_stores(ctx.account_id, ctx.region)
            if params.get("Names"):
                named = {item.name: item for item in found}
                missing = [name for name in params["Names"] if name not in named]
                if missing:
                    raise ServiceError("TrustStoreNotFound", f"Trust store '{missing[0]}' not found", 400)
                found = [named[name] for name in params["Names"]]
        chunk, marker = page(found, params, "DescribeTrustStores")
        result: dict[str, Any] = {"TrustStores": [self.described(item) for item in chunk]}
        if marker:
            result["NextMarker"] = marker
        return result

    def delete_trust_store(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        trust = self.trust_store(ctx, params["TrustStoreArn"])
        if self.service.store.listeners_using_trust_store(trust.arn):
            raise ServiceError("TrustStoreInUse", f"Trust store '{trust.arn}' is currently in use", 400)
        self.service.store.delete_trust_store(trust.arn)
        self.service.tags.forget(trust.arn)
        return {}

    def get_trust_store_ca_certificates_bundle(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        trust = self.trust_store(ctx, params["TrustStoreArn"])
        return {"Location": self.service.download_url(trust.arn, "bundle")}

    def describe_trust_store_associations(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        trust = self.trust_store(ctx, params["TrustStoreArn"])
        arns = sorted({item.lb_arn for item in self.service.store.listeners_using_trust_store(trust.arn)})
        chunk, marker = page(arns, params, "DescribeTrustStoreAssociations")
        result: dict[str, Any] = {"TrustStoreAssociations": [{"ResourceArn": arn} for arn in chunk]}
        if marker:
            result["NextMarker"] = marker
        return result

    def delete_shared_trust_store_association(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        trust = self.trust_store(ctx, params["TrustStoreArn"])
        resource = parse_arn(params["ResourceArn"])
        if resource is not None and resource.account == trust.account:
            raise ServiceError(
                "DeleteAssociationSameAccount",
                "The specified association can't be within the same account.",
                400,
            )
        raise ServiceError("AssociationNotFound", "The specified association does not exist.", 400)

    # -- revocations ------------------------------------------------------------------------------------------------

    async def add_trust_store_revocations(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        with self.db.transaction():
            self.trust_store(ctx, params["TrustStoreArn"])
        lists = []
        for content in params.get("RevocationContents") or []:
            missing = ServiceError(
                "RevocationContentNotFound", "The specified revocation file does not exist.", 400
            )
            data = await self._object(ctx, content.get("S3Bucket", ""), content.get("S3Key", ""),
                                      content.get("S3ObjectVersion"), missing)  # fmt: skip
            lists.append((content.get("RevocationType") or "CRL", read_crl(data), data))
        with self.db.transaction():
            trust = self.trust_store(ctx, params["TrustStoreArn"])
            store = self.service.store
            total = sum(count for _, _, count in store.revocations(trust.arn)) + sum(
                len(s) for _, s, _ in lists
            )
            if total > MAX_REVOKED:
                raise ServiceError("TooManyTrustStoreRevocationEntries",
                                   "The specified trust store has too many revocation entries.", 400)  # fmt: skip
            added = []
            for kind, serials, data in lists:
                revocation_id = store.add_revocation(trust.arn, kind, serials, data)
                added.append({"TrustStoreArn": trust.arn, "RevocationId": revocation_id, "RevocationType": kind,
                              "NumberOfRevokedEntries": len(serials)})  # fmt: skip
            self.service.changed()
            return {"TrustStoreRevocations": added}

    def _revocation_ids(self, trust: TrustStore, wanted: list[int]) -> list[tuple[int, str, int]]:
        known = {item[0]: item for item in self.service.store.revocations(trust.arn)}
        for revocation_id in wanted:
            if revocation_id not in known:
                raise revocation_not_found(revocation_id)
        return [known[revocation_id] for revocation_id in wanted] if wanted else list(known.values())

    def remove_trust_store_revocations(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        trust = self.trust_store(ctx, params["TrustStoreArn"])
        for revocation_id, _, _ in self._revocation_ids(trust, params["RevocationIds"]):
            self.service.store.delete_revocation(trust.arn, revocation_id)
        self.service.changed()
        return {}

    def describe_trust_store_revocations(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        trust = self.trust_store(ctx, params["TrustStoreArn"])
        found = self._revocation_ids(trust, params.get("RevocationIds") or [])
        chunk, marker = page(found, params, "DescribeTrustStoreRevocations")
        result: dict[str, Any] = {
            "TrustStoreRevocations": [
                {
                    "TrustStoreArn": trust.arn,
                    "RevocationId": revocation_id,
                    "RevocationType": kind,
                    "NumberOfRevokedEntries": count,
                }  # fmt: skip
                for revocation_id, kind, count in chunk
            ]
        }
        if marker:
            result["NextMarker"] = marker
        return result

    def get_trust_store_revocation_content(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        trust = self.trust_store(ctx, params["TrustStoreArn"])
        ((revocation_id, _, _),) = self._revocation_ids(trust, [params["RevocationId"]])
        return {"Location": self.service.download_url(trust.arn, f"revocations/{revocation_id}")}
