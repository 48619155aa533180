"""cogni-billing: the reference billing service (accounts, credit ledger, payments, lots).

Standard library and sqlite3 only; it imports nothing from `cogni_review`.
"""
