"""Runs resolved gates over a snapshot (audit) or a change (check) and returns a Report.

Each file is read once and judged by every gate that selects it, then dropped. Findings a
suppression with a reason covers, or the baseline accepts, are set aside; a check keeps only
what the change introduces. The engine never prints, exits, reads the environment or assumes a
working directory. A gate that raises or runs out of time is data: a neutral result.
"""

from __future__ import annotations

import re
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from typing import Iterable

from cogni_review import suppressions
from cogni_review.baseline import Baseline
from cogni_review.catalog import ResolvedGate
from cogni_review.diff import Change
from cogni_review.gate import NotJudged
from cogni_review.git import Snapshot
from cogni_review.globs import matches_any
from cogni_review.model import FAIL, PASS, GateResult, Location, Note, Report, Suppression, Violation
from cogni_review.regions import language_of
from cogni_review.source import SourceFile

#: never judged: the policy itself names the tokens it governs
NEVER_SCANNED = (".cogni/**", ".git/**")
SUPPRESSIONS = "suppressions"
#: binary files by their nature, counted in one note; any other binary file is named
MEDIA = frozenset("png jpg jpeg gif webp ico bmp tiff avif svgz pdf woff woff2 ttf otf eot zip gz tgz bz2 xz 7z "
                  "jar war wasm mp3 mp4 wav ogg webm mov avi so dylib dll exe bin dat db sqlite pyc class".split())


def scannable(path: str) -> bool:
    return not matches_any(NEVER_SCANNED, path) and language_of(path) != "docs"


@dataclass(frozen=True)
class Prefilter:
    """A cheap test over raw bytes: any of some literals occurs, or a loose regex matches."""

    literals: tuple[bytes, ...] = ()
    pattern: re.Pattern[bytes] | None = None

    def search(self, data: bytes) -> bool:
        return any(lit in data for lit in self.literals) or bool(self.pattern and self.pattern.search(data))

    @classmethod
    def of(cls, candidates: str | tuple[str, ...]) -> Prefilter:
        """From a gate's `candidates`: a regex string, or a tuple of literal strings."""
        if isinstance(candidates, str):
            return cls((), re.compile(candidates.encode()))
        return cls(tuple(lit.encode() for lit in candidates))


@dataclass
class _GateRun:
    """One file gate's state during a run: what it found, how long it took, whether it broke."""

    gate: ResolvedGate
    found: list[Violation] = field(default_factory=list)
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)
    unjudged: dict[str, str] = field(default_factory=dict)
    timed_out: bool = False
    selected: int = 0
    scanned: int = 0

    def __post_init__(self) -> None:
        hook = getattr(self.gate.plugin.module, "candidates", None)
        candidates = hook(self.gate.options) if hook else None
        self.prefilter = None if candidates is None else Prefilter.of(candidates)

    def selects(self, path: str) -> bool:
        return self.gate.options.selects(path)

    def scan(self, file: SourceFile | None) -> list[Violation]:
        """The gate's findings in one file. A file the gate crashes on is recorded and the gate
        goes on with the others, so one strange file cannot hide the findings of the rest."""
        if file is None or self.timed_out:
            return []
        if self.prefilter is not None and not self.prefilter.search(file.utf8):
            return []
        if self.seconds > self.gate.options.timeout_seconds:
            self.timed_out = True
            return []
        started = time.perf_counter()
        try:
            self.scanned += 1
            return [replace(v, gate_id=self.gate.id, gate_type=self.gate.type)
                    for v in self.gate.plugin.module.scan(file, self.gate.options)]
        except NotJudged as e:
            self.unjudged[file.path] = str(e)
            return []
        except Exception as e:  # a plugin crashing on one input is data, not an abort
            self.errors.append(f"{type(e).__name__}: {e} (in {file.path})")
            return []
        finally:
            self.seconds += time.perf_counter() - started

    def result(self, found: list[Violation], **stats) -> GateResult:
        """Findings fail the gate whatever else happened; without findings, a crash or a timeout
        makes it neutral (a failure under fail_on_error), never a pass."""
        gate = self.gate
        found = sorted(found, key=Violation.sort_key)
        problem = "; ".join(self.errors[:3]) + (f"; and {len(self.errors) - 3} more" if len(self.errors) > 3 else "")
        if self.timed_out:
            problem = f"gave up after {gate.options.timeout_seconds:g} s (raise `timeout_seconds` in the gate's options)"
        if found:
            result = GateResult(gate.id, gate.type, FAIL, tuple(found), error=problem or None)
        elif problem:
            result = GateResult.neutral(gate.id, gate.type, "timeout" if self.timed_out else "internal_error", problem)
        else:
            result = GateResult(gate.id, gate.type, PASS)
        stats = {"files_selected": self.selected, "files_scanned": self.scanned, **stats, "violations": len(result.violations)}
        if self.unjudged:
            stats["files_not_judged"] = len(self.unjudged)
        return replace(result, stats=stats, duration_ms=round(self.seconds * 1000), description=gate.plugin.summary)


