"""The baseline: findings accepted when a repository adopts the gate, so only new debt fails.

Entries are keyed by content (gate, path, token, normalized line text, occurrence), never by line
number, and written sorted, so two runs give byte-identical files and merges rarely conflict.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from cogni_review.errors import ConfigError
from cogni_review.model import ContentKey, Violation

DEFAULT_PATH = ".cogni/baseline.json"


@dataclass(frozen=True)
class Baseline:
    counts: Counter = field(default_factory=Counter)  # ContentKey -> how many are accepted
    source: str = DEFAULT_PATH

    @classmethod
    def parse(cls, text: str, source: str = DEFAULT_PATH) -> Baseline:
        try:
            document = json.loads(text)
            entries = document["findings"]
            counts: Counter = Counter()
            for entry in entries:
                key = ContentKey(entry["gate"], entry["path"], entry["token"], entry["line"])
                occurrence = entry.get("occurrence", 1)
                if not all(isinstance(part, str) for part in key):
                    raise TypeError(f"entry {entry!r} has a field that is not text")
                if type(occurrence) is not int or occurrence < 1:
                    raise TypeError(f"entry {entry!r}: occurrence must be a whole number from 1")
                counts[key] = max(counts[key], occurrence)
        except (ValueError, KeyError, TypeError, RecursionError) as e:
            raise ConfigError(f"{source}: not a baseline file ({type(e).__name__}: {e}); "
                              "regenerate it with `cogni-review baseline`") from None
        return cls(counts, source)

    def by_path(self) -> dict[str, Counter]:
        """path -> the accepted counts of its findings."""
        grouped: dict[str, Counter] = defaultdict(Counter)
        for key, count in self.counts.items():
            grouped[key.path][key] = count
        return dict(grouped)

    def stale(self, matched: Counter, scope: set[str] | None = None) -> list[ContentKey]:
        """Entries fewer findings matched than it accepts (limited to paths in `scope` when given): paid-off debt."""
        return sorted(k for k, n in self.counts.items() if matched.get(k, 0) < n and (scope is None or k.path in scope))


def render(found: list[Violation]) -> str:
    """The baseline file for these findings: sorted, stable, one entry per occurrence."""
    seen: Counter = Counter()
    entries = []
    for v in sorted(found, key=lambda v: v.key):
        seen[v.key] += 1
        entries.append({**v.key._asdict(), "occurrence": seen[v.key]})
    entries.sort(key=lambda e: (e["path"], e["gate"], e["token"], e["line"], e["occurrence"]))
    document = {"version": 1, "note": "accepted findings; regenerate with `cogni-review baseline`", "findings": entries}
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
