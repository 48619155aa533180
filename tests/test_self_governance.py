"""This repository governs itself: its own spec passes as it is, and every invariant has a broken
twin (tests/fixtures/twins/) that, committed for real, fails `check` with the right gate and line,
and passes again once reverted."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from cogni_review.workspace import Workspace

ROOT = Path(__file__).resolve().parents[1]
TWINS = sorted((ROOT / "tests" / "fixtures" / "twins").glob("*.yaml"))


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True).stdout


@pytest.fixture(scope="module")
def copy(tmp_path_factory) -> Path:
    """The repository as it stands (tracked and untracked files git does not ignore), committed."""
    target = tmp_path_factory.mktemp("self") / "repo"
    listed = git(ROOT, "ls-files", "-z", "--cached", "--others", "--exclude-standard").split("\0")
    for rel in filter(None, listed):
        source = ROOT / rel
        if source.is_file() and not source.is_symlink():
            (target / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / rel)
    git(target, "init", "-q", "-b", "main")
    git(target, "add", "-A")
    git(target, "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-qm", "as it stands")
    return target


def test_the_repository_passes_its_own_audit(copy: Path) -> None:
    report = Workspace.open(str(copy), None).audit()
    assert [(v.gate_type, v.path, v.line) for v in report.violations] == []
    # every file gate judged files and passed; only the change gate is neutral, having no change
    statuses = {g.id: (g.status, g.neutral_reason) for g in report.gates}
    assert statuses.pop("review_limits") == ("neutral", "no_change")
    assert set(statuses.values()) == {("pass", None)}
    assert all(g.stats["files_selected"] > 0 for g in report.gates if g.id != "review_limits")
    listed = {g.type for g in report.gates}
    assert {"wallet-address-literals", "widget-payment-reason", "provider-api-key-usage", "integer-money",
            "call-confinement", "sql-confinement", "import-boundaries", "literal-allowlist"} <= listed


def test_every_twin_names_an_invariant_gate_and_a_marked_line() -> None:
    assert len(TWINS) >= 7
    for path in TWINS:
        twin = yaml.safe_load(path.read_text())
        assert set(twin) == {"invariant", "target", "gate", "append"}, path.name
        assert sum(line.rstrip().endswith("<-") for line in twin["append"].splitlines()) == 1, path.name


@pytest.mark.parametrize("path", TWINS, ids=lambda p: p.stem)
def test_broken_twin_fails_check_and_passes_when_reverted(copy: Path, path: Path) -> None:
    twin = yaml.safe_load(path.read_text())
    target = copy / twin["target"]
    git(copy, "checkout", "-q", "-B", f"twin-{path.stem}", "main")
    original = target.read_text()
    target.write_text(original.rstrip("\n") + "\n\n\n" + twin["append"])
    git(copy, "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-qam", f"break: {twin['invariant']}")
    offset = len((original.rstrip("\n") + "\n\n\n").splitlines())
    marked = offset + next(i for i, line in enumerate(twin["append"].splitlines(), 1) if line.rstrip().endswith("<-"))
    report = Workspace.open(str(copy), None).check("main")
    assert [(v.gate_type, v.path, v.line) for v in report.violations] == [(twin["gate"], twin["target"], marked)]
    assert report.exit_code() == 1
    git(copy, "-c", "user.name=t", "-c", "user.email=t@example.org", "revert", "--no-edit", "HEAD")
    reverted = Workspace.open(str(copy), None).check("main")
    assert [(v.gate_type, v.path, v.line) for v in reverted.violations] == []
    assert reverted.exit_code() == 0
