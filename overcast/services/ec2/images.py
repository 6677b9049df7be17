"""AMIs: a small catalogue of public images (Amazon Linux 2023 and 2, Ubuntu 24.04 and 22.04, Windows Server
2022 as a record) present in every region under stable ids, and the account's own images (CreateImage from an
instance: its root directory becomes the image's; DescribeImages with owners, ids, executable-by and filters;
DeregisterImage; launch permissions)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.ec2 import kinds
from overcast.services.ec2.errors import invalid
from overcast.services.ec2.filters import check, matches, tag_specifications
from overcast.services.ec2.ids import new_id
from overcast.services.ec2.store import Resource

if TYPE_CHECKING:
    from overcast.services.ec2.provider import Ec2Provider

AMAZON = "137112412989"
CANONICAL = "099720109477"
MICROSOFT = "801119661308"  # Windows images are owned by Amazon's "amazon" alias account in AWS
ALIASES = {AMAZON: "amazon", MICROSOFT: "amazon"}


@dataclass(frozen=True)
class PublicImage:
    name: str
    owner: str
    description: str
    arch: str = "x86_64"
    root_device: str = "/dev/xvda"
    size: int = 8
    platform: str = ""  # "windows" for Windows
    imds: str = ""  # ImdsSupport "v2.0": IMDSv2 required on launch by default
    boot_mode: str = ""
    created: str = "2025-11-18T02:11:04.000Z"
    ssm: str = ""  # the SSM public parameter naming it


CATALOGUE = (
    PublicImage("al2023-ami-2023.9.20251117.1-kernel-6.1-x86_64", AMAZON, "Amazon Linux 2023 AMI 2023.9.20251117.1 x86_64 HVM kernel-6.1",
                imds="v2.0", boot_mode="uefi-preferred",
                ssm="/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"),
    PublicImage("al2023-ami-2023.9.20251117.1-kernel-6.1-arm64", AMAZON, "Amazon Linux 2023 AMI 2023.9.20251117.1 arm64 HVM kernel-6.1",
                arch="arm64", imds="v2.0", boot_mode="uefi",
                ssm="/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64"),
    PublicImage("amzn2-ami-kernel-5.10-hvm-2.0.20251110.1-x86_64-gp2", AMAZON, "Amazon Linux 2 Kernel 5.10 AMI 2.0.20251110.1 x86_64 HVM gp2",
                ssm="/aws/service/ami-amazon-linux-latest/amzn2-ami-kernel-5.10-hvm-x86_64-gp2"),
    PublicImage("ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20251112", CANONICAL,
                "Canonical, Ubuntu, 24.04, amd64 noble image", root_device="/dev/sda1",
                ssm="/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id"),
    PublicImage("ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-20251112", CANONICAL,
                "Canonical, Ubuntu, 22.04, amd64 jammy image", root_device="/dev/sda1",
                ssm="/aws/service/canonical/ubuntu/server/22.04/stable/current/amd64/hvm/ebs-gp2/ami-id"),
    PublicImage("Windows_Server-2022-English-Full-Base-2025.11.12", AMAZON,
                "Microsoft Windows Server 2022 Full Locale English AMI provided by Amazon", root_device="/dev/sda1",
                size=30, platform="windows", imds="v2.0",
                ssm="/aws/service/ami-windows-latest/Windows_Server-2022-English-Full-Base"),
)  # fmt: skip

FILTERS = {
    "architecture": "Architecture",
    "block-device-mapping.delete-on-termination": "BlockDeviceMappings.Ebs.DeleteOnTermination",
    "block-device-mapping.device-name": "BlockDeviceMappings.DeviceName",
    "block-device-mapping.snapshot-id": "BlockDeviceMappings.Ebs.SnapshotId",
    "block-device-mapping.volume-size": "BlockDeviceMappings.Ebs.VolumeSize",
    "block-device-mapping.volume-type": "BlockDeviceMappings.Ebs.VolumeType",
    "description": "Description",
    "ena-support": "EnaSupport",
    "hypervisor": "Hypervisor",
    "image-id": "ImageId",
    "image-type": "ImageType",
    "is-public": "Public",
    "name": "Name",
    "owner-alias": "ImageOwnerAlias",
    "owner-id": "OwnerId",
    "platform": "Platform",
    "platform-details": "PlatformDetails",
    "root-device-name": "RootDeviceName",
    "root-device-type": "RootDeviceType",
    "state": "State",
    "virtualization-type": "VirtualizationType",
    "source-instance-id": "SourceInstanceId",
    "imds-support": "ImdsSupport",
}


def _hex(*parts: str) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:17]


def public_images(region: str) -> list[dict[str, Any]]:
    """The catalogue as DescribeImages gives it in `region` (ids are stable per region)."""
    return [_public(image, region) for image in CATALOGUE]


def _public(image: PublicImage, region: str) -> dict[str, Any]:
    windows = image.platform == "windows"
    described: dict[str, Any] = {
        "Architecture": image.arch,
        "CreationDate": image.created,
        "ImageId": f"ami-{_hex(region, image.name)}",
        "ImageLocation": f"{ALIASES.get(image.owner, image.owner)}/{image.name}",
        "ImageType": "machine",
        "Public": True,
        "OwnerId": image.owner,
        "PlatformDetails": "Windows" if windows else "Linux/UNIX",
        "UsageOperation": "RunInstances:0002" if windows else "RunInstances",
        "State": "available",
        "BlockDeviceMappings": [
            {
                "DeviceName": image.root_device,
                "Ebs": {
                    "DeleteOnTermination": True,
                    "SnapshotId": f"snap-{_hex(region, image.name, 'root')}",
                    "VolumeSize": image.size,
                    "VolumeType": "gp3"
                    if "gp2" not in image.name and "hvm-ssd/" not in image.name
                    else "gp2",
                    "Encrypted": False,
                },
            }
        ],
        "Description": image.description,
        "EnaSupport": True,
        "Hypervisor": "xen",
        "Name": image.name,
        "RootDeviceName": image.root_device,
        "RootDeviceType": "ebs",
        "SriovNetSupport": "simple",
        "VirtualizationType": "hvm",
        "DeprecationTime": "2027-11-18T02:11:00.000Z",
        "FreeTierEligible": True,
    }
    if image.owner in ALIASES:
        described["ImageOwnerAlias"] = ALIASES[image.owner]
    if windows:
        described["Platform"] = "windows"
    if image.boot_mode:
        described["BootMode"] = image.boot_mode
    if image.imds:
        described["ImdsSupport"] = image.imds
    if image.ssm:
        described["PublicSsmParameterName"] = image.ssm
    return described


def ssm_parameters(region: str) -> dict[str, str]:
    """{SSM public parameter name: image id} (`/aws/service/ami-amazon-linux-latest/...`), for SSM to answer."""
    return {image.ssm: f"ami-{_hex(region, image.name)}" for image in CATALOGUE if image.ssm}


class ImageOperations(Operations):
    service: Ec2Provider

    def image(self, ctx: RequestContext, image_id: str) -> dict[str, Any]:
        """An image the caller can launch, described; InvalidAMIID.* otherwise."""
        if not image_id.startswith("ami-") or len(image_id) not in (12, 21):
            raise ServiceError("InvalidAMIID.Malformed", f'Invalid id: "{image_id}" (expecting "ami-...")')
        for described in public_images(ctx.region):
            if described["ImageId"] == image_id:
                return described
        found = self.service.store.get(image_id)
        if found is None or found.kind != kinds.IMAGE.name or found.region != ctx.region:
            raise kinds.IMAGE.not_found([image_id])
        if found.account != ctx.account_id and not _launchable(found, ctx.account_id):
            raise kinds.IMAGE.not_found([image_id])
        return self.service.net.render(found)

    def describe_images(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        filters = params.get("Filters") or []
        check(filters, FILTERS)
        ids = params.get("ImageIds") or []
        owners = params.get("Owners") or []
        executable = params.get("ExecutableUsers") or []
        if ids:
            images = [self.image(ctx, image_id) for image_id in dict.fromkeys(ids)]
        else:
            images = public_images(ctx.region) + self.service.net.render_many(self._own_and_shared(ctx))
        if owners:
            wanted = {ctx.account_id if o == "self" else o for o in owners}
            images = [i for i in images if i["OwnerId"] in wanted or i.get("ImageOwnerAlias") in wanted]
        if executable:
            images = [
                i for i in images if i["Public"] or i["OwnerId"] == ctx.account_id or "self" in executable
            ]
        images = [i for i in images if matches(i, filters, FILTERS)]
        return {"Images": images}

    def _own_and_shared(self, ctx: RequestContext) -> list[Resource]:
        store = self.service.store
        own = store.page(ctx.account_id, ctx.region, kinds.IMAGE.name, 0, 100_000)
        return [i for i in own if i.body["State"] != "deregistered"]

    def create_image(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        instances = self.service.instances
        instance = self.service.net.require(ctx, kinds.INSTANCE, params["InstanceId"])
        state = instance.body["State"]["Name"]
        if state not in ("running", "stopped", "stopping"):
            raise ServiceError(
                "IncorrectInstanceState",
                f"The instance '{instance.id}' is not in the 'running' or 'stopped' states.",
            )
        name = params["Name"]
        if not 3 <= len(name) <= 128:
            raise invalid("AMI names must be between 3 and 128 characters long, and may contain letters, "
                          "numbers, '(', ')', '.', '-', '/' and '_'")  # fmt: skip
        if any(i.body["Name"] == name for i in self._own_and_shared(ctx)):
            raise ServiceError(
                "InvalidAMIName.Duplicate",
                f"AMI name {name} is already in use by AMI {self._named(ctx, name)}",
            )
        image_id = new_id("ami")
        root = instances.root_volume(instance)
        snapshot_id = new_id("snap")
        body: dict[str, Any] = {
            "Architecture": instance.body["Architecture"],
            "CreationDate": _iso(self.service.clock.now()),
            "ImageId": image_id,
            "ImageLocation": f"{ctx.account_id}/{name}",
            "ImageType": "machine",
            "Public": False,
            "OwnerId": ctx.account_id,
            "PlatformDetails": instance.body["PlatformDetails"],
            "UsageOperation": instance.body["UsageOperation"],
            "State": "pending",
            "BlockDeviceMappings": [
                {
                    "DeviceName": instance.body["RootDeviceName"],
                    "Ebs": {
                        "DeleteOnTermination": True,
                        "SnapshotId": snapshot_id,
                        "VolumeSize": root.body["Size"] if root else 8,
                        "VolumeType": root.body["VolumeType"] if root else "gp3",
                        "Encrypted": bool(root and root.body["Encrypted"]),
                    },
                }
            ],
            "EnaSupport": True,
            "Hypervisor": "xen",
            "Name": name,
            "RootDeviceName": instance.body["RootDeviceName"],
            "RootDeviceType": "ebs",
            "SriovNetSupport": "simple",
            "VirtualizationType": "hvm",
            "SourceInstanceId": instance.id,
            "_from_image": instance.body["ImageId"],
            "_launch": [],
        }
        if params.get("Description"):
            body["Description"] = params["Description"]
        for key in ("Platform", "BootMode", "ImdsSupport"):
            source = instance.body.get(f"_image_{key}")
            if source:
                body[key] = source
        image = self.service.store.insert(Resource(image_id, ctx.account_id, ctx.region, kinds.IMAGE.name, body,
                                                   parent_id=instance.id, name=name))  # fmt: skip
        self.service.net.tag(image, tag_specifications(params, "image"))
        self.service.schedule(image_id, "image-available", 2.0)
        instances.sandboxes.snapshot_root(instance.id, image_id)
        if not params.get("NoReboot") and state == "running":  # AWS reboots it for a consistent file system
            instances.sandboxes.reboot_after_commit(instance.id)
        return {"ImageId": image_id}

    def copy_image(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        """A copy in this region of an image of another (or the same) region: a public one or the account's."""
        source_id, source_region = params["SourceImageId"], params["SourceRegion"]
        source = next((i for i in public_images(source_region) if i["ImageId"] == source_id), None)
        if source is None:
            found = self.service.store.get(source_id)
            if found is None or found.kind != kinds.IMAGE.name or found.region != source_region or (
                    found.account != ctx.account_id and not _launchable(found, ctx.account_id)):  # fmt: skip
                raise kinds.IMAGE.not_found([source_id])
            source = found.body
        name = params["Name"]
        if any(i.body["Name"] == name for i in self._own_and_shared(ctx)):
            raise ServiceError("InvalidAMIName.Duplicate",
                               f"AMI name {name} is already in use by AMI {self._named(ctx, name)}")  # fmt: skip
        image_id = new_id("ami")
        body = {key: value for key, value in source.items() if key not in ("ImageOwnerAlias", "DeprecationTime",
                                                                          "PublicSsmParameterName", "Tags")}  # fmt: skip
        encrypted = bool(params.get("Encrypted"))
        body.update(
            ImageId=image_id, Name=name, OwnerId=ctx.account_id, Public=False, State="pending",
            ImageLocation=f"{ctx.account_id}/{name}", CreationDate=_iso(self.service.clock.now()),
            SourceImageId=source_id, SourceImageRegion=source_region, _launch=[],
            BlockDeviceMappings=[
                {**m, "Ebs": {**m["Ebs"], "SnapshotId": new_id("snap"),
                              "Encrypted": encrypted or m["Ebs"].get("Encrypted", False)}}
                if m.get("Ebs") else m for m in source["BlockDeviceMappings"]
            ],
        )  # fmt: skip
        if params.get("Description") is not None:
            body["Description"] = params["Description"]
        image = self.service.store.insert(Resource(image_id, ctx.account_id, ctx.region, kinds.IMAGE.name, body,
                                                   name=name))  # fmt: skip
        self.service.net.tag(image, tag_specifications(params, "image"))
        self.service.schedule(image_id, "image-available", 2.0)
        self.service.instances.sandboxes.copy_image(source_id, image_id)
        return {"ImageId": image_id}

    def _named(self, ctx: RequestContext, name: str) -> str:
        return next(i.id for i in self._own_and_shared(ctx) if i.body["Name"] == name)

    def deregister_image(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        image_id = params["ImageId"]
        found = self.service.net.find(ctx, kinds.IMAGE, image_id)
        if found is None:
            if any(i["ImageId"] == image_id for i in public_images(ctx.region)):
                raise ServiceError("AuthFailure", f"Not authorized for image:{image_id}")
            raise kinds.IMAGE.not_found([image_id])
        if found.body["State"] == "deregistered":
            raise kinds.IMAGE.not_found([image_id])
        self.service.instances.sandboxes.forget_image(image_id)
        self.service.net.forget(found)
        return {"Return": True}

    def describe_image_attribute(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        image = self.service.net.require(ctx, kinds.IMAGE, params["ImageId"])
        attribute = params["Attribute"]
        result: dict[str, Any] = {"ImageId": image.id}
        if attribute == "launchPermission":
            result["LaunchPermissions"] = [{"UserId": a} for a in image.body["_launch"]] + (
                [{"Group": "all"}] if image.body["Public"] else []
            )
        elif attribute == "description":
            result["Description"] = {"Value": image.body.get("Description", "")}
        elif attribute == "blockDeviceMapping":
            result["BlockDeviceMappings"] = image.body["BlockDeviceMappings"]
        else:
            raise invalid(f"Value ({attribute}) for parameter attribute is invalid. Unknown attribute.")
        return result

    def modify_image_attribute(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        image = self.service.net.require(ctx, kinds.IMAGE, params["ImageId"])
        permission = params.get("LaunchPermission") or {}
        for item in permission.get("Add") or ():
            if item.get("Group") == "all":
                image.body["Public"] = True
            elif item.get("UserId") and item["UserId"] not in image.body["_launch"]:
                image.body["_launch"].append(item["UserId"])
        for item in permission.get("Remove") or ():
            if item.get("Group") == "all":
                image.body["Public"] = False
            elif item.get("UserId") in image.body["_launch"]:
                image.body["_launch"].remove(item["UserId"])
        if params.get("Description"):
            image.body["Description"] = params["Description"].get("Value") or ""
        self.service.store.save(image)
        return {}


def _launchable(image: Resource, account: str) -> bool:
    return bool(image.body["Public"]) or account in image.body["_launch"]


def _iso(moment: float) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
