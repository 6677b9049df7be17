"""Instances that run: user data in a sandbox with its own network namespace, reached from the host as from
the internet (the reachability engine decides), the metadata service (IMDSv2), the instance profile's
credentials used by boto3 inside the instance, stop/start keeping files and not running user data again."""

import json
import sys
import urllib.error
import urllib.request

import pytest

from overcast.services.ec2.sandbox import namespaces_available
from tests.waiting import wait_for

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not namespaces_available(), reason="Linux namespaces are not available here"),
]

TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}
USER_DATA = f"""#!/bin/bash
echo "booting $(hostname)"
mkdir -p /srv/www && echo "hello from $(hostname)" > /srv/www/index.html
echo kept > /root/note.txt
cd /srv/www && nohup python3 -m http.server 80 >/dev/null 2>&1 &
TOKEN=$(curl -s -X PUT http://169.254.169.254/latest/api/token -H "X-aws-ec2-metadata-token-ttl-seconds: 60")
echo "imds-id=$(curl -s -H "X-aws-ec2-metadata-token: $TOKEN" http://169.254.169.254/latest/meta-data/instance-id)"
echo "imds-v1=$(curl -s -o /dev/null -w '%{{http_code}}' http://169.254.169.254/latest/meta-data/instance-id)"
{sys.executable} -c "import boto3; print('buckets=' + ','.join(b['Name'] for b in boto3.client('s3').list_buckets()['Buckets']))" 2>&1 | tail -1
"""


def console(ec2, instance_id):
    return ec2.get_console_output(InstanceId=instance_id).get("Output") or ""  # boto3 decodes the base64


def get(overcast, instance_id, port=80):
    url = f"{overcast.endpoint}/_overcast/ec2/instances/{instance_id}/http/{port}/index.html"
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


