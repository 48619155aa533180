"""PostgreSQL: a write costs few round trips, and a statement sent later is refused as before.

A round trip is counted as the server says so: each ReadyForQuery message in the libpq trace of
the connection ends one.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from billing import db, ledger, lots, reasons, startup
from billing.errors import BillingError, DuplicateEntry
from billing_fixtures import fund, new_database, rows  # noqa: F401 (pytest fixtures)


@pytest.fixture
def pg(tmp_path: Path, fund):
    """A connection to a new PostgreSQL database, as the service, and alice's funded account
    (the connection has taken both roles once already)."""
    conn = startup.open_database(new_database(db.POSTGRESQL, tmp_path).url)
    alice = fund(conn, "alice", 1000)
    lots.finalize(conn, lots.reserve(conn, alice, 10).id, 5)
    yield conn, alice
    conn.close()


def round_trips(conn: db.PostgresConnection, action):
    """What `action()` returns, and how many round trips it took."""
    import psycopg

    with tempfile.TemporaryFile() as trace:
        conn.raw.pgconn.trace(trace.fileno())
        conn.raw.pgconn.set_trace_flags(psycopg.pq.Trace.SUPPRESS_TIMESTAMPS)
        try:
            result = action()
        finally:
            conn.raw.pgconn.untrace()
        trace.seek(0)
        return result, trace.read().decode().count("\tReadyForQuery\t")


def test_reserve_finalize_and_release_take_two_or_three_round_trips(pg):
    conn, alice = pg
    held, reserve = round_trips(conn, lambda: lots.reserve(conn, alice, 10))
    _, finalize = round_trips(conn, lambda: lots.finalize(conn, held.id, 4))
    keyed, reserve_with_key = round_trips(
        conn, lambda: lots.reserve(conn, alice, 10, idempotency_key="k1"))
    _, release = round_trips(conn, lambda: lots.release(conn, keyed.id))
    # the reads under the account's lock, then the writes with the commit; finalize also
    # appends the ledger row, whose id it reads back
    assert (reserve, reserve_with_key, finalize, release) == (2, 2, 3, 2)
    assert lots.get(conn, held.id).consumed_credits == 4
    assert lots.get(conn, keyed.id).status == lots.RELEASED


_INSERT_RESERVATION = ("INSERT INTO credit_reservations (id, billing_account_id, pool_id,"
                       " credits, status, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)")


def _new_reservation(reservation_id: str, account) -> tuple[str, tuple]:
    return _INSERT_RESERVATION, (reservation_id, account.id, "general", 1, lots.PENDING, 1, 2)


def _duplicate_reservation(conn, reservation) -> tuple[str, tuple]:
    return _INSERT_RESERVATION, (reservation.id, reservation.billing_account_id,
                                 reservation.pool_id, 1, lots.PENDING, 1, 2)


def test_a_deferred_write_refused_is_raised_by_the_next_statement_and_rolls_back(pg):
    conn, alice = pg
    held = lots.reserve(conn, alice, 10)
    with pytest.raises(db.IntegrityError) as refused, db.write(conn):
        conn.defer(*_new_reservation("sent-first", alice))
        conn.defer(*_duplicate_reservation(conn, held))
        conn.execute("SELECT 1")
    assert (refused.value.duplicate, refused.value.table) == (True, "credit_reservations")
    assert not conn.in_transaction
    assert rows(conn, "SELECT count(*) FROM credit_reservations WHERE id = 'sent-first'") == [
        (0,)]
    assert lots.reserve(conn, alice, 10).status == lots.PENDING  # the connection works on


def test_a_deferred_write_refused_at_commit_commits_nothing(pg):
    conn, alice = pg
    held = lots.reserve(conn, alice, 10)
    before = rows(conn, "SELECT count(*) FROM credit_reservations")
    with pytest.raises(db.IntegrityError):
        with db.write(conn):
            conn.defer(*_new_reservation("fresh", alice))
            conn.defer(*_duplicate_reservation(conn, held))
    assert not conn.in_transaction
    assert rows(conn, "SELECT count(*) FROM credit_reservations") == before


def test_a_transaction_that_fails_before_sending_drops_what_it_deferred(pg):
    conn, alice = pg
    with pytest.raises(BillingError, match="changed my mind"), db.write(conn):
        conn.defer(*_new_reservation("never", alice))
        raise BillingError("changed my mind")
    assert not conn.in_transaction
    assert rows(conn, "SELECT count(*) FROM credit_reservations WHERE id = 'never'") == [(0,)]


def test_another_tables_duplicate_sent_with_a_ledger_row_is_not_taken_for_a_repeat(pg):
    """A ledger row's duplicate means 'done before'; a duplicate in a statement sent with it
    is a refusal of that statement, and says so."""
    conn, alice = pg
    held = lots.reserve(conn, alice, 10)
    with pytest.raises(db.IntegrityError) as refused, db.write(conn):
        conn.defer(*_duplicate_reservation(conn, held))
        ledger.debit_account(conn, alice.id, 1, reason=reasons.USAGE_CHARGE,
                             reference="a usage")
    assert not isinstance(refused.value, DuplicateEntry)
    assert refused.value.table == "credit_reservations"
    with pytest.raises(DuplicateEntry), db.write(conn):  # the ledger's own duplicate still is
        ledger.debit_account(conn, alice.id, 1, reason=reasons.USAGE_CHARGE,
                             reference=held.id)
        ledger.debit_account(conn, alice.id, 1, reason=reasons.USAGE_CHARGE,
                             reference=held.id)
