"""Connections and transactions, on an SQLite file or a PostgreSQL database.

`connect(target)` takes a file path (SQLite, the embedded default) or a `postgresql://` URL.
The domain code is the same for both: SQL written once with `?` placeholders, run through
`conn.execute`, inside `write(conn, user=...)` or `read(conn, user=...)`.

Scope. Every transaction runs for one user (`user="..."`) or for the service (`user=None`).
On PostgreSQL that is the database's business: the transaction sets its role (`billing_user`,
whose row-level security policies key on `billing.user_id`, set for this transaction only, or
`billing_service`, which bypasses them) with `SET LOCAL`, so a user-scoped query cannot see
another account whatever its SQL says. SQLite has no roles; there the repositories in
`accounts.py` draw the same line in Python.

Locks. On PostgreSQL writes to an account's lots and ledger first lock the account's row
(`lock_accounts`), so two writes to one account take turns and different accounts never wait
for each other; a lock not granted within `LOCK_TIMEOUT_SECONDS` is an error, not a hang. On
SQLite there is one writer at a time: `write` is `BEGIN IMMEDIATE`, entered in arrival order
through the fair queue of `writer_queue.py`, with the same timeout.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from billing import writer_queue
from billing.errors import BillingError

SQLITE = "sqlite"
POSTGRESQL = "postgresql"
LOCK_TIMEOUT_SECONDS = 5
USER_ROLE, SERVICE_ROLE = "billing_user", "billing_service"
MIN_SQLITE = (3, 39)  # IS DISTINCT FROM
OWNER = ""  # the scope of migrations: the connecting role itself (the owner, at `init` only)


class IntegrityError(Exception):
    """The database refused a write: a constraint or a trigger. `duplicate` for a unique key;
    `table`, the table whose constraint refused it, when the database names it (a refusal of a
    deferred statement is raised from the statement it was sent with)."""

    def __init__(self, message: str, *, duplicate: bool = False,
                 table: str | None = None) -> None:
        super().__init__(message)
        self.duplicate, self.table = duplicate, table


class PermissionDenied(Exception):
    """The transaction's role may not do this (PostgreSQL grants and row-level security)."""


def is_url(target: str | Path) -> bool:
    return str(target).startswith(("postgresql://", "postgres://"))


def connect(target: str | Path, *, create: bool = False,
            lock_timeout: float = LOCK_TIMEOUT_SECONDS) -> Connection:
    """Open the database; an SQLite file must exist unless `create` is set."""
    if is_url(target):
        return PostgresConnection.open(str(target), lock_timeout)
    return SqliteConnection.open(Path(target), create, lock_timeout)


class Connection:
    """One connection to the billing database, whichever backend holds it."""

    kind: str
    target: str
    lock_timeout: float

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        raise NotImplementedError

    @property
    def in_transaction(self) -> bool:
        raise NotImplementedError

    def begin(self, *, write: bool, user: str | None) -> None:
        raise NotImplementedError

    def end(self, *, commit: bool) -> None:
        self.execute("COMMIT" if commit else "ROLLBACK")

    def fetch_all(self, statements: Sequence[tuple[str, Sequence[Any]]]) -> list[list[Any]]:
        """The rows of each of several reads, in order (PostgreSQL: in one round trip)."""
        return [self.execute(sql, params).fetchall() for sql, params in statements]

    def defer(self, sql: str, params: Sequence[Any] = ()) -> None:
        """A write whose result nobody reads. SQLite runs it now; PostgreSQL sends it with the
        next statement or the commit, whichever comes first, in one round trip with it (its
        refusal, if any, is raised from there, as the same exceptions `execute` raises)."""
        self.execute(sql, params)

    def close(self) -> None:
        raise NotImplementedError


