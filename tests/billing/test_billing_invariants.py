"""`check` finds every kind of damage done behind the service's back, and names it."""

from __future__ import annotations

from billing import invariants, lots, payments, reasons
from billing.accounts import UserAccounts
from billing.invariants import Violation
from billing_fixtures import conn, database, fund, owner, pay  # noqa: F401 (pytest fixtures)


def test_a_healthy_database_has_no_violation(conn, fund):
    alice = fund(conn, "alice", 100)
    lots.finalize(conn, lots.reserve(conn, alice, 300).id, 100)
    lots.reserve(conn, alice, 50)
    pay(conn, alice, 10, payments.SYSTEM)
    assert invariants.check(conn) == []


def test_a_corrupted_balance_is_reported(conn, owner, fund):
    alice = fund(conn, "alice", 100)
    owner.drop_trigger("billing_accounts_balance_from_ledger", "billing_accounts")
    owner.execute("UPDATE billing_accounts SET balance_credits = 1005 WHERE id = ?", (alice.id,))
    assert invariants.check(conn) == [
        Violation("balance-equals-ledger-sum",
                  f"account {alice.id} balance 1005 != ledger sum 1000"),
        Violation("balance-equals-lots",
                  f"account {alice.id} balance 1005 != available + reserved in its lots 1000"),
    ]


def test_a_broken_balance_after_chain_is_reported(conn, owner, fund):
    fund(conn, "alice", 100)
    fund(conn, "alice", 100)
    owner.drop_trigger("credit_ledger_refuse_update", "credit_ledger")
    owner.execute("UPDATE credit_ledger SET balance_after = 999 WHERE id = 1")
    assert invariants.check(conn) == [
        Violation("balance-after-chain",
                  f"ledger row 1 of account {UserAccounts(conn, 'alice').get().id}:"
                  " balance_after 999 != running sum 1000"),
    ]


def test_a_broken_lot_is_reported(conn, owner, fund):
    alice = fund(conn, "alice", 100)
    owner.drop_checks("credit_lots", "lot_invariant")
    owner.execute("UPDATE credit_lots SET available_credits = 990 WHERE id = 1")
    assert invariants.check(conn) == [
        Violation("lot-invariant", "lot 1: available 990 + reserved 0 + consumed 0 != 1000"),
        Violation("balance-equals-lots",
                  f"account {alice.id} balance 1000 != available + reserved in its lots 990"),
    ]


def test_a_payment_row_without_an_attempt_is_reported(conn, owner, fund):
    alice = fund(conn, "alice", 100)
    owner.drop_trigger("credit_ledger_reference_is_attempt", "credit_ledger")
    owner.execute(
        "INSERT INTO credit_ledger (billing_account_id, amount, balance_after, reason, reference,"
        " created_at) VALUES (?, 10, 1010, ?, 'made-up', 0)", (alice.id, reasons.CREDITS_PURCHASE))
    assert invariants.check(conn) == [
        Violation("every-mint-is-one-lot", "ledger row 3 (amount 10) and lot None (original None)"
                  " disagree"),
        Violation("balance-equals-lots",
                  f"account {alice.id} balance 1010 != available + reserved in its lots 1000"),
        Violation("payment-reference-is-attempt",
                  f"ledger row 3 ({reasons.CREDITS_PURCHASE}) references 'made-up', not a settled"
                  " payment attempt"),
    ]


def test_a_settled_attempt_without_its_credits_is_reported(conn, owner):
    alice = UserAccounts(conn, "alice").open()
    attempt = payments.create_intent(conn, alice, 100)
    owner.execute("UPDATE payment_attempts SET status = 'settled', settled_at = 1")
    assert invariants.check(conn) == [
        Violation("settled-payment-minted-in-full",
                  f"payment attempt {attempt.id} (settled, purpose self): 1000 credits due,"
                  " None minted, 0 misplaced ledger rows"),
        Violation("settled-payment-verified",
                  f"payment attempt {attempt.id} is settled without a verified transaction"),
    ]


def test_a_second_system_tenant_is_reported(conn, owner):
    owner.execute("DROP INDEX billing_accounts_one_system_tenant")
    if owner.kind == "sqlite":
        owner.drop_trigger("billing_accounts_one_system_tenant", "billing_accounts")
    owner.execute(
        "INSERT INTO billing_accounts (id, owner_user_id, is_system_tenant, created_at,"
        " updated_at) VALUES ('impostor', 'someone', 1, 0, 0)")
    assert invariants.check(conn) == [
        Violation("one-system-tenant", "2 system tenant accounts, expected exactly 1"),
    ]


def test_a_usage_charge_that_disagrees_with_its_reservation_is_reported(conn, owner, fund):
    alice = fund(conn, "alice", 100)
    reservation = lots.reserve(conn, alice, 100)
    lots.finalize(conn, reservation.id, 60)
    owner.drop_trigger("credit_reservations_closed_for_good", "credit_reservations")
    owner.execute("UPDATE credit_reservations SET consumed_credits = 50")
    assert invariants.check(conn) == [
        Violation("reservations-match-their-lots",
                  f"reservation {reservation.id} of 100 credits (consumed 50): its lots hold 100"
                  " (consumed 60)"),
        Violation("usage-matches-reservations",
                  f"usage row 3 charges 60 for reservation {reservation.id}, which consumed 50"),
    ]


def test_lots_out_of_step_with_their_reservations_are_reported(conn, owner, fund):
    alice = fund(conn, "alice", 100)
    lots.reserve(conn, alice, 100)
    owner.execute("UPDATE credit_lots SET reserved_credits = 90, available_credits = 910"
                 " WHERE id = 1")
    assert invariants.check(conn) == [
        Violation("lots-match-reservations",
                  "lot 1: reserved 90, consumed 0; reservations hold 100, consumed with its"
                  " charges 0"),
    ]


def test_a_debt_out_of_step_with_its_refund_is_reported(conn, owner, fund):
    from billing import refunds

    alice = UserAccounts(conn, "alice").open()
    settled = pay(conn, alice, 100)
    lots.finalize(conn, lots.reserve(conn, alice, 600).id, 600)
    refunds.refund(conn, settled.attempt_id, actor="dao", why="chargeback")
    assert invariants.check(conn) == []
    owner.drop_trigger("credit_debts_only_repaid", "credit_debts")
    owner.execute("UPDATE credit_debts SET debt_credits = 500, repaid_credits = 100")
    assert invariants.check(conn) == [
        Violation("refund-takes-back-what-was-minted",
                  f"ledger row 1 minted 1000 for refunded {settled.attempt_id}: 400 clawed back,"
                  " 500 owed"),
        Violation("debts-repaid-by-the-ledger", f"account {alice.id}: debts repaid 100, ledger"
                  " repayments 0"),
    ]
