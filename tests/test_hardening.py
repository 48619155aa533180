"""Governance-grade behaviour on real, messy, adversarial repositories."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import time

import pytest
from conftest import found

from cogni_review.errors import GitError
from cogni_review.workspace import Workspace

A1 = "0x52908400098527886E0F7030069857D2E4169EE7"
A2 = "0xde709f2102306220921060314715629080e2fb77"
SPEC = """\
payments_in:
  widget: {provider: depay}
gates:
  - type: widget-payment-reason
    with:
      reasons:
        credits_purchase: ["src/features/payments/**"]
"""


@pytest.fixture
def project(repo):
    repo.commit("spec", **{".cogni/repo-spec.yaml": SPEC, "src/app.ts": "export const ok = 1;\n"})
    return repo


def audit(repo, **kw):
    return Workspace.open(str(repo.root), None).audit(**kw)


def check(repo, base="main", head=None, **kw):
    return Workspace.open(str(repo.root), None).check(base, head, **kw)


# Suppressions ------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("path", "code"),
    [
        pytest.param("src/a.ts", f'const a = "{A1}"; // cogni: allow wallet-address-literals -- burn address, never paid\n', id="ts-same-line"),
        pytest.param("src/a.ts", f'// cogni: allow wallet-address-literals -- burn address\nconst a = "{A1}";\n', id="ts-line-above"),
        pytest.param("src/a.ts", f'/* cogni: allow wallet-address-literals -- burn address */\nconst a = "{A1}";\n', id="ts-block"),
        pytest.param("src/a.py", f'A = "{A1}"  # cogni: allow wallet-address-literals -- burn address\n', id="python-hash"),
        pytest.param("src/a.sql", f"-- cogni: allow wallet-address-literals -- burn address\nSELECT '{A1}';\n", id="sql-dashes"),
        pytest.param("src/a.sql", f"SELECT '{A1}'; /* cogni: allow wallet-address-literals -- burn address */\n", id="sql-block"),
        pytest.param("src/a.tsx", f'const a = <b>{{"{A1}"}}</b>; {{/* cogni: allow wallet-address-literals -- burn address */}}\n', id="jsx"),
    ],
)
def test_suppression_with_reason_in_every_comment_syntax(project, path, code) -> None:
    project.write(path, code)
    report = audit(project)
    assert found(report) == []
    (s,) = report.suppressions
    assert (s.path, s.gate, s.reason.startswith("burn address")) == (path, "wallet-address-literals", True)


@pytest.mark.parametrize(
    ("comment", "message"),
    [
        pytest.param("// cogni: allow wallet-address-literals", "suppression of wallet-address-literals gives no reason; add `-- <why this is safe>`", id="no-reason"),
        pytest.param("// cogni: allow wallet-address-literals --   ", "suppression of wallet-address-literals gives no reason; add `-- <why this is safe>`", id="empty-reason"),
        pytest.param("// cogni: allow wallet-adress-literals -- typo", "suppression names unknown gate 'wallet-adress-literals'; it suppresses nothing", id="unknown-gate"),
        pytest.param("// cogni: allow -- no gate", "suppression names no gate; write `cogni: allow <gate-type> -- <reason>`", id="no-gate"),
    ],
)
def test_invalid_suppression_suppresses_nothing_and_is_reported(project, comment, message) -> None:
    project.write("src/a.ts", f'{comment}\nconst a = "{A1}";\n')
    report = audit(project)
    assert found(report) == [("suppressions", "src/a.ts", 1, report.violations[0].token), ("wallet-address-literals", "src/a.ts", 2, A1)]
    assert report.violations[0].message == message
    assert report.status == "fail"


@pytest.mark.parametrize(
    ("path", "code"),
    [
        pytest.param("src/a.go", f'a := "// cogni: allow wallet-address-literals -- x"; b := "{A1}"\n', id="go-string"),
        pytest.param("src/a.go", f'a := "{A1}" // cogni: allow wallet-address-literals -- a real comment, unread\n', id="go-comment"),
        pytest.param("src/App.vue", f"<p>{{{{ '<!-- cogni: allow wallet-address-literals -- x -->' }}}} {A1}</p>\n", id="vue-interpolation"),
        pytest.param("src/App.svelte", f'<script>const a = "// cogni: allow wallet-address-literals -- x"; const b = "{A1}";</script>\n', id="svelte-string"),
        pytest.param("src/page.astro", f'---\nconst a = "/* cogni: allow wallet-address-literals -- x */ {A1}";\n---\n', id="astro-string"),
        pytest.param("src/index.html", f'<a title="<!-- cogni: allow wallet-address-literals -- x -->" href="{A1}">\n', id="html-attribute"),
        pytest.param("src/broken.py", f'A = "{A1}"  # cogni: allow wallet-address-literals -- x\ndef (:\n', id="python-that-does-not-parse"),
    ],
)
def test_a_directive_where_comments_cannot_be_read_suppresses_nothing_and_is_noted(project, path, code) -> None:
    """In a file read as plain text a comment cannot be told from a string, so no directive counts."""
    project.write(path, code)
    report = audit(project)
    assert [(v.gate_type, v.token) for v in report.violations] == [("wallet-address-literals", A1)]
    assert report.suppressions == ()
    assert ("plain_text", path, "read as plain text, where a comment cannot be told from a string: its "
            "`cogni: allow` directives suppress nothing") in {(n.kind, n.path, n.message) for n in report.notes}


@pytest.mark.parametrize(
    "code",
    [
        pytest.param(f'note: |\n  # cogni: allow wallet-address-literals -- x\n  {A1}\n', id="block-scalar"),
        pytest.param(f'note: "a\n  # cogni: allow wallet-address-literals -- x\n  {A1}"\n', id="multi-line-quoted"),
    ],
)
def test_a_directive_inside_yaml_data_is_data_and_suppresses_nothing(project, code) -> None:
    """YAML's comments are read by its own scanner: a `#` line inside a scalar is the scalar's text."""
    project.write("src/a.yaml", code)
    report = audit(project)
    assert [(v.gate_type, v.token) for v in report.violations] == [("wallet-address-literals", A1)]
    assert report.suppressions == ()


def test_a_block_comment_at_the_start_of_a_line_followed_by_code_covers_only_its_line(project) -> None:
    project.write("src/a.ts", f'/* cogni: allow wallet-address-literals -- burn address */ const a = "{A1}";\n'
                              f'const b = "{A2}";\n')
    report = audit(project)
    assert found(report) == [("wallet-address-literals", "src/a.ts", 2, A2)]
    assert [s.trailing for s in report.suppressions] == [True]


def test_an_own_line_comment_covers_itself_and_the_next_line_only(project) -> None:
    project.write("src/a.ts", f'/* cogni: allow wallet-address-literals -- burn address */\nconst a = "{A1}";\n'
                              f'const b = "{A2}";\n')
    assert found(audit(project)) == [("wallet-address-literals", "src/a.ts", 3, A2)]


def test_a_suppression_with_thousands_of_trailing_blanks_is_read_in_linear_time(project) -> None:
    """`… -- burn` then 5,000 blanks and `.`: the closer regex took 80 s at 4,000 blanks."""
    project.git("checkout", "-q", "-b", "feature")
    line = f'const a = "{A1}"; // cogni: allow wallet-address-literals -- burn' + " " * 5000 + ".\n"
    project.commit("pad", **{"src/a.ts": line * 20})
    started = time.perf_counter()
    report = check(project)
    assert time.perf_counter() - started < 10
    assert found(report) == [] and {s.reason for s in report.suppressions} == {"burn ."}  # its blanks collapse, as every reason's do


def test_a_suppression_in_a_string_is_not_a_suppression(project) -> None:
    project.write("src/a.ts", f'const a = "{A1} cogni: allow wallet-address-literals -- nope";\n')
    assert found(audit(project)) == [("wallet-address-literals", "src/a.ts", 1, A1)]


def test_a_suppression_covers_only_its_gate_and_its_lines(project) -> None:
    project.write("src/a.ts", f'// cogni: allow widget-payment-reason -- wrong gate\nconst a = "{A1}";\n\n'
                              f'// cogni: allow wallet-address-literals -- too far above\n\nconst b = "{A2}";\n')
    report = audit(project)
    assert found(report) == [("wallet-address-literals", "src/a.ts", 2, A1), ("wallet-address-literals", "src/a.ts", 6, A2)]
    assert sorted((n.kind, n.path) for n in report.notes) == [("stale_suppression", "src/a.ts"), ("stale_suppression", "src/a.ts")]


def test_check_lists_added_suppressions_and_fails_on_a_stale_one_it_adds(project) -> None:
    project.commit("old stale", **{"src/old.ts": "// cogni: allow wallet-address-literals -- kept from before\nexport {};\n"})
    project.git("checkout", "-q", "-b", "feature")
    project.commit("work", **{
        "src/a.ts": f'const a = "{A1}"; // cogni: allow wallet-address-literals -- burn address, never paid\n',
        "src/b.ts": "// cogni: allow wallet-address-literals -- nothing here\nexport const b = 1;\n",
    })
    report = check(project)
    assert [(s.path, s.reason) for s in report.suppressions] == [
        ("src/a.ts", "burn address, never paid"), ("src/b.ts", "nothing here"),
    ]
    assert found(report) == [("suppressions", "src/b.ts", 1, "cogni: allow wallet-address-literals")]
    assert report.violations[0].message == "suppression of wallet-address-literals added by this change suppresses nothing"


def test_list_suppressions(project, run_cli) -> None:
    project.write("src/a.ts", f'const a = "{A1}"; // cogni: allow wallet-address-literals -- burn address\n')
    code, out, _ = run_cli("audit", "--list-suppressions", "--repo", str(project.root))
    assert (code, out) == (0, "src/a.ts:1:60: allow wallet-address-literals -- burn address\n1 suppression(s)\n")


# Baseline ----------------------------------------------------------------------------------

def test_baseline_is_stable_accepts_old_findings_and_shrinks(project, run_cli) -> None:
    project.commit("debt", **{"src/a.ts": f'const a = "{A1}";\nconst a = "{A1}";\n', "src/b.ts": 'x("credits_purchase")\n'})
    assert run_cli("baseline", "--repo", str(project.root))[0] == 0
    path = project.root / ".cogni" / "baseline.json"
    first = path.read_bytes()
    assert run_cli("baseline", "--repo", str(project.root))[0] == 0
    assert path.read_bytes() == first
    entries = json.loads(first)["findings"]
    assert [(e["gate"], e["path"], e["occurrence"]) for e in entries] == [
        ("wallet-address-literals", "src/a.ts", 1), ("wallet-address-literals", "src/a.ts", 2),
        ("widget-payment-reason", "src/b.ts", 1),
    ]
    assert all("line" in e and "token" in e for e in entries) and "42" not in first.decode()
    # line shifts do not matter; a third copy is new; paid-off debt is reported as stale
    project.write("src/a.ts", f'// moved\n\nconst a = "{A1}";\nconst a = "{A1}";\nconst a = "{A1}";\n')
    project.write("src/b.ts", "x(CREDITS)\n")
    report = audit(project)
    assert found(report) == [("wallet-address-literals", "src/a.ts", 5, A1)]
    assert [(n.kind, n.path, n.message) for n in report.notes] == [
        ("baseline", ".cogni/baseline.json", "the baseline accepted 2 existing finding(s); they are not reported"),
        ("stale_baseline", "src/b.ts", "baseline entry for widget-payment-reason 'credits_purchase' matches nothing; "
                                      "run `cogni-review baseline` to shrink it"),
    ]


def test_a_change_cannot_baseline_its_own_new_violation(project) -> None:
    project.git("checkout", "-q", "-b", "feature")
    project.write("src/pay.ts", f'const to = "{A2}";\n')
    Workspace.open(str(project.root), None).write_baseline()
    project.commit("pay and baseline it")
    report = check(project)
    assert found(report) == [
        ("governance-change", ".cogni/baseline.json", 1, ".cogni/baseline.json"),
        ("wallet-address-literals", "src/pay.ts", 1, A2),
    ]


def test_a_broken_baseline_is_a_config_error(project, run_cli) -> None:
    project.write(".cogni/baseline.json", "{not json")
    code, _, err = run_cli("audit", "--repo", str(project.root))
    assert code == 2 and err.startswith("cogni-review: .cogni/baseline.json (at working tree): not a baseline file")


# The policy cannot be weakened from inside the change ---------------------------------------

@pytest.mark.parametrize(
    "weakened",
    [
        pytest.param(SPEC.replace("  - type: widget-payment-reason", "  - type: widget-payment-reason\n    enabled: false"), id="delete-gate"),
        pytest.param(SPEC.replace('["src/features/payments/**"]', '["src/**"]'), id="widen-allowlist"),
        pytest.param("gates: []\n", id="drop-everything"),
    ],
)
def test_weakening_the_spec_in_the_change_does_not_help(project, weakened) -> None:
    project.git("checkout", "-q", "-b", "feature")
    project.commit("weaken", **{".cogni/repo-spec.yaml": weakened, "src/refund.ts": 'credit({ reason: "credits_purchase" })\n'})
    report = check(project)
    assert ("widget-payment-reason", "src/refund.ts", 1, "credits_purchase") in found(report)
    assert report.status == "fail"


def test_governance_change_can_be_made_to_fail_and_covers_extra_paths(project) -> None:
    strict = SPEC + "governance_change: fail\ngovernance_paths: [tools/suppressions.py]\n"
    project.commit("strict", **{".cogni/repo-spec.yaml": strict, "tools/suppressions.py": "GRAMMAR = 1\n"})
    project.git("checkout", "-q", "-b", "feature")
    project.commit("grammar", **{"tools/suppressions.py": "GRAMMAR = 2\n"})
    report = check(project)
    (governance,) = [g for g in report.gates if g.type == "governance-change"]
    assert (governance.status, [v.path for v in governance.violations]) == ("fail", ["tools/suppressions.py"])
    assert "-GRAMMAR = 1\n+GRAMMAR = 2" in governance.policy_diff
    assert report.status == "fail"


# Git reality in CI -------------------------------------------------------------------------

def clone(source, target, *args):
    subprocess.run(["git", "clone", "-q", *args, f"file://{source}", str(target)], check=True, capture_output=True)


def test_shallow_clone_without_the_base_fails_closed(project, tmp_path, run_cli) -> None:
    base = project.git("rev-parse", "HEAD").strip()
    project.git("checkout", "-q", "-b", "feature")
    project.commit("pay", **{"src/pay.ts": f'const to = "{A1}";\n'})
    shallow = tmp_path / "shallow"
    clone(project.root, shallow, "--depth", "1", "--branch", "feature")
    code, out, err = run_cli("check", "--base", base, "--repo", str(shallow))
    assert (code, out) == (2, "")
    assert "shallow clone" in err and "fetch-depth: 0" in err


def test_missing_merge_base(project, run_cli) -> None:
    project.git("checkout", "-q", "--orphan", "unrelated")
    project.commit("other history", **{"src/z.ts": "export {};\n"})
    code, _, err = run_cli("check", "--base", "main", "--repo", str(project.root))
    assert code == 2 and "share no history; pass --two-dot" in err


@pytest.mark.parametrize("ref", ["main", "v1", "origin/main", "SHA"])
def test_base_as_branch_tag_sha_or_remote(project, tmp_path, ref) -> None:
    project.git("tag", "v1")
    sha = project.git("rev-parse", "HEAD").strip()
    work = tmp_path / "work"
    clone(project.root, work)
    subprocess.run(["git", "-C", str(work), "checkout", "-q", "-b", "feature"], check=True)
    (work / "src" / "pay.ts").write_text(f'const to = "{A1}";\n')
    for args in (["add", "-A"], ["-c", "user.name=d", "-c", "user.email=d@x", "commit", "-qm", "pay"]):
        subprocess.run(["git", "-C", str(work), *args], check=True)
    report = Workspace.open(str(work), None).check(sha if ref == "SHA" else ref)
    assert found(report) == [("wallet-address-literals", "src/pay.ts", 1, A1)]


def test_detached_head_worktree_and_spaces_in_the_path(tmp_path) -> None:
    from conftest import GitRepo

    repo = GitRepo(tmp_path / "a repo with spaces")
    repo.commit("spec", **{".cogni/repo-spec.yaml": SPEC, "src/ok.ts": "export {};\n"})
    repo.git("checkout", "-q", "-b", "feature")
    tip = repo.commit("pay", **{"src/pay ü.ts": f'const to = "{A1}";\n'})
    repo.git("checkout", "-q", "--detach", tip)
    assert found(check(repo)) == [("wallet-address-literals", "src/pay ü.ts", 1, A1)]
    tree = tmp_path / "linked worktree"
    repo.git("worktree", "add", "-q", str(tree), "feature")
    assert found(Workspace.open(str(tree), None).check("main")) == [("wallet-address-literals", "src/pay ü.ts", 1, A1)]


# Hostile and odd input ---------------------------------------------------------------------

def test_odd_files_in_a_change(project) -> None:
    project.git("checkout", "-q", "-b", "feature")
    (project.root / "src").mkdir(exist_ok=True)
    project.write("src/blob.bin", b"\x00\x01" + A1.encode() + b"\x00")
    project.write("src/latin1.ts", f'const a = "caf\xe9 {A1}";\n'.encode("latin-1"))
    project.write("src/crlf.ts", f'// x\r\nconst a = "{A2}";\r\n')
    project.write("src/cr.ts", f'// x\rconst a = "{A2}";\r')
    project.write("src/bom.ts", "\ufeff" + f'const a = "{A2}";\n')
    project.write("src/minified.js", "var a=1;" * 200_000 + f'var t="{A2}";' + "var b=2;" * 200_000)
    project.write("src/big.ts", "export const x = 1;\n" * 100_000 + f'export const t = "{A2}";\n')
    project.write("src/broken.tsx", f'const a = <div>{{/* {A1} */}} <\n')
    os.symlink("/etc/passwd", project.root / "src" / "link.ts")
    project.write("src/mode.sh", "echo hi\n")
    project.commit("odd files")
    os.chmod(project.root / "src" / "mode.sh", 0o755)
    project.git("rm", "-q", "src/app.ts")
    project.commit("mode only, and a deletion")
    report = check(project)
    assert found(report) == [
        ("wallet-address-literals", "src/big.ts", 100001, A2),
        ("wallet-address-literals", "src/bom.ts", 1, A2),
        ("wallet-address-literals", "src/broken.tsx", 1, A1),
        ("wallet-address-literals", "src/cr.ts", 2, A2),
        ("wallet-address-literals", "src/crlf.ts", 2, A2),
        ("wallet-address-literals", "src/latin1.ts", 1, A1),
        ("wallet-address-literals", "src/minified.js", 1, A2),
    ]
    notes = {(n.kind, n.path) for n in report.notes}
    assert ("plain_text", "src/broken.tsx") in notes and ("not_scanned", "src/link.ts") in notes
    assert ("not_scanned", "") in notes  # the binary file, counted
    minified = next(v for v in report.violations if v.path == "src/minified.js")
    assert minified.column == 1_600_008 and len(minified.line_text) <= 400


def test_empty_change(project) -> None:
    report = check(project, "main", "main")
    assert (found(report), report.status) == ([], "pass")


def test_submodule_is_noted_not_followed(project, tmp_path) -> None:
    from conftest import GitRepo

    inner = GitRepo(tmp_path / "inner")
    inner.commit("inner", **{"src/x.ts": f'const x = "{A1}";\n'})
    project.git("-c", "protocol.file.allow=always", "submodule", "add", "-q", f"file://{inner.root}", "src/vendor")
    project.commit("submodule")
    report = audit(project)
    assert found(report) == []
    assert ("not_scanned", "src/vendor") in {(n.kind, n.path) for n in report.notes}


def test_a_gate_that_crashes_is_neutral_and_fail_on_error_fails(project, monkeypatch) -> None:
    from cogni_review import catalog

    project.write("src/pay.ts", f'const to = "{A1}";\n')
    file = catalog.builtins()["wallet-address-literals"]

    def boom(file, options):
        raise ValueError("bad input")

    monkeypatch.setitem(file.__dict__, "plugin", dataclasses.replace(file.plugin, scan=boom))
    report = audit(project)
    (wallet,) = [g for g in report.gates if g.type == "wallet-address-literals"]
    assert (wallet.status, wallet.neutral_reason, wallet.error) == ("neutral", "internal_error", "ValueError: bad input (in src/pay.ts)")
    assert report.status == "neutral"
    project.write(".cogni/repo-spec.yaml", SPEC + "fail_on_error: true\n")
    assert audit(project).status == "fail"


def test_a_gate_over_its_time_budget_is_neutral_timeout_unless_it_already_found_something(project) -> None:
    project.write(".cogni/repo-spec.yaml", SPEC + "  - type: wallet-address-literals\n    with: {timeout_seconds: 0.000001}\n")
    for i in range(3):
        project.write(f"src/p{i}.ts", f"// {A1} is documented here, not used\n")
    (wallet,) = [g for g in audit(project).gates if g.type == "wallet-address-literals"]
    assert (wallet.status, wallet.neutral_reason) == ("neutral", "timeout")
    assert wallet.error.startswith("gave up after 1e-06 s")
    project.write("src/p0.ts", f'const to = "{A1}";\n')
    (wallet,) = [g for g in audit(project).gates if g.type == "wallet-address-literals"]
    assert (wallet.status, [v.path for v in wallet.violations]) == ("fail", ["src/p0.ts"])
    assert wallet.error.startswith("gave up after 1e-06 s")


def test_history_without_a_spec_uses_the_working_trees_and_says_so(repo) -> None:
    """Judging old commits of a repository that adopted the gate later (or a spec kept outside git)."""
    old = repo.commit("before the gate", **{"src/a.ts": "export {};\n"})
    repo.commit("pay", **{"src/pay.ts": f'const to = "{A1}";\n'})
    repo.write(".cogni/repo-spec.yaml", SPEC)  # untracked: only on disk
    report = check(repo, old, "HEAD")
    assert found(report) == [("wallet-address-literals", "src/pay.ts", 1, A1)]
    assert [(n.kind, n.message) for n in report.notes] == [
        ("spec_source", "neither revision has a spec; the working tree's was enforced")
    ]
    old_audit = audit(repo, rev=old)
    assert found(old_audit) == []
    assert [(n.kind, n.path) for n in old_audit.notes] == [("spec_source", ".cogni/repo-spec.yaml")]
    assert found(audit(repo, rev="HEAD")) == [("wallet-address-literals", "src/pay.ts", 1, A1)]


def test_a_spec_replaced_by_a_symlink_does_not_move_the_policy(project, run_cli) -> None:
    project.git("checkout", "-q", "-b", "feature")
    project.write("weak.yaml", "gates: []\n")
    (project.root / ".cogni" / "repo-spec.yaml").unlink()
    os.symlink("../weak.yaml", project.root / ".cogni" / "repo-spec.yaml")
    project.commit("point the spec elsewhere", **{"src/refund.ts": 'credit({ reason: "credits_purchase" })\n'})
    spec = str(project.root / ".cogni" / "repo-spec.yaml")
    code, out, _ = run_cli("check", "--base", "main", "--repo", str(project.root), "--spec", spec, "--format", "json")
    gates = {g["type"]: g for g in json.loads(out)["gates"]}
    assert code == 1
    assert [v["path"] for v in gates["widget-payment-reason"]["violations"]] == ["src/refund.ts"]


def test_a_rule_that_landed_on_the_base_after_the_branch_point_applies(project) -> None:
    project.git("checkout", "-q", "-b", "feature")
    project.commit("feature", **{"src/rewards.ts": 'grant({ reason: "system_donation" })\n'})
    project.git("checkout", "-q", "main")
    stricter = SPEC + "        system_donation: [\"src/features/payments/**\"]\n"
    project.commit("govern donations too", **{".cogni/repo-spec.yaml": stricter})
    report = check(project, "main", "feature")
    assert found(report) == [("widget-payment-reason", "src/rewards.ts", 1, "system_donation")]


def test_one_strange_file_does_not_hide_the_rest(project) -> None:
    """A file a Python rule cannot walk is noted by name; the gate's other findings stand."""
    rules = SPEC + "  - type: integer-money\n    with: {paths: ['app/**']}\n"
    project.commit("rules", **{".cogni/repo-spec.yaml": rules})
    project.git("checkout", "-q", "-b", "feature")
    deep = "credits = (" + " + ".join(["1"] * 3000) + ")\n"
    project.commit("work", **{"app/deep.py": deep, "app/refund.py": "refund_credits = 0.1 * 3\n"})
    report = check(project)
    assert found(report) == [("integer-money", "app/refund.py", 1, "refund_credits")]
    assert ("not_judged", "app/deep.py") in {(n.kind, n.path) for n in report.notes}


