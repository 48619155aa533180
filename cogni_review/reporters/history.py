"""The history report in each format: which commit introduced each finding, and what became of it.

    2a9f0c1b7e44 2026-03-02 src/pay.ts:3:13: wallet-address-literals hard-coded address 0x52... (present at HEAD)
      introduced by "Pay from the widget"; still present
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from .. import __version__
from ..history import HistoryReport, Introduction
from . import sarif
from .findings import plural, printable, printable_json
from .text import one_line


def render_text(report: HistoryReport) -> str:
    lines = []
    for item in report.introductions:
        v, commit = item.violation, item.commit
        fate = "present at HEAD" if item.present else f"removed by {item.removed_by.sha[:12]}"
        lines.append(f"{commit.sha[:12]} {_date(commit.time)} {one_line(v.path)}:{v.line}:{v.column}: "
                     f"{v.gate_type} {one_line(v.message)} ({fate})")
        lines.append(f"  introduced by {one_line(commit.subject)!r}")
    lines += [f"note: {one_line(note)}" for note in report.notes]
    present = len(report.present)
    lines.append(f"cogni-review history: {report.commits} commit(s) judged in {report.seconds:.1f} s; "
                 f"{plural(len(report.introductions), 'finding')} introduced, {present} still present at HEAD")
    return printable("".join(line + "\n" for line in lines))


def render_json(report: HistoryReport) -> str:
    document = {
        "version": 2,
        "mode": "history",
        "commits": report.commits,
        "findings": [_object(item) for item in report.introductions],
        "notes": report.notes,
    }
    return printable_json(document) + "\n"


def _object(item: Introduction) -> dict[str, Any]:
    v = item.violation
    return {
        "gate": v.gate_id, "type": v.gate_type, "path": v.path, "line": v.line, "column": v.column,
        "token": v.token, "message": v.message, "hint": v.hint, "fingerprint": v.fingerprint,
        "introduced_in": item.commit.sha, "introduced_at": _date(item.commit.time),
        "subject": item.commit.subject, "present_at_head": item.present,
        "removed_in": item.removed_by.sha if item.removed_by else None,
    }


def render_sarif(report: HistoryReport) -> str:
    types = sorted({i.violation.gate_type for i in report.introductions})
    index = {t: n for n, t in enumerate(types)}
    results = []
    for item in report.introductions[: sarif.MAX_RESULTS]:
        v = item.violation
        results.append({
            "ruleId": v.gate_type,
            "ruleIndex": index[v.gate_type],
            "level": "error" if item.present else "note",
            "message": {"text": v.message},
            "locations": [sarif.location(v.path, sarif.region(v))] if v.path else [],
            "partialFingerprints": {sarif.FINGERPRINT: v.fingerprint},
            "properties": {"gate": v.gate_id, "token": v.token, "introducedIn": item.commit.sha,
                           "introducedAt": _date(item.commit.time), "presentAtHead": item.present,
                           "removedIn": item.removed_by.sha if item.removed_by else None},
        })
    rules = [{"id": t, "shortDescription": {"text": f"Flagged by the {t} gate"}} for t in types]
    run = {"tool": {"driver": {"name": "cogni-review", "version": __version__, "rules": rules}},
           "columnKind": "unicodeCodePoints", "results": results}
    return printable_json({"$schema": sarif.SCHEMA, "version": "2.1.0", "runs": [run]}) + "\n"


def _date(stamp: int) -> str:
    return datetime.fromtimestamp(stamp, timezone.utc).strftime("%Y-%m-%d")


RENDERERS = {"text": render_text, "json": render_json, "sarif": render_sarif, "github": render_text}
