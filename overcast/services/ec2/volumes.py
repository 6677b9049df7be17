"""EBS: volumes (AWS's size, IOPS and throughput rules per type), attached in the instance's zone only, on a
free device name, detached (forced or not), modified; snapshots; encryption by default; every instance's
root volume (and the volumes its launch maps), deleted or detached when it terminates."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.ec2 import kinds, zones
from overcast.services.ec2.errors import incorrect_state, invalid, missing
from overcast.services.ec2.filters import tag_specifications
from overcast.services.ec2.ids import new_id
from overcast.services.ec2.store import Resource

if TYPE_CHECKING:
    from overcast.services.ec2.provider import Ec2Provider

CREATE_TIME = 1.0  # virtual seconds creating → available, a snapshot pending → completed
DEFAULT_KMS_KEY = "alias/aws/ebs"


@dataclass(frozen=True)
class VolumeRules:
    min_size: int
    max_size: int
    min_iops: int = 0  # 0: IOPS cannot be set
    max_iops: int = 0
    iops_per_gib: int = 0
    default_iops: int = 0
    multi_attach: bool = False


RULES = {
    "gp2": VolumeRules(1, 16384),
    "gp3": VolumeRules(1, 16384, 3000, 16000, 500, 3000),
    "io1": VolumeRules(4, 16384, 100, 64000, 50, 0, multi_attach=True),
    "io2": VolumeRules(4, 65536, 100, 256000, 1000, 0, multi_attach=True),
    "st1": VolumeRules(125, 16384),
    "sc1": VolumeRules(125, 16384),
    "standard": VolumeRules(1, 1024),
}
FILTERS = {
    "attachment.attach-time": "Attachments.AttachTime",
    "attachment.delete-on-termination": "Attachments.DeleteOnTermination",
    "attachment.device": "Attachments.Device",
    "attachment.instance-id": "Attachments.InstanceId",
    "attachment.status": "Attachments.State",
    "availability-zone": "AvailabilityZone",
    "create-time": "CreateTime",
    "encrypted": "Encrypted",
    "multi-attach-enabled": "MultiAttachEnabled",
    "size": "Size",
    "snapshot-id": "SnapshotId",
    "status": "State",
    "volume-id": "VolumeId",
    "volume-type": "VolumeType",
}
SNAPSHOT_FILTERS = {
    "description": "Description",
    "encrypted": "Encrypted",
    "owner-id": "OwnerId",
    "progress": "Progress",
    "snapshot-id": "SnapshotId",
    "start-time": "StartTime",
    "status": "State",
    "volume-id": "VolumeId",
    "volume-size": "VolumeSize",
    "storage-tier": "StorageTier",
}


def _iops_of(volume_type: str, size: int, iops: int | None) -> int | None:
    if volume_type == "gp2":
        return max(100, min(16000, 3 * size))
    if volume_type in ("gp3", "io1", "io2"):
        return iops or RULES[volume_type].default_iops
    return None


def check_volume(volume_type: str, size: int, iops: int | None, throughput: int | None) -> None:
    """AWS's rules for a volume's type, size, IOPS and throughput."""
    rules = RULES.get(volume_type)
    if rules is None:
        raise invalid(f"Value ({volume_type}) for parameter volumeType is invalid. Valid values are: "
                      "standard, io1, io2, gp2, sc1, st1, gp3")  # fmt: skip
    if size < rules.min_size:
        raise invalid(f"Volume of size {size}GB is too small; minimum is {rules.min_size}GB.")
    if size > rules.max_size:
        raise invalid(f"Volume of size {size}GB is too large; maximum is {rules.max_size}GB.")
    if volume_type in ("io1", "io2") and not iops:
        raise missing("iops")
    if iops is not None and not rules.max_iops:
        raise ServiceError(
            "InvalidParameterCombination", f"The parameter iops is not supported for {volume_type} volumes."
        )
    if iops is not None:
        if not rules.min_iops <= iops <= rules.max_iops:
            raise invalid(f"Volume iops of {iops} is too {'low' if iops < rules.min_iops else 'high'}; "
                          f"{'minimum' if iops < rules.min_iops else 'maximum'} is "
                          f"{rules.min_iops if iops < rules.min_iops else rules.max_iops}.")  # fmt: skip
        if iops / size > rules.iops_per_gib:
            raise invalid(f"Iops to volume size ratio of {iops / size:.6f} is too high; maximum is "
                          f"{rules.iops_per_gib:.6f}")  # fmt: skip
    if throughput is not None:
        if volume_type != "gp3":
            raise ServiceError("InvalidParameterCombination", f"The parameter throughput is not supported for "
                               f"{volume_type} volumes.")  # fmt: skip
        if not 125 <= throughput <= 1000:
            raise invalid(
                f"Throughput of {throughput} MiB/s is invalid; it must be between 125 and 1000 MiB/s."
            )
        if throughput > (iops or 3000) / 4:
            raise invalid(f"Throughput (MiBps) to iops ratio of {throughput / (iops or 3000):.6f} is too high; "
                          "maximum is 0.250000 MiBps per iops.")  # fmt: skip


class VolumeOperations(Operations):
    service: Ec2Provider

    # -- what instances use ----------------------------------------------------------------------------

    def new_volume(
        self, account: str, region: str, zone: str, *, size: int, volume_type: str = "gp3",
        iops: int | None = None, throughput: int | None = None, snapshot_id: str = "",
        encrypted: bool = False, kms_key: str | None = None, multi_attach: bool = False, state: str = "creating",
    ) -> Resource:  # fmt: skip
        encrypted = encrypted or self.encryption_by_default(account, region)
        found = zones.zone(region, zone)
        body: dict[str, Any] = {
            "AvailabilityZoneId": found.zone_id if found else "",
            "VolumeType": volume_type,
            "MultiAttachEnabled": multi_attach,
            "OwnerId": account,
            "VolumeId": "",
            "Size": size,
            "SnapshotId": snapshot_id,
            "AvailabilityZone": zone,
            "State": state,
            "CreateTime": round(self.service.clock.now(), 3),
            "Attachments": [],
            "Encrypted": encrypted,
        }
        volume_iops = _iops_of(volume_type, size, iops)
        if volume_iops is not None:
            body["Iops"] = volume_iops
        if volume_type == "gp3":
            body["Throughput"] = throughput or 125
        if encrypted:
            body["KmsKeyId"] = kms_key or f"arn:aws:kms:{region}:{account}:{DEFAULT_KMS_KEY}"
        volume_id = new_id("vol")
        body["VolumeId"] = volume_id
        volume = self.service.store.insert(Resource(volume_id, account, region, kinds.VOLUME.name, body))
        if state == "creating":
            self.service.schedule(volume_id, "volume-available", CREATE_TIME)
        return volume

    def launch_volumes(
        self, ctx: RequestContext, instance: Resource, image: dict[str, Any], params: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """The volumes a launch creates (the image's mappings, overridden by the request's) attached to the
        instance; its BlockDeviceMappings."""
        asked = {m["DeviceName"]: m for m in params.get("BlockDeviceMappings") or ()}
        mappings = []
        zone = instance.body["Placement"]["AvailabilityZone"]
        tags = tag_specifications(params, "volume")
        for mapping in image["BlockDeviceMappings"]:
            ebs = dict(mapping.get("Ebs") or {})
            override = (asked.pop(mapping["DeviceName"], None) or {}).get("Ebs") or {}
            size = override.get("VolumeSize") or ebs["VolumeSize"]
            if size < ebs["VolumeSize"]:
                raise ServiceError("InvalidBlockDeviceMapping", f"Volume of size {size}GB is smaller than snapshot "
                                   f"'{ebs['SnapshotId']}', expect size >= {ebs['VolumeSize']}GB")  # fmt: skip
            mappings.append((mapping["DeviceName"], {**ebs, **override, "VolumeSize": size}))
        for device, mapping in asked.items():
            if mapping.get("Ebs"):
                ebs = dict(mapping["Ebs"])
                if not ebs.get("VolumeSize") and not ebs.get("SnapshotId"):
                    raise missing("size")
                ebs.setdefault("DeleteOnTermination", True)
                mappings.append((device, ebs))
        described = []
        for device, ebs in mappings:
            volume_type = ebs.get("VolumeType") or "gp3"
            size = ebs.get("VolumeSize") or 8
            check_volume(volume_type, size, ebs.get("Iops"), ebs.get("Throughput"))
            volume = self.new_volume(
                ctx.account_id, ctx.region, zone, size=size, volume_type=volume_type, iops=ebs.get("Iops"),
                throughput=ebs.get("Throughput"), snapshot_id=ebs.get("SnapshotId") or "",
                encrypted=bool(ebs.get("Encrypted")), kms_key=ebs.get("KmsKeyId"), state="in-use",
            )  # fmt: skip
            self._attach(volume, instance, device, bool(ebs.get("DeleteOnTermination", True)))
            self.service.net.tag(volume, tags)
            described.append(self._mapping(volume, instance.id))
        return described

    def _attach(self, volume: Resource, instance: Resource, device: str, delete_on_termination: bool) -> None:
        volume.body["Attachments"].append({
            "DeleteOnTermination": delete_on_termination,
            "VolumeId": volume.id,
            "InstanceId": instance.id,
            "Device": device,
            "State": "attached",
            "AttachTime": round(self.service.clock.now(), 3),
        })  # fmt: skip
        volume.body["State"] = "in-use"
        volume.parent_id = instance.id
        self.service.store.save(volume)

    def _mapping(self, volume: Resource, instance_id: str) -> dict[str, Any]:
        attachment = next(a for a in volume.body["Attachments"] if a["InstanceId"] == instance_id)
        return {
            "DeviceName": attachment["Device"],
            "Ebs": {
                "AttachTime": attachment["AttachTime"],
                "DeleteOnTermination": attachment["DeleteOnTermination"],
                "Status": attachment["State"],
                "VolumeId": volume.id,
            },
        }

    def attached_to(self, instance: Resource) -> list[Resource]:
        return self.service.store.children(instance.id, kinds.VOLUME.name) + [
            v for v in self._multi_attached(instance) if v.parent_id != instance.id
        ]

    def _multi_attached(self, instance: Resource) -> list[Resource]:
        return []  # a multi-attach volume's first instance is its parent; others list it in their mappings

    def root_of(self, instance: Resource) -> Resource | None:
        for mapping in instance.body["BlockDeviceMappings"]:
            if mapping["DeviceName"] == instance.body["RootDeviceName"]:
                return self.service.store.get(mapping["Ebs"]["VolumeId"])
        return None

    def release_instance(self, instance: Resource) -> None:
        for mapping in instance.body["BlockDeviceMappings"]:
            volume = self.service.store.get(mapping["Ebs"]["VolumeId"])
            if volume is None:
                continue
            attachment = next((a for a in volume.body["Attachments"] if a["InstanceId"] == instance.id), None)
            self._detach(volume, instance.id)
            if attachment and attachment["DeleteOnTermination"]:
                self.service.net.forget(volume)

    def set_delete_on_termination(self, instance: Resource, mapping: dict[str, Any]) -> None:
        for entry in instance.body["BlockDeviceMappings"]:
            if entry["DeviceName"] == mapping.get("DeviceName"):
                value = bool((mapping.get("Ebs") or {}).get("DeleteOnTermination"))
                entry["Ebs"]["DeleteOnTermination"] = value
                volume = self.service.store.get(entry["Ebs"]["VolumeId"])
                if volume is not None:
                    for attachment in volume.body["Attachments"]:
                        if attachment["InstanceId"] == instance.id:
                            attachment["DeleteOnTermination"] = value
                    self.service.store.save(volume)
                return
        raise invalid(f"The device '{mapping.get('DeviceName')}' is not attached to instance '{instance.id}'")

    def _detach(self, volume: Resource, instance_id: str) -> None:
        volume.body["Attachments"] = [a for a in volume.body["Attachments"] if a["InstanceId"] != instance_id]
        if not volume.body["Attachments"]:
            volume.body["State"] = "available"
            volume.parent_id = None
        self.service.store.save(volume)

    # -- encryption by default -------------------------------------------------------------------------

    def encryption_by_default(self, account: str, region: str) -> bool:
        return bool(self.service.store.named(account, region, "ebs-encryption-default", "on"))

    def enable_ebs_encryption_by_default(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        if not self.encryption_by_default(ctx.account_id, ctx.region):
            self.service.store.insert(Resource(new_id("ebsdefault"), ctx.account_id, ctx.region,
                                               "ebs-encryption-default", {}, name="on"))  # fmt: skip
        return {"EbsEncryptionByDefault": True}

    def disable_ebs_encryption_by_default(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        for row in self.service.store.named(ctx.account_id, ctx.region, "ebs-encryption-default", "on"):
            self.service.store.delete(row.id)
        return {"EbsEncryptionByDefault": False}

    def get_ebs_encryption_by_default(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return {"EbsEncryptionByDefault": self.encryption_by_default(ctx.account_id, ctx.region),
                "SseType": "sse-ebs"}  # fmt: skip

    # -- the volume API --------------------------------------------------------------------------------

    def create_volume(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        zone = params.get("AvailabilityZone") or params.get("AvailabilityZoneId")
        found = zones.zone(ctx.region, zone or "")
        if found is None:
            raise invalid(f"Value ({zone}) for parameter availabilityZone is invalid. Subnets can currently only "
                          f"be created in the following availability zones: "
                          f"{', '.join(z.name for z in zones.zones(ctx.region))}.")  # fmt: skip
        size = params.get("Size")
        snapshot = None
        if params.get("SnapshotId"):
            snapshot = self.service.net.require(ctx, kinds.SNAPSHOT, params["SnapshotId"])
            size = size or snapshot.body["VolumeSize"]
            if size < snapshot.body["VolumeSize"]:
                raise invalid(f"Volume of size {size}GB is smaller than snapshot '{snapshot.id}', expect size >= "
                              f"{snapshot.body['VolumeSize']}GB")  # fmt: skip
        if size is None:
            raise missing("size")
        volume_type = params.get("VolumeType") or "gp2"
        check_volume(volume_type, size, params.get("Iops"), params.get("Throughput"))
        multi = bool(params.get("MultiAttachEnabled"))
        if multi and not RULES[volume_type].multi_attach:
            raise invalid(f"The volume type '{volume_type}' does not support Multi-Attach.")
        volume = self.new_volume(
            ctx.account_id, ctx.region, found.name, size=size, volume_type=volume_type, iops=params.get("Iops"),
            throughput=params.get("Throughput"), snapshot_id=params.get("SnapshotId") or "",
            encrypted=bool(params.get("Encrypted")) or bool(snapshot and snapshot.body["Encrypted"]),
            kms_key=params.get("KmsKeyId"), multi_attach=multi,
        )  # fmt: skip
        self.service.net.tag(volume, tag_specifications(params, "volume"))
        return self.service.net.render(volume)

    def describe_volumes(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self.service.net.describe(
            ctx, params, kinds.VOLUME, params.get("VolumeIds"), FILTERS, "Volumes"
        )

    def delete_volume(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        volume = self.service.net.require(ctx, kinds.VOLUME, params["VolumeId"])
        if volume.body["Attachments"]:
            raise ServiceError("VolumeInUse", f"Volume {volume.id} is currently attached to "
                               f"{volume.body['Attachments'][0]['InstanceId']}")  # fmt: skip
        self.service.net.forget(volume)
        return {}

    def attach_volume(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        net, store = self.service.net, self.service.store
        volume = net.require(ctx, kinds.VOLUME, params["VolumeId"])
        instance = net.require(ctx, kinds.INSTANCE, params["InstanceId"])
        device = params["Device"]
        if volume.body["AvailabilityZone"] != instance.body["Placement"]["AvailabilityZone"]:
            raise ServiceError("InvalidVolume.ZoneMismatch", f"The volume '{volume.id}' is not in the same "
                               f"availability zone as instance '{instance.id}'")  # fmt: skip
        if instance.body["State"]["Name"] not in ("running", "stopped"):
            raise incorrect_state(f"Instance '{instance.id}' is not 'running'.")
        if volume.body["State"] == "creating":
            raise ServiceError("IncorrectState", f"vol '{volume.id}' is not 'available'.")
        if volume.body["Attachments"] and not volume.body["MultiAttachEnabled"]:
            raise ServiceError("VolumeInUse", f"{volume.id} is already attached to an instance")
        if any(a["InstanceId"] == instance.id for a in volume.body["Attachments"]):
            raise ServiceError("VolumeInUse", f"{volume.id} is already attached to an instance")
        if any(m["DeviceName"] == device for m in instance.body["BlockDeviceMappings"]):
            raise invalid(
                f"Invalid value '{device}' for unixDevice. Attachment point {device} is already in use"
            )
        self._attach(volume, instance, device, False)
        instance.body["BlockDeviceMappings"].append(self._mapping(volume, instance.id))
        store.save(instance)
        attachment = next(a for a in volume.body["Attachments"] if a["InstanceId"] == instance.id)
        return {**attachment, "State": "attaching"}

    def detach_volume(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        net, store = self.service.net, self.service.store
        volume = net.require(ctx, kinds.VOLUME, params["VolumeId"])
        attachments = volume.body["Attachments"]
        if params.get("InstanceId"):
            attachments = [a for a in attachments if a["InstanceId"] == params["InstanceId"]]
        if not attachments:
            raise ServiceError("IncorrectState", f"Volume '{volume.id}' is in the 'available' state.")
        attachment = attachments[0]
        instance = store.get(attachment["InstanceId"])
        if instance is not None:
            if attachment["Device"] == instance.body["RootDeviceName"] and instance.body["State"]["Name"] != "stopped" \
                    and not params.get("Force"):  # fmt: skip
                raise ServiceError("OperationNotPermitted", f"Unable to detach root volume '{volume.id}' from "
                                   f"instance '{instance.id}'")  # fmt: skip
            instance.body["BlockDeviceMappings"] = [
                m for m in instance.body["BlockDeviceMappings"] if m["Ebs"]["VolumeId"] != volume.id
            ]
            store.save(instance)
        self._detach(volume, attachment["InstanceId"])
        return {**attachment, "State": "detaching"}

    def modify_volume(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        volume = self.service.net.require(ctx, kinds.VOLUME, params["VolumeId"])
        body = volume.body
        size = params.get("Size") or body["Size"]
        volume_type = params.get("VolumeType") or body["VolumeType"]
        if size < body["Size"]:
            raise invalid(f"New size cannot be smaller than existing size ({body['Size']} GiB)")
        iops = params.get("Iops") or (body.get("Iops") if volume_type in ("gp3", "io1", "io2") else None)
        throughput = params.get("Throughput") or (body.get("Throughput") if volume_type == "gp3" else None)
        check_volume(volume_type, size, iops, throughput)
        modification = {
            "VolumeId": volume.id, "ModificationState": "modifying", "TargetSize": size,
            "TargetVolumeType": volume_type, "OriginalSize": body["Size"], "OriginalVolumeType": body["VolumeType"],
            "TargetMultiAttachEnabled": body["MultiAttachEnabled"],
            "OriginalMultiAttachEnabled": body["MultiAttachEnabled"], "Progress": 0,
            "StartTime": round(self.service.clock.now(), 3),
        }  # fmt: skip
        if body.get("Iops") is not None:
            modification["OriginalIops"] = body["Iops"]
        if body.get("Throughput") is not None:
            modification["OriginalThroughput"] = body["Throughput"]
        body.update(Size=size, VolumeType=volume_type)
        new_iops = _iops_of(volume_type, size, iops)
        body.pop("Iops", None), body.pop("Throughput", None)
        if new_iops is not None:
            body["Iops"] = modification["TargetIops"] = new_iops
        if volume_type == "gp3":
            body["Throughput"] = modification["TargetThroughput"] = throughput or 125
        body["_modification"] = modification
        self.service.store.save(volume)
        self.service.schedule(volume.id, "volume-optimized", CREATE_TIME)
        return {"VolumeModification": modification}

    def describe_volumes_modifications(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        found = []
        for volume in self.service.net.require_all(ctx, kinds.VOLUME, params.get("VolumeIds") or []) if params.get(
                "VolumeIds") else self.service.store.page(ctx.account_id, ctx.region, kinds.VOLUME.name, 0, 100_000):  # fmt: skip
            if volume.body.get("_modification"):
                found.append(volume.body["_modification"])
        return {"VolumesModifications": found}

    # -- snapshots -------------------------------------------------------------------------------------

    def create_snapshot(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        volume = self.service.net.require(ctx, kinds.VOLUME, params["VolumeId"])
        snapshot = self.new_snapshot(volume, params.get("Description") or "")
        self.service.net.tag(snapshot, tag_specifications(params, "snapshot"))
        return self.service.net.render(snapshot)

    def new_snapshot(self, volume: Resource, description: str) -> Resource:
        snapshot_id = new_id("snap")
        body: dict[str, Any] = {
            "OwnerId": volume.account,
            "StorageTier": "standard",
            "SnapshotId": snapshot_id,
            "VolumeId": volume.id,
            "State": "pending",
            "StartTime": round(self.service.clock.now(), 3),
            "Progress": "",
            "Description": description,
            "VolumeSize": volume.body["Size"],
            "Encrypted": volume.body["Encrypted"],
        }
        if volume.body.get("KmsKeyId"):
            body["KmsKeyId"] = volume.body["KmsKeyId"]
        snapshot = self.service.store.insert(
            Resource(
                snapshot_id, volume.account, volume.region, kinds.SNAPSHOT.name, body, parent_id=volume.id
            )
        )
        self.service.schedule(snapshot_id, "snapshot-completed", CREATE_TIME)
        return snapshot

    def copy_snapshot(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        """A copy in this region of a snapshot of the account's in another (or the same) region."""
        source_id, source_region = params["SourceSnapshotId"], params["SourceRegion"]
        found = self.service.store.get(source_id)
        if found is None or found.kind != kinds.SNAPSHOT.name or found.region != source_region or \
                found.account != ctx.account_id:  # fmt: skip
            raise kinds.SNAPSHOT.not_found([source_id])
        if found.body["State"] != "completed":
            raise ServiceError("IncorrectState", f"Snapshot is in invalid state - {found.body['State']}")
        snapshot_id = new_id("snap")
        encrypted = bool(params.get("Encrypted")) or found.body["Encrypted"]
        body = {
            **found.body,
            "SnapshotId": snapshot_id,
            "State": "pending",
            "Progress": "",
            "StartTime": round(self.service.clock.now(), 3),
            "Description": params.get("Description") or f"[Copied {source_id} from {source_region}]",
            "Encrypted": encrypted,
            "VolumeId": "vol-ffffffff",  # AWS's placeholder: a copy comes from no volume of this region
        }
        if encrypted:
            body["KmsKeyId"] = (
                params.get("KmsKeyId") or f"arn:aws:kms:{ctx.region}:{ctx.account_id}:{DEFAULT_KMS_KEY}"
            )
        snapshot = self.service.store.insert(Resource(snapshot_id, ctx.account_id, ctx.region, kinds.SNAPSHOT.name,
                                                      body))  # fmt: skip
        self.service.net.tag(snapshot, tag_specifications(params, "snapshot"))
        self.service.schedule(snapshot_id, "snapshot-completed", CREATE_TIME)
        return {"SnapshotId": snapshot_id, "Tags": []}

    def describe_snapshots(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        owners = params.get("OwnerIds") or []
        if owners and not ({"self", ctx.account_id} & set(owners)):
            return {"Snapshots": []}
        return self.service.net.describe(ctx, params, kinds.SNAPSHOT, params.get("SnapshotIds"), SNAPSHOT_FILTERS,
                                         "Snapshots")  # fmt: skip

    def delete_snapshot(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        snapshot = self.service.net.require(ctx, kinds.SNAPSHOT, params["SnapshotId"])
        for image in self.service.store.page(ctx.account_id, ctx.region, kinds.IMAGE.name, 0, 100_000):
            if any(
                (m.get("Ebs") or {}).get("SnapshotId") == snapshot.id
                for m in image.body["BlockDeviceMappings"]
            ):
                raise ServiceError("InvalidSnapshot.InUse", f"The snapshot {snapshot.id} is currently in use by "
                                   f"{image.id}")  # fmt: skip
        self.service.net.forget(snapshot)
        return {}