@pytest.fixture
def web(overcast, ec2):
    """A public subnet, a group allowing port 80 from anywhere, an instance profile with a role."""
    vpc = ec2.create_vpc(CidrBlock="10.16.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.16.32.0/24", AvailabilityZone="us-east-1a")["Subnet"][
        "SubnetId"
    ]
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    table = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["RouteTables"][0]
    ec2.create_route(RouteTableId=table["RouteTableId"], DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    group = ec2.create_security_group(GroupName="web", Description="web", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=group, IpProtocol="tcp", FromPort=80, ToPort=80,
                                         CidrIp="0.0.0.0/0")  # fmt: skip
    closed = ec2.create_security_group(GroupName="closed", Description="nothing in", VpcId=vpc)["GroupId"]
    iam = overcast.client("iam")
    iam.create_role(RoleName="web-role", AssumeRolePolicyDocument=json.dumps(TRUST))
    iam.create_instance_profile(InstanceProfileName="web-profile")
    iam.add_role_to_instance_profile(InstanceProfileName="web-profile", RoleName="web-role")
    overcast.client("s3").create_bucket(Bucket="seen-from-inside")
    ami = ec2.describe_images(
        Owners=["amazon"], Filters=[{"Name": "name", "Values": ["al2023-ami-*-x86_64"]}]
    )["Images"][0]["ImageId"]
    return {"subnet": subnet, "group": group, "closed": closed, "ami": ami}


def test_an_instance_serves_its_user_data_page(overcast, ec2, web):
    instance_id = ec2.run_instances(
        ImageId=web["ami"], InstanceType="t3.micro", MinCount=1, MaxCount=1, SubnetId=web["subnet"],
        SecurityGroupIds=[web["group"]], UserData=USER_DATA,
        IamInstanceProfile={"Name": "web-profile"},
    )["Instances"][0]["InstanceId"]  # fmt: skip
    overcast.advance_clock("3s")
    output = wait_for(
        lambda: "buckets=" in console(ec2, instance_id) and console(ec2, instance_id), timeout=60
    )
    assert "booting ip-10-16-32-4.ec2.internal" in output
    assert f"imds-id={instance_id}" in output
    assert "imds-v1=401" in output  # HttpTokens required (an AL2023 image)
    assert "buckets=seen-from-inside" in output  # boto3 inside, with the instance profile role's credentials

    # without a public address the internet does not reach it
    status, body = get(overcast, instance_id)
    assert status == 504 and "unreachable" in body

    # with a public address and port 80 open it answers; a group without port 80 makes it refuse
    eip = ec2.allocate_address(Domain="vpc")["AllocationId"]
    ec2.associate_address(AllocationId=eip, InstanceId=instance_id)
    status, body = wait_for(
        lambda: (lambda r: r if r[0] == 200 else None)(get(overcast, instance_id)), timeout=30
    )
    assert body == "hello from ip-10-16-32-4.ec2.internal\n"
    ec2.modify_instance_attribute(InstanceId=instance_id, Groups=[web["closed"]])
    status, body = get(overcast, instance_id)
    assert status == 504 and "ENI_SG_RULES_MISMATCH" in body
    ec2.modify_instance_attribute(InstanceId=instance_id, Groups=[web["group"]])

    # stop/start: the processes end, user data does not run again, files written inside are kept
    ec2.stop_instances(InstanceIds=[instance_id])
    overcast.advance_clock("3s")
    assert get(overcast, instance_id)[0] == 502  # nothing runs
    ec2.start_instances(InstanceIds=[instance_id])
    overcast.advance_clock("3s")
    after = wait_for(lambda: "not the first boot" in console(ec2, instance_id) and console(ec2, instance_id))
    assert after.count("booting ip-") == 1
    assert get(overcast, instance_id)[0] == 502  # the server user data started is not started again
    ec2.terminate_instances(InstanceIds=[instance_id])
    overcast.advance_clock("3s")


CLOUD_CONFIG = """#cloud-config
bootcmd:
  - 'echo "boot sees: $(cat /root/note.txt 2>/dev/null || echo nothing)"'
write_files:
  - path: /root/note.txt
    content: written at first boot
runcmd:
  - echo "first boot only"
"""


def test_cloud_config_and_files_kept_across_stop_start(overcast, ec2, web):
    instance_id = ec2.run_instances(
        ImageId=web["ami"], InstanceType="t3.micro", MinCount=1, MaxCount=1, SubnetId=web["subnet"],
        UserData=CLOUD_CONFIG,
    )["Instances"][0]["InstanceId"]  # fmt: skip
    overcast.advance_clock("3s")
    first = wait_for(lambda: "user data finished" in console(ec2, instance_id) and console(ec2, instance_id))
    assert "boot sees: nothing" in first and "first boot only" in first
    ec2.stop_instances(InstanceIds=[instance_id])
    overcast.advance_clock("3s")
    ec2.start_instances(InstanceIds=[instance_id])
    overcast.advance_clock("3s")
    second = wait_for(lambda: "not the first boot" in console(ec2, instance_id) and console(ec2, instance_id))
    assert "boot sees: written at first boot" in second  # the instance's files outlive a stop
    assert second.count("first boot only") == 1
    ec2.reboot_instances(InstanceIds=[instance_id])  # bootcmd again, the user data not
    third = wait_for(
        lambda: console(ec2, instance_id).count("not the first boot") == 2 and console(ec2, instance_id)
    )
    assert third.count("boot sees: written at first boot") == 2 and third.count("first boot only") == 1
    ec2.terminate_instances(InstanceIds=[instance_id])
    overcast.advance_clock("3s")


LIST_BUCKETS = f"""#!/bin/sh
{sys.executable} -c "
import boto3, botocore
try:
    print('buckets=' + ','.join(b['Name'] for b in boto3.client('s3').list_buckets()['Buckets']))
except botocore.exceptions.ClientError as error:
    print('denied=' + error.response['Error']['Code'])
" 2>&1 | tail -1
"""


def test_the_instance_role_is_what_iam_enforces(enforced):
    ec2, iam = enforced.client("ec2"), enforced.client("iam")
    enforced.client("s3").create_bucket(Bucket="enforced-bucket")
    ami = ec2.describe_images(
        Owners=["amazon"], Filters=[{"Name": "name", "Values": ["al2023-ami-*-x86_64"]}]
    )["Images"][0]["ImageId"]
    launched = {}
    for name, allowed in (("reader", True), ("nobody", False)):
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST))
        if allowed:
            iam.put_role_policy(RoleName=name, PolicyName="list", PolicyDocument=json.dumps({
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}],
            }))  # fmt: skip
        iam.create_instance_profile(InstanceProfileName=name)
        iam.add_role_to_instance_profile(InstanceProfileName=name, RoleName=name)
        launched[name] = ec2.run_instances(ImageId=ami, InstanceType="t3.micro", MinCount=1, MaxCount=1,
                                           UserData=LIST_BUCKETS, IamInstanceProfile={"Name": name})[
            "Instances"][0]["InstanceId"]  # fmt: skip
    enforced.advance_clock("3s")
    reader = wait_for(lambda: "buckets=" in console(ec2, launched["reader"]) and console(ec2, launched["reader"]),
                      timeout=60)  # fmt: skip
    assert "buckets=enforced-bucket" in reader
    nobody = wait_for(lambda: "denied=" in console(ec2, launched["nobody"]) and console(ec2, launched["nobody"]),
                      timeout=60)  # fmt: skip
    assert "denied=AccessDenied" in nobody
    ec2.terminate_instances(InstanceIds=list(launched.values()))
    enforced.advance_clock("3s")


