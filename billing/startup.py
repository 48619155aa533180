"""Opening the service's database: connect, migrate or verify the schema, find the system tenant.

Every entry point goes through `open_database`, so a missing schema, an outdated one or a
missing system tenant stops the service before it serves anything, with one clear message.
On PostgreSQL it also refuses to serve as the database's owner or a superuser: those run
`init`; the service connects as `billing_app`, which can act only through the serving roles.
"""

from __future__ import annotations

from pathlib import Path

from billing import db, env, migrations, revenue_rules
from billing.accounts import ServiceAccounts
from billing.errors import BillingError


def open_database(target: str | Path, *, initialise: bool = False,
                  lock_timeout: float = db.LOCK_TIMEOUT_SECONDS,
                  revenue_share: env.RevenueShare | None = None) -> db.Connection:
    """A ready connection; with `initialise`, create the database, run pending migrations and
    seed the first revenue rule (`revenue_share`, default 0.75) if there is none yet.
    `target` is an SQLite file or a `postgresql://` URL."""
    conn = db.connect(target, create=initialise, lock_timeout=lock_timeout)
    try:
        if initialise:
            migrations.apply(conn)
            revenue_rules.seed(conn, revenue_share or env.parse_revenue_share(
                env.DEFAULT_REVENUE_SHARE))
        elif conn.kind == db.POSTGRESQL:
            _refuse_owner(conn)
        migrations.require_current(conn)
        ServiceAccounts(conn).system_tenant()
    except BaseException:
        conn.close()
        raise
    return conn


def _refuse_owner(conn: db.Connection) -> None:
    row = conn.execute(
        "SELECT current_user, rolsuper, EXISTS (SELECT 1 FROM pg_tables WHERE tablename ="
        " 'credit_ledger' AND tableowner = current_user) FROM pg_roles WHERE rolname = current_user"
    ).fetchone()
    if row[1] or row[2]:
        raise BillingError(
            f"connected as {row[0]!r}, which owns the billing database or is a superuser; that"
            " role only runs `init`: serve as billing_app (see billing/README.md)"
        )
