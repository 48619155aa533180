"""What every format lists: each violation with the gate that found it, in a fixed order."""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable, Iterable
from json.encoder import encode_basestring_ascii as _json_string
from typing import Any

from ..model import FAIL, NEUTRAL, PASS, GateResult, Report, Violation

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
    """`2 gates failed with 3 violations, 5 passed, 1 neutral`: the gates by their effective
    status, and the violations of the gates that failed."""
    by_status: dict[str, list[GateResult]] = {FAIL: [], PASS: [], NEUTRAL: []}
    for gate in report.gates:
        by_status[report.effective_status(gate)].append(gate)
    failed = by_status[FAIL]
    parts = []
    if failed:
        found = sum(len(g.violations) for g in failed)
        parts.append(f"{plural(len(failed), 'gate')} failed with {plural(found, 'violation')}")
    if by_status[PASS]:
        parts.append(f"{len(by_status[PASS])} passed")
    if by_status[NEUTRAL]:
        parts.append(f"{len(by_status[NEUTRAL])} neutral")
    return ", ".join(parts) or "no gates ran"


def gate_status(report: Report, gate: GateResult) -> str:
    """The effective status, with the neutral reason when there is one: `neutral (timeout)`."""
    status = report.effective_status(gate)
    return f"{status} ({gate.neutral_reason})" if gate.neutral_reason else status


_SURROGATE = re.compile("[\ud800-\udfff]")


def printable(text: str) -> str:
    """`text` as valid UTF-8: a byte a file name held that is not UTF-8 (kept by git as a lone
    surrogate) shown as `\\xff`, any other lone surrogate as `\\udXXX`."""
    return _SURROGATE.sub(_escaped, text) if _SURROGATE.search(text) else text


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else f"\\u{code:04x}"


def printable_json(document: Any, default: Callable[[Any], Any] | None = None) -> str:
    """`json.dumps(document, indent=2, default=default)` with every string, keys included, made
    `printable`; written here because the standard library encodes an indented document in
    Python, not C, at about twice this cost (most of the JSON format's time on a large audit)."""
    out: list[str] = []
    _write(document, "\n", out, default)
    return "".join(out)


def _write(value: Any, newline: str, out: list[str], default: Callable[[Any], Any] | None) -> None:
    if isinstance(value, str):
        out.append(_json_string(printable(value)))
    elif value is None or value is True or value is False:
        out.append(_JSON_CONSTANTS[value])
    elif isinstance(value, int):
        out.append(int.__repr__(value))
    elif isinstance(value, float):
        out.append(json.dumps(value))
    elif isinstance(value, (list, tuple, dict)):
        if not value:
            out.append("{}" if isinstance(value, dict) else "[]")
            return
        inner = newline + "  "
        out.append("{" if isinstance(value, dict) else "[")
        items = value.items() if isinstance(value, dict) else zip(itertools.repeat(None), value)
        for index, (key, item) in enumerate(items):
            out.append("," + inner if index else inner)
            if isinstance(value, dict):
                out.append(_json_string(printable(key if isinstance(key, str) else _json_key(key))) + ": ")
            _write(item, inner, out, default)
        out.append(newline + ("}" if isinstance(value, dict) else "]"))
    elif default is not None:
        _write(default(value), newline, out, default)
    else:
        raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


_JSON_CONSTANTS = {None: "null", True: "true", False: "false"}


def _json_key(key: Any) -> str:
    """A key that is not a string, as json writes it."""
    if isinstance(key, bool) or key is None:
        return _JSON_CONSTANTS[key]
    if isinstance(key, (int, float)):
        return json.dumps(key)
    raise TypeError(f"keys must be str, int, float, bool or None, not {type(key).__name__}")
