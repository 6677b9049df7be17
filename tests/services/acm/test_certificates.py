"""ACM: real certificates from Overcast's local CA, DNS validation through a Route 53 zone, email validation,
imports checked like AWS checks them, private certificates exported, in-use tracking, renewal on the clock, and
an HTTPS listener that curl trusts with the exported root."""

from __future__ import annotations

import datetime as dt
import subprocess
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from botocore.exceptions import ClientError
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from tests.helpers import error_of, message_of, need, shared_network
from tests.waiting import wait_for

PCA = "arn:aws:acm-pca:us-east-1:000000000000:certificate-authority/12345678-1234-1234-1234-123456789012"


@pytest.fixture
def acm(overcast):
    return overcast.client("acm")


def validate_by_dns(overcast, acm, arn: str) -> dict:
    """Create the validation CNAMEs in a Route 53 zone, move the clock past ACM's next look, wait for ISSUED."""
    r53 = overcast.client("route53")
    described = acm.describe_certificate(CertificateArn=arn)["Certificate"]
    zone = r53.create_hosted_zone(Name="example.com", CallerReference=arn)["HostedZone"]["Id"]
    changes = [
        {"Action": "UPSERT", "ResourceRecordSet": {"Name": option["ResourceRecord"]["Name"], "Type": "CNAME", "TTL": 300,
                                                   "ResourceRecords": [{"Value": option["ResourceRecord"]["Value"]}]}}
        for option in described["DomainValidationOptions"]
    ]  # fmt: skip
    r53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": changes})

    def issued():
        overcast.advance_clock(60)
        certificate = acm.describe_certificate(CertificateArn=arn)["Certificate"]
        return certificate if certificate["Status"] == "ISSUED" else None

    return wait_for(issued)


