"""What a repository looks like, for saying why a gate judged nothing and what to do about it.

The defaults of the DAO gates are written for one app (`src/**`, `src/shared/env/**`) and read
relative to every app or package root: any folder that holds a `src/`. When a gate's globs
select no file at all, the report names the globs and the roots the repository has, so the fix
(a `paths:` that fits) is one line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Protocol

from cogni_review.regions import language_of

CODE_LANGUAGES = frozenset({"python", "javascript", "typescript", "tsx", "sql", "solidity"})
#: source code the gates read as plain text: still code a gate could have judged
OTHER_CODE = frozenset(".go .rs .rb .java .kt .kts .scala .swift .php .cs .fs .c .h .cc .cpp .hpp .m .ex .exs .erl "
                       ".clj .dart .lua .pl .pm .r .jl .hs .ml .vue .svelte .astro .cairo .move .vy .zig .nim".split())


class Judging(Protocol):
    id: str
    options: Any

    def judges(self, path: str | None) -> bool: ...


@dataclass
class Layout:
    """The files of one snapshot, asked lazily: most runs never need them."""

    snapshot: Any  # a git.Snapshot
    _judged: dict[str, bool] = field(default_factory=dict)

    @classmethod
    def of(cls, snapshot: Any) -> Layout:
        return cls(snapshot)

    @cached_property
    def paths(self) -> list[str]:
        return list(self.snapshot.paths())

    def judged_by(self, gate: Judging) -> bool:
        """Whether `gate` selects any file of the snapshot (remembered per gate)."""
        if gate.id not in self._judged:
            self._judged[gate.id] = any(gate.judges(path) for path in self.paths)
        return self._judged[gate.id]

    def has_code(self, folder: str) -> bool:
        """Whether any source file (of a language the gates read as code) lies under `folder`."""
        prefix = f"{folder}/" if folder else ""
        return any(path.startswith(prefix) for path in self.code)

    @cached_property
    def code(self) -> list[str]:
        return [path for path in self.paths if is_code(path)]

    @cached_property
    def app_roots(self) -> list[str]:
        """Folders holding a `src/` folder ("." for the repository root), sorted."""
        return app_roots(self.paths)

    def unjudged(self, gate: Judging) -> str:
        """Why `gate` judged nothing, and what the repository looks like instead."""
        paths = ", ".join(getattr(gate.options, "paths", ()) or ()) or "(none)"
        said = f"its paths ({paths}) select none of the {len(self.paths):,} files in the repository"
        roots = self.app_roots
        if roots:
            shown = ", ".join(roots[:6]) + (f" and {len(roots) - 6} more" if len(roots) > 6 else "")
            return f"{said}; app and package roots found (folders holding a src/): {shown}"
        return f"{said}; no folder holds a src/: set the gate's `paths` to where the app code is"


def is_code(path: str) -> bool:
    """Source code in any language: one the gates parse, or one they read as plain text."""
    return language_of(path) in CODE_LANGUAGES or path[path.rfind("."):].lower() in OTHER_CODE


def app_roots(paths: list[str]) -> list[str]:
    """The folders holding a `src/` folder among `paths` ("." for the root), outermost `src/` only."""
    roots = set()
    for path in paths:
        parts = path.split("/")
        if "src" in parts[:-1]:
            index = parts.index("src")
            roots.add("/".join(parts[:index]) or ".")
    return sorted(roots)
