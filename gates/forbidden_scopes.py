"""A spec that declares no non-goals: `intent.non_goals` is missing or empty.

Why: scope creeps one reasonable-looking change at a time. What the repository deliberately does
not do is the line a reviewer holds a change to; unwritten, every reviewer draws it elsewhere.

Instead: list what is out of scope under `intent.non_goals` in `.cogni/repo-spec.yaml` (a hosted
service, a second payment rail, ...), so reviewers and `ai-rule` gates can hold changes to it.

Like its predecessor, it checks that the non-goals are declared, not that a change respects them:
that takes judgement, which an `ai-rule` whose question quotes them can give. The spec is the base
revision's; in an audit the gate is neutral (`no_change`).
"""

from __future__ import annotations

from cogni_review.diff import Change
from cogni_review.gate import DeclarationOptions
from cogni_review.model import GateResult


class Options(DeclarationOptions):
    key = "non_goals"


def judge(change: Change, options: Options) -> GateResult:
    return options.verdict("non-goals")


EXAMPLES = {
    "passes": [{
        "base": {".cogni/repo-spec.yaml": "intent:\n  name: pay-app\n  non_goals:\n    - A second payment rail\n"},
        "head": {},
    }],
    "fails": [{
        "base": {".cogni/repo-spec.yaml": "intent:\n  name: pay-app\n  goals: [Pay]\n  non_goals: ['']\n"},
        "head": {},
    }],
}
