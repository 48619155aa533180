"""The composite GitHub Action, run step by step the way a runner would, on real repositories.

The harness reads action.yml, skips the `uses:` step (setup-python) and the install step (the
test environment already has cogni-review installed), evaluates the `${{ ... }}` expressions of
each `run:` step's `env:` from the inputs and a real event payload file, and runs the script with
`bash --noprofile --norc -eo pipefail {0}` (what `shell: bash` means on a runner) in the
workspace, with the runner's environment files (GITHUB_OUTPUT, GITHUB_STEP_SUMMARY).

Only the expressions action.yml uses today are known; any other one fails the test, so the harness
cannot silently drift from the action.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from cogni_review import testing

ROOT = Path(__file__).resolve().parents[1]
ACTION = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
EVENTS = Path(__file__).resolve().parent / "fixtures" / "events"

A1 = "0x52908400098527886E0F7030069857D2E4169EE7"  # added by the pull request
A2 = "0xde0B295669a9FD93d5F28D9Ec85E40f4cb697BAe"  # added to main after the fork
ZEROS = "0" * 40
SPEC = """\
schema_version: "0.2.1"
intent:
  name: widget-app
payments_in:
  widget: {provider: depay, receiving_address_env: TREASURY_ADDRESS}
"""
APP = 'export const treasury = process.env.TREASURY_ADDRESS;\n'
PAY_BAD = f'import {{ pay }} from "./app";\n\nconst to = "{A1}";\nexport const send = (n: number) => pay(to, n);\n'
PAY_GOOD = 'import { pay, treasury } from "./app";\n\nconst to = treasury;\nexport const send = (n: number) => pay(to, n);\n'
REFUND_BAD = 'export async function refund(ledger) {\n  await ledger.credit({ reason: "widget_payment" });\n}\n'
REFUND_GOOD = 'import { REFUND_REASON } from "../../shared/constants/payments";\n\nexport async function refund(ledger) {\n  await ledger.credit({ reason: REFUND_REASON });\n}\n'

WALLET_FIX = ("%0AFix: read the address from .cogni/repo-spec.yaml or configuration instead of hard-coding it; "
              "a protocol constant (a token or burn address) goes in the gate's `allow:`")
PAY_ERROR = (
    "::error file=src/pay.ts,line=3,col=13,title=cogni-review%3A wallet-address-literals::"
    f"hard-coded address {A1} (no EIP-55 checksum)" + WALLET_FIX
)
LEGACY_ERROR = (
    "::error file=src/legacy.ts,line=1,col=21,title=cogni-review%3A wallet-address-literals::"
    f"hard-coded address {A2} (valid EIP-55 checksum)" + WALLET_FIX
)
RAILS = "**/src/app/api/v1/payments/credits/**/route.ts, **/src/features/payments/**, **/src/shared/constants/** and 6 more"
REFUND_ERROR = (
    "::error file=src/features/ai/refund.ts,line=2,col=34,title=cogni-review%3A widget-payment-reason::"
    f"payment reason 'widget_payment' outside its approved rails (allowed only in {RAILS})"
    "%0AFix: import the reason constant from the shared constants module and mint only through the approved settlement service"
    "; if this file is a rail, add it to the reason's globs under `reasons:`"
)
VIOLATIONS_TABLE = [
    "### Violations",
    "",
    "| Location | Gate | Token | Message | Fix |",
    "| --- | --- | --- | --- | --- |",
    "| `src/features/ai/refund.ts:2` | `widget-payment-reason` | `widget_payment` | payment reason 'widget\\_payment' outside its"
    " approved rails (allowed only in \\*\\*/src/app/api/v1/payments/credits/\\*\\*/route.ts, \\*\\*/src/features/payments/\\*\\*,"
    " \\*\\*/src/shared/constants/\\*\\* and 6 more) | import the reason constant from the shared constants module and mint only"
    " through the approved settlement service; if this file is a rail, add it to the reason's globs under \\`reasons:\\` |",
    f"| `src/pay.ts:3` | `wallet-address-literals` | `{A1}` | hard-coded address {A1} (no EIP-55 checksum) |"
    " read the address from .cogni/repo-spec.yaml or configuration instead of hard-coding it; a protocol constant"
    " (a token or burn address) goes in the gate's \\`allow:\\` |",
]


# --------------------------------------------------------------------------- the harness

EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
INPUT_NAME = re.compile(r"inputs\.([A-Za-z_][A-Za-z0-9_-]*)")
EVENT_PATH = re.compile(r"github\.event((?:\.[A-Za-z_][A-Za-z0-9_]*)+)")
STEP_OUTPUT = re.compile(r"steps\.([A-Za-z_][A-Za-z0-9_-]*)\.outputs\.([A-Za-z_][A-Za-z0-9_-]*)")


class UnknownExpression(AssertionError):
    """An expression this harness does not evaluate: extend the harness together with action.yml."""


def as_string(value: object) -> str:
    """How the runner turns an expression's value into an env string."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, indent=2)
    return str(value)


