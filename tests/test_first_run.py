"""The first run tells the truth: onboarding an existing repository, honest summaries, clear usage
errors, quiet pipes, colour only on a terminal. Each through the CLI, on real repositories."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import found

from cogni_review.workspace import Workspace

A1 = "0x52908400098527886E0F7030069857D2E4169EE7"
SPEC = "payments_in:\n  widget: {provider: depay}\n"

EXISTING = {
    "package.json": '{"name": "widget-app"}\n',
    "src/shared/env/server.ts": "export const server = z.object({\n  OPENROUTER_API_KEY: z.string(),\n"
                                "  LITELLM_MASTER_KEY: z.string(),\n  DATABASE_URL: z.string(),\n});\n",
    "src/adapters/server/ai/litellm.adapter.ts": "const k = serverEnv().LITELLM_MASTER_KEY;\n",
    "src/shared/constants/payments.ts": 'export const WIDGET_PAYMENT_REASON = "widget_payment";\n',
    "src/shared/constants/system-tenant.ts": 'export const PLATFORM_REVENUE_SHARE_REASON = "platform_revenue_share";\n',
    "src/features/payments/services/creditsConfirm.ts": "await credit({ reason: WIDGET_PAYMENT_REASON });\n",
    "packages/db-schema/src/billing.ts": "export const ledger = table('credit_ledger', {});\n",
}


def test_init_in_an_existing_repository_writes_a_spec_for_its_layout(repo, run_cli) -> None:
    repo.commit("app", **EXISTING)
    (repo.root / "src" / "shared").mkdir(exist_ok=True)
    code, out, err = run_cli("init", "--repo", str(repo.root / "src" / "shared"))  # from a subdirectory
    assert (code, err) == (0, "")
    path = repo.root / ".cogni" / "repo-spec.yaml"
    assert out == f"wrote {path}: a spec for the layout found in 6 code file(s); review it, then run `cogni-review audit`\n"
    text = path.read_text(encoding="utf-8")
    assert "#   .\n#   packages/db-schema\n" in text  # the app and package roots, commented
    assert "#   src/shared/env/server.ts\n" in text  # the env module
    # keys the env module declares are suggestions, never governed silently
    assert ("#   openrouter: {api_key_env: OPENROUTER_API_KEY}   # declared in src/shared/env/server.ts; "
            "no adapter names this provider yet") in text
    assert ("#   litellm: {api_key_env: LITELLM_MASTER_KEY}   # declared in src/shared/env/server.ts; "
            "adapter: src/adapters/server/ai/litellm.adapter.ts") in text
    spec = yaml.safe_load(text)
    assert "providers" not in spec and "DATABASE_URL" not in text
    reasons = spec["gates"][2]["with"]["reasons"]
    assert "src/shared/constants/system-tenant.ts" in reasons["platform_revenue_share"]
    assert sorted(reasons) == ["credits_purchase", "platform_revenue_share", "system_donation", "widget_payment"]
    # it is a valid spec that judges this repository as it is: the rails are not findings
    assert run_cli("validate-spec", "--repo", str(repo.root / "src"))[0] == 0
    report = Workspace.open(str(repo.root), None).audit()
    assert found(report) == []
    assert {g.type: g.status for g in report.gates}["wallet-address-literals"] == "pass"
    # and it never overwrites
    code, _, err = run_cli("init", "--repo", str(repo.root))
    assert code == 2 and "already exists; not overwriting it" in err


def test_init_in_an_empty_repository_writes_the_starter(repo, run_cli) -> None:
    code, out, _ = run_cli("init", "--repo", str(repo.root))
    assert code == 0 and "the starter spec" in out
    assert "payments_in:" in (repo.root / ".cogni" / "repo-spec.yaml").read_text(encoding="utf-8")


@pytest.fixture
def project(repo):
    repo.commit("spec", **{".cogni/repo-spec.yaml": SPEC, "src/app.ts": "export const ok = 1;\n"})
    return repo


def test_a_failing_review_limits_reports_a_finding_with_the_figure_and_the_limit(project, run_cli) -> None:
    project.write(".cogni/repo-spec.yaml", SPEC + "gates:\n  - type: review-limits\n    with: {max_changed_files: 1}\n")
    project.commit("limits")
    project.git("checkout", "-q", "-b", "feature")
    project.commit("two", **{"src/a.ts": "export const a = 1;\n", "src/b.ts": "export const b = 1;\n"})
    code, out, _ = run_cli("check", "--base", "main", "--repo", str(project.root))
    lines = out.splitlines()
    assert code == 1
    assert lines[0] == "(the change as a whole): review-limits the change is too large to review well: 2 files changed; limit 1"
    assert lines[-1] == "cogni-review: FAIL — 1 gate failed with 1 violation, 2 passed"


def test_notes_about_many_files_for_one_reason_are_one_note_unless_verbose(project, run_cli) -> None:
    for n in range(5):
        (project.root / "src" / f"link{n}.ts").symlink_to("app.ts")
    code, out, _ = run_cli("audit", "--repo", str(project.root))
    notes = [line for line in out.splitlines() if line.startswith("note:")]
    assert notes == ["note: not_scanned: 5 files: symlink, not followed (e.g. src/link0.ts, src/link1.ts, src/link2.ts; "
                     "--verbose lists them)"]
    code, out, _ = run_cli("audit", "--verbose", "--repo", str(project.root))
    assert [line for line in out.splitlines() if line.startswith("note:")] == [
        f"note: not_scanned: src/link{n}.ts: symlink, not followed" for n in range(5)]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        pytest.param(["audti"], "cogni-review: argument COMMAND: invalid choice: 'audti'", id="command"),
        pytest.param(["audit", "--fromat", "json"], "unrecognized arguments: --fromat json (did you mean '--format'?)", id="option"),
    ],
)
def test_usage_errors_are_one_line_with_a_suggestion(run_cli, argv: list[str], message: str) -> None:
    code, out, err = run_cli(*argv)
    assert code == 2 and out == "" and len(err.splitlines()) == 1 and message in err
    assert "usage:" not in err


def test_check_in_a_repository_with_no_commits_says_so(repo, run_cli) -> None:
    repo.write(".cogni/repo-spec.yaml", SPEC)
    code, _, err = run_cli("check", "--base", "HEAD", "--repo", str(repo.root))
    assert code == 2
    assert err == ("cogni-review: revision 'HEAD': this repository has no commits yet; commit first, "
                   "or judge what is staged with `cogni-review check --staged`\n")


def test_renames_are_found_past_gits_rename_limit(project) -> None:
    """A restructuring that moves and edits more files than git's rename limit: moved findings stay old."""
    files = {f"src/mod{n}.ts": f'export const TO{n} = "{A1}";\n' + "".join(f"export const x{k} = {k};\n" for k in range(20))
             for n in range(6)}
    project.commit("many", **files)
    project.git("config", "diff.renameLimit", "1")
    project.git("checkout", "-q", "-b", "feature")
    for path, text in files.items():
        project.move(path, path.replace("src/", "src/lib/"))
        project.write(path.replace("src/", "src/lib/"), text + "export const y = 1;\n")
    project.commit("restructure")
    assert found(Workspace.open(str(project.root), None).check("main")) == []


