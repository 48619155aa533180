"""Audit and check against real git repositories: what a change introduces, and nothing else."""

from __future__ import annotations

import subprocess

import pytest
from conftest import found

from cogni_review.errors import ConfigError, GitError
from cogni_review.workspace import Workspace

A1 = "0x52908400098527886E0F7030069857D2E4169EE7"
A2 = "0xde709f2102306220921060314715629080e2fb77"
SPEC = """\
schema_version: "0.2.1"
payments_in:
  widget: {provider: depay}
providers:
  openrouter: {api_key_env: OPENROUTER_API_KEY}
gates:
  - type: review-limits
    id: review_limits
    with: {max_changed_files: 10, max_total_diff_kb: 100}
  - type: widget-payment-reason
    with:
      reasons:
        credits_purchase: ["src/features/payments/**"]
"""


@pytest.fixture
def project(repo):
    repo.commit("spec", **{".cogni/repo-spec.yaml": SPEC, "src/app.ts": f'export const A = "{A1}";\n'})
    return repo


def check(repo, base="main", head=None, **kw):
    return Workspace.open(str(repo.root), None).check(base, head, **kw)


def branch(repo, name="feature"):
    repo.git("checkout", "-q", "-b", name)


def test_audit_sees_tracked_and_untracked_not_ignored(project) -> None:
    project.write(".gitignore", "build/\n")
    project.write("src/new.ts", f'const b = "{A2}";\n')
    project.write("build/out.js", f'const c = "{A2}";\n')
    report = Workspace.open(str(project.root), None).audit()
    assert found(report) == [
        ("wallet-address-literals", "src/app.ts", 1, A1),
        ("wallet-address-literals", "src/new.ts", 1, A2),
    ]
    assert report.status == "fail" and report.exit_code() == 1


def test_audit_of_a_revision_reads_committed_content(project) -> None:
    first = project.git("rev-parse", "HEAD").strip()
    project.commit("clean", **{"src/app.ts": "export const A = config.treasury;\n"})
    assert found(Workspace.open(str(project.root), None).audit()) == []
    assert found(Workspace.open(str(project.root), None).audit(first)) == [("wallet-address-literals", "src/app.ts", 1, A1)]


def test_audit_of_a_plain_folder(tmp_path) -> None:
    (tmp_path / ".cogni").mkdir()
    (tmp_path / ".cogni" / "repo-spec.yaml").write_text(SPEC)
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.ts").write_text(f'x("{A2}")\n')
    (tmp_path / "README.md").write_text(f"send to {A2} and credits_purchase\n")
    assert found(Workspace.open(str(tmp_path), None).audit()) == [("wallet-address-literals", "src/a.ts", 1, A2)]


def test_check_reports_only_what_the_change_adds(project) -> None:
    branch(project)
    project.commit("work", **{
        "src/app.ts": f'// moved down\n\nexport const A = "{A1}";\nexport const B = "{A2}";\n',
        "src/features/payments/pay.ts": 'export const R = "credits_purchase";\n',
        "src/jobs/refund.ts": 'ledger.credit({ reason: "credits_purchase" });\n',
    })
    report = check(project)
    assert found(report) == [
        ("wallet-address-literals", "src/app.ts", 4, A2),
        ("widget-payment-reason", "src/jobs/refund.ts", 1, "credits_purchase"),
    ]
    assert {g.id: g.status for g in report.gates} == {
        "review_limits": "pass",
        "widget-payment-reason": "fail",
        "wallet-address-literals": "fail",
        "provider-api-key-usage": "pass",
    }


def test_a_second_copy_of_an_existing_line_is_new(project) -> None:
    branch(project)
    project.commit("dup", **{"src/app.ts": f'export const A = "{A1}";\nexport const A = "{A1}";\n'})
    assert found(check(project)) == [("wallet-address-literals", "src/app.ts", 2, A1)]


def test_rename_within_app_code_is_not_new_but_moving_into_app_code_is(project) -> None:
    project.commit("script", **{"scripts/seed.ts": f'const T = "{A2}";\nconst n = 1;\n'})
    branch(project)
    project.move("src/app.ts", "src/config/app.ts")
    project.move("scripts/seed.ts", "src/seed.ts")
    project.commit("move")
    assert found(check(project)) == [("wallet-address-literals", "src/seed.ts", 1, A2)]


def test_moving_a_reason_off_the_rails_is_caught(project) -> None:
    project.commit("rail", **{"src/features/payments/pay.ts": 'export const R = "credits_purchase";\n'})
    branch(project)
    project.move("src/features/payments/pay.ts", "src/features/admin/pay.ts")
    project.commit("move")
    assert found(check(project)) == [("widget-payment-reason", "src/features/admin/pay.ts", 1, "credits_purchase")]


