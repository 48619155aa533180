"""Runs resolved gates over pairs of files and returns a Report: one loop for audit and check.

A run is a sequence of `FilePair`s, each a file at head and what it was at base. An audit is the
special case with no base: every file of the snapshot, paired with nothing, so every finding is
new. For each pair the engine reads both sides once (only if some gate judges them), runs every
file gate that selects each side, and keeps the head findings beyond what the base had for the
same content key, or beyond what the baseline accepts if that is more. Suppressions work the
same way on both modes: one that covers a finding sets it aside; one the run introduces (every
one, in an audit) is listed, and is reported when it is invalid or suppresses nothing.

The engine never prints, exits, reads the environment or assumes a working directory. A gate
that raises or runs out of time is data: a neutral result.
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
from cogni_review.model import (FAIL, PASS, ContentKey, GateResult, NeutralReason, Note, NoteKind, Report,
                                Suppressed, Suppression, Violation)
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
class FilePair:
    """One file as the run sees it: `path` at head, `old_path` at base (None on a side it is
    absent from), and the head lines the change added (None: every line is new, as in an audit)."""

    path: str | None
    old_path: str | None = None
    added_lines: frozenset[int] | None = None


@dataclass(frozen=True)
class Sides:
    """What a run judges: the head snapshot, the base snapshot (None in an audit), the pairs, and
    the change as a whole for change gates (None in an audit)."""

    head: Snapshot
    pairs: Iterable[FilePair]
    base: Snapshot | None = None
    change: Change | None = None

    @classmethod
    def of_snapshot(cls, snapshot: Snapshot) -> Sides:
        return cls(snapshot, [FilePair(path) for path in snapshot.paths()])

    @classmethod
    def of_change(cls, change: Change) -> Sides:
        return cls(change.head, [FilePair(f.path, f.old_path, f.added_lines) for f in change.files],
                   change.base, change)

    @property
    def mode(self) -> str:
        return "audit" if self.change is None else "check"


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
    baselined: int = 0

    def __post_init__(self) -> None:
        hook = self.gate.plugin.candidates
        candidates = hook(self.gate.options) if hook else None
        self.prefilter = None if candidates is None else Prefilter.of(candidates)

    def selects(self, path: str | None) -> bool:
        return path is not None and self.gate.options.selects(path)

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
                    for v in self.gate.plugin.scan(file, self.gate.options)]
        except NotJudged as e:
            self.unjudged[file.path] = str(e)
            return []
        except Exception as e:  # a plugin crashing on one input is data, not an abort
            self.errors.append(f"{type(e).__name__}: {e} (in {file.path})")
            return []
        finally:
            self.seconds += time.perf_counter() - started

    def result(self) -> GateResult:
        """Findings fail the gate whatever else happened; without findings, a crash or a timeout
        makes it neutral (a failure under fail_on_error), never a pass."""
        gate = self.gate
        found = tuple(sorted(self.found, key=Violation.sort_key))
        problem = "; ".join(self.errors[:3]) + (f"; and {len(self.errors) - 3} more" if len(self.errors) > 3 else "")
        if self.timed_out:
            problem = f"gave up after {gate.options.timeout_seconds:g} s (raise `timeout_seconds` in the gate's options)"
        stats = {"files_selected": self.selected, "files_scanned": self.scanned, "baselined": self.baselined,
                 "violations": len(found)}
        if self.unjudged:
            stats["files_not_judged"] = len(self.unjudged)
        if found:
            result = GateResult(status=FAIL, violations=found, error=problem or None, stats=stats)
        elif problem:
            reason = NeutralReason.TIMEOUT if self.timed_out else NeutralReason.INTERNAL_ERROR
            result = GateResult.neutral(reason, error=problem, **stats)
        else:
            result = GateResult.passed(**stats)
        return replace(result, id=gate.id, type=gate.type, duration_ms=round(self.seconds * 1000),
                       description=gate.description)

    def notes(self) -> list[Note]:
        return [Note(NoteKind.NOT_JUDGED, f"{self.gate.id}: {why}; this gate did not judge the file", path)
                for path, why in sorted(self.unjudged.items())]


@dataclass
class _Reader:
    """Reads files of one snapshot for one run, remembering what could not be judged and why."""

    snapshot: Snapshot | None
    binary: list[str] = field(default_factory=list)
    fallbacks: dict[str, str] = field(default_factory=dict)
    unread_directives: list[str] = field(default_factory=list)

    def read(self, path: str | None) -> SourceFile | None:
        if path is None or self.snapshot is None or not scannable(path):
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
        if suppressions.unread(file):
            self.unread_directives.append(file.path)

    def notes(self) -> list[Note]:
        notes = [Note(NoteKind.PLAIN_TEXT, why, path) for path, why in sorted(self.fallbacks.items())]
        notes += [Note(NoteKind.PLAIN_TEXT, "read as plain text, where a comment cannot be told from a string: its "
                       "`cogni: allow` directives suppress nothing", path) for path in self.unread_directives]
        skipped = self.snapshot.skipped if self.snapshot is not None else {}
        notes += [Note(NoteKind.NOT_SCANNED, f"{why}, not followed", path) for path, why in sorted(skipped.items())]
        media = [p for p in self.binary if p.rsplit(".", 1)[-1].lower() in MEDIA]
        notes += [Note(NoteKind.NOT_SCANNED, "binary (a NUL byte and no text encoding), not scanned as text", p)
                  for p in self.binary if p not in media]
        if media:
            notes.append(Note(NoteKind.NOT_SCANNED,
                              f"{len(media)} image, font, archive or other media file(s) not scanned as text"))
        return notes


@dataclass
class _Suppressions:
    """The suppressions of a run: every one introduced (listed), and which of those are invalid or stale."""

    known: set[str]
    listed: set[Suppression] = field(default_factory=set)
    suppressed: list[Suppressed] = field(default_factory=list)
    invalid: list[Suppression] = field(default_factory=list)
    stale: list[Suppression] = field(default_factory=list)

    def split(self, found: list[Violation], sups: Iterable[Suppression]) -> tuple[list[Violation], dict[Violation, Suppression]]:
        """(findings no valid suppression covers, each covered finding with its suppression)."""
        valid = [s for s in sups if not s.problem(self.known)]
        kept, covered = [], {}
        for v in found:
            cover = next((s for s in valid if s.gate in (v.gate_type, v.gate_id) and s.covers(v.line)), None)
            if cover is None:
                kept.append(v)
            else:
                covered[v] = cover
        return kept, covered

    def judge(self, pair: FilePair, head: Iterable[Suppression], base: Iterable[Suppression],
              used: set[Suppression]) -> None:
        """Record the suppressions of one file pair the run introduces (base ones keyed under the
        head path, so a rename introduces none)."""
        before = Counter(s.key._replace(path=pair.path or "") for s in base)
        for s in introduced(head, before, key=lambda s: s.key):
            self.listed.add(s)
            if s.problem(self.known):
                self.invalid.append(s)
            elif s not in used:
                self.stale.append(s)


def run(gates: list[ResolvedGate], sides: Sides, *, baseline: Baseline | None = None,
        fail_on_error: bool = False, policy: str = "") -> Report:
    """Judge `sides` with `gates`: the findings at head beyond the base's and the baseline's."""
    runs = [_GateRun(g) for g in gates if g.plugin and g.plugin.is_file_gate]
    sups = _Suppressions({g.type for g in gates} | {g.id for g in gates})
    accepted = baseline.by_path() if baseline is not None else {}
    head_reader, base_reader = _Reader(sides.head), _Reader(sides.base)
    matched: Counter = Counter()  # baseline keys matched by head findings
    scope: set[str] = set()
    for pair in sides.pairs:
        scope.update(p for p in (pair.path, pair.old_path) if p)
        judging = [(run, run.selects(pair.path), run.selects(pair.old_path)) for run in runs]
        if not any(at_head or at_base for _, at_head, at_base in judging):
            continue  # no gate judges this file: not even read
        head = head_reader.read(pair.path) if any(at_head for _, at_head, _ in judging) else None
        base = base_reader.read(pair.old_path) if any(at_base for _, _, at_base in judging) else None
        head_sups, base_sups = suppressions.find(head), suppressions.find(base)
        used: set[Suppression] = set()
        for run, at_head, at_base in judging:
            run.selected += at_head
            after, covered = sups.split(run.scan(head) if at_head else [], head_sups)
            before, covered_before = sups.split(run.scan(base) if at_base else [], base_sups)
            used.update(covered.values())
            new = _new_findings(after, before, pair)
            allowed = accepted.get(pair.path)
            if allowed:
                matched.update({k: min(n, allowed[k]) for k, n in Counter(v.key for v in after).items() if allowed[k]})
                kept = _new_findings(after, before, pair, allowed)
                run.baselined += len(new) - len(kept)
                new = kept
            run.found.extend(new)
            set_aside = _new_findings(list(covered), list(covered_before), pair)
            sups.listed.update(covered[v] for v in set_aside)
            sups.suppressed.extend(Suppressed(v, covered[v]) for v in set_aside)
        sups.judge(pair, head_sups, base_sups, used)
        head_reader.after(head)
    results = [r.result() for r in runs]
    results.append(_suppression_result(sups, stale_fails=sides.change is not None))
    results += [_change_gate(g, sides.change) for g in gates if not (g.plugin and g.plugin.is_file_gate)]
    notes = head_reader.notes() + [note for r in runs for note in r.notes()]
    if sides.change is None:
        notes += [Note(NoteKind.STALE_SUPPRESSION, f"suppression of {s.gate} suppresses nothing; remove it", s.path)
                  for s in sorted(sups.stale, key=lambda s: s.location)]
    if baseline is not None:
        notes += _stale_baseline(baseline, matched, None if sides.change is None else scope)
    return Report(sides.mode, tuple(_in_spec_order(results, gates)), tuple(notes), fail_on_error,
                  tuple(sorted(sups.listed, key=lambda s: s.location)), policy,
                  tuple(sorted(sups.suppressed, key=lambda s: s.violation.sort_key())))


def introduced(items: Iterable, counts: Counter, key) -> list:
    """The items beyond `counts` (how many of each key were there before), in order: each item
    whose key still has a count left uses one up and is not new."""
    counts, new = Counter(counts), []
    for item in items:
        k = key(item)
        if counts[k] > 0:
            counts[k] -= 1
        else:
            new.append(item)
    return new


def _new_findings(after: list[Violation], before: list[Violation], pair: FilePair,
                  accepted: Counter | None = None) -> list[Violation]:
    """Head findings beyond the base's count for the same content key (or beyond what the
    baseline accepts in this file, if that is more), those on added lines counted new first.
    Base findings are keyed under the head path, so a rename carries them over."""
    counts = Counter(v.key._replace(path=pair.path or "") for v in before)
    for key, allowed in (accepted or {}).items():
        counts[key] = max(counts[key], allowed)
    added = pair.added_lines
    ranked = sorted(after, key=lambda v: (added is not None and v.line in added, v.line, v.column))
    return sorted(introduced(ranked, counts, key=lambda v: v.key), key=Violation.sort_key)


def _stale_baseline(baseline: Baseline, matched: Counter, scope: set[str] | None) -> list[Note]:
    """Baseline entries no head finding matches any more (in a check, of the changed files only)."""
    return [Note(NoteKind.STALE_BASELINE, f"baseline entry for {key.gate} {key.token!r} matches nothing; "
                 "run `cogni-review baseline` to shrink it", key.path) for key in baseline.stale(matched, scope)]


def _suppression_result(sups: _Suppressions, *, stale_fails: bool) -> GateResult:
    found = [_as_violation(s, s.problem(sups.known),
                           "write `cogni: allow <gate-type> -- <reason>` with a known gate and a reason")
             for s in sups.invalid]
    if stale_fails:
        found += [_as_violation(s, f"suppression of {s.gate} added by this change suppresses nothing",
                                "remove the suppression, or put it on the offending line or the line above")
                  for s in sups.stale]
    found.sort(key=Violation.sort_key)
    return GateResult(SUPPRESSIONS, SUPPRESSIONS, FAIL if found else PASS, tuple(found),
                      stats={"violations": len(found)},
                      description="Inline suppressions: each needs a known gate and a reason.")


def _as_violation(s: Suppression, message: str, hint: str) -> Violation:
    return Violation(s.location, f"cogni: allow {s.gate}".strip(), message, hint, s.line_text, SUPPRESSIONS, SUPPRESSIONS)


def _change_gate(gate: ResolvedGate, change: Change | None) -> GateResult:
    """A change gate's verdict; neutral when there is no change to judge or no such gate here."""
    if gate.plugin is None:
        result = GateResult.neutral(NeutralReason.UNIMPLEMENTED_GATE,
                                    f"gate type {gate.type!r} is not implemented by cogni-review")
        return replace(result, id=gate.id, type=gate.type)
    if change is None:
        result = GateResult.neutral(NeutralReason.NO_CHANGE, "judges a change as a whole; an audit has none")
        return replace(result, id=gate.id, type=gate.type, description=gate.description)
    started = time.perf_counter()
    try:
        result = gate.plugin.judge(change, gate.options)
        if not isinstance(result, GateResult):
            raise TypeError(f"judge returned {type(result).__name__}, not a GateResult")
        violations = tuple(replace(v, gate_id=gate.id, gate_type=gate.type) for v in result.violations)
        result = replace(result, violations=violations)
    except Exception as e:  # a plugin crashing is data, not an abort
        result = GateResult.neutral(NeutralReason.INTERNAL_ERROR, error=f"{type(e).__name__}: {e}")
    return replace(result, id=gate.id, type=gate.type, description=gate.description,
                   duration_ms=round((time.perf_counter() - started) * 1000))


def _in_spec_order(results: list[GateResult], gates: list[ResolvedGate]) -> list[GateResult]:
    order = {g.id: i for i, g in enumerate(gates)}
    results = sorted(results, key=lambda r: order.get(r.id, len(order)))
    return [r for r in results if r.id != SUPPRESSIONS or r.violations]  # shown only when it has something to say
