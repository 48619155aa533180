"""The schema, as versioned migrations that run once each and are recorded in `schema_migrations`.

This module holds the SQLite migrations and runs both backends' (PostgreSQL's are in
`migrations_postgres.py`, with the same versions and names). Each migration runs inside one
write transaction together with its record (on PostgreSQL under an advisory lock), so two
processes running `init` at once apply it exactly once. Never edit a released migration; add one.

The database enforces what it can: integer-only money (`typeof(...) = 'integer'` checks), one
system tenant (partial unique index), an append-only ledger whose `balance_after` chain and
account balance it maintains itself (triggers), one entry per (account, reference) for each
reason (partial unique indexes), write-once payment purpose, the lot invariant (CHECK) and
one-way reservation states (triggers).
"""

from __future__ import annotations

from dataclasses import dataclass

from billing import clock, db
from billing.errors import BillingError


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    statements: tuple[str, ...]
    rebuilds: bool = False  # SQLite: rebuilds a table, so foreign keys are off while it runs


ACCOUNTS = Migration(1, "billing accounts and the system tenant", (
    """CREATE TABLE billing_accounts (
        id TEXT PRIMARY KEY,
        owner_user_id TEXT NOT NULL UNIQUE,
        is_system_tenant INTEGER NOT NULL DEFAULT 0 CHECK (is_system_tenant IN (0, 1)),
        balance_credits INTEGER NOT NULL DEFAULT 0
            CHECK (typeof(balance_credits) = 'integer' AND balance_credits >= 0),
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL)""",
    """CREATE UNIQUE INDEX billing_accounts_one_system_tenant
        ON billing_accounts (is_system_tenant) WHERE is_system_tenant = 1""",
    """CREATE TRIGGER billing_accounts_identity_write_once
        BEFORE UPDATE OF id, owner_user_id, is_system_tenant ON billing_accounts
        BEGIN SELECT RAISE(ABORT, 'billing account identity is write-once'); END""",
    """CREATE TRIGGER billing_accounts_open_at_zero
        BEFORE INSERT ON billing_accounts WHEN NEW.balance_credits <> 0
        BEGIN SELECT RAISE(ABORT, 'a billing account opens with a zero balance'); END""",
    """CREATE TRIGGER billing_accounts_keep_system_tenant
        BEFORE DELETE ON billing_accounts WHEN OLD.is_system_tenant = 1
        BEGIN SELECT RAISE(ABORT, 'the system tenant cannot be deleted'); END""",
    """INSERT INTO billing_accounts (id, owner_user_id, is_system_tenant, created_at, updated_at)
        VALUES ('cogni_system', 'cogni_system_principal', 1,
                CAST(strftime('%s', 'now') AS INTEGER) * 1000,
                CAST(strftime('%s', 'now') AS INTEGER) * 1000)""",
))

