"""Billing write latency and throughput under mixed load (the sprint plan's Task 1.9).

50 worker processes, one connection each, run reserve/finalize cycles against one database
while a background sweeper expires abandoned reservations and 5 depositors create and settle
payments, all the time. Two phases:

1. bursts: in each round every worker starts one cycle at the same instant (50 concurrent
   reserve/finalize cycles); p50/p99 of reserve and of finalize are the headline figures,
   measured around each call, lock waits included; the target is p99 < 100 ms;
2. saturation: every worker runs its cycles back to back; the committed write transactions
   per second over that phase are the sustained write throughput (with its latencies).

    python bench/billing_reserve.py --db sqlite        # a temporary SQLite file (default)
    python bench/billing_reserve.py --db postgresql    # a temporary local PostgreSQL server
    python bench/billing_reserve.py --db FILE | URL [--app-db URL] --json --rounds 40

`--db postgresql` starts a throwaway server from the machine's PostgreSQL binaries or the
pgserver wheel, with fsync on (the durable default). A URL names an existing database: it is
initialised with that URL (its owner), and the workers connect as `--app-db` (default: the
same URL as billing_app), as the service does.

Every reservation is 40-99 credits, finalized for 0-39; every 10th is abandoned with a 1 s
TTL for the sweeper. Times are integer nanoseconds, printed in milliseconds.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script from a checkout: import the sibling package
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from billing import db, invariants, lots, payments, startup  # noqa: E402
from billing.accounts import UserAccounts  # noqa: E402

# The tests' chain double: every transaction verifies (the bench measures the database).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "billing"))
from chain_double import RAIL, Verifier, new_tx_hash, wallet_of  # noqa: E402

TARGET_P99_NS = 100_000_000
SPAWN = multiprocessing.get_context("spawn")


class Cycles:
    """One worker's reserve/finalize cycles and what they measured."""

    def __init__(self, db_path: Path, user: str, abandon_every: int) -> None:
        self.conn = startup.open_database(db_path)
        self.account = UserAccounts(self.conn, user).get()
        self.abandon_every = abandon_every
        self.count = self.writes = 0
        self.reserve_ns: list[int] = []
        self.finalize_ns: list[int] = []

    def one(self) -> None:
        self.count += 1
        abandon = self.abandon_every and self.count % self.abandon_every == 0
        start = time.perf_counter_ns()
        held = lots.reserve(self.conn, self.account, 40 + self.count % 60,
                            ttl_seconds=1 if abandon else 300)
        reserved = time.perf_counter_ns()
        self.reserve_ns.append(reserved - start)
        self.writes += 1
        if not abandon:
            lots.finalize(self.conn, held.id, self.count % 40)
            self.finalize_ns.append(time.perf_counter_ns() - reserved)
            self.writes += 1

    def report(self) -> tuple[list[int], list[int], int]:
        report = (self.reserve_ns, self.finalize_ns, self.writes)
        self.reserve_ns, self.finalize_ns, self.writes = [], [], 0
        return report


def worker(db_path, user, rounds, cycles, abandon_every, ready, go, results):
    work = Cycles(db_path, user, abandon_every)
    ready.wait()
    for _ in range(rounds):
        go.wait()  # every worker starts this round's cycle at the same instant
        work.one()
    results.put(("bursts", *work.report()))
    go.wait()
    start = time.monotonic_ns()
    for _ in range(cycles):
        work.one()
    results.put(("saturation", *work.report(), start, time.monotonic_ns()))


def sweeper(db_path, interval_ms, ready, stop, results):
    conn = startup.open_database(db_path)
    expired = sweeps = 0
    ready.wait()
    while not stop.wait(interval_ms / 1000):
        expired += lots.sweep(conn)
        sweeps += 1
    time.sleep(1.1)  # the last abandoned reservations fall due within a second
    results.put(("sweeper", expired + lots.sweep(conn), sweeps + 1))


