"""A spec that declares no goals: `intent.goals` is missing or empty.

Why: a change is judged against what the repository is for. With no goals written down, "does this
change serve the project?" has no answer: reviewers answer it from memory, and the `ai-rule` gates
that ask it (goal alignment) judge against nothing.

Instead: list the repository's goals under `intent.goals` in `.cogni/repo-spec.yaml`, one short
sentence each, and change them by the same review as any other policy.

The spec is the base revision's, as for every gate in a check: a change that adds the first goals
passes from the next change on. It judges a change, so in an audit it is neutral (`no_change`).
"""

from __future__ import annotations

from cogni_review.diff import Change
from cogni_review.gate import DeclarationOptions
from cogni_review.model import GateResult


class Options(DeclarationOptions):
    key = "goals"


def judge(change: Change, options: Options) -> GateResult:
    return options.verdict("goals")


EXAMPLES = {
    "passes": [{
        "base": {".cogni/repo-spec.yaml": "intent:\n  name: pay-app\n  goals:\n    - Credits are minted only on approved rails\n"},
        "head": {},
    }],
    "fails": [
        {"base": {".cogni/repo-spec.yaml": "intent:\n  name: pay-app\n"}, "head": {}},
        {"base": {".cogni/repo-spec.yaml": "intent:\n  name: pay-app\n  goals: []\n"}, "head": {}},
    ],
}