@dataclass
class Context:
    """The `inputs`, `github` and `steps` contexts, for the subset of expressions action.yml uses."""

    inputs: dict[str, str]
    event_name: str
    event: dict
    sha: str
    action_path: str
    temp: str = ""
    steps: dict[str, dict[str, str]] = field(default_factory=dict)

    def value(self, expr: str) -> str:
        if m := INPUT_NAME.fullmatch(expr):
            if m[1] not in self.inputs:
                raise UnknownExpression(f"${{{{ {expr} }}}}: no such input in action.yml")
            return self.inputs[m[1]]
        if expr == "github.event_name":
            return self.event_name
        if expr == "github.sha":
            return self.sha
        if expr == "github.action_path":
            return self.action_path
        if expr == "runner.temp":
            return self.temp
        if m := EVENT_PATH.fullmatch(expr):
            node: object = self.event
            for key in m[1].split(".")[1:]:
                node = node.get(key) if isinstance(node, dict) else None  # a missing property is null
            return as_string(node)
        if m := STEP_OUTPUT.fullmatch(expr):
            return self.steps.get(m[1], {}).get(m[2], "")
        raise UnknownExpression(f"${{{{ {expr} }}}}: the harness does not know this expression")

    def interpolate(self, text: object) -> str:
        return EXPRESSION.sub(lambda m: self.value(m[1]), as_string(text))


def input_values(overrides: dict[str, str]) -> dict[str, str]:
    declared = ACTION["inputs"]
    unknown = set(overrides) - set(declared)
    assert not unknown, f"not inputs of action.yml: {sorted(unknown)}"
    return {name: str(overrides.get(name, spec.get("default", ""))) for name, spec in declared.items()}


def read_outputs(path: Path) -> dict[str, str]:
    """Parse a GITHUB_OUTPUT file: `name=value` lines and `name<<DELIMITER` blocks."""
    outputs: dict[str, str] = {}
    lines = iter(path.read_text(encoding="utf-8").splitlines())
    for line in lines:
        if not line:
            continue
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            body = []
            for item in lines:
                if item == delimiter:
                    break
                body.append(item)
            else:
                raise AssertionError(f"{path}: no closing {delimiter!r} for output {name!r}")
            outputs[name] = "\n".join(body)
        elif "=" in line:
            name, value = line.split("=", 1)
            outputs[name] = value
        else:
            raise AssertionError(f"{path}: not an output line: {line!r}")
    return outputs


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str
    step_outputs: dict[str, str]  # the review step's GITHUB_OUTPUT
    outputs: dict[str, str]  # the action's outputs, from action.yml's `outputs:` expressions
    summary: str
    env: dict[str, str]  # the review step's env: block, evaluated

    @property
    def annotations(self) -> list[str]:
        return [line for line in self.stdout.splitlines() if line.startswith("::")]


#: what the install step would have installed: this test environment's own cogni-review
INSTALLED = str(Path(sys.executable).parent / "cogni-review")


