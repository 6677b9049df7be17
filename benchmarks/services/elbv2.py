"""ELBv2's API hot paths: DescribeLoadBalancers and DescribeTargetGroups of one load balancer and one target
group (created by the setup; a peer that refuses the made-up subnet or VPC ids describes an empty list).

The data plane (an ALB forwarding to a target, the DNS server) cannot be compared: no peer has one.
`benchmarks/traffic.py` measures those alone."""

_FORM = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
_VERSION = "Version=2015-12-01"


def _query(action: str, *pairs: str) -> str:
    return "&".join([f"Action={action}", _VERSION, *pairs])


_SETUP = [
    {
        "service": "elasticloadbalancing",
        "method": "POST",
        "path": "/",
        "headers": _FORM,
        "body": _query(
            "CreateLoadBalancer", "Name=bench-alb", "Subnets.member.1=subnet-0a", "Subnets.member.2=subnet-0b"
        ),
    },
    {
        "service": "elasticloadbalancing",
        "method": "POST",
        "path": "/",
        "headers": _FORM,
        "body": _query(
            "CreateTargetGroup",
            "Name=bench-tg",
            "Protocol=HTTP",
            "Port=80",
            "VpcId=vpc-0bench",
            "TargetType=ip",
        ),
    },
]


def _operation(name: str, action: str) -> dict:
    return {
        "name": name,
        "service": "elasticloadbalancing",
        "protocol": "query",
        "method": "POST",
        "path": "/",
        "headers": _FORM,
        "body": _query(action),
        "setup": _SETUP,
        "expect": f"<{action}Response",
        "default": True,
    }


OPERATIONS = [
    _operation("elbv2-describe-load-balancers", "DescribeLoadBalancers"),
    _operation("elbv2-describe-target-groups", "DescribeTargetGroups"),
]
