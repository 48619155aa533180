"""Runs resolved gates over a snapshot (audit) or a change (check) and returns a Report.

Never prints, exits, reads the environment or assumes a working directory. A gate that raises
is data: a neutral `internal_error` result carrying the error text.
"""

from __future__ import annotations

import re
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, replace
from typing import Callable, Iterable

from cogni_review.catalog import ResolvedGate
from cogni_review.diff import Change
from cogni_review.git import Snapshot
from cogni_review.globs import matches_any
from cogni_review.model import FAIL, NEUTRAL, PASS, GateResult, Note, Report, Violation
from cogni_review.regions import language_of
from cogni_review.source import SourceFile

#: never judged: the policy itself names the tokens it governs
NEVER_SCANNED = (".cogni/**", ".git/**")


def scannable(path: str) -> bool:
    return not matches_any(NEVER_SCANNED, path) and language_of(path) != "docs"


@dataclass
class _Files:
    """Reads each file of a snapshot at most once per run, and prefilters it once."""

    snapshot: Snapshot
    prefilter: Prefilter | None
    cache: dict

    def get(self, path: str) -> SourceFile | None:
        if path not in self.cache:
            data = self.snapshot.read(path)
            self.cache[path] = None if data is None else SourceFile(path, data)
        return self.cache[path]

    def candidate(self, path: str, pattern: Prefilter | None) -> SourceFile | None:
        """The file, if it exists, is text, and might contain what `pattern` looks for."""
        file = self.get(path)
        if file is None or file.is_binary:
            return None
        if pattern is None:
            return file
        key = ("hit", path)
        if key not in self.cache:
            self.cache[key] = self.prefilter is None or self.prefilter.search(file.data) is not None
        return file if self.cache[key] and pattern.search(file.data) else None


def audit(gates: list[ResolvedGate], snapshot: Snapshot, *, fail_on_error: bool = False) -> Report:
    """Every finding in the snapshot."""
    paths = [p for p in snapshot.paths() if scannable(p)]
    files = _Files(snapshot, _prefilter(gates), {})
    results = []
    for gate in gates:
        if gate.plugin is not None and not gate.plugin.is_file_gate:
            results.append(_timed(gate, lambda g=gate: GateResult.neutral(
                g.id, g.type, "no_change", message="judges a change as a whole; an audit has none")))
            continue
        results.append(_timed(gate, lambda g=gate: _scan_all(g, [p for p in paths if g.options.selects(p)], files)))
    return Report("audit", tuple(results), _notes(files, snapshot), fail_on_error)


def check(gates: list[ResolvedGate], change: Change, *, fail_on_error: bool = False) -> Report:
    """Only the findings the change introduces: present at head, absent at base."""
    prefilter = _prefilter(gates)
    head = _Files(change.head, prefilter, {})
    base = _Files(change.base, prefilter, {})
    results = []
    for gate in gates:
        if gate.plugin is not None and not gate.plugin.is_file_gate:
            results.append(_timed(gate, lambda g=gate: _change_gate(g, change)))
        else:
            results.append(_timed(gate, lambda g=gate: _scan_change(g, change, head, base)))
    notes = _notes(head, change.head)
    return Report("check", tuple(results), notes, fail_on_error)


def _timed(gate: ResolvedGate, run: Callable[[], GateResult]) -> GateResult:
    started = time.perf_counter()
    if gate.plugin is None:
        result = GateResult.neutral(gate.id, gate.type, "unimplemented_gate",
                                    message=f"gate type {gate.type!r} is not implemented by cogni-review")
    else:
        try:
            result = run()
        except Exception as e:  # a plugin crashing on one input is data, not an abort
            result = GateResult.neutral(gate.id, gate.type, "internal_error", f"{type(e).__name__}: {e}")
    description = gate.plugin.summary if gate.plugin else ""
    return replace(result, duration_ms=round((time.perf_counter() - started) * 1000), description=description)


def _scan_all(gate: ResolvedGate, paths: list[str], files: _Files) -> GateResult:
    pattern = _candidates(gate)
    found: list[Violation] = []
    scanned = 0
    for path in paths:
        file = files.candidate(path, pattern)
        if file is not None:
            scanned += 1
            found.extend(_scan(gate, file))
    return _result(gate, found, files_selected=len(paths), files_parsed=scanned)


