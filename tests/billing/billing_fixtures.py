"""Fixtures for the billing service: real SQLite files under tmp_path, one connection each.

Test modules import the fixtures they use from here (a `conftest` module in this directory
would shadow the one the rest of the test suite imports helpers from).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import billing
from billing import db, ledger, payments, reasons, startup
from billing.accounts import Account, UserAccounts
from billing.env import RevenueShare

REPO_ROOT = str(Path(billing.__file__).resolve().parent.parent)
THREE_QUARTERS = RevenueShare(3, 4)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    path = tmp_path / "billing.db"
    startup.open_database(path, initialise=True).close()
    return path


@pytest.fixture
def conn(db_path: Path) -> Iterator:
    connection = startup.open_database(db_path)
    yield connection
    connection.close()


@pytest.fixture
def fund():
    """fund(conn, user, cents) -> the user's account after one settled `self` payment."""

    def fund(conn, user: str, cents: int) -> Account:
        account = UserAccounts(conn, user).open()
        attempt = payments.create_intent(conn, account, cents)
        payments.settle(conn, attempt.id, THREE_QUARTERS)
        return UserAccounts(conn, user).get()

    return fund


@pytest.fixture
def mint():
    """mint(conn, account, credits, **lot) -> a lot of a settled payment, with pool/expiry."""

    def mint(conn, account: Account, credits: int, *, pool=ledger.GENERAL_POOL, expires_at=None):
        cents = credits // 10
        attempt = payments.create_intent(conn, account, cents)
        with db.write(conn):
            entry = ledger.credit_account(
                conn, account.id, credits, reason=reasons.CREDITS_PURCHASE,
                reference=attempt.id, pool=pool, expires_at=expires_at,
            )
            conn.execute(
                "UPDATE payment_attempts SET status = ?, settled_at = ? WHERE id = ?",
                (payments.SETTLED, 1, attempt.id),
            )
        return conn.execute(
            "SELECT id FROM credit_lots WHERE ledger_entry_id = ?", (entry.id,)
        ).fetchone()[0]

    return mint


def cli_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "SYSTEM_TENANT_REVENUE_SHARE"}
    env["PYTHONPATH"] = REPO_ROOT + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra)
    return env


@pytest.fixture
def cli():
    """cli(db_path, *args, env=None) -> CompletedProcess of `python -m billing --db ... args`."""

    def run(path: Path, *args: str, env: dict[str, str] | None = None):
        return subprocess.run(
            [sys.executable, "-m", "billing", "--db", str(path), *args],
            capture_output=True, text=True, env=cli_env(**(env or {})), timeout=60,
        )

    return run