def test_policy_comes_from_the_base_so_a_change_cannot_weaken_its_own_gate(project) -> None:
    branch(project)
    weakened = SPEC.replace('credits_purchase: ["src/features/payments/**"]', 'credits_purchase: ["src/**"]')
    weakened += "  - type: wallet-address-literals\n    enabled: false\n"
    project.commit("weaken", **{
        ".cogni/repo-spec.yaml": weakened,
        "src/jobs/refund.ts": f'ledger.credit({{ reason: "credits_purchase", to: "{A2}" }});\n',
    })
    report = check(project)
    assert found(report) == [
        ("governance-change", ".cogni/repo-spec.yaml", 1, ".cogni/repo-spec.yaml"),
        ("widget-payment-reason", "src/jobs/refund.ts", 1, "credits_purchase"),
        ("wallet-address-literals", "src/jobs/refund.ts", 1, A2),
    ]
    (governance,) = [g for g in report.gates if g.type == "governance-change"]
    assert (governance.status, governance.neutral_reason) == ("neutral", "policy_changed")
    assert "-        credits_purchase: [\"src/features/payments/**\"]" in governance.policy_diff
    assert "+  - type: wallet-address-literals" in governance.policy_diff
    assert report.status == "fail"


def test_an_invalid_spec_in_the_change_is_a_config_error(project) -> None:
    branch(project)
    project.commit("typo", **{".cogni/repo-spec.yaml": SPEC.replace("reasons:", "reasonz:")})
    with pytest.raises(ConfigError) as caught:
        check(project)
    assert str(caught.value).startswith(".cogni/repo-spec.yaml (at ")
    assert "gates[1].with.reasonz: unknown key" in str(caught.value)


def test_a_base_without_spec_uses_the_changes_spec_and_says_so(repo) -> None:
    repo.commit("start", **{"src/a.ts": "export {};\n"})
    branch(repo)
    repo.commit("adopt", **{".cogni/repo-spec.yaml": SPEC, "src/b.ts": f'const x = "{A1}";\n'})
    report = check(repo)
    assert found(report) == [
        ("governance-change", ".cogni/repo-spec.yaml", 1, ".cogni/repo-spec.yaml"),
        ("wallet-address-literals", "src/b.ts", 1, A1),
    ]
    assert [(n.kind, n.path, n.message) for n in report.notes] == [
        ("governance_change", ".cogni/repo-spec.yaml", "the base has no spec; the change's own spec was enforced")
    ]


def test_merge_base_semantics_ignore_what_landed_on_the_base_meanwhile(project) -> None:
    branch(project)
    project.commit("feature work", **{"src/f.ts": "export const f = 1;\n"})
    project.git("checkout", "-q", "main")
    project.commit("landed elsewhere", **{"src/other.ts": f'const o = "{A2}";\n'})
    project.git("checkout", "-q", "feature")
    assert found(check(project, "main", "feature")) == []
    two_dot = check(project, "main", "feature", two_dot=True)
    assert found(two_dot) == []  # the file is deleted at head relative to main: nothing added


def test_review_limits_measure_the_diff_exactly(project) -> None:
    branch(project)
    project.commit("big", **{f"src/f{i}.ts": "x\n" * 50 for i in range(11)})
    report = check(project)
    (limits,) = [g for g in report.gates if g.id == "review_limits"]
    diff = subprocess.run(["git", "diff", "-M", "main", "feature"], cwd=project.root, capture_output=True, check=True).stdout
    assert limits.status == "fail"
    assert limits.stats == {"changed_files": 11, "total_diff_bytes": len(diff), "lines_changed": 11 * 50}
    assert limits.message == "11 files changed; limit 10"


def test_staged_change_against_head(project) -> None:
    project.write("src/jobs/k.ts", "const k = process.env.OPENROUTER_API_KEY;\n")
    project.git("add", "src/jobs/k.ts")
    project.write("src/unstaged.ts", f'const u = "{A2}";\n')
    report = Workspace.open(str(project.root), None).check_staged()
    assert found(report) == [("provider-api-key-usage", "src/jobs/k.ts", 1, "OPENROUTER_API_KEY")]


def test_staged_first_commit_on_an_unborn_head(repo) -> None:
    repo.write(".cogni/repo-spec.yaml", SPEC)
    repo.write("src/a.ts", f'const a = "{A1}";\n')
    repo.git("add", "-A")
    report = Workspace.open(str(repo.root), None).check_staged()
    assert found(report) == [
        ("governance-change", ".cogni/repo-spec.yaml", 1, ".cogni/repo-spec.yaml"),
        ("wallet-address-literals", "src/a.ts", 1, A1),
    ]


def test_unknown_base_says_what_to_do(project) -> None:
    with pytest.raises(GitError) as caught:
        check(project, "no-such-branch")
    assert str(caught.value) == (
        "revision 'no-such-branch' is not in this repository; check the spelling, or fetch it (`git fetch origin <branch>`)"
    )


def test_check_outside_git_is_an_error(tmp_path) -> None:
    with pytest.raises(GitError):
        Workspace.open(str(tmp_path), None).check("main")


def test_a_machine_without_git_is_told_so_at_every_step_that_needs_it(project, monkeypatch, tmp_path) -> None:
    """Opening the repository succeeded; git then disappears from PATH: the diff (whose warnings
    are read) and the streamed patch say so in words, never with a traceback."""
    from cogni_review import diff

    repo = Workspace.open(str(project.root), None).repo
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(GitError, match="^git is not installed or not on PATH$"):
        diff.between(repo, "HEAD", None, None, None)
    with pytest.raises(GitError, match="^git is not installed or not on PATH$"):
        with repo.stream("log"):
            pass
