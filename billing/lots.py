"""Credit lots and reservations: spend credits in two steps without ever overdrawing.

Every mint is a lot (`ledger.credit_account`). A reservation moves credits from `available`
to `reserved` on lots taken FIFO - lots of the requested pool before general ones, expiring
before non-expiring, soonest expiry first, oldest first - inside one write transaction that
holds the account (SQLite: the only writer; PostgreSQL: the account's row locked), so two
reservations can never take the same credit, and on PostgreSQL reservations of different
accounts never wait for each other. Closing it moves them on:

- `finalize(actual)`: `actual` credits become `consumed` (in the same FIFO order) and one
  `reasons.USAGE_CHARGE` ledger row, the surplus goes back to `available`; repeating it with
  the same amount returns the first result, a different amount is refused;
- `release`: everything goes back to `available`;
- `sweep`: pending reservations past their expiry are closed as `expired`, like a release.

Each lot keeps `available + reserved + consumed = original`, all >= 0 (a CHECK constraint).
An overdue reservation stays finalizable until the sweeper has expired it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from billing import clock, db, ledger, reasons
from billing.accounts import Account
from billing.errors import BillingError, Conflict, InsufficientCredits, NotFound
from billing.ledger import GENERAL_POOL
from billing.units import require_credits

PENDING = "pending"
FINALIZED = "finalized"
RELEASED = "released"
EXPIRED = "expired"

DEFAULT_TTL_SECONDS = 300
MAX_TTL_SECONDS = 7 * 24 * 3600
SWEEP_BATCH = 100


@dataclass(frozen=True)
class Reservation:
    id: str
    billing_account_id: str
    pool_id: str
    credits: int
    status: str
    consumed_credits: int | None
    created_at: int
    expires_at: int
    closed_at: int | None


def reserve(
    conn: db.Connection,
    account: Account,
    credits: int,
    *,
    ttl_seconds: int = DEFAULT_TTL_SECONDS,
    pool: str = GENERAL_POOL,
    now: int | None = None,
    idempotency_key: str | None = None,
) -> Reservation:
    """Hold `credits` of the account's usable lots until finalized, released or expired.

    With an `idempotency_key`, a retry returns the reservation the key first made (the same
    key with other terms is refused). An account that owes a refund's debt reserves nothing."""
    require_credits(credits)
    if idempotency_key is not None and not 0 < len(idempotency_key.strip()) <= 200:
        raise BillingError(f"bad idempotency key {idempotency_key!r}: 1 to 200 characters")
    if type(ttl_seconds) is not int or not 0 < ttl_seconds <= MAX_TTL_SECONDS:
        raise BillingError(f"bad ttl {ttl_seconds!r}: expected 1 to {MAX_TTL_SECONDS} seconds")
    if not pool or pool != pool.strip():
        raise BillingError(f"bad pool {pool!r}: expected a name such as {GENERAL_POOL!r}")
    with db.write(conn, user=account.scope):
        now = clock.now_ms() if now is None else now
        db.lock_accounts(conn, account.id)
        # What the reservation depends on, read at once under the account's lock: its debt,
        # its usable lots and (with a key) the key's earlier reservation.
        owed, usable, *earlier = conn.fetch_all([
            ("SELECT CAST(COALESCE(SUM(debt_credits - repaid_credits), 0) AS BIGINT)"
             " FROM credit_debts WHERE billing_account_id = ?", (account.id,)),
            _usable_lots(conn, account, pool, now),
            *([(f"SELECT {_RESERVATION} FROM credit_reservations"
                " WHERE billing_account_id = ? AND idempotency_key = ?",
                (account.id, idempotency_key))] if idempotency_key is not None else []),
        ])
        if earlier and earlier[0]:
            repeat = Reservation(*earlier[0][0])
            if (repeat.credits, repeat.pool_id) != (credits, pool):
                raise Conflict(
                    f"idempotency key {idempotency_key!r} already reserved"
                    f" {repeat.credits} credits ({repeat.pool_id}); refusing other terms")
            return repeat
        if owed[0][0] > 0:
            raise InsufficientCredits(
                f"the account owes {owed[0][0]} credits from a refunded payment; its next"
                " payment repays them, and until then it reserves nothing")
        taken = _take_fifo(usable, credits)
        reservation = Reservation(
            str(uuid.uuid4()), account.id, pool, credits, PENDING, None,
            now, now + ttl_seconds * 1000, None,
        )
        conn.defer(
            "INSERT INTO credit_reservations (id, billing_account_id, pool_id, credits, status,"
            " created_at, expires_at, idempotency_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (reservation.id, account.id, pool, credits, PENDING, now, reservation.expires_at,
             idempotency_key),
        )
        for position, (lot_id, held) in enumerate(taken):
            conn.defer(
                "UPDATE credit_lots SET available_credits = available_credits - ?,"
                " reserved_credits = reserved_credits + ? WHERE id = ?",
                (held, held, lot_id),
            )
            conn.defer(
                "INSERT INTO reservation_lots (reservation_id, position, lot_id, credits)"
                " VALUES (?, ?, ?, ?)",
                (reservation.id, position, lot_id, held),
            )
    return reservation


