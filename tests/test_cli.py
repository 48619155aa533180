"""The command line as users meet it: commands, exit codes, formats, and errors without tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

A1 = "0x52908400098527886E0F7030069857D2E4169EE7"
SPEC = """\
payments_in:
  widget: {provider: depay}
gates:
  - type: review-limits
    id: review_limits
  - type: license-headers
    with: {year: 2025}
"""


@pytest.fixture
def project(repo):
    repo.commit("start", **{".cogni/repo-spec.yaml": SPEC, "src/app.ts": "export const ok = 1;\n"})
    return repo


def test_audit_clean_repo_passes_with_neutral_gates(project, run_cli) -> None:
    code, out, err = run_cli("audit", "--repo", str(project.root))
    assert (code, err) == (0, "")
    assert out.splitlines()[-1] == "cogni-review: NEUTRAL — 2 passed, 2 neutral"
    assert "license-headers: neutral (unimplemented_gate)" in out


def test_audit_finding_fails_with_grep_friendly_line(project, run_cli) -> None:
    project.write("src/pay.ts", f'const to = "{A1}";\n')
    code, out, _ = run_cli("audit", "--repo", str(project.root))
    assert code == 1
    assert out.splitlines()[0] == f"src/pay.ts:1:13: wallet-address-literals hard-coded address {A1} (no EIP-55 checksum)"


def test_json_shape(project, run_cli) -> None:
    project.write("src/pay.ts", f'const to = "{A1}";\n')
    code, out, _ = run_cli("audit", "--repo", str(project.root), "--format", "json")
    doc = json.loads(out)
    (wallet,) = [g for g in doc["gates"] if g["type"] == "wallet-address-literals"]
    (v,) = wallet["violations"]
    assert (code, doc["version"], doc["status"], wallet["status"]) == (1, 2, "fail", "fail")
    assert {k: v[k] for k in ("path", "line", "column", "token")} == {"path": "src/pay.ts", "line": 1, "column": 13, "token": A1}
    assert len(v["fingerprint"]) == 16


def test_fail_on_neutral_fails_only_when_a_gate_could_not_judge(project, run_cli) -> None:
    assert run_cli("audit", "--repo", str(project.root), "--fail-on", "neutral")[0] == 0  # review-limits: no change
    project.write(".cogni/repo-spec.yaml", "payments_in: {widget: {}}\ngates:\n  - type: wallet-address-literals\n"
                                           "    with: {paths: [web/**]}\n")
    assert run_cli("audit", "--repo", str(project.root))[0] == 0
    assert run_cli("audit", "--repo", str(project.root), "--fail-on", "neutral")[0] == 1  # nothing_judged


def test_sarif_file_and_github_summary(project, run_cli, tmp_path, monkeypatch) -> None:
    project.write("src/pay.ts", f'const to = "{A1}";\n')
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    sarif = tmp_path / "out" / "cogni.sarif"
    code, out, _ = run_cli("audit", "--repo", str(project.root), "--format", "github", "--sarif", str(sarif))
    assert code == 1
    assert out.startswith("::error file=src/pay.ts,line=1,col=13,title=cogni-review%3A wallet-address-literals::")
    assert json.loads(sarif.read_text())["runs"][0]["results"][0]["ruleId"] == "wallet-address-literals"
    assert "wallet-address-literals" in summary.read_text()


def test_check_staged_and_base(project, run_cli) -> None:
    project.git("checkout", "-q", "-b", "feature")
    project.write("src/pay.ts", f'const to = "{A1}";\n')
    project.git("add", "src/pay.ts")
    code, out, _ = run_cli("check", "--staged", "--repo", str(project.root))
    assert code == 1 and out.startswith("src/pay.ts:1:13: wallet-address-literals")
    project.commit("pay")
    code, out, _ = run_cli("check", "--base", "main", "--repo", str(project.root), "--format", "json")
    assert code == 1 and json.loads(out)["mode"] == "check"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        pytest.param(["check"], "check needs exactly one of --base REV", id="check-without-base"),
        pytest.param(["check", "--staged", "--base", "main"], "check needs exactly one of --base REV", id="both"),
        pytest.param(["check", "--base", "nope"], "revision 'nope' is not in this repository", id="unknown-rev"),
        pytest.param(["explain", "no-such-gate"], "unknown gate 'no-such-gate'; known gates:", id="unknown-gate"),
    ],
)
def test_usage_errors_exit_2_with_a_message(project, run_cli, argv, message) -> None:
    code, out, err = run_cli(*argv, "--repo", str(project.root))
    assert (code, out) == (2, "")
    assert err.startswith("cogni-review: ") and message in err
    assert "Traceback" not in err


def test_no_spec_says_how_to_start(repo, run_cli) -> None:
    repo.commit("empty", **{"src/a.ts": "x\n"})
    code, _, err = run_cli("audit", "--repo", str(repo.root))
    assert code == 2
    assert "no spec found. Run `cogni-review init`" in err


def test_init_writes_a_valid_spec_and_refuses_to_overwrite(repo, run_cli) -> None:
    code, out, _ = run_cli("init", "--repo", str(repo.root))
    spec = repo.root / ".cogni" / "repo-spec.yaml"
    assert code == 0 and spec.is_file() and out.startswith("wrote ")
    assert run_cli("validate-spec", str(spec))[0] == 0
    before = spec.read_text()
    code, _, err = run_cli("init", "--repo", str(repo.root))
    assert code == 2 and "already exists; not overwriting it" in err and spec.read_text() == before


def test_validate_spec(tmp_path, run_cli) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(SPEC)
    code, out, _ = run_cli("validate-spec", str(good))
    assert code == 0
    assert out == (f"{good}: valid; gates: review_limits (review-limits), license-headers (license-headers, not implemented here), "
                   "wallet-address-literals (wallet-address-literals), widget-payment-reason (widget-payment-reason)\n")
    bad = tmp_path / "bad.yaml"
    bad.write_text("gates:\n  - type: review-limits\n    with:\n      max_changed_filez: 3\n")
    code, out, err = run_cli("validate-spec", str(bad))
    assert (code, out) == (2, "")
    assert err == f"cogni-review: {bad}:4: gates[0].with.max_changed_filez: unknown key (check the spelling; `cogni-review explain GATE` lists the options)\n"


def test_spec_override(project, run_cli, tmp_path) -> None:
    other = tmp_path / "strict.yaml"
    other.write_text("gates:\n  - type: wallet-address-literals\n    with: {paths: ['**']}\n")
    project.write("lib/pay.ts", f'const to = "{A1}";\n')
    assert run_cli("audit", "--repo", str(project.root))[0] == 0
    assert run_cli("audit", "--repo", str(project.root), "--spec", str(other))[0] == 1


def test_explain_and_list(run_cli) -> None:
    code, out, _ = run_cli("explain", "wallet-address-literals")
    assert code == 0
    assert out.startswith("#### `wallet-address-literals`\n\nA hard-coded on-chain (EVM) address in app code.")
    assert "Why:" in out and "Instead:" in out and "| `paths` | `**/src/**` |" in out
    assert "`src/widget.tsx` fails (each line marked `<-` is reported):" in out
    code, out, _ = run_cli("list")
    assert code == 0 and "review-limits" in out and "provider-api-key-usage" in out


def test_internal_error_is_exit_3_without_traceback(project, run_cli, monkeypatch) -> None:
    from cogni_review import workspace

    def boom(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(workspace.Workspace, "audit", boom)
    code, _, err = run_cli("audit", "--repo", str(project.root))
    assert code == 3
    assert err == "cogni-review: internal error: RuntimeError: disk on fire (rerun with --debug for details)\n"


def test_module_entry_point_and_version() -> None:
    done = subprocess.run([sys.executable, "-m", "cogni_review", "--version"], capture_output=True, text=True)
    assert (done.returncode, done.stdout.strip()) == (0, "cogni-review 0.1.0")


@pytest.mark.parametrize("order", ["before", "after"])
def test_common_options_work_before_or_after_the_command(project, run_cli, tmp_path, monkeypatch, order) -> None:
    project.write("src/pay.ts", f'const to = "{A1}";\n')
    monkeypatch.chdir(tmp_path)  # not the repository: --repo must be honoured
    argv = ["--repo", str(project.root), "--format", "json", "audit"] if order == "before" else \
        ["audit", "--repo", str(project.root), "--format", "json"]
    code, out, _ = run_cli(*argv)
    assert code == 1 and json.loads(out)["status"] == "fail"
    code, _, err = run_cli(*(["--spec", str(tmp_path / "missing.yaml"), "audit"] if order == "before" else
                             ["audit", "--spec", str(tmp_path / "missing.yaml")]), "--repo", str(project.root))
    assert code == 2 and "missing.yaml: no spec found" in err


@pytest.mark.parametrize("gate", ["ai-rule", "agents-md-sync", "governance-policy", "goal-declaration", "forbidden-scopes"])
def test_the_daos_gate_types_are_listed_and_explained(run_cli, gate) -> None:
    code, out, _ = run_cli("list")
    assert code == 0 and any(line.split()[0] == gate for line in out.splitlines())
    code, out, _ = run_cli("explain", gate)
    assert code == 0 and out.startswith(f"#### `{gate}`\n") and "Why:" in out and "Instead:" in out
    assert "This change passes:" in out and "This change fails:" in out
