"""Instances: RunInstances' validation, the lifecycle on the virtual clock, addresses, attributes, instance
types, AMIs, key pairs, EBS volumes and snapshots."""

import base64
import hashlib
import subprocess

import pytest
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives import serialization

from tests.helpers import error_of, message_of, need


@pytest.fixture
def ami(ec2):
    images = ec2.describe_images(
        Owners=["amazon"], Filters=[{"Name": "name", "Values": ["al2023-ami-*-x86_64"]}]
    )
    return images["Images"][0]["ImageId"]


@pytest.fixture
def public_subnet(ec2, vpc, subnet):
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    table = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["RouteTables"][0]
    ec2.create_route(RouteTableId=table["RouteTableId"], DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    ec2.modify_subnet_attribute(SubnetId=subnet, MapPublicIpOnLaunch={"Value": True})
    return subnet


def instance(ec2, instance_id):
    return ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]


def test_run_describe_and_the_lifecycle(overcast, ec2, ami, vpc, public_subnet):
    reservation = ec2.run_instances(
        ImageId=ami, InstanceType="t3.micro", MinCount=1, MaxCount=1, SubnetId=public_subnet,
        TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": "web"}]}],
    )  # fmt: skip
    assert reservation["ReservationId"].startswith("r-") and reservation["OwnerId"] == "000000000000"
    launched = reservation["Instances"][0]
    instance_id = launched["InstanceId"]
    assert launched["State"] == {"Code": 0, "Name": "pending"}
    assert launched["PrivateIpAddress"] == "10.0.1.4"  # the first address after the 4 reserved at the start
    assert launched["PrivateDnsName"] == "ip-10-0-1-4.ec2.internal"
    assert launched["VpcId"] == vpc and launched["SubnetId"] == public_subnet
    assert launched["Placement"]["AvailabilityZone"] == "us-east-1a"
    assert launched["MetadataOptions"]["HttpTokens"] == "required"  # AL2023 is an IMDSv2-only image
    assert launched["Tags"] == [{"Key": "Name", "Value": "web"}]
    eni = launched["NetworkInterfaces"][0]
    assert eni["Attachment"]["DeviceIndex"] == 0 and eni["Attachment"]["DeleteOnTermination"] is True
    root = launched["BlockDeviceMappings"][0]
    assert root["DeviceName"] == "/dev/xvda" and root["Ebs"]["DeleteOnTermination"] is True
    first_public = launched["PublicIpAddress"]
    assert launched["PublicDnsName"] == f"ec2-{first_public.replace('.', '-')}.compute-1.amazonaws.com"

    overcast.advance_clock("3s")
    assert instance(ec2, instance_id)["State"]["Name"] == "running"
    described = ec2.describe_instances(Filters=[{"Name": "tag:Name", "Values": ["web"]}])["Reservations"]
    assert [i["InstanceId"] for r in described for i in r["Instances"]] == [instance_id]
    assert ec2.describe_instance_status(InstanceIds=[instance_id])["InstanceStatuses"][0]["InstanceStatus"][
        "Status"] == "ok"  # fmt: skip

    # an Elastic IP on a second instance stays across stop/start; the auto-assigned one changes
    second = ec2.run_instances(ImageId=ami, InstanceType="t3.micro", MinCount=1, MaxCount=1,
                               SubnetId=public_subnet)["Instances"][0]["InstanceId"]  # fmt: skip
    overcast.advance_clock("3s")
    eip = ec2.allocate_address(Domain="vpc")
    ec2.associate_address(AllocationId=eip["AllocationId"], InstanceId=second)
    stopping = ec2.stop_instances(InstanceIds=[instance_id, second])["StoppingInstances"]
    assert (
        stopping[0]["CurrentState"]["Name"] == "stopping"
        and stopping[0]["PreviousState"]["Name"] == "running"
    )
    overcast.advance_clock("3s")
    stopped = instance(ec2, instance_id)
    assert stopped["State"]["Name"] == "stopped" and "PublicIpAddress" not in stopped
    assert stopped["StateTransitionReason"].startswith("User initiated (")
    ec2.start_instances(InstanceIds=[instance_id, second])
    overcast.advance_clock("3s")
    assert instance(ec2, instance_id)["PublicIpAddress"] != first_public
    assert instance(ec2, second)["PublicIpAddress"] == eip["PublicIp"]

    # terminate: interface and root volume go (DeleteOnTermination), listed for an hour, then gone
    volume = root["Ebs"]["VolumeId"]
    terminating = ec2.terminate_instances(InstanceIds=[instance_id])["TerminatingInstances"][0]
    assert terminating["CurrentState"] == {"Code": 32, "Name": "shutting-down"}
    overcast.advance_clock("3s")
    gone = instance(ec2, instance_id)
    assert gone["State"] == {"Code": 48, "Name": "terminated"} and gone["NetworkInterfaces"] == []
    with pytest.raises(ClientError) as raised:
        ec2.describe_volumes(VolumeIds=[volume])
    assert error_of(raised) == ("InvalidVolume.NotFound", 400)
    with pytest.raises(ClientError) as raised:
        ec2.describe_network_interfaces(NetworkInterfaceIds=[eni["NetworkInterfaceId"]])
    assert error_of(raised) == ("InvalidNetworkInterfaceID.NotFound", 400)
    with pytest.raises(ClientError) as raised:
        ec2.start_instances(InstanceIds=[instance_id])
    assert (
        message_of(raised) == f"The instance '{instance_id}' is not in a state from which it can be started."
    )
    overcast.advance_clock("61m")
    with pytest.raises(ClientError) as raised:
        ec2.describe_instances(InstanceIds=[instance_id])
    assert error_of(raised) == ("InvalidInstanceID.NotFound", 400)
    assert message_of(raised) == f"The instance ID '{instance_id}' does not exist"


