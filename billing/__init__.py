"""cogni-billing: the reference billing service (accounts, credit ledger, payments, lots).

The domain runs on the standard library and SQLite; PostgreSQL (psycopg) and the HTTP API
(Starlette, uvicorn, siwe) are optional extras. It imports nothing from `cogni_review`.
"""
