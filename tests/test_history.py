"""`cogni-review history` on real repositories: each commit judged as a pull request would have been,
findings followed to HEAD or to the commit that removed them."""

from __future__ import annotations

import json

import pytest

from cogni_review import history
from cogni_review.workspace import Workspace

A1 = "0x52908400098527886E0F7030069857D2E4169EE7"
A2 = "0xde709f2102306220921060314715629080e2fb77"
SPEC = "payments_in:\n  widget: {provider: depay}\n"


def walk(repo, **kw):
    workspace = Workspace.open(str(repo.root), None)
    return history.walk(workspace._repo(), workspace.spec, **kw)


def summary(report) -> list[tuple[str, str, int, str, bool, str | None]]:
    """(subject, path, line, token, present, removing subject) of each introduction."""
    return [(i.commit.subject, i.violation.path, i.violation.line, i.violation.token, i.present,
             i.removed_by.subject if i.removed_by else None) for i in report.introductions]


@pytest.fixture
def story(repo):
    """A history with an introduction, a move, a removal, a move into a judged path and a fix."""
    repo.commit("spec", **{".cogni/repo-spec.yaml": SPEC, "src/app.ts": "export const ok = 1;\n"})
    repo.commit("pay", **{"src/pay.ts": f'const to = "{A1}";\n'})
    repo.commit("fixture", **{"tests/fixtures/alice.ts": f'export const ALICE = "{A2}";\n'})
    repo.move("src/pay.ts", "src/payments/pay.ts")
    repo.commit("move pay")
    repo.move("tests/fixtures/alice.ts", "src/alice.ts")
    repo.commit("promote the fixture")
    repo.commit("pay from config", **{"src/payments/pay.ts": "const to = config.treasury;\n"})
    return repo


def test_each_finding_with_the_commit_that_introduced_it_and_its_fate(story) -> None:
    report = walk(story)
    assert report.commits == 6
    assert summary(report) == [
        ("pay", "src/pay.ts", 1, A1, False, "pay from config"),  # the move did not re-introduce it
        ("promote the fixture", "src/alice.ts", 1, A2, True, None),  # moved into a judged path: new there
    ]
    assert report.exit_code() == 1


def test_history_gives_exactly_what_a_check_of_each_commit_gives(story) -> None:
    commits = story.git("rev-list", "--first-parent", "--reverse", "HEAD").split()
    report = walk(story)
    by_commit = {}
    for item in report.introductions:
        by_commit.setdefault(item.commit.sha, []).append((item.violation.path, item.violation.line, item.violation.token))
    for parent, commit in zip(commits, commits[1:]):
        checked = Workspace.open(str(story.root), None).check(parent, commit)
        expected = [(v.path, v.line, v.token) for v in checked.violations if v.gate_type not in ("governance-change",)]
        assert by_commit.get(commit, []) == expected, commit


def test_since_limits_the_walk(story) -> None:
    start = story.git("rev-list", "--first-parent", "--reverse", "HEAD").split()[3]  # after "move pay"
    report = walk(story, since=start)
    assert report.commits == 2 and summary(report) == [("promote the fixture", "src/alice.ts", 1, A2, True, None)]


@pytest.mark.parametrize("every", [False, True])
def test_the_policy_files_are_listed_once_then_followed(story, monkeypatch, every) -> None:
    """One `ls-tree`, of the commit the walk starts after; each later commit's policy files are
    its parent's with the commit's own changes applied."""
    from cogni_review.git import Repository

    listed, run = [], Repository.run
    monkeypatch.setattr(Repository, "run", lambda self, *args, **kw: (
        listed.append(args[-1]) if args[0] == "ls-tree" else None) or run(self, *args, **kw))
    start = story.git("rev-list", "--first-parent", "--reverse", "HEAD").split()[3]
    report = walk(story, since=start, every=every)
    assert report.commits == 2 and listed == [start]


