"""Route 53's API: hosted zones with their NS and SOA, ChangeResourceRecordSets with AWS's batch semantics and
messages, listing order and pages, GetChange on the clock, alias validation, private zones, tags."""

from __future__ import annotations

import base64
import warnings

import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import pytest
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives import serialization

from tests.helpers import error_of, message_of, new_vpc, shared_network
from tests.services.route53.conftest import a_record, change, zone

with warnings.catch_warnings():  # dnspython's DNSSEC module imports DSA, which cryptography deprecates
    warnings.simplefilter("ignore")
    import dns.dnssec


@pytest.fixture
def r53(overcast):
    return overcast.client("route53")


def test_a_new_zone_has_ns_and_soa_and_a_delegation_set(r53):
    created = r53.create_hosted_zone(
        Name="example.com", CallerReference="one", HostedZoneConfig={"Comment": "c"}
    )
    hosted = created["HostedZone"]
    assert hosted["Id"].startswith("/hostedzone/Z") and hosted["Name"] == "example.com."
    assert (
        hosted["Config"] == {"Comment": "c", "PrivateZone": False} and hosted["ResourceRecordSetCount"] == 2
    )
    assert created["ChangeInfo"]["Status"] == "PENDING"
    servers = created["DelegationSet"]["NameServers"]
    assert len(servers) == 4 and all(".awsdns-" in s for s in servers)
    sets = r53.list_resource_record_sets(HostedZoneId=hosted["Id"])["ResourceRecordSets"]
    assert [(s["Type"], s["TTL"]) for s in sets] == [("NS", 172800), ("SOA", 900)]
    assert (
        sets[1]["ResourceRecords"][0]["Value"]
        == f"{servers[0]}. awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400"
    )
    with pytest.raises(ClientError) as raised:
        r53.create_hosted_zone(Name="other.com", CallerReference="one")
    assert error_of(raised) == ("HostedZoneAlreadyExists", 409)
    got = r53.get_hosted_zone(Id=hosted["Id"])
    assert got["DelegationSet"]["NameServers"] == servers
    with pytest.raises(ClientError) as raised:
        r53.get_hosted_zone(Id="ZNOSUCHZONE")
    assert error_of(raised) == ("NoSuchHostedZone", 404)
    assert message_of(raised) == "No hosted zone found with ID: ZNOSUCHZONE"


def test_changes_are_pending_then_insync_on_the_clock(overcast, r53):
    zone_id = zone(r53)
    info = change(r53, zone_id, a_record("www.example.com", "192.0.2.1"))["ChangeInfo"]
    assert r53.get_change(Id=info["Id"])["ChangeInfo"]["Status"] == "PENDING"
    overcast.advance_clock(10)
    assert r53.get_change(Id=info["Id"])["ChangeInfo"]["Status"] == "INSYNC"
    r53.get_waiter("resource_record_sets_changed").wait(
        Id=info["Id"], WaiterConfig={"Delay": 1, "MaxAttempts": 3}
    )
    with pytest.raises(ClientError) as raised:
        r53.get_change(Id="CNOSUCH")
    assert error_of(raised) == ("NoSuchChange", 404)


