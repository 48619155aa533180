"""Billing accounts: one per user, plus exactly one system tenant.

Two repositories draw the tenancy boundary. `UserAccounts` is scoped to one user: every query
it runs filters on that user's id and excludes the system tenant, so it can neither read nor
write anyone else's account. `ServiceAccounts` is the service's own view: it reaches every
account, the system tenant included, and is what settlement and `check` use. On PostgreSQL the
database draws the same line: a user's transactions run as `billing_user` under row-level
security, the service's as `billing_service` (see `db.py`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from billing import clock, db
from billing.errors import BillingError, NotFound

MAX_USER_ID_LENGTH = 200

_SELECT = (
    "SELECT id, owner_user_id, is_system_tenant, balance_credits, created_at FROM billing_accounts"
)


@dataclass(frozen=True)
class Account:
    id: str
    owner_user_id: str
    is_system_tenant: bool
    balance_credits: int
    created_at: int

    @classmethod
    def from_row(cls, row: tuple) -> Account:
        return cls(row[0], row[1], bool(row[2]), row[3], row[4])

    @property
    def scope(self) -> str | None:
        """Whose transaction acts on this account: its user's, or the service's."""
        return None if self.is_system_tenant else self.owner_user_id


class UserAccounts:
    """The account of one user, and nothing else."""

    def __init__(self, conn: db.Connection, user_id: str) -> None:
        self._conn = conn
        self.user_id = _valid_user_id(user_id)

    def open(self) -> Account:
        """The user's account, created if it does not exist yet; repeat-safe and race-safe. An
        account that exists is only read: a signed-in request never waits for a writer."""
        existing = self.find()
        if existing is not None:
            return existing
        with db.write(self._conn, user=self.user_id):
            now = clock.now_ms()
            self._conn.execute(
                "INSERT INTO billing_accounts (id, owner_user_id, created_at, updated_at)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (owner_user_id) DO NOTHING",
                (str(uuid.uuid4()), self.user_id, now, now),
            )
            account = self.find()
        if account is None:
            raise BillingError(f"user {self.user_id!r} is reserved for the system tenant")
        return account

    def find(self) -> Account | None:
        with db.read(self._conn, user=self.user_id):
            row = self._conn.execute(
                _SELECT + " WHERE owner_user_id = ? AND is_system_tenant = 0",
                (self.user_id,),
            ).fetchone()
        return None if row is None else Account.from_row(row)

    def get(self) -> Account:
        account = self.find()
        if account is None:
            raise NotFound(
                f"unknown user {self.user_id!r}; create the account with `account create`"
            )
        return account


class ServiceAccounts:
    """Every account, the system tenant included. For the service's own operations only."""

    def __init__(self, conn: db.Connection) -> None:
        self._conn = conn

    def system_tenant(self) -> Account:
        with db.read(self._conn):
            rows = self._conn.execute(_SELECT + " WHERE is_system_tenant = 1").fetchall()
        if len(rows) != 1:
            raise BillingError(
                "the system tenant billing account is missing; the database was not initialised"
                " by `cogni-billing init` or has been tampered with"
            )
        return Account.from_row(rows[0])

    def get(self, account_id: str) -> Account:
        with db.read(self._conn):
            row = self._conn.execute(_SELECT + " WHERE id = ?", (account_id,)).fetchone()
        if row is None:
            raise NotFound(f"unknown billing account {account_id!r}")
        return Account.from_row(row)

    def all(self) -> list[Account]:
        with db.read(self._conn):
            rows = self._conn.execute(_SELECT + " ORDER BY created_at, id").fetchall()
        return [Account.from_row(row) for row in rows]


def _valid_user_id(user_id: str) -> str:
    if not user_id or user_id != user_id.strip() or len(user_id) > MAX_USER_ID_LENGTH:
        raise BillingError(
            f"bad user id {user_id!r}: expected 1-{MAX_USER_ID_LENGTH} characters"
            " without surrounding spaces"
        )
    return user_id