def test_run_instances_validation(ec2, ami, vpc, subnet):
    def refused(**params):
        base = {"ImageId": ami, "InstanceType": "t3.micro", "MinCount": 1, "MaxCount": 1, "SubnetId": subnet}
        with pytest.raises(ClientError) as raised:
            ec2.run_instances(**{**base, **params})
        return error_of(raised)[0], message_of(raised)

    assert refused(ImageId="ami-12345678901234567") == (
        "InvalidAMIID.NotFound",
        "The image id '[ami-12345678901234567]' does not exist",
    )
    assert refused(ImageId="nope")[0] == "InvalidAMIID.Malformed"
    assert refused(InstanceType="t3.gigantic")[0] != "InternalError"  # the protocol layer's enum check
    assert refused(InstanceType="c5.24xlarge")[0] == "VcpuLimitExceeded"  # 96 vCPUs
    code, message = refused(InstanceType="t4g.micro")
    assert code == "InvalidParameterValue" and message.startswith(
        "The architecture 'arm64' of the specified instance type does not match the architecture 'x86_64'"
    )
    assert refused(KeyName="missing") == ("InvalidKeyPair.NotFound", "The key pair 'missing' does not exist")
    other = ec2.create_security_group(GroupName="elsewhere", Description="d")["GroupId"]  # default VPC
    assert refused(SecurityGroupIds=[other]) == (
        "InvalidParameterValue",
        f"Security group {other} and subnet {subnet} belong to different networks.",
    )
    assert refused(MinCount=3, MaxCount=2)[0] == "InvalidParameterValue"
    assert refused(UserData="x" * 16385) == ("InvalidParameterValue", "User data is limited to 16384 bytes")
    assert refused(PrivateIpAddress="10.0.1.2") == (
        "InvalidParameterValue",
        "Address 10.0.1.2 is in subnet's reserved address range",
    )
    assert refused(InstanceType="m5.xlarge", MinCount=17, MaxCount=17)[0] == "VcpuLimitExceeded"
    # MaxCount beyond the quota launches as many as fit (64 vCPUs: 16 of 4), at least MinCount
    launched = ec2.run_instances(
        ImageId=ami, InstanceType="m5.xlarge", MinCount=1, MaxCount=17, SubnetId=subnet
    )
    assert [i["AmiLaunchIndex"] for i in launched["Instances"]] == list(range(16))


