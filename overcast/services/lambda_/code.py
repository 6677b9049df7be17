"""Deployment packages: zips stored once as blobs, unpacked once per content into the data directory."""

from __future__ import annotations

import base64
import hashlib
import io
import os
import shutil
import stat
import tempfile
import threading
import zipfile
from pathlib import Path

from overcast.errors import ServiceError

MAX_DIRECT_ZIP = 50 * 1024 * 1024  # bytes of a zip uploaded in the request
MAX_DIRECT_REQUEST = 69905067  # the request AWS accepts with it (the zip in base64), as its error quotes
MAX_UNZIPPED = 250 * 1024 * 1024  # bytes of a function and its layers, unzipped


def digests(data: bytes) -> tuple[str, str]:
    """(hex sha256 for storage keys, base64 sha256 as CodeSha256)."""
    digest = hashlib.sha256(data).digest()
    return digest.hex(), base64.b64encode(digest).decode()


def check_zip(data: bytes) -> int:
    """Validate a deployment package; returns its unzipped size."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            size = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError) as error:
        raise ServiceError(
            "InvalidParameterValueException",
            "Could not unzip uploaded file. Please check your file, then try to upload again.",
        ) from error
    if size > MAX_UNZIPPED:
        raise ServiceError(
            "InvalidParameterValueException",
            f"Unzipped size must be smaller than {MAX_UNZIPPED} bytes",
        )
    return size


_UNPACKING = threading.Lock()


def unpacked(root: Path, sha: str, zip_path: Path) -> Path:
    """The directory holding the package's files, extracted on first use (idempotent, crash-safe).

    Cold starts of several environments call this from worker threads at once: one lock lets the first
    extract while the others wait for its result, and each extraction has a directory of its own."""
    target = root / sha
    if target.is_dir():
        return target
    with _UNPACKING:
        if target.is_dir():
            return target
        root.mkdir(parents=True, exist_ok=True)
        partial = Path(tempfile.mkdtemp(prefix=f".{sha}.", suffix=".partial", dir=root))
        try:
            with zipfile.ZipFile(zip_path) as archive:
                for info in archive.infolist():
                    extracted = Path(archive.extract(info, partial))
                    mode = (info.external_attr >> 16) & 0o777
                    if mode and not info.is_dir():
                        extracted.chmod(mode | stat.S_IRUSR)
                    elif not info.is_dir():
                        extracted.chmod(0o755 if info.filename.endswith("bootstrap") else 0o644)
            os.replace(partial, target)
        finally:
            shutil.rmtree(partial, ignore_errors=True)  # gone already when the rename succeeded
    return target
    partial = root / f".{sha}.{os.getpid()}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    with zipfile.ZipFile(zip_path) as archive:
        for info in archive.infolist():
            extracted = Path(archive.extract(info, partial))
            mode = (info.external_attr >> 16) & 0o777
            if mode and not info.is_dir():
                extracted.chmod(mode | stat.S_IRUSR)
            elif not info.is_dir():
                extracted.chmod(0o755 if info.filename.endswith("bootstrap") else 0o644)
    try:
        os.replace(partial, target)
    except OSError:  # another worker unpacked it first
        shutil.rmtree(partial, ignore_errors=True)
    return target
