"""The comments of a JavaScript or TypeScript file, read by a lexer that gives up rather than guess.

Why: a governed token inside a JSDoc block is documentation, and learning that used to take a
full tree-sitter parse of the file: most of an audit's time on a TypeScript repository. A lexer
finds the same comments from the text alone, left to right, skipping string, template and
regular-expression literals whole, so that a `//` or `/*` inside them opens nothing.

The one question a lexer cannot always settle alone is whether a `/` starts a regular expression
or divides. It is decided by the token before it: after a value (a name, a number, a literal, `]`,
the `)` of a call or a grouping) a `/` divides; after an operator, a punctuator or a keyword such
as `return`, it starts a regular expression. Wherever that token leaves room for doubt (`}`, `++`,
a contextual keyword such as `yield` or `of`, a `>` that may close type arguments, a TypeScript
`!`, a `)` whose `(` cannot be found from plain code) and wherever the file holds what this lexer
does not model (JSX, HTML-like comments, a non-ASCII character where a token is decided, a literal
left open), it answers None and the caller parses the file. It never guesses, so code is never
taken for a comment; what it does answer is what the language's own lexical grammar says, whether
or not the rest of the file would parse.
"""

from __future__ import annotations

import bisect
import re

Span = tuple[int, int]
LANGUAGES = frozenset({"javascript", "typescript", "tsx"})

#: white space and line terminators; any other character a lexer would skip is non-ASCII, which
#: makes the answer None wherever it matters
_BLANK = frozenset(" \t\n\r\v\f\u00a0\u2028\u2029\ufeff")
_WORD = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_$")
_LINE_END = re.compile(r"[\n\r\u2028\u2029]")
_NEWLINES = "\n\r\u2028\u2029"
_STRINGS = (r'"(?:[^"\\\n\r\u2028\u2029]|\\(?:\r\n|[\s\S]))*"', r"'(?:[^'\\\n\r\u2028\u2029]|\\(?:\r\n|[\s\S]))*'")
#: the rest of a template literal, up to its closing backtick or the `${` of a substitution
_TEMPLATE = re.compile(r"(?:[^`\\$]|\\[\s\S]|\$(?!\{))*(`|\$\{)")
#: a regular expression literal, whose classes may hold `/` and `[` (its lexical grammar ends a
#: class at the first unescaped `]`, whatever the flags), and its flags
_REGEX = re.compile(r"/(?:[^/\\\[\n\r\u2028\u2029]|\\[^\n\r\u2028\u2029]"
                    r"|\[(?:[^\]\\\n\r\u2028\u2029]|\\[^\n\r\u2028\u2029])*\])+/[A-Za-z0-9_$]*")

REGEX, DIVIDE = "regex", "divide"
_ALONE = "alone"  # a word that is not a property name
#: after these a `/` starts a regular expression
_BEFORE_REGEX = frozenset("return typeof instanceof in new delete void throw case do else extends default".split())
#: words after which a `/` is not decided here: reserved words that neither end a value nor come
#: before an expression (after `break`, `continue` or `debugger` and a line break, a regular
#: expression may start the next statement), and `yield`, `await` and `of`, which are keywords
#: before an expression in some places and names in others. TypeScript's contextual words
#: (`type`, `as`, `declare`, …) are followed by a name, a type or a string, never by a slash,
#: so as names they divide.
_KEYWORDS = frozenset("""break catch class const continue debugger enum export finally for function if import switch
    try var while with implements interface package private protected public static let yield await of""".split())
#: a `)` closing the head of one of these is followed by a statement
_HEADS = frozenset("if while for with".split())


def _runs(jsx: bool, braces: bool) -> re.Pattern[str]:
    """What the lexer skips in one go: plain code and whole string literals, up to the next
    character that needs a decision (a backtick, a slash, a `-->`, a `<` where JSX may be, a
    brace inside a template substitution, a quote that opens no well-formed string, a `#!` past
    the first line's start, which the parser may read as a hash-bang line after white space)."""
    stops = "\"'`/-<#" + ("{}" if braces else "")
    plain = "[^" + re.escape(stops) + "]+"
    parts = [plain, *_STRINGS, r"-(?!->)", r"#(?!!)"]
    if not jsx:
        parts.append(r"<(?!!--)")
    return re.compile("(?:" + "|".join(parts) + ")*")


_RUNS = {(jsx, braces): _runs(jsx, braces) for jsx in (False, True) for braces in (False, True)}


