"""The HTTP API, through a real server on a loopback port, on both backends.

Sign-in is real EIP-4361 (keys made here, messages signed with eth-account); the chain is the
JSON-RPC node double; the clock is the test's, so cooldowns can pass in an instant.
"""

from __future__ import annotations

import threading
import uuid
from datetime import datetime, timezone

import httpx
import pytest

from billing import chain, invariants, reasons, startup
from billing.api import Service, create_app
from billing_fixtures import database, rows  # noqa: F401 (pytest fixtures)
from chain_double import RAIL, FakeChain, Loopback, Node, new_tx_hash, same_recursion_limit

with same_recursion_limit():
    from eth_account import Account
    from eth_account.messages import encode_defunct

NOW = 1_800_000_000_000
HOUR = 3_600_000


class Clock:
    def __init__(self, now: int) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


class Api:
    def __init__(self, url, chain, clock, admin) -> None:
        self.url, self.chain, self.clock, self.admin = url, chain, clock, admin

    def call(self, method, path, token=None, body=None):
        headers = {"authorization": f"Bearer {token}"} if token else {}
        answer = httpx.request(method, self.url + path, json=body, headers=headers, timeout=30)
        return answer.status_code, answer.json()

    def sign_in(self, key=None, *, domain="localhost", expires_in=HOUR, nonce=None):
        key = key or Account.create()
        nonce = nonce or self.call("POST", "/api/v1/auth/nonce")[1]["nonce"]
        message = siwe_message(key.address, nonce, self.clock.now, expires_in, domain)
        signature = Account.sign_message(encode_defunct(text=message), key.key).signature.hex()
        status, body = self.call("POST", "/api/v1/auth/verify",
                                 body={"message": message, "signature": "0x" + signature
                                       if not signature.startswith("0x") else signature})
        return status, body

    def user(self, key=None):
        """(token, wallet) of a newly signed-in wallet."""
        status, body = self.sign_in(key)
        assert status == 200, body
        return body["token"], body["address"]

    def buy(self, token, wallet, cents, *, pay=True, purpose="self"):
        """An intent, its transaction paid on the (double) chain, submitted: the answer."""
        status, attempt = self.call("POST", "/api/v1/payments/intents", token,
                                    {"amountUsdCents": cents, "purpose": purpose})
        assert status == 201, attempt
        tx_hash = new_tx_hash()
        if pay:
            self.chain.pay(tx_hash, wallet, cents * 10**4)
        return self.call("POST", f"/api/v1/payments/attempts/{attempt['attemptId']}/submit",
                         token, {"txHash": tx_hash})


