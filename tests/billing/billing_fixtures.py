"""Fixtures for the billing service: every test runs on both backends, for real.

`database` is a fresh, migrated database: an SQLite file under tmp_path, or a database on a
real PostgreSQL server (one per test session, `pg_server.py`), copied from a migrated template.
The service connects as it would at run time (`database.url`: the file, or `billing_app`);
`owner` is the database's owner, for damage no service code can do (dropping a trigger).

Test modules import the fixtures they use from here (a `conftest` module in this directory
would shadow the one the rest of the test suite imports helpers from).
"""

from __future__ import annotations

import atexit
import itertools
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import billing
from billing import db, ledger, payments, reasons, revenue_rules, startup
from billing.accounts import Account, ServiceAccounts, UserAccounts
from billing.env import RevenueShare
from chain_double import RAIL, Verifier, new_tx_hash, wallet_of
from pg_server import Server

REPO_ROOT = str(Path(billing.__file__).resolve().parent.parent)
THREE_QUARTERS = RevenueShare(3, 4)
BACKENDS = [db.SQLITE, db.POSTGRESQL]
TEMPLATE = "billing_template"


@dataclass(frozen=True)
class Database:
    kind: str
    url: str  # what the service opens at run time: the file, or a billing_app URL
    owner: str  # who runs `init` and may damage it: the file, or the superuser's URL


_server: Server | None = None
_names = itertools.count()


def postgres_server() -> Server:
    """The session's PostgreSQL server, started on first use and stopped at exit."""
    global _server
    if _server is None:
        _server = Server()
        atexit.register(_server.stop)
        urls = _server.database(TEMPLATE)
        startup.open_database(urls.owner, initialise=True).close()
    return _server


def new_database(kind: str, tmp_path: Path, *, migrated: bool = True) -> Database:
    if kind == db.SQLITE:
        path = tmp_path / f"billing-{next(_names)}.db"
        if migrated:
            startup.open_database(path, initialise=True).close()
        return Database(kind, str(path), str(path))
    server = postgres_server()
    urls = server.database(f"billing_{os.getpid()}_{next(_names)}",
                           template=TEMPLATE if migrated else None)
    return Database(kind, urls.app, urls.owner)


@pytest.fixture(params=BACKENDS)
def database(request, tmp_path: Path) -> Database:
    return new_database(request.param, tmp_path)


@pytest.fixture
def conn(database: Database) -> Iterator[db.Connection]:
    connection = startup.open_database(database.url)
    yield connection
    connection.close()


class Owner:
    """Raw SQL as the database's owner: damage done behind the service's back."""

    def __init__(self, database: Database) -> None:
        self.kind = database.kind
        self.conn = db.connect(database.owner)

    def execute(self, sql: str, params: tuple = ()) -> list[tuple]:
        cursor = self.conn.execute(sql, params)
        return [tuple(r) for r in cursor.fetchall()] if cursor.description else []

    def drop_trigger(self, name: str, table: str) -> None:
        on = f" ON {table}" if self.kind == db.POSTGRESQL else ""
        self.conn.execute(f"DROP TRIGGER {name}{on}")

    def drop_checks(self, table: str, *constraints: str) -> None:
        """Stop enforcing CHECK constraints: by name on PostgreSQL, all of them on SQLite."""
        if self.kind == db.SQLITE:
            self.conn.execute("PRAGMA ignore_check_constraints = ON")
        for name in constraints if self.kind == db.POSTGRESQL else ():
            self.conn.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")


@pytest.fixture
def owner(database: Database) -> Iterator[Owner]:
    tamper = Owner(database)
    yield tamper
    tamper.conn.close()


def rows(conn: db.Connection, sql: str, params: tuple = ()) -> list[tuple]:
    """Rows of a query, read in the service's scope (it sees every account)."""
    with db.read(conn):
        return [tuple(r) for r in conn.execute(sql, params).fetchall()]


def verified(conn: db.Connection, attempt: payments.Attempt,
             verifier: Verifier | None = None) -> payments.Attempt:
    """The attempt, once its (test) transaction is submitted and verified."""
    payer = next(a for a in ServiceAccounts(conn).all() if a.id == attempt.billing_account_id)
    payments.submit(conn, payer, attempt.id, new_tx_hash(), RAIL,
                    wallet=wallet_of(payer.owner_user_id))
    payments.verify(conn, attempt.id, verifier or Verifier(), RAIL)
    return attempt


def pay(conn: db.Connection, account: Account, cents: int, purpose: str = payments.SELF):
    """A settled payment of `cents` by the account: created, verified, settled."""
    attempt = verified(conn, payments.create_intent(conn, account, cents, purpose))
    return payments.settle(conn, attempt.id)


def use_share(conn: db.Connection, share: RevenueShare) -> None:
    """Make `share` the active revenue rule (an emergency override, for tests)."""
    rule = revenue_rules.propose(conn, f"share {share}", share, "test")
    revenue_rules.submit(conn, rule.id, "test")
    revenue_rules.approve(conn, rule.id, "test")
    revenue_rules.override_cooldown(conn, rule.id, "test", "a test needs this share")


@pytest.fixture
def fund():
    """fund(conn, user, cents) -> the user's account after one settled `self` payment."""

    def fund(conn, user: str, cents: int) -> Account:
        pay(conn, UserAccounts(conn, user).open(), cents)
        return UserAccounts(conn, user).get()

    return fund


@pytest.fixture
def mint():
    """mint(conn, account, credits, **lot) -> a lot of a settled payment, with pool/expiry."""

    def mint(conn, account: Account, credits: int, *, pool=ledger.GENERAL_POOL, expires_at=None):
        cents = credits // 10
        attempt = verified(conn, payments.create_intent(conn, account, cents))
        with db.write(conn):
            entry = ledger.credit_account(
                conn, account.id, credits, reason=reasons.CREDITS_PURCHASE,
                reference=attempt.id, pool=pool, expires_at=expires_at,
            )
            conn.execute(
                "UPDATE payment_attempts SET status = ?, settled_at = ? WHERE id = ?",
                (payments.SETTLED, 1, attempt.id),
            )
        return rows(conn, "SELECT id FROM credit_lots WHERE ledger_entry_id = ?", (entry.id,))[0][0]

    return mint


def cli_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("SYSTEM_TENANT_REVENUE_SHARE", "COGNI_BILLING_DB")}
    env["PYTHONPATH"] = REPO_ROOT + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra)
    return env


@pytest.fixture
def cli():
    """cli(target, *args, env=None) -> CompletedProcess of `python -m billing --db ... args`."""

    def run(target, *args: str, env: dict[str, str] | None = None):
        return subprocess.run(
            [sys.executable, "-m", "billing", "--db", str(target), *args],
            capture_output=True, text=True, env=cli_env(**(env or {})), timeout=60,
        )

    return run