def finalize(conn: db.Connection, reservation_id: str, actual: int, *,
             owner: Account | None = None) -> Reservation:
    """Consume `actual` of the reserved credits and give back the rest; idempotent per amount.

    With `owner`, only the owner's own reservation (in the owner's scope): another account's
    is as unknown as a missing one (no confused deputy)."""
    require_credits(actual, allow_zero=True)
    with db.write(conn, user=owner.scope if owner else None):
        reservation, held_lots = _held(conn, reservation_id, owner)
        if reservation.status == FINALIZED and reservation.consumed_credits == actual:
            return reservation
        if reservation.status == FINALIZED:
            raise Conflict(
                f"reservation {reservation_id!r} was already finalized with"
                f" {reservation.consumed_credits} credits; refusing {actual}"
            )
        if reservation.status != PENDING:
            raise BillingError(f"reservation {reservation_id!r} is {reservation.status}")
        if actual > reservation.credits:
            raise BillingError(
                f"cannot finalize {actual} credits: reservation {reservation_id!r}"
                f" holds {reservation.credits}"
            )
        _return_lots(conn, reservation, held_lots, consumed=actual)
        closed = _close(conn, reservation, FINALIZED, consumed=actual)
        if actual:
            ledger.debit_account(
                conn, reservation.billing_account_id, actual,
                reason=reasons.USAGE_CHARGE, reference=reservation.id,
                metadata={"reservation_id": reservation.id,
                          "reserved_credits": reservation.credits},
            )
    return closed


def release(conn: db.Connection, reservation_id: str, *,
            owner: Account | None = None) -> Reservation:
    """Give every reserved credit back; releasing a closed-but-unconsumed one changes nothing.
    With `owner`, only the owner's own reservation."""
    with db.write(conn, user=owner.scope if owner else None):
        reservation, held_lots = _held(conn, reservation_id, owner)
        if reservation.status in (RELEASED, EXPIRED):
            return reservation
        if reservation.status == FINALIZED:
            raise BillingError(f"reservation {reservation_id!r} is finalized; nothing to release")
        _return_lots(conn, reservation, held_lots, consumed=None)
        return _close(conn, reservation, RELEASED)


def sweep(conn: db.Connection, *, now: int | None = None) -> int:
    """Expire every pending reservation past its expiry; return how many.

    On PostgreSQL each reservation expires in a short transaction of its own, holding only its
    account, so a sweep never makes other accounts' writes wait for the whole batch; on SQLite,
    where one transaction writes at a time anyway, a batch is one transaction (one turn)."""
    now = clock.now_ms() if now is None else now
    per_transaction = 1 if conn.kind == db.POSTGRESQL else SWEEP_BATCH
    expired = 0
    while True:
        with db.read(conn):
            due = [r[0] for r in conn.execute(
                "SELECT id FROM credit_reservations WHERE status = ? AND expires_at <= ?"
                " ORDER BY expires_at LIMIT ?",
                (PENDING, now, SWEEP_BATCH),
            ).fetchall()]
        for start in range(0, len(due), per_transaction):
            with db.write(conn):
                for reservation_id in due[start:start + per_transaction]:
                    reservation, held_lots = _held(conn, reservation_id)
                    if reservation.status != PENDING:  # closed while the sweep came to it
                        continue
                    _return_lots(conn, reservation, held_lots, consumed=None)
                    _close(conn, reservation, EXPIRED, now=now)
                    expired += 1
        if len(due) < SWEEP_BATCH:
            return expired


@dataclass(frozen=True)
class Holdings:
    """An account's balance by what it can do: reservable now, held, or in expired lots."""

    available_credits: int
    reserved_credits: int
    expired_credits: int


def holdings(conn: db.Connection, account: Account, *, now: int | None = None) -> Holdings:
    now = clock.now_ms() if now is None else now
    with db.read(conn, user=account.scope):
        row = conn.execute(
            "SELECT CAST(COALESCE(SUM(CASE WHEN expires_at IS NULL OR expires_at > ?"
            " THEN available_credits ELSE 0 END), 0) AS BIGINT),"
            " CAST(COALESCE(SUM(reserved_credits), 0) AS BIGINT),"
            " CAST(COALESCE(SUM(CASE WHEN expires_at <= ? THEN available_credits ELSE 0 END),"
            " 0) AS BIGINT) FROM credit_lots WHERE billing_account_id = ?",
            (now, now, account.id)).fetchone()
    return Holdings(*row)


