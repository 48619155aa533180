"""The system tenant's revenue share as a governed decision, not a setting read per process.

A rule goes `draft -> pending_approval -> cooling_down -> active -> superseded`, or ends
`rejected` (from pending_approval or cooling_down). Approval starts a cooldown (48 h by
default); a rule activates once its cooldown is over (`activate_ready`), or at once by an
emergency override that must say why. At most one rule is active (a unique index), and
activating one supersedes the previous in the same transaction. Every transition is a row of
the append-only audit log, with its actor and reason. Settlement reads the active rule and
records its id on the bonus row; `SYSTEM_TENANT_REVENUE_SHARE` only seeds the first rule.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from billing import clock, db, env
from billing.env import RevenueShare
from billing.errors import BillingError, NotFound

DRAFT, PENDING, COOLING, ACTIVE = "draft", "pending_approval", "cooling_down", "active"
SUPERSEDED, REJECTED = "superseded", "rejected"
DEFAULT_COOLDOWN_HOURS = 48
HOUR_MS = 3_600_000

# action -> (the states it leaves, the state it reaches)
TRANSITIONS = {
    "submitted": ((DRAFT,), PENDING),
    "approved": ((PENDING,), COOLING),
    "rejected": ((PENDING, COOLING), REJECTED),
    "activated": ((COOLING,), ACTIVE),
    "cooldown_overridden": ((COOLING,), ACTIVE),
}

TRANSITIONS_STATES = (DRAFT, PENDING, COOLING, ACTIVE, SUPERSEDED, REJECTED)

_COLUMNS = ("id, name, share_numerator, share_denominator, status, proposed_by, proposed_at,"
            " approved_by, approved_at, activates_at, activated_at, superseded_at,"
            " superseded_by, notes")


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    share_numerator: int
    share_denominator: int
    status: str
    proposed_by: str
    proposed_at: int
    approved_by: str | None
    approved_at: int | None
    activates_at: int | None
    activated_at: int | None
    superseded_at: int | None
    superseded_by: str | None
    notes: str | None

    @property
    def share(self) -> RevenueShare:
        return RevenueShare(self.share_numerator, self.share_denominator)


@dataclass(frozen=True)
class AuditEntry:
    id: int
    rule_id: str
    action: str
    actor: str
    reason: str | None
    previous_status: str | None
    new_status: str
    created_at: int


def propose(conn: db.Connection, name: str, share: RevenueShare, actor: str, *,
            notes: str | None = None, now: int | None = None) -> Rule:
    """A new rule, as a draft."""
    if not name.strip() or not actor.strip():
        raise BillingError("a revenue rule needs a name and a proposer")
    now = clock.now_ms() if now is None else now
    rule_id = str(uuid.uuid4())
    with db.write(conn):
        conn.execute(
            "INSERT INTO revenue_rules (id, name, share_numerator, share_denominator, status,"
            " proposed_by, proposed_at, notes) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (rule_id, name, share.numerator, share.denominator, DRAFT, actor, now, notes),
        )
        _audit(conn, rule_id, "proposed", actor, None, None, DRAFT, now)
    return get(conn, rule_id)


def submit(conn: db.Connection, rule_id: str, actor: str, *, now: int | None = None) -> Rule:
    return _move(conn, rule_id, "submitted", actor, None, now)


def approve(conn: db.Connection, rule_id: str, actor: str, *, now: int | None = None,
            cooldown_hours: int = DEFAULT_COOLDOWN_HOURS) -> Rule:
    """Approve a pending rule: its cooldown starts now."""
    now = clock.now_ms() if now is None else now
    if type(cooldown_hours) is not int or cooldown_hours < 0:
        raise BillingError(f"bad cooldown {cooldown_hours!r}: expected whole hours, 0 or more")
    return _move(conn, rule_id, "approved", actor, None, now, {
        "approved_by": actor, "approved_at": now, "activates_at": now + cooldown_hours * HOUR_MS})


def reject(conn: db.Connection, rule_id: str, actor: str, reason: str, *,
           now: int | None = None) -> Rule:
    return _move(conn, rule_id, "rejected", actor, _required(reason, "a rejection"), now)


def override_cooldown(conn: db.Connection, rule_id: str, actor: str, reason: str, *,
                      now: int | None = None) -> Rule:
    """Activate a cooling-down rule at once: an emergency, so the reason is required."""
    return _activate(conn, rule_id, "cooldown_overridden", actor,
                     _required(reason, "an emergency override"), now)


def activate_ready(conn: db.Connection, *, now: int | None = None) -> list[Rule]:
    """Activate every rule whose cooldown is over, oldest approval first; return them."""
    now = clock.now_ms() if now is None else now
    with db.read(conn):
        ready = [r[0] for r in conn.execute(
            "SELECT id FROM revenue_rules WHERE status = ? AND activates_at <= ?"
            " ORDER BY activates_at, id", (COOLING, now)).fetchall()]
    return [_activate(conn, rule_id, "activated", "activator", "cooldown over", now)
            for rule_id in ready]


def seed(conn: db.Connection, share: RevenueShare, *, now: int | None = None) -> Rule | None:
    """At `init`: the first rule, active, from the environment's share; later calls do nothing."""
    now = clock.now_ms() if now is None else now
    with db.write(conn):
        if conn.execute("SELECT 1 FROM revenue_rules LIMIT 1").fetchone():
            return None
        rule_id = str(uuid.uuid4())
        conn.execute(
            "INSERT INTO revenue_rules (id, name, share_numerator, share_denominator, status,"
            " proposed_by, proposed_at, approved_by, approved_at, activates_at, activated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (rule_id, "initial share", share.numerator, share.denominator, ACTIVE, "init", now,
             "init", now, now, now),
        )
        why = f"seeded at init from {env.REVENUE_SHARE_VAR}"
        _audit(conn, rule_id, "proposed", "init", why, None, DRAFT, now)
        _audit(conn, rule_id, "activated", "init", why, DRAFT, ACTIVE, now)
    return get(conn, rule_id)


