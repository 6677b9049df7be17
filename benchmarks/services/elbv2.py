"""ELBv2's API hot paths: DescribeLoadBalancers and DescribeTargetGroups of one load balancer and one target
group, created by the setup in two subnets of the region's default VPC (found by a DescribeSubnets: AWS, and
Overcast, refuse subnets that do not exist).

The data plane (an ALB forwarding to a target, the DNS server) cannot be compared: no peer has one.
`benchmarks/traffic.py` measures those alone."""

_FORM = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
_VERSION = "Version=2015-12-01"


def _query(action: str, *pairs: str) -> str:
    return "&".join([f"Action={action}", _VERSION, *pairs])


_SETUP = [
    {
        "service": "ec2",
        "method": "POST",
        "path": "/",
        "headers": _FORM,
        "body": "Action=DescribeSubnets&Version=2016-11-15",
        "find": {
            "subnet": r"<subnetId>(subnet-[0-9a-f]+)</subnetId>",
            "vpc": r"<vpcId>(vpc-[0-9a-f]+)</vpcId>",
        },
    },
    {
        "service": "elasticloadbalancing",
        "method": "POST",
        "path": "/",
        "headers": _FORM,
        "body": _query(
            "CreateLoadBalancer",
            "Name=bench-alb",
            "Subnets.member.1=${subnet.0}",
            "Subnets.member.2=${subnet.1}",
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
            "VpcId=${vpc.0}",
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
