"""The schema on PostgreSQL: the same versions as `migrations.py`, in PostgreSQL's own terms.

Tables, checks and unique indexes mirror the SQLite schema; triggers call `billing_refuse`, one
function that raises its argument as an integrity violation. Migration 5 adds what only a
server can enforce: the serving roles, their grants and row-level security (see
`billing/README.md`). Run by the database owner (`cogni-billing --db URL init`), never at run
time.
"""

from __future__ import annotations

from billing import reasons
from billing.migrations import Migration

# The reasons, quoted for SQL: spelled once, in reasons.py, and built into this schema from there.
PURCHASE, SHARE, DONATION, USAGE = (f"'{r}'" for r in (
    reasons.CREDITS_PURCHASE, reasons.PLATFORM_REVENUE_SHARE, reasons.SYSTEM_DONATION,
    reasons.USAGE_CHARGE))

_REFUSE = """CREATE FUNCTION billing_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION USING MESSAGE = TG_ARGV[0], ERRCODE = 'integrity_constraint_violation';
    END $$"""


def _refuse(name: str, when: str, table: str, message: str, condition: str = "") -> str:
    """A trigger that refuses a write to `table` (`when`: e.g. "BEFORE DELETE") with `message`."""
    guard = f" WHEN ({condition})" if condition else ""
    level = "STATEMENT" if "TRUNCATE" in when else "ROW"
    return (f"CREATE TRIGGER {name} {when} ON {table} FOR EACH {level}{guard}"
            f" EXECUTE FUNCTION billing_refuse('{message}')")


def _guard(name: str, when: str, table: str, condition: str, message: str,
           trigger_when: str = "") -> tuple[str, str]:
    """A function that refuses a row for which `condition` holds, and its row trigger."""
    guard = f" WHEN ({trigger_when})" if trigger_when else ""
    return (f"""CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF {condition}
        THEN RAISE EXCEPTION USING ERRCODE = 'integrity_constraint_violation',
            MESSAGE = '{message}';
        END IF;
        RETURN NEW;
    END $$""", f"CREATE TRIGGER {name} {when} ON {table} FOR EACH ROW{guard}"
               f" EXECUTE FUNCTION {name}()")


def _changed(*columns: str) -> str:
    return " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in columns)


ACCOUNTS = Migration(1, "billing accounts and the system tenant", (
    _REFUSE,
    """CREATE TABLE billing_accounts (
        id text PRIMARY KEY,
        owner_user_id text NOT NULL UNIQUE,
        is_system_tenant smallint NOT NULL DEFAULT 0 CHECK (is_system_tenant IN (0, 1)),
        balance_credits bigint NOT NULL DEFAULT 0 CHECK (balance_credits >= 0),
        created_at bigint NOT NULL,
        updated_at bigint NOT NULL)""",
    """CREATE UNIQUE INDEX billing_accounts_one_system_tenant
        ON billing_accounts (is_system_tenant) WHERE is_system_tenant = 1""",
    _refuse("billing_accounts_identity_write_once", "BEFORE UPDATE", "billing_accounts",
            "billing account identity is write-once",
            _changed("id", "owner_user_id", "is_system_tenant")),
    _refuse("billing_accounts_open_at_zero", "BEFORE INSERT", "billing_accounts",
            "a billing account opens with a zero balance", "NEW.balance_credits <> 0"),
    _refuse("billing_accounts_keep_system_tenant", "BEFORE DELETE", "billing_accounts",
            "the system tenant cannot be deleted", "OLD.is_system_tenant = 1"),
    _refuse("billing_accounts_never_truncated", "BEFORE TRUNCATE", "billing_accounts",
            "billing accounts are never truncated"),
    """INSERT INTO billing_accounts (id, owner_user_id, is_system_tenant, created_at, updated_at)
        VALUES ('cogni_system', 'cogni_system_principal', 1,
                (extract(epoch FROM now()) * 1000)::bigint,
                (extract(epoch FROM now()) * 1000)::bigint)""",
))

