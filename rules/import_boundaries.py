"""An import across a forbidden boundary: a module importing a module its layer must not use.

Why: layering erodes one import at a time. Once the engine imports a gate, no gate can change
without the engine; once the billing service imports the review tool, it cannot ship without
it. Each such import looks harmless in its diff, and together they make one tangled program.

Instead: depend on the contract the other layer publishes (the engine is handed plugins; the
service knows nothing of its reviewer), or move the code to the layer it belongs in.

Boundaries are written `"importer -> imported"` with module prefixes, e.g.
`["cogni_review -> gates", "billing -> cogni_review"]`; `allow` takes exceptions out of them in
the same form (`"gates -> cogni_review.gate"`: the plugins may import the public contract).
A prefix matches the module and those below it: `gates` matches `gates` and
`gates.review_limits`, never `gatesx`. A file's module name comes from its path
(`cogni_review/engine.py` is `cogni_review.engine`, `pkg/__init__.py` is `pkg`), and relative
imports are resolved against it. Every form counts: `import x`, `import x.y as z`, `from x
import y`, `from x.y import (a, b)`, `from . import y`, `from ..y import z`, and
`importlib.import_module("x")` or `__import__("x")` with a literal name. A module inside the
imported prefix is not held by the boundary. A file libcst cannot parse is not judged.
"""

from __future__ import annotations

from functools import cached_property
from typing import Iterable, NamedTuple

import libcst as cst
from pydantic import Field, field_validator

from cogni_review import rule
from cogni_review.model import Violation
from cogni_review.gate import FileGateOptions
from cogni_review.source import SourceFile

DYNAMIC_IMPORTS = {"importlib.import_module", "import_module", "__import__"}


class Boundary(NamedTuple):
    importer: str
    imported: str
    text: str

    def holds(self, module: str) -> bool:
        return within(module, self.importer) and not within(module, self.imported)


class Options(FileGateOptions):
    folder_fields = ("roots",)
    forbid: tuple[str, ...] = Field((), description='boundaries, each "importer -> imported" as module prefixes')
    allow: tuple[str, ...] = Field((), description='exceptions to `forbid`, in the same form')
    roots: tuple[str, ...] = Field(("src",), description="source folders stripped from a path before it names a module")
    paths: tuple[str, ...] = Field(("**/*.py", "**/*.pyi"), description="the files judged (globs)")

    @field_validator("forbid", "allow")
    @classmethod
    def _arrows(cls, arrows: tuple[str, ...]) -> tuple[str, ...]:
        for text in arrows:
            sides = [side.strip() for side in text.split("->")]
            if len(sides) != 2 or not all(all(p.isidentifier() for p in side.split(".")) for side in sides):
                raise ValueError(f"{text!r} is not 'importer -> imported' with dotted module names")
        return arrows

    @cached_property
    def boundaries(self) -> tuple[Boundary, ...]:
        return _arrows(self.forbid)

    @cached_property
    def exceptions(self) -> tuple[Boundary, ...]:
        return _arrows(self.allow)

    def module_of(self, path: str) -> tuple[str, bool]:
        """The dotted module name of a file and whether it is a package's `__init__`."""
        stem = path.rsplit(".", 1)[0]
        for root in self.roots:
            prefix = root.strip("/") + "/"
            if stem.startswith(prefix):
                stem = stem[len(prefix):]
                break
        parts = stem.split("/")
        package = parts[-1] == "__init__"
        return ".".join(parts[:-1] if package else parts), package


def _arrows(texts: tuple[str, ...]) -> tuple[Boundary, ...]:
    return tuple(Boundary(*(side.strip() for side in text.split("->")), text) for text in texts)


def within(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def absolute(module: str, package: bool, level: int, name: str) -> str | None:
    """The absolute name of `from {'.' * level}{name} import ...` in `module`; None above the top."""
    parts = module.split(".") if package else module.split(".")[:-1]
    if level - 1 >= len(parts):
        return None
    base = parts[: len(parts) - (level - 1)] + ([name] if name else [])
    return ".".join(base) or None


class ImportBoundaries(rule.Rule):
    hint = "depend on the contract the other layer publishes, or move the code to the layer it belongs in"

    def __init__(self, file: SourceFile, options: Options) -> None:
        super().__init__(file, options)
        self.module, self.package = options.module_of(file.path)
        self.boundaries = [b for b in options.boundaries if b.holds(self.module)]
        self.exceptions = [e for e in options.exceptions if within(self.module, e.importer)]

    def visit_Import(self, node: cst.Import) -> bool:
        for alias in node.names:
            self.judge(alias, rule.dotted_name(alias.name))
        return False

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        name = rule.dotted_name(node.module) if node.module else ""
        base = absolute(self.module, self.package, len(node.relative), name) if node.relative else name
        if not base:
            return False
        star = isinstance(node.names, cst.ImportStar)
        # `from pkg import allowed_module`: when an exception lies below `base`, judge each name
        if star or not any(within(e.imported, base) and e.imported != base for e in self.exceptions):
            if self.judge(node, base) or star:
                return False
        for alias in node.names:
            self.judge(alias, f"{base}.{rule.dotted_name(alias.name)}")
        return False

    def visit_Call(self, node: cst.Call) -> None:
        if rule.dotted_name(node.func) in DYNAMIC_IMPORTS and node.args:
            name = node.args[0].value
            value = name.evaluated_value if isinstance(name, cst.SimpleString) else None
            if isinstance(value, str) and value and not value.startswith("."):
                self.judge(node, value)

    def judge(self, node: cst.CSTNode, target: str) -> bool:
        """Report `target` if a boundary forbids it here and no exception allows it; True if reported."""
        if any(within(target, e.imported) for e in self.exceptions):
            return False
        for boundary in self.boundaries:
            if within(target, boundary.imported):
                self.report(node, target, f"{self.module} imports {target}, which {boundary.text!r} forbids")
                return True
        return False


def candidates(options: Options) -> tuple[str, ...]:
    """Files that could name a forbidden module: the last part of each imported prefix."""
    return tuple({b.imported.rpartition(".")[2] for b in options.boundaries})


def scan(file: SourceFile, options: Options) -> Iterable[Violation]:
    module = options.module_of(file.path)[0]
    if not any(b.holds(module) for b in options.boundaries):
        return []
    return rule.run(ImportBoundaries, file, options)


EXAMPLES = {
    "with": {"forbid": ["cogni_review -> gates", "billing -> cogni_review"]},
    "passes": [
        ("cogni_review/engine.py", "from cogni_review.catalog import ResolvedGate"),
        ("cogni_review/catalog.py", "import gatesx.helpers"),
        ("gates/review_limits.py", "from cogni_review.gate import FileGateOptions"),
        ("billing/ledger.py", "import sqlite3  # cogni_review is not needed here"),
    ],
    "fails": [
        ("cogni_review/engine.py", "from gates import review_limits  # <-"),
        ("cogni_review/cli.py", "import gates.review_limits as limits  # <-"),
        ("billing/cli.py", "from cogni_review.model import Violation  # <-"),
        ("billing/jobs.py", 'checker = importlib.import_module("cogni_review.engine")  # <-'),
    ],
}
