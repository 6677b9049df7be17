"""SSM documents as records: CreateDocument, GetDocument, DescribeDocument, ListDocuments, UpdateDocument,
UpdateDocumentDefaultVersion, ListDocumentVersions, DeleteDocument; AWS's own documents (AWS-RunShellScript,
AWS-RunPowerShellScript) answered read-only. Nothing runs them yet (Run Command needs instances)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.kit.paging import decode_token, encode_token
from overcast.services.kit.tags import tag_dict, tag_list
from overcast.services.ssm import document_content as content_of
from overcast.services.ssm.names import validation
from overcast.services.ssm.store import Document, DocumentVersion

if TYPE_CHECKING:
    from overcast.services.ssm.provider import SsmProvider

MAX_CONTENT_BYTES = 64 * 1024
MAX_VERSIONS = 1000
_RESERVED = re.compile(r"^(aws|amazon|amzn)", re.I)


def invalid_document() -> ServiceError:
    return ServiceError("InvalidDocument", "The specified document does not exist.")


def invalid_version() -> ServiceError:
    return ServiceError("InvalidDocumentVersion", "The document version is not valid or does not exist.")


def document_arn(region: str, account: str, name: str) -> str:
    return f"arn:aws:ssm:{region}:{account}:document/{name}"


class DocumentOperations(Operations):
    service: SsmProvider

    # -- lookups -------------------------------------------------------------------------------------------

    def _owned(self, ctx: RequestContext, name: str) -> Document:
        document = self.service.store.document(ctx.account_id, ctx.region, name)
        if document is None:
            raise invalid_document()
        return document

    def _version(
        self, ctx: RequestContext, document: Document, number: str | None, version_name: str | None
    ) -> DocumentVersion:
        store = self.service.store
        if version_name:
            found = store.document_version_named(ctx.account_id, ctx.region, document.name, version_name)
        elif number in (None, "$DEFAULT"):
            found = store.document_version(
                ctx.account_id, ctx.region, document.name, document.default_version
            )
        elif number == "$LATEST":
            found = store.document_version(ctx.account_id, ctx.region, document.name, document.latest_version)
        else:
            found = (
                store.document_version(ctx.account_id, ctx.region, document.name, int(number))
                if number.isdigit()
                else None
            )
        if found is None:
            raise invalid_version()
        return found

    def _description(
        self, ctx: RequestContext, document: Document, version: DocumentVersion
    ) -> dict[str, Any]:
        parsed = content_of.parse(version.content, version.format)
        digest = content_of.content_hash(version.content)
        result: dict[str, Any] = {"Hash": digest, "HashType": "Sha256", "Name": document.name}
        if version.display_name:
            result["DisplayName"] = version.display_name
        if version.version_name:
            result["VersionName"] = version.version_name
        result["Owner"] = ctx.account_id
        result["CreatedDate"] = version.created
        result["Status"] = "Active"
        result["DocumentVersion"] = str(version.version)
        described = content_of.described(parsed)
        if "Description" in described:
            result["Description"] = described.pop("Description")
        result.update(described)
        result["DocumentType"] = document.document_type
        result["LatestVersion"] = str(document.latest_version)
        result["DefaultVersion"] = str(document.default_version)
        result["DocumentFormat"] = version.format
        if document.target_type:
            result["TargetType"] = document.target_type
        result["Tags"] = tag_list(
            self.service.tags.get(document_arn(ctx.region, ctx.account_id, document.name))
        )
        return result

    def _aws_document(self, name: str) -> tuple[str, dict[str, Any]] | None:
        return content_of.AWS_DOCUMENTS.get(name)

    def _aws_description(self, name: str, kind: str, parsed: dict[str, Any]) -> dict[str, Any]:
        described = content_of.described(parsed)
        result: dict[str, Any] = {
            "Hash": content_of.content_hash(content_of.render(parsed, "JSON")),
            "HashType": "Sha256",
            "Name": name,
            "Owner": "Amazon",
            "CreatedDate": content_of.AWS_DOCUMENTS_CREATED,
            "Status": "Active",
            "DocumentVersion": "1",
        }
        if "Description" in described:
            result["Description"] = described.pop("Description")
        result.update(described)
        result.update(
            {
                "DocumentType": kind,
                "LatestVersion": "1",
                "DefaultVersion": "1",
                "DocumentFormat": "JSON",
                "Tags": [],
            }
        )
        return result

    # -- operations ----------------------------------------------------------------------------------------

    def create_document(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = params["Name"]
        if _RESERVED.match(name):
            raise validation("Document name can't start with the reserved prefixes aws, amazon or amzn.")
        document_format = params.get("DocumentFormat") or "JSON"
        content = params["Content"]
        if len(content.encode()) > MAX_CONTENT_BYTES:
            raise ServiceError("MaxDocumentSizeExceeded", "The size limit of a document is 64 KB.")
        content_of.parse(content, document_format)
        if self.service.store.document(ctx.account_id, ctx.region, name) is not None:
            raise ServiceError("DocumentAlreadyExists", "Document with same name " + name + " already exists")
        now = self.clock.now()
        document = Document(
            name, params.get("DocumentType") or "Command", params.get("TargetType"), 1, 1, now
        )
        version = DocumentVersion(
            1, params.get("VersionName"), params.get("DisplayName"), content, document_format, now
        )
        self.service.store.put_document(ctx.account_id, ctx.region, document)
        self.service.store.put_document_version(ctx.account_id, ctx.region, name, version)
        tags = tag_dict(params.get("Tags"))
        if tags:
            from overcast.services.ssm.tagging import TAG_RULES

            arn = document_arn(ctx.region, ctx.account_id, name)
            self.service.tags.add(arn, tags, TAG_RULES, account=ctx.account_id, region=ctx.region)
        return {"DocumentDescription": self._description(ctx, document, version)}

    def describe_document(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        own = self._aws_document(params["Name"])
        if own is not None:
            return {"Document": self._aws_description(params["Name"], *own)}
        document = self._owned(ctx, params["Name"])
        version = self._version(ctx, document, params.get("DocumentVersion"), params.get("VersionName"))
        return {"Document": self._description(ctx, document, version)}

    def get_document(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        wanted = params.get("DocumentFormat")
        own = self._aws_document(params["Name"])
        if own is not None:
            kind, parsed = own
            document_format = wanted or "JSON"
            return {
                "Name": params["Name"],
                "CreatedDate": content_of.AWS_DOCUMENTS_CREATED,
                "DocumentVersion": "1",
                "Status": "Active",
                "Content": content_of.render(parsed, document_format),
                "DocumentType": kind,
                "DocumentFormat": document_format,
            }
        document = self._owned(ctx, params["Name"])
        version = self._version(ctx, document, params.get("DocumentVersion"), params.get("VersionName"))
        content, document_format = version.content, version.format
        if wanted and wanted != document_format:
            content = content_of.render(content_of.parse(content, document_format), wanted)
            document_format = wanted
        result: dict[str, Any] = {"Name": document.name, "CreatedDate": version.created}
        if version.display_name:
            result["DisplayName"] = version.display_name
        if version.version_name:
            result["VersionName"] = version.version_name
        result.update(
            {
                "DocumentVersion": str(version.version),
                "Status": "Active",
                "Content": content,
                "DocumentType": document.document_type,
                "DocumentFormat": document_format,
            }
        )
        return result

    def update_document(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        document = self._owned(ctx, params["Name"])
        asked = params.get("DocumentVersion")
        if asked not in (None, "$LATEST", str(document.latest_version)):
            raise ServiceError(
                "InvalidDocumentVersion", "The document version is not valid or does not exist."
            )
        store = self.service.store
        latest = store.document_version(ctx.account_id, ctx.region, document.name, document.latest_version)
        document_format = params.get("DocumentFormat") or (latest.format if latest else "JSON")
        content = params["Content"]
        content_of.parse(content, document_format)
        if latest is not None and content_of.content_hash(content) == content_of.content_hash(latest.content):
            raise ServiceError(
                "DuplicateDocumentContent",
                "The content of the association document matches another document. Change the content of the "
                "document and try again.",
            )
        version_name = params.get("VersionName")
        if version_name and store.document_version_named(
            ctx.account_id, ctx.region, document.name, version_name
        ):
            raise ServiceError(
                "DuplicateDocumentVersionName", "The version name has already been used in this document."
            )
        if document.latest_version >= MAX_VERSIONS:
            raise ServiceError("DocumentVersionLimitExceeded", "The document has too many versions.")
        now = self.clock.now()
        document.latest_version += 1
        if params.get("TargetType"):
            document.target_type = params["TargetType"]
        version = DocumentVersion(
            document.latest_version, version_name, params.get("DisplayName"), content, document_format, now
        )
        store.put_document_version(ctx.account_id, ctx.region, document.name, version)
        store.put_document(ctx.account_id, ctx.region, document)
        return {"DocumentDescription": self._description(ctx, document, version)}

    def update_document_default_version(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        document = self._owned(ctx, params["Name"])
        version = self._version(ctx, document, params["DocumentVersion"], None)
        document.default_version = version.version
        self.service.store.put_document(ctx.account_id, ctx.region, document)
        result: dict[str, Any] = {"Name": document.name, "DefaultVersion": str(version.version)}
        if version.version_name:
            result["DefaultVersionName"] = version.version_name
        return {"Description": result}

    def list_document_versions(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        document = self._owned(ctx, params["Name"])
        limit = params.get("MaxResults") or 50
        scope = f"document-versions:{document.name}"
        after = decode_token(params.get("NextToken"), _invalid_token, scope) or 0
        versions = [
            v
            for v in self.service.store.document_versions(ctx.account_id, ctx.region, document.name)
            if v.version > after
        ]
        entries = []
        for version in versions[:limit]:
            entry: dict[str, Any] = {"Name": document.name}
            if version.display_name:
                entry["DisplayName"] = version.display_name
            entry["DocumentVersion"] = str(version.version)
            if version.version_name:
                entry["VersionName"] = version.version_name
            entry.update(
                {
                    "CreatedDate": version.created,
                    "IsDefaultVersion": version.version == document.default_version,
                    "DocumentFormat": version.format,
                    "Status": "Active",
                }
            )
            entries.append(entry)
        result: dict[str, Any] = {"DocumentVersions": entries}
        if len(versions) > limit:
            result["NextToken"] = encode_token(versions[limit - 1].version, scope)
        return result

    def delete_document(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        document = self._owned(ctx, params["Name"])
        if params.get("DocumentVersion") or params.get("VersionName"):
            version = self._version(ctx, document, params.get("DocumentVersion"), params.get("VersionName"))
            if version.version == document.default_version:
                raise ServiceError(
                    "InvalidDocumentOperation", "You can't delete the default version of a document."
                )
            self.service.store.delete_document(ctx.account_id, ctx.region, document.name, version.version)
            return {}
        self.service.store.delete_document(ctx.account_id, ctx.region, document.name)
        self.service.tags.forget(document_arn(ctx.region, ctx.account_id, document.name))
        return {}

    def list_documents(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        filters = {f["Key"]: f.get("Values") or [] for f in params.get("Filters") or []}
        for legacy in params.get("DocumentFilterList") or []:
            filters.setdefault(
                {
                    "Name": "Name",
                    "Owner": "Owner",
                    "PlatformTypes": "PlatformTypes",
                    "DocumentType": "DocumentType",
                }.get(legacy["key"], legacy["key"]),
                [],
            ).append(legacy["value"])
        owners = {value.lower() for value in filters.get("Owner", [])}
        entries: list[dict[str, Any]] = []
        if not owners or owners & {"amazon", "all", "public"}:
            for name, (kind, parsed) in content_of.AWS_DOCUMENTS.items():
                entries.append(self._identifier(self._aws_description(name, kind, parsed)))
        if not owners or owners & {"self", "all", "private"}:
            store = self.service.store
            for name in store.document_names_after(ctx.account_id, ctx.region, "", 10_000):
                document = self._owned(ctx, name)
                version = self._version(ctx, document, None, None)
                entries.append(self._identifier(self._description(ctx, document, version)))
        entries = [e for e in entries if _matches(e, filters)]
        entries.sort(key=lambda e: e["Name"])
        limit = params.get("MaxResults") or 50
        after = decode_token(params.get("NextToken"), _invalid_token, "documents") or ""
        entries = [e for e in entries if e["Name"] > after]
        result: dict[str, Any] = {"DocumentIdentifiers": entries[:limit]}
        if len(entries) > limit:
            result["NextToken"] = encode_token(entries[limit - 1]["Name"], "documents")
        return result

    @staticmethod
    def _identifier(description: dict[str, Any]) -> dict[str, Any]:
        keys = (
            "Name",
            "CreatedDate",
            "DisplayName",
            "Owner",
            "VersionName",
            "PlatformTypes",
            "DocumentVersion",
            "DocumentType",
            "SchemaVersion",
            "DocumentFormat",
            "TargetType",
            "Tags",
        )
        return {key: description[key] for key in keys if key in description}


def _matches(entry: dict[str, Any], filters: dict[str, list[str]]) -> bool:
    for key, values in filters.items():
        if key == "Owner":
            continue
        if key == "Name" and not any(entry["Name"].startswith(v) for v in values):
            return False
        if key == "DocumentType" and entry.get("DocumentType") not in values:
            return False
        if key == "PlatformTypes" and not set(entry.get("PlatformTypes", [])) & set(values):
            return False
        if key.startswith("tag:"):
            tags = {t["Key"]: t["Value"] for t in entry.get("Tags", [])}
            if key[4:] not in tags or (values and tags[key[4:]] not in values):
                return False
    return True


def _invalid_token() -> ServiceError:
    return ServiceError("InvalidNextToken", "The specified token is not valid.")