LEDGER = Migration(2, "append-only credit ledger", (
    f"""CREATE TABLE credit_ledger (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        billing_account_id text NOT NULL REFERENCES billing_accounts (id),
        amount bigint NOT NULL CHECK (amount <> 0),
        balance_after bigint NOT NULL CHECK (balance_after >= 0),
        reason text NOT NULL CHECK (reason IN ({PURCHASE}, {SHARE}, {DONATION}, {USAGE})),
        reference text NOT NULL CHECK (length(reference) > 0),
        metadata jsonb NOT NULL DEFAULT '{{}}',
        created_at bigint NOT NULL,
        CONSTRAINT sign_follows_reason CHECK ((amount < 0) = (reason = {USAGE})))""",
    "CREATE INDEX credit_ledger_account ON credit_ledger (billing_account_id, id)",
    *(f"""CREATE UNIQUE INDEX credit_ledger_{reason}_ref_unique
        ON credit_ledger (billing_account_id, reference) WHERE reason = '{reason}'"""
      for reason in (reasons.CREDITS_PURCHASE, reasons.PLATFORM_REVENUE_SHARE,
                     reasons.SYSTEM_DONATION, reasons.USAGE_CHARGE)),
    _refuse("credit_ledger_refuse_update", "BEFORE UPDATE", "credit_ledger",
            "credit_ledger is append-only"),
    _refuse("credit_ledger_refuse_delete", "BEFORE DELETE", "credit_ledger",
            "credit_ledger is append-only"),
    _refuse("credit_ledger_refuse_truncate", "BEFORE TRUNCATE", "credit_ledger",
            "credit_ledger is append-only"),
    # The chain: a new row's balance_after is the account's balance plus its amount ...
    *_guard("credit_ledger_chain", "BEFORE INSERT", "credit_ledger",
            "NEW.balance_after IS DISTINCT FROM (SELECT balance_credits FROM billing_accounts"
            " WHERE id = NEW.billing_account_id) + NEW.amount",
            "balance_after must equal the balance plus the amount"),
    # ... and the balance follows the row in the same statement, hence the same transaction.
    """CREATE FUNCTION credit_ledger_moves_balance() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE billing_accounts SET balance_credits = NEW.balance_after,
                                    updated_at = NEW.created_at
        WHERE id = NEW.billing_account_id;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER credit_ledger_moves_balance AFTER INSERT ON credit_ledger
        FOR EACH ROW EXECUTE FUNCTION credit_ledger_moves_balance()""",
    *_guard("billing_accounts_balance_from_ledger", "BEFORE UPDATE", "billing_accounts",
            "NEW.balance_credits IS DISTINCT FROM (SELECT balance_after FROM credit_ledger"
            " WHERE billing_account_id = NEW.id ORDER BY id DESC LIMIT 1)",
            "balance_credits is written only by the credit ledger",
            trigger_when="OLD.balance_credits IS DISTINCT FROM NEW.balance_credits"),
))

PAYMENTS = Migration(3, "payment attempts", (
    """CREATE TABLE payment_attempts (
        id text PRIMARY KEY,
        billing_account_id text NOT NULL REFERENCES billing_accounts (id),
        purpose text NOT NULL DEFAULT 'self' CHECK (purpose IN ('self', 'system')),
        amount_cents bigint NOT NULL CHECK (amount_cents > 0),
        status text NOT NULL DEFAULT 'created' CHECK (status IN ('created', 'settled')),
        created_at bigint NOT NULL,
        settled_at bigint,
        CHECK ((status = 'settled') = (settled_at IS NOT NULL)))""",
    "CREATE INDEX payment_attempts_account ON payment_attempts (billing_account_id)",
    *_guard("payment_attempts_owned_by_a_user", "BEFORE INSERT", "payment_attempts",
            "(SELECT is_system_tenant FROM billing_accounts WHERE id = NEW.billing_account_id)"
            " = 1", "a payment attempt belongs to a user account"),
    _refuse("payment_attempts_write_once", "BEFORE UPDATE", "payment_attempts",
            "payment attempt purpose, amount and account are write-once",
            _changed("id", "billing_account_id", "purpose", "amount_cents", "created_at")),
    _refuse("payment_attempts_settle_once", "BEFORE UPDATE", "payment_attempts",
            "a payment attempt moves only from created to settled",
            "OLD.status IS DISTINCT FROM NEW.status"
            " AND NOT (OLD.status = 'created' AND NEW.status = 'settled')"),
    _refuse("payment_attempts_refuse_delete", "BEFORE DELETE", "payment_attempts",
            "payment attempts are never deleted"),
    _refuse("payment_attempts_refuse_truncate", "BEFORE TRUNCATE", "payment_attempts",
            "payment attempts are never deleted"),
))

