"""Plain text: one grep-friendly line per violation, then notes, gate summaries and a headline.

    src/a.ts:3:23: wallet-address-literals wallet address literal '0xAb…'
    note: plain-text: assets/logo.bin: not UTF-8; read as plain text
    no-wallet-literals: fail — 1 violation, 3 ms
      fix: read the address from config
    cogni-review: FAIL — 1 violation in 1 gate
"""

from __future__ import annotations

from ..engine import SUPPRESSIONS
from ..model import GateResult, Note, Report, Violation
from ..policy import GOVERNANCE
from .findings import findings, fixes, gate_status, plural, printable, tally

#: findings about the policy itself, which no inline comment can waive
NOT_SUPPRESSIBLE = (SUPPRESSIONS, GOVERNANCE)


COLOURS = {"pass": "32", "fail": "1;31", "neutral": "33"}


def render(report: Report, colour: bool = False) -> str:
    """The report as text; with `colour`, statuses in ANSI colour (for a terminal)."""
    paint = _painter(colour)
    lines = [violation_line(gate, v) for gate, v in findings(report)]
    lines += [note_line(note) for note in report.notes]
    said = "suppression added" if report.mode == "check" else "suppression"
    lines += [f"{said}: {one_line(s.path)}:{s.line}: allow {s.gate or '?'} -- {one_line(s.reason or '(no reason)')}"
              for s in report.suppressions]
    for gate in report.gates:
        lines += gate_lines(report, gate, paint)
    if report.vote_url:
        lines.append(f"Propose a DAO vote to merge: {report.vote_url}")
    lines.append(f"cogni-review: {paint(report.status, report.status.upper())} — {tally(report)}")
    return printable("".join(line + "\n" for line in lines))


def _painter(colour: bool):
    if not colour:
        return lambda status, text: text
    return lambda status, text: f"\x1b[{COLOURS[str(status)]}m{text}\x1b[0m"


def violation_line(gate: GateResult, v: Violation) -> str:
    where = f"{one_line(v.path)}:{v.line}:{v.column}" if v.path else "(the change as a whole)"
    return f"{where}: {gate.type} {one_line(v.message)}"


def note_line(note: Note) -> str:
    where = f"{one_line(note.path)}: " if note.path else ""
    return f"note: {note.kind}: {where}{one_line(note.message)}"


def gate_lines(report: Report, gate: GateResult, paint=lambda status, text: text) -> list[str]:
    """The gate's summary line, then how to fix its violations (or suppress one, with a reason)
    and any error it hit."""
    count = plural(len(gate.violations), "violation")
    said = f": {one_line(gate.message)}" if gate.message else ""
    status = paint(report.effective_status(gate), gate_status(report, gate))
    lines = [f"{gate.id}: {status} — {count}, {gate.duration_ms} ms{said}"]
    hints = fixes(gate.violations)
    if hints:
        lines.append(f"  fix: {one_line('; '.join(hints))}")
        if any(v.path for v in gate.violations) and gate.type not in NOT_SUPPRESSIBLE:
            lines.append(f"  or, where it is right to keep: `cogni: allow {gate.type} -- <reason>` in a comment "
                         "on the line or the line above (`cogni-review explain` shows the options)")
    if gate.error:
        lines.append(f"  error: {one_line(gate.error)}")
    lines += [f"  {one_line(detail)}" for detail in gate.details]
    return lines


def one_line(text: str) -> str:
    """Line breaks shown as `\\n`, so every record stays on one line for grep."""
    return text.replace("\r", "\\r").replace("\n", "\\n")
