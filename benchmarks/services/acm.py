"""ACM's API hot paths: DescribeCertificate of a requested certificate (its ARN captured from the setup) and
ListCertificates."""

import json


def _headers(action: str) -> dict[str, str]:
    return {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": f"CertificateManager.{action}"}


_REQUEST = {
    "service": "acm",
    "method": "POST",
    "path": "/",
    "headers": _headers("RequestCertificate"),
    "body": json.dumps({"DomainName": "bench.example.com", "ValidationMethod": "DNS"}),
    "capture": {"certificate_arn": "CertificateArn"},
}

OPERATIONS = [
    {
        "name": "acm-describe-certificate",
        "service": "acm",
        "protocol": "json",
        "method": "POST",
        "path": "/",
        "headers": _headers("DescribeCertificate"),
        "body": '{"CertificateArn": "${certificate_arn}"}',
        "setup": [_REQUEST],
        "expect": '"DomainName"',
        "default": True,
    },
    {
        "name": "acm-list-certificates",
        "service": "acm",
        "protocol": "json",
        "method": "POST",
        "path": "/",
        "headers": _headers("ListCertificates"),
        "body": "{}",
        "setup": [_REQUEST],
        "expect": '"CertificateSummaryList"',
        "default": True,
    },
]