LEDGER = Migration(2, "append-only credit ledger", (
    """CREATE TABLE credit_ledger (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        billing_account_id TEXT NOT NULL REFERENCES billing_accounts (id),
        amount INTEGER NOT NULL CHECK (typeof(amount) = 'integer' AND amount <> 0),
        balance_after INTEGER NOT NULL
            CHECK (typeof(balance_after) = 'integer' AND balance_after >= 0),
        reason TEXT NOT NULL CHECK (reason IN
            ('credits_purchase', 'platform_revenue_share', 'system_donation', 'usage_charge')),
        reference TEXT NOT NULL CHECK (length(reference) > 0),
        metadata TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(metadata)),
        created_at INTEGER NOT NULL,
        CONSTRAINT sign_follows_reason CHECK ((amount < 0) = (reason = 'usage_charge')))""",
    "CREATE INDEX credit_ledger_account ON credit_ledger (billing_account_id, id)",
    """CREATE UNIQUE INDEX credit_ledger_credits_purchase_ref_unique
        ON credit_ledger (billing_account_id, reference) WHERE reason = 'credits_purchase'""",
    """CREATE UNIQUE INDEX credit_ledger_revenue_share_ref_unique
        ON credit_ledger (billing_account_id, reference) WHERE reason = 'platform_revenue_share'""",
    """CREATE UNIQUE INDEX credit_ledger_system_donation_ref_unique
        ON credit_ledger (billing_account_id, reference) WHERE reason = 'system_donation'""",
    """CREATE UNIQUE INDEX credit_ledger_usage_charge_ref_unique
        ON credit_ledger (billing_account_id, reference) WHERE reason = 'usage_charge'""",
    """CREATE TRIGGER credit_ledger_refuse_update BEFORE UPDATE ON credit_ledger
        BEGIN SELECT RAISE(ABORT, 'credit_ledger is append-only'); END""",
    """CREATE TRIGGER credit_ledger_refuse_delete BEFORE DELETE ON credit_ledger
        BEGIN SELECT RAISE(ABORT, 'credit_ledger is append-only'); END""",
    # The chain: a new row's balance_after is the account's balance plus its amount ...
    """CREATE TRIGGER credit_ledger_chain BEFORE INSERT ON credit_ledger
        WHEN NEW.balance_after IS NOT
            (SELECT balance_credits FROM billing_accounts WHERE id = NEW.billing_account_id)
            + NEW.amount
        BEGIN SELECT RAISE(ABORT, 'balance_after must equal the balance plus the amount'); END""",
    # ... and the balance follows the row in the same statement, hence the same transaction.
    """CREATE TRIGGER credit_ledger_moves_balance AFTER INSERT ON credit_ledger
        BEGIN
            UPDATE billing_accounts SET balance_credits = NEW.balance_after,
                                        updated_at = NEW.created_at
            WHERE id = NEW.billing_account_id;
        END""",
    """CREATE TRIGGER billing_accounts_balance_from_ledger
        BEFORE UPDATE OF balance_credits ON billing_accounts
        WHEN NEW.balance_credits IS NOT (SELECT balance_after FROM credit_ledger
            WHERE billing_account_id = NEW.id ORDER BY id DESC LIMIT 1)
        BEGIN SELECT RAISE(ABORT, 'balance_credits is written only by the credit ledger'); END""",
))

PAYMENTS = Migration(3, "payment attempts", (
    """CREATE TABLE payment_attempts (
        id TEXT PRIMARY KEY,
        billing_account_id TEXT NOT NULL REFERENCES billing_accounts (id),
        purpose TEXT NOT NULL DEFAULT 'self' CHECK (purpose IN ('self', 'system')),
        amount_cents INTEGER NOT NULL
            CHECK (typeof(amount_cents) = 'integer' AND amount_cents > 0),
        status TEXT NOT NULL DEFAULT 'created' CHECK (status IN ('created', 'settled')),
        created_at INTEGER NOT NULL,
        settled_at INTEGER,
        CHECK ((status = 'settled') = (settled_at IS NOT NULL)))""",
    "CREATE INDEX payment_attempts_account ON payment_attempts (billing_account_id)",
    """CREATE TRIGGER payment_attempts_owned_by_a_user BEFORE INSERT ON payment_attempts
        WHEN (SELECT is_system_tenant FROM billing_accounts WHERE id = NEW.billing_account_id)
        BEGIN SELECT RAISE(ABORT, 'a payment attempt belongs to a user account'); END""",
    """CREATE TRIGGER payment_attempts_write_once
        BEFORE UPDATE OF id, billing_account_id, purpose, amount_cents, created_at
        ON payment_attempts
        BEGIN SELECT RAISE(ABORT, 'payment attempt purpose, amount and account are write-once');
        END""",
    """CREATE TRIGGER payment_attempts_settle_once BEFORE UPDATE OF status ON payment_attempts
        WHEN NOT (OLD.status = 'created' AND NEW.status = 'settled')
        BEGIN SELECT RAISE(ABORT, 'a payment attempt moves only from created to settled'); END""",
    """CREATE TRIGGER payment_attempts_refuse_delete BEFORE DELETE ON payment_attempts
        BEGIN SELECT RAISE(ABORT, 'payment attempts are never deleted'); END""",
))