LOTS = Migration(4, "credit lots and reservations", (
    """CREATE TABLE credit_lots (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        billing_account_id text NOT NULL REFERENCES billing_accounts (id),
        ledger_entry_id bigint NOT NULL UNIQUE REFERENCES credit_ledger (id),
        pool_id text NOT NULL DEFAULT 'general',
        expires_at bigint,
        original_credits bigint NOT NULL CHECK (original_credits > 0),
        available_credits bigint NOT NULL,
        reserved_credits bigint NOT NULL,
        consumed_credits bigint NOT NULL,
        created_at bigint NOT NULL,
        CONSTRAINT lot_balance CHECK
            (available_credits >= 0 AND reserved_credits >= 0 AND consumed_credits >= 0),
        CONSTRAINT lot_invariant CHECK
            (available_credits + reserved_credits + consumed_credits = original_credits))""",
    """CREATE INDEX credit_lots_fifo ON credit_lots (billing_account_id, pool_id, expires_at, id)
        WHERE available_credits > 0""",
    *_guard("credit_lots_minted_from_ledger", "BEFORE INSERT", "credit_lots",
            "NEW.available_credits <> NEW.original_credits OR NOT EXISTS (SELECT 1 FROM"
            " credit_ledger WHERE id = NEW.ledger_entry_id AND billing_account_id ="
            " NEW.billing_account_id AND amount = NEW.original_credits)",
            "a lot is minted whole from its own ledger entry"),
    _refuse("credit_lots_write_once", "BEFORE UPDATE", "credit_lots",
            "a lot''s origin is write-once",
            _changed("id", "billing_account_id", "ledger_entry_id", "pool_id", "expires_at",
                     "original_credits", "created_at")),
    _refuse("credit_lots_refuse_delete", "BEFORE DELETE", "credit_lots",
            "credit lots are never deleted"),
    _refuse("credit_lots_refuse_truncate", "BEFORE TRUNCATE", "credit_lots",
            "credit lots are never deleted"),
    """CREATE TABLE credit_reservations (
        id text PRIMARY KEY,
        billing_account_id text NOT NULL REFERENCES billing_accounts (id),
        pool_id text NOT NULL,
        credits bigint NOT NULL CHECK (credits > 0),
        status text NOT NULL DEFAULT 'pending'
            CHECK (status IN ('pending', 'finalized', 'released', 'expired')),
        consumed_credits bigint CHECK (consumed_credits IS NULL OR
            consumed_credits BETWEEN 0 AND credits),
        created_at bigint NOT NULL,
        expires_at bigint NOT NULL,
        closed_at bigint,
        CHECK ((status = 'finalized') = (consumed_credits IS NOT NULL)),
        CHECK ((status = 'pending') = (closed_at IS NULL)))""",
    """CREATE INDEX credit_reservations_expiry ON credit_reservations (expires_at)
        WHERE status = 'pending'""",
    _refuse("credit_reservations_close_once", "BEFORE UPDATE", "credit_reservations",
            "a reservation is closed once, from pending",
            "OLD.status IS DISTINCT FROM NEW.status"
            " AND (OLD.status <> 'pending' OR NEW.status = 'pending')"),
    _refuse("credit_reservations_write_once", "BEFORE UPDATE", "credit_reservations",
            "a reservation''s terms are write-once",
            _changed("id", "billing_account_id", "pool_id", "credits", "created_at",
                     "expires_at")),
    """CREATE TABLE reservation_lots (
        reservation_id text NOT NULL REFERENCES credit_reservations (id),
        position integer NOT NULL,
        lot_id bigint NOT NULL REFERENCES credit_lots (id),
        credits bigint NOT NULL CHECK (credits > 0),
        consumed_credits bigint CHECK (consumed_credits IS NULL OR
            consumed_credits BETWEEN 0 AND credits),
        PRIMARY KEY (reservation_id, position),
        UNIQUE (reservation_id, lot_id))""",
    "CREATE INDEX reservation_lots_lot ON reservation_lots (lot_id)",
))

