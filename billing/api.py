"""The billing service over HTTP (`cogni-billing serve`): Starlette, served by uvicorn.

Identity comes from the session only (sign-in with Ethereum, `sessions.py`): every billing
endpoint resolves the caller's account from the bearer token, and a body that names an
account, a user or a wallet is refused. User-scoped work runs in the user's scope (on
PostgreSQL, the `billing_user` role under row-level security); only verification, settlement
and governance run in the service's. Amounts are JSON integers, ids UUIDs, and every error is
`{"error": {"code", "message"}}` with a stable code.

    POST /api/v1/auth/nonce                          -> {nonce}
    POST /api/v1/auth/verify     {message, signature} -> {token, address, expiresAt}
    POST /api/v1/payments/intents {amountUsdCents, purpose?}
    POST /api/v1/payments/attempts/{id}/submit {txHash}   verify, then settle once verified
    GET  /api/v1/payments/attempts/{id}
    GET  /api/v1/payments/credits/summary
    POST /api/v1/payments/credits/confirm {amountUsdCents, clientPaymentId, txHash}  (legacy)
    POST /api/v1/billing/reservations {credits, idempotencyKey, ttlSeconds?}
    POST /api/v1/billing/reservations/{id}/finalize {credits}
    POST /api/v1/billing/reservations/{id}/release
    admins only (COGNI_BILLING_ADMINS): refunds and revenue rules under /api/v1/admin/
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from billing import (
    chain, clock, db, ledger, lots, payments, rail, reasons, refunds, revenue_rules, sessions,
    startup,
)
from billing.accounts import Account, UserAccounts
from billing.env import Settings, parse_revenue_share
from billing.errors import BillingError, Conflict, InsufficientCredits, NotFound

IDENTITY_KEYS = {"billingaccountid", "accountid", "account", "userid", "user", "owneruserid",
                 "address", "wallet", "walletaddress"}
ERRORS = (  # (exception type, HTTP status, code): the first match wins
    (sessions.Unauthenticated, 401, "unauthenticated"),
    (NotFound, 404, "not_found"),
    (Conflict, 409, "conflict"),
    (InsufficientCredits, 402, "insufficient_credits"),
    (BillingError, 400, "bad_request"),
)


class Forbidden(BillingError):
    """Signed in, but not allowed (governance endpoints are for the DAO's admin wallets)."""


class Service:
    """What the endpoints share: the database, the rail, the verifier, the clock, the admins."""

    def __init__(self, target: str, *, rail_: rail.Rail, verifier: chain.Verifier,
                 admins: tuple[str, ...] = (), domain: str = "localhost",
                 now: Callable[[], int] = clock.now_ms,
                 cooldown_hours: int = revenue_rules.DEFAULT_COOLDOWN_HOURS) -> None:
        self.target, self.rail, self.verifier = target, rail_, verifier
        self.admins, self.domain, self.now = admins, domain, now
        self.cooldown_hours = cooldown_hours
        self._local = threading.local()
        startup.open_database(target).close()  # fail fast: schema, system tenant, role

    def conn(self) -> db.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = startup.open_database(self.target)
        return conn

    def user(self, token: str | None) -> Account:
        session = sessions.resolve(self.conn(), token, now=self.now())
        return UserAccounts(self.conn(), session.user_id).open()

    def admin(self, token: str | None) -> str:
        session = sessions.resolve(self.conn(), token, now=self.now())
        if session.user_id not in self.admins:
            raise Forbidden("governance endpoints are for the DAO's admin wallets")
        return session.user_id


def create_app(service: Service):
    from starlette.applications import Starlette
    from starlette.routing import Route

    s = service

    def nonce(_, __):
        return {"nonce": sessions.nonce(s.conn(), now=s.now())}

    def verify(_, body):
        token, session = sessions.sign_in(
            s.conn(), _text(body, "message"), _text(body, "signature"), domain=s.domain,
            now=s.now())
        return {"token": token, "address": session.user_id, "expiresAt": session.expires_at}

    def create_intent(request, body):
        payer = s.user(request.state.token)
        attempt = payments.create_intent(s.conn(), payer, _integer(body, "amountUsdCents"),
                                         _text(body, "purpose", payments.SELF))
        return 201, _attempt(attempt, "created") | {"payTo": _pay_to(attempt)}

    def submit(request, body):
        payer = s.user(request.state.token)
        attempt_id = request.path_params["attempt_id"]
        payments.submit(s.conn(), payer, attempt_id, _text(body, "txHash"), s.rail)
        return _judge_and_settle(attempt_id)

    def attempt_status(request, _):
        payer = s.user(request.state.token)
        attempt = payments.get(s.conn(), request.path_params["attempt_id"],
                               user=payer.owner_user_id)
        return _attempt(attempt, payments.status(s.conn(), attempt))

    def summary(request, _):
        account = s.user(request.state.token)
        held = lots.holdings(s.conn(), account, now=s.now())
        with db.read(s.conn(), user=account.owner_user_id):
            recent = ledger.entries(s.conn(), account.id, latest=20)
        return {"billingAccountId": account.id, "balanceCredits": account.balance_credits,
                "availableCredits": held.available_credits,
                "reservedCredits": held.reserved_credits, "expiredCredits": held.expired_credits,
                "debtCredits": refunds.outstanding_debt(s.conn(), account.id,
                                                        user=account.owner_user_id),
                "ledger": [{"id": e.id, "amount": e.amount, "balanceAfter": e.balance_after,
                            "reason": e.reason, "reference": e.reference,
                            "createdAt": e.created_at} for e in reversed(recent)]}

    def confirm(request, body):
        payer = s.user(request.state.token)
        attempt_id = payments.payment_id(_text(body, "clientPaymentId"))
        cents = _integer(body, "amountUsdCents")
        try:
            attempt = payments.get(s.conn(), attempt_id, user=payer.owner_user_id)
        except NotFound:
            attempt = _intent_once(payer, cents, attempt_id)
        if attempt.amount_cents != cents:
            raise Conflict(f"payment {attempt.id} is for {attempt.amount_cents} cents, not"
                           f" {cents}")
        payments.submit(s.conn(), payer, attempt.id, _text(body, "txHash"), s.rail)
        result = _judge_and_settle(attempt.id)
        balance = UserAccounts(s.conn(), payer.owner_user_id).get().balance_credits
        return result | {"balanceCredits": balance}

    def reserve(request, body):
        account = s.user(request.state.token)
        reservation = lots.reserve(
            s.conn(), account, _integer(body, "credits"),
            ttl_seconds=_integer(body, "ttlSeconds", lots.DEFAULT_TTL_SECONDS),
            idempotency_key=body.get("idempotencyKey") and _text(body, "idempotencyKey"),
            now=s.now())
        return 201, _reservation(reservation)

    def finalize(request, body):
        account = s.user(request.state.token)
        return _reservation(lots.finalize(s.conn(), request.path_params["reservation_id"],
                                          _integer(body, "credits"), owner=account))

    def release(request, _):
        account = s.user(request.state.token)
        return _reservation(lots.release(s.conn(), request.path_params["reservation_id"],
                                         owner=account))

    def refund(request, body):
        actor = s.admin(request.state.token)
        done = refunds.refund(s.conn(), request.path_params["attempt_id"], actor=actor,
                              why=_text(body, "reason"))
        return {"attemptId": done.attempt_id, "alreadyRefunded": done.already_refunded,
                "legs": [asdict(leg) for leg in done.legs]}

    def propose_rule(request, body):
        actor = s.admin(request.state.token)
        share = parse_revenue_share(_text(body, "share"), what="share")
        return 201, asdict(revenue_rules.propose(s.conn(), _text(body, "name"), share, actor,
                                                 notes=body.get("notes"), now=s.now()))

    def move_rule(request, body):
        actor = s.admin(request.state.token)
        rule_id, action = request.path_params["rule_id"], request.path_params["action"]
        moves = {
            "submit": lambda: revenue_rules.submit(s.conn(), rule_id, actor, now=s.now()),
            "approve": lambda: revenue_rules.approve(
                s.conn(), rule_id, actor, now=s.now(),
                cooldown_hours=_integer(body, "cooldownHours", s.cooldown_hours)),
            "reject": lambda: revenue_rules.reject(s.conn(), rule_id, actor,
                                                   _text(body, "reason"), now=s.now()),
            "override-cooldown": lambda: revenue_rules.override_cooldown(
                s.conn(), rule_id, actor, _text(body, "reason"), now=s.now()),
        }
        if action not in moves:
            raise NotFound(f"unknown revenue rule action {action!r}")
        return asdict(moves[action]())

    def activate_ready(request, _):
        s.admin(request.state.token)
        return {"activated": [asdict(r) for r in revenue_rules.activate_ready(
            s.conn(), now=s.now())]}

    def list_rules(request, _):
        s.admin(request.state.token)
        return {"rules": [asdict(r) for r in revenue_rules.listing(
            s.conn(), request.query_params.get("status"))]}

    def active_rule(request, _):
        s.admin(request.state.token)
        return asdict(revenue_rules.active(s.conn()))

    def rule_audit(request, _):
        s.admin(request.state.token)
        return {"audit": [asdict(e) for e in revenue_rules.audit(
            s.conn(), request.path_params["rule_id"])]}

    def _intent_once(payer: Account, cents: int, attempt_id: str) -> payments.Attempt:
        """The caller's payment id, recorded once: a concurrent confirm of the same id that
        records it first is the same payment; another account's is a conflict."""
        try:
            return payments.create_intent(s.conn(), payer, cents, attempt_id=attempt_id)
        except db.IntegrityError as e:
            if not e.duplicate:
                raise
        try:
            return payments.get(s.conn(), attempt_id, user=payer.owner_user_id)
        except NotFound:
            raise Conflict(f"payment id {attempt_id} is taken by another account") from None

    def _judge_and_settle(attempt_id: str) -> dict[str, Any]:
        judged = payments.verify(s.conn(), attempt_id, s.verifier, s.rail)
        minted = 0
        if judged.verdict == payments.VERIFIED:
            minted = sum(e.amount for e in payments.settle(s.conn(), attempt_id).entries
                         if e.reason == reasons.CREDITS_PURCHASE)
        attempt = payments.get(s.conn(), attempt_id)
        return _attempt(attempt, payments.status(s.conn(), attempt)) | {
            "txHash": judged.tx_hash, "detail": judged.detail, "creditsApplied": minted}

    def _pay_to(attempt: payments.Attempt) -> dict[str, Any]:
        due = s.rail.requirement(attempt.billing_account_id, attempt.amount_cents)
        return {"chainId": due.chain_id, "token": due.token, "to": due.recipient,
                "amount": due.min_amount}

    route = _router(s)
    routes = [
        route("/api/v1/auth/nonce", "POST", nonce),
        route("/api/v1/auth/verify", "POST", verify, {"message", "signature"}),
        route("/api/v1/payments/intents", "POST", create_intent, {"amountUsdCents", "purpose"}),
        route("/api/v1/payments/attempts/{attempt_id}/submit", "POST", submit, {"txHash"}),
        route("/api/v1/payments/attempts/{attempt_id}", "GET", attempt_status),
        route("/api/v1/payments/credits/summary", "GET", summary),
        route("/api/v1/payments/credits/confirm", "POST", confirm,
              {"amountUsdCents", "clientPaymentId", "txHash", "metadata"}),
        route("/api/v1/billing/reservations", "POST", reserve,
              {"credits", "idempotencyKey", "ttlSeconds"}),
        route("/api/v1/billing/reservations/{reservation_id}/finalize", "POST", finalize,
              {"credits"}),
        route("/api/v1/billing/reservations/{reservation_id}/release", "POST", release),
        route("/api/v1/admin/payments/{attempt_id}/refund", "POST", refund, {"reason"}),
        route("/api/v1/admin/revenue-rules", "POST", propose_rule, {"name", "share", "notes"}),
        route("/api/v1/admin/revenue-rules", "GET", list_rules),
        route("/api/v1/admin/revenue-rules/active", "GET", active_rule),
        route("/api/v1/admin/revenue-rules/activate-ready", "POST", activate_ready),
        route("/api/v1/admin/revenue-rules/{rule_id}/audit", "GET", rule_audit),
        route("/api/v1/admin/revenue-rules/{rule_id}/{action}", "PATCH", move_rule,
              {"reason", "cooldownHours"}),
    ]
    return Starlette(routes=routes)


def _router(service: Service):
    from starlette.concurrency import run_in_threadpool
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    def route(path: str, method: str, handler: Callable, fields: set[str] = frozenset()):
        async def endpoint(request: Request) -> JSONResponse:
            try:
                body = await _read_body(request, fields)
                request.state.token = _bearer(request)
                result = await run_in_threadpool(handler, request, body)
            except (BillingError, db.IntegrityError, db.PermissionDenied) as e:
                return _error(e)
            status, payload = result if isinstance(result, tuple) else (200, result)
            return JSONResponse(payload, status_code=status)

        return Route(path, endpoint, methods=[method])

    return route


async def _read_body(request, fields: set[str]) -> dict[str, Any]:
    if request.method == "GET":
        return {}
    raw = await request.body()
    if not raw:
        return {}
    try:
        import json

        body = json.loads(raw)
    except ValueError:
        raise BillingError("the body is not JSON") from None
    if not isinstance(body, dict):
        raise BillingError("the body must be a JSON object")
    named = sorted(k for k in body if k.replace("_", "").lower() in IDENTITY_KEYS)
    if named:
        raise _IdentityInBody(f"the body names {', '.join(named)}: the account is the"
                              " session's, never the request's")
    unknown = sorted(set(body) - set(fields))
    if unknown:
        raise BillingError(f"unknown field {', '.join(unknown)}; expected"
                           f" {', '.join(sorted(fields)) or 'no body'}")
    return body


class _IdentityInBody(BillingError):
    pass


def _bearer(request) -> str | None:
    header = request.headers.get("authorization", "")
    return header[7:].strip() if header.lower().startswith("bearer ") else None


def _error(error: BillingError | db.IntegrityError | db.PermissionDenied):
    from starlette.responses import JSONResponse

    if isinstance(error, db.PermissionDenied):  # the service overstepped its role: its fault
        return JSONResponse({"error": {"code": "internal", "message": "the database refused"
                                       " the service's role this write; nothing was written"}},
                            status_code=500)
    if isinstance(error, db.IntegrityError):
        # The database refused the write (its invariants held; nothing was written): a record
        # already written is the caller's conflict, anything else the service's own fault.
        status, code, message = (409, "conflict", "the request conflicts with a record already"
                                 " written") if error.duplicate else (
            500, "internal", "the database refused the write; nothing was written")
        return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)
    if isinstance(error, _IdentityInBody):
        status, code = 400, "identity_in_body"
    elif isinstance(error, Forbidden):
        status, code = 403, "forbidden"
    else:
        status, code = next((s, c) for kind, s, c in ERRORS if isinstance(error, kind))
    return JSONResponse({"error": {"code": code, "message": str(error)}}, status_code=status)


