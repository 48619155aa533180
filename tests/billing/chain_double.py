"""The chain, for tests: a deterministic verifier in process, and a JSON-RPC node on loopback.

`Verifier` implements the `billing.chain.Verifier` port for the tests whose subject is the
ledger, not the chain: every transaction is verified unless told otherwise. `Node` is an
Ethereum JSON-RPC endpoint on a real loopback socket, answering `eth_chainId`,
`eth_blockNumber` and `eth_getTransactionReceipt` for the transactions the test records, or
forwarding every call to an in-process EVM (eth-tester with py-evm); the service's real
`JsonRpcVerifier` talks to it over HTTP as it would to a node.
"""

from __future__ import annotations

import hashlib
import secrets
import socket
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Callable

from billing import chain
from billing.rail import Rail

TOKEN = "0x" + "a0" * 20
DAO_WALLET = "0x" + "da" * 20
CHAIN_ID = 8453
RAIL = Rail(chain_id=CHAIN_ID, token=TOKEN, recipient=DAO_WALLET, token_decimals=6,
            confirmations=1)


@contextmanager
def same_recursion_limit() -> Iterator[None]:
    """Import the Ethereum libraries without keeping what they do to the whole process: py-evm
    and py_ecc raise the recursion limit on import (to 12,288 and 100,000), which would change
    what every later test in the run sees as too deeply nested."""
    limit = sys.getrecursionlimit()
    try:
        yield
    finally:
        sys.setrecursionlimit(limit)


def wallet_of(user: str) -> str:
    return "0x" + hashlib.sha256(user.encode()).hexdigest()[:40]


def new_tx_hash() -> str:
    return "0x" + secrets.token_hex(32)


class Verifier:
    """Verified unless `refuse(tx_hash, why)` said otherwise; records what it was asked."""

    def __init__(self) -> None:
        self.refused: dict[str, str] = {}
        self.asked: list[tuple[str, chain.Requirement]] = []

    def refuse(self, tx_hash: str, why: str) -> None:
        self.refused[tx_hash] = why

    def verify(self, tx_hash: str, requirement: chain.Requirement) -> chain.Verdict:
        self.asked.append((tx_hash, requirement))
        if tx_hash in self.refused:
            return chain.Verdict(False, self.refused[tx_hash])
        return chain.Verdict(True, "paid (test double)")


class Loopback:
    """An ASGI app served by uvicorn on 127.0.0.1 (a free port), in a thread, until `stop()`."""

    def __init__(self, app) -> None:
        import uvicorn

        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        self._server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]},
                                        daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self._server.started:
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.01)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(20)


class Node(Loopback):
    """A JSON-RPC node: each call is `answer(method, params)`."""

    def __init__(self, answer: Callable[[str, list], Any]) -> None:
        from starlette.applications import Starlette
        from starlette.requests import Request
        from starlette.responses import JSONResponse
        from starlette.routing import Route

        async def rpc(request: Request) -> JSONResponse:
            call = await request.json()
            try:
                result = answer(call["method"], call.get("params") or [])
            except KeyError as e:
                return JSONResponse({"jsonrpc": "2.0", "id": call.get("id"),
                                     "error": {"code": -32601, "message": str(e)}})
            return JSONResponse({"jsonrpc": "2.0", "id": call.get("id"), "result": result})

        super().__init__(Starlette(routes=[Route("/", rpc, methods=["POST"])]))
        self.url += "/"


class FakeChain:
    """Receipts the test records, as a node would serve them (hex quantities)."""

    def __init__(self, chain_id: int = CHAIN_ID) -> None:
        self.chain_id, self.head, self.receipts = chain_id, 100, {}

    def pay(self, tx_hash: str, payer: str, value: int, *, token: str = TOKEN,
            to: str = DAO_WALLET, status: int = 1, block: int | None = None) -> None:
        pad = "0x" + "0" * 24
        self.receipts[tx_hash] = {
            "transactionHash": tx_hash, "status": hex(status),
            "blockNumber": hex(self.head if block is None else block),
            "logs": [{"address": token, "data": hex(value),
                      "topics": [chain.TRANSFER_TOPIC, pad + payer[2:], pad + to[2:]]}],
        }

    def answer(self, method: str, params: list) -> Any:
        if method == "eth_chainId":
            return hex(self.chain_id)
        if method == "eth_blockNumber":
            return hex(self.head)
        if method == "eth_getTransactionReceipt":
            return self.receipts.get(params[0])
        raise KeyError(f"method {method} not served")


class EvmChain:
    """An in-process EVM (eth-tester with py-evm), answering as a node does on the wire."""

    def __init__(self) -> None:
        import warnings

        with warnings.catch_warnings(), same_recursion_limit():
            warnings.simplefilter("ignore")
            from eth_tester import EthereumTester, PyEVMBackend
        self.tester = EthereumTester(PyEVMBackend())
        self.accounts = [a.lower() for a in self.tester.get_accounts()]
        self.chain_id = int(self.tester.backend.chain.chain_id)

    def answer(self, method: str, params: list) -> Any:
        from eth_tester.exceptions import TransactionNotFound

        if method == "eth_chainId":
            return hex(self.chain_id)
        if method == "eth_blockNumber":
            return hex(self.tester.get_block_by_number("latest")["number"])
        if method == "eth_getTransactionReceipt":
            try:
                receipt = self.tester.get_transaction_receipt(params[0])
            except TransactionNotFound:
                return None
            return {"transactionHash": params[0], "status": hex(receipt["status"]),
                    "blockNumber": hex(receipt["block_number"]),
                    "logs": [{"address": log["address"].lower(), "data": _hex(log["data"]),
                              "topics": [_hex(t) for t in log["topics"]]}
                             for log in receipt["logs"]]}
        raise KeyError(f"method {method} not served")

    def send(self, sender: str, to: str | None, data: bytes, gas: int = 300_000) -> str:
        tx = {"from": self.tester.get_accounts()[self.accounts.index(sender)], "gas": gas,
              "data": "0x" + data.hex()}
        if to is not None:
            tx["to"] = to
        return self.tester.send_transaction(tx)


def _hex(value: Any) -> str:
    if isinstance(value, str):
        return value.lower() if value.startswith("0x") else "0x" + value
    return "0x" + bytes(value).hex()
