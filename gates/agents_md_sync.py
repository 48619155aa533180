"""Code changed in a directory whose `AGENTS.md` the change leaves as it was.

Why: a directory's `AGENTS.md` tells the agents and people who work there what its code does and
how; when the code changes and the file does not, the next reader is told about code that no
longer exists, and acts on it.

Instead: update the directory's `AGENTS.md` in the same change, saying what changed in its code.

A changed code file (added, modified, deleted, or renamed from or to there) asks for the doc file
of its own directory, and only when that directory has one at the base: a directory without an
`AGENTS.md` asks for nothing. (The predecessor demanded the file in every directory the change
touched, whether it existed or not, and failed changes for documents nobody had written.) Code is
what `code_patterns` selects and `exclude` does not; the doc files themselves are never code.
It judges a change, so in an audit it is neutral (`no_change`).
"""

from __future__ import annotations

import posixpath

from pydantic import Field, field_validator

from cogni_review import globs
from cogni_review.diff import Change, FileChange
from cogni_review.gate import DOC_PATHS, GateOptions
from cogni_review.globs import GlobSet
from cogni_review.model import GateResult, Location, Violation


class Options(GateOptions):
    glob_fields = ("code_patterns", "exclude")

    code_patterns: tuple[str, ...] = Field(("**",), description="the code files (globs) whose change asks for their directory's doc")
    exclude: tuple[str, ...] = Field(DOC_PATHS + ("README*", "CHANGELOG*", "LICENSE*"),
                                     description="files that are never code, even if `code_patterns` selects them")
    doc_pattern: str = Field("AGENTS.md", description="the file name of a directory's doc (`NOTES.md`, say)")

    _globs = field_validator("code_patterns", "exclude")(lambda cls, patterns: globs.validate(patterns))

    @field_validator("doc_pattern")
    @classmethod
    def _file_name(cls, name: str) -> str:
        if not name.strip() or "/" in name or name in (".", ".."):
            raise ValueError("doc_pattern is a file name, like AGENTS.md, without a folder")
        return name


def judge(change: Change, options: Options) -> GateResult:
    code, excluded = GlobSet(options.code_patterns).matcher(), GlobSet(options.exclude).matcher()
    touched = {path for f in change.files for path in (f.path, f.old_path) if path}
    at_base = set(change.base.paths())
    by_directory: dict[str, list[tuple[str, FileChange]]] = {}
    for f in change.files:
        for path in dict.fromkeys(p for p in (f.path, f.old_path) if p):
            if code(path) and not excluded(path) and posixpath.basename(path) != options.doc_pattern:
                by_directory.setdefault(posixpath.dirname(path), []).append((path, f))
    found = []
    for directory, files in sorted(by_directory.items()):
        doc = posixpath.join(directory, options.doc_pattern)
        if doc in at_base and doc not in touched:
            found.append(_stale(directory, doc, files))
    stats = {"directories_changed": len(by_directory), "docs_not_updated": len(found)}
    if found:
        return GateResult.failed(f"{len(found)} directory doc(s) not updated with their code", *found, **stats)
    return GateResult.passed(**stats)


def _stale(directory: str, doc: str, files: list[tuple[str, FileChange]]) -> Violation:
    path, first = min(files, key=lambda item: item[0])
    line = min(first.added_lines) if first.path == path and first.added_lines else 1
    where = f"{directory}/" if directory else "the repository root"
    names = ", ".join(sorted({posixpath.basename(p) for p, _ in files}))
    return Violation(Location(path, line, 1), doc, f"code in {where} changed ({names}) but {doc} was not updated",
                     f"update {doc} in the same change to say what changed in its directory's code")


EXAMPLES = {
    "base": {
        "src/payments/AGENTS.md": "# payments\n\nconfirm.ts credits a confirmed payment once, by its reference.\n",
        "src/payments/confirm.ts": "export const confirm = (ref: string) => credit(ref);\n",
        "src/ui/button.tsx": "export const Button = () => null;\n",
    },
    "passes": [
        {"head": {"src/payments/confirm.ts": "export const confirm = (ref: string) => creditOnce(ref);\n",
                  "src/payments/AGENTS.md": "# payments\n\nconfirm.ts credits a confirmed payment once (creditOnce).\n"}},
        {"head": {"src/ui/button.tsx": "export const Button = () => <button />;\n"}},
    ],
    "fails": [
        {"head": {"src/payments/confirm.ts": "export const confirm = (ref: string) => creditTwice(ref);\n"}},
        {"head": {"src/payments/refund.ts": "export const refund = (ref: string) => debit(ref);\n"}},
    ],
}
