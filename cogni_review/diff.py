"""A change between two snapshots, and the only home of unidiff.

Which files changed and how (added, modified, deleted, renamed, copied) comes from git's
rename-aware name-status, which is exact for any file name; unidiff reads the hunks for the
added line numbers; the diff's size is measured from the unified diff's bytes.
"""

from __future__ import annotations

from dataclasses import dataclass

from cogni_review.errors import GitError
from cogni_review.git import Repository, Snapshot

ADDED, MODIFIED, DELETED, RENAMED, COPIED, TYPE_CHANGED = "added", "modified", "deleted", "renamed", "copied", "type-changed"
#: the change's own `.gitattributes` must not shrink what is measured or shown (`* -diff`,
#: textconv filters): every file is diffed as text, as itself
TEXT_DIFF = ("-M", "--text", "--no-textconv", "--no-color", "--no-ext-diff")
_STATUS = {"A": ADDED, "M": MODIFIED, "D": DELETED, "R": RENAMED, "C": COPIED, "T": TYPE_CHANGED}


@dataclass(frozen=True)
class FileChange:
    status: str
    path: str | None  # after the change; None when deleted
    old_path: str | None  # before; None when added (a copy has no "before": it is all new)
    added_lines: frozenset[int] = frozenset()
    lines_added: int = 0
    lines_removed: int = 0


@dataclass(frozen=True)
class Change:
    base: Snapshot
    head: Snapshot
    files: tuple[FileChange, ...]
    diff_bytes: int

    @property
    def lines_changed(self) -> int:
        return sum(f.lines_added + f.lines_removed for f in self.files)


def between(repo: Repository, base: str, head: str | None, base_snap: Snapshot, head_snap: Snapshot) -> Change:
    """The change from `base` to `head` (a commit), or to the index when head is None."""
    revs = [base] if head is None else [base, head]
    cached = ["--cached"] if head is None else []
    statuses = _name_status(repo.run("diff", *cached, "-M", "-z", "--name-status", "--no-ext-diff", *revs))
    patch = repo.run("diff", *cached, *TEXT_DIFF, *revs, raw=True)
    hunks = _hunks(patch)
    files = tuple(_with_hunks(f, hunks) for f in statuses)
    return Change(base_snap, head_snap, files, len(patch))


def _name_status(out: str) -> list[FileChange]:
    fields = out.split("\0")
    files, i = [], 0
    while i < len(fields) and fields[i]:
        code = fields[i][0]
        status = _STATUS.get(code, MODIFIED)
        needed = 3 if code in "RC" else 2
        if i + needed > len(fields) or not all(fields[i + 1 : i + needed]):
            raise GitError(f"cannot read git's list of changed files near {fields[i]!r}")
        if code in "RC":
            old, new = fields[i + 1], fields[i + 2]
            i += 3
            files.append(FileChange(status, new, old if code == "R" else None))
            continue
        path = fields[i + 1]
        i += 2
        if status == ADDED:
            files.append(FileChange(status, path, None))
        elif status == DELETED:
            files.append(FileChange(status, None, path))
        else:
            files.append(FileChange(status, path, path))
    return files


def _hunks(patch: bytes) -> dict[str, tuple[frozenset[int], int, int]]:
    """target path -> (added line numbers, lines added, lines removed)."""
    from unidiff import PatchSet
    from unidiff.errors import UnidiffParseError

    try:
        patch_set = PatchSet(patch.decode("utf-8", errors="replace"))
    except UnidiffParseError as e:
        raise GitError(f"cannot read git's diff: {e}") from None
    out = {}
    for patched in patch_set:
        added = frozenset(
            line.target_line_no for hunk in patched for line in hunk if line.is_added
        )
        name = patched.source_file if patched.is_removed_file else patched.target_file
        out[_strip_prefix(name)] = (added, patched.added, patched.removed)
    return out


def _strip_prefix(name: str) -> str:
    name = name.strip('"')
    return name[2:] if name[:2] in ("a/", "b/") else name


def _with_hunks(change: FileChange, hunks: dict) -> FileChange:
    added, plus, minus = hunks.get(change.path or change.old_path, (frozenset(), 0, 0))
    return FileChange(change.status, change.path, change.old_path, added, plus, minus)


def text(repo: Repository, base: str, head: str | None, paths: list[str], limit: int = 20_000) -> str:
    """The unified diff of `paths` alone (the policy files a change touches), cut at `limit` characters."""
    cached = ["--cached"] if head is None else []
    revs = [base] if head is None else [base, head]
    out = repo.run("diff", *cached, *TEXT_DIFF, *revs, "--", *paths)
    return out if len(out) <= limit else out[:limit] + f"\n... ({len(out) - limit} more characters)\n"
