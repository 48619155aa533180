"""`check`: every invariant of the billing database, verified from the stored rows alone.

The schema already refuses most broken writes; this is the audit for what a constraint cannot
express across tables, and for a file changed behind the service's back (a dropped trigger, a
hand-edited balance, a restored backup). Each invariant is one query over a single read
snapshot returning the offending rows; none is found for a healthy database.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from billing import clock, db, lots, payments, reasons
from billing.units import CREDITS_PER_CENT


@dataclass(frozen=True)
class Violation:
    invariant: str
    detail: str

    def __str__(self) -> str:
        return f"{self.invariant}: {self.detail}"


@dataclass(frozen=True)
class _Invariant:
    name: str
    sql: str
    params: tuple[object, ...]
    describe: Callable[[tuple], str]


INVARIANTS = (
    _Invariant(
        "one-system-tenant",
        "SELECT COUNT(*) FROM billing_accounts WHERE is_system_tenant = 1 HAVING COUNT(*) <> 1",
        (),
        lambda r: f"{r[0]} system tenant accounts, expected exactly 1",
    ),
    _Invariant(
        "balance-equals-ledger-sum",
        "SELECT a.id, a.balance_credits, CAST(COALESCE(SUM(l.amount), 0) AS BIGINT)"
        " FROM billing_accounts a LEFT JOIN credit_ledger l ON l.billing_account_id = a.id"
        " GROUP BY a.id HAVING a.balance_credits IS DISTINCT FROM COALESCE(SUM(l.amount), 0)",
        (),
        lambda r: f"account {r[0]} balance {r[1]} != ledger sum {r[2]}",
    ),
    _Invariant(
        "balance-after-chain",
        "SELECT id, billing_account_id, balance_after, running FROM (SELECT id,"
        " billing_account_id, balance_after, CAST(SUM(amount) OVER (PARTITION BY"
        " billing_account_id ORDER BY id) AS BIGINT) AS running FROM credit_ledger) AS chain"
        " WHERE balance_after IS DISTINCT FROM running",
        (),
        lambda r: f"ledger row {r[0]} of account {r[1]}: balance_after {r[2]}"
        f" != running sum {r[3]}",
    ),
    _Invariant(
        "lot-invariant",
        "SELECT id, available_credits, reserved_credits, consumed_credits, original_credits"
        " FROM credit_lots WHERE NOT (available_credits >= 0 AND reserved_credits >= 0"
        " AND consumed_credits >= 0"
        " AND available_credits + reserved_credits + consumed_credits = original_credits)",
        (),
        lambda r: f"lot {r[0]}: available {r[1]} + reserved {r[2]} + consumed {r[3]} != {r[4]}",
    ),
    _Invariant(
        "every-mint-is-one-lot",
        "SELECT l.id, l.amount, c.id, c.original_credits FROM credit_ledger l"
        " LEFT JOIN credit_lots c ON c.ledger_entry_id = l.id WHERE l.amount > 0"
        " AND (c.id IS NULL OR c.original_credits <> l.amount"
        " OR c.billing_account_id <> l.billing_account_id)"
        " UNION ALL SELECT NULL, NULL, c.id, c.original_credits FROM credit_lots c"
        " LEFT JOIN credit_ledger l ON l.id = c.ledger_entry_id"
        " WHERE l.id IS NULL OR l.amount <= 0",
        (),
        lambda r: f"ledger row {r[0]} (amount {r[1]}) and lot {r[2]} (original {r[3]}) disagree",
    ),
    _Invariant(
        "balance-equals-lots",
        "SELECT a.id, a.balance_credits, CAST(COALESCE(SUM(c.available_credits"
        " + c.reserved_credits), 0) AS BIGINT) FROM billing_accounts a LEFT JOIN credit_lots c"
        " ON c.billing_account_id = a.id GROUP BY a.id HAVING a.balance_credits IS DISTINCT FROM"
        " COALESCE(SUM(c.available_credits + c.reserved_credits), 0)",
        (),
        lambda r: f"account {r[0]} balance {r[1]} != available + reserved in its lots {r[2]}",
    ),
    _Invariant(
        "lots-match-reservations",
        "SELECT * FROM (SELECT c.id, c.reserved_credits, c.consumed_credits,"
        " CAST(COALESCE(SUM(CASE WHEN r.status = ? THEN rl.credits END), 0) AS BIGINT) AS held,"
        " CAST(COALESCE(SUM(CASE WHEN r.status = ? THEN rl.consumed_credits END), 0) AS BIGINT)"
        " + (SELECT COALESCE(SUM(lc.credits), 0) FROM lot_charges lc WHERE lc.lot_id = c.id)"
        " AS used FROM credit_lots c LEFT JOIN reservation_lots rl ON rl.lot_id = c.id"
        " LEFT JOIN credit_reservations r ON r.id = rl.reservation_id GROUP BY c.id) AS lot"
        " WHERE reserved_credits IS DISTINCT FROM held OR consumed_credits IS DISTINCT FROM used",
        (lots.PENDING, lots.FINALIZED),
        lambda r: f"lot {r[0]}: reserved {r[1]}, consumed {r[2]}; reservations hold {r[3]},"
        f" consumed with its charges {r[4]}",
    ),
    _Invariant(
        "reservations-match-their-lots",
        # A reservation's lots are its own account's and hold exactly what it reserved.
        "SELECT * FROM (SELECT r.id, r.credits, r.consumed_credits, CAST(COALESCE(SUM(CASE"
        " WHEN c.billing_account_id = r.billing_account_id THEN rl.credits END), 0) AS BIGINT)"
        " AS held, CAST(SUM(rl.consumed_credits) AS BIGINT) AS used FROM credit_reservations r"
        " LEFT JOIN reservation_lots rl ON rl.reservation_id = r.id"
        " LEFT JOIN credit_lots c ON c.id = rl.lot_id GROUP BY r.id) AS reservation"
        " WHERE credits IS DISTINCT FROM held OR consumed_credits IS DISTINCT FROM used",
        (),
        lambda r: f"reservation {r[0]} of {r[1]} credits (consumed {r[2]}): its lots hold {r[3]}"
        f" (consumed {r[4]})",
    ),
    _Invariant(
        "usage-matches-reservations",
        "SELECT l.id, l.reference, -l.amount, r.consumed_credits FROM credit_ledger l"
        " LEFT JOIN credit_reservations r ON r.id = l.reference"
        " AND r.billing_account_id = l.billing_account_id"
        " WHERE l.reason = ? AND r.consumed_credits IS DISTINCT FROM -l.amount"
        " UNION ALL SELECT NULL, r.id, NULL, r.consumed_credits FROM credit_reservations r"
        " WHERE r.consumed_credits > 0 AND NOT EXISTS (SELECT 1 FROM credit_ledger l"
        " WHERE l.reason = ? AND l.reference = r.id)",
        (reasons.USAGE_CHARGE, reasons.USAGE_CHARGE),
        lambda r: f"usage row {r[0]} charges {r[2]} for reservation {r[1]}, which consumed {r[3]}",
    ),
    _Invariant(
        "payment-reference-is-attempt",
        "SELECT l.id, l.reason, l.reference FROM credit_ledger l"
        " LEFT JOIN payment_attempts p ON p.id = l.reference"
        " WHERE l.reason IN (?, ?, ?) AND (p.id IS NULL OR p.status <> ?)",
        (*reasons.PAYMENT_REASONS, payments.SETTLED),
        lambda r: f"ledger row {r[0]} ({r[1]}) references {r[2]!r}, not a settled payment attempt",
    ),
    _Invariant(
        "settled-payment-minted-in-full",
        # For each attempt: what its purpose must have minted, and what the ledger holds.
        "SELECT * FROM (SELECT p.id, p.status, p.purpose, p.amount_cents * ? AS due,"
        " (SELECT CAST(SUM(l.amount) AS BIGINT) FROM credit_ledger l WHERE l.reference = p.id"
        "  AND ((p.purpose = ? AND l.reason = ? AND l.billing_account_id = p.billing_account_id)"
        "   OR (p.purpose = ? AND l.reason = ? AND l.billing_account_id = s.id))) AS paid,"
        " (SELECT COUNT(*) FROM credit_ledger l WHERE l.reference = p.id"
        "  AND l.reason NOT IN (?, ?) AND NOT"
        "  ((p.purpose = ? AND l.reason = ? AND l.billing_account_id = p.billing_account_id)"
        "   OR (p.purpose = ? AND l.reason = ? AND l.billing_account_id = s.id)"
        "   OR (p.purpose = ? AND l.reason = ? AND l.billing_account_id = s.id))) AS stray"
        " FROM payment_attempts p LEFT JOIN billing_accounts s ON s.is_system_tenant = 1"
        ") AS attempt WHERE (status = ?) IS DISTINCT FROM (paid IS NOT DISTINCT FROM due)"
        " OR stray > 0",
        (
            CREDITS_PER_CENT,
            payments.SELF, reasons.CREDITS_PURCHASE, payments.SYSTEM, reasons.SYSTEM_DONATION,
            reasons.REFUND_CLAWBACK, reasons.DEBT_REPAYMENT,  # checked by their own invariants
            payments.SELF, reasons.CREDITS_PURCHASE, payments.SYSTEM, reasons.SYSTEM_DONATION,
            payments.SELF, reasons.PLATFORM_REVENUE_SHARE,
            payments.SETTLED,
        ),
        lambda r: f"payment attempt {r[0]} ({r[1]}, purpose {r[2]}): {r[3]} credits due,"
        f" {r[4]} minted, {r[5]} misplaced ledger rows",
    ),
)


INVARIANTS += (
    _Invariant(
        "lot-charges-match-ledger",
        # What refunds and repayments took from lots is what their ledger rows say, per account.
        "SELECT l.id, l.reason, l.reference, -l.amount, CAST((SELECT COALESCE(SUM(lc.credits), 0)"
        " FROM lot_charges lc JOIN credit_lots c ON c.id = lc.lot_id WHERE lc.reason = l.reason"
        " AND lc.reference = l.reference AND c.billing_account_id = l.billing_account_id)"
        " AS BIGINT) AS charged FROM credit_ledger l WHERE l.reason IN (?, ?)"
        " AND -l.amount IS DISTINCT FROM (SELECT COALESCE(SUM(lc.credits), 0) FROM lot_charges lc"
        " JOIN credit_lots c ON c.id = lc.lot_id WHERE lc.reason = l.reason"
        " AND lc.reference = l.reference AND c.billing_account_id = l.billing_account_id)",
        (reasons.REFUND_CLAWBACK, reasons.DEBT_REPAYMENT),
        lambda r: f"ledger row {r[0]} ({r[1]} {r[2]}) takes {r[3]}, its lots were charged {r[4]}",
    ),
    _Invariant(
        "refund-takes-back-what-was-minted",
        # Each leg of a refunded payment: clawed back + debt = minted.
        "SELECT * FROM (SELECT m.id, m.reference, m.amount, COALESCE((SELECT -c.amount FROM"
        " credit_ledger c WHERE c.reference = m.reference AND c.billing_account_id ="
        " m.billing_account_id AND c.reason = ?), 0) AS clawed, COALESCE((SELECT d.debt_credits"
        " FROM credit_debts d WHERE d.attempt_id = m.reference AND d.billing_account_id ="
        " m.billing_account_id), 0) AS debt FROM credit_ledger m JOIN payment_refunds f"
        " ON f.attempt_id = m.reference WHERE m.reason IN (?, ?, ?)) AS leg"
        " WHERE clawed + debt <> amount",
        (reasons.REFUND_CLAWBACK, *reasons.PAYMENT_REASONS),
        lambda r: f"ledger row {r[0]} minted {r[2]} for refunded {r[1]}: {r[3]} clawed back,"
        f" {r[4]} owed",
    ),
    _Invariant(
        "debts-repaid-by-the-ledger",
        "SELECT a.id, CAST(COALESCE((SELECT SUM(repaid_credits) FROM credit_debts d"
        " WHERE d.billing_account_id = a.id), 0) AS BIGINT), CAST(COALESCE((SELECT"
        " SUM(-l.amount) FROM credit_ledger l WHERE l.billing_account_id = a.id"
        " AND l.reason = ?), 0) AS BIGINT) FROM billing_accounts a"
        " WHERE COALESCE((SELECT SUM(repaid_credits) FROM credit_debts d"
        " WHERE d.billing_account_id = a.id), 0) <> COALESCE((SELECT SUM(-l.amount)"
        " FROM credit_ledger l WHERE l.billing_account_id = a.id AND l.reason = ?), 0)",
        (reasons.DEBT_REPAYMENT, reasons.DEBT_REPAYMENT),
        lambda r: f"account {r[0]}: debts repaid {r[1]}, ledger repayments {r[2]}",
    ),
    _Invariant(
        "settled-payment-verified",
        "SELECT p.id FROM payment_attempts p LEFT JOIN payment_transactions t"
        " ON t.attempt_id = p.id WHERE p.status = ? AND (t.verdict IS NULL OR t.verdict <> ?)",
        (payments.SETTLED, payments.VERIFIED),
        lambda r: f"payment attempt {r[0]} is settled without a verified transaction",
    ),
    _Invariant(
        "expired-reservation-not-swept",
        # An orphan: pending past its expiry, its credits still held; the sweeper frees it.
        "SELECT id, billing_account_id, credits, expires_at FROM credit_reservations"
        " WHERE status = ? AND expires_at <= ?",
        (lots.PENDING, None),
        lambda r: f"reservation {r[0]} of account {r[1]} holds {r[2]} credits past its expiry"
        f" {r[3]}; run `sweep`",
    ),
)


def check(conn: db.Connection) -> list[Violation]:
    """Every broken invariant, in a fixed order; an empty list means the database is sound."""
    found = []
    now = clock.now_ms()
    with db.read(conn):
        for invariant in INVARIANTS:
            params = tuple(now if p is None else p for p in invariant.params)
            for row in conn.execute(invariant.sql, params).fetchall():
                found.append(Violation(invariant.name, invariant.describe(row)))
    return found