LOTS = Migration(4, "credit lots and reservations", (
    """CREATE TABLE credit_lots (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        billing_account_id TEXT NOT NULL REFERENCES billing_accounts (id),
        ledger_entry_id INTEGER NOT NULL UNIQUE REFERENCES credit_ledger (id),
        pool_id TEXT NOT NULL DEFAULT 'general',
        expires_at INTEGER,
        original_credits INTEGER NOT NULL
            CHECK (typeof(original_credits) = 'integer' AND original_credits > 0),
        available_credits INTEGER NOT NULL CHECK (typeof(available_credits) = 'integer'),
        reserved_credits INTEGER NOT NULL CHECK (typeof(reserved_credits) = 'integer'),
        consumed_credits INTEGER NOT NULL CHECK (typeof(consumed_credits) = 'integer'),
        created_at INTEGER NOT NULL,
        CONSTRAINT lot_balance CHECK
            (available_credits >= 0 AND reserved_credits >= 0 AND consumed_credits >= 0),
        CONSTRAINT lot_invariant CHECK
            (available_credits + reserved_credits + consumed_credits = original_credits))""",
    """CREATE INDEX credit_lots_fifo ON credit_lots (billing_account_id, pool_id, expires_at, id)
        WHERE available_credits > 0""",
    """CREATE TRIGGER credit_lots_minted_from_ledger BEFORE INSERT ON credit_lots
        WHEN NEW.available_credits <> NEW.original_credits OR NOT EXISTS
            (SELECT 1 FROM credit_ledger WHERE id = NEW.ledger_entry_id
             AND billing_account_id = NEW.billing_account_id AND amount = NEW.original_credits)
        BEGIN SELECT RAISE(ABORT, 'a lot is minted whole from its own ledger entry'); END""",
    """CREATE TRIGGER credit_lots_write_once
        BEFORE UPDATE OF id, billing_account_id, ledger_entry_id, pool_id, expires_at,
                         original_credits, created_at ON credit_lots
        BEGIN SELECT RAISE(ABORT, 'a lot''s origin is write-once'); END""",
    """CREATE TRIGGER credit_lots_refuse_delete BEFORE DELETE ON credit_lots
        BEGIN SELECT RAISE(ABORT, 'credit lots are never deleted'); END""",
    """CREATE TABLE credit_reservations (
        id TEXT PRIMARY KEY,
        billing_account_id TEXT NOT NULL REFERENCES billing_accounts (id),
        pool_id TEXT NOT NULL,
        credits INTEGER NOT NULL CHECK (typeof(credits) = 'integer' AND credits > 0),
        status TEXT NOT NULL DEFAULT 'pending'
            CHECK (status IN ('pending', 'finalized', 'released', 'expired')),
        consumed_credits INTEGER CHECK (consumed_credits IS NULL OR
            (typeof(consumed_credits) = 'integer' AND consumed_credits BETWEEN 0 AND credits)),
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        closed_at INTEGER,
        CHECK ((status = 'finalized') = (consumed_credits IS NOT NULL)),
        CHECK ((status = 'pending') = (closed_at IS NULL)))""",
    """CREATE INDEX credit_reservations_expiry ON credit_reservations (expires_at)
        WHERE status = 'pending'""",
    """CREATE TRIGGER credit_reservations_close_once
        BEFORE UPDATE OF status ON credit_reservations
        WHEN OLD.status <> 'pending' OR NEW.status = 'pending'
        BEGIN SELECT RAISE(ABORT, 'a reservation is closed once, from pending'); END""",
    """CREATE TRIGGER credit_reservations_write_once
        BEFORE UPDATE OF id, billing_account_id, pool_id, credits, created_at, expires_at
        ON credit_reservations
        BEGIN SELECT RAISE(ABORT, 'a reservation''s terms are write-once'); END""",
    """CREATE TABLE reservation_lots (
        reservation_id TEXT NOT NULL REFERENCES credit_reservations (id),
        position INTEGER NOT NULL,
        lot_id INTEGER NOT NULL REFERENCES credit_lots (id),
        credits INTEGER NOT NULL CHECK (typeof(credits) = 'integer' AND credits > 0),
        consumed_credits INTEGER CHECK (consumed_credits IS NULL OR
            (typeof(consumed_credits) = 'integer' AND consumed_credits BETWEEN 0 AND credits)),
        PRIMARY KEY (reservation_id, position),
        UNIQUE (reservation_id, lot_id))""",
    "CREATE INDEX reservation_lots_lot ON reservation_lots (lot_id)",
))

