"""A hard-coded on-chain (EVM) address in app code.

Why: the DAO's receiving address and every other on-chain address are governed in
`.cogni/repo-spec.yaml`; an address baked into code bypasses that governance, survives a
change of treasury, and is the classic way a payment gets silently redirected.

Instead: read the address from the repo spec (server-side helper) or from configuration and
pass it down as data; keep test fixtures under the test paths.

An address is `0x` followed by exactly 40 hex digits and not part of a longer hex string or
identifier, so 32-byte hashes and bytecode are not addresses. Written as a number it is one
too: a BigInt (`0x…n`) or with digit separators (`0x8335_89fC…`). A backslash escape before it
(`"to\\n0x…"`) or `$` on either side (`` `${x}0x…${y}` ``, `/^0x…$/`) does not hide it.
Comments and docstrings are not code; string literals, template literals and JSX text are.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from typing import Iterable

from pydantic import Field, field_validator

from cogni_review.gate import TEST_PATHS, FileGateOptions
from cogni_review.model import Violation
from cogni_review.source import SourceFile

DIGITS = r"0[xX](?:_?[0-9a-fA-F]){40}"  # digit separators, as numbers may have them
#: the digits, then an optional BigInt `n`, then no word character
PATTERN = re.compile(DIGITS + r"(?=n?(?![0-9A-Za-z_]))")
HINT = "read the address from .cogni/repo-spec.yaml or configuration instead of hard-coding it"


class Options(FileGateOptions):
    paths: tuple[str, ...] = ("src/**",)
    exclude: tuple[str, ...] = TEST_PATHS
    allow: tuple[str, ...] = Field((), description="addresses allowed anyway (protocol constants), compared case-insensitively")

    @field_validator("allow")
    @classmethod
    def _addresses(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        bad = [v for v in values if not re.fullmatch(r"0[xX][0-9a-fA-F]{40}", v)]
        if bad:
            raise ValueError(f"not an address (0x + 40 hex digits): {', '.join(map(repr, bad))}")
        return tuple(v.lower() for v in values)


def activates(spec) -> bool:
    return bool(spec.payments_in)


def candidates(options: Options) -> str:
    return DIGITS


def scan(file: SourceFile, options: Options) -> Iterable[Violation]:
    for match in file.matches(PATTERN, whole_words=True):
        if plain(match.token).lower() in options.allow:
            continue
        yield file.violation(match, f"hard-coded address {match.token} ({checksum_state(match.token)})", HINT)


def plain(address: str) -> str:
    """The address without digit separators."""
    return address.replace("_", "")


def checksum_state(address: str) -> str:
    address = plain(address)
    digits = address[2:]
    if digits.islower() or digits.isupper() or digits.isdigit():
        return "no EIP-55 checksum"
    return "valid EIP-55 checksum" if to_checksum(address) == "0x" + digits else "invalid EIP-55 checksum"


@lru_cache(maxsize=4096)
def to_checksum(address: str) -> str:
    """EIP-55: upper-case each hex letter whose nibble in keccak256(lower-case hex) is >= 8."""
    digits = address[2:].lower()
    digest = keccak256(digits.encode()).hex()
    return "0x" + "".join(c.upper() if int(h, 16) >= 8 else c for c, h in zip(digits, digest))


_ROUND_CONSTANTS = (
    0x0000000000000001, 0x0000000000008082, 0x800000000000808A, 0x8000000080008000,
    0x000000000000808B, 0x0000000080000001, 0x8000000080008081, 0x8000000000008009,
    0x000000000000008A, 0x0000000000000088, 0x0000000080008009, 0x000000008000000A,
    0x000000008000808B, 0x800000000000008B, 0x8000000000008089, 0x8000000000008003,
    0x8000000000008002, 0x8000000000000080, 0x000000000000800A, 0x800000008000000A,
    0x8000000080008081, 0x8000000000008080, 0x0000000080000001, 0x8000000080008008,
)
# rho rotation of each lane (indexed x + 5y)
_RHO = (0, 1, 62, 28, 27, 36, 44, 6, 55, 20, 3, 10, 43, 25, 39, 41, 45, 15, 21, 8, 18, 2, 61, 56, 14)
_MASK = (1 << 64) - 1


def _round_source() -> str:
    """Straight-line Python for one Keccak-f[1600] round over locals a0..a24 (x + 5y).

    Written out once at import: in pure Python, unrolled local-variable code is several times
    faster than loops over lists, and hashing addresses is on the audit's hot path.
    """
    rot = lambda v, r: f"((({v} << {r}) | ({v} >> {64 - r})) & M)" if r else v  # noqa: E731
    out = [f"c{x} = a{x} ^ a{x + 5} ^ a{x + 10} ^ a{x + 15} ^ a{x + 20}" for x in range(5)]
    out += [f"d{x} = c{(x - 1) % 5} ^ {rot(f'c{(x + 1) % 5}', 1)}" for x in range(5)]
    for x in range(5):
        for y in range(5):
            i, j = x + 5 * y, y + 5 * ((2 * x + 3 * y) % 5)
            out.append(f"b{j} = {rot(f'(a{i} ^ d{x})', _RHO[i])}")
    for y in range(0, 25, 5):
        out += [f"a{x + y} = b{x + y} ^ (~b{(x + 1) % 5 + y} & b{(x + 2) % 5 + y})" for x in range(5)]
    out.append("a0 ^= rc")
    lanes = ", ".join(f"a{i}" for i in range(25))
    body = "\n        ".join(out)
    return f"def permute(lanes, constants, M):\n    {lanes} = lanes\n    for rc in constants:\n        {body}\n    return [{lanes}]\n"


_NATIVE = "KECCAK-256" in hashlib.algorithms_available
_namespace: dict = {}
exec(compile(_round_source(), "<keccak-f1600>", "exec"), _namespace)  # noqa: S102 - generated above, no input


def keccak256(data: bytes) -> bytes:
    """Keccak-256 as Ethereum uses it (original padding, not SHA3-256's). The standard library
    has it only where OpenSSL does (3.2 and later); elsewhere it is computed here."""
    if _NATIVE:
        return hashlib.new("KECCAK-256", data).digest()
    rate = 136
    room = rate - len(data) % rate
    padded = data + (b"\x81" if room == 1 else b"\x01" + bytes(room - 2) + b"\x80")
    lanes = [0] * 25
    for block in range(0, len(padded), rate):
        for i in range(rate // 8):
            lanes[i] ^= int.from_bytes(padded[block + 8 * i : block + 8 * i + 8], "little")
        lanes = _namespace["permute"](lanes, _ROUND_CONSTANTS, _MASK)
    return b"".join(lane.to_bytes(8, "little") for lane in lanes[:4])


EXAMPLES = {
    "passes": [
        ("src/config.ts", "const receiver = repoSpec.payments.receivingAddress;"),
        ("src/hash.ts", 'const txHash = "0x5c504ed432cb51138bcf09aa5e8a410dd4a1e204ef84bfed1be16dfba1b22060";'),
        ("src/note.ts", "// the old treasury was 0x52908400098527886E0F7030069857D2E4169EE7"),
        ("tests/fixtures.ts", 'export const ALICE = "0x52908400098527886E0F7030069857D2E4169EE7";'),
    ],
    "fails": [
        ("src/widget.tsx", 'const to = "0x52908400098527886E0F7030069857D2E4169EE7"; // <-'),
        ("src/pay.py", 'TREASURY = "0xde709f2102306220921060314715629080e2fb77"  # <-'),
        ("src/pay.ts", "const to = 0x52908400098527886E0F7030069857D2E4169EE7n; // <-"),
        ("src/link.ts", "const uri = `ethereum:0x52908400098527886E0F7030069857D2E4169EE7${chain}`; // <-"),
    ],
}