def run_action(workspace: Path, event_name: str, event: dict, sha: str, tmp: Path, job_env: dict[str, str] | None = None,
               **inputs: str) -> Run:
    """Run the action's review step; `job_env` is what the workflow's `env:` sets (secrets, say)."""
    tmp.mkdir(parents=True, exist_ok=True)
    event_path = tmp / "event.json"
    event_path.write_text(json.dumps(event, indent=2), encoding="utf-8")
    ctx = Context(input_values(inputs), event_name, json.loads(event_path.read_text()), sha, str(ROOT), str(tmp))
    steps = ACTION["runs"]["steps"]
    result: Run | None = None
    for index, step in enumerate(steps):
        if "uses" in step:
            for value in (step.get("with") or {}).values():
                ctx.interpolate(value)  # every expression must still be one the harness knows
            continue
        env = {name: ctx.interpolate(value) for name, value in (step.get("env") or {}).items()}
        if step.get("id") == "install":  # run for real in test_install_step_uses_its_own_virtual_environment
            ctx.steps["install"] = {"bin": INSTALLED}
            continue
        outputs_file, summary_file = tmp / f"output-{index}", tmp / f"summary-{index}"
        outputs_file.touch()
        summary_file.touch()
        script = tmp / f"step-{index}.sh"
        script.write_text(step["run"], encoding="utf-8")
        process_env = runner_env(workspace, event_name, event_path, sha, tmp)
        process_env.update(job_env or {})
        process_env.update(GITHUB_OUTPUT=str(outputs_file), GITHUB_STEP_SUMMARY=str(summary_file), **env)
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
            cwd=workspace, env=process_env, capture_output=True, text=True, timeout=120,
        )
        step_outputs = read_outputs(outputs_file)
        ctx.steps[step["id"]] = step_outputs
        result = Run(done.returncode, done.stdout, done.stderr, step_outputs, {},
                     summary_file.read_text(encoding="utf-8"), env)
    assert result is not None, "action.yml has no step with id `review`"
    result.outputs = {name: ctx.interpolate(spec["value"]) for name, spec in ACTION["outputs"].items()}
    return result


def runner_env(workspace: Path, event_name: str, event_path: Path, sha: str, tmp: Path) -> dict[str, str]:
    """A clean environment with the variables a runner sets, and this venv's scripts first on PATH."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "RUNNER_", "INPUT_"))}
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env.update(
        CI="true",
        GITHUB_ACTIONS="true",
        GITHUB_EVENT_NAME=event_name,
        GITHUB_EVENT_PATH=str(event_path),
        GITHUB_SHA=sha,
        GITHUB_WORKSPACE=str(workspace),
        GITHUB_ACTION_PATH=str(ROOT),
        GITHUB_REPOSITORY="octo-org/widget-app",
        GITHUB_SERVER_URL="https://github.com",
        GITHUB_RUN_ID="4242",
        RUNNER_OS="Linux",
        RUNNER_TEMP=str(tmp),
    )
    return env


# --------------------------------------------------------------------------- event payloads

def load_event(name: str) -> dict:
    return json.loads((EVENTS / f"{name}.json").read_text(encoding="utf-8"))


def pull_request_event(base: str, head: str, merge: str) -> dict:
    event = load_event("pull_request")
    pr = event["pull_request"]
    pr["base"]["sha"], pr["head"]["sha"], pr["merge_commit_sha"] = base, head, merge
    event["after"] = head
    return event


def push_event(before: str, after: str, ref: str = "refs/heads/main") -> dict:
    event = load_event("push")
    event.update(before=before, after=after, ref=ref, created=before == ZEROS)
    event["head_commit"]["id"] = after
    event["commits"][0]["id"] = after
    return event


# --------------------------------------------------------------------------- scenarios

@dataclass
class PullRequest:
    repo: object
    fork_point: str
    head: str
    main_tip: str
    merge: str

    def event(self, base: str | None = None) -> dict:
        return pull_request_event(base or self.fork_point, self.head, self.merge)


def open_pull_request(repo, pr_files: dict[str, str], spec: str = SPEC) -> PullRequest:
    """main with a spec and clean code; a PR branch; main advances with its own violation; the
    workspace is checked out at the PR's merge commit, as actions/checkout does for pull_request."""
    fork_point = repo.commit("start", **{".cogni/repo-spec.yaml": spec, "src/app.ts": APP})
    repo.git("checkout", "-q", "-b", "feature/pay")
    head = repo.commit("pay from the app", **pr_files)
    repo.git("checkout", "-q", "main")
    main_tip = repo.commit("legacy import", **{"src/legacy.ts": f'export const OLD = "{A2}";\n'})
    merge = merge_commit(repo, head)
    return PullRequest(repo, fork_point, head, main_tip, merge)


def merge_commit(repo, head: str) -> str:
    repo.git("checkout", "-q", "--detach", "main")
    repo.git("merge", "-q", "--no-ff", "-m", f"Merge {head} into main", head)
    return repo.git("rev-parse", "HEAD").strip()


BAD_PR = {"src/pay.ts": PAY_BAD, "src/features/ai/refund.ts": REFUND_BAD}


@pytest.fixture
def pr(repo) -> PullRequest:
    return open_pull_request(repo, BAD_PR)