def _never_replaced(table: str, keys: str, message: str, action: str = "ABORT") -> str:
    """`INSERT OR REPLACE` deletes the row it collides with without firing delete triggers
    (unless the connection turned recursive triggers on): refuse the collision before it."""
    raise_ = "RAISE(IGNORE)" if action == "IGNORE" else f"RAISE(ABORT, '{message}')"
    return (f"CREATE TRIGGER {table}_never_replaced BEFORE INSERT ON {table}"
            f" WHEN EXISTS (SELECT 1 FROM {table} WHERE {keys}) BEGIN SELECT {raise_}; END")


# The attempt `p` pays for the ledger row NEW: its purpose, account and amount match the leg.
_PAYS_FOR = """(NEW.reason = 'credits_purchase' AND p.purpose = 'self'
             AND p.billing_account_id = NEW.billing_account_id
             AND NEW.amount = p.amount_cents * 10)
         OR (NEW.reason = 'system_donation' AND p.purpose = 'system'
             AND NEW.amount = p.amount_cents * 10
             AND EXISTS (SELECT 1 FROM billing_accounts
                         WHERE id = NEW.billing_account_id AND is_system_tenant = 1))
         OR (NEW.reason = 'platform_revenue_share' AND p.purpose = 'self'
             AND EXISTS (SELECT 1 FROM billing_accounts
                         WHERE id = NEW.billing_account_id AND is_system_tenant = 1))"""

TENANCY = Migration(5, "payment references are attempts, rows are never replaced, tenancy", (
    # A payment's ledger rows reference an attempt that pays for exactly them.
    f"""CREATE TRIGGER credit_ledger_reference_is_attempt BEFORE INSERT ON credit_ledger
        WHEN NEW.reason IN ('credits_purchase', 'platform_revenue_share', 'system_donation')
        AND NOT EXISTS (SELECT 1 FROM payment_attempts p WHERE p.id = NEW.reference AND (
{_PAYS_FOR}))
        BEGIN SELECT RAISE(ABORT,
            'a payment ledger row references the attempt that pays for it'); END""",
    "CREATE INDEX credit_ledger_reference ON credit_ledger (billing_account_id, reference)",
    _never_replaced("credit_ledger", "id = NEW.id OR (billing_account_id = NEW.billing_account_id"
                    " AND reference = NEW.reference AND reason = NEW.reason)",
                    "this ledger entry exists; ledger rows are never replaced"),
    # A second open of one user's account does nothing (as ON CONFLICT DO NOTHING did) ...
    _never_replaced("billing_accounts", "id = NEW.id OR owner_user_id = NEW.owner_user_id",
                    "", action="IGNORE"),
    # ... and the system tenant is never displaced by another.
    """CREATE TRIGGER billing_accounts_one_system_tenant BEFORE INSERT ON billing_accounts
        WHEN NEW.is_system_tenant = 1
        AND EXISTS (SELECT 1 FROM billing_accounts WHERE is_system_tenant = 1)
        BEGIN SELECT RAISE(ABORT, 'there is exactly one system tenant, never replaced'); END""",
    _never_replaced("payment_attempts", "id = NEW.id", "payment attempts are never replaced"),
    _never_replaced("credit_lots", "id = NEW.id OR ledger_entry_id = NEW.ledger_entry_id",
                    "credit lots are never replaced"),
    _never_replaced("credit_reservations", "id = NEW.id", "reservations are never replaced"),
    _never_replaced("reservation_lots", "reservation_id = NEW.reservation_id"
                    " AND (position = NEW.position OR lot_id = NEW.lot_id)",
                    "a reservation''s lots are never replaced"),
))