def _integer(body: dict[str, Any], key: str, default: int | None = None) -> int:
    value = body.get(key, default)
    if type(value) is not int:
        raise BillingError(f"{key} must be a JSON integer, got {value!r}")
    return value


def _text(body: dict[str, Any], key: str, default: str | None = None) -> str:
    value = body.get(key, default)
    if not isinstance(value, str) or not value:
        raise BillingError(f"{key} must be a non-empty string")
    return value


def _attempt(attempt: payments.Attempt, status: str) -> dict[str, Any]:
    return {"attemptId": attempt.id, "amountUsdCents": attempt.amount_cents,
            "purpose": attempt.purpose, "status": status, "createdAt": attempt.created_at}


def _reservation(reservation: lots.Reservation) -> dict[str, Any]:
    return {"reservationId": reservation.id, "credits": reservation.credits,
            "status": reservation.status, "consumedCredits": reservation.consumed_credits,
            "expiresAt": reservation.expires_at}


def serve(target: str, settings: Settings, *, host: str, port: int) -> None:
    """Run the API until interrupted; the rail comes from the repo spec, the chain from
    COGNI_BILLING_RPC_URL."""
    import uvicorn

    if not settings.rpc_url:
        raise BillingError("no chain node: set COGNI_BILLING_RPC_URL to its JSON-RPC URL")
    service = Service(target, rail_=rail.load(settings.spec),
                      verifier=chain.JsonRpcVerifier(settings.rpc_url), admins=settings.admins,
                      domain=f"{host}:{port}")
    uvicorn.run(create_app(service), host=host, port=port, log_level="info")
