"""A required status context that no workflow of the repository produces.

Why: branch protection waits for every context it requires. A context no workflow reports (a
renamed job, a workflow's name where GitHub reports job names, `CI — PR` with an em dash where
the job says `CI - PR`) never turns green: nothing merges until an admin overrides protection,
and the override becomes the habit that lets anything through.

Instead: list in `required_status_contexts` the names GitHub really reports, which for Actions
are job names (a job's `name:`, else its key; a matrix job adds its values in parentheses), and
keep the spec and the workflows in step in the same change.

Each context of the spec's `required_status_contexts` is looked for in the base revision's
`.github/workflows/*.yml` and `*.yaml` (the predecessor knew two hard-coded files). It is produced
when it is a job's check name, or `workflow / job`. The codes: `workflow_missing` (the base has
no workflow, or this change removes the job that produces the context), `workflow_name_mismatch`
(the context is a workflow's name rather than a job's, names a job its workflow does not have, or
differs from a name only in case, spaces or dashes) and `unknown_context` (nothing like it).
A spec that requires no contexts is neutral (`no_contexts_required`); `exempt` lists contexts
produced by something else (a GitHub App's check). It judges a change, so in an audit it is
neutral (`no_change`).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationInfo, model_validator

from cogni_review.diff import Change
from cogni_review.gate import GateOptions, InvalidFile, read_yaml, spec_of
from cogni_review.model import GateResult, NeutralReason

WORKFLOWS = ".github/workflows/"
EXPRESSION = re.compile(r"\$\{\{.*?\}\}")
DASHES = dict.fromkeys(map(ord, "‐‑‒–—―−"), "-")


class Options(GateOptions):
    exempt: tuple[str, ...] = Field((), description="contexts produced by something other than a workflow (a GitHub App's check), not looked for")
    _contexts: tuple[str, ...] = PrivateAttr(())

    @model_validator(mode="after")
    def _from_spec(self, info: ValidationInfo) -> "Options":
        spec = spec_of(info)
        self._contexts = tuple(spec.required_status_contexts or ()) if spec is not None else ()
        return self


class Job(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)
    name: Any = None
    strategy: Any = None


class Workflow(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)
    name: Any = None
    jobs: dict[str, Job | None] = {}


@dataclass(frozen=True)
class Produced:
    """One workflow file's name and the check names of its jobs (a pattern where they vary)."""

    path: str
    name: str
    checks: tuple[tuple[str, re.Pattern[str]], ...]  # (as written, what it matches)

    def produces(self, context: str) -> bool:
        return any(pattern.fullmatch(context) for _, pattern in self.checks) or any(
            pattern.fullmatch(context[len(self.name) + 3:]) for _, pattern in self.checks
            if context.startswith(f"{self.name} / "))

    def describe(self) -> str:
        return f"{self.path} ({self.name!r}: jobs {', '.join(repr(c) for c, _ in self.checks) or 'none'})"


def judge(change: Change, options: Options) -> GateResult:
    contexts = [c for c in dict.fromkeys(options._contexts) if c not in options.exempt]
    if not contexts:
        return GateResult.neutral(NeutralReason.NO_CONTEXTS_REQUIRED,
                                  "the spec requires no status contexts (`required_status_contexts`): nothing to check")
    base, broken = _workflows(change.policy_files)
    head, _ = _workflows(change.head)
    problems = [(context, problem) for context in contexts if (problem := _problem(context, base, head))]
    details = [f"{code}: {message}" for _, (code, message) in problems]
    details += [f"{path} does not parse, so GitHub runs none of it: {why}" for path, why in broken]
    stats = {"contexts": len(contexts), "workflows": len(base),
             "problems": {context: code for context, (code, _) in problems}}
    if problems:
        return GateResult.failed(f"{len(problems)} of {len(contexts)} required status context(s) not produced by a workflow",
                                 **stats).detailed(*details)
    return GateResult.passed(f"{len(contexts)} required status context(s), each produced by a workflow",
                             **stats).detailed(*details)


