"""Where a run happens: the repository, the policy it enforces, and what is judged.

Each command is one path: open the repository, decide the `Policy` (see `policy`), turn what is
judged into `engine.Sides` (a snapshot for an audit, a change for a check), run the engine, and,
for a check that touches the policy, add the governance-change entry.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterator

from cogni_review import baseline, catalog, config, diff, engine, policy, vote
from cogni_review.errors import ConfigError, GitError
from cogni_review.git import Repository, Revision, Snapshot, WorkTree
from cogni_review.model import FAIL, Note, NoteKind, Report
from cogni_review.policy import Policy, SpecLocation


@dataclass(frozen=True)
class PullRequest:
    """What a check knows of the pull request it judges, beyond its commits: the title and body
    (evidence for `ai-rule`), and the number and repository (for the vote-to-merge link)."""

    title: str = ""
    body: str = ""
    number: int | None = None
    repo_url: str = ""


@dataclass(frozen=True)
class Workspace:
    root: Path
    repo: Repository | None
    spec: SpecLocation

    @classmethod
    def open(cls, repo_dir: str, spec: str | None) -> Workspace:
        start = Path(repo_dir)
        if not start.is_dir():
            raise ConfigError(f"{repo_dir}: no such directory")
        repo = Repository.open(start)
        root = repo.root if repo else start.resolve()
        # never resolve the spec itself: a symlink committed in its place must not move the policy
        path = Path(os.path.abspath(spec)) if spec else root / config.DEFAULT_SPEC
        return cls(root, repo, SpecLocation(path, _inside(root, path), spec is not None))

    def gates(self, chosen: Policy) -> list[catalog.ResolvedGate]:
        """Every gate of the policy: the root spec's and each nested spec's, scoped."""
        return catalog.resolve_all(chosen.specs, catalog.builtins())

    def snapshot(self) -> Snapshot:
        """The working tree: git's files (tracked and untracked, not ignored), or every file."""
        return self.repo.worktree() if self.repo else WorkTree.walk(self.root)

    def current_policy(self) -> Policy:
        """The policy an audit of the working tree enforces."""
        with self._git():
            return policy.for_audit(self.spec, self.snapshot(), committed=False)

    def audit(self, rev: str | None = None, *, use_baseline: bool = True) -> Report:
        """Every finding in the working tree (or the committed revision `rev`)."""
        with self._git():
            if rev is None:
                snapshot = self.snapshot()
            else:
                snapshot = self._repo().revision(rev)
            chosen = policy.for_audit(self.spec, snapshot, committed=rev is not None)
            if not use_baseline:
                chosen = replace(chosen, baseline=None)
            return self._run(chosen, engine.Sides.of_snapshot(snapshot))

    def write_baseline(self) -> tuple[Path, int]:
        """Accept every current finding: write `.cogni/baseline.json`; returns (path, entries)."""
        report = self.audit(use_baseline=False)
        found = [v for g in report.gates if g.type != engine.SUPPRESSIONS for v in g.violations]
        path = self.root / baseline.DEFAULT_PATH
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(baseline.render(found), encoding="utf-8")
        return path, len(found)

    def check(self, base: str, head: str | None = None, *, two_dot: bool = False, fetch: bool = False,
              pull_request: PullRequest = PullRequest()) -> Report:
        """What `head` adds since its merge base with `base` (or since `base`, with two_dot),
        judged by the policy of `base` itself: a rule that landed after the branch point applies.
        With `fetch`, a base the clone does not have is fetched from origin first."""
        repo = self._repo()
        with self._git():
            head_commit = repo.resolve(head or "HEAD")
            policy_commit = self._fetched(base) if fetch else repo.resolve(base)
            since = policy_commit if two_dot else repo.merge_base(policy_commit, head_commit)
            since_snap, head_snap = repo.revision(since), repo.revision(head_commit)
            policy_snap = since_snap if since == policy_commit else repo.revision(policy_commit)
            change = diff.between(repo, since, head_commit, since_snap, head_snap)
            change = replace(change, policy=policy_snap, title=pull_request.title, body=pull_request.body)
            return self._judge(change, policy_snap, (since, head_commit), pull_request)

    def _fetched(self, rev: str) -> str:
        """`rev`, fetched from origin if the clone does not have it; a GitError saying why not."""
        repo = self._repo()
        try:
            return repo.resolve(rev)
        except GitError:
            pass
        try:
            repo.fetch(rev)
        except GitError as e:
            raise GitError(f"the base {rev} is not in this clone and origin would not give it ({e}); it was "
                           "probably force-pushed away: judge the push against the default branch instead "
                           "(`--base origin/<default branch>`)") from None
        return repo.resolve(rev)

    def check_pushed(self, from_ref: str | None, to_ref: str | None) -> Report:
        """What a push sends, as a pre-push hook sees it (pre-commit passes the range as
        PRE_COMMIT_FROM_REF..PRE_COMMIT_TO_REF). Without a range (the manual stage, or a first
        push with no history on the remote) the committed HEAD is audited: never the working
        tree, whose untracked files are not being pushed."""
        if from_ref and to_ref and from_ref.strip("0") and to_ref.strip("0"):
            return self.check(from_ref, to_ref)
        return self.audit(rev=to_ref if to_ref and to_ref.strip("0") else "HEAD")

    def check_staged(self) -> Report:
        """What the index adds to HEAD (a commit about to be made)."""
        repo = self._repo()
        with self._git():
            if repo.has_head():
                base_rev, base_snap = "HEAD", repo.revision("HEAD")
            else:
                base_rev, base_snap = repo.empty_tree(), Revision(repo, "empty tree", {})
            change = diff.between(repo, base_rev, None, base_snap, repo.index())
            return self._judge(change, base_snap, (base_rev, None))

    def _judge(self, change: diff.Change, policy_snap: Snapshot, revs: tuple[str, str | None],
               pull_request: PullRequest = PullRequest()) -> Report:
        """Judge `change` by the policy read from `policy_snap`; report any edit of the policy."""
        chosen = policy.for_change(self.spec, policy_snap, change.head, self.gates)
        report = self._run(chosen, engine.Sides.of_change(change))
        if change.renames_given_up:
            report = replace(report, notes=report.notes + (Note(
                NoteKind.NOT_JUDGED, f"more than {diff.RENAME_LIMIT:,} files moved: git paired only the files moved "
                "unchanged, so a file moved and edited is judged as new, its old findings with it"),))
        paths = policy.touched(change, chosen)
        if paths:
            governance = policy.change_result(change=change, paths=paths, policy=chosen,
                                              policy_diff=diff.text(self._repo(), *revs, paths))
            report = replace(report, gates=report.gates + (governance,))
        return _with_vote_link(report, chosen, pull_request)

    def _run(self, chosen: Policy, sides: engine.Sides) -> Report:
        spec = chosen.spec.spec
        gates = self.gates(chosen)
        sides = replace(sides, policy_folders=chosen.folders)
        report = engine.run(gates, sides, baseline=chosen.baseline, fail_on_error=spec.fail_on_error,
                            policy=chosen.source)
        return replace(report, notes=chosen.notes + policy.activation_notes(gates) + report.notes)

    @contextmanager
    def _git(self) -> Iterator[None]:
        """The repository's blob reader lives for one command and is closed after it."""
        if self.repo is None:
            yield
            return
        with self.repo.reading():
            yield

    def _repo(self) -> Repository:
        if self.repo is None:
            raise GitError(f"{self.root}: not a git repository; `check` needs one (use `audit` for a plain folder)")
        return self.repo


def _with_vote_link(report: Report, chosen: Policy, pull_request: PullRequest) -> Report:
    """A failing check of a pull request whose spec declares its DAO links to a vote to merge it
    anyway; when the DAO's block cannot make a link, a note says why."""
    if report.status != FAIL or pull_request.number is None or not pull_request.repo_url:
        return report
    url, problem = vote.merge_link(chosen.spec.spec, pull_request.repo_url, pull_request.number)
    if problem:
        note = Note(NoteKind.VOTE_LINK, f"no vote-to-merge link: {problem} ({chosen.spec.document.source})")
        return replace(report, notes=report.notes + (note,))
    return replace(report, vote_url=url)


def _inside(root: Path, spec: Path) -> str | None:
    """The spec's repo-relative path, when it lives inside the repository.

    Folders on the way may be links (a temporary folder often is), so a path outside the root
    as written is tried again with its folder resolved; the file itself is never resolved.
    """
    for candidate in (spec, Path(os.path.realpath(spec.parent)) / spec.name):
        try:
            return candidate.relative_to(root).as_posix()
        except ValueError:
            continue
    return None
