"""SQLite connections and transactions.

Every connection runs in WAL mode with a busy timeout and foreign keys on, and is in
autocommit mode so that transactions are explicit: `write(conn)` is `BEGIN IMMEDIATE` (the
write lock is taken up front, so a read-then-write inside it cannot race another writer) and
`read(conn)` is one consistent snapshot.

Writers take turns. SQLite alone makes a writer that finds the lock taken sleep and retry
with a growing back-off while newcomers overtake it; under 50 busy processes some writers
starved for seconds. So before `BEGIN IMMEDIATE` a writer queues on a kernel file lock beside
the database (`<file>-writer`), which hands the turn to a waiter as soon as it is released.
The turn lasts one short transaction, and a process that dies releases it with its files.
Where `fcntl` does not exist, SQLite's busy timeout is the only queue.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from billing.errors import BillingError

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

BUSY_TIMEOUT_SECONDS = 5  # a writer waits up to 5 s for the lock (busy_timeout = 5000 ms)


class Connection(sqlite3.Connection):
    """A connection to a billing database file; `writer_queue` is where its writers line up."""

    writer_queue: Path | None = None


def connect(path: str | Path, *, create: bool = False) -> sqlite3.Connection:
    """Open the database file; without `create`, a missing file is an error, not a new database."""
    path = Path(path)
    if not create and not path.is_file():
        raise BillingError(
            f"no billing database at {path}; create it with `cogni-billing --db {path} init`"
        )
    try:
        conn = sqlite3.connect(
            path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None, factory=Connection
        )
        conn.writer_queue = path.with_name(path.name + "-writer")
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA foreign_keys = ON")
        with _writer_turn(conn):  # switching a new file to WAL needs it to itself
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    except sqlite3.DatabaseError as e:
        raise BillingError(f"cannot open billing database {path}: {e}") from None
    if mode != "wal":
        conn.close()
        raise BillingError(f"{path}: could not switch the database to WAL mode (got {mode!r})")
    return conn


@contextmanager
def write(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write transaction: all of its statements commit together or none do."""
    with _writer_turn(conn):
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise


@contextmanager
def _writer_turn(conn: sqlite3.Connection) -> Iterator[None]:
    if conn.in_transaction:  # waiting for a turn while holding one would wait forever
        raise RuntimeError("db.write cannot start inside an open transaction")
    queue = getattr(conn, "writer_queue", None)
    if queue is None or fcntl is None:
        yield
        return
    fd = os.open(queue, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # ends the turn


@contextmanager
def read(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One read transaction: every query inside sees the same snapshot."""
    conn.execute("BEGIN")
    try:
        yield conn
    finally:
        if conn.in_transaction:
            conn.execute("COMMIT")


def require_transaction(conn: sqlite3.Connection) -> None:
    if not conn.in_transaction:
        raise RuntimeError("this write must run inside db.write(conn)")
