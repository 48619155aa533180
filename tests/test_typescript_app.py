"""A TypeScript app laid out like the DAO template, and a pull request like task.0090 (rename
`widget_payment` to `credits_purchase`, add system donations), judged end to end: what is on the
rails passes, comments and docs pass, and each sneaky change is caught at its line."""

from __future__ import annotations

import pytest
from conftest import found

from cogni_review.workspace import Workspace

DAO = "0x070075F1389Ae1182aBac722B36CA12285d0c949"
SPEC = """\
schema_version: "0.1.4"
intent:
  name: node-template
cogni_dao:
  chain_id: "8453"
payments_in:
  widget:
    provider: depay
    receiving_address: "0x070075F1389Ae1182aBac722B36CA12285d0c949"
    allowed_chains: [base]
    allowed_tokens: [USDC]
providers:
  openrouter:
    api_host: https://openrouter.ai/api/v1
    api_key_env: OPENROUTER_API_KEY
llm_proxy:
  host_env: LITELLM_PROXY_URL
  master_key_env: LITELLM_MASTER_KEY
gates:
  - type: review-limits
    id: review_limits
    with: {max_changed_files: 40, max_total_diff_kb: 1500}
  - type: ai-rule
    with: {rule_file: repo-goal-alignment.yaml}
  - type: widget-payment-reason
    with:
      reasons:
        widget_payment: &rails
          - "src/app/api/v1/payments/credits/**/route.ts"
          - "src/features/payments/**"
          - "src/shared/constants/**/payments.ts"
          - "src/shared/constants/**/system-tenant.ts"
          - "src/adapters/server/db/migrations/**"
        credits_purchase: *rails
        platform_revenue_share: *rails
        system_donation: *rails
"""
RULE = """\
id: cogni-git-review-repo-goal-alignment
schema_version: "0.3"
blocking: true
workflow_id: goal-evaluations
evaluations:
  - repo-goal: The change serves the repository's stated goals.
success_criteria:
  neutral_on_missing_metrics: true
  require:
    - metric: repo-goal
      gte: 0.8
"""
BASE = {
    ".cogni/repo-spec.yaml": SPEC,
    ".cogni/rules/repo-goal-alignment.yaml": RULE,
    "src/shared/env/server.ts": """\
import { z } from "zod";

const schema = z.object({
  OPENROUTER_API_KEY: z.string().min(1),
  LITELLM_MASTER_KEY: z.string().min(1),
  LITELLM_PROXY_URL: z.string().url(),
});

export const serverEnv = () => schema.parse(process.env);
""",
    "src/adapters/server/ai/litellm.adapter.ts": """\
import { serverEnv } from "@/shared/env/server";

export function headers() {
  return { Authorization: `Bearer ${serverEnv().LITELLM_MASTER_KEY}` };
}
""",
    "src/shared/constants/payments.ts": 'export const WIDGET_PAYMENT_REASON = "widget_payment";\n',
    "src/features/payments/services/creditsConfirm.ts": """\
import { WIDGET_PAYMENT_REASON } from "@/shared/constants/payments";

/** Mints `widget_payment` credits once per clientPaymentId. */
export async function confirmCreditsPayment(svc: AccountService, input: Input) {
  await svc.creditAccount({ reason: WIDGET_PAYMENT_REASON, reference: input.clientPaymentId });
}
""",
    "src/app/(app)/credits/CreditsPage.client.tsx": """\
export function CreditsPage({ receiver }: { receiver: string }) {
  return <UsdcPaymentFlow receiver={receiver} purpose="self" />;
}
""",
    "docs/spec/dao-enforcement.md": f"Only `widget_payment` mints; the DAO receives at {DAO}.\n",
}
PR = {
    "src/shared/constants/payments.ts": """\
export const CREDITS_PURCHASE_REASON = "credits_purchase";
/** @deprecated kept for one release: `widget_payment` rows were renamed. */
export const WIDGET_PAYMENT_REASON = CREDITS_PURCHASE_REASON;
""",
    "src/shared/constants/system-tenant.ts": 'export const SYSTEM_DONATION_REASON = "system_donation";\n',
    "src/adapters/server/db/migrations/0012_payment_purpose.sql": """\
-- rename widget_payment -> credits_purchase (comment: not judged)
UPDATE credit_ledger SET reason = 'credits_purchase' WHERE reason = 'widget_payment';
CREATE UNIQUE INDEX credit_ledger_system_donation_ref_unique
  ON credit_ledger (billing_account_id, reference) WHERE reason = 'system_donation';
""",
    "src/features/payments/services/creditsConfirm.ts": """\
import { CREDITS_PURCHASE_REASON } from "@/shared/constants/payments";
import { SYSTEM_DONATION_REASON } from "@/shared/constants/system-tenant";

/** Mints `credits_purchase` credits once per attempt; donations mint `system_donation`. */
export async function confirmCreditsPayment(svc: AccountService, input: Input) {
  await svc.creditAccount({ reason: CREDITS_PURCHASE_REASON, reference: input.attemptId });
}

export async function confirmSystemDonation(svc: ServiceAccountService, input: Input) {
  await svc.creditAccount({ reason: SYSTEM_DONATION_REASON, reference: input.attemptId });
}
""",
    "src/app/(app)/credits/CreditsPage.client.tsx": f"""\
export function CreditsPage({{ receiver }}: {{ receiver: string }}) {{
  // Keep Cogni Alive: donations go to the system tenant (not {DAO} directly)
  return (
    <>
      <UsdcPaymentFlow receiver={{receiver}} purpose="self" />
      <UsdcPaymentFlow receiver="{DAO}" purpose="system" />
      <HintText>100% goes to the system account; reason system_donation</HintText>
    </>
  );
}}
""",
    "src/features/ai/services/refund.ts": """\
// A "refund" that re-mints as a purchase: credits_purchase outside the rails.
export const refund = (svc: AccountService, id: string) =>
  svc.creditAccount({ reason: `credits_purchase`, reference: id });
""",
    "src/features/ai/services/tool.ts": """\
const url = "https://openrouter.ai/api/v1"; // not a comment: // inside a string
export const key = () => process.env["OPENROUTER_API_KEY"];
""",
    "docs/spec/dao-enforcement.md": "Reasons: `credits_purchase`, `platform_revenue_share`, `system_donation`.\n",
    "tests/unit/creditsConfirm.spec.ts": f'expect(row.reason).toBe("credits_purchase"); const to = "{DAO}";\n',
}