def test_merges_first_parent_and_every_commit(repo) -> None:
    repo.commit("spec", **{".cogni/repo-spec.yaml": SPEC, "src/app.ts": "export const ok = 1;\n"})
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit("feature pay", **{"src/pay.ts": f'const to = "{A1}";\n'})
    repo.git("checkout", "-q", "main")
    repo.commit("main work", **{"src/other.ts": "export const b = 2;\n"})
    repo.git("merge", "-q", "--no-ff", "feature", "-m", "merge feature")
    # first-parent: each step is one merged pull request, so the merge introduced it
    assert summary(walk(repo)) == [("merge feature", "src/pay.ts", 1, A1, True, None)]
    # every commit: the commit on the branch introduced it, and the merge adds nothing new
    assert summary(walk(repo, every=True)) == [("feature pay", "src/pay.ts", 1, A1, True, None)]


def test_each_commit_is_judged_by_its_parents_policy(repo) -> None:
    repo.commit("spec", **{".cogni/repo-spec.yaml": SPEC, "src/app.ts": "export const ok = 1;\n"})
    # this commit widens the policy and uses the reason in the same change: judged by the parent's policy
    repo.commit("widen and use", **{
        ".cogni/repo-spec.yaml": SPEC + "gates:\n  - type: widget-payment-reason\n    with:\n      reasons:\n"
                                 "        widget_payment: [\"src/**\"]\n",
        "src/mint.ts": 'mint({ reason: "widget_payment" });\n',
    })
    # the next commit is judged by the widened policy: its use of the reason is allowed
    repo.commit("use again", **{"src/mint2.ts": 'mint({ reason: "widget_payment" });\n'})
    assert summary(walk(repo)) == [("widen and use", "src/mint.ts", 1, "widget_payment", True, None)]


def test_commits_before_any_spec_are_judged_by_the_current_spec(repo) -> None:
    repo.commit("before the spec", **{"src/pay.ts": f'const to = "{A1}";\n'})
    repo.commit("spec", **{".cogni/repo-spec.yaml": SPEC})
    assert summary(walk(repo)) == [("before the spec", "src/pay.ts", 1, A1, True, None)]


def test_history_formats(story, run_cli, tmp_path) -> None:
    code, out, _ = run_cli("history", "--repo", str(story.root))
    assert code == 1
    assert out.splitlines()[-1].startswith("cogni-review history: 6 commit(s) judged in ")
    assert out.splitlines()[-1].endswith("2 findings introduced, 1 still present at HEAD")
    code, out, _ = run_cli("history", "--repo", str(story.root), "--format", "json")
    findings = json.loads(out)["findings"]
    assert [(f["subject"], f["present_at_head"], bool(f["removed_in"])) for f in findings] == [
        ("pay", False, True), ("promote the fixture", True, False)]
    sarif_file = tmp_path / "history.sarif"
    code, _, _ = run_cli("history", "--repo", str(story.root), "--format", "sarif", "--sarif", str(sarif_file))
    results = json.loads(sarif_file.read_text())["runs"][0]["results"]
    assert [(r["properties"]["presentAtHead"], r["properties"]["introducedIn"][:7]) for r in results] == [
        (False, findings[0]["introduced_in"][:7]), (True, findings[1]["introduced_in"][:7])]


def test_a_past_spec_this_tool_cannot_read_is_said_and_the_rest_is_judged(repo) -> None:
    repo.commit("old spec", **{".cogni/repo-spec.yaml": "gates:\n  - type: wallet-address-literals\n    with: {nonsense: 1}\n"})
    repo.commit("pay", **{"src/pay.ts": f'const to = "{A1}";\n'})
    repo.commit("fix spec", **{".cogni/repo-spec.yaml": SPEC})
    repo.commit("pay again", **{"src/pay2.ts": f'const to = "{A2}";\n'})
    report = walk(repo)
    assert [s for s, *_ in summary(report)] == ["pay", "pay again"]
    assert len(report.notes) == 2 and all("cannot be read" in n for n in report.notes)


def test_history_judges_what_each_commit_put_in_its_files_not_the_change_as_a_whole(repo) -> None:
    """Change gates (review-limits, ai-rule) judge a pull request, not a commit's partial view."""
    repo.commit("spec", **{".cogni/repo-spec.yaml": SPEC + "gates:\n  - type: review-limits\n    with: {max_changed_files: 0}\n"})
    repo.commit("pay", **{"src/pay.ts": f'const to = "{A1}";\n', "src/b.ts": "export const b = 1;\n"})
    assert summary(walk(repo)) == [("pay", "src/pay.ts", 1, A1, True, None)]
