"""Each gate's own examples, then the tricky inputs: code versus comments, per language."""

from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path

import pytest

from cogni_review import catalog, rule, testing
from cogni_review.errors import ConfigError
from cogni_review.source import SourceFile

PLUGINS = {t: f.plugin for t, f in catalog.builtins().items()}
GOLDEN = Path(__file__).parent / "fixtures" / "golden" / "examples.txt"


def findings(gate: str, path: str, code: str, **options) -> list[tuple[int, int, str]]:
    plugin = PLUGINS[gate]
    opts = plugin.options.model_validate(options)
    return [(v.line, v.column, v.token) for v in plugin.scan(SourceFile(path, code.encode()), opts)]


def example_cases():
    for plugin in PLUGINS.values():
        for kind, index, example in plugin.examples:
            yield pytest.param(plugin, example, id=f"{plugin.type}/{kind}/{index}")


def file_example_cases():
    return [case for case in example_cases() if not case.values[0].examples.of_changes]


def change_example_cases():
    return [case for case in example_cases() if case.values[0].examples.of_changes]


@pytest.mark.parametrize(("plugin", "example"), file_example_cases())
def test_file_examples_through_the_engine(plugin, example) -> None:
    """Each example is audited as a one-file repository: the gate's file selection, prefilter,
    scan and the engine's comment and suppression handling all take part."""
    report = testing.judge(plugin, example)
    lines = [v.line for v in testing.findings(report)]
    assert lines == example.marked_lines
    (result,) = report.gates
    judged = testing.gate_of(plugin).judges(example.path)
    expected = ("fail", None) if example.marked_lines else ("pass", None) if judged else ("neutral", "nothing_judged")
    assert (result.status, result.neutral_reason) == expected


@pytest.mark.parametrize(("plugin", "example"), change_example_cases())
def test_change_examples_through_the_engine(plugin, example) -> None:
    """Each change example is checked as a change in a real git repository, with its base's spec
    (and, for ai-rule, a model answering over a real socket): it passes or fails as it says."""
    kind = "passes" if example in plugin.examples.passes else "fails"
    report = testing.judge(plugin, example)
    (result,) = report.gates
    assert (result.status, result.neutral_reason) == ("pass" if kind == "passes" else "fail", None), result.message


def test_every_gate_has_examples_that_pass_and_fail() -> None:
    for plugin in PLUGINS.values():
        assert plugin.examples.passes and plugin.examples.fails, plugin.type
        assert plugin.examples.of_changes == (not plugin.is_file_gate), plugin.type


PORT = re.compile(r"127\.0\.0\.1:\d+")


def render_examples() -> str:
    """Every example's findings with column and message, and every change example's verdict and
    details: pinned by a golden file."""
    out = []
    for plugin in sorted(PLUGINS.values(), key=lambda p: p.type):
        for kind, index, example in plugin.examples:
            report = testing.judge(plugin, example)
            if plugin.examples.of_changes:
                (result,) = report.gates
                out.append(f"{plugin.type}/{kind}/{index}: {result.status}: {result.message}")
                out += [f"{plugin.type}/{kind}/{index}:   {PORT.sub('127.0.0.1:PORT', line)}" for line in result.details]
            for v in testing.findings(report):
                out.append(f"{plugin.type}/{kind}/{index}: {v.path}:{v.line}:{v.column}: {v.token!r}: {v.message} | {v.hint}")
    return "\n".join(out) + "\n"


def test_example_findings_match_the_golden_file() -> None:
    rendered = render_examples()
    if os.environ.get("COGNI_UPDATE_GOLDEN"):
        GOLDEN.write_text(rendered, encoding="utf-8")
    assert rendered == GOLDEN.read_text(encoding="utf-8")


def test_a_broken_prefilter_fails_the_examples(monkeypatch) -> None:
    """The examples run the gate's `candidates`: a prefilter that rejects everything is caught."""
    plugin = PLUGINS["widget-payment-reason"]
    broken = dataclasses.replace(plugin, candidates=lambda options: ("no-such-token",))
    failing = [e for kind, _, e in plugin.examples if kind == "fails"]
    assert all(not testing.findings(testing.judge(broken, e)) for e in failing)
    assert all(testing.findings(testing.judge(plugin, e)) for e in failing)


