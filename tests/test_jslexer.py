"""The JavaScript/TypeScript comment lexer: exactly tree-sitter's comments where it answers, and
no answer (so the file is parsed) wherever a `/` or a `<` cannot be decided from the text alone."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cogni_review import jslexer
from cogni_review.regions import analyse
from cogni_review.source import SourceFile

LANGUAGES = ["javascript", "typescript", "tsx"]
ADDRESS = "0x52908400098527886E0F7030069857D2E4169EE7"


def lexed(language: str, text: str) -> list[str] | None:
    found = jslexer.comments(language, text, len(text))
    return None if found is None else [text[a:b] for a, b in found]


def parsed(language: str, text: str) -> list[str]:
    analysis = analyse(language, text)
    assert analysis.problem is None, analysis.problem
    return [text[r.start:r.end] for r in analysis.regions]


@pytest.mark.parametrize(
    "text, expected",
    [
        pytest.param('const u = "https://x.io//a"; // c\n', ["// c"], id="slashes-in-a-string"),
        pytest.param("const s = 'it\\'s /* no */'; /* yes */\n", ["/* yes */"], id="escaped-quote"),
        pytest.param("/**\n * Doc 0x52908400098527886E0F7030069857D2E4169EE7.\n */\nfunction f() {}\n",
                     ["/**\n * Doc 0x52908400098527886E0F7030069857D2E4169EE7.\n */"], id="jsdoc"),
        pytest.param("const t = `a // b ${x /* in */ + `${'//'}`} /* c */`; // end\n", ["/* in */", "// end"],
                     id="nested-templates"),
        pytest.param("const t = `${ {a: 1} / 2 }`; // end\n", None, id="brace-in-a-substitution"),
        pytest.param("const t = `${ {a: 1}.a / 2 }`; // end\n", ["// end"], id="braces-balanced-in-a-substitution"),
        pytest.param("const r = /\\/\\/|\\/\\*/g; // end\n", ["// end"], id="regex-with-slashes"),
        pytest.param("const r = /[/*]+/u;\nconst s = a / b; // d\n", ["// d"], id="regex-class-and-division"),
        pytest.param("x = a / b / c; // d\n", ["// d"], id="two-divisions"),
        pytest.param("x = a.return / b / c; // d\n", ["// d"], id="keyword-as-property"),
        pytest.param("function f() { return /a/g.test(b) /* c */; }\n", ["/* c */"], id="return-regex"),
        pytest.param("x = (a + b) / 2 /* c */;\n", ["/* c */"], id="grouping-division"),
        pytest.param("x = f(\"(\", ')') / 2 /* c */;\n", ["/* c */"], id="call-with-parentheses-in-strings"),
        pytest.param("if (a) /b*/.test(c); // d\n", ["// d"], id="statement-after-if"),
        pytest.param("x = /a/ / 2; // d\n", ["// d"], id="division-after-a-regex"),
        pytest.param("x = a\n/b/g; // d\n", None, id="a-slash-after-a-line-break"),
        pytest.param(f'var x\n/[//]/.test(y); call("{ADDRESS}")\n', None, id="semicolon-inserted-after-var"),
        pytest.param(f'import "m"\n/* c\n */ /[//]/.test(y); f("{ADDRESS}")\n', None,
                     id="semicolon-inserted-after-import-and-a-comment"),
        pytest.param(f'break a\r\n/[//]/.test(y); f("{ADDRESS}")\n', None, id="semicolon-inserted-after-break-label"),
        pytest.param("#!/usr/bin/env node\nx = 1;\n", ["#!/usr/bin/env node"], id="hash-bang"),
        pytest.param("x = 1;\r\n// c\r\ny = 2;\n", ["// c"], id="crlf"),
        pytest.param("x = a++ / b; // d\n", None, id="after-increment"),
        pytest.param("x = {} / b; // d\n", None, id="after-a-brace"),
        pytest.param("function* g() { yield /a/; } // d\n", None, id="after-yield"),
        pytest.param("x = a.\u00e9 / b; // d\n", None, id="non-ascii-name"),
        pytest.param("x = '/* open;\n", None, id="string-left-open"),
        pytest.param("/* open\n", None, id="comment-left-open"),
        pytest.param("x = `open;\n", None, id="template-left-open"),
        pytest.param("x = /^[\"[{]|a[/]/; // d\n", ["// d"], id="brackets-and-a-slash-in-a-class"),
        pytest.param("x = a-->b; // d\n", None, id="html-close-comment"),
        pytest.param(" #!x\n", None, id="hash-bang-after-white-space"),
    ],
)
@pytest.mark.parametrize("language", LANGUAGES)
def test_comments(language: str, text: str, expected: list[str] | None) -> None:
    assert lexed(language, text) == expected
    if expected is not None:
        assert parsed(language, text) == expected


@pytest.mark.parametrize(
    "language, text, expected",
    [
        pytest.param("javascript", "x = a > /b/g; // d\n", ["// d"], id="js-greater-than"),
        pytest.param("typescript", "x = y as Array<T> / 2; // d\n", None, id="ts-type-arguments"),
        pytest.param("javascript", "x = !/a/.test(b); // d\n", ["// d"], id="js-not"),
        pytest.param("typescript", "x = y! / 2; // d\n", None, id="ts-non-null"),
        pytest.param("typescript", "x = a < b; // d\n", ["// d"], id="ts-less-than"),
        pytest.param("javascript", "x = a < b; // d\n", ["// d"], id="js-less-than"),
        pytest.param("javascript", "x = <a href='//x'>//</a>; // d\n", None, id="jsx"),
        pytest.param("tsx", "const f = <T,>(a: T) => a; // c\n", None, id="tsx-generic-arrow"),
        pytest.param("javascript", "x = 1; <!-- old\n", None, id="html-open-comment"),
        pytest.param("typescript", "declare function f(a)\n/b/g.test(c); // d\n", None, id="ts-overload"),
    ],
)
def test_language_specifics(language: str, text: str, expected: list[str] | None) -> None:
    assert lexed(language, text) == expected
    if expected is not None:
        assert parsed(language, text) == expected


def test_only_what_starts_before_the_limit_is_read() -> None:
    text = "// one\nx = 1;\n/* two */ y = a++ / b;\n"
    assert jslexer.comments("typescript", text, text.index("y")) == [(0, 6), (14, 23)]
    assert jslexer.comments("typescript", text, len(text)) is None


def test_an_address_in_a_jsdoc_is_skipped_without_parsing() -> None:
    text = f"/**\n * The old treasury: {ADDRESS}.\n */\nexport const treasury = \"{ADDRESS}\";\n"
    file = SourceFile("src/a.ts", text.encode())
    found = file.matches(jslexer_pattern())
    assert [(m.line, m.column) for m in found] == [(4, 26)]
    assert not file.parsed


@pytest.mark.parametrize("text, paths", [
    (f'var x\n/[//]/.test(y); call("{ADDRESS}")\n', ("src/a.ts", "src/a.js", "src/a.tsx")),
    (f'export {{a}} from "m"\n// z\n/[//]/.test(y); call("{ADDRESS}")\n', ("src/a.ts", "src/a.mjs")),
    (f'let x: string\n/[//]/.test(y); call("{ADDRESS}")\n', ("src/a.ts", "src/a.tsx")),
    (f'type A = B\n/[//]/.test(y); call("{ADDRESS}")\n', ("src/a.ts", "src/a.tsx")),
])
def test_a_regex_after_an_inserted_semicolon_is_not_read_as_a_comment(text: str, paths) -> None:
    """After a statement that cannot go on, a line break ends it and the `/` starts a regular
    expression, whose `//` opens no comment: the address after it is code."""
    for path in paths:
        found = SourceFile(path, text.encode()).matches(jslexer_pattern())
        assert [m.line for m in found] == [text[:text.index(ADDRESS)].count("\n") + 1], path


def test_jsx_after_an_inserted_semicolon_is_not_read_as_a_comment() -> None:
    text = f"var x\n<div>// {ADDRESS}</div>\n"
    for path in ("src/a.jsx", "src/a.tsx"):
        assert len(SourceFile(path, text.encode()).matches(jslexer_pattern())) == 1, path


def test_a_file_the_lexer_gives_up_on_is_parsed() -> None:
    text = f"/** {ADDRESS} */\nx = a++ / b;\ny = \"{ADDRESS}\"; /* {ADDRESS} */\n"
    file = SourceFile("src/a.ts", text.encode())
    found = file.matches(jslexer_pattern())
    assert [(m.line, m.column) for m in found] == [(3, 6)]
    assert file.parsed


def jslexer_pattern():
    import re

    return re.compile(ADDRESS)


# Generated programs, valid by construction: where tree-sitter parses one without error and the
# lexer answers, both find exactly the same comments.

SPACE = st.sampled_from([" ", "", "\n", " /* c */ ", " // c\n", "\t", f" /** {ADDRESS} */ ", "\r\n"])
ATOMS = st.sampled_from([
    "a", "b1", "$x", "_y", "0x1F", "1.5", "10n", ".5", '"s//x"', "'t/*y*/'", "'q\\'//'", "/re\\//g", "/[/*]/",
    "/a/", "this", "null", "a.b", "a?.return", "a.if", "new F()", "`t // ${a} /* */`", "x.#p" if False else "x.p",
])
UNARY = st.sampled_from(["", "!", "-", "+", "typeof ", "void ", "~"])
BINARY = st.sampled_from(["/", "*", "+", "-", "<", ">", "==", "&&", "??", "%", "/ /r/ /", " in ", " instanceof "])


def expressions():
    def extend(inner):
        return st.one_of(
            st.tuples(inner, SPACE, BINARY, SPACE, inner).map("".join),
            st.tuples(UNARY, st.just("("), inner, st.just(")")).map("".join),
            st.tuples(st.just("f("), inner, st.just(", "), inner, st.just(")")).map("".join),
            st.tuples(st.just("[") , inner, st.just("]")).map("".join),
            st.tuples(st.just("`x${"), inner, st.just("}y`")).map("".join),
        )

    return st.recursive(st.tuples(UNARY, ATOMS).map("".join), extend, max_leaves=8)


def statements():
    expression = expressions()
    simple = st.one_of(
        st.tuples(st.just("x = "), expression, st.just(";")).map("".join),
        st.tuples(st.just("return "), expression, st.just(";")).map("".join),
        st.tuples(st.just("if ("), expression, st.just(") /r\\/e/.test(a);")).map("".join),
        st.tuples(st.just("while ("), expression, st.just(") x = "), expression, st.just(";")).map("".join),
        st.tuples(expression, st.just(";")).map("".join),
    )
    return st.lists(st.tuples(SPACE, simple, SPACE).map("".join), min_size=1, max_size=6).map(
        lambda body: "function f() {\n" + "\n".join(body) + "\n}\n")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(program=statements(), language=st.sampled_from(LANGUAGES))
def test_the_lexer_agrees_with_the_parser(program: str, language: str) -> None:
    found = lexed(language, program)
    analysis = analyse(language, program)
    if found is not None and analysis.problem is None:
        assert found == [program[r.start:r.end] for r in analysis.regions]


PIECES = st.sampled_from(["//", "/*", "*/", "/**", '"', "'", "`", "${", "}", "\n", " ", "x", "=", ";", "/", "*",
                          "<!--", "-->", "<p>", "</p>", "{", "(", ")", "\r", "\u2028", "#!", "\\", "a/b/", "return",
                          "if", ".", "++", "!", ">", "<", "[", "]", "1", "yield", "é", "\u00a0"])


@settings(max_examples=600, deadline=None)
@given(pieces=st.lists(PIECES, max_size=40), language=st.sampled_from(LANGUAGES))
def test_an_address_the_parser_calls_code_is_never_in_a_lexed_comment(pieces, language) -> None:
    """Anything at all, then an address: where the lexer answers and the parser reads the file
    without error, the address is in a comment for both or for neither."""
    text = "".join(pieces) + ADDRESS + ";\n"
    offset = len(text) - len(ADDRESS) - 2
    found = jslexer.comments(language, text, offset + 1)
    analysis = analyse(language, text)
    if found is None or analysis.problem is not None:
        return
    in_parsed = any(r.start <= offset < r.end for r in analysis.regions)
    assert any(a <= offset < b for a, b in found) == in_parsed
