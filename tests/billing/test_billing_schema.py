"""The schema: versioned migrations run once, and the constraints the database itself enforces."""

from __future__ import annotations

import sqlite3

import pytest

from billing import db, migrations, payments, reasons, startup
from billing.accounts import UserAccounts
from billing.errors import BillingError
import billing_workers
from billing_fixtures import conn, db_path, fund  # noqa: F401 (pytest fixtures)

TABLES = [
    "billing_accounts", "credit_ledger", "credit_lots", "credit_reservations",
    "payment_attempts", "reservation_lots", "schema_migrations",
]


def test_init_creates_the_schema_and_records_each_migration_once(db_path):
    conn = db.connect(db_path)
    tables = [r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        " ORDER BY name")]
    recorded = [tuple(r) for r in conn.execute("SELECT version, name FROM schema_migrations")]
    assert (tables, recorded) == (TABLES, [
        (1, "billing accounts and the system tenant"),
        (2, "append-only credit ledger"),
        (3, "payment attempts"),
        (4, "credit lots and reservations"),
    ])
    assert migrations.apply(conn) == []


def test_concurrent_inits_apply_each_migration_exactly_once(tmp_path):
    path = tmp_path / "fresh.db"
    reports = billing_workers.run_all("migrate", [(path,)] * 6)
    applied = sorted(v for _, versions in reports for v in versions)
    assert applied == [1, 2, 3, 4]
    assert migrations.recorded(db.connect(path)) == [1, 2, 3, 4]


def test_every_connection_uses_wal_a_busy_timeout_and_foreign_keys(conn):
    pragmas = [conn.execute(f"PRAGMA {name}").fetchone()[0]
               for name in ("journal_mode", "busy_timeout", "foreign_keys")]
    assert pragmas == ["wal", 5000, 1]


def test_the_first_migration_seeds_exactly_one_system_tenant(conn):
    rows = [tuple(r) for r in conn.execute(
        "SELECT id, owner_user_id, balance_credits FROM billing_accounts"
        " WHERE is_system_tenant = 1")]
    assert rows == [("cogni_system", "cogni_system_principal", 0)]
    with pytest.raises(sqlite3.IntegrityError, match="UNIQUE constraint failed"):
        conn.execute(
            "INSERT INTO billing_accounts (id, owner_user_id, is_system_tenant, created_at,"
            " updated_at) VALUES ('second', 'someone', 1, 0, 0)")


def test_the_system_tenant_cannot_be_deleted_or_demoted(conn):
    with pytest.raises(sqlite3.IntegrityError, match="the system tenant cannot be deleted"):
        conn.execute("DELETE FROM billing_accounts WHERE is_system_tenant = 1")
    with pytest.raises(sqlite3.IntegrityError, match="billing account identity is write-once"):
        conn.execute("UPDATE billing_accounts SET is_system_tenant = 0")


def test_start_up_fails_fast_when_the_system_tenant_is_missing(conn, db_path):
    conn.execute("DROP TRIGGER billing_accounts_keep_system_tenant")
    conn.execute("DELETE FROM billing_accounts WHERE is_system_tenant = 1")
    with pytest.raises(BillingError) as raised:
        startup.open_database(db_path)
    assert str(raised.value) == (
        "the system tenant billing account is missing; the database was not initialised by"
        " `cogni-billing init` or has been tampered with"
    )


def test_start_up_fails_fast_on_a_missing_or_outdated_schema(tmp_path):
    empty = tmp_path / "empty.db"
    db.connect(empty, create=True).close()
    with pytest.raises(BillingError, match=r"^the billing database has no schema; run "):
        startup.open_database(empty)
    old = tmp_path / "old.db"
    conn = db.connect(old, create=True)
    migrations.apply(conn)
    conn.execute("DELETE FROM schema_migrations WHERE version = 4")
    with pytest.raises(BillingError) as raised:
        startup.open_database(old)
    assert str(raised.value) == (
        "the billing database is at schema version 3, this code needs 4;"
        " run `cogni-billing --db FILE init` to migrate"
    )
    with pytest.raises(BillingError, match=r"^no billing database at .*missing\.db; create it"):
        startup.open_database(tmp_path / "missing.db")