def _statement(migration: Migration, prefix: str) -> str:
    """A released migration's statement, to run again on a rebuilt table."""
    (found,) = [s for s in migration.statements if s.startswith(prefix)]
    return found


_DEBIT_REASONS = "('usage_charge', 'refund_clawback', 'debt_repayment')"

# SQLite cannot change a CHECK constraint in place: the ledger is rebuilt (the documented
# procedure: foreign keys off, new table, copy, drop, rename, indexes and triggers again, then
# `foreign_key_check`). Rows keep their ids; no row is changed.
LEDGER_TABLE_6 = f"""CREATE TABLE credit_ledger_6 (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        billing_account_id TEXT NOT NULL REFERENCES billing_accounts (id),
        amount INTEGER NOT NULL CHECK (typeof(amount) = 'integer' AND amount <> 0),
        balance_after INTEGER NOT NULL
            CHECK (typeof(balance_after) = 'integer' AND balance_after >= 0),
        reason TEXT NOT NULL CHECK (reason IN ('credits_purchase', 'platform_revenue_share',
            'system_donation', 'usage_charge', 'refund_clawback', 'debt_repayment')),
        reference TEXT NOT NULL CHECK (length(reference) > 0),
        metadata TEXT NOT NULL DEFAULT '{{}}' CHECK (json_valid(metadata)),
        created_at INTEGER NOT NULL,
        CONSTRAINT sign_follows_reason CHECK ((amount < 0) = (reason IN {_DEBIT_REASONS})))"""

_LEDGER_COLUMNS = ("id, billing_account_id, amount, balance_after, reason, reference, metadata,"
                   " created_at")

