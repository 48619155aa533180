"""Payment attempts and their settlement.

An attempt belongs to the paying user's account and records, once and for good, how much was
paid (integer cents) and its `purpose`: `self` (credits for the payer) or `system` (a donation
to the system tenant). There is no update path for either; the database refuses one too.

`settle` mints in one write transaction, with the attempt id as every leg's ledger reference:

- `self`: the payer gets 100% (`reasons.CREDITS_PURCHASE`) and the system tenant a bonus of
  floor(credits x SYSTEM_TENANT_REVENUE_SHARE) (`reasons.PLATFORM_REVENUE_SHARE`);
- `system`: the system tenant gets 100% (`reasons.SYSTEM_DONATION`) and no bonus is minted.

Settling twice is harmless: the first leg's unique index refuses the second mint, the
transaction rolls back and the result says `already_settled`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from billing import clock, db, ledger, reasons
from billing.accounts import Account, ServiceAccounts
from billing.env import RevenueShare
from billing.errors import BillingError, DuplicateEntry
from billing.units import cents_to_credits, require_cents

SELF = "self"
SYSTEM = "system"
PURPOSES = (SELF, SYSTEM)

CREATED = "created"
SETTLED = "settled"


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


def create_intent(
    conn: db.Connection, payer: Account, cents: int, purpose: str = SELF
) -> Attempt:
    """Record a payment attempt on the payer's own account."""
    if payer.is_system_tenant:
        raise BillingError("the system tenant does not pay; a payment attempt belongs to a user")
    if purpose not in PURPOSES:
        raise BillingError(f"bad purpose {purpose!r}: expected one of {', '.join(PURPOSES)}")
    attempt = Attempt(
        str(uuid.uuid4()), payer.id, purpose, require_cents(cents), CREATED, clock.now_ms(), None
    )
    with db.write(conn, user=payer.scope):
        conn.execute(
            "INSERT INTO payment_attempts (id, billing_account_id, purpose, amount_cents,"
            " status, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            (attempt.id, attempt.billing_account_id, attempt.purpose, attempt.amount_cents,
             attempt.status, attempt.created_at),
        )
    return attempt


def get(conn: db.Connection, attempt_id: str) -> Attempt:
    with db.read(conn):
        row = conn.execute(
            "SELECT id, billing_account_id, purpose, amount_cents, status, created_at, settled_at"
            " FROM payment_attempts WHERE id = ?",
            (attempt_id,),
        ).fetchone()
    if row is None:
        raise BillingError(f"unknown payment attempt {attempt_id!r}")
    return Attempt(*row)


def settle(conn: db.Connection, attempt_id: str, share: RevenueShare) -> Settlement:
    """Mint the attempt's credits exactly once; every leg commits together or not at all."""
    try:
        with db.write(conn):
            attempt = get(conn, attempt_id)
            system = ServiceAccounts(conn).system_tenant()
            db.lock_accounts(conn, attempt.billing_account_id, system.id)
            legs = _legs(attempt, system, share)
            entries = [_mint(conn, attempt, legs[0])]  # DuplicateEntry: settled before
            try:
                entries += [_mint(conn, attempt, leg) for leg in legs[1:]]
            except DuplicateEntry as e:
                raise BillingError(f"payment attempt {attempt_id!r} is half-minted: {e}") from None
            _mark_settled(conn, attempt)
    except DuplicateEntry:
        return Settlement(attempt_id, already_settled=True, entries=())
    return Settlement(attempt_id, already_settled=False, entries=tuple(entries))


def _legs(attempt: Attempt, system: Account, share: RevenueShare) -> list[_Leg]:
    credits = cents_to_credits(attempt.amount_cents)
    paid = {"attempt_id": attempt.id, "amount_cents": attempt.amount_cents,
            "purpose": attempt.purpose, "payer_account_id": attempt.billing_account_id}
    if attempt.purpose == SYSTEM:
        return [_Leg(system.id, credits, reasons.SYSTEM_DONATION, paid)]
    legs = [_Leg(attempt.billing_account_id, credits, reasons.CREDITS_PURCHASE, paid)]
    bonus = share.bonus(credits)
    if bonus > 0:
        share_of = {"attempt_id": attempt.id, "purchased_credits": credits, "share": str(share)}
        legs.append(_Leg(system.id, bonus, reasons.PLATFORM_REVENUE_SHARE, share_of))
    return legs


def _mint(conn: db.Connection, attempt: Attempt, leg: _Leg) -> ledger.Entry:
    return ledger.credit_account(
        conn, leg.account_id, leg.credits,
        reason=leg.reason, reference=attempt.id, metadata=leg.metadata,
    )


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
