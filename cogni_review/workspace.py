"""Where a run happens: the repository, where its policy is read from, and what is judged.

The policy of a check is the base revision's spec, so a change cannot weaken its own gate; the
change's own spec is still validated, and a change to anything under `.cogni/` is reported.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

from cogni_review import baseline, catalog, config, diff, engine
from cogni_review.baseline import Baseline
from cogni_review.config import LoadedSpec
from cogni_review.errors import ConfigError, GitError
from cogni_review.git import Repository, Revision, WorkTree
from cogni_review.globs import matches_any
from cogni_review.model import FAIL, NEUTRAL, GateResult, Location, Note, Report, Violation


POLICY_PATHS = (".cogni/**",)


@dataclass(frozen=True)
class Workspace:
    root: Path
    repo: Repository | None
    spec_path: Path  # absolute
    spec_explicit: bool

    @classmethod
    def open(cls, repo_dir: str, spec: str | None) -> Workspace:
        start = Path(repo_dir)
        if not start.is_dir():
            raise ConfigError(f"{repo_dir}: no such directory")
        repo = Repository.open(start)
        root = repo.root if repo else start.resolve()
        # never resolve the spec itself: a symlink committed in its place must not move the policy
        spec_path = Path(os.path.abspath(spec)) if spec else root / config.DEFAULT_SPEC
        return cls(root, repo, spec_path, spec is not None)

    @property
    def spec_in_repo(self) -> str | None:
        """The spec's repo-relative path, when it lives inside the repository.

        Folders on the way may be links (a temporary folder often is), so a path outside the root
        as written is tried again with its folder resolved; the file itself is never resolved.
        """
        for candidate in (self.spec_path, Path(os.path.realpath(self.spec_path.parent)) / self.spec_path.name):
            try:
                return candidate.relative_to(self.root).as_posix()
            except ValueError:
                continue
        return None

    def gates(self, loaded: LoadedSpec) -> list[catalog.ResolvedGate]:
        return catalog.resolve(loaded, catalog.discover(*catalog.builtin_dirs()))

    def audit(self, rev: str | None = None, *, use_baseline: bool = True) -> Report:
        notes: list[Note] = []
        if rev is None:
            loaded = config.load(self.spec_path)
            snapshot = self.repo.worktree() if self.repo else WorkTree.walk(self.root)
        else:
            snapshot = self._repo().revision(rev)
            loaded = None if self.spec_explicit else self._spec_at(snapshot, required=not self.spec_path.is_file())
            if loaded is None and not self.spec_explicit:
                notes.append(Note("spec-source", f"{rev} has no spec; the working tree's was enforced",
                                  self.spec_in_repo or ""))
            loaded = loaded or config.load(self.spec_path)
        accepted = _baseline_at(snapshot) if use_baseline else None
        report = engine.audit(self.gates(loaded), snapshot, fail_on_error=loaded.spec.fail_on_error, baseline=accepted)
        return replace(report, notes=tuple(notes) + report.notes)

    def write_baseline(self) -> tuple[Path, int]:
        """Accept every current finding: write `.cogni/baseline.json`; returns (path, entries)."""
        report = self.audit(use_baseline=False)
        found = [v for g in report.gates if g.type != engine.SUPPRESSIONS for v in g.violations]
        path = self.root / baseline.DEFAULT_PATH
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(baseline.render(found), encoding="utf-8")
        return path, len(found)

    def check(self, base: str, head: str | None = None, *, two_dot: bool = False) -> Report:
        """What `head` adds since its merge base with `base` (or since `base`, with two_dot),
        judged by the policy of `base` itself: a rule that landed after the branch point applies."""
        repo = self._repo()
        head_commit = repo.resolve(head or "HEAD")
        policy_commit = repo.resolve(base)
        since = policy_commit if two_dot else repo.merge_base(policy_commit, head_commit)
        since_snap, head_snap = repo.revision(since), repo.revision(head_commit)
        policy_snap = since_snap if since == policy_commit else repo.revision(policy_commit)
        change = diff.between(repo, since, head_commit, since_snap, head_snap)
        return self._judge(change, policy_snap, head_snap, (since, head_commit))

    def check_staged(self) -> Report:
        repo = self._repo()
        base_snap = repo.revision("HEAD") if repo.has_head() else Revision(repo, "empty tree", {})
        head_snap = repo.index()
        base_rev = "HEAD" if repo.has_head() else _empty_tree(repo)
        change = diff.between(repo, base_rev, None, base_snap, head_snap)
        return self._judge(change, base_snap, head_snap, (base_rev, None))

    def _judge(self, change: diff.Change, base_snap, head_snap, revs: tuple[str, str | None]) -> Report:
        """`base_snap` is where the policy (spec and baseline) is read from."""
        notes: list[Note] = []
        policy, enforced = self._policy(base_snap, head_snap, notes)
        gates = self.gates(policy)
        report = engine.check(gates, change, fail_on_error=policy.spec.fail_on_error, baseline=_baseline_at(base_snap))
        touched = _policy_paths(change, policy.spec.governance_paths)
        if touched:
            governance = _governance_result(change, touched, policy, diff.text(self._repo(), *revs, touched), enforced)
            report = replace(report, gates=report.gates + (governance,))
        return replace(report, notes=tuple(notes) + report.notes)

    def _policy(self, base_snap, head_snap, notes: list[Note]) -> tuple[LoadedSpec, str]:
        """The base's spec, and which policy that is. The head's spec is validated too; it is
        enforced only when the base has none, and the working tree's only when neither has one."""
        rel = self.spec_in_repo
        if rel is None:  # a spec outside the repository is the caller's explicit choice
            return config.load(self.spec_path), f"the spec {self.spec_path}"
        head = self._spec_at(head_snap, required=False)
        base = self._spec_at(base_snap, required=False)
        if head is not None:
            self.gates(head)  # validates the change's own gate options
        if base is not None:
            return base, "the base revision's policy"
        if head is not None:
            notes.append(Note("governance-change", "the base has no spec; the change's own spec was enforced", rel))
            return head, "the change's own spec (the base has none)"
        if self.spec_path.is_file():
            notes.append(Note("spec-source", "neither revision has a spec; the working tree's was enforced", rel))
            return config.load(self.spec_path), "the working tree's spec"
        raise ConfigError(f"{rel}: no spec in {base_snap.label}, {head_snap.label} or the working tree. "
                          "Run `cogni-review init` to write one")

    def _spec_at(self, snapshot, required: bool = True) -> LoadedSpec | None:
        rel = self.spec_in_repo or config.DEFAULT_SPEC
        data = snapshot.read(rel)
        if data is None:
            if not required:
                return None
            raise ConfigError(f"{rel}: not found in {snapshot.label}. Run `cogni-review init` to write one")
        label = f"{rel} (at {snapshot.label[:12]})"
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as e:
            raise ConfigError(f"{label}: not UTF-8 text: {e}") from None
        return config.parse(text, label)

    def _repo(self) -> Repository:
        if self.repo is None:
            raise GitError(f"{self.root}: not a git repository; `check` needs one (use `audit` for a plain folder)")
        return self.repo