def test_an_existing_suppression_does_not_cover_what_a_change_adds_next_to_it(project) -> None:
    burn = "0x000000000000000000000000000000000000dEaD"
    project.commit("burn", **{"src/burn.ts": f'const BURN = "{burn}"; // cogni: allow wallet-address-literals -- burn address\n'})
    project.git("checkout", "-q", "-b", "feature")
    project.commit("next to it", **{"src/burn.ts": f'const BURN = "{burn}"; // cogni: allow wallet-address-literals -- burn address\n'
                                                   f'const TREASURY = "{A1}";\n'})
    assert found(check(project)) == [("wallet-address-literals", "src/burn.ts", 2, A1)]


def test_a_suppression_exercised_by_new_code_is_listed_for_review(project) -> None:
    project.commit("old", **{"src/a.ts": "// cogni: allow wallet-address-literals -- the DAO's published burn address\n\n"})
    project.git("checkout", "-q", "-b", "feature")
    project.commit("use it", **{"src/a.ts": f'// cogni: allow wallet-address-literals -- the DAO\'s published burn address\nconst B = "{A1}";\n'})
    report = check(project)
    assert found(report) == []
    assert [(s.path, s.line, s.reason) for s in report.suppressions] == [("src/a.ts", 1, "the DAO's published burn address")]


