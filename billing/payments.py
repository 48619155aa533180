"""Payment attempts and their settlement.

An attempt belongs to the paying user's account and records, once and for good, how much was
paid (integer cents) and its `purpose`: `self` (credits for the payer) or `system` (a donation
to the system tenant). There is no update path for either; the database refuses one too.

The payer then `submit`s the transaction that paid (its hash, once: a hash pays for one
attempt), a `chain.Verifier` judges it (`verify`), and only a verified attempt is settled. The
database refuses a payment ledger row whose attempt has no verified transaction, too.

`settle` mints in one write transaction, with the attempt id as every leg's ledger reference:

- `self`: the payer gets 100% (`reasons.CREDITS_PURCHASE`) and the system tenant a bonus of
  floor(credits x the active revenue rule's share) (`reasons.PLATFORM_REVENUE_SHARE`, with the
  rule's id in the row's metadata);
- `system`: the system tenant gets 100% (`reasons.SYSTEM_DONATION`) and no bonus is minted.

An account that owes a refund's debt repays it from what it is minted, in the same
transaction (`reasons.DEBT_REPAYMENT`). Settling twice is harmless: the first leg's unique
index refuses the second mint, the transaction rolls back and the result says
`already_settled`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from billing import chain, clock, db, ledger, reasons, revenue_rules
from billing.accounts import Account, ServiceAccounts
from billing.env import RevenueShare
from billing.errors import BillingError, Conflict, DuplicateEntry, NotFound
from billing.rail import Rail
from billing.units import cents_to_credits, require_cents

SELF = "self"
SYSTEM = "system"
PURPOSES = (SELF, SYSTEM)

CREATED = "created"
SETTLED = "settled"
VERIFIED, REFUSED = "verified", "refused"


@dataclass(frozen=True)
class Attempt:
    id: str
    billing_account_id: str
    purpose: str
    amount_cents: int
    status: str
    created_at: int
    settled_at: int | None


@dataclass(frozen=True)
class Settlement:
    attempt_id: str
    already_settled: bool
    entries: tuple[ledger.Entry, ...]  # what this call minted; empty when already settled


@dataclass(frozen=True)
class _Leg:
    account_id: str
    credits: int
    reason: str
    metadata: dict[str, Any]


@dataclass(frozen=True)
class Transaction:
    attempt_id: str
    chain_id: int
    tx_hash: str
    from_address: str
    submitted_at: int
    verdict: str | None
    detail: str | None
    verified_at: int | None


def create_intent(
    conn: db.Connection, payer: Account, cents: int, purpose: str = SELF,
    attempt_id: str | None = None,
) -> Attempt:
    """Record a payment attempt on the payer's own account (`attempt_id`: the caller's UUID)."""
    if payer.is_system_tenant:
        raise BillingError("the system tenant does not pay; a payment attempt belongs to a user")
    if purpose not in PURPOSES:
        raise BillingError(f"bad purpose {purpose!r}: expected one of {', '.join(PURPOSES)}")
    attempt = Attempt(
        payment_id(attempt_id), payer.id, purpose, require_cents(cents), CREATED, clock.now_ms(), None
    )
    with db.write(conn, user=payer.scope):
        conn.execute(
            "INSERT INTO payment_attempts (id, billing_account_id, purpose, amount_cents,"
            " status, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            (attempt.id, attempt.billing_account_id, attempt.purpose, attempt.amount_cents,
             attempt.status, attempt.created_at),
        )
    return attempt


def get(conn: db.Connection, attempt_id: str, *, user: str | None = None) -> Attempt:
    """The attempt; with `user`, only if it is that user's (read in the user's scope)."""
    owned = ("" if user is None else " AND billing_account_id IN (SELECT id FROM billing_accounts"
             " WHERE owner_user_id = ? AND is_system_tenant = 0)")  # another user's is unknown
    with db.read(conn, user=user):
        row = conn.execute(
            "SELECT id, billing_account_id, purpose, amount_cents, status, created_at, settled_at"
            " FROM payment_attempts WHERE id = ?" + owned,
            (attempt_id,) if user is None else (attempt_id, user),
        ).fetchone()
    if row is None:
        raise NotFound(f"unknown payment attempt {attempt_id!r}")
    return Attempt(*row)


def submit(conn: db.Connection, payer: Account, attempt_id: str, tx_hash: str,
           rail: Rail, *, wallet: str | None = None) -> Transaction:
    """Record the transaction that pays for the payer's attempt, from the payer's `wallet`
    (default: the user id, which is the wallet of a user signed in with Ethereum). The same
    hash again is a no-op; another hash, or one that already paid for another attempt, is
    refused."""
    tx_hash = chain.valid_tx_hash(tx_hash)
    wallet = chain.valid_address(wallet or payer.owner_user_id, "payer wallet")
    attempt = get(conn, attempt_id, user=payer.owner_user_id)
    recorded = transaction(conn, attempt.id)
    if recorded is not None:
        if recorded.tx_hash != tx_hash:
            raise Conflict(f"payment attempt {attempt.id!r} is paid by transaction"
                           f" {recorded.tx_hash}, not {tx_hash}")
        return recorded
    try:
        with db.write(conn, user=payer.owner_user_id):
            conn.execute(
                "INSERT INTO payment_transactions (attempt_id, chain_id, tx_hash, from_address,"
                " submitted_at) VALUES (?, ?, ?, ?, ?)",
                (attempt.id, rail.chain_id, tx_hash, wallet, clock.now_ms()))
    except db.IntegrityError as e:
        if not e.duplicate:
            raise
        raced = transaction(conn, attempt.id)  # a concurrent submit may have recorded it first
        if raced is None:
            raise Conflict(f"transaction {tx_hash} already pays for a payment attempt;"
                           " a transaction pays once") from None
        if raced.tx_hash != tx_hash:
            raise Conflict(f"payment attempt {attempt.id!r} is paid by transaction"
                           f" {raced.tx_hash}, not {tx_hash}") from None
        return raced
    return transaction(conn, attempt.id)


def verify(conn: db.Connection, attempt_id: str, verifier: chain.Verifier,
           rail: Rail) -> Transaction:
    """Ask the verifier about the attempt's transaction and record its verdict, once. A pending
    one (not mined, too few confirmations) records nothing: ask again later."""
    attempt = get(conn, attempt_id)
    recorded = transaction(conn, attempt.id)
    if recorded is None:
        raise BillingError(f"payment attempt {attempt.id!r} has no transaction; submit it first")
    if recorded.verdict is not None:
        return recorded
    requirement = rail.requirement(recorded.from_address, attempt.amount_cents)
    verdict = verifier.verify(recorded.tx_hash, requirement)  # no transaction open meanwhile
    if verdict.pending:
        return Transaction(**{**recorded.__dict__, "detail": verdict.detail})
    with db.write(conn):
        conn.execute(
            "UPDATE payment_transactions SET verdict = ?, detail = ?, verified_at = ?"
            " WHERE attempt_id = ? AND verdict IS NULL",
            (VERIFIED if verdict.verified else REFUSED, verdict.detail, clock.now_ms(),
             attempt.id))
    return transaction(conn, attempt.id)


def transaction(conn: db.Connection, attempt_id: str) -> Transaction | None:
    with db.read(conn):
        row = conn.execute(
            "SELECT attempt_id, chain_id, tx_hash, from_address, submitted_at, verdict, detail,"
            " verified_at FROM payment_transactions WHERE attempt_id = ?", (attempt_id,)
        ).fetchone()
    return None if row is None else Transaction(*row)


def status(conn: db.Connection, attempt: Attempt) -> str:
    """created, submitted, refused, verified, settled or refunded."""
    with db.read(conn):
        if conn.execute("SELECT 1 FROM payment_refunds WHERE attempt_id = ?",
                        (attempt.id,)).fetchone():
            return "refunded"
    if attempt.status == SETTLED:
        return SETTLED
    recorded = transaction(conn, attempt.id)
    if recorded is None:
        return CREATED
    return recorded.verdict or "submitted"


def settle(conn: db.Connection, attempt_id: str) -> Settlement:
    """Mint a verified attempt's credits exactly once; every leg commits together or not at all."""
    try:
        with db.write(conn):
            attempt = get(conn, attempt_id)
            recorded = transaction(conn, attempt.id)
            if recorded is None or recorded.verdict != VERIFIED:
                raise BillingError(
                    f"payment attempt {attempt_id!r} has no verified transaction; nothing is"
                    " minted before the chain confirms the payment")
            system = ServiceAccounts(conn).system_tenant()
            db.lock_accounts(conn, attempt.billing_account_id, system.id)
            legs = _legs(attempt, system, revenue_rules.active(conn))
            entries = [_mint(conn, attempt, legs[0])]  # DuplicateEntry: settled before
            try:
                entries += [_mint(conn, attempt, leg) for leg in legs[1:]]
            except DuplicateEntry as e:
                raise BillingError(f"payment attempt {attempt_id!r} is half-minted: {e}") from None
            for entry in entries:
                _repay_debts(conn, entry, attempt.id)
            _mark_settled(conn, attempt)
    except DuplicateEntry:
        return Settlement(attempt_id, already_settled=True, entries=())
    return Settlement(attempt_id, already_settled=False, entries=tuple(entries))


