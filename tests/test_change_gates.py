"""The predecessor's deterministic gates on real repositories, through the CLI: agents-md-sync,
governance-policy, goal-declaration and forbidden-scopes."""

from __future__ import annotations

import json

import pytest

SPEC = """\
intent:
  name: pay-app
gates:
  - type: agents-md-sync
    id: agents_md_sync
"""


def gates_of(run_cli, repo, *args: str) -> tuple[int, dict]:
    code, out, err = run_cli("check", "--repo", str(repo.root), "--base", "main", "--head", "feature", "--format", "json", *args)
    assert err == "", err
    return code, {g["id"]: g for g in json.loads(out)["gates"]}


def branch(repo, **files: str) -> None:
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit("change", **files)


# --------------------------------------------------------------------------- agents-md-sync


@pytest.fixture
def documented(repo):
    repo.commit("start", **{
        ".cogni/repo-spec.yaml": SPEC,
        "AGENTS.md": "# pay-app\n",
        "setup.py": "setup()\n",
        "src/payments/AGENTS.md": "# payments\n",
        "src/payments/confirm.ts": "export const confirm = 1;\n",
        "src/payments/services/credit.ts": "export const credit = 1;\n",
        "src/ui/button.tsx": "export const Button = 1;\n",
        "src/ui/README.md": "# ui\n",
    })
    return repo


def test_code_changed_beside_an_agents_md_that_was_not_updated_fails(documented, run_cli) -> None:
    branch(documented, **{"src/payments/confirm.ts": "export const confirm = 2;\nexport const again = 3;\n",
                          "src/payments/refund.ts": "export const refund = 1;\n", "setup.py": "setup(name='x')\n"})
    code, gates = gates_of(run_cli, documented)
    gate = gates["agents_md_sync"]
    assert (code, gate["status"], gate["message"]) == (1, "fail", "2 directory doc(s) not updated with their code")
    assert [(v["path"], v["line"], v["token"], v["message"]) for v in gate["violations"]] == [
        ("setup.py", 1, "AGENTS.md", "code in the repository root changed (setup.py) but AGENTS.md was not updated"),
        ("src/payments/confirm.ts", 1, "src/payments/AGENTS.md",
         "code in src/payments/ changed (confirm.ts, refund.ts) but src/payments/AGENTS.md was not updated"),
    ]


@pytest.mark.parametrize("files", [
    pytest.param({"src/payments/confirm.ts": "export const confirm = 2;\n", "src/payments/AGENTS.md": "# payments, v2\n"},
                 id="doc-updated-too"),
    pytest.param({"src/payments/services/credit.ts": "export const credit = 2;\n"}, id="subdirectory-without-its-own-doc"),
    pytest.param({"src/ui/button.tsx": "export const Button = 2;\n"}, id="directory-without-a-doc"),
    pytest.param({"src/payments/notes.md": "# notes\n", "src/ui/README.md": "# ui v2\n"}, id="docs-are-not-code"),
])
def test_what_asks_for_no_doc(documented, run_cli, files) -> None:
    branch(documented, **files)
    code, gates = gates_of(run_cli, documented)
    assert (code, gates["agents_md_sync"]["status"]) == (0, "pass")


def test_deleting_or_moving_code_out_asks_for_the_doc_too(documented, run_cli) -> None:
    documented.git("checkout", "-q", "-b", "feature")
    documented.move("src/payments/confirm.ts", "src/ui/confirm.ts")
    documented.commit("move")
    code, gates = gates_of(run_cli, documented)
    (v,) = gates["agents_md_sync"]["violations"]
    assert (code, v["path"], v["token"]) == (1, "src/payments/confirm.ts", "src/payments/AGENTS.md")


def test_doc_pattern_and_code_patterns_are_options(repo, run_cli) -> None:
    spec = SPEC.replace("    id: agents_md_sync\n", "    id: agents_md_sync\n    with: {doc_pattern: NOTES.md, code_patterns: ['src/**/*.ts']}\n")
    repo.commit("start", **{".cogni/repo-spec.yaml": spec, "src/a/NOTES.md": "# a\n", "src/a/x.ts": "1\n", "src/a/y.py": "1\n"})
    branch(repo, **{"src/a/y.py": "2\n"})
    assert gates_of(run_cli, repo)[1]["agents_md_sync"]["status"] == "pass"
    repo.commit("ts", **{"src/a/x.ts": "2\n"})
    assert gates_of(run_cli, repo)[1]["agents_md_sync"]["violations"][0]["token"] == "src/a/NOTES.md"