def test_batch_semantics_and_invalid_change_batch_messages(r53):
    zone_id = zone(r53)
    change(r53, zone_id, a_record("www.example.com", "192.0.2.1"))
    with pytest.raises(ClientError) as raised:
        change(
            r53, zone_id, a_record("new.example.com", "192.0.2.9"), a_record("www.example.com", "192.0.2.1")
        )
    assert error_of(raised) == ("InvalidChangeBatch", 400)
    assert (
        message_of(raised)
        == "[Tried to create resource record set [name='www.example.com.', type='A'] but it already exists]"
    )
    names = [s["Name"] for s in r53.list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]]
    assert "new.example.com." not in names  # all or nothing
    with pytest.raises(ClientError) as raised:
        change(r53, zone_id, a_record("www.example.com", "192.0.2.2"), action="DELETE")
    assert message_of(raised) == (
        "[Tried to delete resource record set [name='www.example.com.', type='A'] but the values provided do not match the current values]"
    )
    with pytest.raises(ClientError) as raised:
        change(r53, zone_id, a_record("gone.example.com", "192.0.2.2"), action="DELETE")
    assert (
        message_of(raised)
        == "[Tried to delete resource record set [name='gone.example.com.', type='A'] but it was not found]"
    )
    with pytest.raises(ClientError) as raised:
        change(r53, zone_id, {"Name": "example.com", "Type": "CNAME", "TTL": 60, "ResourceRecords": [{"Value": "x.org"}]},
               a_record("www.other.org", "192.0.2.3"))  # fmt: skip
    assert message_of(raised) == (
        "[RRSet of type CNAME with DNS name example.com. is not permitted at apex in zone example.com., "
        "RRSet with DNS name www.other.org. is not permitted in zone example.com.]"
    )
    with pytest.raises(ClientError) as raised:
        change(
            r53,
            zone_id,
            {"Name": "www.example.com", "Type": "CNAME", "TTL": 60, "ResourceRecords": [{"Value": "x.org"}]},
        )
    assert "conflicting RRSet of type  A" in message_of(raised)
    with pytest.raises(ClientError) as raised:
        change(r53, zone_id, a_record("bad.example.com", "1.2.3"))
    assert message_of(raised) == (
        "[Invalid Resource Record: 'FATAL problem: ARRDATAIllegalIPv4Address (Value is not a valid IPv4 address) "
        "encountered with '1.2.3'']"
    )
    with pytest.raises(ClientError) as raised:
        change(
            r53,
            zone_id,
            {"Name": "nottl.example.com", "Type": "A", "ResourceRecords": [{"Value": "192.0.2.1"}]},
        )
    assert error_of(raised) == ("InvalidInput", 400)
    # a delete and a create of the same record set in one batch: a replacement
    change(r53, zone_id, a_record("www.example.com", "192.0.2.1"), action="DELETE")
    change(r53, zone_id, a_record("www.example.com", "192.0.2.5"), action="UPSERT")
    soa = [
        s
        for s in r53.list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
        if s["Type"] == "SOA"
    ][0]
    with pytest.raises(ClientError) as raised:
        change(r53, zone_id, soa, action="DELETE")
    assert message_of(raised) == "[A HostedZone must contain exactly one SOA record.]"


def test_routing_policies_need_set_identifiers_and_do_not_mix(r53):
    zone_id = zone(r53)
    with pytest.raises(ClientError) as raised:
        change(r53, zone_id, a_record("w.example.com", "192.0.2.1", Weight=10))
    assert error_of(raised) == ("InvalidInput", 400)
    assert "Missing field 'SetIdentifier'" in message_of(raised)
    change(r53, zone_id, a_record("w.example.com", "192.0.2.1", SetIdentifier="a", Weight=10))
    with pytest.raises(ClientError) as raised:
        change(r53, zone_id, a_record("w.example.com", "192.0.2.2"))
    assert error_of(raised) == ("InvalidChangeBatch", 400)
    with pytest.raises(ClientError) as raised:
        change(r53, zone_id, a_record("w.example.com", "192.0.2.2", SetIdentifier="b", Region="us-east-1"))
    assert error_of(raised) == ("InvalidChangeBatch", 400)
    with pytest.raises(ClientError) as raised:
        change(
            r53,
            zone_id,
            a_record(
                "f.example.com", "192.0.2.2", SetIdentifier="p", Failover="PRIMARY", HealthCheckId="no-such"
            ),
        )
    assert error_of(raised) == ("NoSuchHealthCheck", 404)