_ROLES = """DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'billing_user') THEN
        CREATE ROLE billing_user NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'billing_service') THEN
        CREATE ROLE billing_service NOLOGIN BYPASSRLS;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'billing_app') THEN
        CREATE ROLE billing_app LOGIN NOINHERIT;
    END IF;
    GRANT billing_user, billing_service TO billing_app;
END $$"""

# A user's rows: its own account (never the system tenant), and what hangs off it. The
# subquery is itself filtered by the accounts policy, so it yields the user's account only.
_OWN = "billing_account_id IN (SELECT id FROM billing_accounts)"
_VISIBLE_RESERVATION = ("EXISTS (SELECT 1 FROM credit_reservations r"
                        " WHERE r.id = reservation_lots.reservation_id)")
_VISIBLE_LOT = "EXISTS (SELECT 1 FROM credit_lots c WHERE c.id = reservation_lots.lot_id)"
_OWN_ACCOUNT = ("owner_user_id = current_setting('billing.user_id', true)"
                " AND is_system_tenant = 0")

TENANCY = Migration(5, "payment references are attempts, rows are never replaced, tenancy", (
    # A payment's ledger rows reference an attempt that pays for exactly them.
    f"""CREATE FUNCTION credit_ledger_reference_is_attempt() RETURNS trigger LANGUAGE plpgsql
    AS $$
    DECLARE to_system boolean := EXISTS (SELECT 1 FROM billing_accounts
                                      WHERE id = NEW.billing_account_id AND is_system_tenant = 1);
    BEGIN
        IF NEW.reason IN ({PURCHASE}, {SHARE}, {DONATION})
           AND NOT EXISTS (SELECT 1 FROM payment_attempts p WHERE p.id = NEW.reference AND (
               (NEW.reason = {PURCHASE} AND p.purpose = 'self'
                AND p.billing_account_id = NEW.billing_account_id
                AND NEW.amount = p.amount_cents * 10)
            OR (NEW.reason = {DONATION} AND p.purpose = 'system' AND to_system
                AND NEW.amount = p.amount_cents * 10)
            OR (NEW.reason = {SHARE} AND p.purpose = 'self' AND to_system)))
        THEN RAISE EXCEPTION USING ERRCODE = 'integrity_constraint_violation',
            MESSAGE = 'a payment ledger row references the attempt that pays for it';
        END IF;
        RETURN NEW;
    END $$""",
    """CREATE TRIGGER credit_ledger_reference_is_attempt BEFORE INSERT ON credit_ledger
        FOR EACH ROW EXECUTE FUNCTION credit_ledger_reference_is_attempt()""",
    _ROLES,
    "GRANT USAGE ON SCHEMA public TO billing_user, billing_service",
    "GRANT SELECT ON schema_migrations TO billing_user, billing_service",
    "GRANT SELECT, INSERT ON billing_accounts, credit_ledger, payment_attempts"
    " TO billing_user, billing_service",
    "GRANT UPDATE (balance_credits, updated_at) ON billing_accounts"
    " TO billing_user, billing_service",
    "GRANT UPDATE (status, settled_at) ON payment_attempts TO billing_service",
    "GRANT SELECT, UPDATE (available_credits, reserved_credits, consumed_credits)"
    " ON credit_lots TO billing_user, billing_service",
    "GRANT INSERT ON credit_lots TO billing_service",
    "GRANT SELECT, INSERT, UPDATE (status, consumed_credits, closed_at) ON credit_reservations"
    " TO billing_user, billing_service",
    "GRANT SELECT, INSERT, UPDATE (consumed_credits) ON reservation_lots"
    " TO billing_user, billing_service",
    *(f"ALTER TABLE {t} ENABLE ROW LEVEL SECURITY" for t in (
        "billing_accounts", "credit_ledger", "payment_attempts", "credit_lots",
        "credit_reservations", "reservation_lots")),
    *(f"ALTER TABLE {t} FORCE ROW LEVEL SECURITY" for t in (
        "billing_accounts", "credit_ledger", "payment_attempts", "credit_lots",
        "credit_reservations", "reservation_lots")),
    f"""CREATE POLICY own_account ON billing_accounts TO billing_user
        USING ({_OWN_ACCOUNT}) WITH CHECK ({_OWN_ACCOUNT})""",
    f"CREATE POLICY own_rows ON credit_ledger FOR SELECT TO billing_user USING ({_OWN})",
    # A user's transaction appends only usage charges (consumption); minting is the service's.
    f"""CREATE POLICY own_usage ON credit_ledger FOR INSERT TO billing_user
        WITH CHECK ({_OWN} AND reason = {USAGE})""",
    f"CREATE POLICY own_rows ON payment_attempts FOR SELECT TO billing_user USING ({_OWN})",
    f"""CREATE POLICY own_new_attempts ON payment_attempts FOR INSERT TO billing_user
        WITH CHECK ({_OWN} AND status = 'created')""",
    f"CREATE POLICY own_rows ON credit_lots TO billing_user USING ({_OWN}) WITH CHECK ({_OWN})",
    f"""CREATE POLICY own_rows ON credit_reservations TO billing_user
        USING ({_OWN}) WITH CHECK ({_OWN})""",
    # A row of a visible parent: one primary-key lookup each (the parent's own policy applies).
    f"""CREATE POLICY own_rows ON reservation_lots TO billing_user
        USING ({_VISIBLE_RESERVATION}) WITH CHECK ({_VISIBLE_RESERVATION} AND {_VISIBLE_LOT})""",
))