def test_protections_and_attributes(overcast, ec2, ami, subnet):
    instance_id = ec2.run_instances(
        ImageId=ami, InstanceType="t3.micro", MinCount=1, MaxCount=1, SubnetId=subnet,
        DisableApiTermination=True, DisableApiStop=True,
    )["Instances"][0]["InstanceId"]  # fmt: skip
    with pytest.raises(ClientError) as raised:
        ec2.stop_instances(InstanceIds=[instance_id])
    assert error_of(raised) == ("OperationNotPermitted", 400)
    overcast.advance_clock("3s")
    with pytest.raises(ClientError) as raised:
        ec2.terminate_instances(InstanceIds=[instance_id])
    assert message_of(raised) == (
        f"The instance '{instance_id}' may not be terminated. Modify its 'disableApiTermination' instance "
        "attribute and try again.")  # fmt: skip
    ec2.modify_instance_attribute(InstanceId=instance_id, DisableApiStop={"Value": False})
    with pytest.raises(ClientError) as raised:
        ec2.modify_instance_attribute(InstanceId=instance_id, InstanceType={"Value": "t3.small"})
    assert error_of(raised) == ("IncorrectInstanceState", 400)
    ec2.stop_instances(InstanceIds=[instance_id])
    overcast.advance_clock("3s")
    ec2.modify_instance_attribute(InstanceId=instance_id, InstanceType={"Value": "t3.small"})
    attribute = ec2.describe_instance_attribute(InstanceId=instance_id, Attribute="instanceType")
    assert attribute["InstanceType"] == {"Value": "t3.small"}
    ec2.modify_instance_attribute(InstanceId=instance_id, SourceDestCheck={"Value": False})
    assert ec2.describe_instance_attribute(InstanceId=instance_id, Attribute="sourceDestCheck")[
        "SourceDestCheck"] == {"Value": False}  # fmt: skip
    assert instance(ec2, instance_id)["SourceDestCheck"] is False
    ec2.modify_instance_attribute(InstanceId=instance_id, DisableApiTermination={"Value": False})
    ec2.terminate_instances(InstanceIds=[instance_id])


def test_instance_types_are_aws_figures(ec2):
    described = ec2.describe_instance_types(InstanceTypes=["t3.micro", "m5.large"])["InstanceTypes"]
    micro, large = sorted(described, key=lambda t: t["InstanceType"], reverse=True)
    assert micro["VCpuInfo"]["DefaultVCpus"] == 2 and micro["MemoryInfo"]["SizeInMiB"] == 1024
    assert micro["NetworkInfo"]["NetworkPerformance"] == "Up to 5 Gigabit"
    assert micro["BurstablePerformanceSupported"] is True and micro["FreeTierEligible"] is True
    assert (
        large["MemoryInfo"]["SizeInMiB"] == 8192 and large["NetworkInfo"]["Ipv4AddressesPerInterface"] == 10
    )
    assert large["EbsInfo"]["EbsOptimizedInfo"]["MaximumBandwidthInMbps"] == 4750
    with pytest.raises(ClientError) as raised:
        ec2.describe_instance_types(InstanceTypes=["x9.huge"])
    assert error_of(raised) == ("InvalidParameterValue", 400)
    arm = ec2.describe_instance_types(Filters=[{"Name": "processor-info.supported-architecture",
                                                "Values": ["arm64"]}])["InstanceTypes"]  # fmt: skip
    assert arm and all(t["ProcessorInfo"]["SupportedArchitectures"] == ["arm64"] for t in arm)
    offerings = ec2.describe_instance_type_offerings(
        LocationType="availability-zone", Filters=[{"Name": "instance-type", "Values": ["t3.micro"]}]
    )["InstanceTypeOfferings"]
    assert {o["Location"] for o in offerings} >= {"us-east-1a", "us-east-1b"}