def test_listing_is_in_reversed_label_order_with_pages(r53):
    zone_id = zone(r53)
    change(r53, zone_id, a_record("b.example.com", "192.0.2.1"), a_record("a.b.example.com", "192.0.2.2"),
           a_record("z.example.com", "192.0.2.3"), {"Name": "*.example.com", "Type": "TXT", "TTL": 60,
                                                     "ResourceRecords": [{"Value": '"w"'}]})  # fmt: skip
    sets = r53.list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
    assert [(s["Name"], s["Type"]) for s in sets] == [
        ("example.com.", "NS"), ("example.com.", "SOA"), ("\\052.example.com.", "TXT"), ("b.example.com.", "A"),
        ("a.b.example.com.", "A"), ("z.example.com.", "A"),
    ]  # fmt: skip
    first = r53.list_resource_record_sets(HostedZoneId=zone_id, MaxItems="2")
    assert (
        first["IsTruncated"] is True
        and first["NextRecordName"] == "\\052.example.com."
        and first["NextRecordType"] == "TXT"
    )
    rest = r53.list_resource_record_sets(
        HostedZoneId=zone_id, StartRecordName=first["NextRecordName"], StartRecordType="TXT"
    )
    assert [s["Name"] for s in rest["ResourceRecordSets"]][0] == "\\052.example.com." and rest[
        "IsTruncated"
    ] is False
    paginated = [s for page in r53.get_paginator("list_resource_record_sets").paginate(
        HostedZoneId=zone_id, PaginationConfig={"PageSize": 1}) for s in page["ResourceRecordSets"]]  # fmt: skip
    assert paginated == sets


def test_alias_targets_are_checked(r53):
    zone_id = zone(r53)
    bare = zone_id.rsplit("/", 1)[1]
    alias = {"HostedZoneId": bare, "DNSName": "target.example.com", "EvaluateTargetHealth": False}
    with pytest.raises(ClientError) as raised:
        change(r53, zone_id, {"Name": "example.com", "Type": "A", "AliasTarget": alias})
    assert (
        message_of(raised)
        == "[Tried to create an alias that targets target.example.com., type A in zone "
        + bare
        + ", but that target was not found]"
    )
    change(
        r53,
        zone_id,
        a_record("target.example.com", "192.0.2.7"),
        {"Name": "example.com", "Type": "A", "AliasTarget": alias},
    )
    apex = [
        s
        for s in r53.list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
        if s["Type"] == "A" and s["Name"] == "example.com."
    ]
    assert apex[0]["AliasTarget"] == {
        "HostedZoneId": bare,
        "DNSName": "target.example.com.",
        "EvaluateTargetHealth": False,
    }
    assert "TTL" not in apex[0]


def test_a_zone_with_records_cannot_be_deleted(r53):
    zone_id = zone(r53)
    change(r53, zone_id, a_record("www.example.com", "192.0.2.1"))
    with pytest.raises(ClientError) as raised:
        r53.delete_hosted_zone(Id=zone_id)
    assert error_of(raised) == ("HostedZoneNotEmpty", 400)
    change(r53, zone_id, a_record("www.example.com", "192.0.2.1"), action="DELETE")
    assert r53.delete_hosted_zone(Id=zone_id)["ChangeInfo"]["Status"] == "PENDING"
    assert r53.list_hosted_zones()["HostedZones"] == []


