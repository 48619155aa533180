"""The engine's one loop: audit and check agree, the baseline and suppressions work in both, and
every file name git can hold gets its hunks. Real repositories in temporary folders."""

from __future__ import annotations

import os

import pytest
from conftest import found

from cogni_review import diff
from cogni_review.git import Repository
from cogni_review.workspace import Workspace

A1 = "0x52908400098527886E0F7030069857D2E4169EE7"
SPEC = """\
payments_in:
  widget: {provider: depay}
gates:
  - type: wallet-address-literals
  - type: review-limits
    with: {max_changed_files: 100}
"""


@pytest.fixture
def project(repo):
    repo.commit("spec", **{".cogni/repo-spec.yaml": SPEC, "src/app.ts": "export const ok = 1;\n"})
    return repo


def audit(repo):
    return Workspace.open(str(repo.root), None).audit()


def check(repo, base="main"):
    return Workspace.open(str(repo.root), None).check(base)


def test_the_baseline_accepts_in_a_check_what_it_accepts_in_an_audit(project, run_cli) -> None:
    """A finding the baseline accepts twice: the base has one copy, the change adds the second."""
    project.commit("debt", **{"src/a.ts": f'const a = "{A1}";\nconst a = "{A1}";\n'})
    assert run_cli("baseline", "--repo", str(project.root))[0] == 0
    project.commit("baseline", **{"src/a.ts": f'const a = "{A1}";\n'})
    project.git("checkout", "-q", "-b", "feature")
    project.commit("again", **{"src/a.ts": f'const a = "{A1}";\nconst a = "{A1}";\n'})
    assert found(audit(project)) == []
    report = check(project)
    assert found(report) == []
    (wallet,) = [g for g in report.gates if g.type == "wallet-address-literals"]
    assert (wallet.status, wallet.stats["baselined"]) == ("pass", 1)
    project.commit("a third", **{"src/a.ts": f'const a = "{A1}";\nconst a = "{A1}";\nconst a = "{A1}";\n'})
    assert found(check(project)) == [("wallet-address-literals", "src/a.ts", 3, A1)]
    assert found(audit(project)) == [("wallet-address-literals", "src/a.ts", 3, A1)]


def test_a_check_notes_baseline_entries_of_changed_files_that_match_nothing(project, run_cli) -> None:
    project.commit("debt", **{"src/a.ts": f'const a = "{A1}";\n', "src/b.ts": f'const b = "{A1}";\n'})
    assert run_cli("baseline", "--repo", str(project.root))[0] == 0
    project.commit("baseline")
    project.git("checkout", "-q", "-b", "feature")
    project.commit("paid off", **{"src/a.ts": "const a = config.address;\n"})
    report = check(project)
    assert [(n.kind, n.path) for n in report.notes] == [("stale_baseline", "src/a.ts")]


@pytest.mark.parametrize("mode", ["audit", "check"])
def test_a_suppression_in_a_file_no_gate_judges_is_seen_by_neither_mode(project, mode) -> None:
    """Audit and check run one loop: a file no gate selects is not read by either, so its
    suppressions count in neither (there is nothing there for them to suppress)."""
    project.git("checkout", "-q", "-b", "feature")
    project.commit("odd", **{"tests/x.ts": "// cogni: allow wallet-address-literals\nexport const x = 1;\n"})
    report = audit(project) if mode == "audit" else check(project)
    assert (found(report), report.suppressions, report.status) == ([], (), "pass" if mode == "check" else "neutral")


@pytest.mark.parametrize("mode", ["audit", "check"])
def test_an_invalid_suppression_in_a_judged_file_fails_both_modes(project, mode) -> None:
    project.git("checkout", "-q", "-b", "feature")
    project.commit("odd", **{"src/x.ts": f'const x = "{A1}"; // cogni: allow wallet-address-literals\n'})
    report = audit(project) if mode == "audit" else check(project)
    assert found(report) == [("wallet-address-literals", "src/x.ts", 1, A1),
                             ("suppressions", "src/x.ts", 1, "cogni: allow wallet-address-literals")]


@pytest.mark.parametrize("mode", ["audit", "check"])
def test_a_stale_suppression_is_a_note_in_an_audit_and_a_failure_when_a_change_adds_it(project, mode) -> None:
    project.git("checkout", "-q", "-b", "feature")
    project.commit("odd", **{"src/x.ts": "// cogni: allow wallet-address-literals -- old burn address\nconst x = 1;\n"})
    report = audit(project) if mode == "audit" else check(project)
    if mode == "audit":
        assert found(report) == [] and [(n.kind, n.path) for n in report.notes] == [("stale_suppression", "src/x.ts")]
    else:
        assert found(report) == [("suppressions", "src/x.ts", 1, "cogni: allow wallet-address-literals")]
    assert [s.reason for s in report.suppressions] == ["old burn address"]