def test_action_declares_its_inputs_outputs_and_steps() -> None:
    assert ACTION["runs"]["using"] == "composite"
    assert {name: spec.get("default") for name, spec in ACTION["inputs"].items()} == {
        "spec": ".cogni/repo-spec.yaml", "base": "", "format": "github", "sarif-file": "",
        "fail-on": "fail", "python-version": "3.11", "version": "",
    }
    assert {name: spec["value"] for name, spec in ACTION["outputs"].items()} == {
        "status": "${{ steps.review.outputs.status }}",
        "violations": "${{ steps.review.outputs.violations }}",
        "sarif-file": "${{ steps.review.outputs.sarif-file }}",
    }
    steps = ACTION["runs"]["steps"]
    uses = [s for s in steps if "uses" in s]
    assert [(s["uses"], s["with"]) for s in uses] == [("actions/setup-python@v5", {"python-version": "${{ inputs.python-version }}"})]
    assert steps[0] is uses[0], "Python must be set up before anything runs"
    runs = [s for s in steps if "run" in s]
    assert len(runs) + len(uses) == len(steps)
    assert [(s.get("id"), s["shell"]) for s in runs] == [("install", "bash"), ("review", "bash")]


def test_install_step_pip_installs_the_action_or_the_pinned_version(tmp_path: Path) -> None:
    """Run the install script with a stand-in `python` that records its arguments."""
    (install,) = [s for s in ACTION["runs"]["steps"] if "run" in s and "pip install" in s["run"]]
    assert '"${COGNI_VERSION:-$COGNI_ACTION_PATH[ai]}"' in install["run"]
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "python"  # makes a "venv" holding a copy of itself; records what pip is asked
    fake.write_text('#!/bin/sh\nif [ "$1 $2" = "-m venv" ]; then mkdir -p "$3/bin" && cp "$0" "$3/bin/python"; '
                    'else printf "%s\\n" "$@" > "$ARGS_FILE"; fi\n', encoding="utf-8")
    fake.chmod(0o755)
    script = tmp_path / "install.sh"
    script.write_text(install["run"], encoding="utf-8")

    def installed(**inputs: str) -> list[str]:
        ctx = Context(input_values(inputs), "push", {}, ZEROS, str(ROOT), str(tmp_path / "runner"))
        env = {name: ctx.interpolate(value) for name, value in install["env"].items()}
        args, outputs = tmp_path / "args", tmp_path / "outputs"
        run_env = dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}", ARGS_FILE=str(args),
                       GITHUB_OUTPUT=str(outputs), **env)
        subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)], env=run_env, check=True)
        assert read_outputs(outputs)["bin"] == f"{tmp_path}/runner/cogni-review-venv/bin/cogni-review"
        return args.read_text(encoding="utf-8").splitlines()

    pip = ["-m", "pip", "install", "--disable-pip-version-check", "--quiet"]
    assert installed() == [*pip, f"{ROOT}[ai]"]  # with what ai-rule gates need
    assert installed(version="cogni-review==0.1.0") == [*pip, "cogni-review==0.1.0"]


def test_harness_refuses_expressions_it_does_not_know() -> None:
    ctx = Context(input_values({}), "push", {"before": ZEROS}, ZEROS, str(ROOT))
    assert ctx.interpolate("${{ github.event.before }}/${{ github.event.nope.deeper }}") == f"{ZEROS}/"
    for expr in ("${{ github.token }}", "${{ secrets.GITHUB_TOKEN }}", "${{ inputs.nope }}", "${{ env.HOME }}",
                 "${{ github.event_name == 'push' }}", "${{ format('{0}', inputs.spec) }}"):
        with pytest.raises(UnknownExpression):
            ctx.interpolate(expr)
    with pytest.raises(AssertionError, match="not inputs of action.yml"):
        input_values({"fail_on": "neutral"})


