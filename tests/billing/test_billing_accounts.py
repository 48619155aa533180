"""Accounts: one per user, a tenancy boundary between users and the system tenant."""

from __future__ import annotations

import pytest

from billing import ledger
from billing.accounts import ServiceAccounts, UserAccounts
from billing.errors import BillingError
import billing_workers
from billing_fixtures import conn, database, fund, rows  # noqa: F401 (pytest fixtures)


def test_opening_an_account_is_repeat_safe(conn):
    first = UserAccounts(conn, "alice").open()
    again = UserAccounts(conn, "alice").open()
    assert (again, first.owner_user_id, first.is_system_tenant, first.balance_credits) == (
        first, "alice", False, 0)


def test_ten_processes_opening_one_users_account_get_the_same_one(conn, database):
    reports = billing_workers.run_all("open_account", [(database.url, "alice")] * 10)
    account = UserAccounts(conn, "alice").get()
    assert reports == [("opened", account.id)] * 10
    assert rows(conn, "SELECT COUNT(*) FROM billing_accounts") == [(2,)]


def test_a_user_scope_sees_only_its_own_account(conn, fund):
    alice, bob = fund(conn, "alice", 100), fund(conn, "bob", 200)
    assert (UserAccounts(conn, "alice").get(), UserAccounts(conn, "bob").get()) == (alice, bob)
    assert [a.owner_user_id for a in ServiceAccounts(conn).all()] == [
        "cogni_system_principal", "alice", "bob"]


def test_a_user_scope_never_reaches_the_system_tenant(conn):
    principal = UserAccounts(conn, "cogni_system_principal")
    assert principal.find() is None
    with pytest.raises(BillingError) as opening:
        principal.open()
    with pytest.raises(BillingError) as getting:
        principal.get()
    assert [str(opening.value), str(getting.value)] == [
        "user 'cogni_system_principal' is reserved for the system tenant",
        "unknown user 'cogni_system_principal'; create the account with `account create`",
    ]


def test_the_service_scope_reaches_the_system_tenant_and_any_account(conn, fund):
    alice = fund(conn, "alice", 100)
    service = ServiceAccounts(conn)
    system = service.system_tenant()
    assert (system.id, system.is_system_tenant, system.balance_credits) == (
        "cogni_system", True, 750)
    assert service.get(alice.id) == alice
    assert [e.amount for e in ledger.entries(conn, system.id)] == [750]
    with pytest.raises(BillingError, match="^unknown billing account 'nope'$"):
        service.get("nope")


@pytest.mark.parametrize("user_id", ["", " alice", "alice ", "x" * 201])
def test_a_bad_user_id_is_refused(conn, user_id):
    with pytest.raises(BillingError, match=r"^bad user id .*: expected 1-200 characters"):
        UserAccounts(conn, user_id)


def test_the_latest_ledger_rows_are_read_as_such_oldest_first(conn, fund):
    from billing import lots

    alice = fund(conn, "alice", 100)
    for credits in (10, 20, 30, 40):
        lots.finalize(conn, lots.reserve(conn, alice, credits).id, credits)
    every = ledger.entries(conn, alice.id)
    assert [e.amount for e in every] == [1000, -10, -20, -30, -40]
    assert ledger.entries(conn, alice.id, latest=3) == every[-3:]
    assert ledger.entries(conn, alice.id, latest=99) == every
    assert ledger.entries(conn, latest=2) == ledger.entries(conn)[-2:]