def _policy_paths(change: diff.Change, extra: tuple[str, ...] = ()) -> list[str]:
    """Policy paths (`.cogni/` and the spec's `governance_paths`) the change adds, edits, renames or deletes."""
    touched = {p for f in change.files for p in (f.path, f.old_path) if p}
    return sorted(p for p in touched if matches_any(POLICY_PATHS + tuple(extra), p))


def _governance_result(change: diff.Change, touched: list[str], policy: LoadedSpec, policy_diff: str,
                       enforced: str) -> GateResult:
    """The `governance-change` entry: every policy file the change touches, and the policy's diff."""
    status = {f.path or f.old_path: f.status for f in change.files}
    for f in change.files:
        if f.old_path and f.path != f.old_path:
            status.setdefault(f.old_path, f.status)
    found = tuple(
        Violation(Location(path, 1, 1), path, f"the change edits the policy ({status.get(path, 'modified')}); "
                  f"this check enforced {enforced}", "have someone who governs the policy review this part of the change",
                  path, "governance-change", "governance-change")
        for path in touched
    )
    fail = policy.spec.governance_change == "fail"
    return GateResult("governance-change", "governance-change", FAIL if fail else NEUTRAL, found,
                      None if fail else "policy_changed", {"diff": policy_diff, "files": len(touched)},
                      message=f"{len(touched)} policy file(s) changed; governance_change: {policy.spec.governance_change}",
                      description="A change to the policy itself: the spec, the baseline, local rules.")


def _baseline_at(snapshot) -> Baseline | None:
    data = snapshot.read(baseline.DEFAULT_PATH)
    if data is None:
        return None
    return Baseline.parse(data.decode("utf-8", errors="replace"), f"{baseline.DEFAULT_PATH} (at {snapshot.label[:12]})")


def _empty_tree(repo: Repository) -> str:
    """The id of the empty tree (what an unborn HEAD is compared against)."""
    return repo.run("hash-object", "-t", "tree", os.devnull).strip()
