"""AWS's public parameters, answered read-only: the latest AMIs (`/aws/service/ami-amazon-linux-latest/...`,
Ubuntu's and Windows' as EC2's public image catalogue names them, so the ids launch) and the global
infrastructure (`/aws/service/global-infrastructure/...`, from botocore's endpoint data). Pure logic."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import botocore

AMI_ROOT = "/aws/service/ami-amazon-linux-latest/"
INFRASTRUCTURE = "/aws/service/global-infrastructure/"
AMI_NAMES = (
    "al2023-ami-kernel-default-x86_64",
    "al2023-ami-kernel-default-arm64",
    "al2023-ami-kernel-6.1-x86_64",
    "al2023-ami-kernel-6.1-arm64",
    "al2023-ami-minimal-kernel-default-x86_64",
    "al2023-ami-minimal-kernel-default-arm64",
    "amzn2-ami-hvm-x86_64-gp2",
    "amzn2-ami-hvm-arm64-gp2",
    "amzn2-ami-hvm-x86_64-ebs",
    "amzn2-ami-kernel-5.10-hvm-x86_64-gp2",
    "amzn2-ami-kernel-5.10-hvm-arm64-gp2",
    "amzn2-ami-minimal-hvm-x86_64-ebs",
)
PUBLISHED = 1_700_000_000.0  # when the catalogue says the values were last modified


def is_public(name: str) -> bool:
    return name.startswith("/aws/service/")


def _amis(region: str) -> dict[str, str]:
    """{parameter name: AMI id}: EC2's own (public_image_parameters), and the other Amazon Linux names AWS
    publishes pointing at EC2's image of the same family and architecture."""
    from overcast.services.ec2 import api as ec2

    images = ec2.public_image_parameters(region)
    same = {
        ("al2023", "x86_64"): images.get(AMI_ROOT + "al2023-ami-kernel-default-x86_64"),
        ("al2023", "arm64"): images.get(AMI_ROOT + "al2023-ami-kernel-default-arm64"),
        ("amzn2", "x86_64"): images.get(AMI_ROOT + "amzn2-ami-kernel-5.10-hvm-x86_64-gp2"),
    }
    for name in AMI_NAMES:
        family = name.split("-", 1)[0]
        image = same.get((family, "arm64" if "arm64" in name else "x86_64"))
        if image and AMI_ROOT + name not in images:
            images[AMI_ROOT + name] = image
    return images


@cache
def _regions() -> dict[str, dict[str, str]]:
    data = json.loads((Path(botocore.__file__).parent / "data" / "endpoints.json").read_text())
    regions: dict[str, dict[str, str]] = {}
    for partition in data["partitions"]:
        for region, info in partition["regions"].items():
            regions[region] = {
                "longName": info.get("description", region),
                "partition": partition["partition"],
                "domain": partition.get("dnsSuffix", "amazonaws.com"),
            }
    return regions


@cache
def _services() -> tuple[str, ...]:
    data = json.loads((Path(botocore.__file__).parent / "data" / "endpoints.json").read_text())
    return tuple(sorted(data["partitions"][0]["services"]))


@cache
def catalogue(region: str) -> dict[str, tuple[str, str]]:
    """{name: (value, data type)} of every public parameter in a Region."""
    found: dict[str, tuple[str, str]] = {
        name: (image, "aws:ec2:image") for name, image in _amis(region).items()
    }
    for code, info in _regions().items():
        base = f"{INFRASTRUCTURE}regions/{code}"
        found[base] = (code, "text")
        for field, value in info.items():
            found[f"{base}/{field}"] = (value, "text")
    for service in _services():
        found[f"{INFRASTRUCTURE}services/{service}"] = (service, "text")
    return found


def lookup(region: str, name: str) -> tuple[str, str] | None:
    return catalogue(region).get(name)


def under(region: str, path: str, recursive: bool) -> list[tuple[str, str, str]]:
    """(name, value, data type) of the public parameters below `path`, sorted by name."""
    prefix = path.rstrip("/") + "/"
    rows = []
    for name, (value, data_type) in catalogue(region).items():
        if name.startswith(prefix) and (recursive or "/" not in name[len(prefix) :]):
            rows.append((name, value, data_type))
    return sorted(rows)
