"""The baseline: findings accepted when a repository adopts the gate, so only new debt fails.

Entries are keyed by content (gate, path, token, normalized line text, occurrence), never by line
number, and written sorted, so two runs give byte-identical files and merges rarely conflict.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field

from cogni_review.errors import ConfigError
from cogni_review.model import Violation

DEFAULT_PATH = ".cogni/baseline.json"
Key = tuple[str, str, str, str]  # gate id, path, token, normalized line text


@dataclass(frozen=True)
class Baseline:
    counts: Counter = field(default_factory=Counter)
    source: str = DEFAULT_PATH

    @classmethod
    def parse(cls, text: str, source: str = DEFAULT_PATH) -> Baseline:
        try:
            document = json.loads(text)
            entries = document["findings"]
            counts: Counter = Counter()
            for entry in entries:
                key = (entry["gate"], entry["path"], entry["token"], entry["line"])
                counts[key] = max(counts[key], int(entry.get("occurrence", 1)))
        except (ValueError, KeyError, TypeError) as e:
            raise ConfigError(f"{source}: not a baseline file ({type(e).__name__}: {e}); regenerate it with `cogni-review baseline`") from None
        return cls(counts, source)

    def split(self, found: list[Violation]) -> tuple[list[Violation], Counter]:
        """(findings the baseline does not cover, how many of each key it did cover)."""
        used: Counter = Counter()
        kept = []
        for v in sorted(found, key=Violation.sort_key):
            if used[v.key] < self.counts.get(v.key, 0):
                used[v.key] += 1
            else:
                kept.append(v)
        return kept, used

    def stale(self, used: Counter, paths: set[str] | None = None) -> list[Key]:
        """Entries no finding matched any more (limited to `paths` when given): paid-off debt."""
        return sorted(k for k, n in self.counts.items() if used.get(k, 0) < n and (paths is None or k[1] in paths))


def render(found: list[Violation]) -> str:
    """The baseline file for these findings: sorted, stable, one entry per occurrence."""
    seen: Counter = Counter()
    entries = []
    for v in sorted(found, key=lambda v: v.key):
        seen[v.key] += 1
        gate, path, token, line = v.key
        entries.append({"gate": gate, "path": path, "token": token, "line": line, "occurrence": seen[v.key]})
    entries.sort(key=lambda e: (e["path"], e["gate"], e["token"], e["line"], e["occurrence"]))
    document = {"version": 1, "note": "accepted findings; regenerate with `cogni-review baseline`", "findings": entries}
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