@pytest.mark.parametrize("base", ["fork-point", "main-tip"])
def test_pull_request_fails_on_exactly_its_own_lines(pr: PullRequest, tmp_path: Path, base: str) -> None:
    base_sha = pr.fork_point if base == "fork-point" else pr.main_tip
    run = run_action(pr.repo.root, "pull_request", pr.event(base_sha), pr.merge, tmp_path)
    assert run.env["COGNI_EVENT"] == "pull_request"
    assert (run.env["COGNI_PR_BASE"], run.env["COGNI_PR_HEAD"], run.env["COGNI_SHA"]) == (base_sha, pr.head, pr.merge)
    assert run.code == 1, run.stderr
    assert run.stderr == ""
    assert run.annotations == [REFUND_ERROR, PAY_ERROR]  # exactly the PR's lines; not main's src/legacy.ts
    assert run.step_outputs == {"status": "fail", "violations": "2", "sarif-file": ""}
    assert run.outputs == {"status": "fail", "violations": "2", "sarif-file": ""}
    lines = run.summary.splitlines()
    assert lines[:3] == ["## :x: cogni-review: FAIL", "", "2 gates failed with 2 violations (check mode)."]
    gates = lines[lines.index("### Gates"):lines.index("### Violations")]
    assert [re.sub(r"\| \d+ \| (?=[A-Z])", "| ms | ", row) for row in gates] == [
        "### Gates",
        "",
        "| Gate | Type | Status | Violations | ms | Note |",
        "| --- | --- | --- | ---: | ---: | --- |",
        "| `wallet-address-literals` | `wallet-address-literals` | **fail** | 1 | ms | A hard-coded on-chain (EVM) address in app code. |",
        "| `widget-payment-reason` | `widget-payment-reason` | **fail** | 1 | ms | A money-minting reason string used outside its approved rails. |",
        "",
    ]
    assert lines[lines.index("### Violations"):] == VIOLATIONS_TABLE


def test_pull_request_fixed_passes(repo, tmp_path: Path) -> None:
    pr = open_pull_request(repo, BAD_PR)
    repo.git("checkout", "-q", "feature/pay")
    head = repo.commit("read the treasury from config", **{"src/pay.ts": PAY_GOOD, "src/features/ai/refund.ts": REFUND_GOOD})
    merge = merge_commit(repo, head)
    run = run_action(repo.root, "pull_request", pull_request_event(pr.fork_point, head, merge), merge, tmp_path)
    assert (run.code, run.stderr, run.annotations) == (0, "", [])
    assert run.outputs == {"status": "pass", "violations": "0", "sarif-file": ""}
    assert run.summary.splitlines()[:3] == ["## :white_check_mark: cogni-review: PASS", "", "2 passed (check mode)."]


@pytest.fixture
def pushed(repo):
    """main already holds a violation; a push then adds src/pay.ts with a new one."""
    repo.commit("start", **{".cogni/repo-spec.yaml": SPEC, "src/app.ts": APP, "src/legacy.ts": f'export const OLD = "{A2}";\n'})
    before = repo.commit("docs", **{"README.md": "# widget-app\n"})
    repo.commit("pay", **{"src/pay.ts": PAY_BAD})
    after = repo.commit("tidy", **{"README.md": "# widget-app\n\nPays.\n"})
    return repo, before, after


def test_push_judges_only_the_pushed_range(pushed, tmp_path: Path) -> None:
    repo, before, after = pushed
    run = run_action(repo.root, "push", push_event(before, after), after, tmp_path)
    assert run.env["COGNI_PUSH_BEFORE"] == before
    assert run.code == 1, run.stderr
    assert run.annotations == [PAY_ERROR]  # not src/legacy.ts, which was on main before the push
    assert run.outputs == {"status": "fail", "violations": "1", "sarif-file": ""}
    assert run.summary.splitlines()[2] == "1 gate failed with 1 violation, 1 passed (check mode)."


def test_merge_queue_judges_the_group_against_its_base(pushed, tmp_path: Path) -> None:
    repo, before, after = pushed
    event = {"merge_group": {"base_sha": before, "head_sha": after, "head_ref": "refs/heads/gh-readonly-queue/main/pr-7"}}
    run = run_action(repo.root, "merge_group", event, after, tmp_path)
    assert (run.env["COGNI_QUEUE_BASE"], run.env["COGNI_QUEUE_HEAD"]) == (before, after)
    assert run.code == 1, run.stderr
    assert run.annotations == [PAY_ERROR]
    assert run.outputs == {"status": "fail", "violations": "1", "sarif-file": ""}


def test_a_push_that_creates_a_branch_is_judged_against_the_default_branch(pushed, tmp_path: Path) -> None:
    """`before` is all zeros: the branch is new, so what it adds to the default branch is judged
    (from their merge base), not the whole repository."""
    repo, before, after = pushed
    repo.git("update-ref", "refs/remotes/origin/main", before)  # what the clone knows of the default branch
    run = run_action(repo.root, "push", push_event(ZEROS, after, "refs/heads/feature/pay"), after, tmp_path)
    assert run.code == 1, run.stderr
    assert run.annotations == [PAY_ERROR]  # not src/legacy.ts, which the default branch already had
    assert run.summary.splitlines()[2] == "1 gate failed with 1 violation, 1 passed (check mode)."


