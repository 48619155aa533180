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

from billing import (
    chain, db, env, invariants, ledger, lots, migrations, payments, rail, refunds, revenue_rules,
    startup,
)
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

    def rail(self) -> rail.Rail:
        return rail.load(self.settings.spec)

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


def intent_submit(ctx: Context) -> Output:
    payer = ctx.user()
    done = payments.submit(ctx.conn, payer, ctx.args.attempt_id, ctx.args.tx_hash,
                           ctx.rail(), wallet=ctx.args.wallet)
    return Output(f"submitted {done.tx_hash} for {done.attempt_id}", asdict(done))


def intent_verify(ctx: Context) -> Output:
    if not ctx.settings.rpc_url:
        raise BillingError(f"no chain node: set {env.RPC_URL_VAR} to its JSON-RPC URL")
    done = payments.verify(ctx.conn, ctx.args.attempt_id,
                           chain.JsonRpcVerifier(ctx.settings.rpc_url), ctx.rail())
    verdict = done.verdict or "pending"
    return Output(f"{verdict} {done.attempt_id}: {done.detail}", asdict(done),
                  exit_code=0 if done.verdict == payments.VERIFIED else 1)


def intent_status(ctx: Context) -> Output:
    attempt = payments.get(ctx.conn, ctx.args.attempt_id)
    status = payments.status(ctx.conn, attempt)
    return Output(status, {**asdict(attempt), "status": status})


def refund(ctx: Context) -> Output:
    done = refunds.refund(ctx.conn, ctx.args.attempt_id, actor=ctx.args.actor, why=ctx.args.why)
    legs = [asdict(leg) for leg in done.legs]
    text = "; ".join(f"{leg['account_id']}: {leg['clawed_back']} taken back, {leg['debt']} owed"
                     for leg in legs)
    status = "already_refunded" if done.already_refunded else "refunded"
    return Output(f"{status} {done.attempt_id}: {text}",
                  {"attempt_id": done.attempt_id, "status": status, "legs": legs})


def intent_settle(ctx: Context) -> Output:
    result = payments.settle(ctx.conn, ctx.args.attempt_id)
    minted = [{"account_id": e.billing_account_id, "reason": e.reason, "credits": e.amount}
              for e in result.entries]
    status = "already_settled" if result.already_settled else "settled"
    text = ", ".join(f"{m['credits']} {m['reason']} to {m['account_id']}" for m in minted)
    return Output(f"{status} {result.attempt_id}" + (f": {text}" if text else ""),
                  {"attempt_id": result.attempt_id, "status": status, "minted": minted})


def balance(ctx: Context) -> Output:
    account = ctx.service.system_tenant() if ctx.args.system else ctx.user()
    held = lots.holdings(ctx.conn, account)
    data = {
        "account_id": account.id,
        "balance_credits": account.balance_credits,
        "balance_usd_micro": credits_to_micro_usd(account.balance_credits),
        **asdict(held),
        "debt_credits": refunds.outstanding_debt(ctx.conn, account.id),
    }
    return Output(f"{account.balance_credits} (available {held.available_credits}, reserved"
                  f" {held.reserved_credits}, expired {held.expired_credits}, owed"
                  f" {data['debt_credits']})", data)


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
                               ttl_seconds=ctx.args.ttl, pool=ctx.args.pool,
                               idempotency_key=ctx.args.idempotency_key)
    return Output(reservation.id, asdict(reservation))


def finalize(ctx: Context) -> Output:
    done = lots.finalize(ctx.conn, ctx.args.reservation_id, ctx.args.credits, owner=ctx.user())
    released = done.credits - (done.consumed_credits or 0)
    return Output(f"finalized {done.id}: consumed {done.consumed_credits}, released {released}",
                  asdict(done))


def release(ctx: Context) -> Output:
    done = lots.release(ctx.conn, ctx.args.reservation_id, owner=ctx.user())
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


def rules_propose(ctx: Context) -> Output:
    rule = revenue_rules.propose(ctx.conn, ctx.args.name,
                                 env.parse_revenue_share(ctx.args.share, what="--share"),
                                 ctx.args.actor, notes=ctx.args.notes)
    return _rule(rule)


def rules_move(ctx: Context) -> Output:
    a = ctx.args
    moves = {
        "submit": lambda: revenue_rules.submit(ctx.conn, a.rule_id, a.actor),
        "approve": lambda: revenue_rules.approve(ctx.conn, a.rule_id, a.actor,
                                                 cooldown_hours=a.cooldown_hours),
        "reject": lambda: revenue_rules.reject(ctx.conn, a.rule_id, a.actor, a.why),
        "override": lambda: revenue_rules.override_cooldown(ctx.conn, a.rule_id, a.actor, a.why),
    }
    return _rule(moves[a.action]())


