"""The two ways a generation touches the disk: SQLite connections and fsync, shared by reader and writer."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path


def connect(path: Path, readonly: bool) -> sqlite3.Connection:
    """A writer's connection is in WAL mode (readers keep reading while it writes) and leaves transactions
    to the writer, which holds one from start to commit."""
    uri = f"file:{path}?mode=ro" if readonly else f"file:{path}"
    connection = sqlite3.connect(uri, uri=True, check_same_thread=False, isolation_level=None)
    connection.row_factory = sqlite3.Row
    if not readonly:
        connection.execute("PRAGMA journal_mode = WAL")
    return connection



def fsync_file(path: Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def fsync_dir(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)

