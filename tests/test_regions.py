"""Comment and docstring regions: what the gate skips, and what it must not skip."""

from __future__ import annotations

import subprocess
import sys

import pytest

from cogni_review.regions import ParseFailure, Region, language_of, non_code_regions


def covered(language: str, text: str) -> list[tuple[str, str]]:
    """The (text, kind) of each region, after checking the regions are sorted and disjoint."""
    regions = non_code_regions(language, text)
    ends = [0] + [r.end for r in regions[:-1]]
    assert all(end <= r.start < r.end <= len(text) for end, r in zip(ends, regions)), regions
    return [(text[r.start : r.end], r.kind) for r in regions]


def code(language: str, text: str) -> str:
    """`text` with every region cut out: what a token scanner gets to see."""
    parts, last = [], 0
    for region in non_code_regions(language, text):
        parts.append(text[last : region.start])
        last = region.end
    return "".join(parts + [text[last:]])


C, D = "comment", "docstring"


@pytest.mark.parametrize(
    "text, expected",
    [
        pytest.param(
            '"""Module doc: credits_purchase."""\nimport os\n\n'
            'KEY = "OPENROUTER_API_KEY"  # reads OPENROUTER_API_KEY\n\n\n'
            'def f():\n    """Function doc."""\n    return 1\n',
            [
                ('"""Module doc: credits_purchase."""', D),
                ("# reads OPENROUTER_API_KEY", C),
                ('"""Function doc."""', D),
            ],
            id="comment-string-docstring",
        ),
        pytest.param(
            'class A:\n    """Class doc."""\n\n    limit = 1\n    "Attribute doc."\n',
            [('"""Class doc."""', D), ('"Attribute doc."', D)],
            id="class-and-attribute-docstrings",
        ),
        pytest.param('x = "a # b"\n', [], id="hash-inside-string"),
        pytest.param('x = f"# {y}"  # note\n', [("# note", C)], id="fstring-with-hash"),
        pytest.param('f"{credits_purchase}"\n', [], id="bare-fstring-is-code"),
        pytest.param('"a" f"{b}"\n', [], id="concatenation-with-fstring-is-code"),
        pytest.param('"a" \'b c\'\n', [("\"a\" 'b c'", D)], id="bare-concatenation"),
        pytest.param('("a"  # why\n " b")\n', [('("a"  # why\n " b")', D)], id="comment-in-docstring-parens"),
        pytest.param('b"raw bytes"\n', [('b"raw bytes"', D)], id="bare-bytes"),
        pytest.param('x = 1; "after it"  # c\n', [('"after it"', D), ("# c", C)], id="after-semicolon"),
        pytest.param('def f():\n    "0x52908400098527886E0F7030069857D2E4169EE7"\n', [], id="one-word-docstring-is-a-value"),
        pytest.param('class R:\n    "credits_purchase"\n', [], id="one-word-class-docstring-is-a-value"),
        pytest.param('def f():\n    "Pay to a wallet."\n\nx = f.__doc__\n', [], id="a-file-reading-docstrings-makes-them-code"),
        pytest.param('"a".join(x)\n', [], id="string-method-call-is-code"),
        pytest.param('x = ("a"  # c\n     "b")\n', [("# c", C)], id="assigned-string-is-code"),
        pytest.param(
            "#!/usr/bin/env python\n# c\n\n\n# footer\n",
            [("#!/usr/bin/env python", C), ("# c", C), ("# footer", C)],
            id="header-footer",
        ),
        pytest.param("", [], id="empty"),
        pytest.param("x = 1  # no newline", [("# no newline", C)], id="no-trailing-newline"),
        pytest.param(
            "match x:\n    case {'k': v}:  # c\n        pass\ntype T[U] = list[U]  # d\n",
            [("# c", C), ("# d", C)],
            id="modern-syntax",
        ),
    ],
)
def test_python(text: str, expected: list[tuple[str, str]]) -> None:
    assert covered("python", text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        pytest.param(
            'def f():\r\n\t"""Dök dök."""\r\n\tx = "ñ"  # ĉomment\r\n',
            (Region(11, 25, D), Region(37, 46, C)),
            id="crlf-tab-non-ascii",
        ),
        pytest.param('"😀 x"  # c\n', (Region(0, 5, D), Region(7, 10, C)), id="astral"),
        pytest.param("\ufeff# c\nx = 1\n", (Region(1, 4, C),), id="bom"),
        pytest.param('x = "\udcff"  # \udcfe c\n', (Region(9, 14, C),), id="undecodable-bytes"),
        pytest.param("x = 1\r# c\ry = 2\n", (Region(6, 9, C),), id="cr-only"),
        pytest.param("x = (1 +\\\n  2)  # c\n", (Region(16, 19, C),), id="continuation"),
        # libcst drops the space before this colon when it generates code; offsets must not drift
        pytest.param(
            "try:\n    pass\nexcept E :  # c\n    'd e'\n",
            (Region(26, 29, C), Region(34, 39, D)),
            id="dropped-space",
        ),
    ],
)
def test_python_offsets(text: str, expected: tuple[Region, ...]) -> None:
    assert non_code_regions("python", text) == expected


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("def f(:\n    pass\n", id="bad-signature"),
        pytest.param("x = (\n", id="unclosed-paren"),
    ],
)
def test_python_syntax_error(text: str) -> None:
    with pytest.raises(ParseFailure, match="^python syntax error at line 1; comments outside the error"):
        non_code_regions("python", text)


