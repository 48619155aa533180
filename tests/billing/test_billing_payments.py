"""Payment attempts and settlement: who gets minted what, exactly once, atomically."""

from __future__ import annotations

import threading
import time

import pytest

from billing import clock, db, invariants, ledger, payments, reasons, revenue_rules, startup
from billing.accounts import ServiceAccounts, UserAccounts
from billing.env import RevenueShare
from billing.errors import BillingError
import billing_workers
from billing_fixtures import (  # noqa: F401 (pytest fixtures)
    conn, database, rows, use_share, verified)
from chain_double import RAIL, new_tx_hash, wallet_of

SPAWN = billing_workers.SPAWN
THREE_QUARTERS = RevenueShare(3, 4)


def legs(conn, reference):
    """The ledger rows minted for a reference, as (account, amount, balance_after, reason)."""
    return [(e.billing_account_id, e.amount, e.balance_after, e.reason)
            for e in ledger.entries(conn) if e.reference == reference]


def test_a_self_payment_credits_the_user_in_full_and_mints_the_bonus(conn):
    alice = UserAccounts(conn, "alice").open()
    attempt = verified(conn, payments.create_intent(conn, alice, 1234))
    result = payments.settle(conn, attempt.id)
    assert (result.attempt_id, result.already_settled) == (attempt.id, False)
    assert legs(conn, attempt.id) == [
        (alice.id, 12340, 12340, reasons.CREDITS_PURCHASE),
        ("cogni_system", 9255, 9255, reasons.PLATFORM_REVENUE_SHARE),
    ]
    assert [e.metadata for e in result.entries] == [
        {"attempt_id": attempt.id, "amount_cents": 1234, "purpose": "self",
         "payer_account_id": alice.id},
        {"attempt_id": attempt.id, "purchased_credits": 12340, "share": "3/4",
         "revenue_rule_id": revenue_rules.active(conn).id},
    ]
    settled = payments.get(conn, attempt.id)
    assert (settled.status, settled.purpose, settled.billing_account_id) == (
        "settled", "self", alice.id)


def test_a_system_payment_is_a_donation_to_the_system_tenant_without_bonus(conn):
    alice = UserAccounts(conn, "alice").open()
    attempt = verified(conn, payments.create_intent(conn, alice, 500, payments.SYSTEM))
    payments.settle(conn, attempt.id)
    assert legs(conn, attempt.id) == [("cogni_system", 5000, 5000, reasons.SYSTEM_DONATION)]
    assert UserAccounts(conn, "alice").get().balance_credits == 0
    assert payments.get(conn, attempt.id).billing_account_id == alice.id  # the donor's record


@pytest.mark.parametrize("share, cents, bonus", [
    pytest.param(RevenueShare(3, 4), 1, 7, id="floor-of-7.5"),
    pytest.param(RevenueShare(1, 3), 1, 3, id="one-third-of-10"),
    pytest.param(RevenueShare(1, 1), 7, 70, id="all"),
    pytest.param(RevenueShare(999_999_999_999_999_999, 10**18), 10**9, 9_999_999_999,
                 id="largest-payment-finest-share"),
])
def test_the_bonus_is_the_floor_of_credits_times_the_share(conn, share, cents, bonus):
    use_share(conn, share)
    attempt = verified(conn, payments.create_intent(conn, UserAccounts(conn, "alice").open(), cents))
    payments.settle(conn, attempt.id)
    assert [leg[1] for leg in legs(conn, attempt.id)] == [cents * 10, bonus]


def test_a_zero_share_mints_no_bonus_row(conn):
    use_share(conn, RevenueShare(0, 1))
    attempt = verified(conn, payments.create_intent(conn, UserAccounts(conn, "alice").open(), 100))
    payments.settle(conn, attempt.id)
    assert [leg[3] for leg in legs(conn, attempt.id)] == [reasons.CREDITS_PURCHASE]


def test_settling_again_mints_nothing(conn):
    attempt = verified(conn, payments.create_intent(conn, UserAccounts(conn, "alice").open(), 100))
    payments.settle(conn, attempt.id)
    again = payments.settle(conn, attempt.id)
    assert again == payments.Settlement(attempt.id, already_settled=True, entries=())
    assert len(legs(conn, attempt.id)) == 2


@pytest.mark.parametrize("cents", [0, -5, 10**9 + 1, True, "100"])
def test_a_bad_amount_is_refused_and_nothing_is_written(conn, cents):
    alice = UserAccounts(conn, "alice").open()
    with pytest.raises(BillingError, match=r"^bad amount .*: expected whole cents from 1 to"):
        payments.create_intent(conn, alice, cents)
    assert rows(conn, "SELECT COUNT(*) FROM payment_attempts") == [(0,)]


def test_a_bad_purpose_unknown_attempt_and_system_payer_are_refused(conn):
    alice = UserAccounts(conn, "alice").open()
    with pytest.raises(BillingError) as purpose:
        payments.create_intent(conn, alice, 100, "charity")
    with pytest.raises(BillingError) as unknown:
        payments.settle(conn, "nope")
    with pytest.raises(BillingError) as system:
        payments.create_intent(conn, ServiceAccounts(conn).system_tenant(), 100)
    assert [str(e.value) for e in (purpose, unknown, system)] == [
        "bad purpose 'charity': expected one of self, system",
        "unknown payment attempt 'nope'",
        "the system tenant does not pay; a payment attempt belongs to a user",
    ]