def test_images_catalogue_create_and_deregister(overcast, ec2, ami, subnet):
    amazon = ec2.describe_images(Owners=["amazon"])["Images"]
    assert {i["ImageOwnerAlias"] for i in amazon} == {"amazon"}
    ubuntu = ec2.describe_images(Owners=["099720109477"])["Images"]
    assert ubuntu and all(i["Name"].startswith("ubuntu/") for i in ubuntu)
    instance_id = ec2.run_instances(ImageId=ami, InstanceType="t3.micro", MinCount=1, MaxCount=1,
                                    SubnetId=subnet)["Instances"][0]["InstanceId"]  # fmt: skip
    with pytest.raises(ClientError) as raised:
        ec2.create_image(InstanceId=instance_id, Name="too-early")
    assert error_of(raised) == ("IncorrectInstanceState", 400)
    overcast.advance_clock("3s")
    image_id = ec2.create_image(InstanceId=instance_id, Name="golden", Description="mine")["ImageId"]
    mine = ec2.describe_images(Owners=["self"])["Images"]
    assert [(i["ImageId"], i["State"], i["Public"]) for i in mine] == [(image_id, "pending", False)]
    overcast.advance_clock("3s")
    assert ec2.describe_images(ImageIds=[image_id])["Images"][0]["State"] == "available"
    with pytest.raises(ClientError) as raised:
        ec2.create_image(InstanceId=instance_id, Name="golden")
    assert error_of(raised) == ("InvalidAMIName.Duplicate", 400)
    launched = ec2.run_instances(
        ImageId=image_id, MinCount=1, MaxCount=1, InstanceType="t3.micro", SubnetId=subnet
    )
    assert launched["Instances"][0]["ImageId"] == image_id
    ec2.deregister_image(ImageId=image_id)
    with pytest.raises(ClientError) as raised:
        ec2.describe_images(ImageIds=[image_id])
    assert error_of(raised) == ("InvalidAMIID.NotFound", 400)


@pytest.mark.slow
def test_key_pairs_are_real_keys(ec2, tmp_path):
    created = ec2.create_key_pair(KeyName="ops")
    material = created["KeyMaterial"].encode()
    assert material.startswith(b"-----BEGIN RSA PRIVATE KEY-----")
    private = serialization.load_pem_private_key(material, None)
    pkcs8 = private.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption())  # fmt: skip
    assert created["KeyFingerprint"] == ":".join(f"{b:02x}" for b in hashlib.sha1(pkcs8).digest())
    path = tmp_path / "ops.pem"
    path.write_bytes(material + b"\n")
    path.chmod(0o600)
    public = subprocess.run(
        [need("ssh-keygen"), "-y", "-f", str(path)], capture_output=True, check=True
    ).stdout
    described = ec2.describe_key_pairs(KeyNames=["ops"], IncludePublicKey=True)["KeyPairs"][0]
    assert described["PublicKey"].split()[:2] == public.decode().split()[:2]
    assert described["KeyType"] == "rsa" and described["KeyPairId"] == created["KeyPairId"]

    ed = ec2.create_key_pair(KeyName="ed", KeyType="ed25519")
    assert ed["KeyMaterial"].startswith("-----BEGIN OPENSSH PRIVATE KEY-----")
    assert ed["KeyFingerprint"].endswith("=")

    # imported RSA: MD5 of the DER public key
    der = private.public_key().public_bytes(serialization.Encoding.DER,
                                            serialization.PublicFormat.SubjectPublicKeyInfo)  # fmt: skip
    imported = ec2.import_key_pair(KeyName="imported", PublicKeyMaterial=public)
    assert imported["KeyFingerprint"] == ":".join(f"{b:02x}" for b in hashlib.md5(der).digest())
    with pytest.raises(ClientError) as raised:
        ec2.import_key_pair(KeyName="imported", PublicKeyMaterial=public)
    assert error_of(raised) == ("InvalidKeyPair.Duplicate", 400)
    with pytest.raises(ClientError) as raised:
        ec2.import_key_pair(KeyName="bad", PublicKeyMaterial=b"ssh-rsa notakey")
    assert error_of(raised) == ("InvalidKey.Format", 400)
    ec2.delete_key_pair(KeyName="imported")
    ec2.delete_key_pair(KeyName="imported")  # deleting what is gone succeeds, as in AWS
    assert {k["KeyName"] for k in ec2.describe_key_pairs()["KeyPairs"]} == {"ops", "ed"}