def test_two_instances_reach_each_other_where_their_groups_allow(overcast, ec2, web):
    vpc = ec2.describe_subnets(SubnetIds=[web["subnet"]])["Subnets"][0]["VpcId"]
    inside = ec2.create_security_group(GroupName="from-vpc", Description="80 from the VPC", VpcId=vpc)[
        "GroupId"
    ]
    ec2.authorize_security_group_ingress(GroupId=inside, IpProtocol="tcp", FromPort=80, ToPort=80,
                                         CidrIp="10.16.0.0/16")  # fmt: skip
    # another group opens 81 (the router listens there too), but not for the server
    ec2.authorize_security_group_ingress(GroupId=web["closed"], IpProtocol="tcp", FromPort=81, ToPort=81,
                                         CidrIp="0.0.0.0/0")  # fmt: skip
    server_data = "#!/bin/sh\nmkdir -p /srv/a && cd /srv/a && echo from-server > index.html\n" \
                  "for port in 80 81 8081; do nohup python3 -m http.server $port >/dev/null 2>&1 & done\n"  # fmt: skip
    server = ec2.run_instances(ImageId=web["ami"], InstanceType="t3.micro", MinCount=1, MaxCount=1,
                               SubnetId=web["subnet"], SecurityGroupIds=[inside], UserData=server_data)[
        "Instances"][0]  # fmt: skip
    address = server["PrivateIpAddress"]
    client_data = (f"#!/bin/sh\nsleep 1\necho port80=$(curl -s -m 5 http://{address}/index.html)\n"
                   f"echo port8081=$(curl -s -m 5 -o /dev/null -w '%{{http_code}}' http://{address}:8081/)\n"
                   f"echo port81=$(curl -s -m 5 -o /dev/null -w '%{{http_code}}' http://{address}:81/)\n")  # fmt: skip
    client = ec2.run_instances(ImageId=web["ami"], InstanceType="t3.micro", MinCount=1, MaxCount=1,
                               SubnetId=web["subnet"], UserData=client_data)["Instances"][0]["InstanceId"]  # fmt: skip
    overcast.advance_clock("3s")
    output = wait_for(lambda: "port81=" in console(ec2, client) and console(ec2, client), timeout=60)
    assert "port80=from-server" in output
    assert "port81=000" in output  # refused: the server's group does not open 81
    assert "port8081=000" in output  # no rule opens 8081 yet

    # a rule added while they run opens the port (the router listens on it from then on)
    ec2.authorize_security_group_ingress(GroupId=inside, IpProtocol="tcp", FromPort=8081, ToPort=8081,
                                         CidrIp="10.16.0.0/16")  # fmt: skip
    late = ec2.run_instances(ImageId=web["ami"], InstanceType="t3.micro", MinCount=1, MaxCount=1,
                             SubnetId=web["subnet"], UserData=client_data)["Instances"][0]["InstanceId"]  # fmt: skip
    overcast.advance_clock("3s")
    output = wait_for(lambda: "port81=" in console(ec2, late) and console(ec2, late), timeout=60)
    assert "port8081=200" in output and "port81=000" in output
    ec2.terminate_instances(InstanceIds=[client, late, server["InstanceId"]])
    overcast.advance_clock("3s")


def test_an_image_carries_the_instance_files(overcast, ec2, web):
    source = ec2.run_instances(ImageId=web["ami"], InstanceType="t3.micro", MinCount=1, MaxCount=1,
                               SubnetId=web["subnet"], UserData="#!/bin/sh\necho baked > /srv/marker\n")[
        "Instances"][0]["InstanceId"]  # fmt: skip
    overcast.advance_clock("3s")
    wait_for(lambda: "user data finished" in console(ec2, source))
    image = ec2.create_image(InstanceId=source, Name="baked")["ImageId"]
    overcast.advance_clock("3s")
    child = ec2.run_instances(ImageId=image, InstanceType="t3.micro", MinCount=1, MaxCount=1,
                              SubnetId=web["subnet"], UserData="#!/bin/sh\necho found=$(cat /srv/marker)\n")[
        "Instances"][0]["InstanceId"]  # fmt: skip
    output = wait_for(lambda: "user data finished" in console(ec2, child) and console(ec2, child))
    assert "found=baked" in output
    ec2.terminate_instances(InstanceIds=[source, child])
    overcast.advance_clock("3s")
