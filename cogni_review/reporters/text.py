"""Plain text: one grep-friendly line per violation, then notes, gate summaries and a headline.

    src/a.ts:3:23: wallet-address-literals wallet address literal '0xAb…'
    note: plain-text: assets/logo.bin: not UTF-8; read as plain text
    no-wallet-literals: fail — 1 violation, 3 ms
      fix: read the address from config
    cogni-review: FAIL — 1 violation in 1 gate
"""

from __future__ import annotations

from ..model import GateResult, Note, Report, Violation
from .findings import findings, fixes, gate_status, plural, printable, tally


def render(report: Report) -> str:
    lines = [violation_line(gate, v) for gate, v in findings(report)]
    lines += [note_line(note) for note in report.notes]
    said = "suppression added" if report.mode == "check" else "suppression"
    lines += [f"{said}: {one_line(s.path)}:{s.line}: allow {s.gate or '?'} -- {one_line(s.reason or '(no reason)')}"
              for s in report.suppressions]
    for gate in report.gates:
        lines += gate_lines(report, gate)
    lines.append(f"cogni-review: {report.status.upper()} — {tally(report)}")
    return printable("".join(line + "\n" for line in lines))


def violation_line(gate: GateResult, v: Violation) -> str:
    return f"{one_line(v.path)}:{v.line}:{v.column}: {gate.type} {one_line(v.message)}"


def note_line(note: Note) -> str:
    where = f"{one_line(note.path)}: " if note.path else ""
    return f"note: {note.kind}: {where}{one_line(note.message)}"


def gate_lines(report: Report, gate: GateResult) -> list[str]:
    """The gate's summary line, then how to fix its violations and any error it hit."""
    count = plural(len(gate.violations), "violation")
    said = f": {one_line(gate.message)}" if gate.message else ""
    lines = [f"{gate.id}: {gate_status(report, gate)} — {count}, {gate.duration_ms} ms{said}"]
    hints = fixes(gate.violations)
    if hints:
        lines.append(f"  fix: {one_line('; '.join(hints))}")
    if gate.error:
        lines.append(f"  error: {one_line(gate.error)}")
    return lines


def one_line(text: str) -> str:
    """Line breaks shown as `\\n`, so every record stays on one line for grep."""
    return text.replace("\r", "\\r").replace("\n", "\\n")