def test_every_gate_documents_why_and_instead() -> None:
    for plugin in PLUGINS.values():
        assert plugin.summary and "Why:" in plugin.doc and "Instead:" in plugin.doc, plugin.type


def test_every_plugin_type_is_its_file_name_and_every_rule_its_class() -> None:
    files = [f for folder in catalog.builtin_dirs() for f in folder.glob("[!_]*.py")]
    assert sorted(PLUGINS) == sorted(f.stem.replace("_", "-") for f in files)  # unique, one per file
    for plugin in PLUGINS.values():
        assert plugin.source.stem.replace("_", "-") == plugin.type
        if plugin.source.parent.name.endswith("rules"):
            module = catalog._import(plugin.source)
            visitor = getattr(module, plugin.type.title().replace("-", ""))
            assert issubclass(visitor, rule.Rule), plugin.type


GOOD_GATE = '''"""Flags nothing.

Why: a test. Instead: nothing.
"""
from cogni_review.gate import FileGateOptions

class Options(FileGateOptions):
    pass

{hooks}

EXAMPLES = {{"passes": [("a.py", "x = 1")], "fails": [("a.py", "bad = 1  # <-")]}}
'''


@pytest.mark.parametrize(
    ("hooks", "error"),
    [
        pytest.param("def scan(file, options):\n    return []\ndef candidate(options):\n    return ()",
                     "defines 'candidate', which is not a hook; did you mean 'candidates'?", id="misspelt-candidates"),
        pytest.param("def scan(file, options):\n    return []\ndef activate(spec):\n    return True",
                     "defines 'activate', which is not a hook; did you mean 'activates'?", id="misspelt-activates"),
        pytest.param("def scanner(file, options):\n    return []",
                     "defines exactly one of scan(file, options)", id="neither-scan-nor-judge"),
        pytest.param("def scan(file, options):\n    return []\ndef judge(change, options):\n    return None",
                     "defines exactly one of scan(file, options)", id="both-scan-and-judge"),
        pytest.param("def scan(file):\n    return []", "scan must be a function of 2 argument(s)", id="wrong-arity"),
        pytest.param("def check(change, options):\n    return None",
                     "`check` is not a hook; a change gate defines judge(change, options)", id="old-hook-name"),
        pytest.param("def scan(file, options):\n    return []\nEXAMPLE = {}",
                     "defines 'EXAMPLE', which is not a hook; did you mean 'EXAMPLES'?", id="misspelt-examples"),
    ],
)
def test_a_module_that_does_not_fit_the_contract_is_an_error_at_load(tmp_path, hooks: str, error: str) -> None:
    folder = tmp_path / "plugins"
    folder.mkdir()
    (folder / "odd_gate.py").write_text(GOOD_GATE.format(hooks=hooks), encoding="utf-8")
    file = catalog.PluginFile("odd-gate", folder / "odd_gate.py")
    with pytest.raises(ConfigError, match=re.escape(error)):
        file.plugin


CHANGE_GATE = '''"""Flags every change.

Why: a test. Instead: nothing.
"""
from cogni_review.model import GateResult

def judge(change, options):
    return GateResult.failed("no")

{examples}
'''
A_CHANGE = '{"head": {"a.py": "x = 1"}}'


@pytest.mark.parametrize(
    ("examples", "error"),
    [
        pytest.param("", "a change gate needs EXAMPLES with at least one 'passes' and one 'fails'", id="no-examples"),
        pytest.param(f'EXAMPLES = {{"passes": [{A_CHANGE}], "fails": [("a.py", "x  # <-")]}}',
                     "a change gate's EXAMPLES are dicts describing changes", id="a-file-example"),
        pytest.param(f'EXAMPLES = {{"passes": [{A_CHANGE}], "fails": [{{"head": {{"a.py": 1}}}}]}}',
                     "EXAMPLES['fails'][0]: `head` maps paths to text, or to None for a deleted file", id="head-not-text"),
        pytest.param(f'EXAMPLES = {{"passes": [{A_CHANGE}], "fails": [{{"base": {{}}}}]}}',
                     "EXAMPLES['fails'][0] must be a dict with `head` (path -> text or None) and optionally base, body, "
                     "replies, title", id="no-head"),
        pytest.param(f'EXAMPLES = {{"passes": [{A_CHANGE}], "fails": [{A_CHANGE}], "base": ["a.py"]}}',
                     "EXAMPLES['base']: files must be a dict of path -> text", id="base-not-files"),
    ],
)
def test_a_change_gate_needs_change_examples(tmp_path, examples: str, error: str) -> None:
    (tmp_path / "odd_gate.py").write_text(CHANGE_GATE.format(examples=examples), encoding="utf-8")
    with pytest.raises(ConfigError, match=re.escape(error)):
        catalog.PluginFile("odd-gate", tmp_path / "odd_gate.py").plugin


