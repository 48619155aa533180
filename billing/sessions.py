"""Sign-in with Ethereum (EIP-4361) and the sessions it opens: the API's only source of identity.

`nonce` issues a single-use nonce. `sign_in` parses the EIP-4361 message and checks it with the
maintained `siwe` package (domain, nonce, expiry, and the signature recovered by `eth-account`
must be the message's address), then spends the nonce (a conditional update: two sign-ins
with one nonce cannot both win) and opens a session: a random bearer token, stored only as its
SHA-256. The user id of a signed-in wallet is its lower-case address; its billing account is
found from the session alone, never from a request body.
"""

from __future__ import annotations

import hashlib
import secrets
import sys
import warnings
from dataclasses import dataclass
from datetime import datetime, timezone

from billing import clock, db
from billing.chain import valid_address
from billing.errors import BillingError

NONCE_TTL_MS = 10 * 60 * 1000
SESSION_TTL_MS = 24 * 3600 * 1000


class Unauthenticated(BillingError):
    """No session, an expired one, or a sign-in that does not check out."""


@dataclass(frozen=True)
class Session:
    user_id: str
    expires_at: int


def nonce(conn: db.Connection, *, now: int | None = None) -> str:
    now = clock.now_ms() if now is None else now
    value = secrets.token_hex(16)  # EIP-4361: at least 8 alphanumeric characters
    with db.write(conn):
        conn.execute("INSERT INTO siwe_nonces (nonce, issued_at, expires_at) VALUES (?, ?, ?)",
                     (value, now, now + NONCE_TTL_MS))
    return value


def sign_in(conn: db.Connection, message: str, signature: str, *, domain: str,
            now: int | None = None) -> tuple[str, Session]:
    """Check a signed EIP-4361 message; return a new bearer token and its session."""
    now = clock.now_ms() if now is None else now
    parsed = _check(message, signature, domain, now)
    user_id = valid_address(parsed.address, "address")
    token = secrets.token_urlsafe(32)
    session = Session(user_id, now + SESSION_TTL_MS)
    with db.write(conn):
        spent = conn.execute(
            "UPDATE siwe_nonces SET used_at = ? WHERE nonce = ? AND used_at IS NULL"
            " AND expires_at > ?", (now, parsed.nonce, now)).rowcount
        if spent != 1:
            raise Unauthenticated("the sign-in nonce is unknown, expired or already used;"
                                  " ask for a new one")
        conn.execute("INSERT INTO api_sessions (token_hash, user_id, created_at, expires_at)"
                     " VALUES (?, ?, ?, ?)", (_hash(token), user_id, now, session.expires_at))
    return token, session


def resolve(conn: db.Connection, token: str | None, *, now: int | None = None) -> Session:
    now = clock.now_ms() if now is None else now
    if not token:
        raise Unauthenticated("sign in with Ethereum first: no session token")
    with db.read(conn):
        row = conn.execute("SELECT user_id, expires_at FROM api_sessions WHERE token_hash = ?",
                           (_hash(token),)).fetchone()
    if row is None or row[1] <= now:
        raise Unauthenticated("the session is unknown or expired; sign in again")
    return Session(row[0], row[1])


def _check(message: str, signature: str, domain: str, now: int):
    limit = sys.getrecursionlimit()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the grammar library's notes about siwe's grammar
            import siwe
    finally:
        sys.setrecursionlimit(limit)  # its Ethereum dependencies raise it for the whole process
    try:
        parsed = siwe.SiweMessage.from_message(message)
    except Exception as e:  # the parser's own error types vary by version
        raise Unauthenticated(f"not an EIP-4361 sign-in message: {type(e).__name__}") from None
    if parsed.expiration_time is None:
        raise Unauthenticated("the sign-in message must carry an expiration time")
    moment = datetime.fromtimestamp(now // 1000, tz=timezone.utc)
    try:
        parsed.verify(signature, domain=domain, timestamp=moment)
    except siwe.VerificationError as e:
        raise Unauthenticated(f"the sign-in does not check out: {type(e).__name__}") from None
    return parsed


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
