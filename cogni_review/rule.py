"""The rule contract: a libcst visitor that looks at one Python file and reports nodes.

A rule lives in `rules/`, one module per rule, and that module is also a complete file gate
(see `gate`): its docstring is its documentation, it defines `Options`, `EXAMPLES` and a
`scan(file, options)` that simply returns `rule.run(TheRule, file, options)`. So a rule is
configured, explained, tested and run in audit, check and staged modes exactly like a gate.

`run` judges Python only (`file.language == "python"`); a file of any other language yields
nothing. A Python file libcst cannot parse is not judged, and the engine notes it by name.
The file is parsed once (`SourceFile.python`) for every rule and for its comment regions;
positions are worked out only for a file that has findings.
"""

from __future__ import annotations

import functools
import unicodedata
from dataclasses import dataclass, field
from typing import Any, ClassVar, Iterable

import libcst as cst
from libcst.helpers import get_full_name_for_node
from libcst.metadata import MetadataWrapper, PositionProvider

from cogni_review.gate import NotJudged
from cogni_review.model import Location, Violation
from cogni_review.regions import ParseFailure
from cogni_review.source import SourceFile


@dataclass(frozen=True)
class Hit:
    """One finding a rule made, before it has a position."""

    node: cst.CSTNode
    token: str
    message: str
    hint: str


class Rule(cst.CSTVisitor):
    """A visitor over one module; call `report(node, ...)` for each finding, at most once per node."""

    hint: ClassVar[str] = ""  # how to fix, unless a report says otherwise

    def __init__(self, file: SourceFile, options: Any) -> None:
        super().__init__()
        self.file = file
        self.options = options
        self.hits: list[Hit] = []
        self._reported: set[int] = set()

    def report(self, node: cst.CSTNode, token: str, message: str, hint: str = "") -> None:
        if id(node) not in self._reported:
            self._reported.add(id(node))
            self.hits.append(Hit(node, token, message, hint or self.hint))

    # libcst's dispatch, with each `visit_<Node>`/`leave_<Node>` looked up once per node type, and
    # no `visit_<Node>_<attribute>` hooks: together they cost more than the walk itself.

    def on_visit(self, node: cst.CSTNode) -> bool:
        handler = _handler(type(self), "visit_", type(node))
        return handler is None or handler(self, node) is not False

    def on_leave(self, original_node: cst.CSTNode) -> None:
        handler = _handler(type(self), "leave_", type(original_node))
        if handler is not None:
            handler(self, original_node)

    def on_visit_attribute(self, node: cst.CSTNode, attribute: str) -> None:
        pass

    def on_leave_attribute(self, original_node: cst.CSTNode, attribute: str) -> None:
        pass


@functools.cache
def _handler(rule: type, prefix: str, node_type: type) -> Any:
    return getattr(rule, prefix + node_type.__name__, None)


class Flow(Rule):
    """A rule that learns, bottom-up, what flows into the value of each node.

    `source(node)` says what a node contributes itself (None: nothing); `stops(node)` marks a
    value that ends every flow into it (a comparison is a bool, whatever was compared). The first
    source found in a node, its own or below, is `self.flows[id(node)]`, ready when `leave_<Node>`
    of its parent runs.
    """

    def __init__(self, file: SourceFile, options: Any) -> None:
        super().__init__(file, options)
        self.flows: dict[int, Any] = {}
        self._pending: list[Any] = []  # per open node: the first source found below it

    def source(self, node: cst.CSTNode) -> Any:
        return None

    def stops(self, node: cst.CSTNode) -> bool:
        return False

    def on_visit(self, node: cst.CSTNode) -> bool:
        self._pending.append(None)
        return super().on_visit(node)

    def on_leave(self, original_node: cst.CSTNode) -> None:
        super().on_leave(original_node)
        below = self._pending.pop()
        found = None if self.stops(original_node) else self.source(original_node) or below
        if found is not None:
            self.flows[id(original_node)] = found
            if self._pending and self._pending[-1] is None:
                self._pending[-1] = found


@dataclass
class Scope:
    name: str  # the function's or class's name; "" for the module or a lambda
    kind: str  # "module", "class" or "function"
    names: dict[str, Any] = field(default_factory=dict)  # local name -> what the rule knows of it


