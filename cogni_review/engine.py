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

import os
import re
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from typing import Iterable

from cogni_review import parallel, suppressions
from cogni_review.baseline import DEFAULT_PATH as BASELINE_PATH
from cogni_review.baseline import Baseline
from cogni_review.catalog import ResolvedGate
from cogni_review.diff import Change
from cogni_review.gate import NotJudged
from cogni_review.git import Snapshot
from cogni_review.layout import Layout, is_code
from cogni_review.globs import matches_any
from cogni_review.model import (FAIL, PASS, ContentKey, GateResult, Location, NeutralReason, Note, NoteKind,
                                Report, Suppressed, Suppression, Violation)
from cogni_review.regions import language_of
from cogni_review.source import SourceFile

NEVER_SCANNED = (".git/**",)
SUPPRESSIONS = "suppressions"
#: binary files by their nature, counted in one note; any other binary file is named
MEDIA = frozenset("png jpg jpeg gif webp ico bmp tiff avif svgz pdf woff woff2 ttf otf eot zip gz tgz bz2 xz 7z "
                  "jar war wasm mp3 mp4 wav ogg webm mov avi so dylib dll exe bin dat db sqlite pyc class".split())


def scannable(path: str, policy_folders: frozenset[str] = frozenset({""})) -> bool:
    """Whether a file is read at all: not docs, not git's own, and not the policy itself, the
    `.cogni/` folder beside a spec the run enforces (the spec, its rules and baseline name the
    tokens they govern). Any other `.cogni/` folder is ordinary code or data."""
    if matches_any(NEVER_SCANNED, path) or language_of(path) == "docs":
        return False
    parts = path.split("/")
    return not any(part == ".cogni" and "/".join(parts[:i]) in policy_folders for i, part in enumerate(parts[:-1]))


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
    the change as a whole for change gates (None in an audit). `layout` answers whether a gate
    could judge any file at head (by default, from the head snapshot's files)."""

    head: Snapshot
    pairs: Iterable[FilePair]
    base: Snapshot | None = None
    change: Change | None = None
    layout: Layout | None = None
    policy_folders: frozenset[str] = frozenset({""})  # the folders of the specs enforced (see `scannable`)

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
    cache: dict | None = None  # (gate id, path, blob) -> what scanning it gave, across runs of one policy
    found: list[Violation] = field(default_factory=list)
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)
    unjudged: dict[str, str] = field(default_factory=dict)
    timed_out: bool = False
    selected: int = 0
    scanned: int = 0
    baselined: int = 0

    #: what a worker process reports of each gate's run, merged into the parent's (`add`)
    TALLIES = ("found", "seconds", "errors", "unjudged", "timed_out", "selected", "scanned", "baselined")

    def add(self, tallies: dict) -> None:
        self.found += tallies["found"]
        self.seconds = max(self.seconds, tallies["seconds"])  # the processes ran side by side
        self.errors += [e for e in tallies["errors"] if e not in self.errors]
        self.unjudged.update(tallies["unjudged"])
        self.timed_out = self.timed_out or tallies["timed_out"]
        for name in ("selected", "scanned", "baselined"):
            setattr(self, name, getattr(self, name) + tallies[name])

    def __post_init__(self) -> None:
        hook = self.gate.plugin.candidates
        candidates = hook(self.gate.options) if hook else None
        self.prefilter = None if candidates is None else Prefilter.of(candidates)

    def selects(self, path: str | None) -> bool:
        return self.gate.judges(path)

    def scan(self, file: SourceFile | None) -> list[Violation]:
        """The gate's findings in one file, judged once per blob when a cache is kept. A file
        the gate crashes on is recorded and the gate goes on with the others."""
        if file is None or self.timed_out:
            return []
        if self.cache is None or file.blob is None:
            return self._scan(file)
        key = (self.gate.id, file.path, file.blob)
        if key not in self.cache:
            errors, unjudged = len(self.errors), self.unjudged.get(file.path)
            found = self._scan(file)
            if self.timed_out:
                return found
            self.cache[key] = (found, self.errors[errors:], self.unjudged.get(file.path) if unjudged is None else None)
        found, errors, unjudged = self.cache[key]
        if unjudged:
            self.unjudged[file.path] = unjudged
        self.errors.extend(e for e in errors if e not in self.errors)
        return found

    def _scan(self, file: SourceFile) -> list[Violation]:
        if self.prefilter is not None and not self.prefilter.search(file.utf8) and not (
                file.nfkc_utf8 is not None and self.prefilter.search(file.nfkc_utf8)):
            return []  # no candidate, even with names read as Python reads them (NFKC)
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

    def result(self, layout: Layout | None = None) -> GateResult:
        """Findings fail the gate whatever else happened; without findings, a crash or a timeout
        makes it neutral (a failure under fail_on_error), never a pass; nor does a gate that
        could have judged no file of the repository (`layout`, when it is known to be so)."""
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
        elif self.unjudged:  # never a pass while a file it selects went unjudged
            shown = ", ".join(sorted(self.unjudged)[:3]) + (" and more" if len(self.unjudged) > 3 else "")
            result = GateResult.neutral(NeutralReason.NOT_JUDGED, f"{len(self.unjudged)} file(s) it selects "
                                        f"could not be judged: {shown}", **stats)
        elif layout is not None and not layout.has_code(gate.folder):  # a node that is only a spec
            result = GateResult.passed(f"nothing to judge: no source code under {gate.folder or 'the repository'}",
                                       **stats)
        elif layout is not None:
            result = GateResult.neutral(NeutralReason.NOTHING_JUDGED, layout.unjudged(gate), **stats)
        else:
            result = GateResult.passed(**stats)
        return replace(result, id=gate.id, type=gate.type, duration_ms=round(self.seconds * 1000),
                       description=gate.description, spec=gate.spec)

    def notes(self) -> list[Note]:
        return [Note(NoteKind.NOT_JUDGED, f"{self.gate.id}: {why}; this gate did not judge the file", path)
                for path, why in sorted(self.unjudged.items())]


