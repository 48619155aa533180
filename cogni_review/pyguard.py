"""What libcst's native parser can take, decided before it runs.

libcst parses Python in native code. Nesting deeper than its stack holds ends the whole process
with a segmentation fault (2,000 brackets, a 20,000-term `and` chain, 10,000 unary minuses or
`f()()()…` calls), a long left-deep chain takes time quadratic in its length (`a + b + …`,
`a.b.c…`, `x if c else …`), and its tree takes about 2 KB a token. CPython refuses only some of
these itself. So before libcst sees a file, the standard library's tokenizer measures it, in
linear time and without recursion, and a file past a limit is not parsed: `check` raises
`ParseFailure`, and the file is read as plain text with a note saying why.

The limits: the file's size and token count (which bound libcst's time and memory) and the depth of
the tree a statement makes, as deep as CPython's own limit of 200 nested brackets. Each indentation
level counts two, each open bracket one, and each operator, trailer (`.x`, `(…)`, `[…]`), keyword
operator, lambda or `elif` deepens what follows it; a comma or an assignment starts a new chain,
except among a lambda's parameters, whose defaults nest. Comparisons do not count (libcst keeps `a
< b < c` flat), and a run of adjacent string literals, which libcst nests but handles in linear
time, has a limit of its own.
"""

from __future__ import annotations

import io
import tokenize

from cogni_review.regions import ParseFailure

MAX_CHARS = 4_000_000
MAX_TOKENS = 100_000
MAX_DEPTH = 200  # the estimated depth of one statement's tree
MAX_STRINGS = 1000  # adjacent string literals (libcst nests them, cheaply: they are counted apart)

#: operators that make a left- or right-deep chain in libcst's tree (comparisons stay flat)
_CHAINING = frozenset("+ - * / // % @ ** << >> & | ^ ~ .".split())
_KEYWORDS = frozenset({"and", "or", "not", "if", "else", "lambda", "await", "for", "async"})
_RESETS = frozenset({",", ";", "=", ":=", "+=", "-=", "*=", "/=", "//=", "%=", "@=", "**=", ">>=", "<<=", "&=",
                     "^=", "|=", "->"})
_OPENERS, _CLOSERS = frozenset("([{"), frozenset(")]}")
_VALUES = frozenset({tokenize.NAME, tokenize.NUMBER, tokenize.STRING})
_FSTRING_CHAINING = frozenset("+-*/%@&|^~.([{")


def check(text: str) -> None:
    """Nothing, when libcst can safely parse `text`; else ParseFailure saying what is past its limit."""
    if len(text) > MAX_CHARS:
        raise ParseFailure(f"{len(text):,} characters, more than the {MAX_CHARS:,} parsed safely")
    meter = _Meter()
    try:
        for count, token in enumerate(tokenize.generate_tokens(io.StringIO(text).readline), 1):
            if count > MAX_TOKENS:
                raise ParseFailure(f"more than {MAX_TOKENS:,} tokens, more than are parsed safely")
            meter.feed(token)
    except tokenize.TokenError as e:
        message, (line, _) = e.args
        raise ParseFailure(f"python syntax error near line {line}: {message}") from None
    except SyntaxError as e:  # an IndentationError
        raise ParseFailure(f"python syntax error near line {e.lineno}: {e.msg}") from None


class _Meter:
    """The running measures of a token stream; raises ParseFailure at the first limit passed."""

    def __init__(self) -> None:
        self.chains = [0]  # per open bracket (the statement first): the chain length since a reset
        self.lambdas = [0]  # per open bracket: lambdas whose `:` is still to come
        self.indent = 0
        self.elifs = [0]  # per indentation level: `elif`s since its `if`
        self.previous: tokenize.TokenInfo | None = None
        self.strings = 0  # adjacent string literals so far
        self.starts_statement = True

    def feed(self, token: tokenize.TokenInfo) -> None:
        kind, value = token.type, token.string
        if kind in (tokenize.COMMENT, tokenize.NL, tokenize.ENCODING):
            return
        if kind == tokenize.INDENT:
            self.indent += 1
            self.elifs.append(0)
        elif kind == tokenize.DEDENT:
            self.indent = max(0, self.indent - 1)
            self.elifs = self.elifs[:-1] or [0]
        elif kind == tokenize.NEWLINE:
            self.chains, self.lambdas = [0], [0]
        elif kind == tokenize.OP:
            self._operator(value, token)
        elif kind == tokenize.NAME:
            self._name(value)
        elif kind == tokenize.STRING:
            adjacent = self.previous is not None and self.previous.type == tokenize.STRING
            self.strings = self.strings + 1 if adjacent else 1
            self._limit(self.strings, MAX_STRINGS, "adjacent string literals", token)
            if _is_fstring(value):
                self.chains[-1] += _fstring_depth(value)
        self.starts_statement = kind in (tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT) or value == ";"
        self.previous = token
        self._limit(self.depth, MAX_DEPTH, "levels of nesting in one statement", token)

    @property
    def depth(self) -> int:
        return len(self.chains) + sum(self.chains) + 2 * self.indent + self.elifs[-1]

    def _operator(self, value: str, token: tokenize.TokenInfo) -> None:
        if value in _OPENERS:
            previous = self.previous
            if previous is not None and (previous.type in _VALUES or previous.string in _CLOSERS):
                self.chains[-1] += 1  # a call or a subscript: a trailer
            self.chains.append(0)
            self.lambdas.append(0)
        elif value in _CLOSERS:
            if len(self.chains) > 1:
                self.chains.pop()
                self.lambdas.pop()
        elif value == ":" and self.lambdas[-1]:
            self.lambdas[-1] -= 1  # a lambda's body is inside the lambda: the chain goes on
        elif value in _RESETS and self.lambdas[-1]:
            pass  # a lambda's parameters (`lambda a=lambda a=…`): the chain goes on into its defaults
        elif value in _RESETS or value == ":":
            self.chains[-1] = 0
        elif value in _CHAINING:
            self.chains[-1] += 1

    def _name(self, value: str) -> None:
        if value == "elif" and self.starts_statement:
            self.elifs[-1] += 1
        elif value == "if" and self.starts_statement:
            self.elifs[-1] = 0
        elif value in _KEYWORDS:
            self.chains[-1] += 1
            if value == "lambda":
                self.lambdas[-1] += 1

    @staticmethod
    def _limit(value: int, limit: int, what: str, token: tokenize.TokenInfo) -> None:
        if value > limit:
            raise ParseFailure(f"more than {limit} {what} at line {token.start[0]}, more than are parsed safely")


def _is_fstring(literal: str) -> bool:
    prefix = literal[: len(literal) - len(literal.lstrip("rRbBuUfF"))]
    return "f" in prefix.lower()


def _fstring_depth(literal: str) -> int:
    """An upper bound on how deep the expressions of an f-string go (before Python 3.12 the
    tokenizer gives an f-string as one token, so they are measured here): for each replacement
    field, its brace nesting plus every character in it that can chain; the deepest field counts."""
    depth = deepest = field = 0
    for c in literal:
        if c == "{":
            depth += 1
            field += 1
        elif c == "}" and depth:
            depth -= 1
            if depth == 0:
                deepest, field = max(deepest, field), 0
        elif depth and c in _FSTRING_CHAINING:
            field += 1
    return max(deepest, field)
