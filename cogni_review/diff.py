"""A change between two snapshots, and the only home of unidiff.

Which files changed and how (added, modified, deleted, renamed, copied) comes from git's
rename-aware name-status, which is exact for any file name; unidiff reads the hunks of each
file's block for the added line numbers; the diff's size is measured from the unified diff's bytes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cogni_review.errors import GitError
from cogni_review.git import Repository, Snapshot

ADDED, MODIFIED, DELETED, RENAMED, COPIED, TYPE_CHANGED = "added", "modified", "deleted", "renamed", "copied", "type-changed"
#: the change's own `.gitattributes` must not shrink what is measured or shown (`* -diff`,
#: textconv filters): every file is diffed as text, as itself, with the `a/` and `b/` prefixes
#: the names are read with, whatever `diff.noprefix` or `diff.mnemonicPrefix` say
TEXT_DIFF = ("-M", "--text", "--no-textconv", "--no-color", "--no-ext-diff", "--src-prefix=a/", "--dst-prefix=b/")
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
    """target path -> (added line numbers, lines added, lines removed), for every file of any name.

    The patch is cut into one block per file at its `diff --git` lines (a name with a line break
    in it is quoted, so it cannot start a line). Each block's name comes from its own `---` and
    `+++` lines, one path each, unquoted as git quotes them; unidiff reads its hunks.
    """
    out = {}
    for block in _BLOCK.split(patch)[1:]:
        source, target, body = _names(block)
        if body:
            out[target if target is not None else source] = _counts(body)
    return out


_BLOCK = re.compile(rb"^diff --git [^\n]*\n", re.MULTILINE)
_HEADER = re.compile(rb"^--- (?P<source>[^\n]*)\n\+\+\+ (?P<target>[^\n]*)\n", re.MULTILINE)


def _names(block: bytes) -> tuple[str | None, str | None, bytes]:
    """(old path, new path, the block from its `---` line) of one file's block; no body when the
    change has no hunks (a mode change, a pure rename, an empty file)."""
    header = _HEADER.search(block)
    if header is None or not block[header.end():].startswith(b"@@"):
        return None, None, b""
    return _path(header.group("source")), _path(header.group("target")), block[header.start():]


def _path(name: bytes) -> str | None:
    """A `---`/`+++` name as a repository path: unquoted, its `a/` or `b/` prefix and the tab git
    adds after a name with a space taken off; None for /dev/null."""
    if name.endswith(b"\t"):  # a tab inside a name is always quoted, so this one is git's
        name = name[:-1]
    if name == b"/dev/null":
        return None
    if name.startswith(b'"') and name.endswith(b'"') and len(name) > 1:
        name = _unquote(name[1:-1])
    return name[2:].decode("utf-8", "surrogateescape")


_ESCAPES = {ord("a"): 7, ord("b"): 8, ord("t"): 9, ord("n"): 10, ord("v"): 11, ord("f"): 12, ord("r"): 13,
            ord('"'): 34, ord("\\"): 92}


def _unquote(quoted: bytes) -> bytes:
    """The bytes of a C-style quoted name as git writes it (`\\t`, `\\"`, `\\303\\251`)."""
    out, i = bytearray(), 0
    while i < len(quoted):
        c = quoted[i]
        if c != 92 or i + 1 >= len(quoted):
            out.append(c)
            i += 1
        elif quoted[i + 1 : i + 4].isdigit() and len(quoted[i + 1 : i + 4]) == 3:
            out.append(int(quoted[i + 1 : i + 4], 8) & 0xFF)
            i += 4
        else:
            out.append(_ESCAPES.get(quoted[i + 1], quoted[i + 1]))
            i += 2
    return bytes(out)


def _counts(body: bytes) -> tuple[frozenset[int], int, int]:
    from unidiff import PatchSet
    from unidiff.errors import UnidiffParseError

    try:
        (patched,) = PatchSet(body.decode("utf-8", errors="replace"))
    except (UnidiffParseError, ValueError) as e:
        raise GitError(f"cannot read git's diff: {e}") from None
    added = frozenset(line.target_line_no for hunk in patched for line in hunk if line.is_added)
    return added, patched.added, patched.removed


def _with_hunks(change: FileChange, hunks: dict) -> FileChange:
    added, plus, minus = hunks.get(change.path or change.old_path, (frozenset(), 0, 0))
    return FileChange(change.status, change.path, change.old_path, added, plus, minus)


def text(repo: Repository, base: str, head: str | None, paths: list[str], limit: int = 20_000) -> str:
    """The unified diff of `paths` alone (the policy files a change touches), cut at `limit` characters."""
    cached = ["--cached"] if head is None else []
    revs = [base] if head is None else [base, head]
    out = repo.run("diff", *cached, *TEXT_DIFF, *revs, "--", *paths)
    return out if len(out) <= limit else out[:limit] + f"\n... ({len(out) - limit} more characters)\n"