@dataclass
class _Reader:
    """Reads files of one snapshot for one run, remembering what could not be judged and why."""

    snapshot: Snapshot
    binary: list = field(default_factory=list)
    fallbacks: dict = field(default_factory=dict)

    def read(self, path: str | None) -> SourceFile | None:
        if path is None or not scannable(path):
            return None
        data = self.snapshot.read(path)
        if data is None:
            return None
        file = SourceFile(path, data)
        if file.is_binary:
            self.binary.append(path)
            return None
        return file

    def after(self, file: SourceFile | None) -> None:
        if file is not None and file.parsed and file.fallback:
            self.fallbacks[file.path] = file.fallback

    def notes(self) -> list[Note]:
        notes = [Note("plain-text", why, path) for path, why in sorted(self.fallbacks.items())]
        for path, why in sorted(getattr(self.snapshot, "skipped", {}).items()):
            notes.append(Note("not-scanned", f"{why}, not followed", path))
        media = [p for p in self.binary if p.rsplit(".", 1)[-1].lower() in MEDIA]
        notes += [Note("not-scanned", "binary (a NUL byte and no text encoding), not scanned as text", p)
                  for p in self.binary if p not in media]
        if media:
            notes.append(Note("not-scanned", f"{len(media)} image, font, archive or other media file(s) not scanned as text"))
        return notes


def audit(gates: list[ResolvedGate], snapshot: Snapshot, *, fail_on_error: bool = False,
          baseline: Baseline | None = None) -> Report:
    """Every finding in the snapshot, less what suppressions and the baseline account for."""
    runs = [_GateRun(g) for g in gates if g.plugin and g.plugin.is_file_gate]
    known = _known(gates)
    reader = _Reader(snapshot)
    all_suppressions: list[Suppression] = []
    used: set[Suppression] = set()
    for path in snapshot.paths():
        wanted = [run for run in runs if run.selects(path)]
        if not wanted:  # no gate judges it: not even read
            continue
        for run in wanted:
            run.selected += 1
        file = reader.read(path)
        if file is None:
            continue
        found_here = suppressions.find(file)
        all_suppressions.extend(found_here)
        for run in wanted:
            kept, covered = _suppress(run.scan(file), found_here, known)
            run.found.extend(kept)
            used.update(covered.values())
        reader.after(file)
    results, notes = _finish(runs, baseline, None)
    stale = [s for s in all_suppressions if s not in used and not s.problem(known)]
    notes += [Note("stale-suppression", f"suppression of {s.gate} suppresses nothing; remove it", s.path) for s in stale]
    results.append(_suppression_result([s for s in all_suppressions if s.problem(known)], [], known))
    results += [_change_gate_in_audit(g) for g in gates if not (g.plugin and g.plugin.is_file_gate)]
    return Report("audit", tuple(_in_spec_order(results, gates)), tuple(reader.notes() + notes), fail_on_error,
                  tuple(sorted(all_suppressions, key=lambda s: s.location)))


