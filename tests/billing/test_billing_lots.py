"""Lots and reservations: FIFO reserve, finalize, release, sweep; never an overdraft."""

from __future__ import annotations

import pytest

from billing import invariants, ledger, lots, reasons
from billing.accounts import UserAccounts
from billing.errors import BillingError, InsufficientCredits
from billing.invariants import Violation
import billing_workers
from billing_fixtures import conn, database, fund, mint, rows  # noqa: F401 (pytest fixtures)

NOW = 1_700_000_000_000
HOUR = 3_600_000


def lot_rows(conn):
    """Every lot as (id, available, reserved, consumed, original)."""
    return rows(conn, "SELECT id, available_credits, reserved_credits, consumed_credits,"
                " original_credits FROM credit_lots ORDER BY id")


def held(conn, reservation_id):
    return rows(conn, "SELECT lot_id, credits, consumed_credits FROM reservation_lots"
                " WHERE reservation_id = ? ORDER BY position", (reservation_id,))


def usage(conn):
    return [(e.amount, e.balance_after, e.reference) for e in ledger.entries(conn)
            if e.reason == reasons.USAGE_CHARGE]


@pytest.fixture
def alice(conn):
    return UserAccounts(conn, "alice").open()


def test_reserve_takes_pool_lots_first_then_expiring_soonest_then_oldest(conn, alice, mint):
    general_old = mint(conn, alice, 100)
    general_expiring_late = mint(conn, alice, 100, expires_at=NOW + 2 * HOUR)
    general_expiring_soon = mint(conn, alice, 100, expires_at=NOW + HOUR)
    campaign = mint(conn, alice, 100, pool="campaign:spring")
    mint(conn, alice, 100, pool="campaign:other")
    mint(conn, alice, 100, expires_at=NOW - 1)  # already expired: never taken
    reservation = lots.reserve(conn, alice, 350, pool="campaign:spring", now=NOW)
    assert held(conn, reservation.id) == [
        (campaign, 100, None), (general_expiring_soon, 100, None),
        (general_expiring_late, 100, None), (general_old, 50, None),
    ]
    with pytest.raises(InsufficientCredits) as raised:
        lots.reserve(conn, alice, 51, now=NOW)
    assert str(raised.value) == "insufficient credits: requested 51, available 50"


def test_finalize_consumes_in_fifo_order_and_releases_the_surplus(conn, alice, mint):
    first, second = mint(conn, alice, 100), mint(conn, alice, 100)
    reservation = lots.reserve(conn, alice, 150)
    done = lots.finalize(conn, reservation.id, 120)
    assert (done.status, done.consumed_credits) == ("finalized", 120)
    assert held(conn, reservation.id) == [(first, 100, 100), (second, 50, 20)]
    assert lot_rows(conn) == [(first, 0, 0, 100, 100), (second, 80, 0, 20, 100)]
    assert usage(conn) == [(-120, 80, reservation.id)]
    assert UserAccounts(conn, "alice").get().balance_credits == 80
    assert invariants.check(conn) == []


def test_finalize_is_idempotent_for_the_same_amount_and_refuses_another(conn, alice, mint):
    mint(conn, alice, 100)
    reservation = lots.reserve(conn, alice, 60)
    first = lots.finalize(conn, reservation.id, 40)
    assert lots.finalize(conn, reservation.id, 40) == first
    with pytest.raises(BillingError) as different:
        lots.finalize(conn, reservation.id, 41)
    assert str(different.value) == (
        f"reservation {reservation.id!r} was already finalized with 40 credits; refusing 41")
    assert usage(conn) == [(-40, 60, reservation.id)]


def test_finalize_refuses_more_than_reserved_and_zero_consumes_nothing(conn, alice, mint):
    mint(conn, alice, 100)
    reservation = lots.reserve(conn, alice, 30)
    with pytest.raises(BillingError) as raised:
        lots.finalize(conn, reservation.id, 31)
    assert str(raised.value) == (
        f"cannot finalize 31 credits: reservation {reservation.id!r} holds 30")
    assert lots.finalize(conn, reservation.id, 0).consumed_credits == 0
    assert (usage(conn), UserAccounts(conn, "alice").get().balance_credits) == ([], 100)
    assert invariants.check(conn) == []


@pytest.mark.parametrize("credits", [-1, 1.5, True])
def test_bad_amounts_are_refused(conn, alice, mint, credits):
    mint(conn, alice, 100)
    with pytest.raises(BillingError, match=r"^bad amount .*: expected whole credits from 1 to"):
        lots.reserve(conn, alice, credits)
    reservation = lots.reserve(conn, alice, 10)
    with pytest.raises(BillingError, match=r"^bad amount .*: expected whole credits from 0 to"):
        lots.finalize(conn, reservation.id, credits)


