"""`cogni-billing`: the billing service from the command line.

argv -> settings -> database -> one command -> output. Every command prints plain text, or
one JSON object with `--json`. Exit codes: 0 done, 1 `check` found a broken invariant, 2 the
caller's error (unknown user, insufficient credits, bad amount, missing set-up; one line on
stderr and nothing written), 3 an internal error (traceback).
"""

from __future__ import annotations

import argparse
import json
import sys
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from billing import db, env, invariants, ledger, lots, migrations, payments, startup
from billing.accounts import Account, ServiceAccounts, UserAccounts
from billing.errors import BillingError
from billing.units import credits_to_micro_usd

PROG = "cogni-billing"


@dataclass(frozen=True)
class Output:
    text: str
    data: dict[str, Any]
    exit_code: int = 0


@dataclass(frozen=True)
class Context:
    conn: db.Connection
    settings: env.Settings
    args: argparse.Namespace

    @property
    def service(self) -> ServiceAccounts:
        return ServiceAccounts(self.conn)

    def user(self) -> Account:
        return UserAccounts(self.conn, self.args.user).get()


def init(ctx: Context) -> Output:
    versions = migrations.recorded(ctx.conn)
    return Output(f"billing database ready at schema version {versions[-1]}",
                  {"schema_version": versions[-1]})


def account_create(ctx: Context) -> Output:
    account = UserAccounts(ctx.conn, ctx.args.user).open()
    return Output(account.id, {"account_id": account.id, "user": account.owner_user_id})


def intent_create(ctx: Context) -> Output:
    attempt = payments.create_intent(ctx.conn, ctx.user(), ctx.args.cents, ctx.args.purpose)
    return Output(attempt.id, asdict(attempt))


def intent_settle(ctx: Context) -> Output:
    result = payments.settle(ctx.conn, ctx.args.attempt_id, ctx.settings.revenue_share)
    minted = [{"account_id": e.billing_account_id, "reason": e.reason, "credits": e.amount}
              for e in result.entries]
    status = "already_settled" if result.already_settled else "settled"
    text = ", ".join(f"{m['credits']} {m['reason']} to {m['account_id']}" for m in minted)
    return Output(f"{status} {result.attempt_id}" + (f": {text}" if text else ""),
                  {"attempt_id": result.attempt_id, "status": status, "minted": minted})


def balance(ctx: Context) -> Output:
    account = ctx.service.system_tenant() if ctx.args.system else ctx.user()
    return Output(str(account.balance_credits), {
        "account_id": account.id,
        "balance_credits": account.balance_credits,
        "balance_usd_micro": credits_to_micro_usd(account.balance_credits),
    })


def ledger_entries(ctx: Context) -> Output:
    if ctx.args.system:
        account_id: str | None = ctx.service.system_tenant().id
    elif ctx.args.user is not None:
        account_id = ctx.user().id
    elif ctx.args.account is not None:
        account_id = ctx.service.get(ctx.args.account).id
    else:
        account_id = None
    entries = ledger.entries(ctx.conn, account_id)
    lines = [f"{e.id}\t{e.billing_account_id}\t{e.amount:+d}\t{e.balance_after}\t{e.reason}"
             f"\t{e.reference}" for e in entries]
    return Output("\n".join(lines), {"entries": [asdict(e) for e in entries]})


def reserve(ctx: Context) -> Output:
    reservation = lots.reserve(ctx.conn, ctx.user(), ctx.args.credits,
                               ttl_seconds=ctx.args.ttl, pool=ctx.args.pool)
    return Output(reservation.id, asdict(reservation))


def finalize(ctx: Context) -> Output:
    done = lots.finalize(ctx.conn, ctx.args.reservation_id, ctx.args.credits)
    released = done.credits - (done.consumed_credits or 0)
    return Output(f"finalized {done.id}: consumed {done.consumed_credits}, released {released}",
                  asdict(done))


