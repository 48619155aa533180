"""GitHub Actions: annotations as workflow commands, and the Markdown job summary.

GitHub shows only the first 10 annotations of each kind per step, so failing gates come first.
The caller prints `render(report)` and appends `render_summary(report)` to $GITHUB_STEP_SUMMARY.
"""

from __future__ import annotations

from ..model import FAIL, PASS, GateResult, Note, Report, Suppression, Violation
from . import markdown as md
from .findings import findings, gate_status, printable, tally, worst_first

#: the job summary must stay under 1 MiB; longer violation tables are cut here
MAX_SUMMARY_ROWS = 500
ICONS = {"pass": ":white_check_mark:", "fail": ":x:", "neutral": ":white_circle:"}


def render(report: Report) -> str:
    lines = [violation_command(report, gate, v) for gate, v in worst_first(report)]
    lines += [gate_command(report, gate) for gate in report.gates if needs_command(report, gate)]
    lines += [note_command(note) for note in report.notes]
    lines += [suppression_command(report, s) for s in report.suppressions]
    return printable("".join(line + "\n" for line in lines))


def suppression_command(report: Report, s: Suppression) -> str:
    said = "suppression added" if report.mode == "check" else "suppression"
    where = {"file": s.path, "line": s.line, "col": s.column, "title": f"cogni-review: {said}"}
    return command("notice", where, f"allow {s.gate or '?'} -- {s.reason or '(no reason)'}")


def violation_command(report: Report, gate: GateResult, v: Violation) -> str:
    kind = "error" if report.effective_status(gate) == FAIL else "warning"
    where = {"file": v.path, "line": v.line, "col": v.column} if v.path else {}  # a finding about the whole change
    message = f"{v.message}\nFix: {v.hint}" if v.hint else v.message
    return command(kind, {**where, "title": f"cogni-review: {gate.type}"}, message)


def needs_command(report: Report, gate: GateResult) -> bool:
    """A gate that did not pass and has no violation to show for it still gets one line."""
    return not gate.violations and report.effective_status(gate) != PASS


def gate_command(report: Report, gate: GateResult) -> str:
    status = report.effective_status(gate)
    kind = "error" if status == FAIL else "warning" if gate.error else "notice"
    message = f"{gate.id}: {gate_status(report, gate)}"
    message += f": {gate.message}" if gate.message else ""
    message += "".join(f"\n{line}" for line in (gate.error, *gate.details) if line)
    return command(kind, {"title": f"cogni-review: {gate.id}"}, message)


def note_command(note: Note) -> str:
    title = {"title": f"cogni-review: {note.kind}"}
    if note.path:
        return command("warning", {"file": note.path, **title}, note.message)
    return command("notice", title, note.message)


def command(kind: str, properties: dict[str, object], message: str) -> str:
    props = ",".join(f"{key}={escape_property(str(value))}" for key, value in properties.items())
    head = f"{kind} {props}" if props else kind
    return f"::{head}::{escape_data(message)}"


def escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def render_failure(message: str, code: int) -> str:
    """The job summary of a run that could not judge: what went wrong, and how to fix it."""
    what = "a usage, spec or git error" if code == 2 else "an internal error"
    lines = [f"## {ICONS['fail']} cogni-review could not run", "", f"It stopped with {what} (exit {code}); "
             "nothing was judged, so this check must not count as a pass.", "", "```", message, "```", ""]
    fixes = [fix for cue, fix in FAILURE_FIXES if cue in message]
    if fixes:
        lines += ["**How to fix:**", "", *[f"- {fix}" for fix in fixes], ""]
    return "\n".join(lines)


#: what a failure message says -> what to do about it
FAILURE_FIXES = (
    ("shallow clone", "check out the full history: `actions/checkout` with `fetch-depth: 0`"),
    ("is not in this repository", "fetch the base (`fetch-depth: 0`, or `git fetch origin <base>`)"),
    ("force-pushed away", "judge the push against the default branch (`base: origin/<default branch>`)"),
    ("no commits yet", "commit first; a repository with no commits has nothing to compare"),
    ("repo-spec.yaml", "fix the spec at the line named above; `cogni-review validate-spec` checks it locally"),
    ("internal error", "rerun with `--debug` and report the traceback"),
)