def test_private_zones_have_vpcs(r53):
    with pytest.raises(ClientError) as raised:
        r53.create_hosted_zone(
            Name="corp.internal", CallerReference="p", HostedZoneConfig={"PrivateZone": True}
        )
    assert error_of(raised) == ("InvalidInput", 400)
    created = r53.create_hosted_zone(
        Name="corp.internal",
        CallerReference="p",
        VPC={"VPCRegion": "us-east-1", "VPCId": shared_network(r53)[0]},
    )
    assert created["HostedZone"]["Config"]["PrivateZone"] is True and created["VPC"] == {
        "VPCRegion": "us-east-1",
        "VPCId": shared_network(r53)[0],
    }
    zone_id = created["HostedZone"]["Id"]
    second = new_vpc(r53, "eu-west-1")
    r53.associate_vpc_with_hosted_zone(HostedZoneId=zone_id, VPC={"VPCRegion": "eu-west-1", "VPCId": second})
    assert len(r53.get_hosted_zone(Id=zone_id)["VPCs"]) == 2
    found = r53.list_hosted_zones_by_vpc(VPCId=second, VPCRegion="eu-west-1")["HostedZoneSummaries"]
    assert [z["Name"] for z in found] == ["corp.internal."]
    r53.disassociate_vpc_from_hosted_zone(
        HostedZoneId=zone_id, VPC={"VPCRegion": "eu-west-1", "VPCId": second}
    )
    with pytest.raises(ClientError) as raised:
        r53.disassociate_vpc_from_hosted_zone(
            HostedZoneId=zone_id, VPC={"VPCRegion": "us-east-1", "VPCId": shared_network(r53)[0]}
        )
    assert error_of(raised) == ("LastVPCAssociation", 400)
    public = zone(r53, "public.com")
    with pytest.raises(ClientError) as raised:
        r53.associate_vpc_with_hosted_zone(
            HostedZoneId=public, VPC={"VPCRegion": "us-east-1", "VPCId": shared_network(r53)[0]}
        )
    assert error_of(raised) == ("PublicZoneVPCAssociation", 400)


def test_listing_zones_by_name_and_counting(r53):
    for name in ("b.com", "a.org", "a.com"):
        zone(r53, name)
    by_name = r53.list_hosted_zones_by_name()["HostedZones"]
    assert [z["Name"] for z in by_name] == ["a.com.", "b.com.", "a.org."]
    assert r53.get_hosted_zone_count()["HostedZoneCount"] == 3
    page = r53.list_hosted_zones(MaxItems="2")
    assert len(page["HostedZones"]) == 2 and page["IsTruncated"] and page["NextMarker"]


def test_tags_of_zones_and_health_checks(overcast, r53):
    zone_id = zone(r53).rsplit("/", 1)[1]
    r53.change_tags_for_resource(
        ResourceType="hostedzone", ResourceId=zone_id, AddTags=[{"Key": "env", "Value": "prod"}]
    )
    assert r53.list_tags_for_resource(ResourceType="hostedzone", ResourceId=zone_id)["ResourceTagSet"][
        "Tags"
    ] == [{"Key": "env", "Value": "prod"}]
    found = overcast.client("resourcegroupstaggingapi").get_resources(TagFilters=[{"Key": "env"}])[
        "ResourceTagMappingList"
    ]
    assert [item["ResourceARN"] for item in found] == [f"arn:aws:route53:::hostedzone/{zone_id}"]
    with pytest.raises(ClientError) as raised:
        r53.list_tags_for_resource(ResourceType="healthcheck", ResourceId="nope")
    assert error_of(raised) == ("NoSuchHealthCheck", 404)