def _scan_change(gate: ResolvedGate, change: Change, head: _Files, base: _Files) -> GateResult:
    pattern = _candidates(gate)
    after: list[Violation] = []
    before: Counter = Counter()
    added_lines = {}
    for fc in change.files:
        if fc.path and scannable(fc.path) and gate.options.selects(fc.path):
            file = head.candidate(fc.path, pattern)
            after.extend(_scan(gate, file) if file else ())
            added_lines[fc.path] = fc.added_lines
        if fc.path and fc.old_path and scannable(fc.old_path) and gate.options.selects(fc.old_path):
            file = base.candidate(fc.old_path, pattern)
            for v in _scan(gate, file) if file else ():
                before[(v.gate_id, fc.path, v.token, _norm(v))] += 1
    new = _introduced(after, before, added_lines)
    return _result(gate, new, files_changed=len(change.files), findings_before=sum(before.values()))


def _introduced(after: list[Violation], before: Counter, added_lines: dict) -> list[Violation]:
    """Head findings beyond the base's count for the same key, those on added lines first."""
    groups: dict[tuple, list[Violation]] = defaultdict(list)
    for v in after:
        groups[v.key].append(v)
    new = []
    for key, found in groups.items():
        extra = len(found) - before.get(key, 0)
        if extra > 0:
            found.sort(key=lambda v: (v.line not in added_lines.get(v.path, ()), v.line, v.column))
            new.extend(found[:extra])
    return new


def _norm(v: Violation) -> str:
    return v.key[3]


def _scan(gate: ResolvedGate, file: SourceFile) -> Iterable[Violation]:
    for v in gate.plugin.module.scan(file, gate.options):
        yield replace(v, gate_id=gate.id, gate_type=gate.type)


def _result(gate: ResolvedGate, found: list[Violation], **stats) -> GateResult:
    found = sorted(found, key=Violation.sort_key)
    status = FAIL if found else PASS
    return GateResult(gate.id, gate.type, status, tuple(found), stats={**stats, "violations": len(found)})


def _change_gate(gate: ResolvedGate, change: Change) -> GateResult:
    verdict = gate.plugin.module.check(change, gate.options)
    violations = tuple(replace(v, gate_id=gate.id, gate_type=gate.type) for v in verdict.violations)
    return GateResult(gate.id, gate.type, verdict.status, violations, verdict.neutral_reason,
                      dict(verdict.stats), message=verdict.message)


@dataclass(frozen=True)
class Prefilter:
    """A cheap test over raw bytes: any of some literals occurs, or a loose regex matches."""

    literals: tuple[bytes, ...] = ()
    pattern: re.Pattern[bytes] | None = None

    def search(self, data: bytes) -> bool:
        return any(lit in data for lit in self.literals) or bool(self.pattern and self.pattern.search(data))

    @classmethod
    def of(cls, candidates: list) -> Prefilter:
        """From gates' `candidates`: each a regex string, or a tuple of literal strings."""
        literals = tuple(lit.encode() for c in candidates if isinstance(c, tuple) for lit in c)
        regexes = [f"(?:{c})" for c in candidates if isinstance(c, str)]
        return cls(literals, re.compile("|".join(regexes).encode()) if regexes else None)


def _candidates(gate: ResolvedGate) -> Prefilter | None:
    hook = getattr(gate.plugin.module, "candidates", None)
    found = hook(gate.options) if hook else None
    return None if found is None else Prefilter.of([found])


def _prefilter(gates: list[ResolvedGate]) -> Prefilter | None:
    """One test for every file gate's candidates, so most files are read and dropped at once."""
    found = []
    for gate in gates:
        if gate.plugin is None or not gate.plugin.is_file_gate:
            continue
        hook = getattr(gate.plugin.module, "candidates", None)
        candidates = hook(gate.options) if hook else None
        if candidates is None:
            return None
        found.append(candidates)
    return Prefilter.of(found) if found else None


def _notes(files: _Files, snapshot: Snapshot) -> tuple[Note, ...]:
    notes = []
    for path, file in sorted((k, v) for k, v in files.cache.items() if isinstance(k, str) and v):
        if "_regions" in file.__dict__ and file.fallback:
            notes.append(Note("plain-text", file.fallback, path))
    skipped = getattr(snapshot, "skipped", {})
    for path, why in sorted(skipped.items()):
        notes.append(Note("not-scanned", f"{why}, not followed", path))
    binary = sum(1 for k, v in files.cache.items() if isinstance(k, str) and v and v.is_binary)
    if binary:
        notes.append(Note("not-scanned", f"{binary} binary file(s) not scanned as text"))
    return tuple(notes)