def active(conn: db.Connection) -> Rule:
    with db.read(conn):
        row = conn.execute(f"SELECT {_COLUMNS} FROM revenue_rules WHERE status = ?",
                           (ACTIVE,)).fetchone()
    if row is None:
        raise BillingError("no active revenue rule; run `cogni-billing init` to seed one")
    return Rule(*row)


def get(conn: db.Connection, rule_id: str) -> Rule:
    with db.read(conn):
        row = conn.execute(f"SELECT {_COLUMNS} FROM revenue_rules WHERE id = ?",
                           (rule_id,)).fetchone()
    if row is None:
        raise NotFound(f"unknown revenue rule {rule_id!r}")
    return Rule(*row)


def listing(conn: db.Connection, status: str | None = None) -> list[Rule]:
    with db.read(conn):
        if status is None:
            rows = conn.execute(f"SELECT {_COLUMNS} FROM revenue_rules"
                                " ORDER BY proposed_at, id").fetchall()
        else:
            rows = conn.execute(f"SELECT {_COLUMNS} FROM revenue_rules WHERE status = ?"
                                " ORDER BY proposed_at, id", (status,)).fetchall()
    return [Rule(*row) for row in rows]


def audit(conn: db.Connection, rule_id: str) -> list[AuditEntry]:
    get(conn, rule_id)
    with db.read(conn):
        rows = conn.execute(
            "SELECT id, rule_id, action, actor, reason, previous_status, new_status, created_at"
            " FROM revenue_rule_audit WHERE rule_id = ? ORDER BY id", (rule_id,)).fetchall()
    return [AuditEntry(*row) for row in rows]


def _activate(conn: db.Connection, rule_id: str, action: str, actor: str, reason: str | None,
              now: int | None) -> Rule:
    now = clock.now_ms() if now is None else now
    with db.write(conn):
        rule = _in_state(conn, rule_id, action)
        if action == "activated" and (rule.activates_at is None or rule.activates_at > now):
            raise BillingError(f"revenue rule {rule_id!r} is cooling down until"
                               f" {rule.activates_at} (now {now})")
        previous = conn.execute("SELECT id FROM revenue_rules WHERE status = ?",
                                (ACTIVE,)).fetchone()
        if previous is not None:
            if conn.execute(
                "UPDATE revenue_rules SET status = ?, superseded_at = ?, superseded_by = ?"
                " WHERE id = ? AND status = ?", (SUPERSEDED, now, rule_id, previous[0], ACTIVE)
            ).rowcount != 1:
                raise BillingError("another revenue rule was activated concurrently; try again")
            _audit(conn, previous[0], "superseded", actor, f"superseded by {rule_id}", ACTIVE,
                   SUPERSEDED, now)
        try:
            _update(conn, rule, ACTIVE, {"activated_at": now})
        except db.IntegrityError:  # the one-active index: another activation won the race
            raise BillingError("another revenue rule was activated concurrently; try again"
                               ) from None
        _audit(conn, rule_id, action, actor, reason, rule.status, ACTIVE, now)
    return get(conn, rule_id)


def _move(conn: db.Connection, rule_id: str, action: str, actor: str, reason: str | None,
          now: int | None, columns: dict[str, object] | None = None) -> Rule:
    now = clock.now_ms() if now is None else now
    if not actor.strip():
        raise BillingError("every revenue rule transition names its actor")
    with db.write(conn):
        rule = _in_state(conn, rule_id, action)
        target = TRANSITIONS[action][1]
        _update(conn, rule, target, columns or {})
        _audit(conn, rule_id, action, actor, reason, rule.status, target, now)
    return get(conn, rule_id)


def _in_state(conn: db.Connection, rule_id: str, action: str) -> Rule:
    rule = get(conn, rule_id)
    sources = TRANSITIONS[action][0]
    if rule.status not in sources:
        raise BillingError(f"revenue rule {rule_id!r} is {rule.status}; {action} needs"
                           f" {' or '.join(sources)}")
    return rule


def _update(conn: db.Connection, rule: Rule, status: str, columns: dict[str, object]) -> None:
    names = ["status", *columns]  # column names come from this module, never from a caller
    assignments = ", ".join(f"{name} = ?" for name in names)
    updated = conn.execute(
        f"UPDATE revenue_rules SET {assignments} WHERE id = ? AND status = ?",
        (status, *columns.values(), rule.id, rule.status)).rowcount
    if updated != 1:
        raise BillingError(f"revenue rule {rule.id!r} changed concurrently; try again")


def _audit(conn: db.Connection, rule_id: str, action: str, actor: str, reason: str | None,
           previous: str | None, new: str, now: int) -> None:
    conn.execute(
        "INSERT INTO revenue_rule_audit (rule_id, action, actor, reason, previous_status,"
        " new_status, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (rule_id, action, actor, reason, previous, new, now))


def _required(reason: str, what: str) -> str:
    if not reason or not reason.strip():
        raise BillingError(f"{what} must say why")
    return reason