NAMES = [
    pytest.param("src/tab\there.ts", id="tab"),
    pytest.param('src/say "hi".ts', id="quote"),
    pytest.param("src/ünïcode.ts", id="non-ascii"),
    pytest.param("src/back\\slash.ts", id="backslash"),
    pytest.param("src/sp ace b/x y.ts", id="space-b-slash"),
    pytest.param("src/new\nline.ts", id="newline"),
]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("quote_path", ["true", "false"])
def test_every_file_name_git_can_hold_gets_its_hunks(project, name: str, quote_path: str) -> None:
    project.git("config", "core.quotePath", quote_path)
    project.commit("before", **{name: "export const a = 1;\n"})
    project.git("checkout", "-q", "-b", "feature")
    project.commit("after", **{name: f'export const a = 1;\nconst to = "{A1}";\nconst b = 2;\n'})
    repo = Repository.open(project.root)
    change = diff.between(repo, "main", "feature", repo.revision("main"), repo.revision("feature"))
    (changed,) = change.files
    assert (changed.path, changed.added_lines, changed.lines_added, changed.lines_removed) == (name, {2, 3}, 2, 0)
    report = check(project)
    assert found(report) == [("wallet-address-literals", name, 2, A1)]
    (limits,) = [g for g in report.gates if g.type == "review-limits"]
    assert limits.stats["lines_changed"] == 2


def test_a_renamed_file_with_a_name_git_quotes_keeps_its_old_findings(project) -> None:
    project.commit("before", **{"src/old name.ts": f'const to = "{A1}";\n'})
    project.git("checkout", "-q", "-b", "feature")
    project.move("src/old name.ts", "src/new\tname.ts")
    project.commit("moved", **{"src/new\tname.ts": f'const to = "{A1}";\nconst b = 2;\n'})
    report = check(project)
    assert found(report) == []
    (limits,) = [g for g in report.gates if g.type == "review-limits"]
    assert limits.stats["lines_changed"] == 1


def test_a_large_run_shared_among_processes_finds_exactly_what_one_process_finds(project, monkeypatch) -> None:
    """Forked workers judge slices of the files; merged, their report is the serial one."""
    from cogni_review import engine, policy

    files = {f"src/m{n}.ts": (f'const to = "{A1}";\n' if n % 3 == 0 else "export const x = 1;\n") for n in range(60)}
    files.update({f"src/s{n}.ts": f"// cogni: allow wallet-address-literals -- fixture {n}\nconst a = 1;\n" for n in range(5)})
    files["src/broken.tsx"] = f'const a = <div>{{/* {A1} */}} <\n'
    files.update({f"src/g{n}.go": f'a := "{A1}" // cogni: allow wallet-address-literals -- unread\n' for n in range(3)})
    project.commit("many", **files)
    (project.root / "src" / "link.ts").symlink_to("m0.ts")
    monkeypatch.setattr(engine, "PARALLEL_MIN", 10)
    workspace = Workspace.open(str(project.root), None)

    def report(workers: int):
        with workspace._git():
            snapshot = workspace.snapshot()
            chosen = policy.for_audit(workspace.spec, snapshot, committed=False)
            return engine.run(workspace.gates(chosen), engine.Sides.of_snapshot(snapshot), workers=workers)

    serial, shared = report(1), report(2)
    assert len(serial.violations) == 24
    assert sum(n.kind == "plain_text" and n.path.endswith(".go") for n in serial.notes) == 3
    assert shared.violations == serial.violations
    assert [(g.id, g.status, {k: v for k, v in g.stats.items()}) for g in shared.gates] == \
        [(g.id, g.status, {k: v for k, v in g.stats.items()}) for g in serial.gates]
    assert sorted(shared.notes, key=str) == sorted(serial.notes, key=str)
    assert shared.suppressions == serial.suppressions


def test_a_worker_that_fails_fails_the_run(project, monkeypatch) -> None:
    from cogni_review import parallel

    def boom(chunk):
        if os.getpid() != parent:
            raise ValueError("worker broke")
        return chunk

    parent = os.getpid()
    with pytest.raises(RuntimeError, match="worker broke"):
        parallel.share(list(range(10)), 2, boom)


def test_added_lines_are_right_whatever_the_users_diff_settings(project) -> None:
    project.git("config", "diff.suppressBlankEmpty", "true")
    project.git("config", "diff.noprefix", "true")
    project.commit("before", **{"src/a.ts": "export const a = 1;\n\nexport const b = 2;\n"})
    project.git("checkout", "-q", "-b", "feature")
    project.commit("after", **{"src/a.ts": f'export const a = 1;\n\nexport const b = 2;\n\nconst to = "{A1}";\n'})
    assert found(check(project)) == [("wallet-address-literals", "src/a.ts", 5, A1)]
