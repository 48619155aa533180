"""The schema: versioned migrations run once, and the constraints the database itself enforces."""

from __future__ import annotations

import os

import pytest

from billing import db, migrations, payments, reasons, startup, writer_queue
from billing.accounts import UserAccounts
from billing.errors import BillingError
import billing_workers
from billing_fixtures import (  # noqa: F401 (pytest fixtures)
    BACKENDS, conn, database, fund, new_database, owner, rows)

TABLES = [
    "api_sessions", "billing_accounts", "credit_debts", "credit_ledger", "credit_lots",
    "credit_reservations", "lot_charges", "payment_attempts", "payment_refunds",
    "payment_transactions", "reservation_lots", "revenue_rule_audit", "revenue_rules",
    "schema_migrations", "siwe_nonces",
]
MIGRATED = [
    (1, "billing accounts and the system tenant"),
    (2, "append-only credit ledger"),
    (3, "payment attempts"),
    (4, "credit lots and reservations"),
    (5, "payment references are attempts, rows are never replaced, tenancy"),
    (6, "verified payments, refunds and debts, revenue rules, sessions"),
    (7, "a closed reservation never changes"),
]


def check_failed(name: str = "") -> str:
    """The message of a failed CHECK constraint, in either backend's words."""
    return (f"(CHECK constraint failed: {name}|violates check constraint \"{name})"
            if name else "(CHECK constraint failed|violates check constraint)")


def test_init_creates_the_schema_and_records_each_migration_once(database, owner):
    tables = owner.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
        if owner.kind == db.POSTGRESQL else
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        " ORDER BY name")
    recorded = owner.execute("SELECT version, name FROM schema_migrations ORDER BY version")
    assert ([t for (t,) in tables], recorded) == (TABLES, MIGRATED)
    assert migrations.apply(owner.conn) == []


@pytest.mark.parametrize("kind", BACKENDS)
def test_concurrent_inits_apply_each_migration_exactly_once(tmp_path, kind):
    target = new_database(kind, tmp_path, migrated=False)
    reports = billing_workers.run_all("migrate", [(target.owner,)] * 6)
    applied = sorted(v for _, versions in reports for v in versions)
    assert applied == [1, 2, 3, 4, 5, 6, 7]
    assert migrations.recorded(db.connect(target.owner)) == [1, 2, 3, 4, 5, 6, 7]


def test_every_sqlite_connection_uses_wal_a_busy_timeout_and_foreign_keys(tmp_path):
    conn = startup.open_database(new_database(db.SQLITE, tmp_path).url)
    pragmas = [conn.execute(f"PRAGMA {name}").fetchone()[0]
               for name in ("journal_mode", "busy_timeout", "foreign_keys")]
    assert pragmas == ["wal", 5000, 1]


def test_every_postgres_transaction_runs_as_a_serving_role_never_the_owner(tmp_path):
    target = new_database(db.POSTGRESQL, tmp_path)
    conn = startup.open_database(target.url)
    with db.read(conn, user="alice"):
        user = conn.execute("SELECT current_user, session_user").fetchone()
    with db.write(conn):
        service = conn.execute("SELECT current_user, session_user").fetchone()
    assert (user, service) == (("billing_user", "billing_app"), ("billing_service", "billing_app"))
    assert conn.execute("SHOW lock_timeout").fetchone()[0] == "5s"
    with pytest.raises(BillingError) as raised:
        startup.open_database(target.owner)
    assert str(raised.value) == (
        "connected as 'postgres', which owns the billing database or is a superuser; that role"
        " only runs `init`: serve as billing_app (see billing/README.md)")


def test_the_first_migration_seeds_exactly_one_system_tenant(conn, owner):
    assert rows(conn, "SELECT id, owner_user_id, balance_credits FROM billing_accounts"
                " WHERE is_system_tenant = 1") == [("cogni_system", "cogni_system_principal", 0)]
    with pytest.raises(db.IntegrityError, match="system tenant|duplicate key"):
        owner.execute(
            "INSERT INTO billing_accounts (id, owner_user_id, is_system_tenant, created_at,"
            " updated_at) VALUES ('second', 'someone', 1, 0, 0)")


def test_the_system_tenant_cannot_be_deleted_or_demoted(owner):
    with pytest.raises(db.IntegrityError, match="the system tenant cannot be deleted"):
        owner.execute("DELETE FROM billing_accounts WHERE is_system_tenant = 1")
    with pytest.raises(db.IntegrityError, match="billing account identity is write-once"):
        owner.execute("UPDATE billing_accounts SET is_system_tenant = 0")


def test_start_up_fails_fast_when_the_system_tenant_is_missing(database, owner):
    owner.drop_trigger("billing_accounts_keep_system_tenant", "billing_accounts")
    owner.execute("DELETE FROM billing_accounts WHERE is_system_tenant = 1")
    with pytest.raises(BillingError) as raised:
        startup.open_database(database.url)
    assert str(raised.value) == (
        "the system tenant billing account is missing; the database was not initialised by"
        " `cogni-billing init` or has been tampered with"
    )


