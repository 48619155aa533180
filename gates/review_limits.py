"""A change too large to review well.

Why: big diffs get skimmed, and a governance change hidden in a large one is the easiest to miss;
small ones get read.

Instead: split the change into reviewable pieces (refactor first, behaviour second).

Judges a change as a whole, so it applies to `check` only; in an audit it is neutral (`no_change`).
"""

from __future__ import annotations

from pydantic import Field

from cogni_review.diff import Change
from cogni_review.gate import GateOptions
from cogni_review.model import GateResult


class Options(GateOptions):
    max_changed_files: int = Field(default=40, ge=0, description="most files a change may touch")
    max_total_diff_kb: float = Field(default=1500, ge=0, description=(
        "most kilobytes (1 KB = 1,024 bytes) of unified diff, measured exactly from the diff git produces"))


def judge(change: Change, options: Options) -> GateResult:
    files, size = len(change.files), change.diff_bytes
    kb = size / 1024
    stats = {"changed_files": files, "total_diff_bytes": size, "lines_changed": change.lines_changed}
    if files > options.max_changed_files:
        return GateResult.failed(f"{files} files changed; limit {options.max_changed_files}", **stats)
    if size > options.max_total_diff_kb * 1024:
        return GateResult.failed(f"{kb:.1f} KB of diff; limit {options.max_total_diff_kb:g} KB", **stats)
    return GateResult.passed(**stats)


EXAMPLES = {
    "with": {"max_changed_files": 2, "max_total_diff_kb": 1},
    "base": {"src/pay.py": "def pay(amount_cents):\n    return amount_cents\n"},
    "passes": [
        {"head": {"src/pay.py": "def pay(amount_cents: int) -> int:\n    return amount_cents\n",
                  "tests/test_pay.py": "from src.pay import pay\n\n\ndef test_pay():\n    assert pay(5) == 5\n"}},
    ],
    "fails": [
        {"head": {"src/pay.py": "def pay(amount_cents: int) -> int:\n    return amount_cents\n",
                  "src/refund.py": "def refund(amount_cents: int) -> int:\n    return -amount_cents\n",
                  "tests/test_pay.py": "from src.pay import pay\n\n\ndef test_pay():\n    assert pay(5) == 5\n"}},
        {"head": {"src/rates.py": "".join(f"RATE_{n} = {{'currency': 'USDC', 'chain': 'base', 'micro_usd_per_credit': {n * 100}}}\n"
                                          for n in range(1, 16))}},
    ],
}