@pytest.fixture
def pull_request(repo):
    repo.commit("template", **BASE)
    repo.git("checkout", "-q", "-b", "feat/keep-cogni-alive")
    repo.commit("task.0090", **PR)
    return repo


def test_task_0090_is_judged_right(pull_request) -> None:
    report = Workspace.open(str(pull_request.root), None).check("main")
    assert found(report) == [
        ("wallet-address-literals", "src/app/(app)/credits/CreditsPage.client.tsx", 6, DAO),
        ("widget-payment-reason", "src/app/(app)/credits/CreditsPage.client.tsx", 7, "system_donation"),
        ("widget-payment-reason", "src/features/ai/services/refund.ts", 3, "credits_purchase"),
        ("provider-api-key-usage", "src/features/ai/services/tool.ts", 2, "OPENROUTER_API_KEY"),
    ]
    statuses = {g.id: (g.status, g.neutral_reason) for g in report.gates}
    assert statuses == {
        "review_limits": ("pass", None),
        "repo-goal-alignment": ("neutral", "no_endpoint"),  # no model endpoint in this test's environment
        "widget-payment-reason": ("fail", None),
        "wallet-address-literals": ("fail", None),
        "provider-api-key-usage": ("fail", None),
    }
    assert report.exit_code() == 1


def test_the_same_pull_request_without_the_sneaky_files_passes(pull_request) -> None:
    pull_request.git("rm", "-q", "src/features/ai/services/refund.ts", "src/features/ai/services/tool.ts")
    pull_request.write("src/app/(app)/credits/CreditsPage.client.tsx", BASE["src/app/(app)/credits/CreditsPage.client.tsx"])
    pull_request.commit("drop the sneaky parts")
    report = Workspace.open(str(pull_request.root), None).check("main")
    assert (found(report), report.status, report.exit_code()) == ([], "neutral", 0)  # neutral: ai-rule has no endpoint here