@pytest.mark.parametrize("kind", BACKENDS)
def test_start_up_fails_fast_on_a_missing_or_outdated_schema(tmp_path, kind):
    where = "URL" if kind == db.POSTGRESQL else "FILE"
    old = new_database(kind, tmp_path)
    db.connect(old.owner).execute("DELETE FROM schema_migrations WHERE version = 7")
    with pytest.raises(BillingError) as raised:
        startup.open_database(old.url)
    assert str(raised.value) == (
        f"the billing database is at schema version 6, this code needs 7;"
        f" run `cogni-billing --db {where} init` to migrate"
    )
    empty = new_database(kind, tmp_path, migrated=False)
    if kind == db.SQLITE:
        db.connect(empty.url, create=True).close()
    with pytest.raises(BillingError, match=r"^(the billing database has no schema; run |cannot"
                                           r" take the role)"):
        startup.open_database(empty.url)


def test_a_missing_sqlite_file_is_a_clear_error(tmp_path):
    with pytest.raises(BillingError, match=r"^no billing database at .*missing\.db; create it"):
        startup.open_database(tmp_path / "missing.db")


def test_the_ledger_is_append_only(conn, owner, fund):
    fund(conn, "alice", 100)
    with pytest.raises(db.IntegrityError, match="credit_ledger is append-only"):
        owner.execute("UPDATE credit_ledger SET amount = amount + 1")
    with pytest.raises(db.IntegrityError, match="credit_ledger is append-only"):
        owner.execute("DELETE FROM credit_ledger")


def test_the_balance_is_written_only_by_the_ledger(conn, owner, fund):
    account = fund(conn, "alice", 100)
    with pytest.raises(db.IntegrityError, match="balance_credits is written only by the"):
        owner.execute("UPDATE billing_accounts SET balance_credits = 5 WHERE id = ?", (account.id,))
    assert UserAccounts(conn, "alice").get().balance_credits == 1000


def test_a_ledger_row_must_continue_the_balance_after_chain(conn, owner, fund):
    account = fund(conn, "alice", 100)
    with pytest.raises(db.IntegrityError, match="balance_after must equal the balance plus"):
        owner.execute(
            "INSERT INTO credit_ledger (billing_account_id, amount, balance_after, reason,"
            " reference, created_at) VALUES (?, -10, 1000, ?, 'r', 0)",
            (account.id, reasons.USAGE_CHARGE))


@pytest.mark.parametrize("change", [
    pytest.param({"amount": -10.5, "balance_after": 989.5}, id="float-amount"),
    pytest.param({"amount": "ten", "balance_after": 1000}, id="text-amount"),
    pytest.param({"reason": "gift"}, id="unknown-reason"),
    pytest.param({"amount": 10, "balance_after": 1010}, id="positive-usage-charge"),
    pytest.param({"metadata": "{not json"}, id="bad-metadata"),
])
def test_the_ledger_refuses_non_integer_money_and_unknown_reasons(conn, owner, fund, change):
    account = fund(conn, "alice", 100)
    row = {"billing_account_id": account.id, "amount": -10, "balance_after": 990,
           "reason": reasons.USAGE_CHARGE, "reference": "r", "metadata": "{}", "created_at": 0}
    row.update(change)
    with pytest.raises(db.IntegrityError, match=check_failed() + "|invalid input syntax|a float is never"):
        owner.execute(
            "INSERT INTO credit_ledger (billing_account_id, amount, balance_after, reason,"
            " reference, metadata, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)", tuple(row.values()))


def test_payment_purpose_defaults_to_self_and_is_checked_and_write_once(conn, owner):
    account = UserAccounts(conn, "alice").open()
    owner.execute(
        "INSERT INTO payment_attempts (id, billing_account_id, amount_cents, created_at)"
        " VALUES ('a1', ?, 100, 0)", (account.id,))
    assert payments.get(conn, "a1").purpose == "self"
    with pytest.raises(db.IntegrityError, match=check_failed()):
        owner.execute(
            "INSERT INTO payment_attempts (id, billing_account_id, purpose, amount_cents,"
            " created_at) VALUES ('a2', ?, 'charity', 100, 0)", (account.id,))
    with pytest.raises(db.IntegrityError, match="purpose, amount and account are write-once"):
        owner.execute("UPDATE payment_attempts SET purpose = 'system' WHERE id = 'a1'")
    with pytest.raises(db.IntegrityError, match=check_failed() + "|invalid input syntax"):
        owner.execute(
            "INSERT INTO payment_attempts (id, billing_account_id, amount_cents, created_at)"
            " VALUES ('a3', ?, '12.5', 0)", (account.id,))


def test_the_system_tenant_never_owns_a_payment_attempt(conn, owner):
    with pytest.raises(db.IntegrityError, match="a payment attempt belongs to a user account"):
        owner.execute(
            "INSERT INTO payment_attempts (id, billing_account_id, amount_cents, created_at)"
            " VALUES ('a1', 'cogni_system', 100, 0)")