def test_the_baseline_does_not_absorb_a_new_copy_in_a_check(project) -> None:
    project.commit("debt", **{"src/t.ts": f'export const T = "{A1}";\n'})
    Workspace.open(str(project.root), None).write_baseline()
    project.commit("baseline")
    project.git("checkout", "-q", "-b", "feature")
    project.commit("copy", **{"src/t.ts": f'export const T = "{A1}";\n  export const T = "{A1}";\n'})
    assert found(check(project)) == [("wallet-address-literals", "src/t.ts", 2, A1)]


@pytest.mark.parametrize(
    ("path", "code"),
    [
        pytest.param("src/App.vue", f'const t = "{A1}"; const n = "cogni: allow wallet-address-literals -- fine";\n', id="vue-string"),
        pytest.param("src/broken.tsx", f'const t = "{A1}"; const n = "cogni: allow wallet-address-literals -- fine"; <\n', id="unparsable-tsx-string"),
    ],
)
def test_a_directive_inside_a_string_is_not_a_suppression_in_plain_text_either(project, path, code) -> None:
    project.write(path, code)
    assert found(audit(project)) == [("wallet-address-literals", path, 1, A1)]


def test_encodings_and_stray_nul_bytes_do_not_hide_code(project) -> None:
    project.write("src/nul.ts", f'// \x00 a stray NUL byte\nconst a = "{A1}";\n')
    project.write("src/wide.ts", f'const b = "{A2}";\n'.encode("utf-16"))
    project.write("src/wide.sql", f"SELECT '{A2}';\n".encode("utf-16-be").join([b"\xfe\xff", b""]))
    project.write("src/blob.dat2", b"\x00\x01" + A1.encode())
    report = audit(project)
    assert found(report) == [
        ("wallet-address-literals", "src/nul.ts", 2, A1),
        ("wallet-address-literals", "src/wide.sql", 1, A2),
        ("wallet-address-literals", "src/wide.ts", 1, A2),
    ]
    assert ("not_scanned", "src/blob.dat2") in {(n.kind, n.path) for n in report.notes}