def test_a_doc_pattern_with_a_folder_is_a_config_error(repo, run_cli) -> None:
    spec = SPEC.replace("    id: agents_md_sync\n", "    id: agents_md_sync\n    with: {doc_pattern: docs/AGENTS.md}\n")
    repo.commit("start", **{".cogni/repo-spec.yaml": spec})
    branch(repo, **{"a.py": "1\n"})
    code, out, err = run_cli("check", "--repo", str(repo.root), "--base", "main", "--head", "feature")
    assert (code, out) == (2, "")
    assert err.startswith("cogni-review: .cogni/repo-spec.yaml (at ") and err.endswith(
        "gates[0].with.doc_pattern: Value error, doc_pattern is a file name, like AGENTS.md, without a folder "
        "(got 'docs/AGENTS.md')\n")


# --------------------------------------------------------------------------- governance-policy

CI = """\
name: CI
on:
  pull_request:
  merge_group:
jobs:
  static:
    runs-on: ubuntu-latest
    steps: [{run: make lint}]
  build:
    name: build (${{ matrix.target }})
    strategy: {matrix: {target: [web, worker]}}
    runs-on: ubuntu-latest
    steps: [{run: make build}]
  e2e:
    strategy:
      matrix:
        browser: [chrome, firefox]
    runs-on: ubuntu-latest
    steps: [{run: make e2e}]
"""
LINT = """\
name: "Lint PR"
on: pull_request
jobs:
  main:
    name: Validate PR title
    runs-on: ubuntu-latest
    steps: [{run: echo ok}]
"""


def policy_repo(repo, contexts: list[str], **workflows: str):
    spec = "required_status_contexts:\n" + "".join(f"  - {json.dumps(c)}\n" for c in contexts)
    spec += "gates:\n  - type: governance-policy\n    id: governance_policy\n"
    files = {".cogni/repo-spec.yaml": spec, "src/app.ts": "export {};\n"}
    files.update({f".github/workflows/{name}": text for name, text in workflows.items()})
    repo.commit("start", **files)
    return repo


def test_contexts_produced_by_jobs_pass(repo, run_cli) -> None:
    contexts = ["static", "build (web)", "e2e (chrome)", "CI / static", "Validate PR title", "Lint PR / Validate PR title"]
    policy_repo(repo, contexts, **{"ci.yaml": CI, "pr-lint.yml": LINT, "notes.txt": "not a workflow"})
    branch(repo, **{"src/app.ts": "export const a = 1;\n"})
    code, gates = gates_of(run_cli, repo)
    gate = gates["governance_policy"]
    assert (code, gate["status"], gate["message"]) == (0, "pass", "6 required status context(s), each produced by a workflow")


def test_each_kind_of_missing_context_has_its_code(repo, run_cli) -> None:
    contexts = ["CI - PR", "CI", "Static", "CI / lint", "Security", "Cogni Git PR Review"]
    policy_repo(repo, contexts, **{"ci.yaml": CI.replace("name: CI", "name: CI — PR"), "broken.yml": "jobs: [\n"})
    branch(repo, **{"src/app.ts": "export const a = 1;\n"})
    code, gates = gates_of(run_cli, repo)
    gate = gates["governance_policy"]
    assert (code, gate["status"], gate["stats"]["problems"]) == (1, "fail", {
        "CI - PR": "workflow_name_mismatch", "CI": "unknown_context", "Static": "workflow_name_mismatch",
        "CI / lint": "unknown_context", "Security": "unknown_context", "Cogni Git PR Review": "unknown_context"})
    assert gate["details"][0] == ("workflow_name_mismatch: 'CI - PR' differs from 'CI — PR' in .github/workflows/ci.yaml "
                                  "only in case, spaces or dashes; GitHub matches names exactly")
    assert gate["details"][-1].startswith(".github/workflows/broken.yml does not parse, so GitHub runs none of it: "
                                          ".github/workflows/broken.yml:2:1: invalid YAML")


