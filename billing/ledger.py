"""The credit ledger: the one place that appends ledger rows and mints lots.

Rows are only ever inserted. The database keeps the rest honest: a trigger refuses any change
or deletion, a trigger refuses a row whose `balance_after` is not the account's balance plus
its amount, and the same insert moves `billing_accounts.balance_credits` to `balance_after`,
so balance and ledger cannot disagree. A second entry for the same (account, reference) under
the same reason is refused by a unique index and surfaces here as `DuplicateEntry`.

Both writers must run inside `db.write(conn)`, together with whatever else the caller commits;
on PostgreSQL they lock the account's row first, so appends to one account take turns.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from billing import clock, db, reasons
from billing.errors import BillingError, DuplicateEntry, NotFound
from billing.units import require_credits

GENERAL_POOL = "general"
MAX_BALANCE = 2**63 - 1  # a signed 64-bit integer column, in both backends


@dataclass(frozen=True)
class Entry:
    id: int
    billing_account_id: str
    amount: int
    balance_after: int
    reason: str
    reference: str
    metadata: dict[str, Any]
    created_at: int

    @classmethod
    def from_row(cls, row: tuple) -> Entry:
        metadata = json.loads(row[6]) if isinstance(row[6], str) else row[6]  # jsonb: a dict
        return cls(row[0], row[1], row[2], row[3], row[4], row[5], metadata, row[7])


def credit_account(
    conn: db.Connection,
    account_id: str,
    credits: int,
    *,
    reason: str,
    reference: str,
    metadata: dict[str, Any] | None = None,
    pool: str = GENERAL_POOL,
    expires_at: int | None = None,
) -> Entry:
    """Mint `credits` to the account: one ledger row plus the lot that holds them."""
    if reason not in reasons.PAYMENT_REASONS:
        raise ValueError(f"{reason!r} does not mint credits")
    entry = _append(conn, account_id, require_credits(credits), reason, reference, metadata)
    conn.defer(
        "INSERT INTO credit_lots (billing_account_id, ledger_entry_id, pool_id, expires_at,"
        " original_credits, available_credits, reserved_credits, consumed_credits, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, 0, 0, ?)",
        (account_id, entry.id, pool, expires_at, credits, credits, entry.created_at),
    )
    return entry


def debit_account(
    conn: db.Connection,
    account_id: str,
    credits: int,
    *,
    reason: str,
    reference: str,
    metadata: dict[str, Any] | None = None,
) -> Entry:
    """Record `credits` consumed from the account (the lots were already drawn down)."""
    if reason not in reasons.DEBIT_REASONS:
        raise ValueError(f"{reason!r} does not consume credits")
    return _append(conn, account_id, -require_credits(credits), reason, reference, metadata)


def take_back(conn: db.Connection, account_id: str, credits: int, *, reason: str,
              reference: str) -> int:
    """Take up to `credits` of the account's available credits back, newest lot first (LIFO),
    whatever their expiry: each lot's share is a `lot_charges` row, the total one ledger row.
    Returns what was taken (less than asked when less is available; never an overdraft)."""
    if reason not in (reasons.REFUND_CLAWBACK, reasons.DEBT_REPAYMENT):
        raise ValueError(f"{reason!r} does not take credits back")
    db.lock_accounts(conn, account_id)
    lots = conn.execute(
        "SELECT id, available_credits FROM credit_lots WHERE billing_account_id = ?"
        " AND available_credits > 0 ORDER BY id DESC", (account_id,)).fetchall()
    taken = 0
    for lot_id, available in lots:
        part = min(available, credits - taken)
        if part <= 0:
            break
        conn.defer(
            "UPDATE credit_lots SET available_credits = available_credits - ?,"
            " consumed_credits = consumed_credits + ? WHERE id = ?", (part, part, lot_id))
        conn.defer("INSERT INTO lot_charges (lot_id, reason, reference, credits)"
                     " VALUES (?, ?, ?, ?)", (lot_id, reason, reference, part))
        taken += part
    if taken:
        _append(conn, account_id, -taken, reason, reference, {"asked_credits": credits})
    return taken


def entries(conn: db.Connection, account_id: str | None = None, *,
            latest: int | None = None) -> list[Entry]:
    """The ledger's rows (one account's, with `account_id`), oldest first; with `latest`, only
    that many of the newest, read as such."""
    where, params = ("", ()) if account_id is None else (" WHERE billing_account_id = ?", (account_id,))
    limit = "" if latest is None else f" ORDER BY id DESC LIMIT {int(latest)}"
    with db.read(conn):
        rows = conn.execute(
            "SELECT id, billing_account_id, amount, balance_after, reason, reference, metadata,"
            " created_at FROM credit_ledger" + where + (limit or " ORDER BY id"), params).fetchall()
    return [Entry.from_row(row) for row in (reversed(rows) if latest is not None else rows)]


def _append(
    conn: db.Connection,
    account_id: str,
    amount: int,
    reason: str,
    reference: str,
    metadata: dict[str, Any] | None,
) -> Entry:
    db.lock_accounts(conn, account_id)
    created_at, data = clock.now_ms(), dict(metadata or {})
    try:  # the balance read and the row written in one statement (one round trip)
        row = conn.execute(
            "INSERT INTO credit_ledger (billing_account_id, amount, balance_after, reason,"
            " reference, metadata, created_at) SELECT id, ?, balance_credits + ?, ?, ?, ?, ?"
            " FROM billing_accounts WHERE id = ? AND balance_credits <= ?"
            " RETURNING id, balance_after",
            (amount, amount, reason, reference, json.dumps(data, sort_keys=True), created_at,
             account_id, MAX_BALANCE - max(amount, 0)),
        ).fetchone()
    except db.IntegrityError as e:
        if e.duplicate and e.table in (None, "credit_ledger"):
            raise DuplicateEntry(
                f"the ledger already holds a {reason} entry for {reference!r}"
                f" on account {account_id!r}"
            ) from None
        raise
    if row is None:  # no such account, or one whose balance would overflow
        held = conn.execute(
            "SELECT balance_credits FROM billing_accounts WHERE id = ?", (account_id,)
        ).fetchone()
        if held is None:
            raise NotFound(f"unknown billing account {account_id!r}")
        raise BillingError(
            f"account {account_id!r} would hold {held[0] + amount} credits, more than a balance"
            f" can hold ({MAX_BALANCE}); refusing the {reason} of {amount}"
        )
    return Entry(id=row[0], billing_account_id=account_id, amount=amount,
                 balance_after=row[1], reason=reason, reference=reference, metadata=data,
                 created_at=created_at)
