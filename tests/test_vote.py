"""The vote-to-merge link: built from the spec's DAO block, encoded once, only on a failing check."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from cogni_review import config, vote

SPECS = Path(__file__).parent / "fixtures" / "specs"
DAO, PLUGIN, SIGNAL = ("0xF61c3fafD4D34b4568e7a500d92b28Ac175e83C6", "0x609B427f04C1C42De3e28898cb7b9Bad329e6b77",
                       "0x590FC79B9c925C377fA63F4AaF54cdbF4Ee273A1")
BLOCK = f"""\
  dao_contract: "{DAO}"
  plugin_contract: "{PLUGIN}"
  signal_contract: "{SIGNAL}"
  chain_id: "8453"
  base_url: "https://proposal.example.org"
"""
REPO = "https://github.com/octo-org/widget-app"


def link(text: str, repo_url: str = REPO, pr: int = 7) -> tuple[str, str]:
    return vote.merge_link(config.parse(text, "spec.yaml").spec, repo_url, pr)


@pytest.mark.parametrize("block", ["governance", "cogni_dao"])
def test_the_link_from_either_block_encodes_the_repository_once(block: str) -> None:
    url, problem = link(f"{block}:\n{BLOCK}")
    assert problem == ""
    assert url == ("https://proposal.example.org/merge-change?dao=0xF61c3fafD4D34b4568e7a500d92b28Ac175e83C6"
                   "&plugin=0x609B427f04C1C42De3e28898cb7b9Bad329e6b77&signal=0x590FC79B9c925C377fA63F4AaF54cdbF4Ee273A1"
                   "&chainId=8453&repoUrl=https%3A%2F%2Fgithub.com%2Focto-org%2Fwidget-app&pr=7&action=merge&target=change")
    query = parse_qs(urlsplit(url).query)
    assert query["repoUrl"] == [REPO]  # decoded once, it is the URL itself (the predecessor needed two decodes)
    assert {k: v[0] for k, v in query.items()} == {"dao": DAO, "plugin": PLUGIN, "signal": SIGNAL, "chainId": "8453",
                                                   "repoUrl": REPO, "pr": "7", "action": "merge", "target": "change"}


def test_a_transitional_spec_prefers_governance_and_fills_gaps_from_cogni_dao() -> None:
    text = f"governance:\n  chain_id: 8453\n  dao_contract: \"{DAO}\"\n  schedules: []\ncogni_dao:\n{BLOCK.replace(DAO, PLUGIN)}"
    url, _ = link(text)
    query = parse_qs(urlsplit(url).query)
    assert (query["dao"], query["plugin"]) == ([DAO], [PLUGIN])


@pytest.mark.parametrize(("text", "problem"), [
    ("intent: {name: x}\n", ""),
    ("governance:\n  schedules: []\n", ""),
    (f"governance:\n{BLOCK}".replace('  base_url: "https://proposal.example.org"\n', ""),
     "the spec's governance (or cogni_dao) block has no base_url"),
    ((SPECS / "classic_template.yaml").read_text(), "not filled in: dao_contract is 'DAO_ADDRESS_PLACEHOLDER', "
     "plugin_contract is 'PLUGIN_PLACEHOLDER', signal_contract is 'SIGNAL_PLACEHOLDER', chain_id is 'CHAIN_ID_PLACEHOLDER'"),
    (f"governance:\n{BLOCK}".replace("https://proposal.example.org", "ftp://x"), "base_url 'ftp://x' is not an http(s) address"),
])
def test_no_link_without_a_complete_dao_block_and_why(text: str, problem: str) -> None:
    assert link(text) == ("", problem)


def test_a_base_url_without_a_scheme_is_https() -> None:
    url, _ = link(f"governance:\n{BLOCK}".replace("https://proposal.example.org", "proposal.example.org/app/"))
    assert url.startswith("https://proposal.example.org/app/merge-change?dao=")


SPEC = f"""\
payments_in:
  widget: {{provider: depay}}