def release(ctx: Context) -> Output:
    done = lots.release(ctx.conn, ctx.args.reservation_id)
    return Output(f"{done.status} {done.id}", asdict(done))


def sweep(ctx: Context) -> Output:
    expired = lots.sweep(ctx.conn)
    return Output(f"expired {expired}", {"expired": expired})


def check(ctx: Context) -> Output:
    broken = invariants.check(ctx.conn)
    data = {"ok": not broken, "violations": [asdict(v) for v in broken]}
    if not broken:
        return Output("ok: every invariant holds", data)
    return Output("\n".join(f"broken {v}" for v in broken), data, exit_code=1)


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", default=argparse.SUPPRESS,
                        help="print one JSON object")
    parser = argparse.ArgumentParser(prog=PROG, parents=[common],
                                     description="The reference billing service.")
    parser.add_argument("--db", metavar="FILE|URL", help="SQLite database file or postgresql://"
                        f" URL (default: ${env.DATABASE_VAR})")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, run: Callable[[Context], Output], helptext: str,
                under: Any = commands) -> argparse.ArgumentParser:
        sub = under.add_parser(name, parents=[common], help=helptext)
        sub.set_defaults(run=run)
        return sub

    command("init", init, "create or migrate the database")
    account = commands.add_parser("account", help="billing accounts").add_subparsers(
        dest="action", required=True, metavar="ACTION")
    command("create", account_create, "open a user's account (repeat-safe)", account) \
        .add_argument("--user", required=True)
    intent = commands.add_parser("intent", help="payment attempts").add_subparsers(
        dest="action", required=True, metavar="ACTION")
    create = command("create", intent_create, "record a payment attempt", intent)
    create.add_argument("--user", required=True)
    create.add_argument("--cents", required=True, type=int)
    create.add_argument("--purpose", choices=payments.PURPOSES, default=payments.SELF)
    command("settle", intent_settle, "mint a payment's credits (repeat-safe)", intent) \
        .add_argument("attempt_id")
    who = command("balance", balance, "an account's balance in credits") \
        .add_mutually_exclusive_group(required=True)
    who.add_argument("--user")
    who.add_argument("--system", action="store_true")
    which = command("ledger", ledger_entries, "ledger rows, oldest first") \
        .add_mutually_exclusive_group()
    which.add_argument("--account")
    which.add_argument("--user")
    which.add_argument("--system", action="store_true")
    hold = command("reserve", reserve, "reserve credits from a user's lots")
    hold.add_argument("--user", required=True)
    hold.add_argument("--credits", required=True, type=int)
    hold.add_argument("--ttl", type=int, default=lots.DEFAULT_TTL_SECONDS, metavar="SECONDS")
    hold.add_argument("--pool", default=ledger.GENERAL_POOL)
    close = command("finalize", finalize, "consume credits of a reservation, release the rest")
    close.add_argument("reservation_id")
    close.add_argument("--credits", required=True, type=int)
    command("release", release, "release a reservation").add_argument("reservation_id")
    command("sweep", sweep, "expire overdue reservations")
    command("check", check, "verify every invariant of the database")
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else 2
    as_json = getattr(args, "json", False)
    try:
        settings = env.load()
        target = args.db or settings.database
        if not target:
            raise BillingError(f"no database: pass --db FILE|URL or set {env.DATABASE_VAR}")
        conn = startup.open_database(target, initialise=args.command == "init")
        try:
            out = args.run(Context(conn, settings, args))
        finally:
            conn.close()
    except BillingError as e:
        message = str(e)
        print(json.dumps({"error": message}) if as_json else f"{PROG}: {message}", file=sys.stderr)
        return 2
    except Exception:  # the only broad except: an internal error, reported whole
        traceback.print_exc()
        return 3
    text = json.dumps(out.data, sort_keys=True) if as_json else out.text
    if text:
        print(text)
    return out.exit_code
