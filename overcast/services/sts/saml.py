"""Reading a SAML 2.0 response for AssumeRoleWithSAML (pure: no context, no database): the assertion's
issuer, subject, audience, expiry and AWS's attributes (roles, session name and duration, principal tags,
transitive tag keys, source identity), and the metadata's entity id it must come from."""

from __future__ import annotations

import base64
import binascii
import hashlib
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field
from datetime import datetime

from overcast.errors import ServiceError

_SAML = "{urn:oasis:names:tc:SAML:2.0:assertion}"
_ATTRIBUTE = "https://aws.amazon.com/SAML/Attributes/"
_SUBJECT_TYPES = {
    "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent": "persistent",
    "urn:oasis:names:tc:SAML:2.0:nameid-format:transient": "transient",
}


@dataclass
class Assertion:
    issuer: str
    subject: str
    subject_type: str
    audience: str  # the recipient the IdP addressed (https://signin.aws.amazon.com/saml)
    not_on_or_after: float | None
    roles: list[tuple[str, str]]  # (role ARN, provider ARN) pairs of the Role attribute
    session_name: str | None
    session_duration: int | None
    tags: dict[str, str] = field(default_factory=dict)
    transitive_keys: list[str] = field(default_factory=list)
    source_identity: str | None = None


def invalid(message: str) -> ServiceError:
    return ServiceError("InvalidIdentityToken", message, 400)


def parse_response(encoded: str) -> Assertion:
    """The assertion of a base64 SAML response; InvalidIdentityToken when it is not one."""
    try:
        root = ElementTree.fromstring(base64.b64decode(encoded, validate=False))
    except (binascii.Error, ValueError, ElementTree.ParseError):
        raise invalid("Invalid SAML response: the assertion is not base64-encoded SAML XML.") from None
    assertion = root if root.tag == f"{_SAML}Assertion" else root.find(f"{_SAML}Assertion")
    if assertion is None:
        raise invalid("Invalid SAML response: it holds no assertion.")
    name_id = assertion.find(f"{_SAML}Subject/{_SAML}NameID")
    confirmation = assertion.find(f"{_SAML}Subject/{_SAML}SubjectConfirmation/{_SAML}SubjectConfirmationData")
    audience = assertion.find(f"{_SAML}Conditions/{_SAML}AudienceRestriction/{_SAML}Audience")
    values = _attributes(assertion)
    result = Assertion(
        issuer=(assertion.findtext(f"{_SAML}Issuer") or root.findtext(f"{_SAML}Issuer") or "").strip(),
        subject=(name_id.text or "").strip() if name_id is not None else "",
        subject_type=_subject_type(name_id.get("Format") if name_id is not None else None),
        audience=(confirmation.get("Recipient") if confirmation is not None else None)
        or (audience.text.strip() if audience is not None and audience.text else ""),
        not_on_or_after=_time(confirmation.get("NotOnOrAfter") if confirmation is not None else None),
        roles=[_role_pair(v) for v in values.get("Role", [])],
        session_name=(values.get("RoleSessionName") or [None])[0],
        session_duration=_int((values.get("SessionDuration") or [None])[0]),
        transitive_keys=values.get("TransitiveTagKeys", []),
        source_identity=(values.get("SourceIdentity") or [None])[0],
    )
    result.tags = {
        k.removeprefix("PrincipalTag:"): v[0] for k, v in values.items() if k.startswith("PrincipalTag:")
    }
    return result


def entity_id(metadata: str) -> str:
    """The IdP's entityID in its SAML metadata (the issuer its assertions must name)."""
    try:
        return ElementTree.fromstring(metadata).get("entityID", "")
    except ElementTree.ParseError:
        return ""


def name_qualifier(issuer: str, account: str, provider_name: str) -> str:
    """AWS's NameQualifier: base64 of the SHA-1 of the issuer, the account id and the provider's name."""
    return base64.b64encode(hashlib.sha1(f"{issuer}{account}/{provider_name}".encode()).digest()).decode()


def _attributes(assertion: ElementTree.Element) -> dict[str, list[str]]:
    """AWS's attributes (by their name after https://aws.amazon.com/SAML/Attributes/) and their values."""
    found: dict[str, list[str]] = {}
    for attribute in assertion.iter(f"{_SAML}Attribute"):
        name = attribute.get("Name", "")
        if name.startswith(_ATTRIBUTE):
            texts = [(v.text or "").strip() for v in attribute.findall(f"{_SAML}AttributeValue")]
            found.setdefault(name[len(_ATTRIBUTE) :], []).extend(t for t in texts if t)
    return found


def _role_pair(value: str) -> tuple[str, str]:
    """(role ARN, provider ARN) from "role,provider" in either order."""
    parts = [p.strip() for p in value.split(",")]
    role = next((p for p in parts if ":role/" in p), "")
    provider = next((p for p in parts if ":saml-provider/" in p), "")
    return role, provider


def _subject_type(format_uri: str | None) -> str:
    if not format_uri:
        return "transient"
    return _SUBJECT_TYPES.get(format_uri, format_uri)


def _time(text: str | None) -> float | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise invalid("Invalid SAML response: a time is not in ISO 8601 format.") from None


def _int(text: str | None) -> int | None:
    try:
        return int(text) if text else None
    except ValueError:
        return None
