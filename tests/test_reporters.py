"""Reporters: every format pinned by a golden file, plus the properties each consumer relies on.

Set COGNI_UPDATE_GOLDEN=1 to rewrite the golden files, then review the diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cogni_review import __version__
from cogni_review.model import (FAIL, NEUTRAL, PASS, GateResult, Location, NeutralReason, Note, NoteKind, Report,
                                Suppressed, Suppression, Violation)
from cogni_review.reporters import REPORTERS, github, json_, markdown, sarif, text
from cogni_review.reporters.findings import printable, printable_json, worst_first

GOLDEN = Path(__file__).parent / "fixtures" / "golden"
WALLET = ("no-wallet-literals", "wallet-address-literals")
HINT = "read the address from config/addresses.ts"


def violation(gate: tuple[str, str], path: str, line: int, column: int, token: str, message: str,
              hint: str = HINT) -> Violation:
    return Violation(Location(path, line, column), token, message, hint, f"x = '{token}'", *gate)


def wallet_gate() -> GateResult:
    found = (
        violation(WALLET, "src/pay,out.ts", 12, 5, "0xde0B295669a9FD93d5F28D9Ec85E40f4cb697BAe",
                  "wallet address literal '0xde0B…7BAe'"),
        violation(WALLET, "src/a.ts", 3, 23, "0x52908400098527886E0F7030069857D2E4169EE7",
                  "wallet address literal '0x5290…9EE7'"),
        violation(WALLET, "docs/fees.md", 7, 1, "0xAb5801a7D398351b8bE11C439e05C5B3259aeC9B",
                  "100% of fees | go to 0xAb58…eC9B\nsee the table below",
                  "name the wallet in config/addresses.ts and link to it"),
    )
    return GateResult(*WALLET, status=FAIL, violations=found, stats={"files": 3}, duration_ms=3,
                      description="A hard-coded on-chain (EVM) address in app code.")


def sample_report() -> Report:
    later = GateResult(id="license-headers", type="license-headers", status=NEUTRAL,
                       neutral_reason=NeutralReason.UNIMPLEMENTED_GATE,
                       message="gate type 'license-headers' is not implemented by cogni-review")
    gates = (wallet_gate(), later)
    notes = (
        Note(NoteKind.PLAIN_TEXT, "not valid UTF-8; read as plain text", "assets/logo,v2.bin"),
        Note(NoteKind.GOVERNANCE_CHANGE, "the spec changed in this change; gates ran with the base policy"),
    )
    return Report(mode="check", gates=gates, notes=notes, suppressions=(SUPPRESSION,), suppressed=(
        Suppressed(violation(WALLET, "src/burn.ts", 4, 14, BURN, "wallet address literal '0x0000…dEaD'"), SUPPRESSION),))


BURN = "0x000000000000000000000000000000000000dEaD"
SUPPRESSION = Suppression(Location("src/burn.ts", 4, 62), "wallet-address-literals", "the burn address, never paid to",
                          f'const BURN = "{BURN}"; // cogni: allow wallet-address-literals -- the burn address, never paid to',
                          trailing=True)


def timed_out_report() -> Report:
    gate = GateResult(id="limits", type="review-limits", status=NEUTRAL, neutral_reason=NeutralReason.TIMEOUT,
                      error="gave up after 30 s")
    return Report(mode="check", gates=(gate,), fail_on_error=True)


VOTE = ("https://proposals.example.org/merge-change?dao=0x000000000000000000000000000000000000dEaD"
        "&plugin=0x000000000000000000000000000000000000c0de&signal=0x000000000000000000000000000000000000bEEF"
        "&chainId=8453&repoUrl=https%3A%2F%2Fgithub.com%2Focto-org%2Fwidget-app&pr=7&action=merge&target=change")


def dao_report() -> Report:
    """A failing ai-rule with its scores in details, in a DAO's repository: the vote link shows."""
    gate = GateResult(id="pr-coherence", type="ai-rule", status=FAIL, duration_ms=812,
                      message="rule 'pr-coherence' fails: says-what-it-does: 0.1 (needs >= 0.8) fails",
                      details=("require says-what-it-does: 0.1 (needs >= 0.8) fails — doubles every charge",
                               "sent to proxy.example.org (small-model): title, description, 1 file(s): src/pay.ts"))
    return Report(mode="check", gates=(gate,), vote_url=VOTE)