def check(gates: list[ResolvedGate], change: Change, *, fail_on_error: bool = False,
          baseline: Baseline | None = None) -> Report:
    """Only the findings the change introduces: present at head beyond what the base had (and
    beyond what the baseline accepts for the same content)."""
    runs = [_GateRun(g) for g in gates if g.plugin and g.plugin.is_file_gate]
    known = _known(gates)
    accepted: dict[str, Counter] = defaultdict(Counter)  # path -> the baseline's counts there
    for key, count in (baseline.counts if baseline is not None else {}).items():
        accepted[key[1]][key] = count
    head_reader, base_reader = _Reader(change.head), _Reader(change.base)
    everything: dict[str, list[Violation]] = defaultdict(list)  # head findings per gate, for the baseline
    listed: list[Suppression] = []  # added by the change, or covering a finding it adds
    stale_added: list[Suppression] = []
    invalid: list[Suppression] = []
    for fc in change.files:
        head, base = head_reader.read(fc.path), base_reader.read(fc.old_path)
        head_sup, base_sup = suppressions.find(head) if head else (), suppressions.find(base) if base else ()
        used: set[Suppression] = set()
        for run in runs:
            after, covered = _suppress(run.scan(head) if fc.path and run.selects(fc.path) else [], head_sup, known)
            before, covered_before = _suppress(run.scan(base) if fc.old_path and run.selects(fc.old_path) else [], base_sup, known)
            used.update(covered.values())
            run.selected += bool(fc.path and run.selects(fc.path))
            everything[run.gate.id].extend(after)
            run.found.extend(_introduced(after, before, fc.path, fc.added_lines, accepted.get(fc.path)))
            exercised = _introduced(list(covered), list(covered_before), fc.path, fc.added_lines)
            listed += [covered[v] for v in exercised]
        added = _added(head_sup, base_sup, fc.path)
        listed += added
        invalid += [s for s in added if s.problem(known)]
        stale_added += [s for s in added if s not in used and not s.problem(known)]
        head_reader.after(head)
    results, notes = _finish(runs, None, None)
    if baseline is not None:
        notes += _stale_baseline(baseline, everything, {f.path for f in change.files if f.path})
    results.append(_suppression_result(invalid, stale_added, known))
    results += [_change_gate(g, change) for g in gates if g.plugin and not g.plugin.is_file_gate]
    results += [_unimplemented(g) for g in gates if g.plugin is None]
    return Report("check", tuple(_in_spec_order(results, gates)), tuple(head_reader.notes() + notes), fail_on_error,
                  tuple(sorted(set(listed), key=lambda s: s.location)))


def _finish(runs: list[_GateRun], baseline: Baseline | None, everything: dict | None) -> tuple[list[GateResult], list[Note]]:
    """Results of the file gates (with the baseline's accepted findings set aside, in an audit)."""
    results, notes, used = [], [], Counter()
    for run in runs:
        found = run.found
        if baseline is not None:
            found, matched = baseline.split(found)
            used.update(matched)
        results.append(run.result(found, baselined=len(run.found) - len(found)))
        notes += [Note("not-judged", f"{run.gate.id}: {why}; this gate did not judge the file", path)
                  for path, why in sorted(run.unjudged.items())]
    if baseline is not None:
        notes += _stale_notes(baseline.stale(used))
    return results, notes


def _stale_baseline(baseline: Baseline, everything: dict, paths: set[str]) -> list[Note]:
    """In a check: baseline entries of the changed files that no head finding matches any more."""
    used: Counter = Counter()
    for found in everything.values():
        used.update(baseline.split(found)[1])
    return _stale_notes(baseline.stale(used, paths))


def _stale_notes(stale) -> list[Note]:
    return [Note("stale-baseline", f"baseline entry for {gate} {token!r} matches nothing; "
                 "run `cogni-review baseline` to shrink it", path) for gate, path, token, _ in stale]


def _known(gates: list[ResolvedGate]) -> set[str]:
    return {g.type for g in gates} | {g.id for g in gates}


