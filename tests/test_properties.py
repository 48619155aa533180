"""Property-based: random bytes and random diffs never crash the scanner or the diff reader,
a planted address in random surroundings is always found, and the attack on the gate, generated
from every class of bypass, crash and hang, never takes it down or gets a violation past it."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path

from conftest import run_child
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cogni_review import catalog, diff, regions, suppressions
from cogni_review.errors import GitError
from cogni_review.gate import NotJudged
from cogni_review.reporters.findings import printable
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


# The attack, generated: specs and files from every class of bypass, crash and hang ------------


TOKENS = {  # what is planted, and the gate that must report it
    ADDRESS: "wallet-address-literals",
    "widget_payment": "widget-payment-reason",
    "OPENROUTER_API_KEY": "provider-api-key-usage",
}
#: a line holding `{}` in a string, per language (a `.sql` one inside comments the dialects disagree on)
HOLDERS = {
    "py": 'x = "{}"\n', "ts": "const x = `{}`;\n", "js": "const x = '{}';\n", "tsx": 'const x = <a title="{}" />;\n',
    "sql": "/* /* */ SELECT '{}'; -- */\n", "sh": 'echo "{}"\n', "go": 'x := "{}"\n', "mdx": 'export const x = "{}"\n',
    "vue": '<p>{{{{ "{}" }}}}</p>\n',
}
AROUND = [("", ""), ("to\\n", ""), ("\\x41", ""), ("\\u0041", ""), ("$", ""), ("${", "}"), ("", "${chain}"),
          ("^", "$"), ("\\t", "\\n")]
#: what goes before the planted line: nothing, a decoy directive in a string, nesting no parser may take
BEFORE = {
    "nothing": lambda ext: "",
    "directive-in-a-string": lambda ext: HOLDERS[ext].format("// cogni: allow wallet-address-literals -- x"),
    "deep-brackets": lambda ext: "x = " + "(" * 3000 + "1" + ")" * 3000 + "\n" if ext == "py" else "",
    "long-chain": lambda ext: "x = " + " and ".join(["a"] * 30_000) + "\n" if ext == "py" else "",
    "blank-padded-directive": lambda ext: "// cogni: allow wallet-address-literals -- burn" + " " * 5000 + ".\n",
}
FOLDERS = ["src", "src/pay.spec.v1", "src/app/api/v1/payments/credits/route.ts", "src/nl\nname", "src/q b", b"src/bad\xff"]
#: spec additions: valid exotic YAML, or YAML that cannot be data (the run must stop with exit 2 naming the line)
EXTRAS = {
    "": None, "x: !!binary aGk=\n": None, "x: 2001-02-03\n": None, "x: &a {b: [1, *a]}\n": 1,
    "x: !!int abc\n": 1, "x: 2001-02-30\n": 1, "x: !!timestamp junk\n": 1, "x: " + "[" * 5000 + "]" * 5000 + "\n": 1,
    "x: a\x01b\n": 1, "x: &a [*a]\n": 1, "governance_paths: ['{" * 20 + "']\n": 1,
}
SPEC = "payments_in:\n  widget: {provider: depay}\nproviders:\n  openrouter: {api_key_env: OPENROUTER_API_KEY}\n"

PLANT = st.tuples(st.sampled_from(sorted(TOKENS)), st.sampled_from(sorted(HOLDERS)), st.sampled_from(AROUND),
                  st.sampled_from(sorted(BEFORE)), st.sampled_from(FOLDERS))


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(plants=st.lists(PLANT, min_size=1, max_size=4), extra=st.sampled_from(sorted(EXTRAS)))
def test_generated_attacks_are_judged_and_never_take_the_gate_down(plants, extra) -> None:
    """No exit 3, no signal, time and memory within a bound proportional to the input, and every
    planted violation reported (or, for a spec YAML cannot turn into data, exit 2 naming its line)."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        _git(root, "init", "-q", "-b", "main")
        _git(root, "config", "user.email", "dev@example.org")
        _git(root, "config", "user.name", "Dev")
        (root / ".cogni").mkdir()
        (root / ".cogni" / "repo-spec.yaml").write_text(SPEC + extra, encoding="utf-8")
        _git(root, "add", "-A")
        _git(root, "commit", "-q", "-m", "spec")
        _git(root, "checkout", "-q", "-b", "feature")
        expected, padded, size = set(), set(), 0
        for index, (token, ext, (before, after), decoy, folder) in enumerate(plants):
            raw = folder if isinstance(folder, bytes) else folder.encode()
            name = raw + f"/f{index}.{ext}".encode()
            text = BEFORE[decoy](ext) + HOLDERS[ext].format(before + token + after)
            path = os.path.join(os.fsencode(root), name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            Path(os.fsdecode(path)).write_bytes(text.encode())
            size += len(text)
            expected.add((TOKENS[token], printable(name.decode("utf-8", "surrogateescape")), token))
            if decoy == "blank-padded-directive":  # a real directive where `//` is a comment: it may set aside
                padded.add(printable(name.decode("utf-8", "surrogateescape")))
        _git(root, "add", "-A")
        limit, memory = 30 + 20 * size / 1e6, 700 + 500 * size / 1e6  # seconds and MB: a constant, then linear
        runs = [run_child(root, "audit", limit=limit), run_child(root, "check", "--staged", limit=limit)]
        _git(root, "commit", "-q", "-m", "attack")
        runs.append(run_child(root, "check", "--base", "main", limit=limit))
        for code, out, err, seconds, peak in runs:
            assert code >= 0, f"killed by signal {-code}"
            assert code != 3, err
            assert peak < memory, (peak, memory)
            if EXTRAS[extra] is not None:
                assert code == 2 and ".cogni/repo-spec.yaml" in err and ": " in err, err
                continue
            assert code == 1, err
            report = json.loads(out)
            got = {(g["type"], v["path"], v["token"]) for g in report["gates"] for v in g["violations"]}
            set_aside = {(s["gate"], s["path"]) for s in report["suppressions"] if s["line"] == 1}
            lost = {(gate, path, token) for gate, path, token in expected - got if (gate, path) not in set_aside}
            assert not lost, lost
            assert all(path in padded for _, path in set_aside), set_aside