class SqliteConnection(Connection):
    kind = SQLITE

    def __init__(self, raw: sqlite3.Connection, path: Path, lock_timeout: float) -> None:
        self.raw, self.target, self.lock_timeout = raw, str(path), lock_timeout
        self.writers = path.with_name(path.name + "-writers")
        self._turn: writer_queue.Turn | None = None

    @classmethod
    def open(cls, path: Path, create: bool, lock_timeout: float) -> SqliteConnection:
        if sqlite3.sqlite_version_info < MIN_SQLITE:
            raise BillingError(f"SQLite {sqlite3.sqlite_version} is too old; the billing service"
                               " needs 3.39 or newer (or PostgreSQL)")
        if not create and not path.is_file():
            raise BillingError(
                f"no billing database at {path}; create it with `cogni-billing --db {path} init`"
            )
        try:
            raw = sqlite3.connect(path, timeout=lock_timeout, isolation_level=None)
            conn = cls(raw, path, lock_timeout)
            raw.execute("PRAGMA foreign_keys = ON")
            mode = raw.execute("PRAGMA journal_mode").fetchone()[0]
            if mode != "wal":
                conn._queue()  # switching a new file to WAL needs it to itself
                try:
                    mode = raw.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                finally:
                    conn._dequeue()
        except sqlite3.DatabaseError as e:
            raise BillingError(f"cannot open billing database {path}: {e}") from None
        if mode != "wal":
            raw.close()
            raise BillingError(f"{path}: could not switch the database to WAL mode (got {mode!r})")
        return conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        try:
            return self.raw.execute(sql, params)
        except sqlite3.IntegrityError as e:
            text = str(e)
            raise IntegrityError(text, duplicate=text.startswith("UNIQUE constraint failed")
                                 or "never replaced" in text) from None
        except sqlite3.OperationalError as e:
            if "database is locked" in str(e):
                raise BillingError(f"timed out after {self.lock_timeout:g} s waiting for the"
                                   " database's write lock") from None
            raise

    @property
    def in_transaction(self) -> bool:
        return self.raw.in_transaction

    def begin(self, *, write: bool, user: str | None) -> None:
        if not write:
            self.raw.execute("BEGIN")
            return
        self._queue()
        try:
            self.execute("BEGIN IMMEDIATE")
        except BaseException:
            self._dequeue()
            raise

    def end(self, *, commit: bool) -> None:
        try:
            if self.raw.in_transaction:
                self.execute("COMMIT" if commit else "ROLLBACK")
        finally:
            self._dequeue()

    def _queue(self) -> None:
        self._turn = writer_queue.take_turn(self.writers, self.lock_timeout)

    def _dequeue(self) -> None:
        turn, self._turn = self._turn, None
        if turn is not None:
            turn.end()

    def close(self) -> None:
        self.raw.close()


