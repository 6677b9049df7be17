"""A burst of writers against the store, each printing `ack <n>` once its write has committed.

Run by test_crash.py as a separate process, which it kills with SIGKILL in the middle of the burst.
"""

import asyncio
import hashlib
import sys
from pathlib import Path

from overcast.state import BlobStore, Database

SCHEMA = ["CREATE TABLE records (id INTEGER PRIMARY KEY, writer INTEGER, blob TEXT, digest TEXT)"]


def payload(n: int) -> bytes:
    return hashlib.sha256(str(n).encode()).digest() * (64 + n % 512)


async def writer(db: Database, blobs: BlobStore, number: int, writers: int) -> None:
    n = number
    while True:
        data = payload(n)

        async def chunks(data=data):
            for i in range(0, len(data), 4096):
                yield data[i : i + 4096]
                await asyncio.sleep(0)

        pending = await blobs.write(chunks())
        with db.transaction():
            blob_id = blobs.commit(pending)
            db.execute(
                "INSERT INTO records VALUES (?, ?, ?, ?)", (n, number, blob_id, hashlib.md5(data).hexdigest())
            )
        sys.stdout.write(f"ack {n}\n")
        sys.stdout.flush()
        n += writers


async def main(root: Path, writers: int) -> None:
    db = Database(root / "overcast.db")
    db.migrate("crash", SCHEMA)
    blobs = BlobStore(root / "blobs", db)
    print("ready", flush=True)
    await asyncio.gather(*(writer(db, blobs, i, writers) for i in range(writers)))


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), int(sys.argv[2])))
