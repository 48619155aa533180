"""The rule contract: a libcst visitor that looks at one Python file and reports nodes.

A rule lives in `rules/`, one module per rule, and that module is also a complete file gate
(see `gate`): its docstring is its documentation, it defines `Options`, `EXAMPLES` and a
`scan(file, options)` that simply returns `rule.run(TheRule, file, options)`. So a rule is
configured, explained, tested and run in audit, check and staged modes exactly like a gate.

`run` judges Python only (`file.language == "python"`); a file of any other language yields
nothing. A file libcst cannot parse yields nothing either: a rule judges syntax, and the engine
already notes a file it could only read as plain text. Positions are worked out only for a file
that has findings, so a clean file costs one parse and one walk.
"""

from __future__ import annotations

import functools
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, ClassVar, Iterable, Iterator

import libcst as cst
from libcst.helpers import get_full_name_for_node
from libcst.metadata import MetadataWrapper, PositionProvider

from cogni_review.gate import NotJudged
from cogni_review.model import Location, Violation
from cogni_review.source import SourceFile


@dataclass(frozen=True)
class Report:
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
        self.reports: list[Report] = []
        self._reported: set[int] = set()

    def report(self, node: cst.CSTNode, token: str, message: str, hint: str = "") -> None:
        if id(node) not in self._reported:
            self._reported.add(id(node))
            self.reports.append(Report(node, token, message, hint or self.hint))

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
            self.stack.append(Scope(name, "function", dict.fromkeys(p.name.value for p in params(node.params))))

    def leave(self) -> None:
        self.stack.pop()

    def bind(self, name: str, value: Any) -> None:
        self.stack[-1].names[name] = value

    def lookup(self, name: str) -> tuple[bool, Any]:
        """(bound, what is known) for a name read here; a method does not see its class body."""
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


def parse(text: str) -> cst.Module | None:
    """The module, or None when libcst cannot parse it (syntax error, nesting too deep)."""
    try:
        return cst.parse_module(text)
    except (cst.ParserSyntaxError, RecursionError):
        return None


def run(rule: type[Rule], file: SourceFile, options: Any) -> list[Violation]:
    """The findings of `rule` in `file`, in source order; none for other languages. A Python file
    the rule cannot read (bad syntax, nesting too deep) raises NotJudged, which the report notes."""
    if file.language != "python":
        return []
    module = parse(file.text)
    if module is None:
        raise NotJudged("libcst cannot parse it")
    visitor = rule(file, options)
    try:
        module.visit(visitor)
    except RecursionError:
        raise NotJudged("nested too deeply to walk") from None
    if not visitor.reports:
        return []
    where = _starts(file, module, visitor.reports)
    found = [_violation(file, line, column, r) for r, (line, column) in zip(visitor.reports, where)]
    return sorted(found, key=Violation.sort_key)


def _starts(file: SourceFile, module: cst.Module, reports: list[Report]) -> list[tuple[int, int]]:
    """(line, column) of each reported node: counted in one plain code generation pass, which
    costs a fraction of libcst's PositionProvider; that provider only if the count goes wrong."""
    state = _counting_state()(module.default_indent, module.default_newline, wanted={id(r.node) for r in reports})
    module._codegen(state)
    if state.offset == len(file.text) and all(id(r.node) in state.starts for r in reports):
        return [file.position(state.starts[id(r.node)]) for r in reports]
    positions = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    return [(positions[r.node].start.line, positions[r.node].start.column + 1) for r in reports]


@functools.cache
def _counting_state() -> type:
    """A libcst code generation state that counts characters and notes where wanted nodes start.

    libcst reproduces its input exactly, token by token, so the running length of the generated
    tokens is the offset of each node; a node's syntactic start (after the comments and blank
    lines it owns) replaces its first token's when the node reports one.
    """
    from libcst._nodes.internal import CodegenState

    @dataclass
    class CountingState(CodegenState):
        wanted: set[int] = field(default_factory=set)
        starts: dict[int, int] = field(default_factory=dict)
        offset: int = 0

        def add_token(self, value: str) -> None:
            self.tokens.append(value)
            self.offset += len(value)

        def add_indent_tokens(self) -> None:
            self.tokens.extend(self.indent_tokens)
            self.offset += sum(map(len, self.indent_tokens))

        def pop_trailing_newline(self) -> None:
            if self.tokens:
                self.offset -= len(self.tokens.pop())

        def before_codegen(self, node: cst.CSTNode) -> None:
            if id(node) in self.wanted:
                self.starts[id(node)] = self.offset

        @contextmanager
        def record_syntactic_position(self, node: cst.CSTNode, *, start_node: Any = None, end_node: Any = None) -> Iterator[None]:
            if id(node) in self.wanted and start_node is not None:
                self.wanted.add(id(start_node))  # a block starts where its first statement does
            elif id(node) in self.wanted:
                self.starts[id(node)] = self.offset
            yield
            if id(node) in self.wanted and start_node is not None:
                self.starts[id(node)] = self.starts[id(start_node)]

    return CountingState


def _violation(file: SourceFile, line: int, column: int, report: Report) -> Violation:
    location = Location(file.path, line, column)
    return Violation(location, report.token, report.message, report.hint, line_text=file.line_text(line))


def dotted_name(node: cst.CSTNode) -> str:
    """`a.b.c` for a name or attribute chain (a call gives its callee's name); "" otherwise."""
    return get_full_name_for_node(node) or ""

