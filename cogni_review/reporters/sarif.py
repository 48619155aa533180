"""SARIF 2.1.0 for GitHub code scanning: one rule per gate type, one result per violation.

Results carry `partialFingerprints` (the violation's content key), so an alert survives the
code around it moving. Code scanning rejects a run of more than 25,000 results, so a larger
report keeps the failing gates' results first and says what it left out.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from .. import __version__
from ..model import FAIL, GateResult, Note, Report, Suppressed, Violation
from . import markdown as md
from .findings import fixes, printable_json, worst_first

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
FINGERPRINT = "cogniReview/v1"
MAX_RESULTS = 25_000


def render(report: Report) -> str:
    types = sorted({gate.type for gate in report.gates} | {s.violation.gate_type for s in report.suppressed})
    index = {gate_type: i for i, gate_type in enumerate(types)}
    pairs = worst_first(report)
    results = [result(report, gate, v, index[gate.type]) for gate, v in pairs[:MAX_RESULTS]]
    results += [suppressed(s, index) for s in report.suppressed[: MAX_RESULTS - len(results)]]
    run = {
        "tool": {"driver": driver(report, types)},
        "invocations": [invocation(report, dropped=len(pairs) + len(report.suppressed) - len(results))],
        "columnKind": "unicodeCodePoints",
        "results": results,
    }
    log = {"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}
    return printable_json(log) + "\n"


def driver(report: Report, types: list[str]) -> dict[str, Any]:
    rules = [rule(report, gate_type) for gate_type in types]
    return {"name": "cogni-review", "version": __version__, "rules": rules}


def rule(report: Report, gate_type: str) -> dict[str, Any]:
    hints = fixes(v for gate in report.gates if gate.type == gate_type for v in gate.violations)
    described = next((g.description for g in report.gates if g.type == gate_type and g.description), "")
    short = described or f"Flagged by the {gate_type} gate"
    return {
        "id": gate_type,
        "shortDescription": {"text": short},
        "fullDescription": {"text": f"{short} (cogni-review gate {gate_type})"},
        "help": rule_help(gate_type, hints),
        "defaultConfiguration": {"level": "error"},
    }


def rule_help(gate_type: str, hints: list[str]) -> dict[str, str]:
    """How to fix, from the violations' hints, and where to read more."""
    explain = f"Run `cogni-review explain {gate_type}` for what this gate checks and why."
    bullets = "".join(f"- {md.text(hint)}\n" for hint in hints)
    text = "".join(f"Fix: {hint}\n" for hint in hints) + explain
    return {"text": text, "markdown": f"{bullets}\n{explain}" if bullets else explain}


def result(report: Report, gate: GateResult, v: Violation, rule_index: int) -> dict[str, Any]:
    return {
        "ruleId": gate.type,
        "ruleIndex": rule_index,
        "level": "error" if report.effective_status(gate) == FAIL else "warning",
        "message": {"text": v.message},
        "locations": [location(v.path, region(v))] if v.path else [],  # a finding about the whole change
        "partialFingerprints": {FINGERPRINT: v.fingerprint},
        "properties": {"gate": gate.id, "token": v.token},
    }


def suppressed(s: Suppressed, index: dict[str, int]) -> dict[str, Any]:
    """A finding an inline suppression set aside: listed, with the suppression and its reason."""
    v = s.violation
    return {
        "ruleId": v.gate_type,
        "ruleIndex": index[v.gate_type],
        "level": "error",
        "message": {"text": v.message},
        "locations": [location(v.path, region(v))],
        "partialFingerprints": {FINGERPRINT: v.fingerprint},
        "properties": {"gate": v.gate_id, "token": v.token},
        "suppressions": [{"kind": "inSource", "status": "accepted", "justification": s.suppression.reason,
                          "location": location(s.suppression.path, {"startLine": s.suppression.line,
                                                                    "startColumn": s.suppression.column})}],
    }


def location(path: str, region: dict[str, int] | None = None) -> dict[str, Any]:
    """A repo-relative location; the path's bytes are percent-encoded, as a URI reference must be
    (a name that is not UTF-8 keeps its bytes: `%FF`)."""
    uri = quote(path.encode("utf-8", "surrogateescape"))
    physical: dict[str, Any] = {"artifactLocation": {"uri": uri, "uriBaseId": "%SRCROOT%"}}
    if region:
        physical["region"] = region
    return {"physicalLocation": physical}


def region(v: Violation) -> dict[str, int]:
    """Line and columns of the token; the region ends where the token's first line ends."""
    width = len(v.token.splitlines()[0]) if v.token else 0
    span = {"startLine": v.line, "startColumn": v.column}
    return {**span, "endColumn": v.column + width} if width else span


def invocation(report: Report, dropped: int) -> dict[str, Any]:
    """Whether every gate ran, plus gate errors, notes and any dropped results as notifications."""
    messages = [gate_notification(gate) for gate in report.gates if gate.error]
    messages += [note_notification(note) for note in report.notes]
    if dropped:
        text = f"{dropped} results left out: code scanning accepts at most {MAX_RESULTS} per run"
        messages.append({"level": "warning", "message": {"text": text}})
    ok = not any(gate.error for gate in report.gates)
    return {"executionSuccessful": ok, "toolExecutionNotifications": messages}


def gate_notification(gate: GateResult) -> dict[str, Any]:
    text = f"gate {gate.id} ({gate.type}) did not finish: {gate.error}"
    return {"level": "error", "message": {"text": text}, "descriptor": {"id": gate.type}}


def note_notification(note: Note) -> dict[str, Any]:
    where = {"locations": [location(note.path)]} if note.path else {}
    return {
        "level": "note",
        "message": {"text": note.message},
        "descriptor": {"id": note.kind},
        **where,
    }
