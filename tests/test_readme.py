"""The README's two commands are the ones that work: run the first in a fresh clone, and hold
`.ci/run` (which CI runs from a clean checkout) to the second, word for word."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def readme_commands() -> list[str]:
    blocks = re.findall(r"```sh\n(.*?)```", (ROOT / "README.md").read_text(encoding="utf-8"), re.S)
    return [blocks[0].strip(), blocks[1].strip()]


def test_the_two_commands_come_first_and_ci_runs_the_test_command_exactly() -> None:
    install_and_demo, tests = readme_commands()
    assert install_and_demo == "python3 -m venv .venv && .venv/bin/pip install . && .venv/bin/cogni-review demo"
    assert tests == "python3 -m venv .venv && .venv/bin/pip install '.[test]' && .venv/bin/python -m pytest"
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert tests in ci


def test_first_command_in_a_fresh_clone(tmp_path: Path) -> None:
    """A clean clone of what is committed, a new venv, the command pasted as written."""
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTHON"))}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if "venv" not in p)
    done = subprocess.run(["bash", "-c", readme_commands()[0]], cwd=clone, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "cogni-review: PASS" in done.stdout
    assert "wallet-address-literals hard-coded address" in done.stdout
    assert done.stdout.endswith("cogni-review demo: the gate caught both\n")
