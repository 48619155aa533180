"""The pre-commit hooks of this repository, installed for real in a throwaway repository.

The throwaway repository's `.pre-commit-config.yaml` names this repository by its root (computed
from this file's location) and `rev:` its current HEAD commit. pre-commit clones the hook repository
at that rev and pip-installs it into a virtualenv, so the hooks under test are the *committed*
`.pre-commit-hooks.yaml` and package: commit a change to them before this test can see it.
(`pre-commit try-repo` would pick up uncommitted edits to tracked files, but it builds the hook
environment in a fresh temporary store on every call, which is far too slow to repeat here.)

Building that virtualenv pip-installs the package's dependencies from the package index, once
per module: PRE_COMMIT_HOME is a temporary directory shared by every test here.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import GitRepo

ROOT = Path(__file__).resolve().parents[1]
A1 = "0x52908400098527886E0F7030069857D2E4169EE7"
A2 = "0xde0B295669a9FD93d5F28D9Ec85E40f4cb697BAe"
SPEC = """\
schema_version: "0.2.1"
intent:
  name: widget-app
payments_in:
  widget: {provider: depay, receiving_address_env: TREASURY_ADDRESS}
"""
PAY_BAD = f'import {{ pay }} from "./app";\nconst to = "{A1}";\nexport const send = (n: number) => pay(to, n);\n'
PAY_GOOD = 'import { pay, treasury } from "./app";\nconst to = treasury;\nexport const send = (n: number) => pay(to, n);\n'
WALLET_FIX = ("read the address from .cogni/repo-spec.yaml or configuration instead of hard-coding it; "
              "a protocol constant (a token or burn address) goes in the gate's `allow:`")
PAY_FINDING = f"src/pay.ts:2:13: wallet-address-literals hard-coded address {A1} (no EIP-55 checksum)"
LEGACY_FINDING = f"src/legacy.ts:1:21: wallet-address-literals hard-coded address {A2} (valid EIP-55 checksum)"
GATE_LINES = [
    "wallet-address-literals: fail — 1 violation, N ms",
    f"  fix: {WALLET_FIX}",
    "  or, where it is right to keep: `cogni: allow wallet-address-literals -- <reason>` in a comment on the line "
    "or the line above (`cogni-review explain` shows the options)",
    "widget-payment-reason: pass — 0 violations, N ms",
]


def hook_repo_rev() -> str:
    return subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()


@pytest.fixture(scope="module")
def precommit_env(tmp_path_factory) -> dict[str, str]:
    """The environment of every pre-commit and git call: one hook store for the whole module."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "PRE_COMMIT", "GITHUB_"))}
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["PRE_COMMIT_HOME"] = str(tmp_path_factory.mktemp("pre-commit-home"))
    env["PRE_COMMIT_COLOR"] = "never"
    return env


@pytest.fixture(scope="module")
def hooked(tmp_path_factory, precommit_env) -> tuple[GitRepo, dict[str, str]]:
    """A repository with a committed spec, a committed violation, and the hooks installed (built once)."""
    repo = GitRepo(tmp_path_factory.mktemp("hooked") / "repo")
    config = (
        "repos:\n"
        f"  - repo: {ROOT}\n"
        f"    rev: {hook_repo_rev()}\n"
        "    hooks:\n"
        "      - id: cogni-review\n"
        "      - id: cogni-review-audit\n"
    )
    repo.commit("start", **{
        ".cogni/repo-spec.yaml": SPEC,
        ".pre-commit-config.yaml": config,
        "src/app.ts": "export const treasury = process.env.TREASURY_ADDRESS;\nexport const pay = (to, n) => [to, n];\n",
        "src/legacy.ts": f'export const OLD = "{A2}";\n',
    })
    done = precommit(repo, precommit_env, "install", "--install-hooks")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines()[0] == "pre-commit installed at .git/hooks/pre-commit"
    assert (repo.root / ".git" / "hooks" / "pre-commit").is_file()
    return repo, precommit_env


def precommit(repo: GitRepo, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pre_commit", *args], cwd=repo.root, env=env,
                          capture_output=True, text=True, timeout=600)


def git(repo: GitRepo, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=repo.root, env=env, capture_output=True, text=True, timeout=300)


def head(repo: GitRepo) -> str:
    return repo.git("rev-parse", "HEAD").strip()