_RESERVATION = ("id, billing_account_id, pool_id, credits, status, consumed_credits,"
                " created_at, expires_at, closed_at")


def get(conn: db.Connection, reservation_id: str) -> Reservation:
    with db.read(conn):
        row = conn.execute(
            f"SELECT {_RESERVATION} FROM credit_reservations WHERE id = ?", (reservation_id,),
        ).fetchone()
    if row is None:
        raise NotFound(f"unknown reservation {reservation_id!r}")
    return Reservation(*row)


def _held(conn: db.Connection, reservation_id: str,
          owner: Account | None = None) -> tuple[Reservation, list[tuple[int, int, int]]]:
    """The reservation and its lots (position, lot, credits), read once its account is locked
    (a read before may be stale): one round trip on PostgreSQL, where the lock is found by the
    reservation; in a user's scope another account's reservation is invisible, locks nothing."""
    db.lock_account_holding(conn, "credit_reservations", reservation_id)
    rows, held_lots = conn.fetch_all([
        (f"SELECT {_RESERVATION} FROM credit_reservations WHERE id = ?", (reservation_id,)),
        ("SELECT position, lot_id, credits FROM reservation_lots WHERE reservation_id = ?"
         " ORDER BY position", (reservation_id,)),
    ])
    if not rows or owner is not None and rows[0][1] != owner.id:
        raise NotFound(f"unknown reservation {reservation_id!r}")
    held = Reservation(*rows[0])
    db.locked_by_holding(conn, held.billing_account_id)
    return held, held_lots


def _usable_lots(conn: db.Connection, account: Account, pool: str,
                 now: int) -> tuple[str, tuple]:
    """The read of the account's lots a reservation in `pool` may draw on, in the order it
    draws: the pool's own first, then general credits, soonest to expire first."""
    return (
        "SELECT id, available_credits FROM credit_lots"
        " WHERE billing_account_id = ? AND available_credits > 0 AND pool_id IN (?, ?)"
        " AND (expires_at IS NULL OR expires_at > ?)"
        " ORDER BY pool_id = ?, expires_at IS NULL, expires_at, id"
        + (" FOR UPDATE" if conn.kind == db.POSTGRESQL else ""),
        (account.id, pool, GENERAL_POOL, now, GENERAL_POOL),
    )


def _take_fifo(lots: list[tuple[int, int]], credits: int) -> list[tuple[int, int]]:
    """(lot, credits) drawn from `lots` in their order until `credits` are held."""
    taken, missing = [], credits
    for lot_id, available in lots:
        held = min(available, missing)
        taken.append((lot_id, held))
        missing -= held
        if missing == 0:
            return taken
    raise InsufficientCredits(
        f"insufficient credits: requested {credits}, available {credits - missing}"
    )


def _return_lots(
    conn: db.Connection, reservation: Reservation, held_lots: list[tuple[int, int, int]], *,
    consumed: int | None
) -> None:
    """Move the reservation's credits (`held_lots`, from `_held`) out of `reserved`: `consumed`
    of them (None when the reservation is released or expired) in FIFO order, the rest back to
    `available`."""
    to_consume = consumed or 0
    for position, lot_id, held in held_lots:
        used = min(held, to_consume)
        to_consume -= used
        conn.defer(
            "UPDATE credit_lots SET reserved_credits = reserved_credits - ?,"
            " consumed_credits = consumed_credits + ?, available_credits = available_credits + ?"
            " WHERE id = ?",
            (held, used, held - used, lot_id),
        )
        if consumed is not None:
            conn.defer(
                "UPDATE reservation_lots SET consumed_credits = ?"
                " WHERE reservation_id = ? AND position = ?",
                (used, reservation.id, position),
            )


def _close(
    conn: db.Connection,
    reservation: Reservation,
    status: str,
    *,
    consumed: int | None = None,
    now: int | None = None,
) -> Reservation:
    closed_at = clock.now_ms() if now is None else now
    # Read pending under the account's lock; the database refuses to close it twice.
    conn.defer(
        "UPDATE credit_reservations SET status = ?, consumed_credits = ?, closed_at = ?"
        " WHERE id = ?",
        (status, consumed, closed_at, reservation.id),
    )
    return Reservation(
        reservation.id, reservation.billing_account_id, reservation.pool_id, reservation.credits,
        status, consumed, reservation.created_at, reservation.expires_at, closed_at,
    )
