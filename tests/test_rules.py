"""The reusable rule kinds on their tricky inputs: money, calls, SQL, imports, literals."""

from __future__ import annotations

import json

import pytest

from cogni_review import catalog, config
from cogni_review.errors import ConfigError
from cogni_review.gate import NotJudged
from cogni_review.source import SourceFile

PLUGINS = {t: f.plugin for t, f in catalog.builtins().items()}


def findings(gate: str, path: str, code: str, **options) -> list[tuple[int, int, str]]:
    plugin = PLUGINS[gate]
    opts = plugin.options.model_validate(options)
    return [(v.line, v.column, v.token) for v in plugin.scan(SourceFile(path, code.encode()), opts)]


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        pytest.param("amount_cents = 12.5", [(1, 16, "amount_cents")], id="float-literal"),
        pytest.param("credits = float(raw)", [(1, 11, "credits")], id="float-call"),
        pytest.param("credits = usd_micro / 10_000", [(1, 11, "credits")], id="true-division"),
        pytest.param("credits = usd_micro // 10_000", [], id="floor-division"),
        pytest.param("credits = round(usd * 100)", [(1, 11, "credits")], id="round"),
        pytest.param("credits = 100\ncredits /= 3", [(2, 1, "credits")], id="augmented-divide"),
        pytest.param("balance_micro = 5\nbalance_micro *= 1.5", [(2, 18, "balance_micro")], id="augmented-float"),
        pytest.param("grant(account, amount_cents=x / 2)", [(1, 29, "amount_cents")], id="keyword-argument"),
        pytest.param("def credits_for(usd):\n    return usd * 0.8\n", [(2, 18, "credits_for")], id="return-of-money-function"),
        pytest.param("def total(usd):\n    return usd * 0.8\n", [], id="return-of-other-function"),
        pytest.param("def charge(amount_cents=9.99):\n    pass\n", [(1, 25, "amount_cents")], id="parameter-default"),
        pytest.param("def grant(usd, rate):\n    ratio = usd / rate\n    credits = usd * ratio\n", [(3, 21, "credits")], id="scope-tracked-float"),
        pytest.param("ratio = 0.5\ndef grant(usd, ratio):\n    credits = usd * ratio\n", [], id="parameter-shadows-module-float"),
        pytest.param("RATE = 0.5\ndef grant(usd):\n    credits = usd * RATE\n", [(3, 21, "credits")], id="module-float-seen-in-function"),
        pytest.param("def f():\n    ratio = a / b\ndef g():\n    credits = usd * ratio\n", [], id="other-function-scope"),
        pytest.param("def grant(usd: float):\n    credits = usd * 100\n", [(2, 15, "credits")], id="float-annotated-parameter"),
        pytest.param("ratio = a / b\nratio = 3\ncredits = usd * ratio", [], id="rebound-to-integer"),
        pytest.param('fee_cents = Decimal(total_cents) / Decimal("3")', [], id="decimal-division"),
        pytest.param("fee = Decimal(x)\nfee_cents = fee / 3", [], id="decimal-variable"),
        pytest.param("fee_cents = Decimal(0.1)", [(1, 21, "fee_cents")], id="decimal-from-float"),
        pytest.param("ratio_label = total / 3", [], id="not-money-named"),
        pytest.param("MAX_CREDITS = 10.0", [(1, 15, "MAX_CREDITS")], id="names-are-case-insensitive"),
        pytest.param('credits_label = f"{credits / 100:.2f}"', [], id="formatted-as-text"),
        pytest.param("has_credits = used / total > 0.5", [], id="comparison-is-a-bool"),
        pytest.param("self.amount_cents = total / n", [(1, 21, "amount_cents")], id="attribute-target"),
        pytest.param("balances[key] = total / n", [(1, 17, "balances")], id="subscript-target"),
        pytest.param("rate, credits = 0.5, 100", [], id="tuple-pairs-element-wise"),
        pytest.param("obj.ratio = 0.5\ncredits = usd * obj.ratio", [], id="attribute-is-not-the-local"),
        pytest.param("def _split(amount_credits):\n    return amount_credits * 0.75\n", [(2, 29, "amount_credits")], id="money-operand-times-float"),
        pytest.param("def f(balance_micro):\n    log(balance_micro / 3)\n", [(2, 9, "balance_micro")], id="money-operand-true-division"),
        pytest.param("def f(x):\n    return -self.amount_cents * float(x)\n", [(2, 33, "amount_cents")], id="money-attribute-times-float-call"),
        pytest.param("def f(credits, rate: float):\n    return (credits + 1) * rate\n", [(2, 28, "credits")], id="money-expression-times-float-parameter"),
        pytest.param("def f(amount_cents):\n    return amount_cents // 3\n", [], id="money-operand-floor-division"),
        pytest.param("def f(amount_cents):\n    return Decimal(amount_cents) / 3\n", [], id="money-operand-decimal-division"),
        pytest.param("def f(credits):\n    return f'{credits / 100:.2f}'\n", [], id="money-operand-formatted-as-text"),
        pytest.param("def f(credits):\n    return credits / 100 > 0.5\n", [], id="money-operand-compared"),
        pytest.param("credits = amount_cents * 0.75", [(1, 26, "credits")], id="assignment-reported-once"),
    ],
)
def test_integer_money(code: str, expected: list[tuple[int, int, str]]) -> None:
    assert findings("integer-money", "billing/pricing.py", code) == expected