def test_a_manual_run_audits_the_whole_repository(pushed, tmp_path: Path) -> None:
    repo, _, after = pushed
    run = run_action(repo.root, "workflow_dispatch", load_event("workflow_dispatch"), after, tmp_path)
    assert run.code == 1, run.stderr
    assert run.annotations == [LEGACY_ERROR, PAY_ERROR]
    assert run.outputs == {"status": "fail", "violations": "2", "sarif-file": ""}
    assert run.summary.splitlines()[2] == "1 gate failed with 2 violations, 1 passed (audit mode)."


def test_a_force_push_fetches_the_commit_it_replaced(pushed, tmp_path: Path) -> None:
    """The commit before a force-push is not in a fresh clone; the action fetches it from origin."""
    repo, before, after = pushed
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--single-branch", f"file://{repo.root}", str(clone)], check=True, capture_output=True)
    repo.git("checkout", "-q", "-b", "rewritten", before)  # the branch as it was before the force-push
    replaced = repo.commit("rewritten away", **{"NOTES.md": "gone\n"})
    repo.git("checkout", "-q", "main")  # origin still serves it; the single-branch clone never saw it
    run = run_action(clone, "push", push_event(replaced, after), after, tmp_path / "runner")
    assert run.code == 1, run.stderr
    assert run.annotations == [PAY_ERROR]


def test_a_force_push_whose_old_commit_is_gone_fails_visibly(pushed, tmp_path: Path) -> None:
    repo, _, after = pushed
    gone = "1234567890abcdef1234567890abcdef12345678"
    run = run_action(repo.root, "push", push_event(gone, after), after, tmp_path)
    assert run.code == 2
    assert run.outputs["status"] == "error"
    (annotation,) = run.annotations
    assert annotation.startswith("::error title=cogni-review could not run::the base 1234567890abcdef")
    assert "force-pushed away" in annotation
    assert "## :x: cogni-review could not run" in run.summary
    assert "judge the push against the default branch" in run.summary


def test_sarif_file_is_written_and_named_in_the_outputs(pr: PullRequest, tmp_path: Path) -> None:
    run = run_action(pr.repo.root, "pull_request", pr.event(), pr.merge, tmp_path, **{"sarif-file": "reports/cogni.sarif"})
    assert run.code == 1, run.stderr
    assert run.outputs == {"status": "fail", "violations": "2", "sarif-file": "reports/cogni.sarif"}
    doc = json.loads((pr.repo.root / "reports" / "cogni.sarif").read_text(encoding="utf-8"))
    assert (doc["version"], doc["$schema"]) == ("2.1.0", "https://json.schemastore.org/sarif-2.1.0.json")
    results = [(r["ruleId"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
                r["locations"][0]["physicalLocation"]["region"]["startLine"]) for r in doc["runs"][0]["results"]]
    assert results == [("widget-payment-reason", "src/features/ai/refund.ts", 2), ("wallet-address-literals", "src/pay.ts", 3)]


OTHER_TOOL_SPEC = SPEC + "gates:\n  - type: commit-policy\n"
UNJUDGED_SPEC = SPEC + "gates:\n  - type: wallet-address-literals\n    with: {paths: [\"web/**\"]}\n"


@pytest.mark.parametrize(
    ("spec", "fail_on", "code", "annotation"),
    [
        pytest.param(OTHER_TOOL_SPEC, "fail", 0, "commit-policy: neutral (unimplemented_gate)", id="other-tool-fail"),
        pytest.param(OTHER_TOOL_SPEC, "neutral", 0, "commit-policy: neutral (unimplemented_gate)", id="other-tool-neutral"),
        pytest.param(UNJUDGED_SPEC, "fail", 0, "wallet-address-literals: neutral (nothing_judged)", id="unjudged-fail"),
        pytest.param(UNJUDGED_SPEC, "neutral", 1, "wallet-address-literals: neutral (nothing_judged)", id="unjudged-neutral"),
    ],
)
def test_fail_on_neutral_fails_only_a_gate_that_could_not_judge(repo, tmp_path: Path, spec: str, fail_on: str,
                                                                 code: int, annotation: str) -> None:
    """A gate type another tool implements is structural; a gate that judged nothing is not."""
    pr = open_pull_request(repo, {"src/pay.ts": PAY_GOOD}, spec=spec)
    run = run_action(repo.root, "pull_request", pr.event(), pr.merge, tmp_path, **{"fail-on": fail_on})
    assert (run.code, run.stderr) == (code, "")
    assert run.outputs["status"] == "neutral"
    assert any(f"::{annotation}" in a for a in run.annotations), run.annotations


def test_install_step_uses_its_own_virtual_environment(tmp_path: Path) -> None:
    """The install step, run as a runner would: the gate lands in a venv under the runner's
    temporary folder, the job's Python is left as it was, and the review step is handed its path."""
    step = next(s for s in ACTION["runs"]["steps"] if s.get("id") == "install")
    ctx = Context(input_values({}), "push", {}, "0" * 40, str(ROOT), str(tmp_path))
    env = {name: ctx.interpolate(value) for name, value in step["env"].items()}
    outputs = tmp_path / "output"
    outputs.touch()
    script = tmp_path / "install.sh"
    script.write_text(step["run"], encoding="utf-8")
    job_python = subprocess.run([sys.executable, "-m", "pip", "freeze"], capture_output=True, text=True).stdout
    process_env = {**os.environ, **env, "GITHUB_OUTPUT": str(outputs), "PIP_NO_DEPS": "1",
                   "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]])}
    done = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)], env=process_env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    installed = read_outputs(outputs)["bin"]
    assert installed == f"{tmp_path}/cogni-review-venv/bin/cogni-review" and Path(installed).is_file()
    assert subprocess.run([sys.executable, "-m", "pip", "freeze"], capture_output=True, text=True).stdout == job_python


