#!/usr/bin/env python3
"""The ceiling: the least a durable server must do for a request, on Overcast's own event loop and HTTP stack.

For every request it reads the body, commits one row of the body's size to SQLite in WAL mode (the same
`synchronous=NORMAL` durability Overcast acknowledges writes with), and answers a fixed 200. No routing, no
signature, no parsing, no service logic: what Overcast's figures are measured against (benchmarks/run.py reports
Overcast's ratio to it per cell).

    python benchmarks/ceiling.py --port 4599 --data-dir /tmp/ceiling
"""

from __future__ import annotations

import argparse
import sqlite3
from pathlib import Path

from overcast.server.http11 import Server
from overcast.server.streams import read_body

FIXED = b'{"ok": true}'


class Ceiling:
    def __init__(self, data_dir: Path) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(data_dir / "ceiling.db", isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("PRAGMA locking_mode=EXCLUSIVE")
        self.db.execute("CREATE TABLE IF NOT EXISTS rows (id INTEGER PRIMARY KEY, body BLOB)")

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                await send({"type": message["type"] + ".complete"})
                if message["type"] == "lifespan.shutdown":
                    return
        body = await read_body(receive)
        if scope["path"] != "/_ceiling/health":
            self.db.execute("BEGIN IMMEDIATE")
            self.db.execute("INSERT INTO rows (body) VALUES (?)", (body or b"x" * 64,))
            self.db.execute("COMMIT")
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(FIXED)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": FIXED})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--data-dir", type=Path, required=True)
    args = parser.parse_args()
    Server(Ceiling(args.data_dir), "127.0.0.1", args.port).run()


if __name__ == "__main__":
    main()