@dataclass
class _Reader:
    """Reads files of one snapshot for one run, remembering what could not be judged and why."""

    snapshot: Snapshot | None
    policy_folders: frozenset[str] = frozenset({""})
    binary: list[str] = field(default_factory=list)
    fallbacks: dict[str, str] = field(default_factory=dict)
    unread_directives: list[str] = field(default_factory=list)

    def read(self, path: str | None) -> SourceFile | None:
        if path is None or self.snapshot is None or not scannable(path, self.policy_folders):
            return None
        data = self.snapshot.read(path)
        if data is None:
            return None
        file = SourceFile(path, data, self.snapshot.blob_id(path))
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
                       "`cogni: allow` directives suppress nothing", path) for path in sorted(self.unread_directives)]
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


#: at least this many files to judge before the work is shared among processes (below it, the
#: cost of starting them outweighs what they save)
PARALLEL_MIN = 400


@dataclass
class _Judging:
    """What judging some of a run's file pairs found: one per process, merged at the end."""

    runs: list[_GateRun]
    sups: _Suppressions
    head: _Reader
    base: _Reader
    accepted: dict[str, Counter]
    cache: dict | None
    collect_removed: bool
    matched: Counter = field(default_factory=Counter)  # baseline keys matched by head findings
    scope: set[str] = field(default_factory=set)
    removed: list[Violation] = field(default_factory=list)
    unselected: list[str] = field(default_factory=list)  # code files no gate selects

    def judge(self, pair: FilePair) -> None:
        self.scope.update(p for p in (pair.path, pair.old_path) if p)
        judging = [(run, run.selects(pair.path), run.selects(pair.old_path)) for run in self.runs]
        if not any(at_head or at_base for _, at_head, at_base in judging):
            if pair.path and is_code(pair.path) and scannable(pair.path, self.head.policy_folders):
                self.unselected.append(pair.path)  # code no gate judges: said, never silent
            return  # no gate judges this file: not even read
        head = self.head.read(pair.path) if any(at_head for _, at_head, _ in judging) else None
        base = self.base.read(pair.old_path) if any(at_base for _, _, at_base in judging) else None
        head_sups, base_sups = _suppressions(head, self.cache), _suppressions(base, self.cache)
        used: set[Suppression] = set()
        for run, at_head, at_base in judging:
            run.selected += at_head
            found_head, found_base = run.scan(head) if at_head else [], run.scan(base) if at_base else []
            if not found_head and not found_base:
                continue  # most files: nothing to count, set aside or compare
            after, covered = self.sups.split(found_head, head_sups)
            before, covered_before = self.sups.split(found_base, base_sups)
            used.update(covered.values())
            new = _new_findings(after, before, pair)
            allowed = self.accepted.get(pair.path)
            if allowed:
                self.matched.update({k: min(n, allowed[k]) for k, n in Counter(v.key for v in after).items() if allowed[k]})
                kept = _new_findings(after, before, pair, allowed)
                run.baselined += len(new) - len(kept)
                new = kept
            run.found.extend(new)
            if self.collect_removed:
                self.removed.extend(_gone(after, before, pair))
            set_aside = _new_findings(list(covered), list(covered_before), pair)
            self.sups.listed.update(covered[v] for v in set_aside)
            self.sups.suppressed.extend(Suppressed(v, covered[v]) for v in set_aside)
        if head_sups:  # only the head's suppressions can be introduced
            self.sups.judge(pair, head_sups, base_sups, used)
        self.head.after(head)

    def partial(self) -> dict:
        """What a worker process sends back (everything it found, and nothing it was handed)."""
        runs = [{name: getattr(r, name) for name in _GateRun.TALLIES} for r in self.runs]
        return {"runs": runs, "listed": self.sups.listed, "invalid": self.sups.invalid, "stale": self.sups.stale,
                "suppressed": self.sups.suppressed,
                "binary": self.head.binary, "fallbacks": self.head.fallbacks, "skipped": self.head.snapshot.skipped,
                "unread": self.head.unread_directives,
                "matched": self.matched, "scope": self.scope, "removed": self.removed, "unselected": self.unselected}

    def merge(self, part: dict) -> None:
        for run, tallies in zip(self.runs, part["runs"]):
            run.add(tallies)
        self.sups.listed |= part["listed"]
        self.sups.invalid += part["invalid"]
        self.sups.stale += part["stale"]
        self.sups.suppressed += part["suppressed"]
        self.head.binary += part["binary"]
        self.head.fallbacks.update(part["fallbacks"])
        self.head.unread_directives += part["unread"]
        self.head.snapshot.skipped.update(part["skipped"])
        self.matched.update(part["matched"])
        self.scope |= part["scope"]
        self.removed += part["removed"]
        self.unselected += part["unselected"]


