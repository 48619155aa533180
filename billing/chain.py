"""Payment verification: did this transaction pay for this attempt, on chain?

`Verifier` is the port: `verify(tx_hash, requirement) -> Verdict`. `JsonRpcVerifier` is the
real one: it asks an Ethereum node over JSON-RPC for the transaction's receipt and the chain's
head, and accepts only a successful transaction with an ERC-20 `Transfer` log of the rail's
token, from the payer's wallet, to the rail's receiving address, for at least the amount due,
with enough confirmations, on the rail's chain. That the hash is never used twice is the
database's part (a unique index on `payment_transactions.tx_hash`).

The rail (chain, token, receiving address, confirmations) is governed in
`.cogni/repo-spec.yaml` under `payments_in`, never in code or the environment (`rail.py`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Protocol

from billing.errors import BillingError

# keccak256("Transfer(address,address,uint256)")
TRANSFER_TOPIC = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"
TX_HASH = re.compile(r"0x[0-9a-fA-F]{64}\Z")
ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}\Z")


@dataclass(frozen=True)
class Requirement:
    """What a transaction must show to pay for one attempt."""

    chain_id: int
    token: str
    recipient: str
    payer: str
    min_amount: int  # in the token's smallest unit
    confirmations: int


@dataclass(frozen=True)
class Verdict:
    verified: bool
    detail: str
    pending: bool = False  # not refused yet: too few confirmations, or not mined


class Verifier(Protocol):
    def verify(self, tx_hash: str, requirement: Requirement) -> Verdict: ...


def valid_tx_hash(tx_hash: object) -> str:
    if not isinstance(tx_hash, str) or not TX_HASH.match(tx_hash):
        raise BillingError(f"bad transaction hash {tx_hash!r}: expected 0x and 64 hex digits")
    return tx_hash.lower()


def valid_address(address: object, what: str = "address") -> str:
    if not isinstance(address, str) or not ADDRESS.match(address):
        raise BillingError(f"bad {what} {address!r}: expected 0x and 40 hex digits")
    return address.lower()


class JsonRpcVerifier:
    """Verifies against an Ethereum node's JSON-RPC endpoint (HTTP)."""

    def __init__(self, url: str, *, timeout_seconds: float = 10) -> None:
        self.url, self.timeout = url, timeout_seconds
        self._ids = iter(range(1, 1 << 62))

    def verify(self, tx_hash: str, requirement: Requirement) -> Verdict:
        chain_id = _int(self._call("eth_chainId", []))
        if chain_id != requirement.chain_id:
            return Verdict(False, f"the node serves chain {chain_id}, the rail is on chain"
                                  f" {requirement.chain_id}")
        receipt = self._call("eth_getTransactionReceipt", [tx_hash])
        if receipt is None:
            return Verdict(False, "the transaction is not mined (yet)", pending=True)
        if _int(receipt.get("status")) != 1:
            return Verdict(False, "the transaction reverted")
        paid = sum(_transfer_value(log, requirement) for log in receipt.get("logs") or [])
        if paid == 0:
            return Verdict(False, f"no Transfer of token {requirement.token} from"
                                  f" {requirement.payer} to {requirement.recipient}")
        if paid < requirement.min_amount:
            return Verdict(False, f"paid {paid}, less than the {requirement.min_amount} due")
        confirmations = _int(self._call("eth_blockNumber", [])) - _int(
            receipt["blockNumber"]) + 1
        if confirmations < requirement.confirmations:
            return Verdict(False, f"{confirmations} confirmations of"
                                  f" {requirement.confirmations}", pending=True)
        return Verdict(True, f"paid {paid} with {confirmations} confirmations")

    def _call(self, method: str, params: list[Any]) -> Any:
        import httpx

        request = {"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": params}
        try:
            answer = httpx.post(self.url, json=request, timeout=self.timeout).json()
        except (httpx.HTTPError, ValueError) as e:
            raise BillingError(f"the chain node did not answer {method}: {e}") from None
        if not isinstance(answer, dict) or "error" in answer:
            raise BillingError(f"the chain node refused {method}: {answer.get('error')}")
        return answer.get("result")


def _transfer_value(log: dict[str, Any], requirement: Requirement) -> int:
    topics = [str(t).lower() for t in log.get("topics") or []]
    if (str(log.get("address", "")).lower() != requirement.token or len(topics) != 3
            or topics[0] != TRANSFER_TOPIC or _topic_address(topics[1]) != requirement.payer
            or _topic_address(topics[2]) != requirement.recipient):
        return 0
    return _int(log.get("data") or "0x0")


def _topic_address(topic: str) -> str:
    return "0x" + topic[-40:]


def _int(value: Any) -> int:
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.startswith("0x"):
        return int(value, 16) if len(value) > 2 else 0
    raise BillingError(f"the chain node answered {value!r} where a number was expected")