def _legs(attempt: Attempt, system: Account, rule: revenue_rules.Rule) -> list[_Leg]:
    credits = cents_to_credits(attempt.amount_cents)
    paid = {"attempt_id": attempt.id, "amount_cents": attempt.amount_cents,
            "purpose": attempt.purpose, "payer_account_id": attempt.billing_account_id}
    if attempt.purpose == SYSTEM:
        return [_Leg(system.id, credits, reasons.SYSTEM_DONATION, paid)]
    legs = [_Leg(attempt.billing_account_id, credits, reasons.CREDITS_PURCHASE, paid)]
    share: RevenueShare = rule.share
    bonus = share.bonus(credits)
    if bonus > 0:
        share_of = {"attempt_id": attempt.id, "purchased_credits": credits, "share": str(share),
                    "revenue_rule_id": rule.id}
        legs.append(_Leg(system.id, bonus, reasons.PLATFORM_REVENUE_SHARE, share_of))
    return legs


def _mint(conn: db.Connection, attempt: Attempt, leg: _Leg) -> ledger.Entry:
    return ledger.credit_account(
        conn, leg.account_id, leg.credits,
        reason=leg.reason, reference=attempt.id, metadata=leg.metadata,
    )


def _repay_debts(conn: db.Connection, minted: ledger.Entry, attempt_id: str) -> None:
    """What the account owes from refunds is repaid first from what it was just minted."""
    debts = conn.execute(
        "SELECT id, debt_credits - repaid_credits FROM credit_debts"
        " WHERE billing_account_id = ? AND repaid_credits < debt_credits ORDER BY id",
        (minted.billing_account_id,)).fetchall()
    due = min(minted.amount, sum(owed for _, owed in debts))
    if due <= 0:
        return
    taken = ledger.take_back(conn, minted.billing_account_id, due,
                             reason=reasons.DEBT_REPAYMENT, reference=attempt_id)
    for debt_id, owed in debts:
        paid = min(owed, taken)
        if paid:
            conn.execute("UPDATE credit_debts SET repaid_credits = repaid_credits + ?"
                         " WHERE id = ?", (paid, debt_id))
        taken -= paid


def _mark_settled(conn: db.Connection, attempt: Attempt) -> None:
    updated = conn.execute(
        "UPDATE payment_attempts SET status = ?, settled_at = ? WHERE id = ? AND status = ?",
        (SETTLED, clock.now_ms(), attempt.id, CREATED),
    ).rowcount
    if updated != 1:
        raise BillingError(
            f"payment attempt {attempt.id!r} is marked settled but its credits are not in the"
            " ledger; run `check`"
        )


def payment_id(attempt_id: str | None) -> str:
    """A payment id as it is recorded: the caller's UUID in its canonical (lower-case) form, or
    a new one."""
    if attempt_id is None:
        return str(uuid.uuid4())
    try:
        return str(uuid.UUID(str(attempt_id)))
    except ValueError:
        raise BillingError(f"bad payment id {attempt_id!r}: expected a UUID") from None
