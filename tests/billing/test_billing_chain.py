"""Payment verification against a real EVM: eth-tester with py-evm behind a JSON-RPC socket.

A minimal ERC-20 is deployed, the payer transfers to the DAO's wallet, and the service's own
`JsonRpcVerifier` judges the transaction over HTTP, as it would a public chain's node.
"""

from __future__ import annotations

import pytest

from billing import chain, payments, startup
from billing.accounts import UserAccounts
from billing.errors import Conflict
from billing.rail import Rail
from billing_fixtures import database, rows  # noqa: F401 (pytest fixtures)
from chain_double import EvmChain, Node
import erc20

UNITS_PER_CENT = 10**4  # a 6-decimal token


@pytest.fixture(scope="module")
def evm():
    """(the EVM, its node's URL, the token's address, payer, DAO wallet, a stranger)."""
    evm = EvmChain()
    payer, dao, stranger = evm.accounts[1], evm.accounts[2], evm.accounts[3]
    deployed = evm.send(payer, None, erc20.init_code(10**12))
    token = evm.tester.get_transaction_receipt(deployed)["contract_address"].lower()
    node = Node(evm.answer)
    yield evm, node.url, token, payer, dao, stranger
    node.stop()


def rail_for(evm, token, dao, confirmations=1) -> Rail:
    return Rail(chain_id=evm.chain_id, token=token, recipient=dao, token_decimals=6,
                confirmations=confirmations)


def judge(evm_fixture, tx_hash, cents=100, confirmations=1, payer=None):
    evm, url, token, default_payer, dao, _ = evm_fixture
    rail = rail_for(evm, token, dao, confirmations)
    return chain.JsonRpcVerifier(url).verify(
        tx_hash, rail.requirement(payer or default_payer, cents))


def test_a_transfer_of_the_amount_to_the_dao_verifies(evm):
    tester, _, token, payer, dao, _ = evm
    paid = tester.send(payer, token, erc20.transfer_data(dao, 100 * UNITS_PER_CENT))
    assert judge(evm, paid) == chain.Verdict(True, "paid 1000000 with 1 confirmations")


@pytest.mark.parametrize("case, detail", [
    pytest.param("wrong-recipient", "no Transfer of token {token} from {payer} to {dao}",
                 id="wrong-recipient"),
    pytest.param("short", "paid 999999, less than the 1000000 due", id="short-amount"),
    pytest.param("reverted", "the transaction reverted", id="reverted"),
    pytest.param("other-payer", "no Transfer of token {token} from {stranger} to {dao}",
                 id="someone-elses-transfer"),
])
def test_a_transaction_that_does_not_pay_is_refused(evm, case, detail):
    tester, _, token, payer, dao, stranger = evm
    sends = {
        "wrong-recipient": lambda: tester.send(payer, token, erc20.transfer_data(
            stranger, 100 * UNITS_PER_CENT)),
        "short": lambda: tester.send(payer, token, erc20.transfer_data(
            dao, 100 * UNITS_PER_CENT - 1)),
        "reverted": lambda: tester.send(tester.accounts[5], token, erc20.transfer_data(
            dao, 100 * UNITS_PER_CENT)),  # an account without tokens: the transfer reverts
        "other-payer": lambda: tester.send(payer, token, erc20.transfer_data(
            dao, 100 * UNITS_PER_CENT)),
    }
    tx_hash = sends[case]()
    verdict = judge(evm, tx_hash, payer=stranger if case == "other-payer" else None)
    assert verdict == chain.Verdict(False, detail.format(token=token, payer=payer, dao=dao,
                                                         stranger=stranger))


def test_a_transaction_waits_for_its_confirmations(evm):
    tester, _, token, payer, dao, _ = evm
    paid = tester.send(payer, token, erc20.transfer_data(dao, 100 * UNITS_PER_CENT))
    assert judge(evm, paid, confirmations=3) == chain.Verdict(
        False, "1 confirmations of 3", pending=True)
    tester.tester.mine_blocks(2)
    assert judge(evm, paid, confirmations=3).verified is True
    assert judge(evm, "0x" + "ab" * 32) == chain.Verdict(
        False, "the transaction is not mined (yet)", pending=True)


def test_a_verified_payment_settles_and_its_hash_never_pays_twice(evm, database):
    tester, url, token, payer, dao, _ = evm
    rail, verifier = rail_for(tester, token, dao), chain.JsonRpcVerifier(url)
    conn = startup.open_database(database.url)
    account = UserAccounts(conn, payer).open()
    first, second = (payments.create_intent(conn, account, 100) for _ in range(2))
    paid = tester.send(payer, token, erc20.transfer_data(dao, 100 * UNITS_PER_CENT))
    payments.submit(conn, account, first.id, paid, rail)
    assert payments.verify(conn, first.id, verifier, rail).verdict == "verified"
    assert [e.amount for e in payments.settle(conn, first.id).entries] == [1000, 750]
    with pytest.raises(Conflict, match="already pays for a payment attempt"):
        payments.submit(conn, account, second.id, paid, rail)
    assert payments.status(conn, payments.get(conn, second.id)) == "created"
    assert rows(conn, "SELECT COUNT(*) FROM credit_ledger") == [(2,)]