def test_dnssec_settings_are_kept(overcast, r53):
    zone_id = zone(r53)
    assert r53.get_dnssec(HostedZoneId=zone_id)["Status"]["ServeSignature"] == "NOT_SIGNING"
    with pytest.raises(ClientError) as raised:
        r53.enable_hosted_zone_dnssec(HostedZoneId=zone_id)
    assert error_of(raised)[0] == "KeySigningKeyWithActiveStatusNotFound"
    missing = "arn:aws:kms:us-east-1:000000000000:key/11111111-2222-3333-4444-555555555555"
    with pytest.raises(ClientError) as raised:
        r53.create_key_signing_key(
            CallerReference="k",
            HostedZoneId=zone_id,
            KeyManagementServiceArn=missing,
            Name="ksk1",
            Status="INACTIVE",
        )
    assert error_of(raised) == ("InvalidKMSArn", 400)
    kms_client = overcast.client("kms")
    symmetric = kms_client.create_key()["KeyMetadata"]["Arn"]
    with pytest.raises(ClientError) as raised:  # not an ECC_NIST_P256 signing key
        r53.create_key_signing_key(
            CallerReference="k",
            HostedZoneId=zone_id,
            KeyManagementServiceArn=symmetric,
            Name="ksk1",
            Status="INACTIVE",
        )
    assert error_of(raised) == ("InvalidKMSArn", 400)
    kms = kms_client.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["Arn"]
    created = r53.create_key_signing_key(
        CallerReference="k", HostedZoneId=zone_id, KeyManagementServiceArn=kms, Name="ksk1", Status="INACTIVE"
    )["KeySigningKey"]
    # the records a registrar is given: DS and DNSKEY of the KMS key's public key (dnspython as the reference)
    public = serialization.load_der_public_key(
        kms_client.get_public_key(KeyId=kms)["PublicKey"]
    ).public_numbers()
    raw = public.x.to_bytes(32, "big") + public.y.to_bytes(32, "big")
    assert created["PublicKey"] == base64.b64encode(raw).decode()
    assert created["DNSKEYRecord"] == f"257 3 13 {created['PublicKey']}"
    dnskey = dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.DNSKEY, created["DNSKEYRecord"])
    ds = dns.dnssec.make_ds(dns.name.from_text("example.com."), dnskey, "SHA256")
    assert created["KeyTag"] == dns.dnssec.key_id(dnskey)
    assert created["DSRecord"] == f"{created['KeyTag']} 13 2 {ds.digest.hex().upper()}"
    assert created["DigestValue"] == ds.digest.hex().upper()
    r53.activate_key_signing_key(HostedZoneId=zone_id, Name="ksk1")
    r53.enable_hosted_zone_dnssec(HostedZoneId=zone_id)
    dnssec = r53.get_dnssec(HostedZoneId=zone_id)
    assert (
        dnssec["Status"]["ServeSignature"] == "SIGNING" and dnssec["KeySigningKeys"][0]["Status"] == "ACTIVE"
    )
    with pytest.raises(ClientError) as raised:
        r53.deactivate_key_signing_key(HostedZoneId=zone_id, Name="ksk1")
    assert error_of(raised)[0] == "KeySigningKeyInUse"


def test_listing_zones_pages_by_marker_with_counts_and_type(r53):
    made = [zone(r53, f"page{i}.com") for i in range(5)]
    private = r53.create_hosted_zone(
        Name="corp.internal",
        CallerReference="p",
        VPC={"VPCRegion": "us-east-1", "VPCId": shared_network(r53)[0]},
    )["HostedZone"]["Id"]
    change(r53, made[1], a_record("www.page1.com", "192.0.2.1"))
    everything = r53.list_hosted_zones()
    assert (
        everything["IsTruncated"] is False and everything["Marker"] == "" and "NextMarker" not in everything
    )
    assert [z["Id"] for z in everything["HostedZones"]] == [*made, private]  # oldest first
    counts = {z["Id"]: z["ResourceRecordSetCount"] for z in everything["HostedZones"]}
    assert counts[made[1]] == 3 and counts[made[0]] == 2
    seen, marker = [], None
    for _ in range(10):
        page = r53.list_hosted_zones(MaxItems="2", **({"Marker": marker} if marker else {}))
        assert page["MaxItems"] == "2" and page["Marker"] == (marker or "")
        seen += [(z["Id"], z["ResourceRecordSetCount"]) for z in page["HostedZones"]]
        if not page["IsTruncated"]:
            break
        marker = page["NextMarker"]
    assert seen == list(counts.items())
    only_private = r53.list_hosted_zones(HostedZoneType="PrivateHostedZone")
    assert [z["Id"] for z in only_private["HostedZones"]] == [private]
    with pytest.raises(ClientError) as raised:  # a public zone is no marker among the private ones
        r53.list_hosted_zones(HostedZoneType="PrivateHostedZone", Marker=made[0].rsplit("/", 1)[1])
    assert error_of(raised) == ("InvalidInput", 400) and message_of(raised) == "Invalid marker."