def test_a_module_that_fits_the_contract_loads(tmp_path) -> None:
    folder = tmp_path / "plugins"
    folder.mkdir()
    (folder / "fine_gate.py").write_text(GOOD_GATE.format(hooks="def scan(file, options):\n    return []"), encoding="utf-8")
    plugin = catalog.PluginFile("fine-gate", folder / "fine_gate.py").plugin
    assert (plugin.type, plugin.is_file_gate, plugin.summary, plugin.candidates) == ("fine-gate", True, "Flags nothing.", None)


@pytest.mark.parametrize(
    ("source", "declares"),
    [
        pytest.param("def scan(file, options):\n    return []\n", False, id="no-activates"),
        pytest.param("def activates(spec):\n    return True\n", True, id="def"),
        pytest.param("activates = bool\n", True, id="assignment"),
        pytest.param("from os.path import isdir as activates\n", True, id="import"),
        pytest.param("# activates only in a comment\n", False, id="word-only"),
        pytest.param("\uff41ctivates = bool  # a full-width letter: the same name once normalised\n", True,
                     id="non-ascii-spelling"),
        pytest.param("# -*- coding: utf-7 -*-\n+AGE-ctivates = bool\n", True, id="utf-7-spelling"),
        pytest.param("from typing import Callable\nactivates: Callable = lambda spec: True\n", True, id="annotated"),
        pytest.param("async def activates(spec):\n    return True\n", True, id="async-def"),
        pytest.param("try:\n    from m import activates\nexcept ImportError:\n    def activates(spec):\n"
                     "        return True\n", True, id="in-a-try"),
        pytest.param("activates, other = bool, 1\n", True, id="unpacked"),
        pytest.param("(activates := bool)\n", True, id="walrus"),
        pytest.param("class activates:\n    pass\n", True, id="class"),
        pytest.param("from helpers import *\n", True, id="star-import"),
        pytest.param("globals()['activates'] = bool\n", True, id="by-its-name"),
        pytest.param('"""Turns on when the spec activates it."""\nx = activates_later = 1\n', False,
                     id="only-in-text-and-other-names"),
    ],
)
def test_a_plugin_declares_activation_only_by_binding_the_name(tmp_path, source: str, declares: bool) -> None:
    """Read without importing the module; a source without the name in ASCII is not even parsed."""
    (tmp_path / "some_gate.py").write_text(source, encoding="utf-8")
    assert catalog.PluginFile("some-gate", tmp_path / "some_gate.py").declares_activation is declares


ADDRESS = "0x52908400098527886E0F7030069857D2E4169EE7"
HASH = "0x5c504ed432cb51138bcf09aa5e8a410dd4a1e204ef84bfed1be16dfba1b22060"
BYTECODE = "0x608060405234801561001057600080fd5b5061012f806100206000396000f3fe6080"


