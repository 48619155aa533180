"""Raw SQL that tried to rewrite history, and amounts at the edge: each refused by the database.

`INSERT OR REPLACE` deletes the row it collides with without firing SQLite's delete triggers,
so a plain connection once rewrote a ledger row, replaced the system tenant and turned a
payment's purpose around. Each attack here runs on a plain `sqlite3` connection, as an
attacker's would (recursive triggers off), and on PostgreSQL as its upsert.
"""

from __future__ import annotations

import json
import sqlite3

import pytest

from billing import db, ledger, lots, payments, reasons, startup
from billing.accounts import ServiceAccounts, UserAccounts
from billing.env import RevenueShare
from billing_fixtures import (  # noqa: F401 (pytest fixtures)
    cli, conn, database, fund, new_database, owner, pay, rows, verified)

SHARE = RevenueShare(3, 4)


@pytest.fixture
def sqlite_path(tmp_path):
    return new_database(db.SQLITE, tmp_path).url


def raw(path: str, sql: str, params: tuple = ()) -> None:
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute(sql, params)
    finally:
        connection.close()


def test_replace_cannot_rewrite_a_ledger_row(sqlite_path, fund):
    conn = startup.open_database(sqlite_path)
    alice = fund(conn, "alice", 100)
    held = lots.reserve(conn, alice, 500)
    lots.finalize(conn, held.id, 400)
    (usage_id,) = rows(conn, "SELECT id FROM credit_ledger WHERE amount = -400")[0]
    with pytest.raises(sqlite3.IntegrityError, match="ledger rows are never replaced"):
        raw(sqlite_path, "INSERT OR REPLACE INTO credit_ledger (id, billing_account_id, amount,"
            " balance_after, reason, reference, created_at) VALUES (?, ?, -1, 999, ?, ?, 0)",
            (usage_id, alice.id, reasons.USAGE_CHARGE, held.id))
    assert rows(conn, "SELECT amount FROM credit_ledger WHERE id = ?", (usage_id,)) == [(-400,)]


def test_replace_cannot_displace_the_system_tenant(sqlite_path):
    with pytest.raises(sqlite3.IntegrityError, match="exactly one system tenant, never replaced"):
        raw(sqlite_path, "INSERT OR REPLACE INTO billing_accounts (id, owner_user_id,"
            " is_system_tenant, created_at, updated_at) VALUES ('impostor', 'mallory', 1, 0, 0)")
    conn = startup.open_database(sqlite_path)
    alice = UserAccounts(conn, "alice").open()
    settled = pay(conn, alice, 100)
    assert [e.billing_account_id for e in settled.entries] == [alice.id, "cogni_system"]
    assert ServiceAccounts(conn).system_tenant().id == "cogni_system"


def test_replace_cannot_turn_a_payments_purpose_or_amount(sqlite_path):
    conn = startup.open_database(sqlite_path)
    alice = UserAccounts(conn, "alice").open()
    attempt = payments.create_intent(conn, alice, 100)
    with pytest.raises(sqlite3.IntegrityError, match="payment attempts are never replaced"):
        raw(sqlite_path, "INSERT OR REPLACE INTO payment_attempts (id, billing_account_id,"
            " purpose, amount_cents, status, created_at) VALUES (?, ?, 'system', 1000,"
            " 'created', 0)", (attempt.id, alice.id))
    assert payments.get(conn, attempt.id) == attempt
    minted = payments.settle(conn, verified(conn, attempt).id).entries
    assert [(e.reason, e.amount) for e in minted] == [
        (reasons.CREDITS_PURCHASE, 1000), (reasons.PLATFORM_REVENUE_SHARE, 750)]