@pytest.mark.parametrize("language", ["python", "typescript"])
def test_comments_outside_a_syntax_error_are_still_comments(language: str) -> None:
    """The parser recovers: one odd construct costs the file its own span, not every comment."""
    marker = "#" if language == "python" else "//"
    odd = "x = = 1" if language == "python" else "interface X<in out T> {}"
    text = f"{marker} header\n{odd}\n{marker} footer\n"
    analysis = regions_analysis(language, text)
    assert analysis.problem.startswith(f"{language} syntax error at line 2")
    assert [text[r.start:r.end] for r in analysis.regions] == [f"{marker} header", f"{marker} footer"]


def test_deep_python_nesting_is_no_obstacle() -> None:
    text = "x = " + " + ".join(["1"] * 600) + "  # c\n"
    assert covered("python", text) == [("# c", C)]


@pytest.mark.parametrize(
    ("language", "text"),
    [
        pytest.param("typescript", 'type T = import("viem").EIP1193RequestFn<[{Method: "a"}]>;\n// c\nconst a = 1;\n',
                     id="import-type-with-type-arguments"),
        pytest.param("typescript", "interface X<in out T> { a: T }\n// c\nconst a = 1;\n", id="variance-annotations"),
        pytest.param("javascript", 'import x from "./a.json" assert { type: "json" };\n// c\nconst a = 1;\n',
                     id="import-assertion"),
    ],
)
def test_real_files_the_grammars_do_not_know_keep_their_comments(language: str, text: str) -> None:
    assert "// c" in [t for t, _ in covered_tolerant(language, text)]


def test_a_hash_bang_line_is_a_comment() -> None:
    assert covered("javascript", "#!/usr/bin/env node 0x52908400098527886E0F7030069857D2E4169EE7\nconst a = 1;\n") == [
        ("#!/usr/bin/env node 0x52908400098527886E0F7030069857D2E4169EE7", C)]


def regions_analysis(language: str, text: str):
    from cogni_review.regions import analyse

    return analyse(language, text)


def covered_tolerant(language: str, text: str) -> list[tuple[str, str]]:
    return [(text[r.start:r.end], r.kind) for r in regions_analysis(language, text).regions]


SCRIPT_LANGUAGES = ["javascript", "typescript", "tsx"]
JSX_LANGUAGES = ["javascript", "tsx"]


