"""Property-based: random bytes and random diffs never crash the scanner or the diff reader,
and a planted address in random surroundings is always found."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cogni_review import catalog, diff, regions, suppressions
from cogni_review.errors import GitError
from cogni_review.gate import NotJudged
from cogni_review.source import SourceFile

PLUGINS = {t: f.plugin for t, f in catalog.builtins().items()}
WALLET = PLUGINS["wallet-address-literals"]
ADDRESS = "0x52908400098527886E0F7030069857D2E4169EE7"
PATHS = ["src/a.ts", "src/a.tsx", "src/a.js", "src/a.py", "src/a.sql", "src/a.go", "src/a.txt"]
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(data=st.binary(max_size=4000), path=st.sampled_from(PATHS))
def test_random_bytes_never_crash_any_gate(data: bytes, path: str) -> None:
    file = SourceFile(path, data)
    for plugin in PLUGINS.values():
        if plugin.is_file_gate:
            options = plugin.options.model_validate(dict(plugin.examples.options))
            try:
                list(plugin.scan(file, options))
            except NotJudged:  # the contract for a file a rule cannot read; the engine notes it
                assert path.endswith(".py")
    suppressions.find(file)


@FAST
@given(text=st.text(max_size=3000), language=st.sampled_from(["python", "javascript", "typescript", "tsx", "sql", "text"]))
def test_regions_either_parse_or_say_so(text: str, language: str) -> None:
    try:
        found = regions.non_code_regions(language, text)
    except regions.ParseFailure:
        return
    assert all(0 <= r.start < r.end <= len(text) for r in found)
    assert all(a.end <= b.start for a, b in zip(found, found[1:]))


SEPARATOR = st.sampled_from([" ", "\n", "\r\n", "\t", "(", ")", "=", ",", ";", ":", "[", "{", "'", '"', "+"])


@FAST
@given(before=st.text(max_size=2000), after=st.text(max_size=2000), left=SEPARATOR, right=SEPARATOR)
def test_a_planted_address_in_plain_text_is_always_found(before: str, after: str, left: str, right: str) -> None:
    text = before + left + ADDRESS + right + after
    file = SourceFile("src/config.go", text.encode("utf-8", errors="surrogatepass"))
    tokens = [v.token for v in WALLET.scan(file, WALLET.options())]
    assert ADDRESS in tokens


QUIET = st.characters(blacklist_characters="\"'`/\\<\r\n\u2028\u2029", blacklist_categories=("Cs",))


@FAST
@given(noise=st.text(alphabet=QUIET, max_size=500), before=st.text(alphabet=QUIET, max_size=100),
       after=st.text(alphabet=QUIET, max_size=100))
def test_a_planted_address_in_a_typescript_string_is_always_found(noise: str, before: str, after: str) -> None:
    """Whatever precedes it (nothing there can open a comment or a string), a literal in code is found."""
    text = f"{noise}\nconst planted = \"{before} {ADDRESS} {after}\";\n"
    file = SourceFile("src/planted.ts", text.encode("utf-8"))
    assert ADDRESS in [v.token for v in WALLET.scan(file, WALLET.options())]


DIFF_LINE = st.one_of(
    st.just("diff --git a/x b/x"), st.just("--- a/x"), st.just("+++ b/x"), st.just("@@ -1,2 +1,3 @@"),
    st.builds(lambda t: "+" + t, st.text(max_size=40)), st.builds(lambda t: "-" + t, st.text(max_size=40)),
    st.builds(lambda t: " " + t, st.text(max_size=40)), st.text(max_size=60),
)


@FAST
@given(lines=st.lists(DIFF_LINE, max_size=40))
def test_random_diffs_parse_or_raise_a_clear_error(lines) -> None:
    patch = "\n".join(lines).encode("utf-8", errors="surrogatepass")
    try:
        diff._hunks(patch.splitlines(keepends=True))
    except GitError as e:
        assert str(e).startswith("cannot read git's diff")


@FAST
@given(fields=st.lists(st.one_of(st.sampled_from(["M", "A", "D", "R100", "C075", "T"]), st.text(max_size=20)), max_size=30))
def test_random_name_status_never_crashes(fields) -> None:
    try:
        diff._name_status("\0".join(fields))
    except GitError as e:
        assert str(e).startswith("cannot read git's list of changed files")


JS_PIECES = st.sampled_from(["//", "/*", "*/", "/**", '"', "'", "`", "${", "}", "\n", " ", "x", "=", ";", "/", "*", "<!--", "-->", "<p>", "</p>", "{", "(", ")", "\r", "\u2028", "#!", "\\", "a/b/"])


@settings(max_examples=400, deadline=None)
@given(pieces=st.lists(JS_PIECES, max_size=40), language=st.sampled_from(["javascript", "typescript", "tsx"]))
def test_certainly_code_never_says_code_inside_a_comment(pieces, language) -> None:
    """The no-parse shortcut may only ever say "code" where the parser agrees."""
    text = "".join(pieces) + ADDRESS + ";\n"
    offset = len(text) - len(ADDRESS) - 2
    if not regions.certainly_code(language, text, offset):
        return
    try:
        found = regions.non_code_regions(language, text)
    except regions.ParseFailure:
        return  # read as plain text: everything is code anyway
    assert not any(r.start <= offset < r.end for r in found)
