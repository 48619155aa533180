"""Speed of `cogni-review audit` and `check`, as ratios against ripgrep and semgrep in the same run.

The corpus is fetched here, never committed: the TypeScript sources of a real package from the
npm registry (`npm pack viem@2.57.20`; about 1,500 .ts files, hundreds of real on-chain
addresses), laid out as `src/` in a throwaway git repository with a spec that turns on the three
DAO gates. Every tool searches the same tokens over the same files; each timing is the median
of several runs of the whole command, start-up included.

    python bench/audit_speed.py [--runs 7] [--package viem@2.57.20] [--semgrep PATH] [--rg PATH]

Needs git, npm and ripgrep (`rg`) on PATH; semgrep is optional (`pip install semgrep`; skipped,
and said so, when absent). Prints a JSON report; ratios, not absolute times, are the result:
machines are shared and noisy.
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
TOKENS = ("credits_purchase", "platform_revenue_share", "system_donation", "OPENROUTER_API_KEY", "LITELLM_MASTER_KEY")
ADDRESS = "0[xX][0-9a-fA-F]{40}"
SPEC = """\
schema_version: "0.2.1"
payments_in:
  widget: {provider: depay}
providers:
  openrouter: {api_key_env: OPENROUTER_API_KEY}
llm_proxy: {master_key_env: LITELLM_MASTER_KEY}
gates:
  - type: widget-payment-reason
    with:
      reasons:
        credits_purchase: ["src/features/payments/**"]
        platform_revenue_share: ["src/features/payments/**"]
        system_donation: ["src/features/payments/**"]
"""
SEMGREP_RULES = {
    "rules": [
        {"id": "wallet-address-literal", "languages": ["generic"], "severity": "ERROR",
         "message": "address", "pattern-regex": ADDRESS, "paths": {"include": ["src/"]}},
        {"id": "governed-tokens", "languages": ["generic"], "severity": "ERROR",
         "message": "token", "pattern-regex": "\\b(" + "|".join(TOKENS) + ")\\b"},
    ]
}


def sh(*cmd: str, cwd: Path | None = None, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=check)


def fetch(package: str) -> Path:
    """The package's TypeScript sources as a git repository; cached under bench/.corpus."""
    repo = CORPUS / package.replace("@", "-").replace("/", "-")
    if (repo / ".git").is_dir():
        return repo
    CORPUS.mkdir(exist_ok=True)
    tarball = CORPUS / sh("npm", "pack", package, "--silent", cwd=CORPUS).stdout.strip().splitlines()[-1]
    src = repo / "src"
    with tarfile.open(tarball) as archive:
        for member in archive.getmembers():
            rel = Path(member.name).relative_to("package")
            if member.isfile() and rel.suffix == ".ts" and not rel.parts[0].startswith("_"):
                target = src / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(archive.extractfile(member).read())
    (repo / ".cogni").mkdir(parents=True, exist_ok=True)
    (repo / ".cogni" / "repo-spec.yaml").write_text(SPEC)
    for args in (("init", "-q", "-b", "main"), ("add", "-A"),
                 ("-c", "user.name=bench", "-c", "user.email=bench@example.org", "commit", "-qm", "corpus")):
        sh("git", *args, cwd=repo)
    return repo


def make_pull_request(repo: Path) -> None:
    """A typical PR on a branch: five files edited, one new address, one new reason string."""
    sh("git", "checkout", "-q", "-B", "pr", "main", cwd=repo)
    files = sorted((repo / "src").rglob("*.ts"))[::300][:5]
    for n, file in enumerate(files):
        file.write_text(file.read_text() + f"\nexport const added{n} = {n};\n")
    files[0].write_text(files[0].read_text() + 'export const treasury = "0x52908400098527886E0F7030069857D2E4169EE7";\n')
    files[1].write_text(files[1].read_text() + 'export const reason = "credits_purchase";\n')
    sh("git", "-c", "user.name=bench", "-c", "user.email=bench@example.org", "commit", "-qam", "pr", cwd=repo)


def timed(cmd: list[str], cwd: Path, runs: int) -> tuple[float, subprocess.CompletedProcess]:
    times, done = [], None
    for _ in range(runs):
        started = time.perf_counter()
        done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times), done


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--package", default="viem@2.57.20")
    parser.add_argument("--rg", default=shutil.which("rg"))
    parser.add_argument("--semgrep", default=shutil.which("semgrep"))
    args = parser.parse_args()
    if not args.rg:
        sys.exit("ripgrep (rg) is needed: install it from your package manager (e.g. apt-get install ripgrep)")
    repo = fetch(args.package)
    sh("git", "checkout", "-q", "main", cwd=repo)
    review = [sys.executable, "-m", "cogni_review"]
    pattern = "|".join((ADDRESS, *TOKENS))
    results: dict = {"corpus": args.package, "files": len(list((repo / "src").rglob("*.ts"))), "runs": args.runs}

    rg_time, rg = timed([args.rg, "--count-matches", "-e", pattern, "src"], repo, args.runs)
    audit_time, audit = timed([*review, "audit", "--format", "json"], repo, args.runs)
    found = sum(len(g["violations"]) for g in json.loads(audit.stdout)["gates"])
    results["ripgrep"] = {"seconds": round(rg_time, 4), "matches": sum(int(l.rsplit(":", 1)[1]) for l in rg.stdout.split())}
    results["audit"] = {"seconds": round(audit_time, 4), "findings": found, "ratio_to_ripgrep": round(audit_time / rg_time, 1)}
    if args.semgrep:
        rules = CORPUS / "semgrep-rules.json"
        rules.write_text(json.dumps(SEMGREP_RULES))
        sg_cmd = [args.semgrep, "scan", "--config", str(rules), "--metrics=off", "--disable-version-check", "--json", "--quiet", "src"]
        sg_time, _ = timed(sg_cmd, repo, max(1, args.runs // 3))
        results["semgrep"] = {"seconds": round(sg_time, 3), "ratio_to_audit": round(sg_time / audit_time, 1)}
    else:
        results["semgrep"] = "not installed; skipped (pip install semgrep)"
    make_pull_request(repo)
    check_time, check = timed([*review, "check", "--base", "main", "--format", "json"], repo, args.runs)
    results["check"] = {"seconds": round(check_time, 4),
                        "findings": sum(len(g["violations"]) for g in json.loads(check.stdout)["gates"]),
                        "ratio_to_ripgrep": round(check_time / rg_time, 1)}
    sh("git", "checkout", "-q", "main", cwd=repo)
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