def test_an_mdx_page_is_code(project) -> None:
    project.write("src/app/pay/page.mdx", f'export const TREASURY = "{A1}"\n\n# Pay\n\n<Pay to={{TREASURY}} />\n')
    assert found(audit(project)) == [("wallet-address-literals", "src/app/pay/page.mdx", 1, A1)]


def test_an_mdx_page_is_code_for_every_gate_by_default(project) -> None:
    """No gate's default excludes MDX: each judges a page that exports what it governs."""
    project.commit("spec", **{".cogni/repo-spec.yaml": SPEC + """\
  - type: literal-allowlist
    with: {literals: {system_donation: []}}
  - type: sql-confinement
    with: {statements: [{pattern: UPDATE credit_ledger}]}
providers:
  openrouter: {api_key_env: OPENROUTER_API_KEY}
"""})
    project.write("src/app/pay/page.mdx", f'export const TO = "{A1}"\nexport const R = "credits_purchase"\n'
                  'export const K = process.env.OPENROUTER_API_KEY\nexport const D = "system_donation"\n'
                  'export const Q = "UPDATE credit_ledger SET credits = 0"\n\n# Pay\n')
    assert found(audit(project)) == [
        ("wallet-address-literals", "src/app/pay/page.mdx", 1, A1),
        ("widget-payment-reason", "src/app/pay/page.mdx", 2, "credits_purchase"),
        ("provider-api-key-usage", "src/app/pay/page.mdx", 3, "OPENROUTER_API_KEY"),
        ("literal-allowlist", "src/app/pay/page.mdx", 4, "system_donation"),
        ("sql-confinement", "src/app/pay/page.mdx", 5, "UPDATE credit_ledger"),
    ]


