"""`cogni-review history`: which commit introduced each finding, and which removed it.

The history is walked oldest first, first-parent by default, so each step is one merged pull
request. Each commit is judged exactly as `check` would judge it as a pull request: its change
against its first parent, with the parent's policy (spec, nested specs, baseline), the same
content keys and rename handling (a move introduces nothing). A finding introduced by one commit
is followed until a later commit removes it, or to HEAD.

One `git log` process streams every commit's changed files (with their blob ids) and patch; one
`cat-file` process reads blobs; the policy files are followed commit by commit rather than read
from each tree; and a blob is never judged twice under the same policy.
"""

from __future__ import annotations

import time
from collections import defaultdict, deque
from dataclasses import dataclass, field, replace
from typing import Iterator

from cogni_review import catalog, config, diff, engine, git, policy
from cogni_review.config import LoadedSpec
from cogni_review.errors import ConfigError
from cogni_review.git import Repository, Revision
from cogni_review.globs import matches_any
from cogni_review.model import ContentKey, Violation
from cogni_review.policy import Policy, SpecLocation

ZERO = "0" * 40


@dataclass(frozen=True)
class Commit:
    sha: str
    parents: tuple[str, ...]
    time: int  # author date, seconds since the epoch
    subject: str
    files: tuple[diff.FileChange, ...]
    blobs: dict[str, tuple[str, str]]  # path at head -> (mode, blob id); ZERO when absent
    old_blobs: dict[str, tuple[str, str]]  # path at the parent -> (mode, blob id)
    diff_bytes: int


@dataclass
class Introduction:
    """A finding a commit introduced, and what became of it."""

    commit: Commit
    violation: Violation
    removed_by: Commit | None = None
    order: int = 0  # the commit's place in the walk

    @property
    def present(self) -> bool:
        return self.removed_by is None


@dataclass
class HistoryReport:
    commits: int
    introductions: list[Introduction]
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def present(self) -> list[Introduction]:
        return [i for i in self.introductions if i.present]

    def exit_code(self) -> int:
        """1 when a finding some commit introduced is still present at HEAD."""
        return 1 if self.present else 0


class _Judged:
    """Stands in for the head's layout: a history judges only what each commit changed."""

    def judged_by(self, gate: object) -> bool:
        return True


def walk(repo: Repository, where: SpecLocation, *, since: str | None = None, every: bool = False,
         head: str = "HEAD") -> HistoryReport:
    """Judge each commit after `since` up to `head` (first-parent, or every commit with `every`)."""
    started = time.perf_counter()
    tip = repo.resolve(head)
    start = repo.resolve(since) if since else None
    live: dict[ContentKey, deque[Introduction]] = defaultdict(deque)
    found: list[Introduction] = []
    # commit -> its policy files, each read once: from the start, then followed commit by commit
    states: dict[str, dict[str, tuple[str, str]]] = {start: _policy_files(repo, start)} if start else {}
    judges: dict[tuple, tuple[Policy, list, dict]] = {}  # policy -> (policy, its file gates, its blob cache)
    notes: list[str] = []
    count = 0
    with repo.reading():
        for commit in _log(repo, tip, start, every):
            count += 1
            parent = commit.parents[0] if commit.parents else None
            before = states.get(parent) if parent else {}
            if before is None:  # a parent off the walk (a merged branch's, walking every commit)
                before = _policy_files(repo, parent)
            after = _apply(before, commit)
            key = _policy_key(where, before, after)
            if key not in judges:
                judges[key] = _judge_with(repo, where, before, after, commit, notes)
            removed: list[Violation] = []
            report = _judge(repo, *judges[key], commit, removed)
            _follow(live, commit, removed)
            for gate in report.gates:
                if gate.type in (engine.SUPPRESSIONS, policy.GOVERNANCE) or not gate.violations:
                    continue
                for v in gate.violations:
                    if not v.path:
                        continue  # a finding about the change as a whole (review-limits) introduces nothing
                    if every and len(commit.parents) > 1 and live.get(v.key):
                        continue  # walking every commit, a merge brings in what its branch introduced already
                    introduction = Introduction(commit, v, order=count)
                    found.append(introduction)
                    live[v.key].append(introduction)
            states[commit.sha] = after
    found.sort(key=lambda i: (i.order, i.violation.sort_key()))
    return HistoryReport(count, found, time.perf_counter() - started, notes)