def test_unparsable_python_is_not_judged_and_says_so() -> None:
    plugin = PLUGINS["integer-money"]
    with pytest.raises(NotJudged, match="libcst cannot parse it"):
        list(plugin.scan(SourceFile("billing/pricing.py", b"credits = 100 /"), plugin.options()))


def test_integer_money_message() -> None:
    plugin = PLUGINS["integer-money"]
    (v,) = plugin.scan(SourceFile("b.py", b"credits = a / b"), plugin.options())
    assert (v.message, v.hint) == (
        "'credits' is computed with true division; use // or integer ratios",
        "keep money in integer units (credits, cents, micro-USD) and divide with // or divmod",
    )


def test_integer_money_names_option_and_other_languages() -> None:
    assert findings("integer-money", "a.py", "wei = x / 2", names=["wei"]) == [(1, 7, "wei")]
    assert findings("integer-money", "a.ts", "const credits = a / b;") == []


CALLS = {"calls": {"credit_account": ["billing/ledger.py", "billing/settlement.py"]}}


@pytest.mark.parametrize(
    ("path", "code", "expected"),
    [
        pytest.param("billing/api.py", "credit_account(conn, a, 5)", [(1, 1)], id="direct"),
        pytest.param("billing/api.py", "x = ledger.credit_account(conn, a, 5)", [(1, 5)], id="attribute"),
        pytest.param("billing/api.py", "billing.ledger.credit_account(conn, a, 5)", [(1, 1)], id="module-path"),
        pytest.param("billing/api.py", "hooks.append(credit_account)", [(1, 14)], id="reference-without-call"),
        pytest.param("billing/api.py", "run(ledger.credit_account)", [(1, 12)], id="attribute-reference"),
        pytest.param("billing/api.py", "def credit_account(conn):\n    pass\n", [], id="definition-not-flagged"),
        pytest.param("billing/api.py", "class A:\n    def credit_account(self): ...\n", [], id="method-definition"),
        pytest.param("billing/api.py", "from billing.ledger import credit_account", [], id="plain-import"),
        pytest.param("billing/api.py", "from billing.ledger import credit_account as mint", [(1, 28)], id="renaming-import"),
        pytest.param("billing/api.py", "f(credit_account=1)\ncredit_account_total = 3", [], id="keyword-and-longer-name"),
        pytest.param("billing/api.py", "# credit_account(conn)\ns = 'credit_account'", [], id="comment-and-string"),
        pytest.param("billing/settlement.py", "ledger.credit_account(conn, a, 5)", [], id="allowed-file"),
        pytest.param("billing/api.ts", "ledger.credit_account(conn, a, 5);", [], id="other-language"),
    ],
)
def test_call_confinement(path: str, code: str, expected: list[tuple[int, int]]) -> None:
    assert [(line, col) for line, col, _ in findings("call-confinement", path, code, **CALLS)] == expected


def test_call_confinement_message() -> None:
    plugin = PLUGINS["call-confinement"]
    opts = plugin.options.model_validate({"calls": {"mint_lot": []}})
    (v,) = plugin.scan(SourceFile("b.py", b"lots.mint_lot(conn)"), opts)
    assert v.message == "mint_lot called outside the modules allowed to call it (allowed nowhere)"