def test_volumes_attach_in_zone_and_snapshots(overcast, ec2, ami, subnet):
    instance_id = ec2.run_instances(ImageId=ami, InstanceType="t3.micro", MinCount=1, MaxCount=1,
                                    SubnetId=subnet)["Instances"][0]["InstanceId"]  # fmt: skip
    overcast.advance_clock("3s")
    gp3 = ec2.create_volume(AvailabilityZone="us-east-1a", Size=20, VolumeType="gp3")
    assert (gp3["Iops"], gp3["Throughput"], gp3["State"], gp3["Encrypted"]) == (3000, 125, "creating", False)
    gp2 = ec2.create_volume(AvailabilityZone="us-east-1a", Size=100)
    assert (gp2["VolumeType"], gp2["Iops"]) == ("gp2", 300)
    with pytest.raises(ClientError) as raised:
        ec2.create_volume(AvailabilityZone="us-east-1a", Size=10, VolumeType="io1")
    assert error_of(raised) == ("MissingParameter", 400)
    with pytest.raises(ClientError) as raised:
        ec2.create_volume(AvailabilityZone="us-east-1a", Size=10, VolumeType="io1", Iops=1000)
    assert message_of(raised) == "Iops to volume size ratio of 100.000000 is too high; maximum is 50.000000"
    with pytest.raises(ClientError) as raised:
        ec2.create_volume(AvailabilityZone="us-east-1a", Size=20000, VolumeType="gp3")
    assert message_of(raised) == "Volume of size 20000GB is too large; maximum is 16384GB."
    elsewhere = ec2.create_volume(AvailabilityZone="us-east-1b", Size=8)["VolumeId"]
    overcast.advance_clock("2s")
    with pytest.raises(ClientError) as raised:
        ec2.attach_volume(VolumeId=elsewhere, InstanceId=instance_id, Device="/dev/sdf")
    assert error_of(raised) == ("InvalidVolume.ZoneMismatch", 400)
    attached = ec2.attach_volume(VolumeId=gp3["VolumeId"], InstanceId=instance_id, Device="/dev/sdf")
    assert attached["State"] == "attaching"
    with pytest.raises(ClientError) as raised:
        ec2.attach_volume(VolumeId=gp2["VolumeId"], InstanceId=instance_id, Device="/dev/sdf")
    assert error_of(raised) == ("InvalidParameterValue", 400)
    assert ec2.describe_volumes(VolumeIds=[gp3["VolumeId"]])["Volumes"][0]["State"] == "in-use"
    devices = [m["DeviceName"] for m in instance(ec2, instance_id)["BlockDeviceMappings"]]
    assert devices == ["/dev/xvda", "/dev/sdf"]
    with pytest.raises(ClientError) as raised:
        ec2.delete_volume(VolumeId=gp3["VolumeId"])
    assert error_of(raised) == ("VolumeInUse", 400)
    snapshot = ec2.create_snapshot(VolumeId=gp3["VolumeId"], Description="nightly")
    assert snapshot["State"] == "pending" and snapshot["VolumeSize"] == 20
    overcast.advance_clock("2s")
    assert ec2.describe_snapshots(OwnerIds=["self"])["Snapshots"][0]["State"] == "completed"
    ec2.detach_volume(VolumeId=gp3["VolumeId"])
    assert ec2.describe_volumes(VolumeIds=[gp3["VolumeId"]])["Volumes"][0]["State"] == "available"
    modified = ec2.modify_volume(VolumeId=gp3["VolumeId"], Size=40, Iops=6000)["VolumeModification"]
    assert (modified["ModificationState"], modified["OriginalSize"], modified["TargetIops"]) == (
        "modifying",
        20,
        6000,
    )
    # encryption by default applies to new volumes
    ec2.enable_ebs_encryption_by_default()
    assert ec2.create_volume(AvailabilityZone="us-east-1a", Size=8)["Encrypted"] is True
    ec2.disable_ebs_encryption_by_default()
    # the extra volume survives its instance's termination, the root one does not
    ec2.attach_volume(VolumeId=gp3["VolumeId"], InstanceId=instance_id, Device="/dev/sdg")
    ec2.terminate_instances(InstanceIds=[instance_id])
    overcast.advance_clock("3s")
    assert ec2.describe_volumes(VolumeIds=[gp3["VolumeId"]])["Volumes"][0]["State"] == "available"


