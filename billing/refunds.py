"""Refunds: a settled payment given back, without ever rewriting the ledger.

`refund` takes back what the payment minted, leg by leg (the payer's credits, the system
tenant's bonus, or the donation), LIFO from each account's available credits, as
`reasons.REFUND_CLAWBACK` ledger rows; what was already consumed or reserved cannot be taken
back and becomes a debt of that account. An account with a debt reserves nothing until its
next payment repays it (`payments.settle`). A refund is recorded once per attempt: a second
refund of the same attempt returns the first.
"""

from __future__ import annotations

from dataclasses import dataclass

from billing import clock, db, ledger, payments, reasons
from billing.errors import BillingError


@dataclass(frozen=True)
class Leg:
    account_id: str
    minted: int
    clawed_back: int
    debt: int


@dataclass(frozen=True)
class Refund:
    attempt_id: str
    already_refunded: bool
    legs: tuple[Leg, ...]


def refund(conn: db.Connection, attempt_id: str, *, actor: str, why: str) -> Refund:
    if not actor.strip() or not why.strip():
        raise BillingError("a refund names its actor and says why")
    attempt = payments.get(conn, attempt_id)
    if attempt.status != payments.SETTLED:
        raise BillingError(f"payment attempt {attempt_id!r} is not settled; nothing to refund")
    with db.write(conn):
        if conn.execute("SELECT 1 FROM payment_refunds WHERE attempt_id = ?",
                        (attempt.id,)).fetchone():
            return Refund(attempt.id, True, _legs(conn, attempt.id))
        minted = conn.execute(
            "SELECT billing_account_id, amount FROM credit_ledger WHERE reference = ?"
            " AND reason IN (?, ?, ?) ORDER BY id", (attempt.id, *reasons.PAYMENT_REASONS)
        ).fetchall()
        db.lock_accounts(conn, *(account_id for account_id, _ in minted))
        conn.execute("INSERT INTO payment_refunds (attempt_id, actor, why, refunded_at)"
                     " VALUES (?, ?, ?, ?)", (attempt.id, actor, why, clock.now_ms()))
        for account_id, amount in minted:
            taken = ledger.take_back(conn, account_id, amount, reason=reasons.REFUND_CLAWBACK,
                                     reference=attempt.id)
            if amount > taken:
                conn.execute(
                    "INSERT INTO credit_debts (billing_account_id, attempt_id, debt_credits,"
                    " created_at) VALUES (?, ?, ?, ?)",
                    (account_id, attempt.id, amount - taken, clock.now_ms()))
        return Refund(attempt.id, False, _legs(conn, attempt.id))


def outstanding_debt(conn: db.Connection, account_id: str, *, user: str | None = None) -> int:
    with db.read(conn, user=user):
        (owed,) = conn.execute(
            "SELECT CAST(COALESCE(SUM(debt_credits - repaid_credits), 0) AS BIGINT)"
            " FROM credit_debts WHERE billing_account_id = ?", (account_id,)).fetchone()
    return owed


def _legs(conn: db.Connection, attempt_id: str) -> tuple[Leg, ...]:
    rows = conn.execute(
        "SELECT m.billing_account_id, m.amount,"
        " COALESCE((SELECT -c.amount FROM credit_ledger c WHERE c.reference = m.reference"
        "  AND c.billing_account_id = m.billing_account_id AND c.reason = ?), 0),"
        " COALESCE((SELECT d.debt_credits FROM credit_debts d WHERE d.attempt_id = m.reference"
        "  AND d.billing_account_id = m.billing_account_id), 0)"
        " FROM credit_ledger m WHERE m.reference = ? AND m.reason IN (?, ?, ?) ORDER BY m.id",
        (reasons.REFUND_CLAWBACK, attempt_id, *reasons.PAYMENT_REASONS)).fetchall()
    return tuple(Leg(*row) for row in rows)