@pytest.mark.parametrize(
    "text, expected",
    [
        pytest.param(
            'const k = "OPENROUTER_API_KEY"; // OPENROUTER_API_KEY\n',
            [("// OPENROUTER_API_KEY", C)],
            id="comment-vs-string",
        ),
        pytest.param("const u = 'https://x.io//a'; // c\n", [("// c", C)], id="slashes-in-string"),
        pytest.param("/* one\n   two */\nconst a = 1;\n", [("/* one\n   two */", C)], id="block-comment-lines"),
        pytest.param("/**\n * Doc.\n */\nfunction f() {}\n", [("/**\n * Doc.\n */", C)], id="doc-comment"),
        pytest.param(
            'const t = `a // b ${x /* in */ + "//"} /* c */`; // end\n',
            [("/* in */", C), ("// end", C)],
            id="template-literal",
        ),
        pytest.param("const r = /\\/\\/|\\/\\*/g; // end\n", [("// end", C)], id="regex-with-slashes"),
        pytest.param("const r = /[/*]+/u;\nconst s = a / b; // d\n", [("// d", C)], id="regex-class-and-division"),
        pytest.param("const a = 1; /* x */ const b = 2; /* y */\n", [("/* x */", C), ("/* y */", C)], id="two-blocks"),
    ],
)
@pytest.mark.parametrize("language", SCRIPT_LANGUAGES)
def test_scripts(language: str, text: str, expected: list[tuple[str, str]]) -> None:
    assert covered(language, text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        pytest.param(
            'const e = <a href="//x.io" title="credits_purchase">credits_purchase // text {/* note */}</a>;\n',
            [("/* note */", C)],
            id="jsx-text-attributes-comment",
        ),
        pytest.param(
            "const e = (\n  <div>\n    {/* a */}\n    {x /* b */}\n  </div>\n);\n",
            [("/* a */", C), ("/* b */", C)],
            id="jsx-expression-comments",
        ),
        pytest.param("const f = <>{`${y} // z`}</>;\n", [], id="jsx-template"),
    ],
)
@pytest.mark.parametrize("language", JSX_LANGUAGES)
def test_jsx(language: str, text: str, expected: list[tuple[str, str]]) -> None:
    assert covered(language, text) == expected


@pytest.mark.parametrize(
    "language, text, expected",
    [
        pytest.param("typescript", "interface A {\n  k: 'x'; // c\n}\nlet v = <any>w;\n", [("// c", C)], id="ts-types"),
        pytest.param("typescript", "type T = `a${string}//`; // c\n", [("// c", C)], id="ts-template-type"),
        pytest.param("javascript", "<!-- legacy\nconst a = 1;\n", [("<!-- legacy", C)], id="html-comment"),
        pytest.param("tsx", "const x = <T,>(a: T) => a; // c\n", [("// c", C)], id="tsx-generic-arrow"),
    ],
)
def test_script_specifics(language: str, text: str, expected: list[tuple[str, str]]) -> None:
    assert covered(language, text) == expected


@pytest.mark.parametrize("language", SCRIPT_LANGUAGES)
def test_script_offsets(language: str) -> None:
    text = 'const s = "ü😀";\r\n// é\r\n/* ñ\r\n */ x;'
    assert non_code_regions(language, text) == (Region(17, 21, C), Region(23, 32, C))


@pytest.mark.parametrize("language", SCRIPT_LANGUAGES)
def test_script_undecodable_bytes(language: str) -> None:
    assert non_code_regions(language, 'x = "\udcff"; // \udcfe c\n') == (Region(9, 15, C),)


@pytest.mark.parametrize(
    "language, text",
    [
        pytest.param("tsx", "const a = <div>;\n", id="unclosed-jsx"),
        pytest.param("tsx", "let v = <any>w;\n", id="cast-in-tsx"),
        pytest.param("typescript", "let = ;\n", id="broken-ts"),
        pytest.param("javascript", "const a: number = 1;\n", id="types-in-js"),
        pytest.param("javascript", "function f( {\n", id="missing-paren"),
    ],
)
def test_script_syntax_error(language: str, text: str) -> None:
    with pytest.raises(ParseFailure, match=f"^{language} syntax error at line 1; "):
        non_code_regions(language, text)


def test_script_error_line() -> None:
    with pytest.raises(ParseFailure, match="^typescript syntax error at line 3; "):
        non_code_regions("typescript", "const a = 1;\n// fine\nconst b = ;\n")