def run(gates: list[ResolvedGate], sides: Sides, *, baseline: Baseline | None = None,
        fail_on_error: bool = False, policy: str = "", cache: dict | None = None,
        removed: list[Violation] | None = None, workers: int | None = None) -> Report:
    """Judge `sides` with `gates`: the findings at head beyond the base's and the baseline's.

    `cache` (kept by the caller for one policy) remembers what each gate found in each blob, so a
    blob is never judged twice; `removed`, when given, collects the base's findings the head no
    longer has (under the head's path when a file moved). A large run is shared among `workers`
    processes (default: one per core), each judging a slice of the files."""
    def judging() -> _Judging:
        runs = [_GateRun(g, cache) for g in gates if g.plugin and g.plugin.is_file_gate]
        return _Judging(runs, _Suppressions({g.type for g in gates} | {g.id for g in gates}),
                        _Reader(sides.head, sides.policy_folders), _Reader(sides.base, sides.policy_folders),
                        baseline.by_path() if baseline is not None else {}, cache, removed is not None)

    state = judging()
    pairs = list(sides.pairs)
    count = workers if workers is not None else (os.cpu_count() or 1)
    if count > 1 and len(pairs) >= PARALLEL_MIN and cache is None and parallel.available():
        for part in parallel.share(pairs, count, lambda chunk: _judge_all(judging(), chunk)):
            state.merge(part)
    else:
        for pair in pairs:
            state.judge(pair)
    return _report(gates, sides, state, baseline, fail_on_error, policy, removed)


def _judge_all(state: _Judging, pairs: list[FilePair]) -> dict:
    for pair in pairs:
        state.judge(pair)
    return state.partial()