EMPTY = Report(mode="audit", gates=())
ALL_PASS = Report(mode="check", gates=(GateResult("limits", "review-limits", PASS, duration_ms=1),))
FORMATS = [
    pytest.param("report.txt", text.render, id="text"),
    pytest.param("report.json", json_.render, id="json"),
    pytest.param("report.github", github.render, id="github"),
    pytest.param("report.sarif", sarif.render, id="sarif"),
    pytest.param("summary.md", github.render_summary, id="summary"),
]
REPORTS = [
    pytest.param(sample_report(), id="sample"),
    pytest.param(EMPTY, id="empty"),
    pytest.param(ALL_PASS, id="all-pass"),
    pytest.param(timed_out_report(), id="timed-out"),
    pytest.param(dao_report(), id="dao"),
]


@pytest.mark.parametrize("name, render", FORMATS)
def test_golden(name: str, render: Callable[[Report], str]) -> None:
    actual, path = render(sample_report()), GOLDEN / name
    if os.environ.get("COGNI_UPDATE_GOLDEN") == "1":
        path.write_bytes(actual.encode("utf-8"))
    assert actual == path.read_bytes().decode("utf-8")


@pytest.mark.parametrize("name, render", FORMATS)
@pytest.mark.parametrize("report", REPORTS)
def test_render_is_deterministic_and_silent(
    report: Report, name: str, render: Callable[[Report], str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert render(report) == render(report)
    assert capsys.readouterr() == ("", "")


def test_details_and_the_vote_link_in_text() -> None:
    assert text.render(dao_report()) == (
        "pr-coherence: fail — 0 violations, 812 ms: rule 'pr-coherence' fails: says-what-it-does: 0.1 (needs >= 0.8) fails\n"
        "  require says-what-it-does: 0.1 (needs >= 0.8) fails — doubles every charge\n"
        "  sent to proxy.example.org (small-model): title, description, 1 file(s): src/pay.ts\n"
        f"Propose a DAO vote to merge: {VOTE}\n"
        "cogni-review: FAIL — 1 gate failed with 0 violations\n"
    )


def test_details_and_the_vote_link_in_json() -> None:
    doc = json.loads(json_.render(dao_report()))
    assert list(doc) == ["version", "status", "mode", "gates", "notes", "suppressions", "vote_to_merge"]
    assert doc["vote_to_merge"] == VOTE
    assert doc["gates"][0]["details"] == list(dao_report().gates[0].details)
    assert "vote_to_merge" not in json.loads(json_.render(sample_report()))


def test_details_and_the_vote_link_in_the_job_summary_and_annotations() -> None:
    lines = github.render_summary(dao_report()).splitlines()
    assert lines[:4] == ["## :x: cogni-review: FAIL", "", f"**:ballot_box: [Propose a DAO vote to merge]({VOTE})**", ""]
    assert lines[lines.index("### Details"):] == [
        "### Details", "", "#### `pr-coherence`", "",
        "- require says-what-it-does: 0.1 (needs &gt;= 0.8) fails — doubles every charge",
        "- sent to proxy.example.org (small-model): title, description, 1 file(s): src/pay.ts",
    ]
    assert github.render(dao_report()) == (
        "::error title=cogni-review%3A pr-coherence::pr-coherence: fail: rule 'pr-coherence' fails: "
        "says-what-it-does: 0.1 (needs >= 0.8) fails%0Arequire says-what-it-does: 0.1 (needs >= 0.8) fails — "
        "doubles every charge%0Asent to proxy.example.org (small-model): title, description, 1 file(s): src/pay.ts\n"
    )


def test_registry_names_every_format() -> None:
    assert REPORTERS == {"text": text.render, "json": json_.render, "github": github.render,
                         "sarif": sarif.render}


# text


def test_text_lines_sort_by_path_and_stay_on_one_line() -> None:
    lines = text.render(sample_report()).splitlines()
    assert lines[:3] == [
        "docs/fees.md:7:1: wallet-address-literals"
        " 100% of fees | go to 0xAb58…eC9B\\nsee the table below",
        "src/a.ts:3:23: wallet-address-literals wallet address literal '0x5290…9EE7'",
        "src/pay,out.ts:12:5: wallet-address-literals wallet address literal '0xde0B…7BAe'",
    ]


def test_text_fix_line_lists_each_hint_once() -> None:
    lines = text.render(sample_report()).splitlines()
    fix = f"  fix: name the wallet in config/addresses.ts and link to it; {HINT}"
    assert [line for line in lines if line.startswith("  fix:")] == [fix]


def test_text_shows_effective_status_and_error() -> None:
    assert text.render(timed_out_report()) == (
        "limits: fail (timeout) — 0 violations, 0 ms\n"
        "  error: gave up after 30 s\n"
        "cogni-review: FAIL — 1 gate failed with 0 violations\n"
    )


@pytest.mark.parametrize(
    "report, expected",
    [
        pytest.param(EMPTY, "cogni-review: NEUTRAL — no gates ran\n", id="empty"),
        pytest.param(ALL_PASS, "limits: pass — 0 violations, 1 ms\n"
                     "cogni-review: PASS — 1 passed\n", id="all-pass"),
    ],
)
def test_text_passing(report: Report, expected: str) -> None:
    assert text.render(report) == expected


# json


def test_json_has_exact_keys_and_values() -> None:
    doc = json.loads(json_.render(sample_report()))
    assert list(doc) == ["version", "status", "mode", "gates", "notes", "suppressions"]
    assert (doc["version"], doc["status"], doc["mode"]) == (2, FAIL, "check")
    wallet, license_ = doc["gates"]
    keys = ["id", "type", "status", "neutral_reason", "message", "description", "spec", "duration_ms", "stats", "violations"]
    assert list(wallet) == list(license_) == keys
    first = sample_report().violations[1]
    assert wallet["violations"][1] == {
        "path": "src/a.ts", "line": 3, "column": 23, "token": first.token,
        "message": first.message, "hint": HINT, "fingerprint": first.fingerprint,
    }
    assert (license_["status"], license_["neutral_reason"]) == (NEUTRAL, "unimplemented_gate")
    assert doc["notes"][1] == {"kind": "governance_change", "message": sample_report().notes[1].message,
                               "path": None}
    assert doc["suppressions"] == [{"path": "src/burn.ts", "line": 4, "column": 62, "gate": "wallet-address-literals",
                                    "reason": "the burn address, never paid to"}]


@pytest.mark.parametrize("name, render", FORMATS)
def test_every_format_lists_every_suppression_with_its_reason(name, render) -> None:
    out = render(sample_report())
    assert "src/burn.ts" in out and "the burn address, never paid to" in out


def test_sarif_lists_a_suppressed_finding_as_suppressed() -> None:
    results = json.loads(sarif.render(sample_report()))["runs"][0]["results"]
    (result,) = [r for r in results if "suppressions" in r]
    assert result["locations"][0]["physicalLocation"]["region"]["startLine"] == 4
    assert result["suppressions"] == [{"kind": "inSource", "status": "accepted", "justification":
                                       "the burn address, never paid to", "location": {"physicalLocation": {
                                           "artifactLocation": {"uri": "src/burn.ts", "uriBaseId": "%SRCROOT%"},
                                           "region": {"startLine": 4, "startColumn": 62}}}}]


def test_json_gate_status_is_effective_and_error_included() -> None:
    (gate,) = json.loads(json_.render(timed_out_report()))["gates"]
    assert gate["status"] == FAIL and gate["neutral_reason"] == "timeout"
    assert gate["error"] == "gave up after 30 s"


def test_json_empty() -> None:
    doc = json.loads(json_.render(EMPTY))
    assert doc == {"version": 2, "status": NEUTRAL, "mode": "audit", "gates": [], "notes": [], "suppressions": []}


# github annotations


@pytest.mark.parametrize(
    "escape, raw, expected",
    [
        pytest.param(github.escape_data, "100%\r\nnext", "100%25%0D%0Anext", id="data"),
        pytest.param(github.escape_data, "a:b,c", "a:b,c", id="data-keeps-colon-comma"),
        pytest.param(github.escape_property, "a,b.ts", "a%2Cb.ts", id="property-comma"),
        pytest.param(github.escape_property, "cogni: x", "cogni%3A x", id="property-colon"),
        pytest.param(github.escape_property, "%0A\n", "%250A%0A", id="property-percent-first"),
    ],
)
def test_github_escaping(escape: Callable[[str], str], raw: str, expected: str) -> None:
    assert escape(raw) == expected


def test_github_annotation_escapes_path_title_and_message() -> None:
    lines = github.render(sample_report()).splitlines()
    assert lines[0] == (
        "::error file=docs/fees.md,line=7,col=1,title=cogni-review%3A wallet-address-literals"
        "::100%25 of fees | go to 0xAb58…eC9B%0Asee the table below"
        "%0AFix: name the wallet in config/addresses.ts and link to it"
    )
    assert lines[2].startswith("::error file=src/pay%2Cout.ts,line=12,col=5,")


def test_github_failing_gate_annotations_come_first() -> None:
    style = ("early", "style")
    early = GateResult(*style, PASS, (violation(style, "a.py", 1, 1, "x", "m"),))
    late = GateResult(*WALLET, FAIL, (violation(WALLET, "z.py", 9, 1, "0x1", "w"),))
    report = Report(mode="check", gates=(early, late))
    assert [line[:22] for line in github.render(report).splitlines()] == [
        "::error file=z.py,line", "::warning file=a.py,li",
    ]
    assert text.render(report).startswith("a.py:1:1:")


def test_github_gate_and_note_commands() -> None:
    lines = github.render(sample_report()).splitlines()
    assert lines[3:] == [
        "::notice title=cogni-review%3A license-headers"
        "::license-headers: neutral (unimplemented_gate): gate type 'license-headers' is not implemented by cogni-review",
        "::warning file=assets/logo%2Cv2.bin,title=cogni-review%3A plain_text"
        "::not valid UTF-8; read as plain text",
        "::notice title=cogni-review%3A governance_change"
        "::the spec changed in this change; gates ran with the base policy",
        "::notice file=src/burn.ts,line=4,col=62,title=cogni-review%3A suppression added"
        "::allow wallet-address-literals -- the burn address, never paid to",
    ]
    assert github.render(timed_out_report()) == (
        "::error title=cogni-review%3A limits::limits: fail (timeout)%0Agave up after 30 s\n"
    )


def test_github_neutral_gate_with_error_warns() -> None:
    gate = GateResult(id="limits", type="review-limits", status=NEUTRAL, neutral_reason=NeutralReason.INTERNAL_ERROR,
                      error="boom")
    rendered = github.render(Report(mode="check", gates=(gate,)))
    expected = "::warning title=cogni-review%3A limits::limits: neutral (internal_error)%0Aboom\n"
    assert rendered == expected


@pytest.mark.parametrize("report", REPORTS[1:3])
def test_github_passing_has_no_annotations(report: Report) -> None:
    assert github.render(report) == ""


# github job summary


def test_summary_empty() -> None:
    assert github.render_summary(EMPTY) == (
        "## :white_circle: cogni-review: NEUTRAL\n\n"
        "no gates ran (audit mode).\n\n"
        "No gates ran.\n"
    )


def test_summary_cuts_long_violation_table(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(github, "MAX_SUMMARY_ROWS", 1)
    summary = github.render_summary(sample_report())
    assert "| `docs/fees.md:7` |" in summary and "src/a.ts" not in summary
    assert "2 more not shown; see the log for all." in summary


@pytest.mark.parametrize(
    "raw, expected",
    [
        pytest.param("a|b", "`a\\|b`", id="pipe"),
        pytest.param("a`b", "``a`b``", id="backtick"),
        pytest.param("`a", "`` `a ``", id="leading-backtick"),
        pytest.param("a\nb", "`a b`", id="newline"),
        pytest.param("", "", id="empty"),
    ],
)
def test_markdown_code(raw: str, expected: str) -> None:
    assert markdown.code(raw) == expected


@pytest.mark.parametrize(
    "raw, expected",
    [
        pytest.param("a|b\\", "a\\|b\\\\", id="pipe-backslash"),
        pytest.param("<b>&*_[x]`", "&lt;b&gt;&amp;\\*\\_\\[x\\]\\`", id="markup"),
        pytest.param("one\ntwo", "one<br>two", id="newline"),
    ],
)
def test_markdown_text(raw: str, expected: str) -> None:
    assert markdown.text(raw) == expected


# sarif


def check_sarif(log: dict[str, Any]) -> None:
    """The structure code scanning needs: required keys, and every result tied to its rule."""
    assert (log["$schema"], log["version"]) == (sarif.SCHEMA, "2.1.0")
    (run,) = log["runs"]
    driver = run["tool"]["driver"]
    assert (driver["name"], driver["version"]) == ("cogni-review", __version__)
    for rule in driver["rules"]:
        required = {"id", "shortDescription", "fullDescription", "help", "defaultConfiguration"}
        assert required <= set(rule)
        assert rule["help"]["text"] and rule["help"]["markdown"]
    for result in run["results"]:
        assert driver["rules"][result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["level"] in {"error", "warning"} and result["message"]["text"]
        (where,) = result["locations"]
        physical = where["physicalLocation"]
        artifact, region = physical["artifactLocation"], physical["region"]
        assert artifact["uriBaseId"] == "%SRCROOT%" and not artifact["uri"].startswith("/")
        assert region["startLine"] >= 1 and region["startColumn"] >= 1
        assert set(result["partialFingerprints"]) == {sarif.FINGERPRINT}
    for invocation in run["invocations"]:
        assert isinstance(invocation["executionSuccessful"], bool)
        assert all(n["message"]["text"] for n in invocation["toolExecutionNotifications"])


@pytest.mark.parametrize("report", REPORTS)
def test_sarif_structure(report: Report) -> None:
    check_sarif(json.loads(sarif.render(report)))


def test_sarif_results() -> None:
    (run,) = json.loads(sarif.render(sample_report()))["runs"]
    assert [rule["id"] for rule in run["tool"]["driver"]["rules"]] == ["license-headers", WALLET[1]]
    comma = run["results"][2]
    assert comma["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "src/pay%2Cout.ts", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 12, "startColumn": 5, "endColumn": 47},
    }
    expected = sample_report().violations[2].fingerprint
    assert comma["partialFingerprints"] == {"cogniReview/v1": expected}


def test_sarif_region_without_token_has_no_end() -> None:
    v = violation(WALLET, "a.py", 2, 4, "", "m")
    assert sarif.region(v) == {"startLine": 2, "startColumn": 4}


def test_sarif_gate_error_marks_execution_failed() -> None:
    (run,) = json.loads(sarif.render(timed_out_report()))["runs"]
    (invocation,) = run["invocations"]
    assert invocation == {
        "executionSuccessful": False,
        "toolExecutionNotifications": [{
            "level": "error",
            "message": {"text": "gate limits (review-limits) did not finish: gave up after 30 s"},
            "descriptor": {"id": "review-limits"},
        }],
    }


def test_sarif_caps_results_and_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    """3 findings and 1 suppressed one: 2 results shown, 2 left out, and said so; under the
    cap, nothing is said to be left out (a suppressed result is not one too many)."""
    report = sample_report()
    assert (len(worst_first(report)), len(report.suppressed)) == (3, 1)
    (uncapped,) = json.loads(sarif.render(report))["runs"]
    assert len(uncapped["results"]) == 4
    assert not any("left out" in n["message"]["text"]
                   for n in uncapped["invocations"][0].get("toolExecutionNotifications", []))
    monkeypatch.setattr(sarif, "MAX_RESULTS", 2)
    (run,) = json.loads(sarif.render(report))["runs"]
    assert len(run["results"]) == 2
    assert run["invocations"][0]["toolExecutionNotifications"][-1] == {
        "level": "warning",
        "message": {"text": "2 results left out: code scanning accepts at most 2 per run"},
    }


def test_which_neutral_reasons_are_errors_that_fail_on_error_fails() -> None:
    """The gate tried and could not: an error. What the environment or the policy chose is not:
    a fork's pull request without secrets (`no_endpoint`) must not fail a DAO's `fail_on_error: true`."""
    assert {r.value for r in NeutralReason if r.is_error} == {
        "internal_error", "timeout", "not_judged", "rule_missing", "rule_invalid", "invalid_provider_result"}
    gates = tuple(GateResult(id=r.value, type="ai-rule", status=NEUTRAL, neutral_reason=r) for r in NeutralReason)
    report = Report(mode="check", gates=gates, fail_on_error=True)
    assert [g.id for g in gates if report.effective_status(g) == FAIL] == [
        "internal_error", "timeout", "not_judged", "rule_missing", "rule_invalid", "invalid_provider_result"]
    assert report.exit_code() == 1 and Report(mode="check", gates=gates).exit_code() == 0


JSON_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True),
                         st.text(), st.sampled_from([NeutralReason.TIMEOUT, NoteKind.PLAIN_TEXT, Path("a/b")]))
JSON_KEYS = st.one_of(st.text(), st.integers(), st.booleans(), st.none())
JSON_VALUES = st.recursive(JSON_SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.lists(inner, max_size=3).map(tuple), st.dictionaries(JSON_KEYS, inner, max_size=4)),
    max_leaves=20)


def _printable_copy(value):
    if isinstance(value, str):
        return printable(value)
    if isinstance(value, dict):
        return {printable(k) if isinstance(k, str) else k: _printable_copy(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_printable_copy(v) for v in value]
    return value


@settings(max_examples=300, deadline=None)
@given(document=JSON_VALUES)
def test_the_json_writer_writes_what_the_standard_library_would(document) -> None:
    """Byte for byte `json.dumps(..., indent=2)` of the document with its strings made printable."""
    expected = json.dumps(_printable_copy(document), indent=2, default=str)
    assert printable_json(document, default=str) == expected


def test_the_json_writer_refuses_what_the_standard_library_refuses() -> None:
    with pytest.raises(TypeError, match="Object of type PosixPath is not JSON serializable"):
        printable_json({"a": [Path("x")]})


@pytest.mark.parametrize("kind", ["text", "json", "sarif"])
def test_history_reports_show_a_file_name_that_is_not_utf8_as_every_other_report_does(kind) -> None:
    """git keeps such a name's bytes as lone surrogates; every history format writes them as
    `\\xff`, encodable, as the audit's own reports do."""
    from cogni_review.history import Commit, HistoryReport, Introduction
    from cogni_review.reporters.history import RENDERERS

    name = b"src/\xffbad.ts".decode("utf-8", "surrogateescape")
    commit = Commit("a" * 40, (), 1_700_000_000, "Pay", (), {}, {}, 0)
    found = violation(WALLET, name, 3, 5, "0x52908400098527886E0F7030069857D2E4169EE7", "hard-coded address")
    rendered = RENDERERS[kind](HistoryReport(1, [Introduction(commit, found)]))
    rendered.encode("utf-8")  # no lone surrogate left to fail on
    if kind == "text":
        assert "src/\\xffbad.ts:3:5:" in rendered
    elif kind == "json":
        assert json.loads(rendered)["findings"][0]["path"] == "src/\\xffbad.ts"
    else:  # a URI: the byte percent-encoded, as in the audit's SARIF
        (result,) = json.loads(rendered)["runs"][0]["results"]
        assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "src/%FFbad.ts"