def siwe_message(address, nonce, now_ms, expires_in_ms, domain="localhost"):
    import warnings

    with warnings.catch_warnings(), same_recursion_limit():
        warnings.simplefilter("ignore")
        from siwe import SiweMessage

    def iso(ms):
        return datetime.fromtimestamp(ms // 1000, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

    return SiweMessage(domain=domain, address=address, statement="Sign in to cogni-billing",
                       uri=f"http://{domain}", version="1", chain_id=RAIL.chain_id, nonce=nonce,
                       issued_at=iso(now_ms), expiration_time=iso(now_ms + expires_in_ms)
                       ).prepare_message()


@pytest.fixture
def api(database):
    fake, clock, admin = FakeChain(), Clock(NOW), Account.create()
    node = Node(fake.answer)
    service = Service(database.url, rail_=RAIL, verifier=chain.JsonRpcVerifier(node.url),
                      admins=(admin.address.lower(),), domain="localhost", now=clock)
    server = Loopback(create_app(service))
    yield Api(server.url, fake, clock, admin)
    server.stop()
    node.stop()


def test_a_purchase_settles_once_its_transaction_is_verified(api):
    token, wallet = api.user()
    status, done = api.buy(token, wallet, 250)
    assert (status, done["status"], done["creditsApplied"]) == (200, "settled", 2500)
    status, summary = api.call("GET", "/api/v1/payments/credits/summary", token)
    assert (summary["balanceCredits"], summary["availableCredits"], summary["reservedCredits"],
            summary["debtCredits"]) == (2500, 2500, 0, 0)
    assert [(e["amount"], e["reason"]) for e in summary["ledger"]] == [
        (2500, reasons.CREDITS_PURCHASE)]
    status, seen = api.call("GET", f"/api/v1/payments/attempts/{done['attemptId']}", token)
    assert (status, seen["status"], seen["amountUsdCents"]) == (200, "settled", 250)


@pytest.mark.parametrize("paid, status, detail", [
    pytest.param("nothing", "submitted", "the transaction is not mined (yet)", id="not-mined"),
    pytest.param("short", "refused", "paid 2499999, less than the 2500000 due", id="short"),
    pytest.param("elsewhere", "refused", "no Transfer of token", id="wrong-recipient"),
])
def test_an_unverified_transaction_mints_nothing(api, paid, status, detail):
    token, wallet = api.user()
    _, attempt = api.call("POST", "/api/v1/payments/intents", token, {"amountUsdCents": 250})
    tx_hash = new_tx_hash()
    if paid == "short":
        api.chain.pay(tx_hash, wallet, 250 * 10**4 - 1)
    elif paid == "elsewhere":
        api.chain.pay(tx_hash, wallet, 250 * 10**4, to="0x" + "ee" * 20)
    code, done = api.call("POST", f"/api/v1/payments/attempts/{attempt['attemptId']}/submit",
                          token, {"txHash": tx_hash})
    assert (code, done["status"], done["creditsApplied"]) == (200, status, 0)
    assert done["detail"].startswith(detail)
    assert api.call("GET", "/api/v1/payments/credits/summary", token)[1]["balanceCredits"] == 0


def test_a_transaction_pays_once(api):
    token, wallet = api.user()
    _, first = api.buy(token, wallet, 100)
    _, second = api.call("POST", "/api/v1/payments/intents", token, {"amountUsdCents": 100})
    code, refused = api.call("POST", f"/api/v1/payments/attempts/{second['attemptId']}/submit",
                             token, {"txHash": first["txHash"]})
    assert (code, refused["error"]["code"]) == (409, "conflict")
    assert api.call("GET", "/api/v1/payments/credits/summary", token)[1]["balanceCredits"] == 1000


def at_once(count: int, call):
    """`call()` from `count` threads released at the same instant; the answers that came back."""
    answers, start = [], threading.Barrier(count)

    def one():
        start.wait()
        answers.append(call())

    threads = [threading.Thread(target=one) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return answers


def test_twenty_concurrent_submits_of_one_attempt_mint_once(api, database):
    """Under load, through the API. (Whether the race is met depends on timing here; a submit
    that loses it is made to lose it in test_billing_payments.)"""
    token, wallet = api.user()
    _, attempt = api.call("POST", "/api/v1/payments/intents", token, {"amountUsdCents": 100})
    tx_hash = new_tx_hash()
    api.chain.pay(tx_hash, wallet, 100 * 10**4)
    answers = at_once(20, lambda: api.call(
        "POST", f"/api/v1/payments/attempts/{attempt['attemptId']}/submit", token,
        {"txHash": tx_hash}))
    assert [code for code, _ in answers] == [200] * 20, answers
    assert [body["status"] for _, body in answers] == ["settled"] * 20
    assert sum(body["creditsApplied"] for _, body in answers) == 1000
    summary = api.call("GET", "/api/v1/payments/credits/summary", token)[1]
    assert [e["reason"] for e in summary["ledger"]] == [reasons.CREDITS_PURCHASE]


def test_a_session_cannot_touch_another_account(api):
    alice, alice_wallet = api.user()
    bob, bob_wallet = api.user()
    api.buy(bob, bob_wallet, 100)
    _, held = api.call("POST", "/api/v1/billing/reservations", bob,
                       {"credits": 100, "idempotencyKey": "k1"})
    _, bobs_attempt = api.call("POST", "/api/v1/payments/intents", bob, {"amountUsdCents": 5})
    reservation, attempt = held["reservationId"], bobs_attempt["attemptId"]
    tries = [
        api.call("POST", f"/api/v1/billing/reservations/{reservation}/finalize", alice,
                 {"credits": 100}),
        api.call("POST", f"/api/v1/billing/reservations/{reservation}/release", alice),
        api.call("GET", f"/api/v1/payments/attempts/{attempt}", alice),
        api.call("POST", f"/api/v1/payments/attempts/{attempt}/submit", alice,
                 {"txHash": new_tx_hash()}),
    ]
    assert [(code, body["error"]["code"]) for code, body in tries] == [(404, "not_found")] * 4
    summary = api.call("GET", "/api/v1/payments/credits/summary", alice)[1]
    assert (summary["balanceCredits"], summary["ledger"]) == (0, [])
    code, done = api.call("POST", f"/api/v1/billing/reservations/{reservation}/finalize", bob,
                          {"credits": 40})
    assert (code, done["status"], done["consumedCredits"]) == (200, "finalized", 40)


@pytest.mark.parametrize("field", ["billingAccountId", "userId", "account_id", "address"])
def test_a_body_that_names_an_account_is_refused(api, field):
    token, wallet = api.user()
    code, body = api.call("POST", "/api/v1/payments/intents", token,
                          {"amountUsdCents": 100, field: "someone-else"})
    assert (code, body["error"]["code"]) == (400, "identity_in_body")
    assert body["error"]["message"] == (
        f"the body names {field}: the account is the session's, never the request's")


def test_sign_in_checks_nonce_domain_expiry_and_signature(api):
    key = Account.create()
    nonce = api.call("POST", "/api/v1/auth/nonce")[1]["nonce"]
    assert api.sign_in(key, nonce=nonce)[0] == 200
    reused = api.sign_in(key, nonce=nonce)
    other_domain = api.sign_in(key, domain="evil.example")
    expired = api.sign_in(key, expires_in=-HOUR)
    assert [(code, body["error"]["code"]) for code, body in (reused, other_domain, expired)] == [
        (401, "unauthenticated")] * 3
    message = siwe_message(key.address, api.call("POST", "/api/v1/auth/nonce")[1]["nonce"],
                           NOW, HOUR)
    forged = Account.sign_message(encode_defunct(text=message), Account.create().key)
    code, body = api.call("POST", "/api/v1/auth/verify",
                          body={"message": message, "signature": forged.signature.hex()})
    assert (code, body["error"]["code"]) == (401, "unauthenticated")
    assert api.call("GET", "/api/v1/payments/credits/summary")[0] == 401


def test_a_reservation_retried_with_its_key_is_the_same_one(api):
    token, wallet = api.user()
    api.buy(token, wallet, 100)
    first = api.call("POST", "/api/v1/billing/reservations", token,
                     {"credits": 300, "idempotencyKey": "run-42"})
    again = api.call("POST", "/api/v1/billing/reservations", token,
                     {"credits": 300, "idempotencyKey": "run-42"})
    other = api.call("POST", "/api/v1/billing/reservations", token,
                     {"credits": 200, "idempotencyKey": "run-42"})
    assert first == again and first[0] == 201
    assert (other[0], other[1]["error"]["code"]) == (409, "conflict")
    summary = api.call("GET", "/api/v1/payments/credits/summary", token)[1]
    assert (summary["availableCredits"], summary["reservedCredits"]) == (700, 300)


def test_a_refund_after_partial_use_leaves_a_debt_that_blocks_until_repaid(api, database):
    admin, _ = api.user(api.admin)
    token, wallet = api.user()
    _, bought = api.buy(token, wallet, 100)  # 1000 credits, 750 to the system tenant
    _, held = api.call("POST", "/api/v1/billing/reservations", token, {"credits": 600})
    api.call("POST", f"/api/v1/billing/reservations/{held['reservationId']}/finalize", token,
             {"credits": 600})
    code, refunded = api.call("POST", f"/api/v1/admin/payments/{bought['attemptId']}/refund",
                              admin, {"reason": "chargeback"})
    assert code == 200 and [(leg["minted"], leg["clawed_back"], leg["debt"])
                            for leg in refunded["legs"]] == [(1000, 400, 600), (750, 750, 0)]
    summary = api.call("GET", "/api/v1/payments/credits/summary", token)[1]
    assert (summary["balanceCredits"], summary["debtCredits"]) == (0, 600)
    blocked = api.call("POST", "/api/v1/billing/reservations", token, {"credits": 1})
    assert (blocked[0], blocked[1]["error"]["code"]) == (402, "insufficient_credits")
    again = api.call("POST", f"/api/v1/admin/payments/{bought['attemptId']}/refund", admin,
                     {"reason": "chargeback"})
    assert again[1]["alreadyRefunded"] is True
    api.buy(token, wallet, 100)  # 1000 more: 600 repay the debt
    summary = api.call("GET", "/api/v1/payments/credits/summary", token)[1]
    assert (summary["balanceCredits"], summary["debtCredits"]) == (400, 0)
    assert api.call("POST", "/api/v1/billing/reservations", token, {"credits": 400})[0] == 201
    assert api.call("POST", f"/api/v1/admin/payments/{bought['attemptId']}/refund", token,
                    {"reason": "mine"})[0] == 403
    assert invariants.check(startup.open_database(database.url)) == []


def test_a_revenue_rule_takes_effect_only_after_its_cooldown(api):
    admin, _ = api.user(api.admin)
    initial = api.call("GET", "/api/v1/admin/revenue-rules/active", admin)[1]
    _, rule = api.call("POST", "/api/v1/admin/revenue-rules", admin,
                       {"name": "a fifth", "share": "0.2"})
    rule_path = f"/api/v1/admin/revenue-rules/{rule['id']}"
    assert api.call("PATCH", rule_path + "/submit", admin)[1]["status"] == "pending_approval"
    approved = api.call("PATCH", rule_path + "/approve", admin)[1]
    assert (approved["status"], approved["activates_at"]) == ("cooling_down", NOW + 48 * HOUR)
    api.clock.now += 48 * HOUR - 1
    assert api.call("GET", "/api/v1/admin/revenue-rules", admin)[0] == 401  # sessions last 24 h
    admin, _ = api.user(api.admin)
    assert api.call("POST", "/api/v1/admin/revenue-rules/activate-ready", admin)[1] == {
        "activated": []}
    token, wallet = api.user()
    assert api.buy(token, wallet, 100)[1]["status"] == "settled"  # still the initial share
    api.clock.now += 1
    activated = api.call("POST", "/api/v1/admin/revenue-rules/activate-ready", admin)[1]
    assert [r["id"] for r in activated["activated"]] == [rule["id"]]
    api.buy(token, wallet, 100)
    rules = {r["id"]: r["status"] for r in api.call(
        "GET", "/api/v1/admin/revenue-rules", admin)[1]["rules"]}
    assert rules == {initial["id"]: "superseded", rule["id"]: "active"}
    audit = api.call("GET", rule_path + "/audit", admin)[1]["audit"]
    assert [(e["action"], e["previous_status"], e["new_status"]) for e in audit] == [
        ("proposed", None, "draft"), ("submitted", "draft", "pending_approval"),
        ("approved", "pending_approval", "cooling_down"), ("activated", "cooling_down", "active")]
    override = api.call("PATCH", rule_path + "/override-cooldown", admin, {"reason": "now"})
    assert (override[0], override[1]["error"]["code"]) == (400, "bad_request")


def test_the_bonus_row_records_the_rule_that_minted_it(api, database):
    admin, _ = api.user(api.admin)
    _, rule = api.call("POST", "/api/v1/admin/revenue-rules", admin,
                       {"name": "all", "share": "1"})
    rule_path = f"/api/v1/admin/revenue-rules/{rule['id']}"
    api.call("PATCH", rule_path + "/submit", admin)
    api.call("PATCH", rule_path + "/approve", admin)
    code, active = api.call("PATCH", rule_path + "/override-cooldown", admin,
                            {"reason": "an emergency: the system tenant is out of credits"})
    assert (code, active["status"]) == (200, "active")
    token, wallet = api.user()
    api.buy(token, wallet, 10)
    from billing import startup

    conn = startup.open_database(database.url)
    (bonus,) = [e for e in __import__("billing").ledger.entries(conn)
                if e.reason == reasons.PLATFORM_REVENUE_SHARE]
    assert (bonus.amount, bonus.metadata["revenue_rule_id"]) == (100, rule["id"])


def test_the_legacy_confirm_endpoint_is_the_same_verified_rail(api):
    token, wallet = api.user()
    payment = "7f0c2b1e-3c52-4f4e-9a51-0c7d3a1b2c3d"
    unpaid = api.call("POST", "/api/v1/payments/credits/confirm", token,
                      {"amountUsdCents": 100, "clientPaymentId": payment})
    assert (unpaid[0], unpaid[1]["error"]["message"]) == (400, "txHash must be a non-empty string")
    tx_hash = new_tx_hash()
    api.chain.pay(tx_hash, wallet, 100 * 10**4)
    body = {"amountUsdCents": 100, "clientPaymentId": payment, "txHash": tx_hash}
    first = api.call("POST", "/api/v1/payments/credits/confirm", token, body)
    again = api.call("POST", "/api/v1/payments/credits/confirm", token, body)
    assert (first[1]["status"], first[1]["creditsApplied"], first[1]["balanceCredits"]) == (
        "settled", 1000, 1000)
    assert (again[1]["creditsApplied"], again[1]["balanceCredits"]) == (0, 1000)


def test_twenty_concurrent_confirms_of_one_payment_id_record_it_once(api):
    token, wallet = api.user()
    payment, tx_hash = str(uuid.uuid4()), new_tx_hash()
    api.chain.pay(tx_hash, wallet, 100 * 10**4)
    body = {"amountUsdCents": 100, "clientPaymentId": payment, "txHash": tx_hash}
    answers = at_once(20, lambda: api.call("POST", "/api/v1/payments/credits/confirm", token,
                                           body))
    assert [code for code, _ in answers] == [200] * 20, answers
    assert sum(answer["creditsApplied"] for _, answer in answers) == 1000
    assert {answer["balanceCredits"] for _, answer in answers} == {1000}
    other, _ = api.user()
    taken = api.call("POST", "/api/v1/payments/credits/confirm", other, body)
    assert (taken[0], taken[1]["error"]["code"]) == (409, "conflict")


def test_a_confirm_retried_with_an_upper_case_payment_id_is_the_same_payment(api):
    token, wallet = api.user()
    tx_hash = new_tx_hash()
    api.chain.pay(tx_hash, wallet, 100 * 10**4)
    body = {"amountUsdCents": 100, "clientPaymentId": str(uuid.uuid4()).upper(), "txHash": tx_hash}
    first = api.call("POST", "/api/v1/payments/credits/confirm", token, body)
    again = api.call("POST", "/api/v1/payments/credits/confirm", token, body)
    assert (first[0], first[1]["creditsApplied"]) == (200, 1000)
    assert (again[0], again[1]["creditsApplied"], again[1]["balanceCredits"]) == (200, 0, 1000)
    assert again[1]["attemptId"] == body["clientPaymentId"].lower()
