"""The payment rail, read from the DAO's `.cogni/repo-spec.yaml`: governed in git, not in code.

    payments_in:
      credits_topup:
        receiving_address: "0x..."   # the DAO's wallet
        chain_id: 8453
        token_address: "0x..."       # the ERC-20 paid in (USDC)
        token_decimals: 6
        confirmations: 12

An amount due is `cents * 10 ** (token_decimals - 2)` token units, in integers.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from billing.chain import Requirement, valid_address
from billing.errors import BillingError

DEFAULT_RAIL = "credits_topup"


@dataclass(frozen=True)
class Rail:
    chain_id: int
    token: str
    recipient: str
    token_decimals: int
    confirmations: int

    def requirement(self, payer: str, cents: int) -> Requirement:
        return Requirement(self.chain_id, self.token, self.recipient, payer,
                           cents * 10 ** (self.token_decimals - 2), self.confirmations)


def load(spec: str | Path, name: str = DEFAULT_RAIL) -> Rail:
    import yaml

    where = f"{spec}: payments_in.{name}"
    try:
        document = yaml.safe_load(Path(spec).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as e:
        raise BillingError(f"cannot read the payment rail from {spec}: {e}") from None
    entry = ((document or {}).get("payments_in") or {}).get(name)
    if not isinstance(entry, dict):
        raise BillingError(f"{where} is missing; declare the rail the service is paid on")
    return from_mapping(entry, where)


def from_mapping(entry: dict, where: str = "rail") -> Rail:
    def number(key: str, low: int, default: int | None = None) -> int:
        value = entry.get(key, default)
        if type(value) is not int or value < low:
            raise BillingError(f"{where}.{key} must be a whole number from {low}, got {value!r}")
        return value

    decimals = number("token_decimals", 2, 6)
    return Rail(
        chain_id=number("chain_id", 1),
        token=valid_address(entry.get("token_address"), f"{where}.token_address"),
        recipient=valid_address(entry.get("receiving_address"), f"{where}.receiving_address"),
        token_decimals=decimals,
        confirmations=number("confirmations", 1, 1),
    )