def test_release_returns_everything_once(conn, alice, mint):
    lot = mint(conn, alice, 100)
    reservation = lots.reserve(conn, alice, 70)
    assert lot_rows(conn) == [(lot, 30, 70, 0, 100)]
    assert lots.release(conn, reservation.id).status == "released"
    assert lots.release(conn, reservation.id).status == "released"
    assert lot_rows(conn) == [(lot, 100, 0, 0, 100)]
    with pytest.raises(BillingError) as raised:
        lots.finalize(conn, reservation.id, 10)
    assert str(raised.value) == f"reservation {reservation.id!r} is released"
    finalized = lots.reserve(conn, alice, 10)
    lots.finalize(conn, finalized.id, 10)
    with pytest.raises(BillingError, match="is finalized; nothing to release"):
        lots.release(conn, finalized.id)


def test_the_sweeper_expires_only_overdue_reservations(conn, alice, mint):
    lot = mint(conn, alice, 1000)
    overdue = [lots.reserve(conn, alice, 1, ttl_seconds=60, now=NOW) for _ in range(150)]
    current = lots.reserve(conn, alice, 5, ttl_seconds=600, now=NOW)
    assert lots.sweep(conn, now=NOW + 60_000) == 150  # more than one batch
    assert lots.sweep(conn, now=NOW + 60_000) == 0
    assert {lots.get(conn, r.id).status for r in overdue} == {"expired"}
    assert lots.get(conn, current.id).status == "pending"
    assert lot_rows(conn) == [(lot, 995, 5, 0, 1000)]
    with pytest.raises(BillingError, match="is expired"):
        lots.finalize(conn, overdue[0].id, 1)
    assert lots.release(conn, overdue[0].id).status == "expired"
    assert invariants.check(conn) == [  # `current` is past its expiry by now: an orphan
        Violation("expired-reservation-not-swept",
                  f"reservation {current.id} of account {alice.id} holds 5 credits past its"
                  f" expiry {NOW + 600_000}; run `sweep`")]
    lots.sweep(conn)
    assert invariants.check(conn) == []


def test_fifty_concurrent_cycles_never_overdraw(conn, database, fund):
    fund(conn, "alice", 100)  # 1000 credits: room for exactly 25 cycles of 40
    reports = billing_workers.run_all("cycle", [(database.url, "alice", 40, 40, 1)] * 50)
    assert sorted(reports) == [("cycled", 0, 1)] * 25 + [("cycled", 40, 0)] * 25
    assert UserAccounts(conn, "alice").get().balance_credits == 0
    assert lot_rows(conn) == [(1, 0, 0, 1000, 1000), (2, 750, 0, 0, 750)]  # alice's, the bonus
    assert invariants.check(conn) == []


def test_cycles_sweeper_and_deposits_together_keep_every_invariant(conn, database, fund):
    fund(conn, "alice", 300)  # 3000 credits, then 5 x 5 deposits of 100 credits while cycling
    jobs = [("cycle", (database.url, "alice", 30, n % 31, 4, 3)) for n in range(20)]
    jobs += [("deposit", (database.url, "alice", 10, 5))] * 5 + [("sweep", (database.url, 2.5))]
    reports = billing_workers.run_mixed(jobs)
    consumed = sum(r[1] for r in reports if r[0] == "cycled")
    deposited = sum(r[1] for r in reports if r[0] == "deposited")
    lots.sweep(conn, now=NOW * 2)  # whatever the sweeper did not reach yet
    assert (deposited, sum(r[2] for r in reports if r[0] == "cycled")) == (2500, 0)
    assert UserAccounts(conn, "alice").get().balance_credits == 3000 + deposited - consumed
    assert rows(conn, "SELECT status, COUNT(*) FROM credit_reservations"
                " WHERE status IN ('pending', 'expired') GROUP BY status") == [("expired", 20)]
    assert invariants.check(conn) == []


def test_a_process_killed_in_the_middle_of_a_finalize_leaves_no_partial_rows(
    conn, database, fund
):
    fund(conn, "alice", 100)
    reservation = lots.reserve(conn, UserAccounts(conn, "alice").get(), 300)
    before = lot_rows(conn)
    worker = billing_workers.SPAWN.Process(
        target=billing_workers.finalize_then_die, args=(database.url, reservation.id, 200))
    worker.start()
    worker.join(60)
    assert worker.exitcode == -9
    assert (lot_rows(conn), lots.get(conn, reservation.id).status, usage(conn)) == (
        before, "pending", [])
    assert invariants.check(conn) == []