def _judge_with(repo: Repository, where: SpecLocation, before: dict, after: dict, commit: Commit,
                notes: list[str]) -> tuple[Policy, list, dict]:
    """The policy a commit is judged by, its file gates (a history judges what each commit put in
    its files; a change gate such as ai-rule would judge the change only half seen), and a fresh
    blob cache. A past spec this tool cannot read is said, and the current spec stands in."""
    try:
        chosen = _policy(repo, where, before, after, commit)
        gates = catalog.resolve_all(chosen.specs, catalog.builtins())
    except ConfigError as e:
        notes.append(f"{commit.sha[:12]}: the policy it would be judged by cannot be read ({e}); "
                     "the current spec judged it")
        chosen = Policy(where.from_disk(), "the current spec (the commit's own could not be read)")
        gates = catalog.resolve_all(chosen.specs, catalog.builtins())
    return chosen, [g for g in gates if g.plugin and g.plugin.is_file_gate], {}


def _follow(live: dict[ContentKey, deque[Introduction]], commit: Commit, removed: list[Violation]) -> None:
    """Carry live findings across the commit's moves, and close those it removed."""
    for f in commit.files:
        if f.status == diff.RENAMED and f.old_path and f.path:
            for key in [k for k in live if k.path == f.old_path]:
                live[key._replace(path=f.path)].extend(live.pop(key))
    for v in removed:
        queue = live.get(v.key)
        if queue:
            queue.popleft().removed_by = commit


def _judge(repo: Repository, chosen: Policy, gates: list, cache: dict, commit: Commit, removed: list[Violation]):
    base = Revision(repo, (commit.parents[0] if commit.parents else "empty tree")[:12], dict(commit.old_blobs))
    head = Revision(repo, commit.sha[:12], dict(commit.blobs))
    change = diff.Change(base, head, commit.files, commit.diff_bytes)
    sides = replace(engine.Sides.of_change(change), layout=_Judged(), policy_folders=chosen.folders)
    return engine.run(gates, sides, baseline=chosen.baseline, fail_on_error=chosen.spec.spec.fail_on_error,
                      policy=chosen.source, cache=cache, removed=removed)


def _policy_key(where: SpecLocation, before: dict, after: dict) -> tuple:
    """What decides a commit's policy: the parent's policy files, or the commit's own when the
    parent has no spec (an explicit --spec decides for every commit)."""
    if where.explicit and where.in_repo is None:
        return ("explicit",)
    spec = where.in_repo or config.DEFAULT_SPEC
    return ("parent", tuple(sorted(before.items()))) if spec in before else ("own", tuple(sorted(after.items())))


def _policy(repo: Repository, where: SpecLocation, before: dict, after: dict, commit: Commit) -> Policy:
    """The parent's policy, as a pull request would have had it; the commit's own when the parent
    has no spec; the given (or current) spec for commits before any spec existed."""
    if where.explicit and where.in_repo is None:
        return Policy(where.from_disk(), f"the spec {where.path}")
    parent = Revision(repo, (commit.parents[0] if commit.parents else "empty tree")[:12], before)
    at_parent = where.at(parent)
    if at_parent is not None:
        return Policy(at_parent, "the parent's policy", policy._baseline_at(parent)).with_nested(parent)
    own = Revision(repo, commit.sha[:12], after)
    at_commit = where.at(own)
    if at_commit is not None:
        return Policy(at_commit, "the commit's own spec (its parent had none)", policy._baseline_at(parent)).with_nested(own)
    if not where.path.is_file():
        raise ConfigError(f"{where.in_repo or config.DEFAULT_SPEC}: no spec in the working tree to judge the commits "
                          "before the first spec with; pass --spec FILE")
    return Policy(where.from_disk(), "the current spec (no commit had one yet)")