def test_user_data_is_kept_base64(ec2, ami, subnet):
    instance_id = ec2.run_instances(ImageId=ami, InstanceType="t3.micro", MinCount=1, MaxCount=1,
                                    SubnetId=subnet, UserData="echo hi")["Instances"][0]["InstanceId"]  # fmt: skip
    value = ec2.describe_instance_attribute(InstanceId=instance_id, Attribute="userData")["UserData"]["Value"]
    assert base64.b64decode(value) == b"echo hi"


def test_launch_templates_with_versions(ec2, ami, subnet):
    created = ec2.create_launch_template(
        LaunchTemplateName="web", VersionDescription="first",
        LaunchTemplateData={"ImageId": ami, "InstanceType": "t3.micro",
                            "TagSpecifications": [{"ResourceType": "instance", "Tags": [{"Key": "from", "Value": "lt"}]}]},
    )["LaunchTemplate"]  # fmt: skip
    assert created["LaunchTemplateId"].startswith("lt-")
    assert (created["DefaultVersionNumber"], created["LatestVersionNumber"]) == (1, 1)
    with pytest.raises(ClientError) as raised:
        ec2.create_launch_template(LaunchTemplateName="web", LaunchTemplateData={"InstanceType": "t3.micro"})
    assert error_of(raised) == ("InvalidLaunchTemplateName.AlreadyExistsException", 400)
    second = ec2.create_launch_template_version(
        LaunchTemplateName="web", SourceVersion="1", LaunchTemplateData={"InstanceType": "t3.small"}
    )["LaunchTemplateVersion"]
    assert second["VersionNumber"] == 2 and second["DefaultVersion"] is False
    assert second["LaunchTemplateData"]["ImageId"] == ami  # from the source version
    launched = ec2.run_instances(MinCount=1, MaxCount=1, SubnetId=subnet,
                                 LaunchTemplate={"LaunchTemplateName": "web", "Version": "$Latest"})["Instances"][0]  # fmt: skip
    assert launched["InstanceType"] == "t3.small" and {"Key": "from", "Value": "lt"} in launched["Tags"]
    default = ec2.run_instances(MinCount=1, MaxCount=1, SubnetId=subnet,
                                LaunchTemplate={"LaunchTemplateId": created["LaunchTemplateId"]})["Instances"][0]  # fmt: skip
    assert default["InstanceType"] == "t3.micro"
    ec2.modify_launch_template(LaunchTemplateName="web", DefaultVersion="2")
    versions = ec2.describe_launch_template_versions(LaunchTemplateName="web", Versions=["$Default"])
    assert versions["LaunchTemplateVersions"][0]["VersionNumber"] == 2
    ec2.delete_launch_template(LaunchTemplateName="web")
    with pytest.raises(ClientError) as raised:
        ec2.describe_launch_templates(LaunchTemplateNames=["web"])
    assert error_of(raised) == ("InvalidLaunchTemplateName.NotFoundException", 400)