SETTLEMENT = Migration(6, "verified payments, refunds and debts, revenue rules, sessions", (
    "PRAGMA legacy_alter_table = ON",
    LEDGER_TABLE_6,
    f"INSERT INTO credit_ledger_6 ({_LEDGER_COLUMNS}) SELECT {_LEDGER_COLUMNS} FROM credit_ledger",
    "DROP TABLE credit_ledger",
    "ALTER TABLE credit_ledger_6 RENAME TO credit_ledger",
    "PRAGMA legacy_alter_table = OFF",
    "CREATE INDEX credit_ledger_account ON credit_ledger (billing_account_id, id)",
    "CREATE INDEX credit_ledger_reference ON credit_ledger (billing_account_id, reference)",
    *(f"""CREATE UNIQUE INDEX credit_ledger_{reason}_ref_unique
        ON credit_ledger (billing_account_id, reference) WHERE reason = '{reason}'"""
      for reason in ("credits_purchase", "platform_revenue_share", "system_donation",
                     "usage_charge", "refund_clawback", "debt_repayment")),
    *(_statement(m, f"CREATE TRIGGER {name} ") for m, name in (
        (LEDGER, "credit_ledger_refuse_update"), (LEDGER, "credit_ledger_refuse_delete"),
        (LEDGER, "credit_ledger_chain"), (LEDGER, "credit_ledger_moves_balance"),
        (TENANCY, "credit_ledger_never_replaced"))),
    # A payment's rows reference the attempt that pays for them, now verified on chain; a
    # clawback references a refunded attempt.
    f"""CREATE TRIGGER credit_ledger_reference_is_attempt BEFORE INSERT ON credit_ledger
        WHEN (NEW.reason IN ('credits_purchase', 'platform_revenue_share', 'system_donation')
        AND NOT EXISTS (SELECT 1 FROM payment_attempts p
            JOIN payment_transactions t ON t.attempt_id = p.id AND t.verdict = 'verified'
            WHERE p.id = NEW.reference AND (
{_PAYS_FOR})))
        OR (NEW.reason = 'refund_clawback'
            AND NOT EXISTS (SELECT 1 FROM payment_refunds WHERE attempt_id = NEW.reference))
        BEGIN SELECT RAISE(ABORT,
            'a payment ledger row references the attempt that pays for it'); END""",
    """CREATE TABLE payment_transactions (
        attempt_id TEXT PRIMARY KEY REFERENCES payment_attempts (id),
        chain_id INTEGER NOT NULL,
        tx_hash TEXT NOT NULL UNIQUE CHECK (length(tx_hash) = 66),
        from_address TEXT NOT NULL,
        submitted_at INTEGER NOT NULL,
        verdict TEXT CHECK (verdict IN ('verified', 'refused')),
        detail TEXT,
        verified_at INTEGER,
        CHECK ((verdict IS NULL) = (verified_at IS NULL)))""",
    """CREATE TRIGGER payment_transactions_judged_once BEFORE UPDATE ON payment_transactions
        WHEN OLD.verdict IS NOT NULL OR NEW.attempt_id IS NOT OLD.attempt_id
          OR NEW.tx_hash IS NOT OLD.tx_hash OR NEW.from_address IS NOT OLD.from_address
          OR NEW.chain_id IS NOT OLD.chain_id
        BEGIN SELECT RAISE(ABORT, 'a payment transaction is recorded once and judged once'); END""",
    """CREATE TRIGGER payment_transactions_refuse_delete BEFORE DELETE ON payment_transactions
        BEGIN SELECT RAISE(ABORT, 'payment transactions are never deleted'); END""",
    _never_replaced("payment_transactions", "attempt_id = NEW.attempt_id OR tx_hash = NEW.tx_hash",
                    "a transaction pays for one attempt; it is never replaced"),
    """CREATE TABLE payment_refunds (
        attempt_id TEXT PRIMARY KEY REFERENCES payment_attempts (id),
        actor TEXT NOT NULL,
        why TEXT NOT NULL,
        refunded_at INTEGER NOT NULL)""",
    """CREATE TRIGGER payment_refunds_refuse_change BEFORE UPDATE ON payment_refunds
        BEGIN SELECT RAISE(ABORT, 'a refund is recorded once'); END""",
    """CREATE TRIGGER payment_refunds_refuse_delete BEFORE DELETE ON payment_refunds
        BEGIN SELECT RAISE(ABORT, 'a refund is recorded once'); END""",
    _never_replaced("payment_refunds", "attempt_id = NEW.attempt_id", "a refund is recorded once"),
    """CREATE TABLE credit_debts (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        billing_account_id TEXT NOT NULL REFERENCES billing_accounts (id),
        attempt_id TEXT NOT NULL REFERENCES payment_refunds (attempt_id),
        debt_credits INTEGER NOT NULL CHECK (typeof(debt_credits) = 'integer' AND debt_credits > 0),
        repaid_credits INTEGER NOT NULL DEFAULT 0 CHECK (typeof(repaid_credits) = 'integer'
            AND repaid_credits BETWEEN 0 AND debt_credits),
        created_at INTEGER NOT NULL,
        UNIQUE (billing_account_id, attempt_id))""",
    """CREATE TRIGGER credit_debts_only_repaid BEFORE UPDATE ON credit_debts
        WHEN NEW.repaid_credits < OLD.repaid_credits OR NEW.debt_credits IS NOT OLD.debt_credits
          OR NEW.billing_account_id IS NOT OLD.billing_account_id
          OR NEW.attempt_id IS NOT OLD.attempt_id
        BEGIN SELECT RAISE(ABORT, 'a debt only goes down, by repayment'); END""",
    """CREATE TRIGGER credit_debts_refuse_delete BEFORE DELETE ON credit_debts
        BEGIN SELECT RAISE(ABORT, 'debts are never deleted'); END""",
    _never_replaced("credit_debts", "id = NEW.id OR (billing_account_id = NEW.billing_account_id"
                    " AND attempt_id = NEW.attempt_id)", "debts are never replaced"),
    """CREATE TABLE lot_charges (
        lot_id INTEGER NOT NULL REFERENCES credit_lots (id),
        reason TEXT NOT NULL CHECK (reason IN ('refund_clawback', 'debt_repayment')),
        reference TEXT NOT NULL,
        credits INTEGER NOT NULL CHECK (typeof(credits) = 'integer' AND credits > 0),
        PRIMARY KEY (lot_id, reason, reference))""",
    """CREATE TRIGGER lot_charges_refuse_change BEFORE UPDATE ON lot_charges
        BEGIN SELECT RAISE(ABORT, 'lot charges are append-only'); END""",
    """CREATE TRIGGER lot_charges_refuse_delete BEFORE DELETE ON lot_charges
        BEGIN SELECT RAISE(ABORT, 'lot charges are append-only'); END""",
    _never_replaced("lot_charges", "lot_id = NEW.lot_id AND reason = NEW.reason"
                    " AND reference = NEW.reference", "lot charges are append-only"),
    "ALTER TABLE credit_reservations ADD COLUMN idempotency_key TEXT",
    "CREATE INDEX credit_reservations_account ON credit_reservations (billing_account_id)",
    "CREATE INDEX credit_lots_account ON credit_lots (billing_account_id, id)",
    """CREATE UNIQUE INDEX credit_reservations_idempotency
        ON credit_reservations (billing_account_id, idempotency_key)
        WHERE idempotency_key IS NOT NULL""",
    """CREATE TABLE revenue_rules (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        share_numerator INTEGER NOT NULL CHECK (typeof(share_numerator) = 'integer'
            AND share_numerator >= 0),
        share_denominator INTEGER NOT NULL CHECK (typeof(share_denominator) = 'integer'
            AND share_denominator > 0 AND share_numerator <= share_denominator),
        status TEXT NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'pending_approval',
            'cooling_down', 'active', 'superseded', 'rejected')),
        proposed_by TEXT NOT NULL,
        proposed_at INTEGER NOT NULL,
        approved_by TEXT,
        approved_at INTEGER,
        activates_at INTEGER,
        activated_at INTEGER,
        superseded_at INTEGER,
        superseded_by TEXT REFERENCES revenue_rules (id),
        notes TEXT)""",
    """CREATE UNIQUE INDEX revenue_rules_one_active ON revenue_rules (status)
        WHERE status = 'active'""",
    """CREATE TRIGGER revenue_rules_terms_write_once BEFORE UPDATE ON revenue_rules
        WHEN NEW.share_numerator IS NOT OLD.share_numerator
          OR NEW.share_denominator IS NOT OLD.share_denominator OR NEW.id IS NOT OLD.id
          OR OLD.status IN ('superseded', 'rejected')
        BEGIN SELECT RAISE(ABORT, 'a revenue rule''s terms are write-once, its end final'); END""",
    """CREATE TRIGGER revenue_rules_refuse_delete BEFORE DELETE ON revenue_rules
        BEGIN SELECT RAISE(ABORT, 'revenue rules are never deleted'); END""",
    _never_replaced("revenue_rules", "id = NEW.id", "revenue rules are never replaced"),
    """CREATE TABLE revenue_rule_audit (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        rule_id TEXT NOT NULL REFERENCES revenue_rules (id),
        action TEXT NOT NULL CHECK (action IN ('proposed', 'submitted', 'approved', 'rejected',
            'activated', 'superseded', 'cooldown_overridden')),
        actor TEXT NOT NULL,
        reason TEXT,
        previous_status TEXT,
        new_status TEXT NOT NULL,
        created_at INTEGER NOT NULL)""",
    """CREATE TRIGGER revenue_rule_audit_refuse_update BEFORE UPDATE ON revenue_rule_audit
        BEGIN SELECT RAISE(ABORT, 'the revenue rule audit log is append-only'); END""",
    """CREATE TRIGGER revenue_rule_audit_refuse_delete BEFORE DELETE ON revenue_rule_audit
        BEGIN SELECT RAISE(ABORT, 'the revenue rule audit log is append-only'); END""",
    _never_replaced("revenue_rule_audit", "id = NEW.id",
                    "the revenue rule audit log is append-only"),
    """CREATE TABLE siwe_nonces (
        nonce TEXT PRIMARY KEY,
        issued_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        used_at INTEGER)""",
    """CREATE TABLE api_sessions (
        token_hash TEXT PRIMARY KEY,
        user_id TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL)""",
), rebuilds=True)