STATEMENTS = {"statements": [
    {"pattern": "UPDATE credit_ledger", "allowed": ["billing/migrations/**"]},
    {"pattern": "DELETE FROM credit_ledger", "why": "the ledger is append-only"},
]}


@pytest.mark.parametrize(
    ("path", "code", "expected"),
    [
        pytest.param("billing/fix.py", 'SQL = """\n    UPDATE\n      credit_ledger SET x = 1\n"""', [(2, 5, "UPDATE credit_ledger")], id="multi-line-python-string"),
        pytest.param("billing/fix.py", '"""UPDATE credit_ledger is never run here."""\nx = 1', [], id="python-docstring"),
        pytest.param("billing/fix.py", "# UPDATE credit_ledger by hand\nx = 1", [], id="python-comment"),
        pytest.param("billing/fix.sql", "-- UPDATE credit_ledger\nupdate\tCredit_Ledger set x = 1;", [(2, 1, "update Credit_Ledger")], id="sql-file-case-and-tab"),
        pytest.param("billing/fix.ts", "db.run(`DELETE   FROM credit_ledger`);", [(1, 9, "DELETE FROM credit_ledger")], id="template-literal"),
        pytest.param("billing/fix.py", 'q = "UPDATE credit_ledger_archive SET x = 1"', [], id="longer-table-name"),
        pytest.param("billing/migrations/0002.sql", "UPDATE credit_ledger SET x = 1;", [], id="allowed-file"),
        pytest.param("billing/migrations/0003.sql", "DELETE FROM credit_ledger;", [(1, 1, "DELETE FROM credit_ledger")], id="never-allowed"),
    ],
)
def test_sql_confinement(path: str, code: str, expected: list[tuple[int, int, str]]) -> None:
    assert findings("sql-confinement", path, code, **STATEMENTS) == expected


def test_sql_confinement_message() -> None:
    plugin = PLUGINS["sql-confinement"]
    (v,) = plugin.scan(SourceFile("a.sql", b"DELETE FROM credit_ledger;"), plugin.options.model_validate(STATEMENTS))
    assert (v.message, v.hint) == (
        "'DELETE FROM credit_ledger' is allowed nowhere: the ledger is append-only",
        "remove it; no file may run this statement",
    )


SQL_SPEC = "gates:\n  - type: sql-confinement\n    with:\n      statements:\n        - pattern: {pattern}\n"


@pytest.mark.parametrize(
    ("pattern", "problem"),
    [
        pytest.param("(a+)+b", "repeats a group that itself repeats or alternates", id="nested-plus"),
        pytest.param("(a*)*b", "repeats a group that itself repeats or alternates", id="nested-star"),
        pytest.param("(a|a)*b", "repeats a group that itself repeats or alternates", id="repeated-alternation"),
        pytest.param("((x)+){2,}", "repeats a group that itself repeats or alternates", id="nested-groups"),
        pytest.param("x" * 301, "is 301 characters long; the limit is 300", id="too-long"),
        pytest.param("UPDATE (credit_ledger", "is not a valid regular expression", id="invalid"),
    ],
)
def test_sql_pattern_rejected_at_load(pattern: str, problem: str) -> None:
    with pytest.raises(ConfigError) as caught:
        catalog.resolve(config.parse(SQL_SPEC.format(pattern=json.dumps(pattern)), "spec.yaml"), catalog.builtins())
    assert str(caught.value).startswith("spec.yaml:5: gates[0].with.statements[0].pattern: Value error, pattern ")
    assert problem in str(caught.value)


@pytest.mark.parametrize("pattern", ["(UPDATE|DELETE FROM) credit_ledger", "[a+]+x", r"\(a+\)+", "(?:SET )?purpose"])
def test_safe_sql_patterns_load(pattern: str) -> None:
    catalog.resolve(config.parse(SQL_SPEC.format(pattern=json.dumps(pattern)), "spec.yaml"), catalog.builtins())


FORBID = {"forbid": [
    "cogni_review -> gates", "cogni_review -> rules", "billing -> cogni_review", "cogni_review.reporters -> cogni_review.cli",
]}


