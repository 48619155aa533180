"""Which policy a run enforces, decided in one place, and the report of a change to it.

The policy of a check is the base revision's spec (and baseline), so a change cannot weaken its
own gate; the change's own spec is still validated. An audit of a revision enforces that
revision's spec. `--spec FILE` overrides both. Where the obvious source has no spec, the
`Policy` says which one stood in and why.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

from cogni_review import baseline, catalog, config
from cogni_review.baseline import Baseline
from cogni_review.config import LoadedSpec, ScopedSpec
from cogni_review.diff import Change
from cogni_review.errors import ConfigError
from cogni_review.gate import TEST_PATHS
from cogni_review.git import Snapshot
from cogni_review.globs import matches_any, rebase
from cogni_review.model import FAIL, NEUTRAL, GateResult, Location, NeutralReason, Note, NoteKind, Violation

POLICY_PATHS = ("**/.cogni/**",)
GOVERNANCE = "governance-change"


@dataclass(frozen=True)
class Policy:
    """The spec a run enforces, where it came from, the nested specs below it, and the baseline."""

    spec: LoadedSpec  # the root spec
    source: str  # e.g. "the base revision's policy"
    baseline: Baseline | None = None
    notes: tuple[Note, ...] = ()  # why, when it is not the obvious source
    nested: tuple[ScopedSpec, ...] = ()  # specs below the root, outermost first

    @property
    def specs(self) -> tuple[ScopedSpec, ...]:
        return (ScopedSpec.root(self.spec),) + self.nested

    @property
    def folders(self) -> frozenset[str]:
        """The folders of the specs enforced ("" for the root): their `.cogni/` is the policy."""
        return frozenset(s.folder for s in self.specs)

    def with_nested(self, snapshot: Snapshot) -> Policy:
        """This policy with the nested specs `snapshot` holds (read from the same revision as the
        root spec, so a change cannot add or weaken its own), and a note for each registered node
        that has none."""
        nested, ignored = _nested(self.spec, snapshot)
        folders = {s.folder for s in nested}
        notes = tuple(Note(NoteKind.SPEC_SOURCE, f"nodes[{i}].path {folder} has no {config.DEFAULT_SPEC}; "
                           "the root spec governs it", config.DEFAULT_SPEC)
                      for i, folder in _registered(self.spec) if folder not in folders)
        notes += tuple(Note(NoteKind.SPEC_SOURCE, "a spec under a test path (a fixture) governs nothing; ignored",
                            f"{folder}/{config.DEFAULT_SPEC}") for folder in ignored)
        return replace(self, nested=nested, notes=self.notes + notes)


def _registered(root: LoadedSpec) -> list[tuple[int, str]]:
    """(index, folder) of each node the root spec's `nodes:` registry lists with a `path`."""
    nodes = getattr(root.spec, "nodes", None)
    if not isinstance(nodes, list):
        return []
    return [(i, str(n["path"]).strip("/")) for i, n in enumerate(nodes) if isinstance(n, dict) and n.get("path")]


def _nested(root: LoadedSpec, snapshot: Snapshot) -> tuple[tuple[ScopedSpec, ...], list[str]]:
    """Every spec below the root in `snapshot`, each inheriting from the nearest spec above it,
    and the folders of those ignored: specs under test paths (fixtures) govern nothing, nor do
    copies inside a `.cogni/` folder."""
    suffix = "/" + config.DEFAULT_SPEC
    folders = sorted((p[: -len(suffix)] for p in snapshot.paths() if p.endswith(suffix)),
                     key=lambda f: (f.count("/"), f))
    scoped, ignored = [ScopedSpec.root(root)], []
    for folder in folders:
        if ".cogni" in folder.split("/"):
            continue
        if matches_any(TEST_PATHS, folder + "/"):
            ignored.append(folder)
            continue
        data = snapshot.read(folder + suffix)
        if data is None:  # a link or a submodule: never followed
            continue
        parent = max((s for s in scoped if s.folder == "" or folder.startswith(s.folder + "/")),
                     key=lambda s: len(s.folder))
        scoped.append(parent.nest(folder, _parse(data, f"{folder}{suffix} (at {snapshot.label[:12]})")))
    return tuple(scoped[1:]), ignored


def _parse(data: bytes, label: str) -> LoadedSpec:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise ConfigError(f"{label}: not UTF-8 text: {e}") from None
    return config.parse(text, label)


@dataclass(frozen=True)
class SpecLocation:
    """Where the spec is: a file given on the command line, or a path inside the repository."""

    path: Path  # absolute, never resolved through a link
    in_repo: str | None  # repo-relative, when the spec lives inside the repository
    explicit: bool  # given with --spec

    def at(self, snapshot: Snapshot) -> LoadedSpec | None:
        """The spec as `snapshot` has it, or None when it has none."""
        rel = self.in_repo or config.DEFAULT_SPEC
        data = snapshot.read(rel)
        if data is None:
            return None
        return _parse(data, f"{rel} (at {snapshot.label[:12]})")

    def from_disk(self) -> LoadedSpec:
        return config.load(self.path)