# A closed reservation never changes (its consumed credits and closing time included), so
# closing one needs no check of its own that it was still pending.
CLOSED_FOR_GOOD = Migration(7, "a closed reservation never changes", (
    """CREATE TRIGGER credit_reservations_closed_for_good BEFORE UPDATE ON credit_reservations
        WHEN OLD.status <> 'pending'
        BEGIN SELECT RAISE(ABORT, 'a reservation is closed once, from pending'); END""",
))

MIGRATIONS = (ACCOUNTS, LEDGER, PAYMENTS, LOTS, TENANCY, SETTLEMENT, CLOSED_FOR_GOOD)
LATEST = MIGRATIONS[-1].version

_RECORD_TABLE = """CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at BIGINT NOT NULL)"""
_POSTGRES_MIGRATION_LOCK = 7_243_101  # one migrating process per database at a time


def for_backend(conn: db.Connection) -> tuple[Migration, ...]:
    if conn.kind == db.POSTGRESQL:
        from billing import migrations_postgres

        return migrations_postgres.MIGRATIONS
    return MIGRATIONS


def apply(conn: db.Connection, *, until: int | None = None) -> list[int]:
    """Run every migration not yet recorded (up to version `until`), each in its own write
    transaction; return them. Run by the database's owner: on PostgreSQL the transactions
    keep the connecting role."""
    applied = []
    for migration in for_backend(conn):
        if until is not None and migration.version > until:
            break
        rebuild = migration.rebuilds and conn.kind == db.SQLITE
        if rebuild:
            conn.execute("PRAGMA foreign_keys = OFF")  # only outside a transaction
        try:
            if _apply(conn, migration, check_keys=rebuild):
                applied.append(migration.version)
        finally:
            if rebuild:
                conn.execute("PRAGMA foreign_keys = ON")
    return applied


