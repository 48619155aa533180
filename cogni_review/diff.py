"""A change between two snapshots: which files changed, and which of their lines are new.

Which files changed and how (added, modified, deleted, renamed, copied) comes from git's
rename-aware name-status, which is exact for any file name; the unified diff, streamed a line at a
time, gives each file's added line numbers (as ranges, so a huge new file costs little) and the
diff's exact size in bytes.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field, replace
from typing import Iterable, Iterator

from cogni_review.errors import GitError
from cogni_review.git import Repository, Snapshot

ADDED, MODIFIED, DELETED, RENAMED, COPIED, TYPE_CHANGED = "added", "modified", "deleted", "renamed", "copied", "type-changed"
#: the change's own `.gitattributes` must not shrink what is measured or shown (`* -diff`,
#: textconv filters): every file is diffed as text, as itself, with the `a/` and `b/` prefixes
#: the names are read with, whatever `diff.noprefix` or `diff.mnemonicPrefix` say;
#: renames are found in any restructuring up to RENAME_LIMIT files on a side (git's default, a
#: few hundred to a thousand, reported a large one as deletions and additions, and old findings
#: as new); past it git gives up on moved-and-edited files, and the change says so
RENAME_LIMIT = 10_000
RENAMES = ("-M", f"-l{RENAME_LIMIT}")
TEXT_DIFF = (*RENAMES, "--text", "--no-textconv", "--no-color", "--no-ext-diff", "--src-prefix=a/", "--dst-prefix=b/")
_STATUS = {"A": ADDED, "M": MODIFIED, "D": DELETED, "R": RENAMED, "C": COPIED, "T": TYPE_CHANGED}


class LineSet:
    """Line numbers as sorted ranges: what a huge added file needs is two integers, not millions.
    Compares equal to a set of the same numbers."""

    __slots__ = ("starts", "ends")

    def __init__(self, lines: Iterable[int] = ()) -> None:
        self.starts: list[int] = []
        self.ends: list[int] = []  # exclusive
        for n in sorted(set(lines)):
            self.add(n)

    def add(self, n: int) -> None:
        """Add `n`, which is not below any number added before."""
        if self.ends and self.ends[-1] == n:
            self.ends[-1] = n + 1
        elif not self.ends or n > self.ends[-1]:
            self.starts.append(n)
            self.ends.append(n + 1)

    def __contains__(self, n: object) -> bool:
        i = bisect.bisect_right(self.starts, n) - 1 if isinstance(n, int) else -1
        return i >= 0 and n < self.ends[i]

    def __iter__(self) -> Iterator[int]:
        for start, end in zip(self.starts, self.ends):
            yield from range(start, end)

    def __len__(self) -> int:
        return sum(end - start for start, end in zip(self.starts, self.ends))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, LineSet):
            return (self.starts, self.ends) == (other.starts, other.ends)
        if isinstance(other, (set, frozenset)):
            return len(self) == len(other) and all(n in self for n in other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash((tuple(self.starts), tuple(self.ends)))

    def __repr__(self) -> str:
        return "LineSet(" + ", ".join(f"{s}-{e - 1}" if e - s > 1 else str(s) for s, e in zip(self.starts, self.ends)) + ")"


@dataclass(frozen=True)
class FileChange:
    status: str
    path: str | None  # after the change; None when deleted
    old_path: str | None  # before; None when added (a copy has no "before": it is all new)
    added_lines: LineSet = field(default_factory=LineSet)
    lines_added: int = 0
    lines_removed: int = 0
    diff_bytes: int = 0  # the size of this file's part of the unified diff (0 when it has no hunks)
    patch: str = field(default="", repr=False, compare=False)  # its hunks as git wrote them, from `---` on (cut at PATCH_KEEP)


@dataclass(frozen=True)
class Change:
    """What a check judges: the files from `base` to `head`, with what the change says about itself
    (a pull request's title and body) and the revision whose policy is enforced (`policy_files`)."""

    base: Snapshot
    head: Snapshot
    files: tuple[FileChange, ...]
    diff_bytes: int
    policy: Snapshot | None = None  # the policy's revision when it is not `base` (a PR's base tip)
    renames_given_up: bool = False  # too many files moved for git to pair moved-and-edited ones
    title: str = ""
    body: str = ""

    @property
    def lines_changed(self) -> int:
        return sum(f.lines_added + f.lines_removed for f in self.files)

    def within(self, folder: str) -> Change:
        """The part of this change under `folder` (what a nested spec's change gates judge)."""
        if not folder:
            return self
        prefix = folder + "/"
        files = tuple(f for f in self.files if any(p and p.startswith(prefix) for p in (f.path, f.old_path)))
        return replace(self, files=files, diff_bytes=sum(f.diff_bytes for f in files))

    @property
    def policy_files(self) -> Snapshot:
        """The revision the spec was read from: a gate reads its rule files and workflows here, so a
        change cannot rewrite what judges it."""
        return self.base if self.policy is None else self.policy


def between(repo: Repository, base: str, head: str | None, base_snap: Snapshot, head_snap: Snapshot) -> Change:
    """The change from `base` to `head` (a commit), or to the index when head is None."""
    revs = [base] if head is None else [base, head]
    cached = ["--cached"] if head is None else []
    out, warnings = repo.run("diff", *cached, *RENAMES, "-z", "--name-status", "--no-ext-diff", *revs,
                            warnings=True)
    statuses = _name_status(out)
    with repo.stream("diff", *cached, *TEXT_DIFF, *revs) as lines:
        hunks, size = _hunks(lines)
    files = tuple(_with_hunks(f, hunks) for f in statuses)
    return Change(base_snap, head_snap, files, size, renames_given_up="rename detection was skipped" in warnings)


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


@dataclass
class _Block:
    """One file's part of a patch, read line by line."""

    size: int = 0
    source: str | None = None
    target: str | None = None
    added: LineSet = field(default_factory=lambda: LineSet())
    plus: int = 0
    minus: int = 0
    line: int = 0  # the head line the next context or added line is
    in_hunks: bool = False
    text: list[bytes] = field(default_factory=list)  # from its `---` line on, up to PATCH_KEEP bytes
    kept: int = 0

    def read(self, line: bytes) -> None:
        self.size += len(line)
        if line.startswith(b"--- ") or self.text:
            if self.kept < PATCH_KEEP:
                self.text.append(line)
            self.kept += len(line)
        if not self.in_hunks:
            if line.startswith(b"--- "):
                self.source = _path(line[4:].rstrip(b"\r\n"))
            elif line.startswith(b"+++ "):
                self.target = _path(line[4:].rstrip(b"\r\n"))
            elif line.startswith(b"@@"):
                self.in_hunks = True
                self.hunk(line)
            return
        first = line[:1]
        if first == b"+":
            self.added.add(self.line)
            self.line += 1
            self.plus += 1
        elif first == b"-":
            self.minus += 1
        elif first == b" ":
            self.line += 1
        elif first == b"@":
            self.hunk(line)

    def hunk(self, header: bytes) -> None:
        match = _HUNK.match(header)
        if match is None:
            raise GitError(f"cannot read git's diff: bad hunk header {header[:80]!r}")
        self.line = int(match.group(1))


#: what is kept of each file's patch text (for gates that read it, such as ai-rule's evidence); the
#: counts and added lines are always exact, whatever the size
PATCH_KEEP = 256 * 1024
_HUNK = re.compile(rb"@@ -\d+(?:,\d+)? \+(\d+)(?:,\d+)? @@")


def _hunks(lines: Iterable[bytes]) -> tuple[dict[str, tuple[LineSet, int, int, int, str]], int]:
    """(target path -> (added lines, lines added, lines removed, bytes of its diff), the patch's
    size) for every file of any name that has hunks, reading the patch a line at a time.

    The patch is one block per file, each opening with a `diff --git` line (a name with a line
    break in it is quoted, so it cannot start a line, and hunk lines start with a space, `+`, `-`
    or a backslash). A block's name comes from its own `---` and `+++` lines, one path each,
    unquoted as git quotes them. Memory stays flat whatever the size of the change.
    """
    patch = Patch()
    for line in lines:
        patch.feed(line)
    return patch.files(), patch.size


class Patch:
    """A unified diff read a line at a time (`feed`); `files()` gives each file's hunks."""

    def __init__(self) -> None:
        self.size = 0
        self.block: _Block | None = None
        self.done: dict[str, tuple[LineSet, int, int, int, str]] = {}

    def feed(self, line: bytes) -> None:
        self.size += len(line)
        if line.startswith(b"diff --git "):
            self._keep()
            self.block = _Block(size=len(line))
        elif self.block is not None:
            self.block.read(line)

    def files(self) -> dict[str, tuple[LineSet, int, int, int]]:
        self._keep()
        return self.done

    def _keep(self) -> None:
        block, self.block = self.block, None
        if block is not None and block.in_hunks:
            name = block.target if block.target is not None else block.source
            text = b"".join(block.text).decode("utf-8", "replace")
            if block.kept > PATCH_KEEP:
                text += f"\n... ({block.kept - PATCH_KEEP:,} more bytes of this file's diff not kept)\n"
            self.done[name] = (block.added, block.plus, block.minus, block.size, text)


def _path(name: bytes) -> str | None:
    """A `---`/`+++` name as a repository path: unquoted, its `a/` or `b/` prefix and the tab git
    adds after a name with a space taken off; None for /dev/null."""
    if name.endswith(b"\t"):  # a tab inside a name is always quoted, so this one is git's
        name = name[:-1]
    if name == b"/dev/null":
        return None
    if name.startswith(b'"') and name.endswith(b'"') and len(name) > 1:
        name = _unquote(name[1:-1])
    if not name.startswith((b"a/", b"b/")):  # the prefixes are pinned (TEXT_DIFF): anything else is not git's
        raise GitError(f"cannot read git's diff: unexpected file name {name[:80]!r}")
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


def _with_hunks(change: FileChange, hunks: dict) -> FileChange:
    added, plus, minus, size, patch = hunks.get(change.path or change.old_path, (LineSet(), 0, 0, 0, ""))
    return FileChange(change.status, change.path, change.old_path, added, plus, minus, size, patch)


def text(repo: Repository, base: str, head: str | None, paths: list[str], limit: int = 20_000) -> str:
    """The unified diff of `paths` alone (the policy files a change touches), cut at `limit` characters."""
    cached = ["--cached"] if head is None else []
    revs = [base] if head is None else [base, head]
    out = repo.run("diff", *cached, *TEXT_DIFF, *revs, "--", *paths)
    return out if len(out) <= limit else out[:limit] + f"\n... ({len(out) - limit} more characters)\n"