def test_the_ledger_is_append_only(conn, fund):
    fund(conn, "alice", 100)
    with pytest.raises(sqlite3.IntegrityError, match="credit_ledger is append-only"):
        conn.execute("UPDATE credit_ledger SET amount = amount + 1")
    with pytest.raises(sqlite3.IntegrityError, match="credit_ledger is append-only"):
        conn.execute("DELETE FROM credit_ledger")


def test_the_balance_is_written_only_by_the_ledger(conn, fund):
    account = fund(conn, "alice", 100)
    with pytest.raises(sqlite3.IntegrityError, match="balance_credits is written only by the"):
        conn.execute("UPDATE billing_accounts SET balance_credits = 5 WHERE id = ?", (account.id,))
    assert UserAccounts(conn, "alice").get().balance_credits == 1000


def test_a_ledger_row_must_continue_the_balance_after_chain(conn, fund):
    account = fund(conn, "alice", 100)
    with pytest.raises(sqlite3.IntegrityError, match="balance_after must equal the balance plus"):
        conn.execute(
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
def test_the_ledger_refuses_non_integer_money_and_unknown_reasons(conn, fund, change):
    account = fund(conn, "alice", 100)
    row = {"billing_account_id": account.id, "amount": -10, "balance_after": 990,
           "reason": reasons.USAGE_CHARGE, "reference": "r", "metadata": "{}", "created_at": 0}
    row.update(change)
    with pytest.raises(sqlite3.IntegrityError, match="CHECK constraint failed"):
        conn.execute(
            "INSERT INTO credit_ledger (billing_account_id, amount, balance_after, reason,"
            " reference, metadata, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)", tuple(row.values()))


def test_payment_purpose_defaults_to_self_and_is_checked_and_write_once(conn):
    account = UserAccounts(conn, "alice").open()
    conn.execute(
        "INSERT INTO payment_attempts (id, billing_account_id, amount_cents, created_at)"
        " VALUES ('a1', ?, 100, 0)", (account.id,))
    assert payments.get(conn, "a1").purpose == "self"
    with pytest.raises(sqlite3.IntegrityError, match="CHECK constraint failed"):
        conn.execute(
            "INSERT INTO payment_attempts (id, billing_account_id, purpose, amount_cents,"
            " created_at) VALUES ('a2', ?, 'charity', 100, 0)", (account.id,))
    with pytest.raises(sqlite3.IntegrityError, match="purpose, amount and account are write-once"):
        conn.execute("UPDATE payment_attempts SET purpose = 'system' WHERE id = 'a1'")
    with pytest.raises(sqlite3.IntegrityError, match="CHECK constraint failed"):
        conn.execute(
            "INSERT INTO payment_attempts (id, billing_account_id, amount_cents, created_at)"
            " VALUES ('a3', ?, 12.5, 0)", (account.id,))


def test_the_system_tenant_never_owns_a_payment_attempt(conn):
    with pytest.raises(sqlite3.IntegrityError, match="a payment attempt belongs to a user account"):
        conn.execute(
            "INSERT INTO payment_attempts (id, billing_account_id, amount_cents, created_at)"
            " VALUES ('a1', 'cogni_system', 100, 0)")


def test_the_lot_invariant_is_a_check_constraint(conn, fund):
    fund(conn, "alice", 100)
    with pytest.raises(sqlite3.IntegrityError, match="CHECK constraint failed: lot_invariant"):
        conn.execute("UPDATE credit_lots SET available_credits = available_credits + 1")
    with pytest.raises(sqlite3.IntegrityError, match="CHECK constraint failed: lot_balance"):
        conn.execute("UPDATE credit_lots SET available_credits = -1, consumed_credits ="
                     " original_credits + 1")


def test_a_closed_reservation_never_reopens(conn, fund):
    from billing import lots

    reservation = lots.reserve(conn, fund(conn, "alice", 100), 10)
    lots.release(conn, reservation.id)
    with pytest.raises(sqlite3.IntegrityError, match="a reservation is closed once, from pending"):
        conn.execute("UPDATE credit_reservations SET status = 'pending', closed_at = NULL")


def test_writers_queue_on_a_lock_file_and_never_nest(conn, db_path):
    with db.write(conn):
        assert (db_path.parent / "billing.db-writer").is_file()
        with pytest.raises(RuntimeError, match="cannot start inside an open transaction"):
            with db.write(conn):
                pass
    assert conn.in_transaction is False
