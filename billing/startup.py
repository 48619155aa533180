"""Opening the service's database: connect, migrate or verify the schema, find the system tenant.

Every entry point goes through `open_database`, so a missing schema, an outdated one or a
missing system tenant stops the service before it serves anything, with one clear message.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from billing import db, migrations
from billing.accounts import ServiceAccounts


def open_database(path: str | Path, *, initialise: bool = False) -> sqlite3.Connection:
    """A ready connection; with `initialise`, create the file and run pending migrations first."""
    conn = db.connect(path, create=initialise)
    try:
        if initialise:
            migrations.apply(conn)
        migrations.require_current(conn)
        ServiceAccounts(conn).system_tenant()
    except BaseException:
        conn.close()
        raise
    return conn