def test_the_lot_invariant_is_a_check_constraint(conn, owner, fund):
    fund(conn, "alice", 100)
    with pytest.raises(db.IntegrityError, match=check_failed("lot_invariant")):
        owner.execute("UPDATE credit_lots SET available_credits = available_credits + 1")
    with pytest.raises(db.IntegrityError, match=check_failed("lot_balance")):
        owner.execute("UPDATE credit_lots SET available_credits = -1, consumed_credits ="
                     " original_credits + 1")


def test_a_closed_reservation_never_reopens(conn, owner, fund):
    from billing import lots

    reservation = lots.reserve(conn, fund(conn, "alice", 100), 10)
    lots.release(conn, reservation.id)
    with pytest.raises(db.IntegrityError, match="a reservation is closed once, from pending"):
        owner.execute("UPDATE credit_reservations SET status = 'pending', closed_at = NULL")


@pytest.mark.parametrize("change", [
    "status = 'finalized', consumed_credits = 7",
    "consumed_credits = 7",
    "closed_at = closed_at + 1",
    "status = 'released'",
])
def test_a_closed_reservation_never_changes(conn, owner, fund, change):
    """Closing needs no check of its own that the reservation was still pending: the database
    refuses any change to a closed one, by the service as by the owner."""
    from billing import lots

    alice = fund(conn, "alice", 100)
    finalized = lots.finalize(conn, lots.reserve(conn, alice, 10).id, 3)
    with pytest.raises(db.IntegrityError, match="a reservation is closed once, from pending"):
        owner.execute(f"UPDATE credit_reservations SET {change} WHERE id = ?", (finalized.id,))
    with pytest.raises(db.IntegrityError, match="a reservation is closed once, from pending"):
        with db.write(conn):
            lots._close(conn, finalized, lots.FINALIZED, consumed=7)
    assert lots.get(conn, finalized.id).consumed_credits == 3


def test_writers_queue_in_arrival_order_and_never_nest(tmp_path):
    conn = startup.open_database(new_database(db.SQLITE, tmp_path).url)
    with db.write(conn):
        assert writer_queue.holder(conn.writers) == os.getpid()
        with pytest.raises(RuntimeError, match="cannot start inside an open transaction"):
            with db.write(conn):
                pass
    assert conn.in_transaction is False


def test_migration_6_rebuilds_the_sqlite_ledger_keeping_every_row(tmp_path):
    conn = db.connect(tmp_path / "v5.db", create=True)
    assert migrations.apply(conn, until=5) == [1, 2, 3, 4, 5]
    conn.execute("INSERT INTO billing_accounts (id, owner_user_id, created_at, updated_at)"
                 " VALUES ('a', 'alice', 0, 0)")
    conn.execute("INSERT INTO payment_attempts (id, billing_account_id, amount_cents, status,"
                 " created_at, settled_at) VALUES ('p', 'a', 100, 'settled', 0, 1)")
    for amount, after, reason, reference in ((1000, 1000, reasons.CREDITS_PURCHASE, "p"),
                                             (-400, 600, reasons.USAGE_CHARGE, "r")):
        conn.execute("INSERT INTO credit_ledger (billing_account_id, amount, balance_after,"
                     " reason, reference, created_at) VALUES ('a', ?, ?, ?, ?, 0)",
                     (amount, after, reason, reference))
    conn.execute("INSERT INTO credit_lots (billing_account_id, ledger_entry_id,"
                 " original_credits, available_credits, reserved_credits, consumed_credits,"
                 " created_at) VALUES ('a', 1, 1000, 1000, 0, 0, 0)")
    before = conn.execute("SELECT * FROM credit_ledger ORDER BY id").fetchall()
    assert migrations.apply(conn, until=6) == [6]
    assert conn.execute("SELECT * FROM credit_ledger ORDER BY id").fetchall() == before
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    assert conn.execute("PRAGMA foreign_keys").fetchone() == (1,)
    with pytest.raises(db.IntegrityError, match="credit_ledger is append-only"):
        conn.execute("UPDATE credit_ledger SET amount = 1")
    with pytest.raises(db.IntegrityError, match="balance_after must equal the balance plus"):
        conn.execute("INSERT INTO credit_ledger (billing_account_id, amount, balance_after,"
                     " reason, reference, created_at) VALUES ('a', -1, 5, ?, 'x', 0)",
                     (reasons.USAGE_CHARGE,))
    conn.execute("INSERT INTO credit_ledger (billing_account_id, amount, balance_after, reason,"
                 " reference, created_at) VALUES ('a', -1, 599, ?, 'x', 0)",
                 (reasons.USAGE_CHARGE,))
    assert conn.execute("SELECT MAX(id), (SELECT balance_credits FROM billing_accounts"
                        " WHERE id = 'a') FROM credit_ledger").fetchone() == (3, 599)
