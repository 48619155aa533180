"""Python that libcst's native parser cannot take is never handed to it: no input segfaults the
process or makes it run for minutes; such a file is read as plain text, judged by the token gates,
and named in a note."""

from __future__ import annotations

import pytest
from conftest import run_child

from cogni_review import pyguard, pytree
from cogni_review.regions import ParseFailure

A1 = "0x52908400098527886E0F7030069857D2E4169EE7"

#: what took down the process (a signal) or ran for minutes before; each is valid Python or close to it
ATTACKS = {
    "brackets": "x = " + "(" * 2000 + "1" + ")" * 2000,
    "lists": "x = " + "[" * 3000 + "]" * 3000,
    "and-chain": "x = " + " and ".join(["a"] * 50_000),
    "unary-minus": "x = " + "-" * 20_000 + "1",
    "not-chain": "x = " + "not " * 20_000 + "1",
    "call-chain": "x = f" + "()" * 20_000,
    "attribute-chain": "x = a" + ".b" * 20_000,
    "subscript-chain": "x = a" + "[0]" * 20_000,
    "plus-chain": "x = " + " + ".join(["a"] * 20_000),
    "conditional-chain": "x = " + "a if b else " * 20_000 + "c",
    "lambda-chain": "x = " + "lambda: " * 20_000 + "1",
    "lambda-defaults": "f = " + "lambda a=" * 5_000 + "0" + ": 0" * 5_000,
    "elif-chain": "if a:\n    pass\n" + "elif a:\n    pass\n" * 20_000,
    "adjacent-strings": "x = " + " ".join(['"a"'] * 5_000),
    "comprehension": "x = [a " + "for a in b " * 20_000 + "]",
    "f-string": "x = f'{" + "a+" * 20_000 + "a}'",
    "indentation": "".join(" " * i + "if a:\n" for i in range(150)) + " " * 150 + "pass",
}


@pytest.mark.parametrize("source", [pytest.param(text, id=name) for name, text in ATTACKS.items()])
def test_what_the_native_parser_cannot_take_is_refused_before_it_runs(source) -> None:
    with pytest.raises(ParseFailure, match="parsed safely|python syntax error"):
        pyguard.check(source + "\n")


@pytest.mark.parametrize(
    ("source", "message"),
    [
        pytest.param("x = " + "(" * 201 + ")" * 201, "more than 200 levels of nesting in one statement at line 1",
                     id="brackets"),
        pytest.param("if a:\n" + "".join(" " * i + "if a:\n" for i in range(1, 102)) + " " * 102 + "pass\n",
                     "more than 200 levels of nesting in one statement at line 101", id="indentation"),
        pytest.param("x = 1\n" * 100_001, "more than 100,000 tokens", id="tokens"),
        pytest.param("x = '" + "a" * 4_000_001 + "'", "4,000,007 characters, more than the 4,000,000", id="size"),
        pytest.param("x = 1\ny = " + " + ".join(["a"] * 300), "levels of nesting in one statement at line 2",
                     id="chain-names-its-line"),
    ],
)
def test_each_limit_says_what_and_where(source, message) -> None:
    with pytest.raises(ParseFailure) as e:
        pyguard.check(source)
    assert message in str(e.value)


@pytest.mark.parametrize(
    "source",
    [
        pytest.param("t = (\n" + "".join(f"    '\\x{i:02x}'  # {i}\n" for i in range(256)) + ")\n", id="codec-table"),
        pytest.param("d = {" + ", ".join(f"'k{i}': [{i}, {i + 1}]" for i in range(5_000)) + "}\n", id="big-flat-dict"),
        pytest.param("ok = " + " and ".join(f"a{i} == {i}" for i in range(150)) + "\n", id="long-condition"),
        pytest.param("x = (a.b(c).d[e] + f(g, h=i) * -j) if k else lambda m: m ** 2\n", id="ordinary"),
        pytest.param("s = f'{a + b} {c.d} ' * 3\n" * 500, id="f-strings"),
    ],
)
def test_ordinary_python_is_parsed(source) -> None:
    pyguard.check(source)
    assert pytree.parse(source).module.code == source


PLANTED = f'\nTREASURY = "{A1}"\nledger.credit_account(account, 100)\n'


SPEC = """\
payments_in: {widget: {provider: depay}}
gates:
  - type: wallet-address-literals
  - type: call-confinement
    with: {calls: {credit_account: [src/ledger.py]}}
"""


def _commit_attacks(repo) -> None:
    repo.commit("spec", **{".cogni/repo-spec.yaml": SPEC, "src/ok.py": "x = 1\n"})
    repo.git("checkout", "-q", "-b", "feature")
    for name, source in ATTACKS.items():
        repo.write(f"src/{name.replace('-', '_')}.py", source + PLANTED)
    repo.git("add", "-A")


@pytest.mark.parametrize("command", [("audit",), ("check", "--staged"), ("check", "--base", "main")])
def test_no_python_file_takes_the_process_down_and_none_passes_unsaid(repo, command) -> None:
    """The token gates read each file's comments with the error-tolerant parser and find the
    planted address; the gate that needs libcst's tree says, per file, that it could not judge it."""
    import json

    _commit_attacks(repo)
    if "--base" in command:
        repo.git("commit", "-q", "-m", "attacks")
    code, out, _, _, _ = run_child(repo.root, *command, "--verbose")
    assert code == 1, out
    report = json.loads(out)
    (wallet,) = [g for g in report["gates"] if g["type"] == "wallet-address-literals"]
    assert sorted(v["path"] for v in wallet["violations"]) == sorted(
        f"src/{name.replace('-', '_')}.py" for name in ATTACKS)
    unjudged = {n["path"] for n in report["notes"] if n["kind"] == "not_judged"}
    assert unjudged == {f"src/{name.replace('-', '_')}.py" for name in ATTACKS}
    (confined,) = [g for g in report["gates"] if g["type"] == "call-confinement"]
    assert (confined["status"], confined["neutral_reason"]) == ("neutral", "not_judged")


def test_a_huge_python_file_in_a_change_takes_time_and_memory_bounded_by_its_size(repo) -> None:
    """A 3 MB file changed on both sides took 38.8 s and 4.7 GB in `check`: it is read as plain text."""
    body = "".join(f"x{i} = f(a, b) + 1\n" for i in range(150_000))  # 3.3 MB, a million tokens
    repo.commit("spec", **{".cogni/repo-spec.yaml": "payments_in: {widget: {provider: depay}}\n",
                           "src/big.py": body})
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit("grow", **{"src/big.py": body + PLANTED})
    code, out, _, seconds, peak = run_child(repo.root, "check", "--base", "main", limit=120)
    assert code == 1 and A1 in out
    assert seconds < 30 and peak < 1024, (seconds, peak)


def test_the_readme_states_the_limits_in_force() -> None:
    from pathlib import Path

    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    assert (f"more than {pyguard.MAX_TOKENS:,} tokens or {pyguard.MAX_CHARS:,} characters, or nesting past "
            f"CPython's own limit of {pyguard.MAX_DEPTH}") in " ".join(readme.split())