def _suppress(found: list[Violation], sups: Iterable[Suppression], known: set[str]) -> tuple[list[Violation], dict[Violation, Suppression]]:
    """(findings no valid suppression covers, each covered finding with its suppression)."""
    valid = [s for s in sups if not s.problem(known)]
    kept, covered = [], {}
    for v in found:
        cover = next((s for s in valid if s.gate in (v.gate_type, v.gate_id) and s.covers(v.line)), None)
        if cover is None:
            kept.append(v)
        else:
            covered[v] = cover
    return kept, covered


def _introduced(after: list[Violation], before: list[Violation], path: str | None, added_lines,
                accepted: Counter | None = None) -> list[Violation]:
    """Head findings beyond the base's count for the same content key (or beyond what the
    baseline accepts in this file, if that is more), those on added lines first."""
    counts = Counter((v.gate_id, path, v.token, v.key[3]) for v in before)
    for key, allowed in (accepted or {}).items():
        counts[key] = max(counts[key], allowed)
    groups: dict[tuple, list[Violation]] = defaultdict(list)
    for v in after:
        groups[v.key].append(v)
    new = []
    for key, found in groups.items():
        extra = len(found) - counts.get(key, 0)
        if extra > 0:
            found.sort(key=lambda v: (v.line not in added_lines, v.line, v.column))
            new.extend(found[:extra])
    return new


def _added(head: Iterable[Suppression], base: Iterable[Suppression], path: str | None) -> list[Suppression]:
    """Suppressions at head with no counterpart (same gate, reason and line text) at base."""
    counts = Counter((path, s.gate, s.reason, s.key[3]) for s in base)
    added = []
    for s in head:
        if counts[s.key] > 0:
            counts[s.key] -= 1
        else:
            added.append(s)
    return added


def _suppression_result(invalid: list[Suppression], stale: list[Suppression], known: set[str]) -> GateResult:
    found = [_as_violation(s, s.problem(known), "write `cogni: allow <gate-type> -- <reason>` with a known gate and a reason")
             for s in invalid]
    found += [_as_violation(s, f"suppression of {s.gate} added by this change suppresses nothing",
                            "remove the suppression, or put it on the offending line or the line above") for s in stale]
    found.sort(key=Violation.sort_key)
    return GateResult(SUPPRESSIONS, SUPPRESSIONS, FAIL if found else PASS, tuple(found),
                      stats={"violations": len(found)}, description="Inline suppressions: each needs a known gate and a reason.")


def _as_violation(s: Suppression, message: str, hint: str) -> Violation:
    return Violation(s.location, f"cogni: allow {s.gate}".strip(), message, hint, s.line_text, SUPPRESSIONS, SUPPRESSIONS)


def _change_gate(gate: ResolvedGate, change: Change) -> GateResult:
    started = time.perf_counter()
    try:
        verdict = gate.plugin.module.check(change, gate.options)
        violations = tuple(replace(v, gate_id=gate.id, gate_type=gate.type) for v in verdict.violations)
        result = GateResult(gate.id, gate.type, verdict.status, violations, verdict.neutral_reason,
                            dict(verdict.stats), message=verdict.message)
    except Exception as e:  # a plugin crashing is data, not an abort
        result = GateResult.neutral(gate.id, gate.type, "internal_error", f"{type(e).__name__}: {e}")
    return replace(result, duration_ms=round((time.perf_counter() - started) * 1000), description=gate.plugin.summary)


def _change_gate_in_audit(gate: ResolvedGate) -> GateResult:
    if gate.plugin is None:
        return _unimplemented(gate)
    return GateResult.neutral(gate.id, gate.type, "no_change", message="judges a change as a whole; an audit has none",
                              description=gate.plugin.summary)


def _unimplemented(gate: ResolvedGate) -> GateResult:
    return GateResult.neutral(gate.id, gate.type, "unimplemented_gate",
                              message=f"gate type {gate.type!r} is not implemented by cogni-review")


def _in_spec_order(results: list[GateResult], gates: list[ResolvedGate]) -> list[GateResult]:
    order = {g.id: i for i, g in enumerate(gates)}
    results = sorted(results, key=lambda r: order.get(r.id, len(order)))
    return [r for r in results if r.id != SUPPRESSIONS or r.violations]  # shown only when it has something to say
