"""JSON for machines: the whole report, `"version": 1`, gates in run order, violations sorted."""

from __future__ import annotations

from typing import Any

from ..model import GateResult, Note, Report, Suppression, Violation
from .findings import printable_json

VERSION = 2  # 2: snake_case note kinds, `spec` and `policy_diff` on gates


def render(report: Report) -> str:
    document = {
        "version": VERSION,
        "status": report.status,
        "mode": report.mode,
        "gates": [gate_object(report, gate) for gate in report.gates],
        "notes": [note_object(note) for note in report.notes],
        "suppressions": [suppression_object(s) for s in report.suppressions],
    }
    if report.vote_url:
        document["vote_to_merge"] = report.vote_url
    return printable_json(document, default=str) + "\n"


def gate_object(report: Report, gate: GateResult) -> dict[str, Any]:
    violations = sorted(gate.violations, key=lambda v: (v.path, v.line, v.column, v.token))
    obj: dict[str, Any] = {
        "id": gate.id,
        "type": gate.type,
        "status": report.effective_status(gate),
        "neutral_reason": gate.neutral_reason,
        "message": gate.message,
        "description": gate.description,
        "spec": gate.spec or None,
        "duration_ms": gate.duration_ms,
        "stats": gate.stats,
        "violations": [violation_object(v) for v in violations],
    }
    if gate.error is not None:
        obj["error"] = gate.error
    if gate.policy_diff:
        obj["policy_diff"] = gate.policy_diff
    if gate.details:
        obj["details"] = list(gate.details)
    return obj


def violation_object(v: Violation) -> dict[str, Any]:
    return {
        "path": v.path,
        "line": v.line,
        "column": v.column,
        "token": v.token,
        "message": v.message,
        "hint": v.hint,
        "fingerprint": v.fingerprint,
    }


def suppression_object(s: Suppression) -> dict[str, Any]:
    return {"path": s.path, "line": s.line, "column": s.column, "gate": s.gate, "reason": s.reason}


def note_object(note: Note) -> dict[str, str | None]:
    return {"kind": note.kind, "message": note.message, "path": note.path or None}