def test_thousands_of_addresses_on_one_minified_line(project) -> None:
    addresses = [f"0x{i:040x}" for i in range(1, 3001)]
    project.write("src/table.js", "const t=[" + ",".join(f'"{a}"' for a in addresses) + "];/* end */\n")
    report = audit(project)
    assert [v.token for v in report.violations] == addresses


# File names --------------------------------------------------------------------------------

ODD_NAMES = ["src/nl\nname.ts", "src/bad\xff.ts", "src/q b/z b .ts", "src/tab\tand\"quote.ts", "src/é ü.ts"]


def _odd_repo(project):
    """A branch adding an address under every kind of name git can hold (written as raw bytes)."""
    project.git("checkout", "-q", "-b", "feature")
    for name in ODD_NAMES:
        raw = name.encode("latin-1") if "\xff" in name else name.encode("utf-8")
        full = os.path.join(os.fsencode(project.root), raw)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "wb") as out:
            out.write(f'export const to = "{A1}";\n'.encode())
    project.git("add", "-A")


@pytest.mark.parametrize("fmt", ["text", "json", "github", "sarif"])
@pytest.mark.parametrize("command", ["audit", "check-staged", "check"])
def test_every_name_git_can_hold_is_judged_and_every_format_prints_it(project, fmt, command) -> None:
    """Each odd name is judged in audit, check and --staged, and every format writes valid UTF-8
    even to a strict stdout (a name that is not UTF-8 made github and sarif exit 3)."""
    _odd_repo(project)
    argv = {"audit": ["audit"], "check-staged": ["check", "--staged"], "check": ["check", "--base", "main"]}[command]
    if command == "check":
        project.git("commit", "-q", "-m", "odd names")
    env = {**os.environ, "PYTHONIOENCODING": "utf-8:strict", "LC_ALL": "C"}
    done = subprocess.run([sys.executable, "-m", "cogni_review", *argv, "--format", fmt], cwd=project.root,
                          capture_output=True, env=env)
    assert done.returncode == 1, done.stderr.decode(errors="replace")
    out = done.stdout.decode("utf-8")  # strict: valid UTF-8 or this raises
    if fmt in ("json", "sarif"):
        json.loads(out)
    shown = {"text": ["src/nl\\nname.ts", "src/bad\\xff.ts", "src/q b/z b .ts", "src/é ü.ts"],
             "json": ["src/nl\\nname.ts", "src/bad\\\\xff.ts", "src/q b/z b .ts", "src/\\u00e9 \\u00fc.ts"],
             "github": ["src/nl%0Aname.ts", "src/bad\\xff.ts", "src/q b/z b .ts", "src/é ü.ts"],
             "sarif": ["src/nl%0Aname.ts", "src/bad%FF.ts", "src/q%20b/z%20b%20.ts", "src/%C3%A9%20%C3%BC.ts"]}[fmt]
    assert [name for name in shown if name not in out] == []
    report = audit(project) if command == "audit" else (
        Workspace.open(str(project.root), None).check_staged() if command == "check-staged" else check(project))
    assert sorted(v.path for v in report.violations) == sorted(
        n.encode("latin-1").decode("utf-8", "surrogateescape") if "\xff" in n else n for n in ODD_NAMES)


