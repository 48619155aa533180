"""The DAO's real shapes, end to end: rule files and specs shaped like the public ones (written
here, in tests/fixtures), checked on real repositories with a scripted model over a real socket."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from cogni_review.testing import ChatServer

FIXTURES = Path(__file__).parent / "fixtures"
RULES = FIXTURES / "rules"
APP = "export const pay = (cents: number) => charge(cents);\n"
CHANGED = "export const pay = (cents: number) => charge(Math.floor(cents));\n"


def full_marks(rule_file: str, value: float = 1.0) -> dict:
    rule = yaml.safe_load((RULES / rule_file).read_text(encoding="utf-8"))
    metrics = [metric for item in rule["evaluations"] for metric in item]
    return {"metrics": [{"metric": m, "value": value, "observations": [f"{m} looks right"]} for m in metrics],
            "summary": "fine"}


def check(repo, run_cli, *args: str) -> tuple[int, dict]:
    code, out, err = run_cli("check", "--repo", str(repo.root), "--base", "main", "--head", "feature",
                             "--format", "json", "--title", "Floor charges", *args)
    assert err == "", err
    return code, json.loads(out)


@pytest.mark.parametrize(("rule_file", "status", "said"), [
    ("change-coherence.yaml", "pass", "rule 'one-purpose-change' holds"),
    ("conventions.yaml", "pass", "rule 'conventions' holds"),
    ("starter-template.yaml", "pass", "rule 'starter-rules' holds"),
    ("extensions.yaml", "pass", "rule 'mission-fit' holds"),
    ("invalid-design-only.yaml", "neutral", "rule file .cogni/rules/invalid-design-only.yaml is invalid; fix it:\n"
     ".cogni/rules/invalid-design-only.yaml:5: workflow_id: Input should be 'goal-evaluations' (got 'bot-only-repo')\n"
     ".cogni/rules/invalid-design-only.yaml:10: evaluations[0].path_fence: Input should be a valid string"),
    ("invalid-single-statement.yaml", "neutral", "rule file .cogni/rules/invalid-single-statement.yaml is invalid; fix it:\n"
     ".cogni/rules/invalid-single-statement.yaml:2: schema_version: Value error, schema '0.2' is not read here"),
])
def test_rule_files_shaped_like_the_daos_load_and_are_judged(repo, run_cli, monkeypatch, rule_file, status, said) -> None:
    spec = ("llm_proxy: {host_env: LLM_URL, master_key_env: LLM_KEY}\nreview: {model: small-model}\n"
            f"gates:\n  - type: ai-rule\n    with: {{rule_file: {rule_file}}}\n")
    repo.commit("start", **{".cogni/repo-spec.yaml": spec, f".cogni/rules/{rule_file}": (RULES / rule_file).read_text(),
                            "src/pay.ts": APP})
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit("floor", **{"src/pay.ts": CHANGED})
    reply = full_marks(rule_file) if status == "pass" else {}
    with ChatServer([reply]) as server:
        monkeypatch.setenv("LLM_URL", server.url)
        monkeypatch.setenv("LLM_KEY", "sk-test-0123456789abcdef")
        code, doc = check(repo, run_cli)
    (gate,) = [g for g in doc["gates"] if g["type"] == "ai-rule"]
    assert (gate["id"], gate["status"]) == (rule_file.removesuffix(".yaml"), status)
    assert gate["message"].startswith(said), gate["message"]
    assert len(server.requests) == (1 if status == "pass" else 0)


@pytest.fixture
def lighthouse(repo):
    """A minted node's repository: the transitional spec, its three rules, an app; a pull request."""
    files = {".cogni/repo-spec.yaml": (FIXTURES / "specs" / "transitional_dao_blocks.yaml").read_text(), "src/pay.ts": APP}
    files.update({f".cogni/rules/{name}": (RULES / name).read_text()
                  for name in ("change-coherence.yaml", "conventions.yaml", "starter-template.yaml")})
    repo.commit("start", **files)
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit("floor", **{"src/pay.ts": CHANGED})
    return repo


def test_a_minted_nodes_spec_runs_every_gate_it_lists(lighthouse, run_cli, monkeypatch) -> None:
    replies = [full_marks("change-coherence.yaml"), full_marks("conventions.yaml", 0.2), full_marks("starter-template.yaml", 0.1)]
    with ChatServer(replies) as server:
        monkeypatch.setenv("PROXY_BASE_URL", server.url)
        monkeypatch.setenv("PROXY_ADMIN_KEY", "sk-admin-0123456789abcdef")
        code, doc = check(lighthouse, run_cli, "--pr", "12", "--repo-url", "https://github.com/example-dao/lighthouse")
    assert [(g["id"], g["status"], g["neutral_reason"]) for g in doc["gates"]] == [
        ("review_limits", "pass", None),
        ("change-coherence", "pass", None),
        ("conventions", "fail", None),
        ("starter-template", "neutral", "non_blocking"),  # `blocking: false` in the rule
        ("provider-api-key-usage", "pass", None),  # turned on by the spec's keys
        ("wallet-address-literals", "pass", None),  # turned on by the DAO contracts it declares
    ]
    assert [r["json"]["model"] for r in server.requests] == ["small-model-x"] * 3  # review.model; the rule's own loses
    assert code == 1
    assert doc["vote_to_merge"] == (
        "https://votes.example.org/merge-change?dao=0x000000000000000000000000000000000000dEaD"
        "&plugin=0x000000000000000000000000000000000000c0de&signal=0x000000000000000000000000000000000000bEEF"
        "&chainId=8453&repoUrl=https%3A%2F%2Fgithub.com%2Fexample-dao%2Flighthouse&pr=12&action=merge&target=change")


def test_on_a_fork_the_same_pull_request_is_neutral_not_failed(lighthouse, run_cli) -> None:
    code, doc = check(lighthouse, run_cli)
    assert (code, doc["status"]) == (0, "neutral")  # fail_on_error: true, yet no_endpoint is not an error
    assert {g["id"]: g["neutral_reason"] for g in doc["gates"]} == {
        "review_limits": None, "change-coherence": "no_endpoint", "conventions": "no_endpoint",
        "starter-template": "no_endpoint", "provider-api-key-usage": None, "wallet-address-literals": None}


def test_an_admin_tools_spec_runs_its_deterministic_gates(repo, run_cli) -> None:
    ci = "name: CI - PR\non: pull_request\njobs:\n  static:\n    runs-on: x\n  unit:\n    runs-on: x\n"
    repo.commit("start", **{".cogni/repo-spec.yaml": (FIXTURES / "specs" / "admin_tool_contexts.yaml").read_text(),
                            ".cogni/rules/change-coherence.yaml": (RULES / "change-coherence.yaml").read_text(),
                            ".github/workflows/ci.yaml": ci, "src/AGENTS.md": "# src\n", "src/pay.ts": APP})
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit("floor", **{"src/pay.ts": CHANGED})
    code, doc = check(repo, run_cli)
    assert [(g["id"], g["status"], g["neutral_reason"]) for g in doc["gates"]] == [
        ("review_limits", "pass", None),
        ("agents_md_sync", "fail", None),
        ("governance_policy", "pass", None),
        ("goal_declaration", "pass", None),
        ("forbidden_scopes", "pass", None),
        ("change-coherence", "neutral", "no_endpoint"),
    ]
    assert code == 1