@pytest.mark.parametrize(
    ("path", "code", "expected"),
    [
        pytest.param("src/a.ts", f'const a = "{ADDRESS}";', [(1, 12)], id="ts-string"),
        pytest.param("src/a.ts", f"// {ADDRESS}", [], id="ts-line-comment"),
        pytest.param("src/a.ts", f'const u = "http://x//{ADDRESS}";', [(1, 22)], id="ts-slashes-inside-string"),
        pytest.param("src/a.ts", f"/* start\n {ADDRESS}\n end */ const b = 1;", [], id="ts-block-comment-spanning-lines"),
        pytest.param("src/a.ts", f"const t = `pay ${{x}} // {ADDRESS}`;", [(1, 24)], id="ts-template-literal"),
        pytest.param("src/a.ts", f"const re = /\\/\\/ {ADDRESS}/;", [(1, 18)], id="ts-regex-literal"),
        pytest.param("src/a.tsx", f"const el = <p>send to {ADDRESS}</p>;", [(1, 23)], id="tsx-jsx-text"),
        pytest.param("src/a.tsx", f"const el = <p>{{/* {ADDRESS} */}}</p>;", [], id="tsx-jsx-comment"),
        pytest.param("src/a.jsx", f'const el = <Pay to="{ADDRESS}" />;', [(1, 21)], id="jsx-attribute"),
        pytest.param("src/a.ts", f'const h = "{HASH}";', [], id="64-hex-hash"),
        pytest.param("src/a.ts", f'const code = "{BYTECODE}";', [], id="bytecode-prefix"),
        pytest.param("src/a.ts", f"const x = a{ADDRESS};", [], id="part-of-identifier"),
        pytest.param("src/a.ts", f"const x = {ADDRESS};", [(1, 11)], id="bare-hex-number"),
        pytest.param("src/a.py", f'A = "{ADDRESS}"  # {ADDRESS}', [(1, 6)], id="py-string-then-comment"),
        pytest.param("src/a.py", f'"""Module doc {ADDRESS}."""\nx = 1\n', [], id="py-module-docstring"),
        pytest.param("src/a.py", f'def f():\n    """Pays {ADDRESS}."""\n    return "{ADDRESS}"\n', [(3, 13)], id="py-function-docstring-vs-return"),
        pytest.param("src/a.py", f'def f():\n    """{ADDRESS}"""\nx = f.__doc__\n', [(2, 8)], id="py-one-word-docstring-is-a-value"),
        pytest.param("src/a.py", f'x = f"{{a}} {ADDRESS}"', [(1, 11)], id="py-f-string"),
        pytest.param("src/a.py", f'x = "# {ADDRESS}"', [(1, 8)], id="py-hash-inside-string"),
        pytest.param("src/a.sql", f"-- {ADDRESS}\nSELECT '{ADDRESS}';", [(2, 9)], id="sql-comment-vs-string"),
        pytest.param("src/a.go", f"// {ADDRESS}", [(1, 4)], id="other-language-plain-text"),
        pytest.param("src/a.ts", f'\ufeffconst a = "{ADDRESS}";\r\n// {ADDRESS}\r\nconst b = "{ADDRESS}";', [(1, 12), (3, 12)], id="bom-and-crlf"),
        pytest.param("src/a.ts", f'const é = "ü";   const a = "{ADDRESS}"; // ✓ {ADDRESS}', [(1, 29)], id="non-ascii-columns"),
    ],
)
def test_address_code_versus_comments(path: str, code: str, expected: list[tuple[int, int]]) -> None:
    assert [(line, col) for line, col, _ in findings("wallet-address-literals", path, code)] == expected


def test_address_outside_paths_and_in_tests_is_not_judged_by_options() -> None:
    opts = PLUGINS["wallet-address-literals"].options()
    assert [opts.selects(p) for p in ["src/a.ts", "src/x/a.test.ts", "src/__tests__/a.ts", "tests/a.ts", "lib/a.ts"]] == [
        True, False, False, False, False,
    ]


def test_allowed_address_is_case_insensitive() -> None:
    code = f'const a = "{ADDRESS.lower()}";'
    assert findings("wallet-address-literals", "src/a.ts", code, allow=[ADDRESS]) == []