def _problem(context: str, base: list[Produced], head: list[Produced]) -> tuple[str, str] | None:
    """(code, message) of a context no workflow produces, or None."""
    producer = next((w for w in base if w.produces(context)), None)
    if producer is not None:
        if any(w.produces(context) for w in head):
            return None
        return "workflow_missing", (f"{context!r} is produced by {producer.path} at the base, but this change "
                                    "stops producing it: branch protection would wait for it forever")
    if not base:
        return "workflow_missing", f"{context!r}: the base has no workflow in {WORKFLOWS}, so nothing produces it"
    near = _near(context, base)
    if near:
        return "workflow_name_mismatch", near
    listed = "; ".join(w.describe() for w in base)
    return "unknown_context", f"{context!r} is produced by no workflow in {WORKFLOWS} ({listed})"


def _near(context: str, workflows: list[Produced]) -> str:
    """Why `context` nearly names a check: a workflow's name, a missing job of a named workflow,
    or a name equal but for case, spaces or dashes; "" when it is nothing like any."""
    for w in workflows:
        jobs = ", ".join(repr(c) for c, _ in w.checks)
        if context == w.name:
            return (f"{context!r} is the name of workflow {w.path}, but GitHub reports its checks by job: "
                    f"require one of {jobs}")
        if context.startswith(f"{w.name} / "):
            return f"{context!r}: workflow {w.path} has no job {context[len(w.name) + 3:]!r}; its jobs: {jobs}"
    for w in workflows:
        for name in (w.name, *(c for c, _ in w.checks)):
            if _fold(name) == _fold(context):
                return (f"{context!r} differs from {name!r} in {w.path} only in case, spaces or dashes; "
                        "GitHub matches names exactly")
    return ""


def _fold(name: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", name).translate(DASHES).casefold().split())


def _workflows(snapshot: Any) -> tuple[list[Produced], list[tuple[str, str]]]:
    """The workflows of a revision, and the files among them that do not parse (with why)."""
    found, broken = [], []
    for path in snapshot.paths():
        rest = path[len(WORKFLOWS):]
        if not path.startswith(WORKFLOWS) or "/" in rest or not rest.endswith((".yml", ".yaml")):
            continue
        data = snapshot.read(path)
        if data is None:
            continue
        try:
            workflow = read_yaml(data, path, Workflow)
        except InvalidFile as e:
            broken.append((path, str(e)))
            continue
        name = str(workflow.name) if workflow.name is not None else path
        checks = tuple(_check(key, job) for key, job in workflow.jobs.items())
        found.append(Produced(path, name, checks))
    return found, broken


def _check(key: str, job: Job | None) -> tuple[str, re.Pattern[str]]:
    """A job's check name and what it matches: `${{ ... }}` matches anything; a matrix job
    without one in its name is reported with its values in parentheses."""
    name = str(job.name) if job is not None and job.name is not None else key
    parts = EXPRESSION.split(name)
    pattern = ".+?".join(re.escape(part) for part in parts)
    if len(parts) == 1 and job is not None and isinstance(job.strategy, dict) and job.strategy.get("matrix"):
        pattern += r"(?: \(.+\))?"
    return name, re.compile(pattern)


def _spec(*contexts: str) -> str:
    return "required_status_contexts:\n" + "".join(f"  - {c}\n" for c in contexts)


CI = """\
name: CI
on: [pull_request, merge_group]
jobs:
  static:
    runs-on: ubuntu-latest
    steps: [{run: make lint}]
  unit:
    name: Unit tests
    runs-on: ubuntu-latest
    steps: [{run: make test}]
"""

EXAMPLES = {
    "base": {".github/workflows/ci.yml": CI},
    "passes": [
        {"base": {".cogni/repo-spec.yaml": _spec("static", "Unit tests")}, "head": {}},
        {"base": {".cogni/repo-spec.yaml": _spec("CI / static")}, "head": {}},
    ],
    "fails": [
        {"base": {".cogni/repo-spec.yaml": _spec("CI")}, "head": {}},
        {"base": {".cogni/repo-spec.yaml": _spec("unit tests")}, "head": {}},
        {"base": {".cogni/repo-spec.yaml": _spec("Security")}, "head": {}},
        {"base": {".cogni/repo-spec.yaml": _spec("static")},
         "head": {".github/workflows/ci.yml": CI.replace("  static:", "  lint:")}},
    ],
}
