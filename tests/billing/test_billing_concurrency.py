"""Writers take turns fairly and never hang: per account on PostgreSQL, in arrival order on SQLite."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from billing import db, lots, startup, writer_queue
from billing.accounts import UserAccounts
from billing.errors import BillingError
import billing_workers
from billing_fixtures import fund, new_database, rows  # noqa: F401 (pytest fixtures)

SPAWN = billing_workers.SPAWN


def wait_until(predicate, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.01)


def test_writes_to_different_accounts_never_wait_for_each_other(tmp_path, fund):
    database = new_database(db.POSTGRESQL, tmp_path)
    holder, other, same = (startup.open_database(database.url, lock_timeout=1) for _ in range(3))
    alice, bob = fund(holder, "alice", 100), fund(holder, "bob", 100)
    with db.write(holder, user="alice"):
        db.lock_accounts(holder, alice.id)  # a write of alice's is in progress: its lock
        holder.execute("SELECT 1")  # goes to the server with the transaction's next statement
        start = time.monotonic()
        lots.reserve(other, bob, 10)
        bob_waited = time.monotonic() - start
        with pytest.raises(BillingError) as raised:
            lots.reserve(same, alice, 10)
    assert bob_waited < 0.5
    assert str(raised.value) == "timed out after 1 s waiting for a lock held by another write"
    assert lots.reserve(same, alice, 10).status == "pending"  # the lock is free again


def stopped(pid: int) -> bool:
    return Path(f"/proc/{pid}/stat").read_text().split(") ")[1].startswith("T")


def test_a_stopped_writer_costs_the_others_a_timeout_not_a_hang(tmp_path):
    path = new_database(db.SQLITE, tmp_path).url
    writer = SPAWN.Process(target=billing_workers.write_then_stop, args=(path,))
    writer.start()
    try:
        wait_until(lambda: stopped(writer.pid))
        conn = startup.open_database(path, lock_timeout=1)
        start = time.monotonic()
        with pytest.raises(BillingError) as raised:
            UserAccounts(conn, "bob").open()
        assert 1 <= time.monotonic() - start < 3
        assert str(raised.value) == (
            f"timed out after 1 s waiting for the writer ahead (process {writer.pid}) to finish"
            " its write; is it stopped?")
    finally:
        os.kill(writer.pid, signal.SIGCONT)
        writer.join(30)
    assert UserAccounts(conn, "bob").open().owner_user_id == "bob"  # its turn ended with it


def test_a_writer_that_died_in_its_turn_hands_it_on(tmp_path):
    path = new_database(db.SQLITE, tmp_path).url
    writer = SPAWN.Process(target=billing_workers.write_then_stop, args=(path,))
    writer.start()
    wait_until(lambda: stopped(writer.pid))
    os.kill(writer.pid, signal.SIGKILL)
    writer.join(30)
    conn = startup.open_database(path, lock_timeout=5)
    start = time.monotonic()
    assert UserAccounts(conn, "bob").open().owner_user_id == "bob"
    assert time.monotonic() - start < 1


def test_sqlite_writers_take_their_turns_in_arrival_order(tmp_path):
    path = new_database(db.SQLITE, tmp_path).url
    conn = startup.open_database(path)
    workers = []
    with db.write(conn):  # hold the turn while five writers line up, one after another
        for n in range(5):
            worker = SPAWN.Process(target=billing_workers.open_account_in_turn,
                                   args=(path, f"user-{n}"))
            worker.start()
            workers.append(worker)
            wait_until(lambda: writer_queue.holder(conn.writers) == worker.pid)  # in line
    for worker in workers:
        worker.join(60)
    assert [w.exitcode for w in workers] == [0] * 5
    opened = rows(conn, "SELECT owner_user_id FROM billing_accounts WHERE is_system_tenant = 0"
                        " ORDER BY rowid")
    assert opened == [(f"user-{n}",) for n in range(5)]