@pytest.mark.parametrize(
    ("path", "code", "expected"),
    [
        pytest.param("cogni_review/engine.py", "import gates", [(1, 8, "gates")], id="import"),
        pytest.param("cogni_review/engine.py", "import gates.review_limits as r", [(1, 8, "gates.review_limits")], id="import-as"),
        pytest.param("cogni_review/engine.py", "import os, rules.integer_money", [(1, 12, "rules.integer_money")], id="import-list"),
        pytest.param("cogni_review/engine.py", "from gates import review_limits", [(1, 1, "gates")], id="from-import"),
        pytest.param("cogni_review/engine.py", "from gates.x import (\n    a,\n    b,\n)", [(1, 1, "gates.x")], id="from-import-parenthesized"),
        pytest.param("cogni_review/engine.py", "from . import gates", [], id="relative-is-not-top-level"),
        pytest.param("cogni_review/reporters/text.py", "from .. import model", [], id="relative-allowed"),
        pytest.param("cogni_review/reporters/text.py", "from ..cli import main", [(1, 1, "cogni_review.cli")], id="relative-module"),
        pytest.param("cogni_review/reporters/text.py", "from .. import model, cli", [(1, 23, "cogni_review.cli")], id="relative-name"),
        pytest.param("cogni_review/reporters/__init__.py", "from ..cli import main", [(1, 1, "cogni_review.cli")], id="relative-from-package"),
        pytest.param("cogni_review/cli.py", "from .reporters import text", [], id="inside-imported-prefix-is-free"),
        pytest.param("billing/payments/__init__.py", "from ..cogni_review import rule", [], id="relative-beyond-top"),
        pytest.param("billing/__init__.py", "from .. import x", [], id="relative-from-package-beyond-top"),
        pytest.param("src/billing/cli.py", "from cogni_review.cli import main", [(1, 1, "cogni_review.cli")], id="src-root"),
        pytest.param("cogni_review/x.py", 'm = importlib.import_module("gates.review_limits")', [(1, 5, "gates.review_limits")], id="import-module"),
        pytest.param("cogni_review/x.py", 'm = __import__("rules")', [(1, 5, "rules")], id="dunder-import"),
        pytest.param("cogni_review/x.py", "m = importlib.import_module(name)", [], id="import-module-not-literal"),
        pytest.param("cogni_review/x.py", "import gatesx\nfrom rulesy import z", [], id="prefix-is-not-gatesx"),
        pytest.param("cogni_reviewer/x.py", "import gates", [], id="importer-prefix-is-whole"),
        pytest.param("gates/review_limits.py", "from cogni_review.gate import FileGateOptions", [], id="gates-may-import-engine"),
        pytest.param("cogni_review/x.py", "# import gates\ns = 'import gates'", [], id="comment-and-string"),
    ],
)
def test_import_boundaries(path: str, code: str, expected: list[tuple[int, int, str]]) -> None:
    assert findings("import-boundaries", path, code, **FORBID) == expected


def test_import_boundaries_message_and_bad_option() -> None:
    plugin = PLUGINS["import-boundaries"]
    (v,) = plugin.scan(SourceFile("billing/cli.py", b"import cogni_review"), plugin.options.model_validate(FORBID))
    assert v.message == "billing.cli imports cogni_review, which 'billing -> cogni_review' forbids"
    with pytest.raises(ValueError, match="is not 'importer -> imported'"):
        plugin.options.model_validate({"forbid": ["billing => cogni_review"]})


LITERALS = {"literals": {"system_donation": ["billing/constants.py"], "admin": []}}


@pytest.mark.parametrize(
    ("path", "code", "expected"),
    [
        pytest.param("billing/api.py", 'r = "system_donation"', [(1, 6, "system_donation")], id="string"),
        pytest.param("billing/api.py", 'r = "system_donation_v2"\nq = "x_system_donation"', [], id="whole-token-only"),
        pytest.param("billing/constants.py", 'R = "system_donation"', [], id="allowed-glob"),
        pytest.param("billing/api.py", "# system_donation rows\nx = 1", [], id="comment"),
        pytest.param("billing/api.py", '"""Writes system_donation rows."""', [], id="docstring"),
        pytest.param("web/role.ts", "if (role === 'admin') {}", [(1, 15, "admin")], id="allowed-nowhere"),
        pytest.param("tests/test_api.py", 'r = "system_donation"', [], id="tests-excluded-by-default"),
    ],
)
def test_literal_allowlist(path: str, code: str, expected: list[tuple[int, int, str]]) -> None:
    opts = PLUGINS["literal-allowlist"].options.model_validate(LITERALS)
    assert (findings("literal-allowlist", path, code, **LITERALS) if opts.selects(path) else []) == expected