def test_a_huge_staged_file_takes_memory_in_proportion(project, tmp_path: Path) -> None:
    """A 40 MB staged file: memory stays within a few times its size (not gigabytes)."""
    line = "export const filler = 'abcdefghijklmnopqrstuvwxyz0123456789';\n"
    (project.root / "src" / "huge.ts").write_text(line * (40_000_000 // len(line)), encoding="utf-8")
    project.git("add", "src/huge.ts")
    script = ("import resource, sys; from cogni_review.cli import main; code = main(sys.argv[1:]); "
              "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss); sys.exit(code)")
    done = subprocess.run([sys.executable, "-c", script, "check", "--staged", "--repo", str(project.root)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    peak_kib = int(done.stdout.splitlines()[-1])
    assert peak_kib < 450_000, f"peak {peak_kib / 1024:.0f} MiB for a 40 MB file"


def test_a_closed_pipe_ends_quietly(project) -> None:
    for n in range(300):
        project.write(f"src/f{n}.ts", f'const to = "{A1}";\n')
    done = subprocess.run(f"{sys.executable} -m cogni_review audit --repo {project.root} | head -1",
                          shell=True, capture_output=True, text=True, timeout=300)
    assert done.stdout.startswith("src/f0.ts:1:13:") and done.stderr == ""


@pytest.mark.parametrize(
    ("args", "env", "coloured"),
    [
        pytest.param([], {}, False, id="piped"),
        pytest.param(["--color", "always"], {}, True, id="always"),
        pytest.param(["--color", "never"], {}, False, id="never"),
    ],
)
def test_colour_only_when_asked_or_on_a_terminal(project, args, env, coloured) -> None:
    done = subprocess.run([sys.executable, "-m", "cogni_review", "audit", "--repo", str(project.root), *args],
                          capture_output=True, text=True, timeout=300)
    assert ("\x1b[" in done.stdout) == coloured


def test_colour_on_a_terminal_unless_no_color(project) -> None:
    """Run under a pseudo-terminal: coloured; with NO_COLOR set: plain."""
    import os
    import pty

    def on_a_terminal(extra_env: dict[str, str]) -> str:
        env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"} | extra_env
        leader, follower = pty.openpty()
        process = subprocess.Popen([sys.executable, "-m", "cogni_review", "audit", "--repo", str(project.root)],
                                   stdout=follower, stderr=follower, env=env)
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:
                break
            if not chunk:
                break
            chunks.append(chunk)
        process.wait(timeout=300)
        os.close(leader)
        return b"".join(chunks).decode()

    assert "cogni-review: \x1b[32mPASS\x1b[0m — 2 passed" in on_a_terminal({})
    assert "\x1b[" not in on_a_terminal({"NO_COLOR": "1"})


def test_a_first_push_audits_what_is_pushed_not_the_checkout(project, run_cli, monkeypatch) -> None:
    pushed = project.git("rev-parse", "HEAD").strip()
    project.commit("local only", **{"src/pay.ts": f'const to = "{A1}";\n'})
    project.git("checkout", "-q", pushed)  # HEAD is not what is being pushed
    monkeypatch.setenv("PRE_COMMIT_TO_REF", project.git("rev-parse", "main").strip())
    monkeypatch.delenv("PRE_COMMIT_FROM_REF", raising=False)
    code, out, _ = run_cli("check", "--pushed", "--repo", str(project.root))
    assert code == 1 and out.startswith("src/pay.ts:1:13: wallet-address-literals")


def test_a_run_with_no_gates_is_not_a_pass(repo, run_cli) -> None:
    repo.commit("bare", **{".cogni/repo-spec.yaml": "intent: {name: x}\n", "src/a.ts": "export const a = 1;\n"})
    code, out, _ = run_cli("audit", "--repo", str(repo.root))
    assert code == 0 and out.splitlines()[-1] == "cogni-review: NEUTRAL — no gates ran"
    assert run_cli("audit", "--repo", str(repo.root), "--fail-on", "neutral")[0] == 1


def test_a_restructuring_past_the_rename_limit_is_said(project, monkeypatch) -> None:
    from cogni_review import diff

    monkeypatch.setattr(diff, "RENAMES", ("-M", "-l1"))
    monkeypatch.setattr(diff, "TEXT_DIFF", ("-M", "-l1", *diff.TEXT_DIFF[2:]))
    files = {f"src/m{n}.ts": "".join(f"export const x{k} = {k};\n" for k in range(20)) for n in range(3)}
    project.commit("many", **files)
    project.git("checkout", "-q", "-b", "feature")
    for path, text in files.items():
        project.move(path, path.replace("src/m", "src/lib/n"))  # new names: no pairing by name
        project.write(path.replace("src/m", "src/lib/n"), text + "export const y = 1;\n")
    project.commit("restructure")
    report = Workspace.open(str(project.root), None).check("main")
    assert any("files moved: git paired only" in n.message for n in report.notes)
