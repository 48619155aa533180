"""A minimal ERC-20 token for the local EVM, assembled here (no compiler needed).

`transfer(address,uint256)` moves balances (reverting when the sender has too little) and
emits `Transfer(from, to, value)`; `balanceOf(address)` reads one. The deployer holds the
supply. Storage slot = the holder's address.
"""

from __future__ import annotations

from billing.chain import TRANSFER_TOPIC

OPS = {"STOP": 0x00, "ADD": 0x01, "SUB": 0x03, "LT": 0x10, "EQ": 0x14, "SHR": 0x1C,
       "CALLER": 0x33, "CALLDATALOAD": 0x35, "CODECOPY": 0x39, "MSTORE": 0x52, "SLOAD": 0x54,
       "SSTORE": 0x55, "JUMPI": 0x57, "JUMPDEST": 0x5B, "DUP1": 0x80, "DUP2": 0x81,
       "DUP3": 0x82, "SWAP1": 0x90, "LOG3": 0xA3, "RETURN": 0xF3, "REVERT": 0xFD}
TRANSFER, BALANCE_OF = 0xA9059CBB, 0x70A08231

RUNTIME = [
    ("PUSH", 1, 0), "CALLDATALOAD", ("PUSH", 1, 0xE0), "SHR",
    "DUP1", ("PUSH", 4, TRANSFER), "EQ", ("PUSH", 2, "transfer"), "JUMPI",
    "DUP1", ("PUSH", 4, BALANCE_OF), "EQ", ("PUSH", 2, "balance_of"), "JUMPI",
    ("label", "fail"), "JUMPDEST", ("PUSH", 1, 0), "DUP1", "REVERT",
    ("label", "transfer"), "JUMPDEST",
    ("PUSH", 1, 4), "CALLDATALOAD", ("PUSH", 1, 0x24), "CALLDATALOAD",  # to, value
    "CALLER", "SLOAD", "DUP2", "DUP2", "LT", ("PUSH", 2, "fail"), "JUMPI",  # balance < value
    "DUP2", "SWAP1", "SUB", "CALLER", "SSTORE",  # sender's balance - value
    "DUP2", "SLOAD", "DUP2", "ADD", "DUP3", "SSTORE",  # recipient's balance + value
    ("PUSH", 1, 0), "MSTORE",  # the event's data: value
    "CALLER", ("PUSH", 32, int(TRANSFER_TOPIC, 16)), ("PUSH", 1, 32), ("PUSH", 1, 0), "LOG3",
    ("PUSH", 1, 1), ("PUSH", 1, 0), "MSTORE", ("PUSH", 1, 32), ("PUSH", 1, 0), "RETURN",
    ("label", "balance_of"), "JUMPDEST",
    ("PUSH", 1, 4), "CALLDATALOAD", "SLOAD", ("PUSH", 1, 0), "MSTORE",
    ("PUSH", 1, 32), ("PUSH", 1, 0), "RETURN",
]


def assemble(program: list) -> bytes:
    labels, size = {}, 0
    for item in program:  # first pass: where each label lands
        if isinstance(item, tuple) and item[0] == "label":
            labels[item[1]] = size
        else:
            size += 1 + (item[1] if isinstance(item, tuple) else 0)
    code = bytearray()
    for item in program:
        if isinstance(item, tuple) and item[0] == "label":
            continue
        if isinstance(item, tuple):
            _, width, value = item
            value = labels[value] if isinstance(value, str) else value
            code += bytes([0x5F + width]) + value.to_bytes(width, "big")
        else:
            code.append(OPS[item])
    return bytes(code)


def init_code(supply: int) -> bytes:
    runtime = assemble(RUNTIME)
    head = [("PUSH", 32, supply), "CALLER", "SSTORE",
            ("PUSH", 2, len(runtime)), ("PUSH", 2, 0), ("PUSH", 1, 0), "CODECOPY",
            ("PUSH", 2, len(runtime)), ("PUSH", 1, 0), "RETURN"]
    offset = len(assemble(head))
    head[4] = ("PUSH", 2, offset)
    return assemble(head) + runtime


def transfer_data(to: str, value: int) -> bytes:
    return (TRANSFER.to_bytes(4, "big") + bytes.fromhex(to[2:]).rjust(32, b"\0")
            + value.to_bytes(32, "big"))