def test_describe_instances_pages_by_instance(ec2, ami, subnet):
    launched = []
    for count in (3, 4):
        reservation = ec2.run_instances(ImageId=ami, InstanceType="t3.nano", MinCount=count, MaxCount=count,
                                        SubnetId=subnet)  # fmt: skip
        launched += [i["InstanceId"] for i in reservation["Instances"]]
        assert [i["AmiLaunchIndex"] for i in reservation["Instances"]] == list(range(count))
    filters = [{"Name": "subnet-id", "Values": [subnet]}]
    first = ec2.describe_instances(Filters=filters, MaxResults=5)
    assert [len(r["Instances"]) for r in first["Reservations"]] == [3, 2]
    second = ec2.describe_instances(Filters=filters, MaxResults=5, NextToken=first["NextToken"])
    assert [len(r["Instances"]) for r in second["Reservations"]] == [2] and "NextToken" not in second
    seen = [i["InstanceId"] for page in (first, second) for r in page["Reservations"] for i in r["Instances"]]
    assert seen == launched
    with pytest.raises(ClientError) as raised:
        ec2.describe_instances(MaxResults=3)
    assert error_of(raised) == ("InvalidParameterValue", 400)


def test_placement_groups(ec2, ami, subnet):
    created = ec2.create_placement_group(GroupName="tight", Strategy="partition", PartitionCount=3)[
        "PlacementGroup"
    ]
    assert (created["State"], created["PartitionCount"], created["GroupId"][:3]) == ("available", 3, "pg-")
    with pytest.raises(ClientError) as raised:
        ec2.create_placement_group(GroupName="tight", Strategy="cluster")
    assert error_of(raised) == ("InvalidPlacementGroup.Duplicate", 400)
    with pytest.raises(ClientError) as raised:
        ec2.run_instances(ImageId=ami, InstanceType="t3.micro", MinCount=1, MaxCount=1, SubnetId=subnet,
                          Placement={"GroupName": "loose"})  # fmt: skip
    assert message_of(raised) == "The Placement Group 'loose' is unknown."
    launched = ec2.run_instances(ImageId=ami, InstanceType="t3.micro", MinCount=1, MaxCount=1, SubnetId=subnet,
                                 Placement={"GroupName": "tight"})["Instances"][0]  # fmt: skip
    assert launched["Placement"]["GroupName"] == "tight"
    with pytest.raises(ClientError) as raised:
        ec2.delete_placement_group(GroupName="tight")
    assert error_of(raised) == ("InvalidPlacementGroup.InUse", 400)
    names = [g["GroupName"] for g in ec2.describe_placement_groups(Filters=[{"Name": "strategy",
                                                                             "Values": ["partition"]}])["PlacementGroups"]]  # fmt: skip
    assert names == ["tight"]