# What the base is ----------------------------------------------------------------------------

def _feature_with_an_address(project) -> str:
    project.git("checkout", "-q", "-b", "feature")
    return project.commit("pay", **{"src/pay.ts": f'export const to = "{A1}";\n'})


def test_a_replaced_base_spec_does_not_change_the_policy(project) -> None:
    _feature_with_an_address(project)
    spec_blob = project.git("rev-parse", "main:.cogni/repo-spec.yaml").strip()
    permissive = project.write("permissive.yaml", SPEC + "  - type: wallet-address-literals\n    enabled: false\n")
    project.git("replace", spec_blob, project.git("hash-object", "-w", str(permissive)).strip())
    assert project.git("show", "main:.cogni/repo-spec.yaml").endswith("enabled: false\n")  # git itself is fooled
    assert found(check(project)) == [("wallet-address-literals", "src/pay.ts", 1, A1)]


def test_a_replaced_head_commit_does_not_change_what_is_diffed(project) -> None:
    head = _feature_with_an_address(project)
    project.git("replace", head, project.git("rev-parse", "main").strip())
    assert found(check(project)) == [("wallet-address-literals", "src/pay.ts", 1, A1)]


def test_grafts_do_not_move_the_merge_base(project) -> None:
    head = _feature_with_an_address(project)
    project.git("checkout", "-q", "main")
    main = project.commit("later work", **{"src/other.ts": "export const o = 1;\n"})
    grafts = project.root / ".git" / "info" / "grafts"
    grafts.parent.mkdir(exist_ok=True)
    grafts.write_text(f"{main} {head}\n")  # main now claims the feature as its parent
    project.git("checkout", "-q", "feature")
    assert found(check(project)) == [("wallet-address-literals", "src/pay.ts", 1, A1)]


