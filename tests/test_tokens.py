"""Where a governed token starts and ends, in every language the tool reads and for every gate that
matches tokens: a backslash escape before it ends the word before it, `$` on either side is no part
of it, and a number can be an address."""

from __future__ import annotations

import pytest

from cogni_review import catalog
from cogni_review.source import SourceFile, escape_ends_at, joined

PLUGINS = {t: f.plugin for t, f in catalog.builtins().items()}
ADDRESS = "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913"

#: gate -> (its options, the token it governs, a file where the token is forbidden, without extension)
GATES = {
    "wallet-address-literals": ({}, ADDRESS, "src/pay"),
    "widget-payment-reason": ({}, "widget_payment", "src/jobs/refund"),
    "literal-allowlist": ({"literals": {"system_donation": ["billing/reasons.py"]}}, "system_donation", "src/grant"),
    "provider-api-key-usage": ({"keys": {"OPENROUTER_API_KEY": ["src/adapters/openrouter/**"]}}, "OPENROUTER_API_KEY",
                               "src/chat/send"),
    "sql-confinement": ({"statements": [{"pattern": "UPDATE credit_ledger", "why": "append-only"}]},
                        "UPDATE credit_ledger", "src/repair"),
}

#: how each language holds a string: extension -> template around `{}`
LANGUAGES = {
    "py": 'x = "{}"\n',
    "js": 'const x = "{}";\n',
    "jsx": "const x = <a href={{`{}`}} />;\n",
    "ts": "const x = `{}`;\n",
    "tsx": "const x: string = '{}';\n",
    "sql": "SELECT E'{}';\n",
    "sh": 'curl -H "{}"\n',
    "json": '{{"scripts": {{"start": "{}"}}}}\n',
    "mdx": 'export const x = "{}";\n',
    "vue": '<script>const x = "{}";</script>\n',
    "go": 'x := "{}"\n',
}

#: what stands right before and after the token: escapes end a word, `$` is never part of one
SURROUNDINGS = {
    "newline-escape": ("to\\n", ""),
    "tab-escape": ("\\t", ""),
    "nul-escape": ("\\0", ""),
    "hex-escape": ("\\x41", ""),
    "unicode-escape": ("\\u0041", ""),
    "long-unicode-escape": ("\\U00000041", ""),
    "escaped-backslash-then-escape": ("\\\\\\n", ""),
    "regex-escape": ("\\b", "\\b"),
    "shell-variable": ("$", ""),
    "braced-variable": ("${", "}"),
    "template-after": ("", "${chain}"),
    "dollar-after": ("", "$"),
    "anchored-regex": ("^", "$"),
}


def findings(gate: str, path: str, code: str) -> list[str]:
    plugin = PLUGINS[gate]
    options, _, _ = GATES[gate]
    opts = plugin.options.model_validate(options)
    return [v.token for v in plugin.scan(SourceFile(path, code.encode()), opts)]


def cases():
    for gate, (_, token, stem) in GATES.items():
        for ext, template in LANGUAGES.items():
            for name, (before, after) in SURROUNDINGS.items():
                yield pytest.param(gate, f"{stem}.{ext}", template.format(before + token + after), token,
                                   id=f"{gate}/{ext}/{name}")


@pytest.mark.parametrize(("gate", "path", "code", "token"), list(cases()))
def test_a_token_after_an_escape_or_beside_a_sigil_is_found(gate, path, code, token) -> None:
    assert findings(gate, path, code) == [token]


@pytest.mark.parametrize(
    ("gate", "code"),
    [
        pytest.param("widget-payment-reason", 'x = "my_widget_payment"', id="word-before"),
        pytest.param("widget-payment-reason", 'x = "widget_payment_v2"', id="word-after"),
        pytest.param("widget-payment-reason", 'x = "\\\\nwidget_payment"', id="escaped-backslash-is-no-escape"),
        pytest.param("widget-payment-reason", 'x = "\\nfoowidget_payment"', id="escape-then-more-word"),
        pytest.param("provider-api-key-usage", 'x = "MY_OPENROUTER_API_KEY"', id="key-inside-a-longer-name"),
        pytest.param("wallet-address-literals", f'x = "ff{ADDRESS}"', id="address-inside-hex"),
        pytest.param("wallet-address-literals", f'x = "{ADDRESS}ff"', id="hex-after-address"),
        pytest.param("wallet-address-literals", f"x = {ADDRESS}nx", id="not-a-bigint-suffix"),
        pytest.param("sql-confinement", 'x = "NOUPDATE credit_ledger"', id="statement-inside-a-word"),
    ],
)
def test_a_token_inside_a_longer_word_is_not_a_token(gate, code) -> None:
    assert findings(gate, "src/x.py", code) == []


@pytest.mark.parametrize(
    ("code", "token"),
    [
        pytest.param(f"const to = {ADDRESS}n;", ADDRESS, id="bigint"),
        pytest.param(f"const to = BigInt({ADDRESS}n)", ADDRESS, id="bigint-argument"),
        pytest.param("const to = 0x833589fC_D6eDb6E08f4c7C32D4f71b54bdA02913n;", "0x833589fC_D6eDb6E08f4c7C32D4f71b54bdA02913", id="separated-bigint"),
        pytest.param("TO = 0x_8335_89fC_D6eD_b6E0_8f4c_7C32_D4f7_1b54_bdA0_2913", "0x_8335_89fC_D6eD_b6E0_8f4c_7C32_D4f7_1b54_bdA0_2913", id="python-separators"),
        pytest.param(f"const to = 0X{ADDRESS[2:]};", f"0X{ADDRESS[2:]}", id="upper-case-prefix"),
    ],
)
def test_an_address_written_as_a_number_is_an_address(code, token) -> None:
    assert findings("wallet-address-literals", "src/pay.ts", code) == [token]


def test_an_allowed_address_is_allowed_however_its_digits_are_separated() -> None:
    plugin = PLUGINS["wallet-address-literals"]
    options = plugin.options.model_validate({"allow": [ADDRESS]})
    file = SourceFile("src/pay.ts", b"const to = 0x833589fC_D6eDb6E08f4c7C32D4f71b54bdA02913n;")
    assert list(plugin.scan(file, options)) == []


@pytest.mark.parametrize(
    ("text", "start", "expected"),
    [
        pytest.param("a\\nb", 3, False, id="after-escape"),
        pytest.param("a\\\\nb", 4, True, id="after-escaped-backslash"),
        pytest.param("a\\\\\\nb", 5, False, id="after-three-backslashes"),
        pytest.param("\\x41b", 4, False, id="after-hex-escape"),
        pytest.param("\\x4g", 3, False, id="after-a-short-hex-escape"),
        pytest.param("$b", 1, False, id="after-dollar"),
        pytest.param("ab", 1, True, id="inside-a-word"),
        pytest.param("a-b", 2, False, id="after-punctuation"),
        pytest.param("ab", 0, False, id="at-the-start"),
    ],
)
def test_joined_knows_where_a_word_ends(text, start, expected) -> None:
    assert joined(text, start) is expected


def test_escape_ends_at_counts_a_long_run_of_backslashes() -> None:
    assert escape_ends_at("\\" * 200_001 + "n", 200_002) is True
    assert escape_ends_at("\\" * 200_000 + "n", 200_001) is False
