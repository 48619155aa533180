"""Speed of `cogni-review history` against one `check` process per commit, measured in the same run.

The history is built here, never committed: consecutive releases of a real package from the npm
registry (`npm pack <package>@<version>` for each), one commit per release in a throwaway git
repository whose first commit holds a spec turning on the DAO gates, so each commit changes what
that release changed. Then:

- `history` walks every commit in one process;
- `check --base <parent> --head <commit>` is timed as a process on a sample of commits, and the
  per-commit time scaled to the whole history (what a CI job per merged pull request costs);
- every commit is also checked in-process, and its findings must equal the ones `history` gives
  for it: the speed is worth nothing if the answer differs.

    python bench/history_speed.py [--package @wagmi/core] [--versions 300] [--sample 15]

Needs git and npm on PATH. Prints a JSON report; the ratio, not the absolute time, is the result.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tarfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
CORPUS = HERE / ".corpus"
SPEC = """\
schema_version: "0.2.1"
payments_in:
  widget: {provider: depay}
providers:
  openrouter: {api_key_env: OPENROUTER_API_KEY}
llm_proxy: {master_key_env: LITELLM_MASTER_KEY}
"""
CODE = (".ts", ".tsx", ".js", ".mjs", ".cjs")
GIT_ID = ("-c", "user.name=bench", "-c", "user.email=bench@example.org")


def sh(*cmd: str, cwd: Path | None = None, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=check)


def releases(package: str, count: int) -> list[str]:
    """The last `count` stable versions of `package`, oldest first."""
    versions = json.loads(sh("npm", "view", package, "versions", "--json").stdout)
    return [v for v in versions if "-" not in v][-count:]


def build(package: str, count: int) -> Path:
    """A git repository with one commit per release; cached under bench/.corpus."""
    versions = releases(package, count)
    repo = CORPUS / f"history-{package.replace('@', '').replace('/', '-')}-{len(versions)}"
    if (repo / ".git").is_dir():
        return repo
    tarballs = CORPUS / "tarballs"
    tarballs.mkdir(parents=True, exist_ok=True)
    wanted = [v for v in versions if not list(tarballs.glob(f"*-{v}.tgz"))]
    for start in range(0, len(wanted), 50):  # one npm process fetches many
        sh("npm", "pack", *(f"{package}@{v}" for v in wanted[start:start + 50]), "--silent", cwd=tarballs)
    repo.mkdir(parents=True)
    sh("git", "init", "-q", "-b", "main", cwd=repo)
    (repo / ".cogni").mkdir()
    (repo / ".cogni" / "repo-spec.yaml").write_text(SPEC)
    sh("git", "add", "-A", cwd=repo)
    sh("git", *GIT_ID, "commit", "-qm", "spec", cwd=repo)
    for version in versions:
        (tarball,) = tarballs.glob(f"*-{version}.tgz")
        shutil.rmtree(repo / "src", ignore_errors=True)
        with tarfile.open(tarball) as archive:
            for member in archive.getmembers():
                rel = Path(member.name).relative_to(Path(member.name).parts[0])
                if member.isfile() and rel.suffix in CODE:
                    target = repo / "src" / rel
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(archive.extractfile(member).read())
        sh("git", "add", "-A", cwd=repo)
        sh("git", *GIT_ID, "commit", "-qm", f"release {version}", "--allow-empty", cwd=repo)
    return repo


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--package", default="@wagmi/core")
    parser.add_argument("--versions", type=int, default=300)
    parser.add_argument("--sample", type=int, default=15)
    args = parser.parse_args()
    repo = build(args.package, args.versions)
    commits = sh("git", "rev-list", "--first-parent", "--reverse", "HEAD", cwd=repo).stdout.split()
    review = [sys.executable, "-m", "cogni_review"]

    started = time.perf_counter()
    done = subprocess.run([*review, "history", "--format", "json"], cwd=repo, capture_output=True, text=True)
    history_seconds = time.perf_counter() - started
    if done.returncode not in (0, 1):
        sys.exit(done.stderr)
    per_commit: dict[str, list] = {}
    for item in json.loads(done.stdout)["findings"]:
        per_commit.setdefault(item["introduced_in"], []).append((item["path"], item["line"], item["token"]))

    step = max(1, (len(commits) - 1) // args.sample)
    times = []
    for parent, commit in list(zip(commits, commits[1:]))[::step]:
        started = time.perf_counter()
        sh(*review, "check", "--base", parent, "--head", commit, "--format", "json", cwd=repo, check=False)
        times.append(time.perf_counter() - started)
    check_each = statistics.median(times)

    from cogni_review.workspace import Workspace

    mismatches = []
    for parent, commit in zip(commits, commits[1:]):
        report = Workspace.open(str(repo), None).check(parent, commit)
        found = [(v.path, v.line, v.token) for v in report.violations if v.gate_type != "governance-change"]
        if found != per_commit.get(commit, []):
            mismatches.append(commit)
    result = {
        "package": args.package, "commits": len(commits) - 1,
        "findings_introduced": sum(len(f) for f in per_commit.values()),
        "history": {"seconds": round(history_seconds, 2)},
        "check_per_commit": {"median_seconds": round(check_each, 3), "sampled": len(times),
                             "whole_history_seconds": round(check_each * (len(commits) - 1), 1)},
        "ratio_checks_to_history": round(check_each * (len(commits) - 1) / history_seconds, 1),
        "commits_whose_findings_differ_from_check": mismatches,
    }
    print(json.dumps(result, indent=2))
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