governance:
{BLOCK}"""
A1 = "0x52908400098527886E0F7030069857D2E4169EE7"


@pytest.fixture
def pr(repo):
    repo.commit("start", **{".cogni/repo-spec.yaml": SPEC, "src/app.ts": "export const ok = 1;\n"})
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit("pay", **{"src/pay.ts": f'const to = "{A1}";\n'})
    return repo


def run(run_cli, repo, *args: str) -> tuple[int, str]:
    code, out, err = run_cli("check", "--repo", str(repo.root), "--base", "main", "--head", "feature",
                             "--pr", "7", "--repo-url", REPO, *args)
    assert err == ""
    return code, out


def test_a_failing_check_carries_the_link_in_text_and_json(pr, run_cli) -> None:
    expected, _ = link(SPEC)
    code, out = run(run_cli, pr)
    assert code == 1
    assert out.splitlines()[-2:] == [f"Propose a DAO vote to merge: {expected}", "cogni-review: FAIL — 1 gate failed with 1 violation, 1 passed"]
    code, out = run(run_cli, pr, "--format", "json")
    assert json.loads(out)["vote_to_merge"] == expected


def test_a_failure_under_fail_on_error_carries_it_too(repo, run_cli) -> None:
    """The predecessor linked only on `fail`, not on a neutral that `fail_on_error` turned into one."""
    spec = SPEC + "fail_on_error: true\ngates:\n  - type: ai-rule\n    with: {rule_file: missing.yaml}\n"
    repo.commit("start", **{".cogni/repo-spec.yaml": spec})
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit("change", **{"src/app.ts": "export const ok = 2;\n"})
    code, out = run(run_cli, repo, "--format", "json")
    doc = json.loads(out)
    assert (code, doc["status"], doc["vote_to_merge"]) == (1, "fail", link(spec)[0])


def test_a_passing_check_or_one_without_the_pull_request_has_no_link(pr, run_cli) -> None:
    pr.commit("fix", **{"src/pay.ts": "const to = config.treasury;\n"})
    code, out = run(run_cli, pr, "--format", "json")
    assert (code, "vote_to_merge" in json.loads(out)) == (0, False)
    pr.commit("break", **{"src/pay.ts": f'const to = "{A1}";\n'})
    code, out, _ = run_cli("check", "--repo", str(pr.root), "--base", "main", "--head", "feature")
    assert code == 1 and "vote" not in out


def test_a_failing_check_says_why_it_has_no_link(repo, run_cli) -> None:
    repo.commit("start", **{".cogni/repo-spec.yaml": SPEC.replace(f'"{SIGNAL}"', '"SIGNAL_PLACEHOLDER"')})
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit("pay", **{"src/pay.ts": f'const to = "{A1}";\n'})
    code, out = run(run_cli, repo)
    assert code == 1 and "Propose" not in out
    assert "note: vote_link: no vote-to-merge link: not filled in: signal_contract is 'SIGNAL_PLACEHOLDER' " \
           "(.cogni/repo-spec.yaml (at " in out


@pytest.mark.parametrize(("args", "message"), [
    (("--pr", "seven"), "argument --pr: not a pull request number: 'seven'"),
    (("--repo-url", "github.com/o/r"), "argument --repo-url: not an http(s) address: 'github.com/o/r'"),
])
def test_bad_pull_request_arguments_exit_2(pr, run_cli, args, message) -> None:
    code, out, err = run_cli("check", "--repo", str(pr.root), "--base", "main", *args)
    assert code == 2 and message in err


def test_pull_request_arguments_do_not_go_with_staged(pr, run_cli) -> None:
    code, _, err = run_cli("check", "--repo", str(pr.root), "--staged", "--title", "x")
    assert (code, err) == (2, "cogni-review: --title, --body, --pr and --repo-url describe a pull request: they go with --base\n")
