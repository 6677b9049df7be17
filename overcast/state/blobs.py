"""Large payloads (S3 objects, Lambda code) as files, never in memory and never half-visible.

A blob is streamed to a temporary file, renamed to its final name, and only then is the record that points
to it committed (with its row in `blobs`). After a crash, a file without a row was never acknowledged: the
start-up sweep removes it. Deleting a blob removes its row in the transaction and the file after commit.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from overcast.state.database import Database

CHUNK = 1 << 20

MIGRATIONS = ["CREATE TABLE blobs (id TEXT PRIMARY KEY, size INTEGER NOT NULL)"]


@dataclass
class PendingBlob:
    """A blob written and renamed into place, waiting for `BlobStore.commit` inside a transaction."""

    id: str
    path: Path
    size: int


class BlobStore:
    def __init__(self, root: Path, db: Database) -> None:
        self.root = root
        self.db = db
        self.tmp = root / "tmp"
        self.tmp.mkdir(parents=True, exist_ok=True)
        db.migrate("blobs", MIGRATIONS)

    def path(self, blob_id: str) -> Path:
        return self.root / blob_id[:2] / blob_id

    async def write(self, chunks: AsyncIterator[bytes], hashers: Iterable[Any] = ()) -> PendingBlob:
        """Stream `chunks` to disk, feeding each to every hasher (hashlib-like `update`)."""
        hashers = list(hashers)
        blob_id = uuid.uuid4().hex
        tmp = self.tmp / blob_id
        size = 0
        try:
            with open(tmp, "wb") as out:
                async for chunk in chunks:
                    out.write(chunk)
                    size += len(chunk)
                    for hasher in hashers:
                        hasher.update(chunk)
            return self._place(blob_id, tmp, size)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    def write_bytes(self, data: bytes) -> PendingBlob:
        blob_id = uuid.uuid4().hex
        tmp = self.tmp / blob_id
        tmp.write_bytes(data)
        return self._place(blob_id, tmp, len(data))

    def copy(self, blob_id: str) -> PendingBlob:
        """A new blob with the same content (CopyObject): a hard link where the filesystem allows."""
        new_id = uuid.uuid4().hex
        tmp = self.tmp / new_id
        try:
            os.link(self.path(blob_id), tmp)
        except OSError:
            shutil.copyfile(self.path(blob_id), tmp)
        return self._place(new_id, tmp, tmp.stat().st_size)

    def _place(self, blob_id: str, tmp: Path, size: int) -> PendingBlob:
        final = self.path(blob_id)
        final.parent.mkdir(exist_ok=True)
        os.replace(tmp, final)
        return PendingBlob(blob_id, final, size)

    def commit(self, blob: PendingBlob) -> str:
        """Record the blob; call inside the transaction that stores the record pointing to it."""
        self.db.execute("INSERT INTO blobs (id, size) VALUES (?, ?)", (blob.id, blob.size))
        return blob.id

    def discard(self, blob: PendingBlob) -> None:
        """A written blob that will not be committed (a failed precondition, a checksum mismatch)."""
        blob.path.unlink(missing_ok=True)

    def delete(self, blob_id: str) -> None:
        """Inside a transaction: forget the blob; its file goes once the transaction commits."""
        self.db.execute("DELETE FROM blobs WHERE id = ?", (blob_id,))
        path = self.path(blob_id)
        self.db.after_commit(lambda: path.unlink(missing_ok=True))

    async def read(self, blob_id: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        """Bytes [start, end) of a blob, a chunk at a time."""
        with open(self.path(blob_id), "rb") as f:
            f.seek(start)
            remaining = (end if end is not None else os.fstat(f.fileno()).st_size) - start
            while remaining > 0:
                chunk = f.read(min(CHUNK, remaining))
                if not chunk:
                    break
                remaining -= len(chunk)
                yield chunk

    def damaged(self) -> Iterator[tuple[str, str]]:
        """(blob id, what is wrong) for each committed blob whose file is missing or not its recorded size."""
        for blob_id, size in self.db.execute("SELECT id, size FROM blobs ORDER BY id"):
            path = self.path(blob_id)
            try:
                actual = path.stat().st_size
            except FileNotFoundError:
                yield blob_id, f"{path} is missing"
                continue
            if actual != size:
                yield blob_id, f"{path} holds {actual} bytes, its record {size}"

    def quarantine(self, blob_id: str, folder: Path) -> Path | None:
        """Move a damaged blob's file into `folder` (outside the blob tree, where the sweep leaves it)."""
        path = self.path(blob_id)
        if not path.exists():
            return None
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / blob_id
        os.replace(path, target)
        return target

    def sweep(self) -> int:
        """At start-up: remove temporary files and files that no committed record owns. Returns the count."""
        removed = 0
        for entry in self.tmp.iterdir():
            entry.unlink(missing_ok=True)
            removed += 1
        known = {blob_id for (blob_id,) in self.db.all("SELECT id FROM blobs")}
        for folder in self.root.iterdir():
            if folder == self.tmp or not folder.is_dir():
                continue
            for entry in folder.iterdir():
                if entry.name not in known:
                    entry.unlink(missing_ok=True)
                    removed += 1
        return removed