class PostgresConnection(Connection):
    kind = POSTGRESQL

    def __init__(self, raw: Any, url: str, lock_timeout: float) -> None:
        self.raw, self.target, self.lock_timeout = raw, url, lock_timeout
        self._sql: dict[str, str] = {}
        self.locked: set[str] = set()  # accounts locked by the open transaction
        self._deferred: list[tuple[str, Sequence[Any]]] = []  # sent with the next statement
        self._open = False  # a transaction is begun (its BEGIN may not be sent yet)
        self._scopes: set[str] = set()  # roles this connection has taken once already

    @classmethod
    def open(cls, url: str, lock_timeout: float) -> PostgresConnection:
        try:
            import psycopg
        except ImportError:
            raise BillingError("PostgreSQL needs psycopg: pip install 'cogni-review[postgres]'"
                               ) from None
        try:
            raw = psycopg.connect(url, autocommit=True, connect_timeout=10)
        except psycopg.Error as e:
            raise BillingError(f"cannot connect to the billing database: {_first_line(e)}"
                               ) from None
        millis = int(lock_timeout * 1000)
        raw.execute(f"SET lock_timeout = {millis}")
        raw.execute(f"SET idle_in_transaction_session_timeout = {millis * 12}")
        return cls(raw, url, lock_timeout)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        with self._translated():
            if self._deferred:
                return self._send([self._statement(sql, params)])[0]
            return self.raw.execute(*self._statement(sql, params))

    def fetch_all(self, statements: Sequence[tuple[str, Sequence[Any]]]) -> list[list[Any]]:
        with self._translated():
            cursors = self._send([self._statement(sql, params) for sql, params in statements])
            return [cursor.fetchall() for cursor in cursors]

    def defer(self, sql: str, params: Sequence[Any] = ()) -> None:
        if not self._open:
            raise RuntimeError("only a statement inside a transaction can be deferred")
        self._deferred.append(self._statement(sql, params))

    def _send(self, statements: list[tuple[str, Sequence[Any]]]) -> list[Any]:
        """The deferred statements and then `statements`, in one round trip (a pipeline); the
        cursors of `statements`. The first refusal is raised when the results come back."""
        deferred, self._deferred = self._deferred, []
        with self.raw.pipeline():
            for queued, queued_params in deferred:
                self.raw.execute(queued, queued_params)
            return [self.raw.execute(text, params) for text, params in statements]

    def _statement(self, sql: str, params: Sequence[Any]) -> tuple[str, Sequence[Any]]:
        """The statement in psycopg's placeholders, its parameters checked: a float is refused
        as SQLite's type CHECKs refuse it, where PostgreSQL would round it into a bigint."""
        text = self._sql.get(sql)
        if text is None:
            text = self._sql[sql] = sql.replace("%", "%%").replace("?", "%s")
        if any(type(p) is float for p in params):
            raise IntegrityError(f"a float is never stored here (money is integer): {list(params)!r}")
        return text, params

    @contextmanager
    def _translated(self) -> Iterator[None]:
        """The database's refusals as this module's exceptions."""
        import psycopg

        try:
            yield
        except (psycopg.errors.IntegrityError, psycopg.errors.DataError) as e:
            raise IntegrityError(_first_line(e), duplicate=isinstance(
                e, psycopg.errors.UniqueViolation), table=e.diag.table_name) from None
        except psycopg.errors.InsufficientPrivilege as e:
            raise PermissionDenied(_first_line(e)) from None
        except (psycopg.errors.LockNotAvailable, psycopg.errors.QueryCanceled):
            raise BillingError(f"timed out after {self.lock_timeout:g} s waiting for a lock"
                               " held by another write") from None

    @property
    def in_transaction(self) -> bool:
        from psycopg.pq import TransactionStatus

        return self._open or self.raw.info.transaction_status != TransactionStatus.IDLE

    def begin(self, *, write: bool, user: str | None) -> None:
        import psycopg

        from psycopg import sql

        self.locked.clear()
        self._deferred.clear()
        begin = "BEGIN" if write else "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
        if user == OWNER:
            self.raw.execute(begin)
            self._open = True
            return
        role, user_id = (SERVICE_ROLE, "") if user is None else (USER_ROLE, user)
        if role in self._scopes:
            # The role was taken once on this connection: the transaction, its role and its
            # user go with the first statement, in its round trip.
            self._deferred += [(begin, ()), (_SCOPE, (role, user_id))]
            self._open = True
            return
        # The first time, in a round trip of its own, so a role this login cannot take is
        # named here: the transaction, its role and its user, each for this transaction only.
        scope = sql.SQL("{}; SELECT set_config('role', {}, true),"
                        " set_config('billing.user_id', {}, true)").format(
            sql.SQL(begin), sql.Literal(role), sql.Literal(user_id))
        try:
            self.raw.execute(scope.as_string(self.raw))
        except psycopg.Error as e:
            if self.raw.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                self.raw.execute("ROLLBACK")
            raise BillingError(f"cannot take the role of this transaction ({_first_line(e)});"
                               " run `cogni-billing --db URL init` as the database owner, and"
                               " connect as billing_app (see billing/README.md)") from None
        self._scopes.add(role)
        self._open = True

    def end(self, *, commit: bool) -> None:
        """Commit (with whatever is deferred, in one round trip) or roll back; a transaction
        whose BEGIN was never sent has nothing to end. A commit that fails rolls back before
        its error is raised."""
        from psycopg.pq import TransactionStatus

        def sent() -> bool:
            return self.raw.info.transaction_status != TransactionStatus.IDLE

        try:
            if commit and not all(_begins(text) for text, _ in self._deferred):
                with self._translated():
                    self._send([("COMMIT", ())])
            elif sent():
                with self._translated():
                    self.raw.execute("COMMIT" if commit else "ROLLBACK")
        except BaseException:
            if sent():
                self.raw.execute("ROLLBACK")
            raise
        finally:
            self._deferred.clear()
            self._open = False

    def close(self) -> None:
        self.raw.close()


