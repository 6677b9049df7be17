"""EC2 VPC networking's hot paths (EC2 query protocol): DescribeVpcs, DescribeSubnets, DescribeSecurityGroups over
the region's default VPC (its default subnets and group), plus a VPC and a group the setups create."""

_HEADERS = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
_VERSION = "Version=2016-11-15"


def _form(action: str, *pairs: str) -> str:
    return "&".join((f"Action={action}", _VERSION, *pairs))


def _request(body: str) -> dict:
    return {"service": "ec2", "method": "POST", "path": "/", "headers": _HEADERS, "body": body}


def _describe(name: str, action: str, expect: str, *setup: str) -> dict:
    return {
        "name": name,
        "service": "ec2",
        "protocol": "ec2",
        "method": "POST",
        "path": "/",
        "headers": _HEADERS,
        "body": _form(action),
        "setup": [_request(body) for body in setup],
        "expect": expect,
        "default": True,
        "target": 2.0,
    }


OPERATIONS = [
    _describe(
        "ec2-describe-vpcs", "DescribeVpcs", "<vpcId>vpc-", _form("CreateVpc", "CidrBlock=10.42.0.0%2F16")
    ),
    _describe("ec2-describe-subnets", "DescribeSubnets", "<subnetId>subnet-"),
    _describe(
        "ec2-describe-security-groups",
        "DescribeSecurityGroups",
        "<groupId>sg-",
        _form("CreateSecurityGroup", "GroupName=overcast-bench", "GroupDescription=bench"),
    ),
]

# Instances: a DescribeInstances over 5 instances launched by the setup from Overcast's Amazon Linux 2023 image
# in us-east-1 (a peer that does not know the image says so in the setup's report).
_AL2023 = "ami-474114e837d05f11b"
OPERATIONS.append(
    {
        **_describe("ec2-describe-instances", "DescribeInstances", "<instanceId>i-"),
        "setup": [
            _request(
                _form(
                    "RunInstances", f"ImageId={_AL2023}", "InstanceType=t3.micro", "MinCount=5", "MaxCount=5"
                )
            )
        ],
        "default": False,
    }
)