RULE = """\
id: strict-pr-mapping
schema_version: "0.3"
blocking: true
workflow_id: goal-evaluations
evaluations:
  - strict-pr-mapping: The code changes do what the title and description say, and nothing else.
success_criteria:
  neutral_on_missing_metrics: true
  require:
    - metric: strict-pr-mapping
      gte: 0.8
"""
AI_SPEC = SPEC + """\
llm_proxy: {host_env: LITELLM_PROXY_URL, master_key_env: LITELLM_MASTER_KEY}
review: {model: small-model}
fail_on_error: true
gates:
  - type: ai-rule
    with: {rule_file: pr-syntropy-coherence.yaml}
"""
NO_ENDPOINT = ("::notice title=cogni-review%3A pr-syntropy-coherence::pr-syntropy-coherence: neutral (no_endpoint): "
               "no model endpoint in the environment: set LITELLM_PROXY_URL and LITELLM_MASTER_KEY (llm_proxy). "
               "GitHub withholds secrets from pull requests from forks, so there this gate stays neutral")


def open_ai_pull_request(repo) -> PullRequest:
    repo.commit("rules", **{".cogni/rules/pr-syntropy-coherence.yaml": RULE})
    return open_pull_request(repo, {"src/pay.ts": PAY_GOOD}, spec=AI_SPEC)


@pytest.mark.parametrize(("fail_on", "code"), [("fail", 0), ("neutral", 1)])
def test_fork_pull_request_without_secrets_is_neutral_and_passes_by_default(repo, tmp_path: Path, fail_on: str,
                                                                            code: int) -> None:
    """A fork's pull request gets no secrets: the workflow's `${{ secrets.X }}` are empty. Even
    with `fail_on_error: true`, that is not an error; `fail-on: neutral` makes it fail."""
    pr = open_ai_pull_request(repo)
    empty = {"LITELLM_PROXY_URL": "", "LITELLM_MASTER_KEY": ""}
    run = run_action(repo.root, "pull_request", pr.event(), pr.merge, tmp_path, job_env=empty, **{"fail-on": fail_on})
    assert (run.code, run.stderr) == (code, "")
    assert run.outputs == {"status": "neutral", "violations": "0", "sarif-file": ""}
    assert run.annotations == [NO_ENDPOINT]