class Scopes:
    """Python's scopes while a visitor walks: call `enter` from `visit_FunctionDef`, `visit_Lambda`
    and `visit_ClassDef`, `leave` from their `leave_` methods. Parameters start out bound to None."""

    def __init__(self) -> None:
        self.stack = [Scope("", "module")]

    def enter(self, node: cst.FunctionDef | cst.Lambda | cst.ClassDef) -> None:
        if isinstance(node, cst.ClassDef):
            self.stack.append(Scope(node.name.value, "class"))
        else:
            name = node.name.value if isinstance(node, cst.FunctionDef) else ""
            self.stack.append(Scope(name, "function", dict.fromkeys(identifier(p.name.value) for p in params(node.params))))

    def leave(self) -> None:
        self.stack.pop()

    def bind(self, name: str, value: Any) -> None:
        self.stack[-1].names[identifier(name)] = value

    def lookup(self, name: str) -> tuple[bool, Any]:
        """(bound, what is known) for a name read here; a method does not see its class body."""
        name = identifier(name)
        for depth, scope in enumerate(reversed(self.stack)):
            if name in scope.names and not (scope.kind == "class" and depth > 0):
                return True, scope.names[name]
        return False, None

    @property
    def function(self) -> Scope | None:
        return next((s for s in reversed(self.stack) if s.kind == "function"), None)


def params(parameters: cst.Parameters) -> Iterable[cst.Param]:
    """Every parameter, in order: positional-only, normal, *args, keyword-only, **kwargs."""
    yield from parameters.posonly_params
    yield from parameters.params
    if isinstance(parameters.star_arg, cst.Param):
        yield parameters.star_arg
    yield from parameters.kwonly_params
    if parameters.star_kwarg is not None:
        yield parameters.star_kwarg


def run(rule: type[Rule], file: SourceFile, options: Any) -> list[Violation]:
    """The findings of `rule` in `file`, in source order; none for other languages. A Python file
    the rule cannot read (bad syntax, nesting too deep) raises NotJudged, which the report notes.
    The parse is the file's own, shared with its regions and every other rule."""
    if file.language != "python":
        return []
    try:
        tree = file.python()
    except ParseFailure:
        raise NotJudged("libcst cannot parse it") from None
    visitor = rule(file, options)
    try:
        tree.module.visit(visitor)
    except RecursionError:
        raise NotJudged("nested too deeply to walk") from None
    if not visitor.hits:
        return []
    try:
        positions = _positions(file, tree, visitor.hits)
    except RecursionError:
        raise NotJudged("nested too deeply to walk") from None
    found = [_violation(file, line, column, hit) for hit, (line, column) in zip(visitor.hits, positions)]
    return sorted(found, key=Violation.sort_key)


def _positions(file: SourceFile, tree: Any, hits: list[Hit]) -> list[tuple[int, int]]:
    """(line, column) of each hit's node: from the shared code generation pass, or libcst's
    PositionProvider when that pass cannot follow the source."""
    starts = tree.starts(hit.node for hit in hits)
    if starts is not None:
        return [file.position(starts[id(hit.node)]) for hit in hits]
    positions = MetadataWrapper(tree.module, unsafe_skip_copy=True).resolve(PositionProvider)
    return [(positions[hit.node].start.line, positions[hit.node].start.column + 1) for hit in hits]


def _violation(file: SourceFile, line: int, column: int, hit: Hit) -> Violation:
    location = Location(file.path, line, column)
    return Violation(location, hit.token, hit.message, hit.hint, line_text=file.line_text(line))


def dotted_name(node: cst.CSTNode) -> str:
    """`a.b.c` for a name or attribute chain (a call gives its callee's name); "" otherwise.
    Normalized as Python normalizes identifiers (NFKC), so `ｃｒｅｄｉｔ` is `credit`."""
    return identifier(get_full_name_for_node(node) or "")


def identifier(name: str) -> str:
    """A name as Python reads it: NFKC-normalized (full-width letters, ligatures...)."""
    return name if name.isascii() else unicodedata.normalize("NFKC", name)