def render_summary(report: Report) -> str:
    """The job summary: headline, a table of gates, a table of violations, the notes."""
    status = report.status
    lines = [f"## {ICONS[status]} cogni-review: {status.upper()}", ""]
    if report.vote_url:
        lines += [f"**:ballot_box: [Propose a DAO vote to merge]({report.vote_url})**", ""]
    lines += [f"{tally(report)} ({report.mode} mode).", ""]
    lines += gates_section(report) + details_section(report) + violations_section(report)
    lines += suppressions_section(report) + policy_section(report) + notes_section(report)
    return printable("\n".join(lines).rstrip("\n") + "\n")


def suppressions_section(report: Report) -> list[str]:
    """Every suppression (in a check: every one the change adds) with its reason, for reviewers."""
    if not report.suppressions:
        return []
    title = "Suppressions added by this change" if report.mode == "check" else "Suppressions"
    rows = [[md.code(f"{s.path}:{s.line}"), md.code(s.gate or "?"), md.text(s.reason or "(no reason)")]
            for s in report.suppressions]
    return [f"### {title}", "", *md.table(["Location", "Gate", "Reason"], rows), ""]


def policy_section(report: Report) -> list[str]:
    """The diff of the policy, when the change edits it."""
    lines = []
    for gate in report.gates:
        policy_diff = gate.policy_diff
        if policy_diff:
            fence = "~~~~" if "```" in policy_diff else "```"
            lines += ["### Policy changed", "", "<details><summary>Diff of the policy</summary>", "",
                      f"{fence}diff", policy_diff.rstrip("\n"), fence, "", "</details>", ""]
    return lines


def gates_section(report: Report) -> list[str]:
    if not report.gates:
        return ["No gates ran.", ""]
    header = ["Gate", "Type", "Status", "Violations", "ms", "Note"]
    rows = [gate_row(report, gate) for gate in report.gates]
    return ["### Gates", "", *md.table(header, rows, numeric=(3, 4)), ""]


def gate_row(report: Report, gate: GateResult) -> list[str]:
    status = md.text(gate_status(report, gate))
    status = f"**{status}**" if report.effective_status(gate) == FAIL else status
    counts = [str(len(gate.violations)), str(gate.duration_ms)]
    return [md.code(gate.id), md.code(gate.type), status, *counts, md.text(gate.message or gate.description)]


def details_section(report: Report) -> list[str]:
    """What gates said beyond one line: an ai-rule's scores against their thresholds, what it sent where."""
    lines = []
    for gate in report.gates:
        if gate.details:
            lines += [f"#### {md.code(gate.id)}", "", *(f"- {md.text(line)}" for line in gate.details), ""]
    return ["### Details", "", *lines] if lines else []


def violations_section(report: Report) -> list[str]:
    pairs = findings(report)
    if not pairs:
        return []
    header = ["Location", "Gate", "Token", "Message", "Fix"]
    rows = [violation_row(gate, v) for gate, v in pairs[:MAX_SUMMARY_ROWS]]
    lines = ["### Violations", "", *md.table(header, rows), ""]
    if len(pairs) > MAX_SUMMARY_ROWS:
        lines += [f"{len(pairs) - MAX_SUMMARY_ROWS} more not shown; see the log for all.", ""]
    return lines


def violation_row(gate: GateResult, v: Violation) -> list[str]:
    where = md.code(f"{v.path}:{v.line}")
    return [where, md.code(gate.id), md.code(v.token), md.text(v.message), md.text(v.hint)]


def notes_section(report: Report) -> list[str]:
    if not report.notes:
        return []
    items = [note_item(note) for note in report.notes]
    return ["### Notes", "", *items, ""]


def note_item(note: Note) -> str:
    where = f" {md.text(note.path)}:" if note.path else ""
    return f"- **{md.text(note.kind)}**{where} {md.text(note.message)}"