def depositor(db_path, user, interval_ms, ready, stop, results):
    conn = startup.open_database(db_path)
    account = UserAccounts(conn, user).get()
    settled_at = []
    ready.wait()
    while not stop.wait(interval_ms / 1000):
        deposit(conn, account, 100)
        settled_at.append(time.monotonic_ns())
    results.put(("depositor", settled_at))


def deposit(conn, account, cents: int) -> None:
    """A payment created, its transaction submitted and verified, and settled: 4 writes."""
    attempt = payments.create_intent(conn, account, cents)
    payments.submit(conn, account, attempt.id, new_tx_hash(), RAIL,
                    wallet=wallet_of(account.owner_user_id))
    payments.verify(conn, attempt.id, Verifier(), RAIL)
    payments.settle(conn, attempt.id)


def percentile(sorted_ns: list[int], pct: int) -> int:
    """Nearest-rank percentile of an ascending list."""
    return sorted_ns[max(0, (pct * len(sorted_ns) + 99) // 100 - 1)] if sorted_ns else 0


def ms(ns: int) -> str:
    return f"{ns // 1_000_000}.{ns // 1000 % 1000:03d}"


def latencies(reports: list[tuple], column: int) -> dict:
    values = sorted(ns for r in reports for ns in r[column])
    return {"count": len(values), "p50": ms(percentile(values, 50)),
            "p99": ms(percentile(values, 99)), "max": ms(values[-1] if values else 0),
            "p99_ns": percentile(values, 99)}


def prepare(owner: str, users: int) -> None:
    conn = startup.open_database(owner, initialise=True)
    for n in range(users):
        account = UserAccounts(conn, f"user-{n}").open()
        deposit(conn, account, 100_000)  # $1000: 1M credits each
    conn.close()


def run(args: argparse.Namespace, owner: str, db_path: str) -> dict:
    prepare(owner, args.workers + args.depositors)
    ready = SPAWN.Barrier(args.workers + args.depositors + 2)  # + the sweeper + this process
    go, stop, results = SPAWN.Barrier(args.workers), SPAWN.Event(), SPAWN.Queue()
    procs = [SPAWN.Process(target=worker, args=(
        db_path, f"user-{n}", args.rounds, args.cycles, args.abandon_every, ready, go, results))
        for n in range(args.workers)]
    procs += [SPAWN.Process(target=depositor, args=(
        db_path, f"user-{args.workers + n}", args.deposit_interval_ms, ready, stop, results))
        for n in range(args.depositors)]
    procs.append(SPAWN.Process(target=sweeper, args=(
        db_path, args.sweep_interval_ms, ready, stop, results)))
    for proc in procs:
        proc.start()
    ready.wait()
    reports = [results.get(timeout=900) for _ in range(2 * args.workers)]
    stop.set()
    reports += [results.get(timeout=900) for _ in range(args.depositors + 1)]
    for proc in procs:
        proc.join(60)
    return summarise(reports, db_path)


def summarise(reports: list[tuple], db_path: str) -> dict:
    bursts = [r for r in reports if r[0] == "bursts"]
    saturation = [r for r in reports if r[0] == "saturation"]
    begin, end = min(r[4] for r in saturation), max(r[5] for r in saturation)
    deposits = sorted(t for r in reports if r[0] == "depositor" for t in r[1])
    deposits_during = sum(1 for t in deposits if begin <= t <= end)
    writes = sum(r[3] for r in saturation) + 4 * deposits_during  # a deposit is 4 writes
    expired, sweeps = next((r[1], r[2]) for r in reports if r[0] == "sweeper")
    conn = startup.open_database(db_path)
    if conn.kind == db.POSTGRESQL:
        settings = {name: conn.execute(f"SHOW {name}").fetchone()[0] for name in (
            "fsync", "synchronous_commit", "lock_timeout", "server_version")}
    else:
        settings = {name: conn.execute(f"PRAGMA {name}").fetchone()[0] for name in (
            "journal_mode", "busy_timeout", "synchronous")}
    result = {
        "bursts": {"reserve_ms": latencies(bursts, 1), "finalize_ms": latencies(bursts, 2)},
        "saturation": {
            "reserve_ms": latencies(saturation, 1), "finalize_ms": latencies(saturation, 2),
            "elapsed_ms": ms(end - begin), "write_transactions": writes,
            "write_tps": writes * 1_000_000_000 // max(end - begin, 1),
        },
        "deposits": len(deposits), "expired_by_sweeper": expired, "sweeps": sweeps,
        "backend": conn.kind, "settings": settings,
        "invariants_broken": [str(v) for v in invariants.check(conn)],
        "target": "p99 < 100 ms for reserve and finalize in the bursts",
    }
    p99s = [result["bursts"][op].pop("p99_ns") for op in ("reserve_ms", "finalize_ms")]
    for op in ("reserve_ms", "finalize_ms"):
        result["saturation"][op].pop("p99_ns")
    result["target_met"] = max(p99s) < TARGET_P99_NS
    return result


def render(result: dict, args: argparse.Namespace) -> str:
    def line(name: str, stats: dict) -> str:
        return (f"  {name:<9} n={stats['count']:<6} p50 {stats['p50']:>9} ms"
                f"  p99 {stats['p99']:>9} ms  max {stats['max']:>9} ms")

    b, s = result["bursts"], result["saturation"]
    return "\n".join([
        f"{args.workers} workers, {args.depositors} depositors every"
        f" {args.deposit_interval_ms} ms, a sweeper every {args.sweep_interval_ms} ms",
        f"bursts: {args.rounds} rounds of {args.workers} concurrent reserve/finalize cycles",
        line("reserve", b["reserve_ms"]), line("finalize", b["finalize_ms"]),
        f"saturation: {args.cycles} back-to-back cycles per worker in {s['elapsed_ms']} ms",
        line("reserve", s["reserve_ms"]), line("finalize", s["finalize_ms"]),
        f"  writes    {s['write_transactions']} committed, {s['write_tps']} per second",
        f"background: {result['deposits']} deposits, {result['expired_by_sweeper']} reservations"
        f" expired by {result['sweeps']} sweeps",
        f"{result['backend']}: {result['settings']}",
        f"check: {'ok' if not result['invariants_broken'] else result['invariants_broken']}",
        f"target ({result['target']}): {'met' if result['target_met'] else 'NOT met'}",
    ])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=50, help="concurrent cycling processes")
    parser.add_argument("--rounds", type=int, default=20, help="burst rounds (one cycle each)")
    parser.add_argument("--cycles", type=int, default=20, help="saturation cycles per worker")
    parser.add_argument("--depositors", type=int, default=5)
    parser.add_argument("--deposit-interval-ms", type=int, default=20)
    parser.add_argument("--sweep-interval-ms", type=int, default=100)
    parser.add_argument("--abandon-every", type=int, default=10,
                        help="leave every n-th reservation to the sweeper (0: never)")
    parser.add_argument("--db", default="sqlite", metavar="sqlite|postgresql|FILE|URL",
                        help="the backend, a temporary one of either kind by default")
    parser.add_argument("--app-db", metavar="URL", help="run-time URL of --db URL's database")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        if args.db == "postgresql":
            from pg_server import Server

            server = Server(durable=True)
            try:
                urls = server.database("bench")
                result = run(args, urls.owner, urls.app)
            finally:
                server.stop()
        elif db.is_url(args.db):
            app = args.app_db or _as_app(args.db)
            result = run(args, args.db, app)
        else:
            path = str(Path(scratch) / "bench.db") if args.db == "sqlite" else args.db
            result = run(args, path, path)
    print(json.dumps(result, indent=2) if args.json else render(result, args))
    return 0 if not result["invariants_broken"] else 1


def _as_app(url: str) -> str:
    """The same database as the serving login: postgresql://billing_app@host/db."""
    scheme, rest = url.split("://", 1)
    return f"{scheme}://billing_app@{rest.rsplit('@', 1)[-1]}"


if __name__ == "__main__":
    sys.exit(main())