@pytest.mark.parametrize("table, sql", [
    pytest.param("credit_lots", "INSERT OR REPLACE INTO credit_lots (id, billing_account_id,"
                 " ledger_entry_id, original_credits, available_credits, reserved_credits,"
                 " consumed_credits, created_at) SELECT id, billing_account_id,"
                 " ledger_entry_id, original_credits, original_credits, 0, 0, created_at"
                 " FROM credit_lots", id="lot-refilled"),
    pytest.param("credit_reservations", "INSERT OR REPLACE INTO credit_reservations (id,"
                 " billing_account_id, pool_id, credits, created_at, expires_at)"
                 " SELECT id, billing_account_id, pool_id, credits, created_at, expires_at"
                 " FROM credit_reservations", id="reservation-reopened"),
    pytest.param("billing_accounts", "INSERT OR REPLACE INTO billing_accounts (id,"
                 " owner_user_id, created_at, updated_at) SELECT id, owner_user_id, 0, 0"
                 " FROM billing_accounts WHERE is_system_tenant = 0", id="account-zeroed"),
])
def test_replace_changes_no_other_row_either(sqlite_path, fund, table, sql):
    conn = startup.open_database(sqlite_path)
    alice = fund(conn, "alice", 100)
    lots.finalize(conn, lots.reserve(conn, alice, 500).id, 400)
    before = rows(conn, f"SELECT * FROM {table} ORDER BY 1")
    try:
        raw(sqlite_path, sql)
    except sqlite3.IntegrityError as e:
        assert "never replaced" in str(e)
    assert rows(conn, f"SELECT * FROM {table} ORDER BY 1") == before


def test_an_upsert_cannot_turn_a_payments_purpose(conn, owner):
    alice = UserAccounts(conn, "alice").open()
    attempt = payments.create_intent(conn, alice, 100)
    with pytest.raises(db.IntegrityError, match="write-once|never replaced"):
        owner.execute("INSERT INTO payment_attempts (id, billing_account_id, amount_cents,"
                      " created_at) VALUES (?, ?, 100, 0) ON CONFLICT (id) DO UPDATE"
                      " SET purpose = 'system'", (attempt.id, alice.id))
    assert payments.get(conn, attempt.id).purpose == "self"


@pytest.mark.parametrize("reason, account, reference, credits", [
    pytest.param(reasons.CREDITS_PURCHASE, "alice", "made-up", 1000, id="no-attempt"),
    pytest.param(reasons.CREDITS_PURCHASE, "alice", "bob's", 1000, id="another-users-attempt"),
    pytest.param(reasons.CREDITS_PURCHASE, "alice", "alice's", 5000, id="more-than-paid"),
    pytest.param(reasons.PLATFORM_REVENUE_SHARE, "alice", "alice's", 750, id="bonus-to-a-user"),
    pytest.param(reasons.SYSTEM_DONATION, "cogni_system", "alice's", 1000,
                 id="donation-of-a-self-payment"),
])
def test_a_payment_row_must_reference_the_attempt_that_pays_for_it(
    conn, reason, account, reference, credits
):
    alice, bob = UserAccounts(conn, "alice").open(), UserAccounts(conn, "bob").open()
    attempts = {"alice's": verified(conn, payments.create_intent(conn, alice, 100)).id,
                "bob's": verified(conn, payments.create_intent(conn, bob, 100)).id}
    accounts = {"alice": alice.id, "cogni_system": "cogni_system"}
    with pytest.raises(db.IntegrityError, match="references the attempt that pays for it"):
        with db.write(conn):
            ledger.credit_account(conn, accounts[account], credits, reason=reason,
                                  reference=attempts.get(reference, reference))
    assert rows(conn, "SELECT COUNT(*) FROM credit_ledger") == [(0,)]


def test_a_settle_that_would_overflow_a_balance_is_a_clear_error(cli, database, owner, fund):
    conn = startup.open_database(database.url)
    alice = fund(conn, "alice", 100)
    near_edge = 2**63 - 5
    owner.drop_trigger("billing_accounts_balance_from_ledger", "billing_accounts")
    owner.execute("UPDATE billing_accounts SET balance_credits = ? WHERE id = ?",
                  (near_edge, alice.id))
    attempt = verified(conn, payments.create_intent(conn, alice, 1))
    done = cli(database.url, "intent", "settle", attempt.id)
    assert (done.returncode, done.stdout, done.stderr) == (2, "", (
        f"cogni-billing: account {alice.id!r} would hold {near_edge + 10} credits, more than a"
        f" balance can hold ({2**63 - 1}); refusing the {reasons.CREDITS_PURCHASE} of 10\n"))
    shown = cli(database.url, "--json", "balance", "--user", "alice")
    assert f'"balance_credits": {near_edge}' in shown.stdout  # an integer, digit for digit
    assert json.loads(shown.stdout)["balance_usd_micro"] == near_edge * 1000
    assert payments.get(conn, attempt.id).status == "created"
