"""Speed of `cogni-review audit` and `check`, as ratios against ripgrep, ast-grep and semgrep in the same run.

The corpora are fetched here, never committed:

- `ts`: the TypeScript sources of a real package from the npm registry (`npm pack
  viem@2.57.20`; about 1,500 .ts files, hundreds of real on-chain addresses), laid out as `src/`;
- `big`: about 15,000 source files of npm and PyPI packages dense in addresses (`npm pack` and
  `pip download` of web3 libraries), each package under `src/<name>/`.

Each is a throwaway git repository with a spec that turns on the three DAO gates. Every tool
searches the same tokens over the same files; each timing is the median of several runs of the
whole command, start-up included.

    python bench/audit_speed.py [--corpus ts|big] [--runs 7] [--rg PATH] [--ast-grep PATH] [--semgrep PATH]

Needs git, npm and ripgrep (`rg`) on PATH (and pip for `big`); ast-grep (`pip install
ast-grep-cli`) and semgrep (`pip install semgrep`) are optional: skipped, and said so, when absent.
Prints a JSON report; ratios, not absolute times, are the result: machines are shared and noisy.
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


#: ast-grep rules for the same tokens: addresses and governed strings in string and number literals
#: and identifiers, in TypeScript (the `ts` corpus)
AST_GREP_RULES = """\
id: address-literal
language: TypeScript
rule:
  any:
    - {kind: string_fragment, regex: "0[xX][0-9a-fA-F]{40}"}
    - {kind: template_string, regex: "0[xX][0-9a-fA-F]{40}"}
    - {kind: number, regex: "0[xX][0-9a-fA-F]{40}"}
---
id: governed-tokens
language: TypeScript
rule:
  any:
    - {kind: string_fragment, regex: "%(tokens)s"}
    - {kind: property_identifier, regex: "^(%(tokens)s)$"}
    - {kind: identifier, regex: "^(%(tokens)s)$"}
    - {kind: shorthand_property_identifier_pattern, regex: "^(%(tokens)s)$"}
"""
BIG_NPM = ("viem@2.57.20", "ethers@6.15.0", "ethers@5.8.0", "@wagmi/core@2.22.1", "wagmi@2.19.5",
           "@coinbase/onchainkit@1.1.2", "@rainbow-me/rainbowkit@2.2.9", "@uniswap/sdk-core@7.9.0",
           "@uniswap/v3-sdk@3.26.0", "@safe-global/protocol-kit@6.1.2", "permissionless@0.3.2",
           "@reown/appkit@1.8.14", "thirdweb@5.112.4")
BIG_PYPI = ("web3==7.14.0", "eth-account==0.13.7", "eth-utils==5.3.1", "eth-abi==5.2.0", "py-evm==0.12.1",
            "eth-tester==0.13.0b1", "ape-safe==0.8.3")
CODE = (".ts", ".tsx", ".js", ".mjs", ".cjs", ".jsx", ".py", ".sol")


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
    return commit_corpus(repo)


def commit_corpus(repo: Path) -> Path:
    """The corpus at `repo` with the spec, committed as a new git repository."""
    (repo / ".cogni").mkdir(parents=True, exist_ok=True)
    (repo / ".cogni" / "repo-spec.yaml").write_text(SPEC)
    for args in (("init", "-q", "-b", "main"), ("add", "-A"),
                 ("-c", "user.name=bench", "-c", "user.email=bench@example.org", "commit", "-qm", "corpus")):
        sh("git", *args, cwd=repo)
    return repo


def fetch_big() -> Path:
    """About 15,000 source files of web3 packages from npm and PyPI; cached under bench/.corpus."""
    repo = CORPUS / "big"
    if (repo / ".git").is_dir():
        return repo
    downloads = CORPUS / "big-downloads"
    downloads.mkdir(parents=True, exist_ok=True)
    sh("npm", "pack", *BIG_NPM, "--silent", cwd=downloads, check=False)
    sh(sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:", "-d", str(downloads), *BIG_PYPI,
       check=False)
    for archive_path in sorted(downloads.iterdir()):
        if not archive_path.name.endswith((".tgz", ".tar.gz")):
            continue
        with tarfile.open(archive_path) as archive:
            for member in archive.getmembers():
                parts = Path(member.name).parts
                if member.isfile() and Path(member.name).suffix in CODE and len(parts) > 1:
                    target = repo / "src" / archive_path.name.rsplit(".t", 1)[0] / Path(*parts[1:])
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(archive.extractfile(member).read())
    return commit_corpus(repo)


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
    parser.add_argument("--corpus", choices=("ts", "big"), default="ts")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--package", default="viem@2.57.20")
    parser.add_argument("--rg", default=shutil.which("rg"))
    parser.add_argument("--ast-grep", dest="ast_grep", default=shutil.which("ast-grep"))
    parser.add_argument("--semgrep", default=shutil.which("semgrep"))
    args = parser.parse_args()
    if not args.rg:
        sys.exit("ripgrep (rg) is needed: install it from your package manager (e.g. apt-get install ripgrep)")
    repo = fetch(args.package) if args.corpus == "ts" else fetch_big()
    sh("git", "checkout", "-q", "main", cwd=repo)
    review = [sys.executable, "-m", "cogni_review"]
    pattern = "|".join((ADDRESS, *TOKENS))
    files = [p for p in (repo / "src").rglob("*") if p.is_file()]
    results: dict = {"corpus": args.package if args.corpus == "ts" else "big", "files": len(files), "runs": args.runs}

    rg_time, rg = timed([args.rg, "--count-matches", "-e", pattern, "src"], repo, args.runs)
    audit_time, audit = timed([*review, "audit", "--format", "json"], repo, args.runs)
    found = sum(len(g["violations"]) for g in json.loads(audit.stdout)["gates"])
    results["ripgrep"] = {"seconds": round(rg_time, 4), "matches": sum(int(l.rsplit(":", 1)[1]) for l in rg.stdout.split())}
    results["audit"] = {"seconds": round(audit_time, 4), "findings": found, "ratio_to_ripgrep": round(audit_time / rg_time, 1)}
    if args.ast_grep and args.corpus == "ts":
        rules = CORPUS / "ast-grep-rules.yml"
        rules.write_text(AST_GREP_RULES % {"tokens": "|".join(TOKENS)})
        ag_time, ag = timed([args.ast_grep, "scan", "--rule", str(rules), "--json=compact", "src"], repo, args.runs)
        results["ast_grep"] = {"seconds": round(ag_time, 4), "matches": len(json.loads(ag.stdout or "[]")),
                               "ratio_to_audit": round(ag_time / audit_time, 2)}
    else:
        results["ast_grep"] = "not installed, or not the ts corpus; skipped (pip install ast-grep-cli)"
    if args.semgrep and args.corpus == "ts":
        rules = CORPUS / "semgrep-rules.json"
        rules.write_text(json.dumps(SEMGREP_RULES))
        sg_cmd = [args.semgrep, "scan", "--config", str(rules), "--metrics=off", "--disable-version-check", "--json", "--quiet", "src"]
        sg_time, _ = timed(sg_cmd, repo, max(1, args.runs // 3))
        results["semgrep"] = {"seconds": round(sg_time, 3), "ratio_to_audit": round(sg_time / audit_time, 1)}
    else:
        results["semgrep"] = "not installed; skipped (pip install semgrep)"
    if args.corpus == "big":
        print(json.dumps(results, indent=2))
        return 0
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