_SCOPE = "SELECT set_config('role', %s, true), set_config('billing.user_id', %s, true)"


def _begins(text: str) -> bool:
    """A statement that only opens a transaction and sets its scope (nothing to commit)."""
    return text == _SCOPE or text.startswith("BEGIN")


def _first_line(error: Exception) -> str:
    diag = getattr(error, "diag", None)
    message = getattr(diag, "message_primary", None) or str(error)
    return message.splitlines()[0] if message else type(error).__name__


@contextmanager
def write(conn: Connection, *, user: str | None = None) -> Iterator[Connection]:
    """One write transaction for `user` (None: the service, OWNER: migrations); it commits
    whole or not at all."""
    if conn.in_transaction:  # waiting for a turn while holding one would wait for ever
        raise RuntimeError("db.write cannot start inside an open transaction")
    conn.begin(write=True, user=user)
    try:
        yield conn
    except BaseException:
        conn.end(commit=False)
        raise
    conn.end(commit=True)


@contextmanager
def read(conn: Connection, *, user: str | None = None) -> Iterator[Connection]:
    """One read transaction (one snapshot); inside an open transaction, that one is used."""
    if conn.in_transaction:
        yield conn
        return
    conn.begin(write=False, user=user)
    try:
        yield conn
    finally:
        conn.end(commit=True)


def lock_accounts(conn: Connection, *account_ids: str) -> None:
    """Make other writes to these accounts wait until this transaction ends (PostgreSQL).

    Locks are taken in one order (by id), so two transactions never wait for each other. A
    lock is deferred: it goes to the server with the transaction's next statement, in its
    round trip, and is held before that statement runs. On SQLite the transaction already
    excludes every other writer."""
    require_transaction(conn)
    if isinstance(conn, PostgresConnection):
        for account_id in sorted(set(account_ids) - conn.locked):
            conn.defer("SELECT 1 FROM billing_accounts WHERE id = ? FOR UPDATE", (account_id,))
            conn.locked.add(account_id)


def lock_account_holding(conn: Connection, table: str, row_id: str) -> None:
    """`lock_accounts` for the account that holds row `row_id` of `table` (its
    `billing_account_id`), found by the database in the same deferred statement: a read of the
    row that follows is made under the lock, in one round trip. In a user's scope another
    account's row is invisible and locks nothing."""
    require_transaction(conn)
    if isinstance(conn, PostgresConnection):
        conn.defer(f"SELECT 1 FROM billing_accounts WHERE id = (SELECT billing_account_id"
                   f" FROM {table} WHERE id = ?) FOR UPDATE", (row_id,))


def locked_by_holding(conn: Connection, account_id: str) -> None:
    """Record that `lock_account_holding` locked this account (known once its row is read), so
    `lock_accounts` does not send its lock again."""
    if isinstance(conn, PostgresConnection):
        conn.locked.add(account_id)


def require_transaction(conn: Connection) -> None:
    if not conn.in_transaction:
        raise RuntimeError("this write must run inside db.write(conn)")