def self_signed(name: str, key: rsa.RSAPrivateKey, issuer_key=None, issuer_name: str | None = None) -> bytes:
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer_name or name)]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=90))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
    )
    return builder.sign(issuer_key or key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


def key_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def test_dns_validation_issues_once_the_cname_exists(overcast, acm):
    arn = acm.request_certificate(DomainName="www.example.com", SubjectAlternativeNames=["api.example.com"],
                                  ValidationMethod="DNS")["CertificateArn"]  # fmt: skip
    pending = acm.describe_certificate(CertificateArn=arn)["Certificate"]
    assert pending["Status"] == "PENDING_VALIDATION" and pending["Type"] == "AMAZON_ISSUED"
    assert pending["SubjectAlternativeNames"] == ["www.example.com", "api.example.com"]
    option = pending["DomainValidationOptions"][0]
    assert option["ValidationMethod"] == "DNS" and option["ValidationStatus"] == "PENDING_VALIDATION"
    assert option["ResourceRecord"]["Type"] == "CNAME" and option["ResourceRecord"]["Name"].endswith(
        ".www.example.com."
    )
    assert option["ResourceRecord"]["Value"].endswith(".acm-validations.aws.")
    with pytest.raises(ClientError) as raised:
        acm.get_certificate(CertificateArn=arn)
    assert error_of(raised) == ("RequestInProgressException", 400)
    overcast.advance_clock(120)  # no CNAME yet: still pending
    assert acm.describe_certificate(CertificateArn=arn)["Certificate"]["Status"] == "PENDING_VALIDATION"
    issued = validate_by_dns(overcast, acm, arn)
    assert [o["ValidationStatus"] for o in issued["DomainValidationOptions"]] == ["SUCCESS", "SUCCESS"]
    assert issued["Issuer"] == "Amazon" and issued["Subject"] == "CN=www.example.com"
    assert issued["KeyUsages"] == [{"Name": "DIGITAL_SIGNATURE"}, {"Name": "KEY_ENCIPHERMENT"}]
    assert (issued["NotAfter"] - issued["NotBefore"]).days >= 395
    pem = acm.get_certificate(CertificateArn=arn)
    certificate = x509.load_pem_x509_certificate(pem["Certificate"].encode())
    names = certificate.extensions.get_extension_for_class(
        x509.SubjectAlternativeName
    ).value.get_values_for_type(x509.DNSName)
    assert names == ["www.example.com", "api.example.com"]
    root = urllib.request.urlopen(overcast.endpoint + "/_overcast/acm/ca.pem").read()
    assert x509.load_pem_x509_certificate(root).subject == certificate.issuer
    assert pem["CertificateChain"].encode() == root


def test_validation_times_out_after_72_hours(overcast, acm):
    arn = acm.request_certificate(DomainName="never.example.org", ValidationMethod="DNS")["CertificateArn"]
    overcast.advance_clock("73h")
    wait_for(
        lambda: (
            acm.describe_certificate(CertificateArn=arn)["Certificate"]["Status"] == "VALIDATION_TIMED_OUT"
        )
    )


def test_email_validation_is_approved_through_overcast(overcast, acm):
    arn = acm.request_certificate(DomainName="mail.example.net")["CertificateArn"]
    option = acm.describe_certificate(CertificateArn=arn)["Certificate"]["DomainValidationOptions"][0]
    assert option["ValidationMethod"] == "EMAIL"
    assert option["ValidationEmails"] == [
        f"{p}@mail.example.net" for p in ("admin", "administrator", "hostmaster", "postmaster", "webmaster")
    ]
    request = urllib.request.Request(
        overcast.endpoint + "/_overcast/acm/approve",
        data=f'{{"CertificateArn": "{arn}"}}'.encode(),
        method="POST",
    )
    urllib.request.urlopen(request).read()
    assert acm.describe_certificate(CertificateArn=arn)["Certificate"]["Status"] == "ISSUED"


def test_import_checks_the_certificate_chain_and_key(acm):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca = self_signed("Test CA", ca_key)
    leaf = self_signed("import.example.com", key, issuer_key=ca_key, issuer_name="Test CA")
    with pytest.raises(ClientError) as raised:
        acm.import_certificate(Certificate=leaf, PrivateKey=key_pem(other))
    assert error_of(raised) == ("ValidationException", 400)
    assert message_of(raised) == "The private key does not match the public key in the certificate."
    with pytest.raises(ClientError) as raised:
        acm.import_certificate(Certificate=b"not a certificate", PrivateKey=key_pem(key))
    assert error_of(raised) == ("ValidationException", 400)
    with pytest.raises(ClientError) as raised:
        acm.import_certificate(
            Certificate=leaf, PrivateKey=key_pem(key), CertificateChain=self_signed("Other", other)
        )
    assert error_of(raised) == ("ValidationException", 400)
    arn = acm.import_certificate(
        Certificate=leaf, PrivateKey=key_pem(key), CertificateChain=ca, Tags=[{"Key": "k", "Value": "v"}]
    )["CertificateArn"]
    described = acm.describe_certificate(CertificateArn=arn)["Certificate"]
    assert (
        described["Type"] == "IMPORTED"
        and described["Status"] == "ISSUED"
        and described["Issuer"] == "Test CA"
    )
    assert described["DomainName"] == "import.example.com" and described["RenewalEligibility"] == "INELIGIBLE"
    assert "ImportedAt" in described and described["KeyAlgorithm"] == "RSA_2048"
    assert acm.list_tags_for_certificate(CertificateArn=arn)["Tags"] == [{"Key": "k", "Value": "v"}]
    again = acm.import_certificate(CertificateArn=arn, Certificate=leaf, PrivateKey=key_pem(key))[
        "CertificateArn"
    ]
    assert again == arn


def test_private_certificates_are_exported_public_ones_are_not(overcast, acm):
    private = acm.request_certificate(DomainName="svc.internal", CertificateAuthorityArn=PCA)[
        "CertificateArn"
    ]
    described = acm.describe_certificate(CertificateArn=private)["Certificate"]
    assert (
        described["Type"] == "PRIVATE"
        and described["Status"] == "ISSUED"
        and described["CertificateAuthorityArn"] == PCA
    )
    exported = acm.export_certificate(CertificateArn=private, Passphrase=b"secret-pass")
    key = serialization.load_pem_private_key(exported["PrivateKey"].encode(), b"secret-pass")
    certificate = x509.load_pem_x509_certificate(exported["Certificate"].encode())
    assert key.public_key().public_numbers() == certificate.public_key().public_numbers()
    summary = acm.list_certificates()["CertificateSummaryList"][0]
    assert summary["Exported"] is True and summary["RenewalEligibility"] == "ELIGIBLE"
    public = acm.request_certificate(DomainName="pub.example.com", ValidationMethod="DNS")["CertificateArn"]
    with pytest.raises(ClientError) as raised:
        acm.export_certificate(CertificateArn=public, Passphrase=b"secret-pass")
    assert error_of(raised) == ("ValidationException", 400)
    serial = described["Serial"]
    acm.renew_certificate(CertificateArn=private)
    renewed = acm.describe_certificate(CertificateArn=private)["Certificate"]
    assert renewed["Serial"] != serial and renewed["RenewalSummary"]["RenewalStatus"] == "SUCCESS"


def test_managed_renewal_sixty_days_before_expiry(overcast, acm):
    arn = acm.request_certificate(DomainName="renew.internal", CertificateAuthorityArn=PCA)["CertificateArn"]
    acm.export_certificate(CertificateArn=arn, Passphrase=b"pass1234")  # exported: eligible for renewal
    first = acm.describe_certificate(CertificateArn=arn)["Certificate"]
    overcast.advance_clock(f"{395 - 59}d")
    renewed = wait_for(
        lambda: (
            (c := acm.describe_certificate(CertificateArn=arn)["Certificate"])["Serial"] != first["Serial"]
            and c
        )
    )
    assert renewed["NotAfter"] > first["NotAfter"] and renewed["Status"] == "ISSUED"


def test_list_filters_and_errors(acm):
    rsa_arn = acm.request_certificate(DomainName="a.internal", CertificateAuthorityArn=PCA)["CertificateArn"]
    ec_arn = acm.request_certificate(
        DomainName="b.internal", CertificateAuthorityArn=PCA, KeyAlgorithm="EC_prime256v1"
    )["CertificateArn"]
    pending = acm.request_certificate(DomainName="c.example.com", ValidationMethod="DNS")["CertificateArn"]
    listed = [c["CertificateArn"] for c in acm.list_certificates()["CertificateSummaryList"]]
    assert listed == [rsa_arn, pending]  # by default only RSA_1024 and RSA_2048 keys, as AWS lists
    ec_only = acm.list_certificates(Includes={"keyTypes": ["EC_prime256v1"]})["CertificateSummaryList"]
    assert [c["CertificateArn"] for c in ec_only] == [ec_arn]
    issued = acm.list_certificates(CertificateStatuses=["ISSUED"])["CertificateSummaryList"]
    assert [c["CertificateArn"] for c in issued] == [rsa_arn]
    page = acm.list_certificates(MaxItems=1)
    assert len(page["CertificateSummaryList"]) == 1 and page["NextToken"]
    with pytest.raises(ClientError) as raised:
        acm.describe_certificate(CertificateArn=rsa_arn[:-4] + "0000")
    assert error_of(raised) == ("ResourceNotFoundException", 400)
    with pytest.raises(ClientError) as raised:
        acm.describe_certificate(CertificateArn="arn:aws:acm:us-east-1:000000000000:nothing/x")
    assert error_of(raised) == ("InvalidArnException", 400)


@pytest.mark.slow
def test_an_https_listener_serves_what_curl_trusts_with_the_exported_root(overcast, acm, tmp_path):
    curl = need("curl")

    class Page(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802
            body = b"served over TLS by the ALB"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    backend = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=backend.serve_forever, daemon=True).start()
    try:
        arn = acm.request_certificate(DomainName="www.example.com", ValidationMethod="DNS")["CertificateArn"]
        validate_by_dns(overcast, acm, arn)
        elb = overcast.client("elbv2")
        lb = elb.create_load_balancer(Name="secure", Subnets=shared_network(elb)[1])["LoadBalancers"][0]
        tg = elb.create_target_group(
            Name="pages", Protocol="HTTP", Port=80, VpcId=lb["VpcId"], TargetType="ip"
        )["TargetGroups"][0]
        elb.register_targets(
            TargetGroupArn=tg["TargetGroupArn"],
            Targets=[{"Id": "127.0.0.1", "Port": backend.server_address[1]}],
        )
        elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTPS", Port=443, Certificates=[{"CertificateArn": arn}],
                            DefaultActions=[{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}])  # fmt: skip
        root = tmp_path / "overcast-root.pem"
        root.write_bytes(urllib.request.urlopen(overcast.endpoint + "/_overcast/acm/ca.pem").read())
        port = lb["DNSName"].rsplit(":", 1)[1]
        url = f"https://www.example.com:{port}/"
        ok = subprocess.run([curl, "-sS", "--cacert", str(root), "--resolve", f"www.example.com:{port}:127.0.0.1", url],
                            capture_output=True, text=True, timeout=30)  # fmt: skip
        assert ok.returncode == 0, ok.stderr
        assert ok.stdout == "served over TLS by the ALB"
        refused = subprocess.run(
            [curl, "-sS", "--resolve", f"www.example.com:{port}:127.0.0.1", url],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert refused.returncode == 60  # without the root, the certificate is not trusted
        assert acm.describe_certificate(CertificateArn=arn)["Certificate"]["InUseBy"] == [
            lb["LoadBalancerArn"]
        ]
        with pytest.raises(ClientError) as raised:
            acm.delete_certificate(CertificateArn=arn)
        assert error_of(raised) == ("ResourceInUseException", 400)
        elb.delete_load_balancer(LoadBalancerArn=lb["LoadBalancerArn"])
        assert acm.describe_certificate(CertificateArn=arn)["Certificate"]["InUseBy"] == []
        acm.delete_certificate(CertificateArn=arn)
    finally:
        backend.shutdown()
        backend.server_close()


def test_revoke_and_the_generic_tag_operations(acm):
    arn = acm.request_certificate(DomainName="revoke.internal", CertificateAuthorityArn=PCA)["CertificateArn"]
    acm.tag_resource(ResourceArn=arn, Tags=[{"Key": "team", "Value": "edge"}])
    assert acm.list_tags_for_resource(ResourceArn=arn)["Tags"] == [{"Key": "team", "Value": "edge"}]
    assert acm.list_tags_for_certificate(CertificateArn=arn)["Tags"] == [{"Key": "team", "Value": "edge"}]
    acm.untag_resource(ResourceArn=arn, TagKeys=["team"])
    assert acm.list_tags_for_resource(ResourceArn=arn)["Tags"] == []
    assert (
        acm.revoke_certificate(CertificateArn=arn, RevocationReason="KEY_COMPROMISE")["CertificateArn"] == arn
    )
    revoked = acm.describe_certificate(CertificateArn=arn)["Certificate"]
    assert (
        revoked["Status"] == "REVOKED"
        and revoked["RevocationReason"] == "KEY_COMPROMISE"
        and "RevokedAt" in revoked
    )


def test_a_listener_serves_the_renewed_certificate(overcast, acm):
    import socket
    import ssl

    arn = acm.request_certificate(DomainName="svc.internal", CertificateAuthorityArn=PCA)["CertificateArn"]
    elb = overcast.client("elbv2")
    lb = elb.create_load_balancer(Name="renewing", Subnets=shared_network(elb)[1])["LoadBalancers"][0]
    elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTPS", Port=443, Certificates=[{"CertificateArn": arn}],
                        DefaultActions=[{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "200"}}])  # fmt: skip
    port = int(lb["DNSName"].rsplit(":", 1)[1])

    def served_serial() -> int:
        context = ssl.create_default_context(
            cadata=urllib.request.urlopen(overcast.endpoint + "/_overcast/acm/ca.pem").read().decode()
        )
        with (
            socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
            context.wrap_socket(raw, server_hostname="svc.internal") as tls,
        ):
            return x509.load_der_x509_certificate(tls.getpeercert(binary_form=True)).serial_number

    first = served_serial()
    acm.renew_certificate(CertificateArn=arn)
    renewed = x509.load_pem_x509_certificate(
        acm.export_certificate(CertificateArn=arn, Passphrase=b"pass1234")["Certificate"].encode()
    )
    assert renewed.serial_number != first
    assert served_serial() == renewed.serial_number


