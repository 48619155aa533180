"""Row-level security on PostgreSQL: raw SQL in each serving role, as the service connects.

The service connects as `billing_app`, which has no privileges of its own; every transaction
takes `billing_user` (for one user, `billing.user_id`) or `billing_service`. Whatever SQL a
user-scoped transaction runs, the database shows it that user's rows only and lets it write
only what a user may write; neither role can rewrite the ledger or a payment's purpose.
"""

from __future__ import annotations

import pytest

from billing import db, lots, payments, reasons, startup
from billing.accounts import UserAccounts
from billing_fixtures import fund, new_database  # noqa: F401 (pytest fixtures)


@pytest.fixture
def pg(tmp_path, fund):
    """(connection as billing_app, alice, bob, bob's reservation, bob's attempt)."""
    conn = startup.open_database(new_database(db.POSTGRESQL, tmp_path).url)
    alice, bob = fund(conn, "alice", 100), fund(conn, "bob", 200)
    held = lots.reserve(conn, bob, 300)
    attempt = payments.create_intent(conn, bob, 50)
    yield conn, alice, bob, held, attempt
    conn.close()


def as_user(conn, user, sql, params=()):
    """Run raw SQL in `user`'s transaction (None: the service's); rows, or the count changed."""
    with db.write(conn, user=user):
        cursor = conn.execute(sql, params)
        return [tuple(r) for r in cursor.fetchall()] if cursor.description else cursor.rowcount


def test_a_user_sees_only_its_own_rows_in_every_table(pg):
    conn, alice, bob, held, attempt = pg
    counts = "SELECT (SELECT COUNT(*) FROM {0}), (SELECT COUNT(*) FROM {0} WHERE {1})"
    seen = {table: as_user(conn, "alice", counts.format(table, mine))[0] for table, mine in [
        ("billing_accounts", f"id = '{alice.id}'"),
        ("credit_ledger", f"billing_account_id = '{alice.id}'"),
        ("payment_attempts", f"billing_account_id = '{alice.id}'"),
        ("credit_lots", f"billing_account_id = '{alice.id}'"),
        ("credit_reservations", f"billing_account_id = '{alice.id}'"),
        ("reservation_lots", "true"),
    ]}
    assert seen == {"billing_accounts": (1, 1), "credit_ledger": (1, 1),
                    "payment_attempts": (1, 1), "credit_lots": (1, 1),
                    "credit_reservations": (0, 0), "reservation_lots": (0, 0)}
    assert as_user(conn, None, "SELECT COUNT(*) FROM billing_accounts") == [(3,)]


def test_a_user_never_reaches_the_system_tenant(pg):
    conn = pg[0]
    assert as_user(conn, "cogni_system_principal", "SELECT id FROM billing_accounts") == []
    assert as_user(conn, "alice", "SELECT id FROM billing_accounts WHERE is_system_tenant = 1"
                   ) == []
    assert as_user(conn, "alice", "SELECT COUNT(*) FROM credit_ledger"
                   " WHERE billing_account_id = 'cogni_system'") == [(0,)]


def test_a_user_cannot_change_another_users_reservation_lots_or_balance(pg):
    conn, alice, bob, held, attempt = pg
    assert [
        as_user(conn, "alice", "UPDATE credit_reservations SET status = 'released',"
                " closed_at = 1 WHERE id = ?", (held.id,)),
        as_user(conn, "alice", "UPDATE credit_lots SET available_credits = 0,"
                " consumed_credits = original_credits WHERE billing_account_id = ?", (bob.id,)),
        as_user(conn, "alice", "UPDATE billing_accounts SET updated_at = 0 WHERE id <> ?",
                (alice.id,)),
    ] == [0, 0, 0]
    assert lots.get(conn, held.id).status == "pending"


@pytest.mark.parametrize("sql, params", [
    pytest.param("INSERT INTO credit_ledger (billing_account_id, amount, balance_after, reason,"
                 " reference, created_at) VALUES (?, -1, 1999, ?, 'r', 0)",
                 ("bob", reasons.USAGE_CHARGE), id="charge-another-account"),
    pytest.param("INSERT INTO credit_ledger (billing_account_id, amount, balance_after, reason,"
                 " reference, created_at) VALUES (?, 1000, 2000, ?, 'r', 0)",
                 ("alice", reasons.CREDITS_PURCHASE), id="mint-to-itself"),
    pytest.param("INSERT INTO payment_attempts (id, billing_account_id, amount_cents, created_at)"
                 " VALUES ('x', ?, 100, 0)", ("bob",), id="attempt-on-another-account"),
    pytest.param("INSERT INTO payment_attempts (id, billing_account_id, amount_cents, status,"
                 " settled_at, created_at) VALUES ('x', ?, 100, 'settled', 1, 0)", ("alice",),
                 id="attempt-already-settled"),
    pytest.param("UPDATE payment_attempts SET status = 'settled', settled_at = 1", (),
                 id="settle-an-attempt"),
    pytest.param("INSERT INTO credit_lots (billing_account_id, ledger_entry_id,"
                 " original_credits, available_credits, reserved_credits, consumed_credits,"
                 " created_at) VALUES (?, 1, 5, 5, 0, 0, 0)", ("alice",), id="mint-a-lot"),
    pytest.param("INSERT INTO billing_accounts (id, owner_user_id, created_at, updated_at)"
                 " VALUES ('x', 'mallory', 0, 0)", (), id="open-another-users-account"),
])
def test_a_user_cannot_write_what_is_not_its_own_to_write(pg, sql, params):
    conn, alice, bob = pg[:3]
    ids = {"alice": alice.id, "bob": bob.id}
    with pytest.raises((db.PermissionDenied, db.IntegrityError)):  # a policy, a grant, a trigger
        as_user(conn, "alice", sql, tuple(ids.get(p, p) for p in params))


@pytest.mark.parametrize("user", ["alice", None], ids=["billing_user", "billing_service"])
@pytest.mark.parametrize("sql", [
    "UPDATE credit_ledger SET amount = amount + 1",
    "DELETE FROM credit_ledger",
    "TRUNCATE credit_ledger",
    "UPDATE payment_attempts SET purpose = 'system'",
    "DELETE FROM payment_attempts",
    "TRUNCATE payment_attempts",
])
def test_no_serving_role_can_rewrite_the_ledger_or_a_purpose(pg, user, sql):
    with pytest.raises(db.PermissionDenied, match="permission denied"):
        as_user(pg[0], user, sql)


def test_the_serving_login_has_no_privileges_of_its_own(pg):
    with pytest.raises(db.PermissionDenied, match="permission denied for table credit_ledger"):
        pg[0].execute("SELECT * FROM credit_ledger")


def test_the_user_scope_of_the_service_code_is_the_database_scope(pg):
    conn, alice = pg[:2]
    assert UserAccounts(conn, "alice").get() == alice
    assert UserAccounts(conn, "cogni_system_principal").find() is None
