"""Everything this tool asks of git.

A `Snapshot` is a set of files at one point in time: the working tree, a revision, or the
index. Reads are by path and return bytes; symlinks and submodules are never followed.

git is run directly (and one `git cat-file --batch` process serves every blob of a run): a
pre-commit hook has well under a second, and a git wrapper library's import alone would
cost a fifth of it.

Every command sees the history as committed: replace refs (`git replace`) and grafts
(`.git/info/grafts`, `GIT_GRAFT_FILE`) are switched off, so neither can swap the base's tree or
spec, nor move the merge base, behind the gate's back.
"""

from __future__ import annotations

import os
import stat
import subprocess
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Iterator, Protocol

from cogni_review.errors import GitError

GIT_OPTIONS = ("-c", "core.quotepath=false", "-c", "diff.suppressBlankEmpty=false")
SYMLINK_MODE = "120000"
GITLINK_MODE = "160000"


class Snapshot(Protocol):
    """A set of files at one point in time. `skipped` names the paths `read` declined (a symlink,
    a submodule, an unreadable file) and why; the engine reports them."""

    label: str
    skipped: dict[str, str]

    def paths(self) -> list[str]: ...

    def read(self, path: str) -> bytes | None: ...

    def blob_id(self, path: str) -> str | None:
        """git's object id of the file, when the snapshot knows it (a revision, the index)."""


def environment() -> dict[str, str]:
    """The environment every git command runs in: replace refs and grafts off."""
    return {**os.environ, "GIT_NO_REPLACE_OBJECTS": "1", "GIT_GRAFT_FILE": os.devnull}


def _run(cwd: Path, args: tuple[str, ...], raw: bool = False, warnings: bool = False):
    """`git args...`: plain commands go straight to git, which starts faster than a wrapper;
    with `warnings`, (stdout, stderr) for a command whose warnings matter."""
    try:
        done = subprocess.run(["git", *GIT_OPTIONS, *args], cwd=cwd, capture_output=True, check=False,
                              env=environment())
    except FileNotFoundError:
        raise GitError("git is not installed or not on PATH") from None
    errors = done.stderr.decode("utf-8", errors="replace")
    if done.returncode != 0:
        raise GitError(f"git {' '.join(args)} failed: {errors.strip() or f'exit {done.returncode}'}")
    out = done.stdout if raw else done.stdout.decode("utf-8", errors="surrogateescape")
    return (out, errors) if warnings else out


