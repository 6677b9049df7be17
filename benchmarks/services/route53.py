"""Route 53's API hot paths: ListHostedZones and GetHostedZoneCount with one zone (made by the setup)."""


def _setup(reference: str) -> list[dict]:
    zone = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<CreateHostedZoneRequest xmlns="https://route53.amazonaws.com/doc/2013-04-01/">'
        f"<Name>{reference}.example.com</Name><CallerReference>{reference}</CallerReference></CreateHostedZoneRequest>"
    )
    return [{"service": "route53", "method": "POST", "path": "/2013-04-01/hostedzone", "body": zone}]


OPERATIONS = [
    {
        "name": "route53-list-hosted-zones",
        "service": "route53",
        "protocol": "rest-xml",
        "method": "GET",
        "path": "/2013-04-01/hostedzone",
        "setup": _setup("bench-list"),
        "expect": "<ListHostedZonesResponse",
        "default": True,
    },
    {
        "name": "route53-get-hosted-zone-count",
        "service": "route53",
        "protocol": "rest-xml",
        "method": "GET",
        "path": "/2013-04-01/hostedzonecount",
        "setup": _setup("bench-count"),
        "expect": "<HostedZoneCount>",
        "default": True,
    },
]