def test_diff_noprefix_in_the_repository_config_does_not_lose_added_lines(project) -> None:
    _feature_with_an_address(project)
    project.git("config", "diff.noprefix", "true")
    assert found(check(project)) == [("wallet-address-literals", "src/pay.ts", 1, A1)]
    from cogni_review import diff
    from cogni_review.git import Repository

    repo = Repository.open(project.root)
    files = diff.between(repo, "main", "feature", repo.revision("main"), repo.revision("feature")).files
    assert [(f.path, sorted(f.added_lines)) for f in files] == [("src/pay.ts", [1])]


# Scripts without an extension ----------------------------------------------------------------

SCRIPT_SPEC = """\
gates:
  - type: call-confinement
    with: {calls: {credit_account: [billing/ledger.py]}}
  - type: wallet-address-literals
    with: {paths: ["bin/**", "billing/**"]}
"""


@pytest.mark.parametrize(
    ("path", "code", "expected"),
    [
        pytest.param("billing/bin/mint", "#!/usr/bin/env python3\n# credit_account in a comment\nledger.credit_account(1)\n",
                     [("call-confinement", "billing/bin/mint", 3, "credit_account")], id="python-by-shebang"),
        pytest.param("billing/tool.pyw", "ledger.credit_account(1)\n",
                     [("call-confinement", "billing/tool.pyw", 1, "credit_account")], id="pyw"),
        pytest.param("bin/pay", f'#!/usr/bin/env -S node --no-warnings\n// {A1}\nconst to = "{A2}";\n',
                     [("wallet-address-literals", "bin/pay", 3, A2)], id="node-by-shebang"),
        pytest.param("bin/run", f'#!/bin/bash\n# {A1}\necho "{A2}"\n',
                     [("wallet-address-literals", "bin/run", 3, A2)], id="shell-by-shebang"),
    ],
)
def test_a_script_without_an_extension_is_judged_in_the_language_its_first_line_names(repo, path, code, expected):
    """A Python script named `bin/mint` is Python: the Python rules judge it, and its comments are comments."""
    repo.commit("spec", **{".cogni/repo-spec.yaml": SCRIPT_SPEC, path: code})
    assert found(audit(repo)) == expected