@dataclass
class Repository:
    """A git repository, opened once per run."""

    root: Path
    _blobs: _CatFile | None = field(repr=False, default=None)

    @classmethod
    def open(cls, path: str | Path) -> Repository | None:
        """The repository containing `path`, or None when it is not inside one."""
        try:
            top = _run(Path(path), ("rev-parse", "--show-toplevel")).strip()
        except GitError as e:
            if "not a git repository" in str(e):
                return None
            raise
        if not top:
            raise GitError(f"{path}: a bare repository has no working tree to check")
        return cls(Path(top))

    def run(self, *args: str, raw: bool = False, warnings: bool = False):
        """`git args...` in this repository; raises GitError with git's own words. With
        `warnings`, (stdout, stderr): for a command whose warnings matter."""
        return _run(self.root, args, raw, warnings)

    def resolve(self, rev: str) -> str:
        """The commit id of `rev`, or a GitError that says what to do."""
        try:
            return self.run("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}").strip()
        except GitError:
            pass
        if not self.has_head():
            raise GitError(f"revision {rev!r}: this repository has no commits yet; commit first, "
                           "or judge what is staged with `cogni-review check --staged`")
        hint = "check the spelling, or fetch it (`git fetch origin <branch>`)"
        if self.is_shallow():
            hint = (
                "this is a shallow clone: fetch the full history (actions/checkout with "
                "`fetch-depth: 0`) or fetch the base commit explicitly"
            )
        raise GitError(f"revision {rev!r} is not in this repository; {hint}")

    @contextmanager
    def stream(self, *args: str) -> Iterator[Iterator[bytes]]:
        """The output of `git args...` a line at a time (for outputs too large to hold); a
        GitError with git's own words if it fails."""
        try:
            process = subprocess.Popen(["git", *GIT_OPTIONS, *args], cwd=self.root, stdout=subprocess.PIPE,
                                       stderr=subprocess.PIPE, env=environment())
        except FileNotFoundError:
            raise GitError("git is not installed or not on PATH") from None
        with process:
            yield iter(process.stdout)
            process.stdout.read()  # whatever the reader left
            detail = process.stderr.read().decode("utf-8", errors="replace").strip()
        if process.returncode != 0:
            raise GitError(f"git {' '.join(args)} failed: {detail or f'exit {process.returncode}'}")

    def fetch(self, rev: str) -> None:
        """Fetch one revision from origin (a commit the clone does not have)."""
        self.run("fetch", "--quiet", "--no-tags", "origin", rev)

    def is_shallow(self) -> bool:
        return self.run("rev-parse", "--is-shallow-repository").strip() == "true"

    def has_head(self) -> bool:
        try:
            self.run("rev-parse", "--verify", "--quiet", "HEAD^{commit}")
            return True
        except GitError:
            return False

    def merge_base(self, base: str, head: str) -> str:
        try:
            return self.run("merge-base", base, head).strip()
        except GitError:
            hint = "fetch the full history (`fetch-depth: 0`)" if self.is_shallow() else (
                "the two revisions share no history; pass --two-dot to diff them directly")
            raise GitError(f"no merge base between {base[:12]} and {head[:12]}: {hint}") from None

    @contextmanager
    def reading(self) -> Iterator[None]:
        """Blobs read inside this block share one `git cat-file --batch` process, closed at its end."""
        if self._blobs is not None:  # already reading: the outer block closes it
            yield
            return
        with _CatFile(self.root) as blobs:
            self._blobs = blobs
            try:
                yield
            finally:
                self._blobs = None

    def read_blob(self, sha: str) -> bytes:
        """A blob's bytes: through the shared reader inside `reading()`, else one process for it."""
        if self._blobs is not None and self._blobs.owner != os.getpid():
            # a forked child: the parent's reader is the parent's; this process gets its own
            self._blobs = _CatFile(self.root)
        if self._blobs is not None:
            return self._blobs.read(sha)
        with _CatFile(self.root) as blobs:
            return blobs.read(sha)

    def empty_tree(self) -> str:
        """The id of the empty tree (what an unborn HEAD is compared against)."""
        return self.run("hash-object", "-t", "tree", os.devnull).strip()

    def worktree(self) -> WorkTree:
        out = self.run("ls-files", "-z", "-t", "--cached", "--others", "--exclude-standard")
        records = [r for r in out.split("\0") if len(r) > 2]
        paths = sorted({r[2:] for r in records})
        sparse = {r[2:] for r in records if r[0] == "S"}  # skip-worktree: tracked, absent by design
        return WorkTree(self.root, paths, repo=self if sparse else None, sparse=sparse)

    def revision(self, rev: str) -> Revision:
        commit = self.resolve(rev)
        out = self.run("ls-tree", "-r", "-z", "--full-tree", commit)
        return Revision(self, commit, _entries(out, lambda meta: (meta[0], meta[2])))

    def index(self) -> Revision:
        out = self.run("ls-files", "-s", "-z")
        return Revision(self, "index", _entries(out, lambda meta: (meta[0], meta[1])))


