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

import re
from functools import lru_cache
from typing import Iterable

from pydantic import Field, field_validator

from cogni_review.gate import TEST_PATHS, FileGateOptions, in_every_app
from cogni_review.model import Violation
from cogni_review.source import SourceFile

DIGITS = r"0[xX](?:_?[0-9a-fA-F]){40}"  # digit separators, as numbers may have them
#: the digits, then an optional BigInt `n`, then no word character
PATTERN = re.compile(DIGITS + r"(?=n?(?![0-9A-Za-z_]))")
HINT = ("read the address from .cogni/repo-spec.yaml or configuration instead of hard-coding it; "
        "a protocol constant (a token or burn address) goes in the gate's `allow:`")


class Options(FileGateOptions):
    paths: tuple[str, ...] = Field(in_every_app("src/**"), description="the files judged: the source of every app or package")
    exclude: tuple[str, ...] = Field(TEST_PATHS, description="files never judged: tests, fakes, fixtures and stories")
    allow: tuple[str, ...] = Field((), description="addresses allowed anyway (protocol constants), compared case-insensitively")

    @field_validator("allow")
    @classmethod
    def _addresses(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        bad = [v for v in values if not re.fullmatch(r"0[xX][0-9a-fA-F]{40}", v)]
        if bad:
            raise ValueError(f"not an address (0x + 40 hex digits): {', '.join(map(repr, bad))}")
        return tuple(v.lower() for v in values)


def activates(spec) -> bool:
    """When the spec declares a payment rail (`payments_in`) or any on-chain address (a receiving
    address, a wallet, a DAO contract, an approver): the spec is where addresses belong, so a
    literal one in code is the violation."""
    return bool(spec.payments_in) or bool(spec.declared_addresses())


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


def keccak256(data: bytes) -> bytes:
    """Keccak-256 as Ethereum uses it (the original padding, not SHA3-256's), from a maintained C
    implementation, imported only when an address has mixed case to check."""
    from Crypto.Hash import keccak

    return keccak.new(digest_bits=256, data=data).digest()


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