@pytest.mark.parametrize(
    "text, expected",
    [
        pytest.param("SELECT 1; -- credits_purchase\nSELECT 2;\n", [("-- credits_purchase", C)], id="line-comment"),
        pytest.param("SELECT * FROM ledger WHERE reason = 'credits_purchase';\n", [], id="reason-in-where"),
        pytest.param("SELECT '-- x' AS a; -- real\n", [("-- real", C)], id="dashes-in-string"),
        pytest.param("SELECT 'it''s -- x';\n", [], id="doubled-quote"),
        pytest.param("SELECT E'it\\'s -- x' -- c\n", [("-- c", C)], id="escape-string"),
        pytest.param("SELECT 'a\\' -- c\n", [], id="backslash-plain-string-is-open-in-mysql"),
        pytest.param('SELECT "a -- b" FROM t;\n', [], id="quoted-identifier"),
        pytest.param('SELECT "a "" -- b" FROM t;\n', [], id="quoted-identifier-escape"),
        pytest.param(
            "/* a /* b */ c */ SELECT 1; /* d */\n", [("/* a /* b */", C), ("/* d */", C)], id="nested-block"
        ),
        pytest.param("/* one\n   two */\nSELECT 1;\n", [("/* one\n   two */", C)], id="block-lines"),
        pytest.param("SELECT $$ -- x $$, 1; -- z\n", [("-- z", C)], id="dollar-quote"),
        pytest.param(
            "CREATE FUNCTION f() RETURNS text AS $fn$\n  SELECT $$ -- y $$; /* q */\n$fn$ LANGUAGE sql; -- z\n",
            [("-- z", C)],
            id="tagged-dollar-quote",
        ),
        pytest.param("SELECT a$b$ -- c\n", [("-- c", C)], id="dollar-inside-identifier"),
        pytest.param("SELECT $1, $2 -- c\n", [("-- c", C)], id="positional-parameters"),
        pytest.param("SELECT name' -- c'\n", [], id="e-only-as-prefix"),
        pytest.param("SELECT 1 -- c\r\nFROM t\n", [("-- c", C)], id="crlf"),
        pytest.param("SELECT 2 /**/ -- c", [("/**/", C), ("-- c", C)], id="empty-block"),
    ],
)
def test_sql(text: str, expected: list[tuple[str, str]]) -> None:
    assert covered("sql", text) == expected


def test_sql_offsets() -> None:
    assert non_code_regions("sql", "SELECT 'é' -- ñ\r\nFROM t /* ü */") == (Region(11, 15, C), Region(24, 31, C))


@pytest.mark.parametrize(
    "text, expected",
    [
        pytest.param("SELECT 'abc; -- x\n", [], id="string"),
        pytest.param("SELECT 1;\nSELECT E'a\\'; -- x\n", [], id="escape-string"),
        pytest.param('SELECT "abc; -- x\n', [], id="identifier"),
        pytest.param("SELECT 1;\n/* a /* b */\nSELECT 2;\n", [("/* a /* b */", C)], id="nested-comment"),
        pytest.param("SELECT 1 /*/ x\n", [("/*/ x\n", C)], id="slash-star-slash"),
        pytest.param("SELECT $x$ abc $y$; -- x\n", [], id="dollar"),
    ],
)
def test_sql_left_open_runs_to_the_end(text: str, expected: list[tuple[str, str]]) -> None:
    """A string left open is code to the end of the file, in the dialect that opened it."""
    assert covered("sql", text) == expected


UPDATE = "UPDATE credit_ledger SET credits = 0"


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(f"/* /* */ {UPDATE}; -- */\n", id="sqlite-does-not-nest"),
        pytest.param(f"SELECT 1 --1\n; {UPDATE};\n", id="mysql-dashes-need-a-space"),
        pytest.param(f"SELECT 2 --1; {UPDATE};\n", id="mysql-minus-minus-then-a-statement"),
        pytest.param(f"# {UPDATE};\n", id="hash-is-code-outside-mysql"),
        pytest.param(f"/*! {UPDATE} */;\n", id="mysql-executable-comment"),
        pytest.param(f"SELECT '\\'; -- '; {UPDATE};\n", id="mysql-backslash-escape"),
        pytest.param(f"SELECT $$ -- $$; {UPDATE};\n", id="postgres-dollar-quote"),
        pytest.param(f"SELECT `a -- b`; {UPDATE};\n", id="backquoted-identifier"),
        pytest.param(f"SELECT [a -- b]; {UPDATE};\n", id="sqlite-bracket-identifier"),
    ],
)
def test_what_any_common_dialect_runs_is_code(text: str) -> None:
    from cogni_review import catalog
    from cogni_review.source import SourceFile

    assert UPDATE in code("sql", text)
    plugin = catalog.builtins()["sql-confinement"].plugin
    options = plugin.options.model_validate({"statements": [{"pattern": "UPDATE credit_ledger"}]})
    assert [v.token for v in plugin.scan(SourceFile("db/fix.sql", text.encode()), options)] == ["UPDATE credit_ledger"]