def _apply(conn: db.Connection, migration: Migration, *, check_keys: bool) -> bool:
    with db.write(conn, user=db.OWNER):
        if conn.kind == db.POSTGRESQL:
            conn.execute("SELECT pg_advisory_xact_lock(?)", (_POSTGRES_MIGRATION_LOCK,))
        conn.execute(_RECORD_TABLE)
        if conn.execute(
            "SELECT 1 FROM schema_migrations WHERE version = ?", (migration.version,)
        ).fetchone():
            return False
        for statement in migration.statements:
            conn.execute(statement)
        if check_keys and conn.execute("PRAGMA foreign_key_check").fetchone():
            raise BillingError(f"migration {migration.version} broke a foreign key")
        conn.execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
            (migration.version, migration.name, clock.now_ms()),
        )
        return True


def recorded(conn: db.Connection) -> list[int]:
    with db.read(conn):
        exists = ("SELECT 1 FROM pg_tables WHERE tablename = 'schema_migrations'"
                  if conn.kind == db.POSTGRESQL else
                  "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'")
        if not conn.execute(exists).fetchone():
            return []
        rows = conn.execute("SELECT version FROM schema_migrations ORDER BY version")
        return [row[0] for row in rows]


def require_current(conn: db.Connection) -> None:
    """Fail fast unless exactly this code's migrations are recorded."""
    versions = recorded(conn)
    expected = [m.version for m in for_backend(conn)]
    if versions == expected:
        return
    where = "URL" if conn.kind == db.POSTGRESQL else "FILE"
    if not versions:
        raise BillingError(
            f"the billing database has no schema; run `cogni-billing --db {where} init`")
    if versions[-1] > LATEST:
        raise BillingError(
            f"the billing database is at schema version {versions[-1]}, newer than this code "
            f"({LATEST}); upgrade cogni-billing"
        )
    raise BillingError(
        f"the billing database is at schema version {versions[-1]}, this code needs {LATEST}; "
        f"run `cogni-billing --db {where} init` to migrate"
    )