def _policy_files(repo: Repository, rev: str) -> dict[str, tuple[str, str]]:
    entries = git._entries(repo.run("ls-tree", "-r", "-z", "--full-tree", rev), lambda meta: (meta[0], meta[2]))
    return {path: entry for path, entry in entries.items() if matches_any(policy.POLICY_PATHS, path)}


def _apply(files: dict[str, tuple[str, str]], commit: Commit) -> dict[str, tuple[str, str]]:
    """The policy files after the commit."""
    touched = [f for f in commit.files if any(p and matches_any(policy.POLICY_PATHS, p) for p in (f.path, f.old_path))]
    if not touched:
        return files
    after = dict(files)
    for f in touched:
        if f.old_path and f.old_path != f.path:
            after.pop(f.old_path, None)
        if f.path and matches_any(policy.POLICY_PATHS, f.path):
            after[f.path] = commit.blobs[f.path]
        elif f.path:
            after.pop(f.path, None)
    return after


# The log --------------------------------------------------------------------------------------

_HEADER = b"\x01"


def _log(repo: Repository, tip: str, start: str | None, every: bool) -> Iterator[Commit]:
    """Every commit in the range, oldest first, with its changed files, blobs and hunks."""
    walk_args = ["--topo-order"] if every else ["--first-parent"]
    rng = [f"{start}..{tip}"] if start else [tip]
    args = ["log", *walk_args, "--reverse", "--diff-merges=first-parent", "--format=%x01%H %P%x02%at%x02%s",
            "--raw", "--no-abbrev", "-p", *diff.TEXT_DIFF, *rng]
    with repo.stream(*args) as lines:
        header, raw, patch = None, [], None
        for line in lines:
            if line.startswith(_HEADER):
                if header is not None:
                    yield _commit(header, raw, patch)
                header, raw, patch = line[1:].rstrip(b"\n"), [], diff.Patch()
            elif header is None:
                continue
            elif patch.size or line.startswith(b"diff --git "):  # the patch, after the raw records
                patch.feed(line)
            elif line.startswith(b":"):
                raw.append(line.rstrip(b"\n"))
        if header is not None:
            yield _commit(header, raw, patch)


def _commit(header: bytes, raw: list[bytes], patch: diff.Patch) -> Commit:
    ids, stamp, subject = (header.split(b"\x02", 2) + [b"", b""])[:3]
    sha, *parents = ids.decode().split()
    hunks = patch.files()
    files, blobs, old_blobs = [], {}, {}
    for line in raw:
        meta, *names = line.split(b"\t")
        old_mode, new_mode, old_sha, new_sha, code = meta[1:].decode().split()
        paths = [_name(n) for n in names]
        status = diff._STATUS.get(code[0], diff.MODIFIED)
        old = paths[0] if status != diff.ADDED else None
        new = paths[-1] if status != diff.DELETED else None
        if status == diff.COPIED:
            old = None  # a copy has no "before": it is all new
        added, plus, minus, size, text = hunks.get(new or old, (diff.LineSet(), 0, 0, 0, ""))
        files.append(diff.FileChange(status, new, old, added, plus, minus, size, text))
        if new:
            blobs[new] = (new_mode, new_sha)
        if paths[0] and status != diff.ADDED:
            old_blobs[paths[0]] = (old_mode, old_sha)
    return Commit(sha, tuple(parents), int(stamp or 0), subject.decode("utf-8", "replace"), tuple(files),
                  blobs, old_blobs, patch.size)


def _name(raw: bytes) -> str:
    """A path as `git log --raw` writes it: C-quoted when it holds special characters."""
    if raw.startswith(b'"') and raw.endswith(b'"') and len(raw) > 1:
        raw = diff._unquote(raw[1:-1])
    return raw.decode("utf-8", "surrogateescape")
