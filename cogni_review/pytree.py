"""Python parsed once with libcst for the rules, and where the nodes they report start.

A `SourceFile` parses its Python once (`SourceFile.python`), and every rule that judges the file
shares that parse (comments and docstrings come from a faster, error-tolerant parser: see
`regions`). Offsets come from one code generation pass (`walk`), which costs about half of
libcst's PositionProvider: each generated token is matched against the source, so the offset of
every node is known exactly. libcst reproduces its input, except that it may drop a little white
space (`except E :` loses the space before the colon); matching skips that. This module is the
one place that reaches into libcst's code generation.
"""

from __future__ import annotations

import functools
import re
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator

from cogni_review import pyguard
from cogni_review.regions import ParseFailure

_BOM = "\ufeff"
_SPACE = re.compile(r"(?:[ \t\f]|\\(?:\r\n?|\n))*")
_SURROGATE = re.compile("[\ud800-\udfff]")
PARSE_STACK = 256 * 1024 * 1024  # address space, only touched as deep as the parse goes


@dataclass(frozen=True, eq=False)
class Tree:
    """A parsed module and the text it was parsed from (offsets are into `text`)."""

    module: Any  # libcst.Module
    text: str
    skipped: int  # leading characters libcst does not see (a byte-order mark)

    def starts(self, nodes: Iterable[Any]) -> dict[int, int] | None:
        """id(node) -> the offset where each node starts (after the comments and blank lines it
        owns); None when the pass could not follow the source."""
        wanted = {id(n) for n in nodes}
        try:
            state = walk(self, wanted)
        except ParseFailure:
            return None
        return state.starts if wanted <= state.starts.keys() else None


def parse(text: str) -> Tree:
    """The module, or ParseFailure saying why libcst cannot, or must not, parse it (see `pyguard`)."""
    import libcst

    skipped = 1 if text.startswith(_BOM) else 0  # libcst drops a BOM from what it generates
    text = _SURROGATE.sub("\ufffd", text)  # undecodable bytes; libcst cannot encode them
    pyguard.check(text[skipped:])
    try:
        module = _native(libcst.parse_module, text[skipped:])
    except libcst.ParserSyntaxError as e:
        raise ParseFailure(f"python syntax error near line {e.editor_line}: {e.message}") from None
    except RecursionError:
        raise ParseFailure("nested too deeply to parse") from None
    return Tree(module, text, skipped)


def _native(parse: Callable[[str], Any], text: str) -> Any:
    """`parse(text)` on a thread with a large stack: a margin, beyond what `pyguard` lets through,
    for native code that recurses (where threads cannot be made so, on the caller's thread)."""
    outcome: list = []

    def run() -> None:
        try:
            outcome.append((True, parse(text)))
        except BaseException as e:  # handed to the caller's thread, raised there
            outcome.append((False, e))

    try:
        previous = threading.stack_size(PARSE_STACK)
    except (ValueError, RuntimeError):
        return parse(text)
    try:
        worker = threading.Thread(target=run, name="cogni-review-parse", daemon=True)
        worker.start()
    except RuntimeError:
        return parse(text)
    finally:
        threading.stack_size(previous)
    worker.join()
    done, value = outcome[0]
    if not done:
        raise value
    return value


def walk(tree: Tree, wanted: set[int] = frozenset()) -> Any:
    """One code generation pass over `tree`, following the source: the state it leaves has the
    `starts` of the `wanted` nodes."""
    state = _walk_type()(
        default_indent=tree.module.default_indent,
        default_newline=tree.module.default_newline,
        source=tree.text,
        offset=tree.skipped,
        wanted=set(wanted),
    )
    try:
        tree.module._codegen(state)
    except RecursionError:
        raise ParseFailure("nested too deeply to follow") from None
    if state.offset != len(tree.text):
        raise ParseFailure(f"libcst did not reproduce the source after offset {state.offset}")
    return state


@functools.cache
def _walk_type() -> type:
    """The libcst code generation state that follows the source (built on first use: libcst
    is imported only when a Python file is parsed)."""
    import libcst
    from libcst._nodes.internal import CodegenState

    @dataclass
    class Walk(CodegenState):
        source: str = ""
        offset: int = 0  # where the next token is in `source`
        wanted: set[int] = field(default_factory=set)
        starts: dict[int, int] = field(default_factory=dict)

        def add_token(self, value: str) -> None:
            self.tokens.append(value)
            if self.source.startswith(value, self.offset):
                self.offset += len(value)
            elif value.strip():  # not white space libcst made up: skip white space it dropped
                start = _SPACE.match(self.source, self.offset).end()
                if not self.source.startswith(value, start):
                    raise ParseFailure(f"libcst did not reproduce the source at offset {start}")
                self.offset = start + len(value)

        def add_indent_tokens(self) -> None:
            for value in self.indent_tokens:
                self.add_token(value)

        def pop_trailing_newline(self) -> None:
            if self.tokens:  # a newline the source does not end with, so it was never matched
                self.tokens.pop()

        def before_codegen(self, node: Any) -> None:
            if id(node) in self.wanted:
                self.starts.setdefault(id(node), self.offset)

        @contextmanager
        def record_syntactic_position(self, node: Any, *, start_node: Any = None, end_node: Any = None) -> Iterator[None]:
            """A statement's syntactic start is after the comments and blank lines it owns: where
            its first token (or, for a block, its first statement) is."""
            mine = id(node) in self.wanted
            if mine and start_node is not None:
                self.wanted.add(id(start_node))
            elif mine:
                self.starts[id(node)] = self.offset
            yield
            if mine and start_node is not None and id(start_node) in self.starts:
                self.starts[id(node)] = self.starts[id(start_node)]

    return Walk