def test_exempt_contexts_and_a_spec_without_contexts(repo, run_cli) -> None:
    policy_repo(repo, ["static", "Cogni Git PR Review"], **{"ci.yaml": CI})
    repo.commit("exempt", **{".cogni/repo-spec.yaml": repo.root.joinpath(".cogni/repo-spec.yaml").read_text().replace(
        "    id: governance_policy\n", "    id: governance_policy\n    with: {exempt: [Cogni Git PR Review]}\n")})
    branch(repo, **{"src/app.ts": "export const a = 1;\n"})
    assert gates_of(run_cli, repo)[1]["governance_policy"]["status"] == "pass"
    repo.git("checkout", "-q", "main")
    repo.commit("no contexts", **{".cogni/repo-spec.yaml": "fail_on_error: true\ngates:\n  - type: governance-policy\n"})
    code, gates = gates_of(run_cli, repo)
    gate = gates["governance-policy"]
    assert (code, gate["status"], gate["neutral_reason"]) == (0, "neutral", "no_contexts_required")


def test_a_base_without_workflows_is_workflow_missing(repo, run_cli) -> None:
    policy_repo(repo, ["static"])
    branch(repo, **{".github/workflows/ci.yaml": CI})  # the change's own workflow does not count: the base decides
    code, gates = gates_of(run_cli, repo)
    assert gates["governance_policy"]["details"] == [
        "workflow_missing: 'static': the base has no workflow in .github/workflows/, so nothing produces it"]


def test_a_change_that_renames_a_required_job_fails(repo, run_cli) -> None:
    policy_repo(repo, ["static", "build (web)"], **{"ci.yaml": CI})
    branch(repo, **{".github/workflows/ci.yaml": CI.replace("  static:", "  lint:")})
    code, gates = gates_of(run_cli, repo)
    gate = gates["governance_policy"]
    assert (code, gate["stats"]["problems"]) == (1, {"static": "workflow_missing"})


def test_required_status_contexts_must_be_a_list_of_names(repo, run_cli) -> None:
    repo.commit("start", **{".cogni/repo-spec.yaml": "required_status_contexts: {CI: yes}\n"})
    code, _, err = run_cli("validate-spec", str(repo.root / ".cogni/repo-spec.yaml"))
    assert code == 2 and ":1: required_status_contexts: Input should be a valid tuple" in err


# --------------------------------------------------------------------------- goal-declaration, forbidden-scopes


@pytest.mark.parametrize(("intent", "goals", "non_goals"), [
    ("intent:\n  name: x\n  goals: [Ship]\n  non_goals: [Hosting]\n", "pass", "pass"),
    ("intent:\n  name: x\n  goals: [Ship]\n", "pass", "fail"),
    ("intent:\n  name: x\n  goals: ['  ', null]\n  non_goals: Hosting\n", "fail", "fail"),
    ("intent: just a name\n", "fail", "fail"),
])
def test_goals_and_non_goals_must_be_declared(repo, run_cli, intent, goals, non_goals) -> None:
    spec = intent + "gates:\n  - id: goal_declaration\n  - id: forbidden_scopes\n"  # the older id-only form
    repo.commit("start", **{".cogni/repo-spec.yaml": spec})
    branch(repo, **{"a.py": "1\n"})
    code, gates = gates_of(run_cli, repo)
    assert (gates["goal_declaration"]["status"], gates["forbidden_scopes"]["status"]) == (goals, non_goals)
    assert code == (1 if "fail" in (goals, non_goals) else 0)


def test_the_base_spec_decides_so_adding_goals_passes_from_the_next_change(repo, run_cli) -> None:
    repo.commit("start", **{".cogni/repo-spec.yaml": "gates:\n  - type: goal-declaration\n"})
    branch(repo, **{".cogni/repo-spec.yaml": "intent: {goals: [Ship]}\ngates:\n  - type: goal-declaration\n"})
    gate = gates_of(run_cli, repo)[1]["goal-declaration"]
    assert (gate["status"], gate["message"]) == ("fail", "the spec declares no goals: list at least one under `intent.goals`")


def test_agents_md_sync_in_a_nested_spec_reads_its_globs_from_its_folder(repo, run_cli) -> None:
    repo.commit("start", **{".cogni/repo-spec.yaml": "intent: {name: root}\n",
                            "nodes/op/.cogni/repo-spec.yaml": "gates:\n  - type: agents-md-sync\n    with: {code_patterns: [\"app/**\"]}\n",
                            "nodes/op/app/AGENTS.md": "# app\n", "nodes/op/app/pay.ts": "export const a = 1;\n"})
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit("pay", **{"nodes/op/app/pay.ts": "export const a = 2;\n"})
    code, out, _ = run_cli("check", "--base", "main", "--repo", str(repo.root), "--format", "json")
    (gate,) = [g for g in json.loads(out)["gates"] if g["type"] == "agents-md-sync"]
    assert gate["status"] == "fail" and gate["violations"][0]["path"].startswith("nodes/op/app")