NFKC_SPEC = """\
providers:
  openrouter: {api_key_env: OPENROUTER_API_KEY}
gates:
  - type: call-confinement
    with: {calls: {credit_account: [billing/ledger.py]}}
"""


@pytest.mark.parametrize(
    ("path", "code", "expected"),
    [
        pytest.param("billing/api.py", "ledger.\uff43\uff52\uff45\uff44\uff49\uff54_account(1)\n",
                     [("call-confinement", "billing/api.py", 1, "credit_account")], id="full-width-call"),
        pytest.param("src/a.py", "key = settings.\uff2fPENROUTER_API_KEY\n",
                     [("provider-api-key-usage", "src/a.py", 1, "OPENROUTER_API_KEY")], id="full-width-key-name"),
        pytest.param("src/b.py", "key = settings.MY_\uff2fPENROUTER_API_KEY\n", [], id="full-width-inside-a-longer-name"),
        pytest.param("src/c.py", "# settings.\uff2fPENROUTER_API_KEY\nx = 1\n", [], id="full-width-in-a-comment"),
    ],
)
def test_python_names_are_read_as_python_reads_them(repo, path, code, expected):
    """Python folds a name to NFKC: `ｃｒｅｄｉｔ_account` is `credit_account`, whatever bytes spell it."""
    repo.commit("spec", **{".cogni/repo-spec.yaml": NFKC_SPEC, path: code})
    assert found(audit(repo)) == expected