REFUND, REPAYMENT = (f"'{r}'" for r in (reasons.REFUND_CLAWBACK, reasons.DEBT_REPAYMENT))
_SERVICE_ONLY = ("payment_refunds", "lot_charges", "revenue_rules", "revenue_rule_audit",
                 "siwe_nonces", "api_sessions")

SETTLEMENT = Migration(6, "verified payments, refunds and debts, revenue rules, sessions", (
    "ALTER TABLE credit_ledger DROP CONSTRAINT credit_ledger_reason_check",
    f"""ALTER TABLE credit_ledger ADD CONSTRAINT credit_ledger_reason_check CHECK (reason IN
        ({PURCHASE}, {SHARE}, {DONATION}, {USAGE}, {REFUND}, {REPAYMENT}))""",
    "ALTER TABLE credit_ledger DROP CONSTRAINT sign_follows_reason",
    f"""ALTER TABLE credit_ledger ADD CONSTRAINT sign_follows_reason
        CHECK ((amount < 0) = (reason IN ({USAGE}, {REFUND}, {REPAYMENT})))""",
    *(f"""CREATE UNIQUE INDEX credit_ledger_{reason}_ref_unique
        ON credit_ledger (billing_account_id, reference) WHERE reason = '{reason}'"""
      for reason in (reasons.REFUND_CLAWBACK, reasons.DEBT_REPAYMENT)),
    "CREATE INDEX credit_ledger_reference ON credit_ledger (billing_account_id, reference)",
    """CREATE TABLE payment_transactions (
        attempt_id text PRIMARY KEY REFERENCES payment_attempts (id),
        chain_id bigint NOT NULL,
        tx_hash text NOT NULL UNIQUE CHECK (length(tx_hash) = 66),
        from_address text NOT NULL,
        submitted_at bigint NOT NULL,
        verdict text CHECK (verdict IN ('verified', 'refused')),
        detail text,
        verified_at bigint,
        CHECK ((verdict IS NULL) = (verified_at IS NULL)))""",
    _refuse("payment_transactions_judged_once", "BEFORE UPDATE", "payment_transactions",
            "a payment transaction is recorded once and judged once",
            "OLD.verdict IS NOT NULL OR " + _changed("attempt_id", "tx_hash", "from_address",
                                                    "chain_id")),
    _refuse("payment_transactions_refuse_delete", "BEFORE DELETE", "payment_transactions",
            "payment transactions are never deleted"),
    # A payment's rows reference the attempt that pays for them, now verified on chain; a
    # clawback references a refunded attempt.
    f"""CREATE OR REPLACE FUNCTION credit_ledger_reference_is_attempt() RETURNS trigger
    LANGUAGE plpgsql AS $$
    DECLARE to_system boolean := EXISTS (SELECT 1 FROM billing_accounts
                                         WHERE id = NEW.billing_account_id AND is_system_tenant = 1);
    BEGIN
        IF (NEW.reason IN ({PURCHASE}, {SHARE}, {DONATION})
           AND NOT EXISTS (SELECT 1 FROM payment_attempts p JOIN payment_transactions t
               ON t.attempt_id = p.id AND t.verdict = 'verified'
               WHERE p.id = NEW.reference AND (
               (NEW.reason = {PURCHASE} AND p.purpose = 'self'
                AND p.billing_account_id = NEW.billing_account_id
                AND NEW.amount = p.amount_cents * 10)
            OR (NEW.reason = {DONATION} AND p.purpose = 'system' AND to_system
                AND NEW.amount = p.amount_cents * 10)
            OR (NEW.reason = {SHARE} AND p.purpose = 'self' AND to_system))))
           OR (NEW.reason = {REFUND} AND NOT EXISTS
               (SELECT 1 FROM payment_refunds WHERE attempt_id = NEW.reference))
        THEN RAISE EXCEPTION USING ERRCODE = 'integrity_constraint_violation',
            MESSAGE = 'a payment ledger row references the attempt that pays for it';
        END IF;
        RETURN NEW;
    END $$""",
    """CREATE TABLE payment_refunds (
        attempt_id text PRIMARY KEY REFERENCES payment_attempts (id),
        actor text NOT NULL,
        why text NOT NULL,
        refunded_at bigint NOT NULL)""",
    _refuse("payment_refunds_refuse_change", "BEFORE UPDATE OR DELETE", "payment_refunds",
            "a refund is recorded once"),
    """CREATE TABLE credit_debts (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        billing_account_id text NOT NULL REFERENCES billing_accounts (id),
        attempt_id text NOT NULL REFERENCES payment_refunds (attempt_id),
        debt_credits bigint NOT NULL CHECK (debt_credits > 0),
        repaid_credits bigint NOT NULL DEFAULT 0
            CHECK (repaid_credits BETWEEN 0 AND debt_credits),
        created_at bigint NOT NULL,
        UNIQUE (billing_account_id, attempt_id))""",
    _refuse("credit_debts_only_repaid", "BEFORE UPDATE", "credit_debts",
            "a debt only goes down, by repayment",
            "NEW.repaid_credits < OLD.repaid_credits OR "
            + _changed("debt_credits", "billing_account_id", "attempt_id")),
    _refuse("credit_debts_refuse_delete", "BEFORE DELETE", "credit_debts",
            "debts are never deleted"),
    f"""CREATE TABLE lot_charges (
        lot_id bigint NOT NULL REFERENCES credit_lots (id),
        reason text NOT NULL CHECK (reason IN ({REFUND}, {REPAYMENT})),
        reference text NOT NULL,
        credits bigint NOT NULL CHECK (credits > 0),
        PRIMARY KEY (lot_id, reason, reference))""",
    _refuse("lot_charges_append_only", "BEFORE UPDATE OR DELETE", "lot_charges",
            "lot charges are append-only"),
    "ALTER TABLE credit_reservations ADD COLUMN idempotency_key text",
    "CREATE INDEX credit_reservations_account ON credit_reservations (billing_account_id)",
    "CREATE INDEX credit_lots_account ON credit_lots (billing_account_id, id)",
    """CREATE UNIQUE INDEX credit_reservations_idempotency
        ON credit_reservations (billing_account_id, idempotency_key)
        WHERE idempotency_key IS NOT NULL""",
    """CREATE TABLE revenue_rules (
        id text PRIMARY KEY,
        name text NOT NULL,
        share_numerator bigint NOT NULL CHECK (share_numerator >= 0),
        share_denominator bigint NOT NULL
            CHECK (share_denominator > 0 AND share_numerator <= share_denominator),
        status text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'pending_approval',
            'cooling_down', 'active', 'superseded', 'rejected')),
        proposed_by text NOT NULL,
        proposed_at bigint NOT NULL,
        approved_by text,
        approved_at bigint,
        activates_at bigint,
        activated_at bigint,
        superseded_at bigint,
        superseded_by text REFERENCES revenue_rules (id),
        notes text)""",
    """CREATE UNIQUE INDEX revenue_rules_one_active ON revenue_rules (status)
        WHERE status = 'active'""",
    _refuse("revenue_rules_terms_write_once", "BEFORE UPDATE", "revenue_rules",
            "a revenue rule''s terms are write-once, its end final",
            "OLD.status IN ('superseded', 'rejected') OR "
            + _changed("id", "share_numerator", "share_denominator")),
    _refuse("revenue_rules_refuse_delete", "BEFORE DELETE", "revenue_rules",
            "revenue rules are never deleted"),
    """CREATE TABLE revenue_rule_audit (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        rule_id text NOT NULL REFERENCES revenue_rules (id),
        action text NOT NULL CHECK (action IN ('proposed', 'submitted', 'approved', 'rejected',
            'activated', 'superseded', 'cooldown_overridden')),
        actor text NOT NULL,
        reason text,
        previous_status text,
        new_status text NOT NULL,
        created_at bigint NOT NULL)""",
    _refuse("revenue_rule_audit_append_only", "BEFORE UPDATE OR DELETE", "revenue_rule_audit",
            "the revenue rule audit log is append-only"),
    """CREATE TABLE siwe_nonces (
        nonce text PRIMARY KEY,
        issued_at bigint NOT NULL,
        expires_at bigint NOT NULL,
        used_at bigint)""",
    """CREATE TABLE api_sessions (
        token_hash text PRIMARY KEY,
        user_id text NOT NULL,
        created_at bigint NOT NULL,
        expires_at bigint NOT NULL)""",
    *(_refuse(f"{t}_never_truncated", "BEFORE TRUNCATE", t, f"{t} is never truncated")
      for t in ("payment_transactions", "payment_refunds", "credit_debts", "lot_charges",
                "revenue_rules", "revenue_rule_audit")),
    # Grants: a user records its own payment's transaction and sees its own debts and charges;
    # verification, refunds, governance and sign-in are the service's.
    "GRANT SELECT, INSERT ON payment_transactions TO billing_user, billing_service",
    "GRANT UPDATE (verdict, detail, verified_at) ON payment_transactions TO billing_service",
    "GRANT SELECT ON credit_debts TO billing_user",
    "GRANT SELECT, INSERT, UPDATE (repaid_credits) ON credit_debts TO billing_service",
    "GRANT SELECT ON lot_charges TO billing_user",
    "GRANT SELECT, INSERT ON payment_refunds, lot_charges, revenue_rule_audit TO billing_service",
    "GRANT SELECT, INSERT, UPDATE (status, approved_by, approved_at, activates_at, activated_at,"
    " superseded_at, superseded_by, notes) ON revenue_rules TO billing_service",
    "GRANT SELECT, INSERT, UPDATE (used_at) ON siwe_nonces TO billing_service",
    "GRANT SELECT, INSERT, DELETE ON api_sessions TO billing_service",
    *(f"ALTER TABLE {t} ENABLE ROW LEVEL SECURITY" for t in (
        "payment_transactions", "credit_debts", "lot_charges", *_SERVICE_ONLY)),
    *(f"ALTER TABLE {t} FORCE ROW LEVEL SECURITY" for t in (
        "payment_transactions", "credit_debts", "lot_charges", *_SERVICE_ONLY)),
    """CREATE POLICY own_rows ON payment_transactions TO billing_user
        USING (EXISTS (SELECT 1 FROM payment_attempts p
                       WHERE p.id = payment_transactions.attempt_id))
        WITH CHECK (verdict IS NULL AND EXISTS (SELECT 1 FROM payment_attempts p
                                                WHERE p.id = payment_transactions.attempt_id))""",
    f"CREATE POLICY own_rows ON credit_debts FOR SELECT TO billing_user USING ({_OWN})",
    """CREATE POLICY own_rows ON lot_charges FOR SELECT TO billing_user
        USING (EXISTS (SELECT 1 FROM credit_lots c WHERE c.id = lot_charges.lot_id))""",
))

CLOSED_FOR_GOOD = Migration(7, "a closed reservation never changes", (
    _refuse("credit_reservations_closed_for_good", "BEFORE UPDATE", "credit_reservations",
            "a reservation is closed once, from pending", "OLD.status <> 'pending'"),
))

MIGRATIONS = (ACCOUNTS, LEDGER, PAYMENTS, LOTS, TENANCY, SETTLEMENT, CLOSED_FOR_GOOD)