def rules_activate_ready(ctx: Context) -> Output:
    done = revenue_rules.activate_ready(ctx.conn)
    return Output("\n".join(f"activated {r.id}" for r in done) or "nothing to activate",
                  {"activated": [asdict(r) for r in done]})


def rules_list(ctx: Context) -> Output:
    rules = revenue_rules.listing(ctx.conn, ctx.args.status)
    return Output("\n".join(f"{r.id}\t{r.status}\t{r.share_numerator}/{r.share_denominator}"
                            f"\t{r.name}" for r in rules), {"rules": [asdict(r) for r in rules]})


def rules_audit(ctx: Context) -> Output:
    entries = revenue_rules.audit(ctx.conn, ctx.args.rule_id)
    return Output("\n".join(f"{e.created_at}\t{e.action}\t{e.actor}\t{e.previous_status} ->"
                            f" {e.new_status}\t{e.reason or ''}" for e in entries),
                  {"audit": [asdict(e) for e in entries]})


def _rule(rule: revenue_rules.Rule) -> Output:
    return Output(f"{rule.id} {rule.status}", asdict(rule))


def serve(ctx: Context) -> Output:
    from billing import api

    api.serve(ctx.conn.target, ctx.settings, host=ctx.args.host, port=ctx.args.port)
    return Output("", {})


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
    submit = command("submit", intent_submit, "record the transaction that paid", intent)
    submit.add_argument("attempt_id")
    submit.add_argument("--user", required=True)
    submit.add_argument("--tx-hash", required=True)
    submit.add_argument("--wallet", help="the paying wallet (default: the user id)")
    command("verify", intent_verify, "verify the transaction on chain", intent) \
        .add_argument("attempt_id")
    command("settle", intent_settle, "mint a verified payment's credits (repeat-safe)",
            intent).add_argument("attempt_id")
    command("status", intent_status, "an attempt's status", intent).add_argument("attempt_id")
    give_back = command("refund", refund, "refund a settled payment (repeat-safe)")
    give_back.add_argument("attempt_id")
    give_back.add_argument("--actor", required=True)
    give_back.add_argument("--why", required=True)
    rules = commands.add_parser("rules", help="revenue rules").add_subparsers(
        dest="action", required=True, metavar="ACTION")
    propose = command("propose", rules_propose, "propose a revenue share (a draft)", rules)
    propose.add_argument("--name", required=True)
    propose.add_argument("--share", required=True, help="a decimal from 0 to 1, e.g. 0.8")
    propose.add_argument("--actor", required=True)
    propose.add_argument("--notes")
    for action, helptext in (("submit", "submit a draft for approval"),
                             ("approve", "approve: the cooldown starts"),
                             ("reject", "reject a pending or cooling-down rule"),
                             ("override", "activate a cooling-down rule now (emergency)")):
        move = command(action, rules_move, helptext, rules)
        move.add_argument("rule_id")
        move.add_argument("--actor", required=True)
        if action in ("reject", "override"):
            move.add_argument("--why", required=True)
        if action == "approve":
            move.add_argument("--cooldown-hours", type=int,
                              default=revenue_rules.DEFAULT_COOLDOWN_HOURS)
    command("activate-ready", rules_activate_ready, "activate rules whose cooldown is over",
            rules)
    command("list", rules_list, "every rule", rules).add_argument(
        "--status", choices=[*revenue_rules.TRANSITIONS_STATES])
    command("audit", rules_audit, "a rule's audit log", rules).add_argument("rule_id")
    listen = command("serve", serve, "serve the HTTP API")
    listen.add_argument("--host", default="127.0.0.1")
    listen.add_argument("--port", type=int, default=8080)
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
    hold.add_argument("--idempotency-key", help="a retry with the same key returns the same")
    close = command("finalize", finalize, "consume credits of a reservation, release the rest")
    close.add_argument("reservation_id")
    close.add_argument("--user", required=True)
    close.add_argument("--credits", required=True, type=int)
    free = command("release", release, "release a reservation")
    free.add_argument("reservation_id")
    free.add_argument("--user", required=True)
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
        conn = startup.open_database(target, initialise=args.command == "init",
                                     revenue_share=settings.revenue_share)
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
