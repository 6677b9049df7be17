"""Durable state: SQLite records, blob files, and the virtual clock."""

from overcast.state.blobs import BlobStore
from overcast.state.clock import Clock
from overcast.state.database import Database

__all__ = ["BlobStore", "Clock", "Database"]