def for_audit(where: SpecLocation, snapshot: Snapshot, committed: bool) -> Policy:
    """The policy of an audit: the working tree's spec, or a committed revision's own, with the
    nested specs of the snapshot audited (none under an explicit --spec)."""
    if where.explicit and where.in_repo is None:
        return Policy(where.from_disk(), f"the spec {where.path}", _baseline_at(snapshot))
    if not committed:
        return Policy(where.from_disk(), f"the spec {where.in_repo}", _baseline_at(snapshot)).with_nested(snapshot)
    loaded = where.at(snapshot)
    if loaded is not None:
        return Policy(loaded, f"the spec of {snapshot.label[:12]}", _baseline_at(snapshot)).with_nested(snapshot)
    if not where.path.is_file():
        raise ConfigError(f"{where.in_repo or config.DEFAULT_SPEC}: not found in {snapshot.label}. "
                          "Run `cogni-review init` to write one")
    note = Note(NoteKind.SPEC_SOURCE, f"{snapshot.label[:12]} has no spec; the working tree's was enforced",
                where.in_repo or "")
    return Policy(where.from_disk(), "the working tree's spec", _baseline_at(snapshot), (note,)).with_nested(snapshot)


def for_change(where: SpecLocation, base: Snapshot, head: Snapshot, validate: Callable[[Policy], object]) -> Policy:
    """The policy of a check: the base's specs (root and nested); the head's are validated
    (`validate`), and enforced only when the base has no root spec, the working tree's only when
    neither has one."""
    accepted = _baseline_at(base)
    if where.in_repo is None:  # a spec outside the repository is the caller's explicit choice
        return Policy(where.from_disk(), f"the spec {where.path}", accepted)
    rel = where.in_repo
    at_head, at_base = where.at(head), where.at(base)
    if at_head is not None or at_base is not None:
        validate(Policy(at_head or at_base, "the change's own specs").with_nested(head))
    if at_base is not None:
        return Policy(at_base, "the base revision's policy", accepted).with_nested(base)
    if at_head is not None:
        note = Note(NoteKind.GOVERNANCE_CHANGE, "the base has no spec; the change's own spec was enforced", rel)
        return Policy(at_head, "the change's own spec (the base has none)", accepted, (note,)).with_nested(head)
    if where.path.is_file():
        note = Note(NoteKind.SPEC_SOURCE, "neither revision has a spec; the working tree's was enforced", rel)
        return Policy(where.from_disk(), "the working tree's spec", accepted, (note,))
    raise ConfigError(f"{rel}: no spec in {base.label}, {head.label} or the working tree. "
                      "Run `cogni-review init` to write one")


def _baseline_at(snapshot: Snapshot) -> Baseline | None:
    data = snapshot.read(baseline.DEFAULT_PATH)
    if data is None:
        return None
    return Baseline.parse(data.decode("utf-8", errors="replace"), f"{baseline.DEFAULT_PATH} (at {snapshot.label[:12]})")


def touched(change: Change, policy: Policy) -> list[str]:
    """Policy paths (any `.cogni/` folder, and each spec's `governance_paths`, relative to its
    folder) the change adds, edits, renames or deletes."""
    paths = {p for f in change.files for p in (f.path, f.old_path) if p}
    patterns = POLICY_PATHS + tuple(rebase(g, s.folder) for s in policy.specs for g in s.loaded.spec.governance_paths)
    return sorted(p for p in paths if matches_any(patterns, p))


def _governance_setting(policy: Policy, paths: list[str]) -> str:
    """`fail` when the root spec says so, or a nested spec does for a path in its subtree."""
    for scoped in policy.specs:
        if scoped.loaded.spec.governance_change == "fail" and (
                not scoped.folder or any(p.startswith(scoped.folder + "/") for p in paths)):
            return "fail"
    return "warn"


def change_result(*, change: Change, paths: list[str], policy: Policy, policy_diff: str) -> GateResult:
    """The `governance-change` entry: every policy file the change touches, and the policy's diff."""
    status = {f.path or f.old_path: f.status for f in change.files}
    for f in change.files:
        if f.old_path and f.path != f.old_path:
            status.setdefault(f.old_path, f.status)
    found = tuple(
        Violation(Location(path, 1, 1), path,
                  f"the change edits the policy ({status.get(path, 'modified')}); this check enforced {policy.source}",
                  "have someone who governs the policy review this part of the change",
                  path, GOVERNANCE, GOVERNANCE)
        for path in paths
    )
    setting = _governance_setting(policy, paths)
    fail = setting == "fail"
    return GateResult(
        id=GOVERNANCE, type=GOVERNANCE, status=FAIL if fail else NEUTRAL, violations=found,
        neutral_reason=None if fail else NeutralReason.POLICY_CHANGED, stats={"files": len(paths)},
        message=f"{len(paths)} policy file(s) changed; governance_change: {setting}",
        description="A change to the policy itself: the spec, the baseline, local rules.",
        policy_diff=policy_diff,
    )


def activation_notes(gates: list) -> tuple[Note, ...]:
    """Why no DAO gate is on, and what to declare, when none of the gates that turn on from
    the spec's declarations is on."""
    if any(g.plugin is not None and g.plugin.activates is not None for g in gates):
        return ()
    needs = [f"{file.type} turns on {_first_line(file.plugin.activates).rstrip('.').lower()}"
             for file in catalog.builtins().values() if file.declares_activation]
    return (Note(NoteKind.ACTIVATION, "no DAO gate is on: " + "; ".join(needs) +
                 ". Declare what they protect in the spec, or list them under `gates:`", config.DEFAULT_SPEC),)


def _first_line(hook) -> str:
    doc = inspect.getdoc(hook) or ""
    return " ".join(doc.split("\n\n")[0].split(":")[0].split())
