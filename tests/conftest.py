"""Shared fixtures: real git repositories made in temporary folders."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cogni_review.cli import main


class GitRepo:
    """A throwaway repository with helpers to write files and commit them for real."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", "main")
        self.git("config", "user.email", "dev@example.org")
        self.git("config", "user.name", "Dev")
        self.git("config", "commit.gpgsign", "false")

    def git(self, *args: str) -> str:
        done = subprocess.run(["git", *args], cwd=self.root, capture_output=True, text=True, check=True)
        return done.stdout

    def write(self, path: str, text: str | bytes) -> Path:
        full = self.root / path
        full.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            full.write_bytes(text)
        else:
            full.write_text(text, encoding="utf-8")
        return full

    def move(self, old: str, new: str) -> None:
        (self.root / new).parent.mkdir(parents=True, exist_ok=True)
        self.git("mv", old, new)

    def commit(self, message: str = "change", **files: str) -> str:
        for path, text in files.items():
            self.write(path, text)
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message)
        return self.git("rev-parse", "HEAD").strip()


def found(report) -> list[tuple[str, str, int, str]]:
    """(gate type, path, line, token) of every violation, in report order."""
    return [(v.gate_type, v.path, v.line, v.token) for v in report.violations]


#: env vars the specs of these tests name for a model endpoint; a developer's own must not reach a test
MODEL_ENV = ("OPENROUTER_API_KEY", "LITELLM_PROXY_URL", "LITELLM_MASTER_KEY", "LLM_URL", "LLM_KEY", "ROUTER_KEY",
             "PROXY_BASE_URL", "PROXY_ADMIN_KEY", "ROUTERCO_KEY")


@pytest.fixture(autouse=True)
def no_model_endpoint(monkeypatch) -> None:
    for name in MODEL_ENV:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    return GitRepo(tmp_path / "repo")


@pytest.fixture
def run_cli(capsys):
    """Run the CLI in-process; returns (exit code, stdout, stderr)."""

    def run(*argv: str) -> tuple[int, str, str]:
        code = main(list(argv))
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


def run_child(root: Path, *argv: str, limit: float = 600) -> tuple[int, str, str, float, int]:
    """The CLI in a child process with `--format json`, so that a signal cannot take the tests down:
    (exit code, negative for a signal; stdout; stderr; seconds; the peak MB of any child so far).
    A run past `limit` seconds is stopped and fails the test."""
    started = time.perf_counter()
    try:
        done = subprocess.run([sys.executable, "-m", "cogni_review", *argv, "--format", "json"], cwd=root,
                              capture_output=True, text=True, env={**os.environ, "PYTHONIOENCODING": "utf-8"},
                              timeout=limit)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"{' '.join(argv)} ran past {limit:.0f} s") from None
    return (done.returncode, done.stdout, done.stderr, time.perf_counter() - started,
            resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024)