def comments(language: str, text: str, until: int) -> list[Span] | None:
    """The comments of `text` that start before `until` (str offsets, sorted), as `language`
    ('javascript', 'typescript' or 'tsx') reads them; None when the lexer cannot be sure."""
    lexer = _Lexer(text, language)
    return lexer.comments if lexer.run(until) else None


class _Lexer:
    def __init__(self, text: str, language: str) -> None:
        self.text = text
        self.javascript = language == "javascript"
        self.jsx = language != "typescript"
        self.comments: list[Span] = []
        self.comment_starts: list[int] = []
        self.regexes: dict[int, int] = {}  # end -> start of each regular expression literal
        self.depth: list[int] = []  # braces open in each template substitution the lexer is inside
        self.skipped: list[Span] = []  # comments and regular expression literals, in order
        self.starts: list[int] = []  # where each of them starts

    def run(self, until: int) -> bool:
        text, pos = self.text, 1 if self.text.startswith("\ufeff") else 0
        if text.startswith("#!", pos):
            pos = self._line_comment(pos)
        while True:
            pos = _RUNS[self.jsx, bool(self.depth)].match(text, pos).end()
            if pos >= min(until, len(text)):
                return True
            char = text[pos]
            if char == "/":
                following = text[pos + 1: pos + 2]
                if following == "/":
                    pos = self._line_comment(pos)
                    continue
                if following == "*":
                    close = text.find("*/", pos + 2)
                    if close < 0:
                        return False
                    self._skip(pos, close + 2, comment=True)
                    pos = close + 2
                    continue
                role = self.role(pos)
                if role is None:
                    return False
                if role == DIVIDE:
                    pos += 1
                    continue
                literal = _REGEX.match(text, pos)
                if literal is None:
                    return False
                self.regexes[literal.end()] = pos
                self._skip(pos, literal.end())
                pos = literal.end()
            elif char == "`" or (char == "}" and self.depth[-1] == 0):
                if char == "}":
                    self.depth.pop()
                rest = _TEMPLATE.match(text, pos + 1)
                if rest is None:
                    return False
                if rest.group(1) == "${":
                    self.depth.append(0)
                pos = rest.end()
            elif char in "{}":
                self.depth[-1] += 1 if char == "{" else -1
                pos += 1
            elif char == "<" and not text.startswith("<!--", pos) and self.role(pos) == DIVIDE:
                pos += 2 if text.startswith("<<", pos) else 1  # less than or a shift; where a value may start, JSX
            else:
                return False  # JSX, an HTML-like comment, a `-->`, a string left open, a late `#!`

    def _line_comment(self, start: int) -> int:
        end = _LINE_END.search(self.text, start)
        end = end.start() if end else len(self.text)
        self._skip(start, end, comment=True)
        return end

    def _skip(self, start: int, end: int, comment: bool = False) -> None:
        """Record a comment or a regular expression literal, spans a look back steps over."""
        if comment:
            self.comments.append((start, end))
            self.comment_starts.append(start)
        self.skipped.append((start, end))
        self.starts.append(start)

    def previous(self, index: int) -> int:
        """The index of the last character of the token that ends at or before `index`, past white
        space and comments; -1 at the start of the file."""
        text, spans = self.text, self.comments
        k = bisect.bisect_right(self.comment_starts, index) - 1  # the last comment starting at or before it
        while True:
            low = spans[k][1] if k >= 0 else 0
            while index >= low and text[index] in _BLANK:
                index -= 1
            if k >= 0 and index < low:
                index = spans[k][0] - 1
                k -= 1
                continue
            return index

    def role(self, at: int) -> str | None:
        """Whether a `/` (or a `<`) at `at` starts a literal (REGEX) or is an operator (DIVIDE).
        An operator after a line break is not decided: where the statement before cannot go on
        (`var x`, `import 'm'`, `type A = B`), a semicolon is inserted and a literal starts."""
        role = self._role(at)
        if role == DIVIDE and _LINE_END.search(self.text, self.previous(at - 1) + 1, at):
            return None
        return role

    def _role(self, at: int) -> str | None:
        text = self.text
        i = self.previous(at - 1)
        if i < 0:
            return REGEX
        char = text[i]
        if i + 1 in self.regexes or char in "\"'`]":
            return DIVIDE
        if char in _WORD:
            return self._after_word(i)
        if char == ")":
            return self._after_parenthesis(i)
        if char in "+-":
            return None if i > 0 and text[i - 1] == char else REGEX  # `++` and `--` are not decided
        if char == ">":
            return REGEX if text[i - 1: i] == "=" or self.javascript else None  # `=>`; TS type arguments
        if char == "!":
            return REGEX if self.javascript else None  # TypeScript's `x!` is a value
        if char in "(,;[{:?~^|&*%=</":
            return REGEX
        return None

    def _word_start(self, i: int) -> int:
        while i >= 0 and self.text[i] in _WORD:
            i -= 1
        return i + 1

    def _after_word(self, i: int) -> str | None:
        start = self._word_start(i)
        word = self.text[start: i + 1]
        if word[0].isdigit():
            return DIVIDE  # a number
        member = self._member(start)
        if member != _ALONE:
            return member
        if word in _BEFORE_REGEX:
            return REGEX
        return None if word in _KEYWORDS else DIVIDE  # a name, a value keyword (`this`), a number

    def _member(self, start: int) -> str | None:
        """DIVIDE when the word at `start` is a property or private name (`a.return`, `#x`), None
        when what precedes it is not decided here, _ALONE when it stands on its own."""
        text = self.text
        if start > 0 and (text[start - 1] == "\\" or not text[start - 1].isascii()):
            return None  # an escape or a non-ASCII letter in the name
        if start > 0 and text[start - 1] == "#":
            return DIVIDE
        dot = self.previous(start - 1)
        if dot >= 0 and text[dot] == ".":
            if dot > 0 and (text[dot - 1] == "." or text[dot - 1] in _WORD and text[self._word_start(dot - 1)].isdigit()):
                return None  # spread, or a number ending in a dot
            return DIVIDE
        return _ALONE

    def _after_parenthesis(self, close: int) -> str | None:
        """A `/` after `)`: a statement follows the head of `if`, `while`, `for` and `with`;
        anything else the parentheses close (a call, a grouping) is a value."""
        opening = self._opening(close)
        if opening is None:
            return None
        i = self.previous(opening - 1)
        if i < 0 or self.text[i] not in _WORD:
            return None if self.text[i: i + 1] == ">" and not self.javascript else DIVIDE
        start = self._word_start(i)
        word = self.text[start: i + 1]
        member = self._member(start)
        if member != _ALONE:
            return member
        if word in _HEADS:
            return REGEX
        if word == "await" or word.isidentifier() and word not in _KEYWORDS and self._declared(start):
            return None  # `for await (…)`, or a function's head without a body (a TypeScript overload)
        return DIVIDE

    def _declared(self, start: int) -> bool:
        """Whether the name at `start` follows `function` or `function*` (a declaration's name)."""
        i = self.previous(start - 1)
        if i >= 0 and self.text[i] == "*":
            i = self.previous(i - 1)
        return i >= 0 and self.text[i] in _WORD and self.text[self._word_start(i): i + 1] == "function"

    def _opening(self, close: int, limit: int = 20000) -> int | None:
        """The `(` matching the `)` at `close`, found back through plain code, comments, regular
        expressions and string literals; None past `limit` characters, a template literal or a
        backslash."""
        text, depth, i = self.text, 0, close
        floor = max(0, close - limit)
        while True:
            p = max(text.rfind(c, floor, i + 1) for c in "()\"'`\\")
            if p < 0:
                return None
            k = bisect.bisect_right(self.starts, p) - 1
            if k >= 0 and p < self.skipped[k][1]:
                i = self.skipped[k][0] - 1  # inside a comment or a regular expression
                continue
            char = text[p]
            if char == ")":
                depth += 1
            elif char == "(":
                depth -= 1
                if depth == 0:
                    return p
            elif char in "\"'":
                p = self._string_start(p)
                if p is None:
                    return None
            else:
                return None
            i = p - 1

    def _string_start(self, close: int) -> int | None:
        """Where the string literal whose closing quote is at `close` opens: the previous quote
        of its kind that no backslash escapes, on the same line."""
        text, quote, i = self.text, self.text[close], close - 1
        while i >= 0:
            char = text[i]
            if char in _NEWLINES:
                return None
            if char == quote:
                slashes = 0
                while i - slashes - 1 >= 0 and text[i - slashes - 1] == "\\":
                    slashes += 1
                if slashes % 2 == 0:
                    return i
            i -= 1
        return None
