"""Code that runs in separate worker processes (started with "spawn"), one connection each.

Each worker opens its own connection, waits at a barrier until every worker is connected, then
acts at once, and reports what happened through a queue as plain data.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
import traceback

from billing import db, ledger, lots, migrations, payments, startup
from billing.accounts import UserAccounts
from billing.errors import InsufficientCredits
from billing_fixtures import pay

SPAWN = multiprocessing.get_context("spawn")


def run_all(work: str, jobs: list[tuple], timeout: int = 90) -> list:
    """Start one process per job running `work(barrier, *job)`; return their reports."""
    return run_mixed([(work, job) for job in jobs], timeout)


def run_mixed(jobs: list[tuple[str, tuple]], timeout: int = 90) -> list:
    """Start one process per (work, args) running `work(barrier, *args)`; return their reports
    in order of arrival. A worker that raised reports ("error", traceback): the caller fails."""
    barrier, queue = SPAWN.Barrier(len(jobs)), SPAWN.Queue()
    workers = [SPAWN.Process(target=_report, args=(queue, work, barrier, *args))
               for work, args in jobs]
    for worker in workers:
        worker.start()
    reports = [queue.get(timeout=timeout) for _ in workers]
    for worker in workers:
        worker.join(timeout)
    errors = [r for r in reports if r[0] == "error"]
    assert errors == [], errors[0][1]
    return reports


def _report(queue, work, *args):
    try:
        queue.put(globals()[work](*args))
    except BaseException:
        queue.put(("error", traceback.format_exc()))


def settle(barrier, db_path, attempt_id):
    conn = startup.open_database(db_path)
    barrier.wait()
    result = payments.settle(conn, attempt_id)
    return ("already_settled" if result.already_settled else "settled", len(result.entries))


def open_account(barrier, db_path, user):
    conn = startup.open_database(db_path)
    barrier.wait()
    return ("opened", UserAccounts(conn, user).open().id)


def migrate(barrier, db_path):
    barrier.wait()
    conn = db.connect(db_path, create=True)
    return ("migrated", tuple(migrations.apply(conn)))


def cycle(barrier, db_path, user, reserve_credits, consume_credits, cycles, abandon_every=0):
    """`cycles` reserve/finalize cycles; every `abandon_every`-th reservation is left to expire
    (1 s TTL) instead. Report the credits consumed and how many reservations were refused."""
    conn = startup.open_database(db_path)
    account = UserAccounts(conn, user).get()
    barrier.wait()
    consumed = refused = 0
    for n in range(1, cycles + 1):
        abandon = abandon_every and n % abandon_every == 0
        try:
            ttl = 1 if abandon else 300
            reservation = lots.reserve(conn, account, reserve_credits, ttl_seconds=ttl)
        except InsufficientCredits:
            refused += 1
            continue
        if not abandon:
            consumed += lots.finalize(conn, reservation.id, consume_credits).consumed_credits
    return ("cycled", consumed, refused)


def sweep(barrier, db_path, seconds):
    """Sweep every 50 ms for `seconds`; report how many reservations expired."""
    conn = startup.open_database(db_path)
    barrier.wait()
    expired, stop = 0, time.monotonic() + seconds
    while time.monotonic() < stop:
        expired += lots.sweep(conn)
        time.sleep(0.05)
    return ("swept", expired)


def deposit(barrier, db_path, user, cents, count):
    conn = startup.open_database(db_path)
    account = UserAccounts(conn, user).get()
    barrier.wait()
    for _ in range(count):
        pay(conn, account, cents)
    return ("deposited", cents * 10 * count)


def settle_then_die(db_path, attempt_id, die_after_legs):
    """Settle, and SIGKILL this process inside the transaction once `die_after_legs` legs of
    the settlement are written: a crash in the middle of a settlement."""
    real_credit = ledger.credit_account
    written = []

    def credit_then_maybe_die(*args, **kwargs):
        written.append(real_credit(*args, **kwargs))
        if len(written) == die_after_legs:
            os.kill(os.getpid(), signal.SIGKILL)
        return written[-1]

    ledger.credit_account = credit_then_maybe_die
    payments.settle(startup.open_database(db_path), attempt_id)


def finalize_then_die(db_path, reservation_id, credits):
    """Finalize, and SIGKILL this process after the lots moved but before the usage charge."""

    def die(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGKILL)

    ledger.debit_account = die
    lots.finalize(startup.open_database(db_path), reservation_id, credits)


def write_then_stop(target):
    """Take a write turn, then stop (SIGSTOP) inside it, as a debugger or a frozen VM would."""
    conn = startup.open_database(target)
    with db.write(conn):  # BEGIN IMMEDIATE: the queue's turn and SQLite's write lock
        os.kill(os.getpid(), signal.SIGSTOP)


def open_account_in_turn(target, user):
    """Queue for a write turn and open `user`'s account in it."""
    UserAccounts(startup.open_database(target), user).open()
