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
from cogni_review.model import GateResult, Location, Violation


class Options(GateOptions):
    max_changed_files: int = Field(default=40, ge=0, description="most files a change may touch")
    max_total_diff_kb: float = Field(default=1500, ge=0, description=(
        "most kilobytes (1 KB = 1,024 bytes) of unified diff, measured exactly from the diff git produces"))


HINT = ("split the change into reviewable pieces (refactor first, behaviour second), or raise the limit "
        "in the spec's `review-limits` options if this size is routine here")


def judge(change: Change, options: Options) -> GateResult:
    files, size = len(change.files), change.diff_bytes
    stats = {"changed_files": files, "total_diff_bytes": size, "lines_changed": change.lines_changed}
    over = []
    if files > options.max_changed_files:
        over.append((f"{files} files", f"{files} files changed; limit {options.max_changed_files}"))
    if size > options.max_total_diff_kb * 1024:
        over.append((f"{size / 1024:.1f} KB", f"{size / 1024:.1f} KB of diff; limit {options.max_total_diff_kb:g} KB"))
    if not over:
        return GateResult.passed(**stats)
    found = [Violation(Location("", 0, 0), token, f"the change is too large to review well: {said}", HINT)
             for token, said in over]
    return GateResult.failed("; ".join(said for _, said in over), *found, **stats)


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
