"""What every format lists: each violation with the gate that found it, in a fixed order."""

from __future__ import annotations

from collections.abc import Iterable

from ..model import FAIL, GateResult, Report, Violation

Finding = tuple[GateResult, Violation]


def findings(report: Report) -> list[Finding]:
    """Every violation paired with its gate, sorted by (path, line, column, gate id, token)."""
    pairs = [(gate, v) for gate in report.gates for v in gate.violations]
    return sorted(pairs, key=lambda p: (p[1].path, p[1].line, p[1].column, p[0].id, p[1].token))


def worst_first(report: Report) -> list[Finding]:
    """Findings of failing gates first, then the rest; each group keeps the path order."""
    return sorted(findings(report), key=lambda p: report.effective_status(p[0]) != FAIL)


def fixes(violations: Iterable[Violation]) -> list[str]:
    """The distinct hints of these violations, in the order their violations sort."""
    return list(dict.fromkeys(v.hint for v in sorted(violations, key=Violation.sort_key) if v.hint))


def plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def tally(report: Report) -> str:
    """`3 violations in 1 gate`: how many violations, and how many gates reported them."""
    reporting = sum(1 for gate in report.gates if gate.violations)
    return f"{plural(len(report.violations), 'violation')} in {plural(reporting, 'gate')}"


def gate_status(report: Report, gate: GateResult) -> str:
    """The effective status, with the neutral reason when there is one: `neutral (timeout)`."""
    status = report.effective_status(gate)
    return f"{status} ({gate.neutral_reason})" if gate.neutral_reason else status