def test_expiry_events_reach_eventbridge_daily_before_expiry(overcast, acm):
    """ "ACM Certificate Approaching Expiration" once a day from DaysBeforeExpiry days before NotAfter."""
    import json

    events, sqs = overcast.client("events"), overcast.client("sqs")
    url = sqs.create_queue(QueueName="acm-events")["QueueUrl"]
    queue = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="expiring", EventPattern=json.dumps(
        {"source": ["aws.acm"], "detail-type": ["ACM Certificate Approaching Expiration"]}))  # fmt: skip
    events.put_targets(Rule="expiring", Targets=[{"Id": "q", "Arn": queue}])
    acm.put_account_configuration(ExpiryEvents={"DaysBeforeExpiry": 10}, IdempotencyToken="ten")
    arn = acm.request_certificate(DomainName="expiring.internal", CertificateAuthorityArn=PCA)[
        "CertificateArn"
    ]
    not_after = acm.describe_certificate(CertificateArn=arn)["Certificate"]["NotAfter"]

    def received() -> list[dict]:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
            "Messages", []
        )
        for message in messages:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        return [json.loads(message["Body"]) for message in messages]

    overcast.set_clock((not_after - dt.timedelta(days=11)).timestamp())
    assert received() == []  # outside the window: nothing
    overcast.set_clock((not_after - dt.timedelta(days=9, hours=12)).timestamp())
    first = wait_for(received)
    assert [(e["source"], e["detail-type"], e["resources"], e["detail"]) for e in first] == [
        (
            "aws.acm",
            "ACM Certificate Approaching Expiration",
            [arn],
            {"DaysToExpiry": 10, "CommonName": "expiring.internal"},
        )
    ]
    overcast.advance_clock("1d")
    assert [e["detail"]["DaysToExpiry"] for e in wait_for(received)] == [9]