@pytest.mark.parametrize(("score", "code", "status"), [(0.9, 0, "pass"), (0.2, 1, "fail")])
def test_same_repository_pull_request_gives_the_model_its_title_body_and_key(repo, tmp_path: Path, score: float,
                                                                             code: int, status: str) -> None:
    pr = open_ai_pull_request(repo)
    event = pr.event()
    event["pull_request"].update(title="Read the treasury from config", body="No more hard-coded addresses.\n\n- pay.ts")
    answer = {"metrics": [{"metric": "strict-pr-mapping", "value": score, "observations": ["pay.ts reads it"]}],
              "summary": "Does what it says."}
    with testing.ChatServer([answer]) as model:
        job_env = {"LITELLM_PROXY_URL": model.url, "LITELLM_MASTER_KEY": "sk-test-0123456789abcdef"}
        run = run_action(repo.root, "pull_request", event, pr.merge, tmp_path, job_env=job_env)
    assert (run.code, run.stderr, run.outputs["status"]) == (code, "", status)
    assert (run.env["COGNI_PR_TITLE"], run.env["COGNI_PR_NUMBER"]) == ("Read the treasury from config", "7")
    (request,) = model.requests
    assert request["headers"]["Authorization"] == "Bearer sk-test-0123456789abcdef"
    user = request["json"]["messages"][1]["content"]
    assert "Title: Read the treasury from config" in user
    assert "Description:\nNo more hard-coded addresses.\n\n- pay.ts" in user
    assert "### src/pay.ts (added)" in user
    assert "pay.ts reads it" in run.summary


DAO_SPEC = SPEC + """\
governance:
  dao_contract: "0xF61c3fafD4D34b4568e7a500d92b28Ac175e83C6"
  plugin_contract: "0x609B427f04C1C42De3e28898cb7b9Bad329e6b77"
  signal_contract: "0x590FC79B9c925C377fA63F4AaF54cdbF4Ee273A1"
  chain_id: "8453"
  base_url: "https://proposals.example.org"
"""
VOTE = ("https://proposals.example.org/merge-change?dao=0xF61c3fafD4D34b4568e7a500d92b28Ac175e83C6"
        "&plugin=0x609B427f04C1C42De3e28898cb7b9Bad329e6b77&signal=0x590FC79B9c925C377fA63F4AaF54cdbF4Ee273A1"
        "&chainId=8453&repoUrl=https%3A%2F%2Fgithub.com%2Focto-org%2Fwidget-app&pr=7&action=merge&target=change")


def test_failing_pull_request_of_a_dao_links_to_a_vote_to_merge(repo, tmp_path: Path) -> None:
    pr = open_pull_request(repo, BAD_PR, spec=DAO_SPEC)
    run = run_action(pr.repo.root, "pull_request", pr.event(), pr.merge, tmp_path)
    assert (run.code, run.stderr) == (1, "")
    assert run.summary.splitlines()[:4] == ["## :x: cogni-review: FAIL", "",
                                            f"**:ballot_box: [Propose a DAO vote to merge]({VOTE})**", ""]


def test_pull_request_cannot_remove_its_own_gate(repo, tmp_path: Path) -> None:
    weakened = "schema_version: \"0.2.1\"\nintent:\n  name: widget-app\n"
    pr = open_pull_request(repo, {"src/pay.ts": PAY_BAD, ".cogni/repo-spec.yaml": weakened})
    run = run_action(repo.root, "pull_request", pr.event(), pr.merge, tmp_path)
    assert run.code == 1, run.stderr
    assert (repo.root / ".cogni/repo-spec.yaml").read_text(encoding="utf-8") == weakened  # the workspace has the PR's spec
    assert run.annotations == [PAY_ERROR, (
        "::warning file=.cogni/repo-spec.yaml,line=1,col=1,title=cogni-review%3A governance-change::"
        "the change edits the policy (modified); this check enforced the base revision's policy"
        "%0AFix: have someone who governs the policy review this part of the change")]  # worst first
    assert run.outputs == {"status": "fail", "violations": "2", "sarif-file": ""}


def test_shallow_clone_says_to_fetch_the_history(pr: PullRequest, tmp_path: Path) -> None:
    shallow = tmp_path / "shallow"
    subprocess.run(["git", "clone", "-q", "--depth", "1", "--branch", "feature/pay", f"file://{pr.repo.root}", str(shallow)],
                   check=True, capture_output=True)
    run = run_action(shallow, "pull_request", pr.event(), pr.head, tmp_path / "runner")
    message = (f"revision '{pr.fork_point}' is not in this repository; this is a shallow clone: "
               "fetch the full history (actions/checkout with `fetch-depth: 0`) or fetch the base commit explicitly")
    assert (run.code, run.stderr) == (2, f"cogni-review: {message}\n")
    assert run.annotations == [f"::error title=cogni-review could not run::{message}"]
    assert run.outputs["status"] == "error"
    assert "- check out the full history: `actions/checkout` with `fetch-depth: 0`" in run.summary.splitlines()