def test_a_failing_bonus_leg_rolls_back_the_user_leg(conn, monkeypatch):
    attempt = verified(conn, payments.create_intent(conn, UserAccounts(conn, "alice").open(), 100))
    real_credit = ledger.credit_account

    def credit_then_fail(conn, account_id, credits, **kwargs):
        if kwargs["reason"] == reasons.PLATFORM_REVENUE_SHARE:
            raise OSError("disk went away")
        return real_credit(conn, account_id, credits, **kwargs)

    monkeypatch.setattr(ledger, "credit_account", credit_then_fail)
    with pytest.raises(OSError):
        payments.settle(conn, attempt.id)
    assert (legs(conn, attempt.id), payments.get(conn, attempt.id).status) == ([], "created")
    monkeypatch.undo()
    payments.settle(conn, attempt.id)
    assert len(legs(conn, attempt.id)) == 2


def _a_write_waits(database, holder: db.Connection, seconds: float = 10.0):
    """A wait until another write waits behind `holder`'s open write, as the database shows it:
    on PostgreSQL a backend waiting for a lock (the superuser sees every session's wait), on
    SQLite the writers' queue taking a name after the holder's. Made before the other write
    starts, so its answer cannot come from before it."""
    def waited(seen) -> None:
        deadline = time.monotonic() + seconds
        while not seen():
            assert time.monotonic() < deadline, "the second write never waited for the first"
            time.sleep(0.01)

    if database.kind == db.SQLITE:
        ahead = holder.writers.read_bytes()  # the holder's name, last in the queue
        return lambda: waited(lambda: holder.writers.read_bytes() != ahead)

    def on_postgres() -> None:
        watcher = db.connect(database.owner)
        try:
            waited(lambda: watcher.execute("SELECT 1 FROM pg_stat_activity WHERE wait_event_type"
                                           " = 'Lock' AND datname = current_database()").fetchone())
        finally:
            watcher.close()

    return on_postgres


def test_a_submit_that_loses_the_race_to_the_same_hash_answers_as_a_repeat(database):
    """Two submits of one hash for one attempt both read "not yet paid"; the loser's insert
    meets the winner's row. It is the same transaction, so it answers with it, not a conflict."""
    first = db.connect(database.url)
    alice = UserAccounts(first, "alice").open()
    attempt = payments.create_intent(first, alice, 100)
    tx_hash, wallet = new_tx_hash(), wallet_of(alice.owner_user_id)
    first.begin(write=True, user=alice.owner_user_id)
    first.execute("INSERT INTO payment_transactions (attempt_id, chain_id, tx_hash, from_address,"
                  " submitted_at) VALUES (?, ?, ?, ?, ?)",
                  (attempt.id, RAIL.chain_id, tx_hash, wallet, clock.now_ms()))
    answers = []

    def lose():  # its own connection, opened in its own thread (SQLite's rule)
        second = db.connect(database.url)
        answers.append(_submit_or_error(second, alice, attempt.id, tx_hash, wallet))
        answers.append(_submit_or_error(second, alice, attempt.id, new_tx_hash(), wallet))
        second.close()

    loser = threading.Thread(target=lose)
    wait_for_the_loser = _a_write_waits(database, first)
    loser.start()
    wait_for_the_loser()
    first.end(commit=True)
    loser.join(30)
    first.close()
    assert [(type(a).__name__, getattr(a, "tx_hash", None)) for a in answers] == [
        ("Transaction", tx_hash), ("Conflict", None)]
    assert f"is paid by transaction {tx_hash}" in str(answers[1])


def _submit_or_error(conn, payer, attempt_id, tx_hash, wallet):
    try:
        return payments.submit(conn, payer, attempt_id, tx_hash, RAIL, wallet=wallet)
    except BillingError as e:
        return e


@pytest.mark.parametrize("purpose, minted", [
    pytest.param(payments.SELF, [("alice", 10000, reasons.CREDITS_PURCHASE),
                                 ("cogni_system", 7500, reasons.PLATFORM_REVENUE_SHARE)],
                 id="self"),
    pytest.param(payments.SYSTEM, [("cogni_system", 10000, reasons.SYSTEM_DONATION)],
                 id="system"),
])
def test_twenty_processes_settling_one_attempt_at_once_mint_exactly_once(
    conn, database, purpose, minted
):
    alice = UserAccounts(conn, "alice").open()
    attempt = verified(conn, payments.create_intent(conn, alice, 1000, purpose))
    reports = billing_workers.run_all("settle", [(database.url, attempt.id)] * 20)
    assert sorted(reports) == [("already_settled", 0)] * 19 + [("settled", len(minted))]
    named = {alice.id: "alice", "cogni_system": "cogni_system"}
    assert [(named[a], amount, reason) for a, amount, _, reason in legs(conn, attempt.id)] == minted
    assert invariants.check(conn) == []


@pytest.mark.parametrize("die_after_legs", [1, 2])
def test_a_process_killed_in_the_middle_of_a_settlement_leaves_no_partial_rows(
    conn, database, die_after_legs
):
    attempt = verified(conn, payments.create_intent(conn, UserAccounts(conn, "alice").open(), 100))
    worker = SPAWN.Process(target=billing_workers.settle_then_die,
                           args=(database.url, attempt.id, die_after_legs))
    worker.start()
    worker.join(60)
    assert worker.exitcode == -9  # SIGKILL, inside the write transaction
    fresh = startup.open_database(database.url)
    assert (legs(fresh, attempt.id), payments.get(fresh, attempt.id).status) == ([], "created")
    assert rows(conn, "SELECT COUNT(*) FROM credit_lots") == [(0,)]
    assert invariants.check(fresh) == []
    assert payments.settle(fresh, attempt.id).already_settled is False
    assert len(legs(fresh, attempt.id)) == 2