@pytest.mark.parametrize(
    "text, expected",
    [
        pytest.param("SELECT 1; -- c\n", [("-- c", C)], id="dashes-and-a-space"),
        pytest.param("SELECT 1; --\n", [("--", C)], id="dashes-and-a-line-break"),
        pytest.param("SELECT 1; /* c */\n", [("/* c */", C)], id="block"),
        pytest.param("SELECT 1; -- '\nSELECT 2;\n", [("-- '", C)], id="quote-in-a-comment"),
    ],
)
def test_what_every_dialect_calls_a_comment_is_one(text: str, expected: list[tuple[str, str]]) -> None:
    assert covered("sql", text) == expected


def test_code_is_what_remains() -> None:
    text = "SELECT reason -- credits_purchase\nFROM t /* x */ WHERE reason = 'credits_purchase';\n"
    assert code("sql", text) == "SELECT reason \nFROM t  WHERE reason = 'credits_purchase';\n"


def test_text_has_no_regions() -> None:
    assert non_code_regions("text", "x = 1  # OPENROUTER_API_KEY\n// y\n") == ()


@pytest.mark.parametrize("language", ["docs", "ruby", ""])
def test_unknown_language(language: str) -> None:
    with pytest.raises(ValueError, match="^no regions for language"):
        non_code_regions(language, "x")


@pytest.mark.parametrize(
    "path, language",
    [
        pytest.param("a/b.py", "python", id="py"),
        pytest.param("stubs/b.pyi", "python", id="pyi"),
        pytest.param("App.JS", "javascript", id="js-upper"),
        pytest.param("m.mjs", "javascript", id="mjs"),
        pytest.param("c.cjs", "javascript", id="cjs"),
        pytest.param("c.jsx", "javascript", id="jsx"),
        pytest.param("src/x.ts", "typescript", id="ts"),
        pytest.param("types/x.d.ts", "typescript", id="d-ts"),
        pytest.param("x.mts", "typescript", id="mts"),
        pytest.param("x.cts", "typescript", id="cts"),
        pytest.param("ui/App.tsx", "tsx", id="tsx"),
        pytest.param("db/001_init.SQL", "sql", id="sql-upper"),
        pytest.param("README.md", "docs", id="md"),
        pytest.param("app/page.mdx", "text", id="mdx-is-code"),
        pytest.param("notes.markdown", "docs", id="markdown"),
        pytest.param("index.rst", "docs", id="rst"),
        pytest.param("LICENSE.txt", "docs", id="txt"),
        pytest.param("guide.adoc", "docs", id="adoc"),
        pytest.param("config.yaml", "yaml", id="yaml"),
        pytest.param("ci/deploy.YML", "yaml", id="yml-upper"),
        pytest.param("pyproject.toml", "toml", id="toml"),
        pytest.param("scripts/run.sh", "shell", id="shell"),
        pytest.param("Dockerfile", "shell", id="dockerfile"),
        pytest.param("nodes/op/app/Dockerfile.dev", "shell", id="dockerfile-variant"),
        pytest.param(".env", "shell", id="dotenv"),
        pytest.param("apps/web/.env.local.example", "shell", id="dotenv-example"),
        pytest.param("contracts/Token.sol", "solidity", id="solidity"),
        pytest.param("LICENSE", "text", id="no-extension"),
        pytest.param(".gitignore", "text", id="dotfile"),
        pytest.param("dir.py/file", "text", id="dotted-directory"),
        pytest.param("x.ts.bak", "text", id="backup"),
    ],
)
def test_language_of(path: str, language: str) -> None:
    assert language_of(path) == language


def test_import_loads_no_parser() -> None:
    probe = "import sys, cogni_review.regions; print(sorted({'libcst', 'tree_sitter'} & set(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout == "[]\n"