def _report(gates: list[ResolvedGate], sides: Sides, state: _Judging, baseline: Baseline | None,
            fail_on_error: bool, policy: str, removed: list[Violation] | None) -> Report:
    runs, sups = state.runs, state.sups
    if removed is not None:
        removed.extend(state.removed)
    layout = sides.layout or Layout.of(sides.head)
    results = [r.result(layout if not r.selected and not layout.judged_by(r.gate) else None) for r in runs]
    results.append(_suppression_result(sups, stale_fails=sides.change is not None))
    results += [_change_gate(g, sides.change) for g in gates if not (g.plugin and g.plugin.is_file_gate)]
    notes = state.head.notes() + [note for r in runs for note in r.notes()]
    if runs:
        notes += [Note(NoteKind.NOT_SELECTED, "code no gate judges: outside every gate's `paths` (or excluded)", path)
                  for path in sorted(state.unselected)]
    if sides.change is None:
        notes += [Note(NoteKind.STALE_SUPPRESSION, f"suppression of {s.gate} suppresses nothing; remove it", s.path)
                  for s in sorted(sups.stale, key=lambda s: s.location)]
    if baseline is not None:
        accepted_now = sum(r.baselined for r in runs)
        if accepted_now:
            notes.append(Note(NoteKind.BASELINE, f"the baseline accepted {accepted_now} existing finding(s); "
                              "they are not reported", BASELINE_PATH))
        notes += _stale_baseline(baseline, state.matched, None if sides.change is None else state.scope)
    return Report(sides.mode, tuple(_in_spec_order(results, gates)), notes=tuple(notes), fail_on_error=fail_on_error,
                  suppressions=tuple(sorted(sups.listed, key=lambda s: s.location)), policy=policy,
                  suppressed=tuple(sorted(sups.suppressed, key=lambda s: s.violation.sort_key())))


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
    if not after:
        return []
    counts = Counter(v.key._replace(path=pair.path or "") for v in before)
    for key, allowed in (accepted or {}).items():
        counts[key] = max(counts[key], allowed)
    added = pair.added_lines
    ranked = sorted(after, key=lambda v: (added is not None and v.line in added, v.line, v.column))
    return sorted(introduced(ranked, counts, key=lambda v: v.key), key=Violation.sort_key)


def _suppressions(file: SourceFile | None, cache: dict | None) -> tuple[Suppression, ...]:
    if file is None or cache is None or file.blob is None:
        return suppressions.find(file)
    key = (SUPPRESSIONS, file.path, file.blob)
    if key not in cache:
        cache[key] = suppressions.find(file)
    return cache[key]


def _gone(after: list[Violation], before: list[Violation], pair: FilePair) -> list[Violation]:
    """Base findings beyond the head's count for the same content key (keyed under the head's
    path when the file moved; under its old path when it was deleted)."""
    if not before:
        return []
    path = pair.path or pair.old_path or ""
    moved = [replace(v, location=Location(path, v.line, v.column)) for v in before]
    return introduced(moved, Counter(v.key for v in after), key=lambda v: v.key)


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
        return replace(result, id=gate.id, type=gate.type, spec=gate.spec)
    if change is None:
        result = GateResult.neutral(NeutralReason.NO_CHANGE, "judges a change as a whole; an audit has none")
        return replace(result, id=gate.id, type=gate.type, description=gate.description, spec=gate.spec)
    started = time.perf_counter()
    try:
        result = gate.plugin.judge(change.within(gate.folder), gate.options)
        if not isinstance(result, GateResult):
            raise TypeError(f"judge returned {type(result).__name__}, not a GateResult")
        violations = tuple(replace(v, gate_id=gate.id, gate_type=gate.type) for v in result.violations)
        result = replace(result, violations=violations)
    except Exception as e:  # a plugin crashing is data, not an abort
        result = GateResult.neutral(NeutralReason.INTERNAL_ERROR, error=f"{type(e).__name__}: {e}")
    return replace(result, id=gate.id, type=gate.type, description=gate.description, spec=gate.spec,
                   duration_ms=round((time.perf_counter() - started) * 1000))


def _in_spec_order(results: list[GateResult], gates: list[ResolvedGate]) -> list[GateResult]:
    order = {g.id: i for i, g in enumerate(gates)}
    results = sorted(results, key=lambda r: order.get(r.id, len(order)))
    return [r for r in results if r.id != SUPPRESSIONS or r.violations]  # shown only when it has something to say