class _CatFile:
    """One `git cat-file --batch` process: ask for an object id, read back its bytes."""

    def __init__(self, root: Path) -> None:
        self.owner = os.getpid()
        self.process = subprocess.Popen(
            ["git", "cat-file", "--batch"], cwd=root, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL, env=environment(),
        )

    def read(self, sha: str) -> bytes:
        self.process.stdin.write(sha.encode() + b"\n")
        self.process.stdin.flush()
        header = self.process.stdout.readline().split()
        if len(header) != 3:
            raise GitError(f"git cat-file could not read object {sha}: {b' '.join(header).decode(errors='replace')}")
        data = self.process.stdout.read(int(header[2]) + 1)
        return data[:-1]

    def __enter__(self) -> _CatFile:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.owner != os.getpid():
            return
        self.process.stdin.close()
        self.process.stdout.close()
        self.process.wait()


def _entries(out: str, pick) -> dict[str, tuple[str, str]]:
    """path -> (mode, blob id) from `ls-tree -z` or `ls-files -s -z` output."""
    entries = {}
    for record in out.split("\0"):
        if "\t" in record:
            meta, path = record.split("\t", 1)
            entries[path] = pick(meta.split())
    return entries


@dataclass
class Revision:
    """Files as committed (or staged): read from git's object store, links never followed."""

    repo: Repository
    label: str
    entries: dict[str, tuple[str, str]]
    skipped: dict[str, str] = field(default_factory=dict)

    def paths(self) -> list[str]:
        return sorted(self.entries)

    def blob_id(self, path: str) -> str | None:
        entry = self.entries.get(path)
        return entry[1] if entry else None

    def read(self, path: str) -> bytes | None:
        entry = self.entries.get(path)
        if entry is None:
            return None
        mode, sha = entry
        if mode in (SYMLINK_MODE, GITLINK_MODE):
            self.skipped[path] = "symlink" if mode == SYMLINK_MODE else "submodule"
            return None
        return self.repo.read_blob(sha)


@dataclass
class WorkTree:
    """Files as they are on disk: tracked, plus untracked ones git does not ignore."""

    root: Path
    _paths: list[str]
    label: str = "working tree"
    skipped: dict[str, str] = field(default_factory=dict)
    repo: Repository | None = None  # where files a sparse checkout leaves out are read from
    sparse: set[str] = field(default_factory=set)
    _index: dict | None = field(default=None, repr=False)

    @classmethod
    def walk(cls, root: Path) -> WorkTree:
        """Every file below `root`, for a directory that is not a git repository."""
        paths = []
        for folder, dirs, files in os.walk(root):
            dirs[:] = [d for d in dirs if d != ".git"]
            rel = Path(folder).relative_to(root)
            paths.extend((rel / f).as_posix() for f in files)
        return cls(root, sorted(paths))

    def paths(self) -> list[str]:
        return self._paths

    def blob_id(self, path: str) -> str | None:
        return None  # files on disk may differ from any object git has

    @cached_property
    def listed(self) -> frozenset[str]:
        return frozenset(self._paths)

    def read(self, path: str) -> bytes | None:
        if path in self.sparse and self.repo is not None:  # a sparse checkout left it out: read it from the index
            if self._index is None:
                self._index = self.repo.index().entries
            entry = self._index.get(path)
            return self.repo.read_blob(entry[1]) if entry and entry[0] not in (SYMLINK_MODE, GITLINK_MODE) else None
        full = os.path.join(self.root, path)
        try:
            mode = os.lstat(full).st_mode
        except FileNotFoundError:
            if path in self.listed:  # git listed it, so its absence is news; anything else was never there
                self.skipped[path] = "deleted in the working tree since git listed it"
            return None
        except OSError as e:
            self.skipped[path] = f"unreadable: {e.strerror}"
            return None
        if stat.S_ISLNK(mode):
            self.skipped[path] = "symlink"
            return None
        if stat.S_ISDIR(mode):
            self.skipped[path] = "submodule"
            return None
        try:
            with open(full, "rb") as file:
                return file.read()
        except OSError as e:
            self.skipped[path] = f"unreadable: {e.strerror}"
            return None
