"""Why a credit ledger row exists. Every reason string is defined here and nowhere else.

The database refuses any other value (a CHECK constraint) and makes each reason idempotent per
account and reference (one partial unique index per reason), so the literals are repeated only
in the SQL of `billing/migrations.py`.
"""

# A user's own purchase: 100% of the paid amount, on the user's account.
CREDITS_PURCHASE = "credits_purchase"
# The bonus minted to the system tenant when a user buys credits for themself.
PLATFORM_REVENUE_SHARE = "platform_revenue_share"
# A payment whose purpose is `system`: 100% to the system tenant, no bonus.
SYSTEM_DONATION = "system_donation"
# Credits consumed by a finalized reservation (a negative ledger amount).
USAGE_CHARGE = "usage_charge"
# Credits taken back when a payment is refunded (negative; reference: the refunded attempt).
REFUND_CLAWBACK = "refund_clawback"
# Credits of a new payment that repay a refund's debt (negative; reference: the new attempt).
DEBT_REPAYMENT = "debt_repayment"

# Reasons whose reference is a payment attempt id, and which mint credits.
PAYMENT_REASONS = (CREDITS_PURCHASE, PLATFORM_REVENUE_SHARE, SYSTEM_DONATION)
# Reasons that take credits away (negative amounts).
DEBIT_REASONS = (USAGE_CHARGE, REFUND_CLAWBACK, DEBT_REPAYMENT)
ALL = (*PAYMENT_REASONS, *DEBIT_REASONS)