def hook_report(output: str, hook_name: str) -> list[str]:
    """The lines pre-commit prints for one hook: its status line, then its id, exit code and output."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(hook_name + "."))
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("cogni-review (")), len(lines))
    return [re.sub(r", \d+ ms$", ", N ms", line) for line in lines[start:end] if line]  # timings vary


def test_commit_with_an_address_is_refused_then_the_fix_goes_through(hooked) -> None:
    repo, env = hooked
    before = head(repo)
    repo.write("src/pay.ts", PAY_BAD)
    repo.git("add", "src/pay.ts")

    refused = git(repo, env, "commit", "-m", "pay from the app")
    assert refused.returncode == 1
    assert head(repo) == before
    report = hook_report(refused.stdout + refused.stderr, "cogni-review (staged change)")
    assert report == [
        "cogni-review (staged change)".ljust(79 - len("Failed"), ".") + "Failed", "- hook id: cogni-review", "- exit code: 1",
        PAY_FINDING, *GATE_LINES, "cogni-review: FAIL — 1 gate failed with 1 violation, 1 passed",
    ]
    assert "src/legacy.ts" not in refused.stdout + refused.stderr  # judged: the staged change only
    assert "(what a push sends)" not in refused.stdout + refused.stderr  # not a pre-commit stage hook

    repo.write("src/pay.ts", PAY_GOOD)
    repo.git("add", "src/pay.ts")
    accepted = git(repo, env, "commit", "-m", "pay from the app")
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    assert hook_report(accepted.stdout + accepted.stderr, "cogni-review (staged change)") == [
        "cogni-review (staged change)".ljust(79 - len("Passed"), ".") + "Passed"]
    assert repo.git("log", "-1", "--format=%s%n%P").splitlines() == ["pay from the app", before]
    assert repo.git("show", "HEAD:src/pay.ts") == PAY_GOOD


def test_audit_hook_audits_the_committed_head_in_the_manual_stage(hooked) -> None:
    repo, env = hooked
    repo.write("src/scratch.ts", f'const to = "{A1}";\n')  # untracked: not committed, not judged
    done = precommit(repo, env, "run", "cogni-review-audit", "--hook-stage", "manual")
    (repo.root / "src" / "scratch.ts").unlink()
    assert done.returncode == 1, done.stdout + done.stderr
    assert hook_report(done.stdout, "cogni-review (what a push sends)") == [
        "cogni-review (what a push sends)".ljust(79 - len("Failed"), ".") + "Failed", "- hook id: cogni-review-audit", "- exit code: 1",
        LEGACY_FINDING, *GATE_LINES, "cogni-review: FAIL — 1 gate failed with 1 violation, 1 passed",
    ]
    # not part of the commit stage: `pre-commit run` with the default stage skips it
    skipped = precommit(repo, env, "run", "cogni-review-audit")
    assert (skipped.returncode, skipped.stdout.splitlines()) == (1, ["No hook with id `cogni-review-audit` in stage `pre-commit`"])


def test_pre_push_judges_what_the_push_sends(hooked, tmp_path) -> None:
    """pre-commit hands the pushed range to the hook (PRE_COMMIT_FROM_REF..PRE_COMMIT_TO_REF): the
    commits being pushed are judged, not main's older findings, not untracked files."""
    repo, env = hooked
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    assert git(repo, env, "remote", "add", "origin", str(remote)).returncode == 0
    assert git(repo, env, "push", "-q", "--no-verify", "origin", "HEAD:refs/heads/main").returncode == 0
    installed = precommit(repo, env, "install", "-t", "pre-push")
    assert installed.returncode == 0, installed.stdout + installed.stderr
    repo.write("src/scratch.ts", f'const to = "{A1}";\n')  # untracked: not being pushed
    repo.write("src/pay.ts", PAY_BAD)
    repo.git("add", "src/pay.ts")
    assert git(repo, env, "commit", "-q", "--no-verify", "-m", "pay").returncode == 0
    refused = git(repo, env, "push", "origin", "HEAD:refs/heads/main")
    (repo.root / "src" / "scratch.ts").unlink()
    output = refused.stdout + refused.stderr
    assert refused.returncode != 0, output
    report = hook_report(output, "cogni-review (what a push sends)")
    assert report[3:4] == [PAY_FINDING]
    assert "src/legacy.ts" not in output and "src/scratch.ts" not in output