def test_copy_image_and_snapshot_across_regions(overcast, ec2):
    west = overcast.client("ec2", region="us-west-2")
    source = ec2.describe_images(Owners=["amazon"])["Images"][0]
    copied = west.copy_image(SourceImageId=source["ImageId"], SourceRegion="us-east-1", Name="my-copy")[
        "ImageId"
    ]
    image = west.describe_images(ImageIds=[copied])["Images"][0]
    assert (image["OwnerId"], image["Public"], image["SourceImageRegion"]) == (
        "000000000000",
        False,
        "us-east-1",
    )
    with pytest.raises(ClientError) as raised:
        ec2.describe_images(ImageIds=[copied])  # it lives in us-west-2
    assert error_of(raised) == ("InvalidAMIID.NotFound", 400)
    volume = ec2.create_volume(AvailabilityZone="us-east-1a", Size=8)["VolumeId"]
    snapshot = ec2.create_snapshot(VolumeId=volume)["SnapshotId"]
    overcast.advance_clock("2s")
    copy = west.copy_snapshot(SourceSnapshotId=snapshot, SourceRegion="us-east-1", Encrypted=True)[
        "SnapshotId"
    ]
    described = west.describe_snapshots(SnapshotIds=[copy])["Snapshots"][0]
    assert described["Encrypted"] is True and described["VolumeSize"] == 8
    assert described["Description"] == f"[Copied {snapshot} from us-east-1]"


@pytest.mark.slow
def test_the_aws_cli_runs_and_describes_instances(overcast, ec2, ami):
    from tests.helpers import AWS_V2, aws

    launched = aws(overcast, "ec2", "run-instances", "--image-id", ami, "--instance-type", "t3.micro",
                   "--count", "2", "--user-data", "echo from the cli", cli=AWS_V2)  # fmt: skip
    ids = [i["InstanceId"] for i in launched["Instances"]]
    assert len(ids) == 2
    user_data = ec2.describe_instance_attribute(InstanceId=ids[0], Attribute="userData")["UserData"]["Value"]
    assert base64.b64decode(user_data) == b"echo from the cli"  # the CLI base64-encodes it, once
    described = aws(overcast, "ec2", "describe-instances", "--instance-ids", *ids,
                    "--query", "Reservations[].Instances[].State.Name", cli=AWS_V2)  # fmt: skip
    assert len(described) == 2 and set(described) <= {"pending", "running"}  # the CLI takes seconds
    aws(overcast, "ec2", "terminate-instances", "--instance-ids", *ids, cli=AWS_V2)


def test_spot_requests_are_fulfilled_and_closed(overcast, ec2, ami, subnet):
    requested = ec2.request_spot_instances(
        InstanceCount=2, SpotPrice="0.05",
        LaunchSpecification={"ImageId": ami, "InstanceType": "t3.micro", "SubnetId": subnet},
    )["SpotInstanceRequests"]  # fmt: skip
    assert [(r["State"], r["Status"]["Code"]) for r in requested] == [("active", "fulfilled")] * 2
    first = requested[0]
    instance = ec2.describe_instances(InstanceIds=[first["InstanceId"]])["Reservations"][0]["Instances"][0]
    assert instance["InstanceLifecycle"] == "spot"
    assert instance["SpotInstanceRequestId"] == first["SpotInstanceRequestId"]
    cancelled = ec2.cancel_spot_instance_requests(SpotInstanceRequestIds=[first["SpotInstanceRequestId"]])
    assert cancelled["CancelledSpotInstanceRequests"][0]["State"] == "cancelled"
    status = ec2.describe_spot_instance_requests(SpotInstanceRequestIds=[first["SpotInstanceRequestId"]])[
        "SpotInstanceRequests"][0]["Status"]["Code"]  # fmt: skip
    assert status == "request-canceled-and-instance-running"
    second = requested[1]
    ec2.terminate_instances(InstanceIds=[second["InstanceId"]])
    overcast.advance_clock("3s")
    closed = ec2.describe_spot_instance_requests(Filters=[{"Name": "state", "Values": ["closed"]}])[
        "SpotInstanceRequests"]  # fmt: skip
    assert [(r["SpotInstanceRequestId"], r["Status"]["Code"]) for r in closed] == [
        (second["SpotInstanceRequestId"], "instance-terminated-by-user")
    ]
    with pytest.raises(ClientError) as raised:
        ec2.describe_spot_instance_requests(SpotInstanceRequestIds=["sir-0123456789abcdef0"])
    assert error_of(raised) == ("InvalidSpotInstanceRequestID.NotFound", 400)