@pytest.mark.parametrize(
    ("language", "text", "expected"),
    [
        pytest.param("yaml", "key: 1 # a comment\n", ["# a comment"], id="yaml-trailing"),
        pytest.param("yaml", "# whole line\nkey: 1\n", ["# whole line"], id="yaml-own-line"),
        pytest.param("yaml", 'key: "a # b" # c\n', ["# c"], id="yaml-hash-in-double-quotes"),
        pytest.param("yaml", "key: 'a # b' # c\n", ["# c"], id="yaml-hash-in-single-quotes"),
        pytest.param("yaml", "url: http://x/#frag\n", [], id="yaml-hash-without-space-is-text"),
        pytest.param("yaml", "key: |\n  # data in a block scalar\nnext: 1 # c\n", ["# c"], id="yaml-block-scalar"),
        pytest.param("yaml", 'key: "open\n  # data in a multi-line string"\n', [], id="yaml-multi-line-quotes"),
        pytest.param("yaml", "key: [a, b  # c\n  ]\n", ["# c"], id="yaml-flow"),
        pytest.param("toml", 'x = 1 # c\ny = "a # b" # d\n', ["# c", "# d"], id="toml"),
        pytest.param("toml", 'banner = """\n# data\n""" # c\n', ["# c"], id="toml-multi-line-string"),
        pytest.param("toml", "path = '''C:\\x # data''' # c\n", ["# c"], id="toml-literal"),
        pytest.param("shell", "export KEY=$OTHER #c\n", ["#c"], id="shell"),
        pytest.param("shell", 'echo "a \\" # b" # c\n', ["# c"], id="shell-escaped-quote"),
        pytest.param("shell", "echo 'multi\n# line' # c\n", ["# c"], id="shell-quote-spans-lines"),
        pytest.param("shell", "cat <<EOF\n# data\nEOF\necho x # c\n", ["# c"], id="shell-heredoc"),
        pytest.param("shell", "cat <<-'END'\n\t# data\n\tEND\n# c\n", ["# c"], id="shell-heredoc-tabs"),
        pytest.param("shell", 'cat <<\\EOF\nsaid "hi\nEOF\necho "#1 $KEY" # c\n', ["# c"], id="shell-heredoc-escaped-word"),
        pytest.param("shell", 'cat <<E"OF"\nsaid "hi\nEOF\necho "#1 $KEY" # c\n', ["# c"], id="shell-heredoc-part-quoted-word"),
        pytest.param("shell", 'cat <<< "a" # c\necho "b" # d\n', ["# c", "# d"], id="shell-here-string-is-no-heredoc"),
        pytest.param("shell", "X=a\\ #data\necho x#y # c\n", ["# c"], id="shell-escape-and-mid-word"),
        pytest.param("shell", "KEY=value #c\n# whole\n", ["#c", "# whole"], id="dotenv"),
    ],
)
def test_hash_comments(language: str, text: str, expected: list[str]) -> None:
    """`#` starts a comment only where each language says; what it holds as data stays code."""
    assert [t for t, _ in covered(language, text)] == expected


@pytest.mark.parametrize(
    ("language", "text"),
    [
        pytest.param("yaml", 'key: "unclosed\n', id="yaml"),
        pytest.param("toml", 'x = "unclosed\n', id="toml"),
        pytest.param("shell", "echo 'unclosed\n", id="shell-quote"),
        pytest.param("shell", "cat <<EOF\nnever closed\n", id="shell-heredoc"),
    ],
)
def test_what_a_hash_scanner_cannot_read_is_a_parse_failure(language: str, text: str) -> None:
    with pytest.raises(ParseFailure):
        non_code_regions(language, text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("// SPDX\ncontract C {}", ["// SPDX"], id="line"),
        pytest.param("/* a\n b */ uint x;", ["/* a\n b */"], id="block"),
        pytest.param('string u = "http://x//y"; // c', ["// c"], id="slashes-in-string"),
        pytest.param("string t = 'it\\'s /* no */'; /* yes */", ["/* yes */"], id="escaped-quote"),
        pytest.param('bytes h = hex"00ff"; // c', ["// c"], id="hex-literal"),
    ],
)
def test_solidity_comments(text: str, expected: list[str]) -> None:
    assert [t for t, _ in covered("solidity", text)] == expected


def test_unterminated_solidity_comment_is_a_parse_failure() -> None:
    with pytest.raises(ParseFailure, match="unterminated /\\* comment"):
        non_code_regions("solidity", "uint x; /* never closed")