@pytest.mark.parametrize(
    ("address", "state"),
    [
        pytest.param("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "valid EIP-55 checksum", id="valid"),
        pytest.param("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD", "invalid EIP-55 checksum", id="invalid"),
        pytest.param("0xde709f2102306220921060314715629080e2fb77", "no EIP-55 checksum", id="lower-case"),
    ],
)
def test_checksum_is_reported_in_the_message(address: str, state: str) -> None:
    plugin = PLUGINS["wallet-address-literals"]
    (v,) = plugin.scan(SourceFile("src/a.ts", f'x = "{address}"'.encode()), plugin.options())
    assert v.message == f"hard-coded address {address} ({state})"


KEY = {"keys": {"OPENROUTER_API_KEY": ["src/adapters/openrouter/**"]}}


@pytest.mark.parametrize(
    ("path", "code", "expected"),
    [
        pytest.param("src/features/a.ts", "const k = process.env.OPENROUTER_API_KEY;", [(1, 23)], id="process-env-dot"),
        pytest.param("src/features/a.ts", 'const k = process.env["OPENROUTER_API_KEY"];', [(1, 24)], id="process-env-index"),
        pytest.param("src/features/a.ts", "const { OPENROUTER_API_KEY } = process.env;", [(1, 9)], id="destructuring"),
        pytest.param("src/features/a.py", 'k = os.environ["OPENROUTER_API_KEY"]', [(1, 17)], id="os-environ"),
        pytest.param("src/features/a.py", 'k = os.getenv("OPENROUTER_API_KEY")', [(1, 16)], id="os-getenv"),
        pytest.param("src/features/a.py", "k = settings.OPENROUTER_API_KEY", [(1, 14)], id="settings-attribute"),
        pytest.param("src/features/a.ts", "// OPENROUTER_API_KEY is read by the adapter", [], id="comment"),
        pytest.param("src/features/a.ts", "const k = process.env.OPENROUTER_API_KEY_V2;", [], id="longer-name"),
        pytest.param("src/shared/env/server.ts", "OPENROUTER_API_KEY: z.string(),", [], id="env-module"),
        pytest.param("src/adapters/openrouter/client.ts", "env.OPENROUTER_API_KEY", [], id="own-adapter"),
        pytest.param("src/adapters/litellm/client.ts", "env.OPENROUTER_API_KEY", [(1, 5)], id="other-adapter"),
    ],
)
def test_provider_key_reads(path: str, code: str, expected: list[tuple[int, int]]) -> None:
    assert [(line, col) for line, col, _ in findings("provider-api-key-usage", path, code, **KEY)] == expected


REASONS = {"reasons": {"credits_purchase": ["src/features/payments/**"]}}


@pytest.mark.parametrize(
    ("path", "code", "expected"),
    [
        pytest.param("src/db/q.sql", "SELECT * FROM credit_ledger WHERE reason = 'credits_purchase';", [(1, 45)], id="sql-where"),
        pytest.param("src/db/q.sql", "-- credits_purchase rows only\nSELECT 1;", [], id="sql-comment"),
        pytest.param("src/db/q.sql", "/* credits_purchase\n */ SELECT '--credits_purchase';", [(2, 15)], id="sql-block-comment-and-dashes-in-string"),
        pytest.param("src/db/q.ts", 'db.query(`SELECT 1 WHERE reason = \'credits_purchase\'`);', [(1, 36)], id="sql-in-template-literal"),
        pytest.param("src/a.ts", 'const r = "credits_purchase_v2";', [], id="longer-token"),
        pytest.param("src/a.ts", 'const r = "credits_purchase";', [(1, 12)], id="outside-rails"),
        pytest.param("src/features/payments/x.ts", 'const r = "credits_purchase";', [], id="on-the-rails"),
        pytest.param("src/a.py", 'REASON = "credits_purchase"', [(1, 11)], id="python-string"),
        pytest.param("src/a.py", '"""Mints credits_purchase rows."""', [], id="python-docstring"),
    ],
)
def test_reason_tokens(path: str, code: str, expected: list[tuple[int, int]]) -> None:
    assert [(line, col) for line, col, _ in findings("widget-payment-reason", path, code, **REASONS)] == expected


def test_a_syntax_error_is_read_as_code_and_said() -> None:
    """The comment sits inside the error the parser recovered from: read as code, never hidden."""
    file = SourceFile("src/broken.tsx", f"const a = <div>{{/* {ADDRESS} */}} <\n".encode())
    plugin = PLUGINS["wallet-address-literals"]
    assert [v.line for v in plugin.scan(file, plugin.options())] == [1]
    assert file.fallback == ("tsx syntax error at line 1; comments outside the error were honoured and the error "
                             "itself read as code")
