"""`cogni-review demo`: the gate at work on the bundled reference billing service.

Copies the installed `billing` package into a throwaway git repository governed by a DAO spec,
audits it as shipped (it passes), then makes a pull-request-sized change that hard-codes a
treasury address and spells a minting reason outside its rail, checks that change the way the
GitHub Action would, and explains the finding. Exit 0 when the gate caught what it had to.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from cogni_review import catalog, explain
from cogni_review.reporters import text
from cogni_review.workspace import Workspace

SPEC = """\
# The DAO's rules for its billing service.
schema_version: "0.2.1"
intent:
  name: billing-demo
payments_in:
  credits_topup:
    provider: demo-usdc
    receiving_address: "0x0000000000000000000000000000000000000000"  # governed here, never in code
gates:
  - type: wallet-address-literals
    with: {paths: ["billing/**"]}
  - type: widget-payment-reason
    with:
      reasons:
        credits_purchase: [billing/reasons.py, billing/migrations.py]
        platform_revenue_share: [billing/reasons.py, billing/migrations.py]
        system_donation: [billing/reasons.py, billing/migrations.py]
"""
TREASURY = "0xde709f2102306220921060314715629080e2fb77"
CHANGE = {
    "billing/payments.py": f'\n\nTREASURY = "{TREASURY}"  # donations go here for now\n',
    "billing/cli.py": '\n\nREFUND_REASON = "credits_purchase"  # refunds re-mint as purchases\n',
}


def run(out) -> int:
    """Print the demo to `out`; 0 if both planted violations were caught, 1 if not."""
    import billing

    with tempfile.TemporaryDirectory(prefix="cogni-review-demo-") as scratch:
        root = Path(scratch) / "billing-service"
        shutil.copytree(Path(billing.__file__).parent, root / "billing", ignore=shutil.ignore_patterns("__pycache__", "*.md"))
        (root / ".cogni").mkdir()
        (root / ".cogni" / "repo-spec.yaml").write_text(SPEC, encoding="utf-8")
        _git(root, "init", "-q", "-b", "main")
        _commit(root, "the billing service, as shipped")
        workspace = Workspace.open(str(root), None)
        out.write("1. `cogni-review audit` of the billing service as shipped:\n\n")
        out.write(_indent(text.render(workspace.audit())))
        _git(root, "checkout", "-q", "-b", "feature/quick-donations")
        for path, addition in CHANGE.items():
            with (root / path).open("a", encoding="utf-8") as file:
                file.write(addition)
        _commit(root, "quick donations and refunds")
        out.write("\n2. A change hard-codes a treasury address and re-mints refunds as purchases.\n")
        out.write("   `cogni-review check --base main` (what the GitHub Action runs on the pull request):\n\n")
        report = workspace.check("main")
        out.write(_indent(text.render(report)))
        out.write("\n3. Why, and how to fix it (`cogni-review explain wallet-address-literals`):\n\n")
        out.write(_indent(explain.render(catalog.builtins(), "wallet-address-literals")))
    caught = {(v.gate_type, v.path) for v in report.violations}
    expected = {("wallet-address-literals", "billing/payments.py"), ("widget-payment-reason", "billing/cli.py")}
    out.write(f"\ncogni-review demo: {'the gate caught both' if expected <= caught else 'MISSED a planted violation'}\n")
    return 0 if expected <= caught else 1


def _indent(block: str) -> str:
    return "".join(f"   {line}" for line in block.splitlines(keepends=True))


def _commit(root: Path, message: str) -> None:
    _git(root, "add", "-A")
    _git(root, "-c", "user.name=demo", "-c", "user.email=demo@example.org", "commit", "-q", "-m", message)


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)
