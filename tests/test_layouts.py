"""Right out of the box on the DAO's layouts: each repository built here is shaped like one of the
DAO's public repositories (a monorepo with nested node specs, a root app with packages, a single
app with deployment config), run with a spec shaped like its own and no options. Every gate
judges the right files, flags app and library code, and leaves env modules, adapters, rails,
deployment config, comments and tests alone."""

from __future__ import annotations

import pytest
from conftest import found

from cogni_review.workspace import Workspace

TREASURY = "0xF61c3fafD4D34b4568e7a500d92b28Ac175e83C6"
USDC = "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913"
OPERATOR = "0xdCCa8D85603C2CC47dc6974a790dF846f8695056"

MONOREPO_SPEC = f"""\
schema_version: "0.1.4"
node_id: "4ff8eac1-4eba-4ed0-931b-b1fe4f64713d"
intent:
  name: platform
nodes:
  - node_id: "4ff8eac1-4eba-4ed0-931b-b1fe4f64713d"
    node_name: "Operator"
    path: "nodes/operator"
  - node_id: "5ed2d64f-2745-4676-983b-2fb7e05b2eba"
    node_name: "Weather"
    path: "nodes/weather"
fail_on_error: true
operator_wallet:
  address: "{OPERATOR}"
cogni_dao:
  dao_contract: "{TREASURY}"
  chain_id: "8453"
payments_in:
  credits_topup:
    provider: usdc-backend
    receiving_address: "0xDe4dE5e40f7215E4606c3e422D28cf01f97C8c66"
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
    with: {{max_changed_files: 200, max_total_diff_kb: 1500}}
  - type: ai-rule
    with: {{rule_file: pr-syntropy-coherence.yaml}}
"""
OPERATOR_SPEC = f"""\
schema_version: "0.1.4"
node_id: "4ff8eac1-4eba-4ed0-931b-b1fe4f64713d"
intent:
  name: operator
operator_wallet:
  address: "{OPERATOR}"
cogni_dao:
  dao_contract: "{TREASURY}"
  chain_id: "8453"
payments_in:
  credits_topup:
    provider: usdc-backend
    receiving_address: "0x4C4e559B2117AbA5f8BaE8a37d4B26BBAdc4C294"
"""
APP = "nodes/operator/app/src"
MONOREPO = {
    ".cogni/repo-spec.yaml": MONOREPO_SPEC,
    "nodes/operator/.cogni/repo-spec.yaml": OPERATOR_SPEC,
    "nodes/operator/.cogni/rules/pr-syntropy-coherence.yaml": "id: strict-pr-mapping\n",
    # the env module and the LiteLLM adapter: the places the rule allows
    f"{APP}/shared/env/server-env.ts": "export const server = z.object({\n  LITELLM_MASTER_KEY: z.string().min(1),\n"
                                         "  OPENROUTER_API_KEY: optionalString,\n});\n",
    f"{APP}/adapters/server/ai/litellm.adapter.ts": "const key = serverEnv().LITELLM_MASTER_KEY;\n",
    f"{APP}/adapters/server/ai/litellm.usage.adapter.ts": "private get masterKey() { return env.LITELLM_MASTER_KEY; }\n",
    # a key read in app code outside them: a finding
    f"{APP}/shared/ai/model-catalog.server.ts": "headers: { Authorization: `Bearer ${env.LITELLM_MASTER_KEY}` },\n",
    # the payment rails: the feature, shared constants in a package, the DB schema, migrations
    f"{APP}/features/payments/services/creditsConfirm.ts": "await credit({ reason: \"widget_payment\" });\n",
    "packages/node-shared/src/constants/payments.ts": 'export const WIDGET_PAYMENT_REASON = "widget_payment";\n',
    "packages/node-shared/src/constants/system-tenant.ts":
        'export const PLATFORM_REVENUE_SHARE_REASON = "platform_revenue_share";\n',
    "packages/db-schema/src/billing.ts": "uniqueIndex().on(t.reference).where(sql`reason = 'widget_payment'`),\n",
    f"{APP}/adapters/server/db/migrations/0007_ledger.sql":
        "CREATE UNIQUE INDEX x ON credit_ledger (reference) WHERE reason = 'platform_revenue_share';\n",
    # a reason spelled off the rails: a finding
    f"{APP}/features/ai/services/refund.ts": "await credit({ reason: \"widget_payment\" }); // refunds\n",
    # addresses in app and library code: findings; in comments, tests and scripts: not
    f"{APP}/shared/web3/chain.ts": f'export const USDC = "{USDC}";\n// the old treasury was {TREASURY}\n',
    "packages/attribution-pipeline-plugins/src/guard.ts": f'const PROD_DAO = "{TREASURY}".toLowerCase();\n',
    "services/scheduler-worker/src/worker.ts": "export const ok = 1;\n",
    f"{APP}/features/payments/services/creditsConfirm.test.ts": f'const to = "{USDC}";\n',
    "nodes/operator/app/tests/unit/chain.test.ts": f'const to = "{USDC}";\n',
    "tests/ci-invariants/keys.spec.ts": "expect(env.OPENROUTER_API_KEY).toBeDefined();\n",
    f"{APP}/adapters/test/fake-llm.ts": "const key = process.env.LITELLM_MASTER_KEY;\n",
    "scripts/governance/heartbeat.sh": f'DAO_WALLET="{TREASURY}"\nexport LITELLM_MASTER_KEY\n',
    # deployment config supplies keys; it does not read them
    "infra/compose/runtime/configs/litellm.config.yaml": 'general_settings:\n  master_key: "os.environ/LITELLM_MASTER_KEY"\n',
    "infra/compose/runtime/docker-compose.yml": "environment:\n  - OPENROUTER_API_KEY=${OPENROUTER_API_KEY}\n",
    "nodes/operator/k8s/external-secrets/production/external-secret.yaml": "- secretKey: LITELLM_MASTER_KEY\n",
    ".env.local.example": "LITELLM_MASTER_KEY=sk-local\nOPENROUTER_API_KEY=your-openrouter-api-key-here\n",
    ".github/workflows/ci.yaml": "env:\n  LITELLM_MASTER_KEY: test-key\n",
    "nodes/operator/app/Dockerfile": "ARG LITELLM_MASTER_KEY\n",
    # a contract: comments are comments in Solidity too
    "contracts/src/Treasury.sol": f"// owner {TREASURY}\ncontract T {{ address constant USDC = {USDC}; }}\n",
    "docs/spec/payments.md": f"The treasury is {TREASURY} and the reason is widget_payment.\n",
}
MONOREPO_FINDINGS = [
    ("wallet-address-literals", "contracts/src/Treasury.sol", 2, USDC),
    ("widget-payment-reason", f"{APP}/features/ai/services/refund.ts", 1, "widget_payment"),
    ("provider-api-key-usage", f"{APP}/shared/ai/model-catalog.server.ts", 1, "LITELLM_MASTER_KEY"),
    ("wallet-address-literals", f"{APP}/shared/web3/chain.ts", 1, USDC),
    ("wallet-address-literals", "packages/attribution-pipeline-plugins/src/guard.ts", 1, TREASURY),
]


def audit(repo):
    return Workspace.open(str(repo.root), None).audit()


def by_gate(report) -> dict[str, object]:
    return {g.id: g for g in report.gates}


def test_a_monorepo_with_its_own_specs_is_judged_right(repo) -> None:
    repo.commit("monorepo", **MONOREPO)
    report = audit(repo)
    assert found(report) == MONOREPO_FINDINGS
    gates = by_gate(report)
    # the operator's own spec judges its subtree (the nearest spec wins); the root judges the rest
    assert {v.path: g.id for g in report.gates for v in g.violations} == {
        "contracts/src/Treasury.sol": "wallet-address-literals",
        f"{APP}/shared/ai/model-catalog.server.ts": "provider-api-key-usage",
        f"{APP}/features/ai/services/refund.ts": "widget-payment-reason@nodes/operator",
        f"{APP}/shared/web3/chain.ts": "wallet-address-literals@nodes/operator",
        "packages/attribution-pipeline-plugins/src/guard.ts": "wallet-address-literals",
    }
    assert gates["wallet-address-literals@nodes/operator"].spec == "nodes/operator/.cogni/repo-spec.yaml"
    # every DAO gate judged files; none passed having judged nothing
    assert all(g.stats["files_selected"] > 0 for g in report.gates if "files_selected" in g.stats)
    assert [(n.kind, n.message) for n in report.notes if n.kind == "spec_source"] == [
        ("spec_source", "nodes[1].path nodes/weather has no .cogni/repo-spec.yaml; the root spec governs it")]


def test_a_nested_spec_added_by_a_pull_request_does_not_apply_to_it(repo) -> None:
    repo.commit("monorepo", **MONOREPO)
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit("weather node", **{
        "nodes/weather/.cogni/repo-spec.yaml": "gates:\n  - type: wallet-address-literals\n    enabled: false\n",
        "nodes/weather/app/src/pay.ts": f'export const to = "{USDC}";\n',
    })
    report = Workspace.open(str(repo.root), None).check("main")
    assert found(report) == [
        ("governance-change", "nodes/weather/.cogni/repo-spec.yaml", 1, "nodes/weather/.cogni/repo-spec.yaml"),
        ("wallet-address-literals", "nodes/weather/app/src/pay.ts", 1, USDC),
    ]
    # once it has landed, it governs its subtree: the nearest spec wins
    repo.git("checkout", "-q", "main")
    repo.git("merge", "-q", "--no-ff", "feature", "-m", "merge")
    assert [v.path for v in audit(repo).violations if v.path.startswith("nodes/weather")] == []


def test_an_edit_of_a_nested_spec_is_a_governance_change_and_read_from_the_base(repo) -> None:
    repo.commit("monorepo", **MONOREPO)
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit("weaken", **{
        "nodes/operator/.cogni/repo-spec.yaml": OPERATOR_SPEC + "gates:\n  - type: widget-payment-reason\n"
                                                "    with: {reasons: {}}\n",
        f"{APP}/features/ai/services/bonus.ts": 'mint({ reason: "widget_payment" });\n',
    })
    report = Workspace.open(str(repo.root), None).check("main")
    assert found(report) == [
        ("governance-change", "nodes/operator/.cogni/repo-spec.yaml", 1, "nodes/operator/.cogni/repo-spec.yaml"),
        ("widget-payment-reason", f"{APP}/features/ai/services/bonus.ts", 1, "widget_payment"),
    ]


NODE_TEMPLATE_SPEC = """\
schema_version: "0.1.4"
node_id: "538b4da2-0000-4000-a000-000000000000"
activity_ledger:
  epoch_length_days: 7
  approvers: ["0x070075F1389Ae1182aBac722B36CA12285d0c949"]
payments_out:
  steward_wallet:
    address: "0x070075F1389Ae1182aBac722B36CA12285d0c949"
governance:
  chain_id: "8453"
gates:
  - type: review-limits
    id: review_limits
    with: {max_changed_files: 50, max_total_diff_kb: 1500}
"""


def test_a_spec_that_declares_only_governance_and_payments_out_turns_on_the_address_gate(repo) -> None:
    repo.commit("template", **{
        ".cogni/repo-spec.yaml": NODE_TEMPLATE_SPEC,
        "src/shared/web3/node-formation/constants.ts": f'export const DAO_FACTORY = "{TREASURY}";\n',
        "src/app/page.tsx": "export default function Page() { return null; }\n",
        "packages/aragon-osx/src/addresses.ts": f'export const PSP = "{USDC}";\n',
        "services/sandbox-runtime/src/main.ts": "export {};\n",
        "platform/infra/services/runtime/docker-compose.dev.yml": f"DAO: {TREASURY}\n",
    })
    report = audit(repo)
    assert found(report) == [
        ("wallet-address-literals", "packages/aragon-osx/src/addresses.ts", 1, USDC),
        ("wallet-address-literals", "src/shared/web3/node-formation/constants.ts", 1, TREASURY),
    ]
    assert not [n for n in report.notes if n.kind == "activation"]


CLASSIC_SPEC = """\
schema_version: "0.1.4"
intent:
  name: classic-template
payments_in:
  widget:
    provider: depay
    receiving_address_env: NEXT_PUBLIC_DAO_WALLET_ADDRESS
    allowed_chains: [base]
providers:
  openrouter: {api_host: https://openrouter.ai/api/v1, api_key_env: OPENROUTER_API_KEY}
llm_proxy: {host_env: LITELLM_PROXY_URL, master_key_env: LITELLM_MASTER_KEY}
gates:
  - type: review-limits
    id: review_limits
    with: {max_changed_files: 30, max_total_diff_kb: 500}
"""


def test_a_single_app_with_packages_and_deployment_config(repo) -> None:
    repo.commit("classic", **{
        ".cogni/repo-spec.yaml": CLASSIC_SPEC,
        "src/shared/env/server.ts": "LITELLM_MASTER_KEY: z.string(),\nOPENROUTER_API_KEY: z.string(),\n",
        "src/adapters/server/ai/litellm.adapter.ts": "const k = serverEnv().LITELLM_MASTER_KEY;\n",
        "src/features/ai/chat.ts": "const k = process.env.OPENROUTER_API_KEY;\n",
        "src/shared/constants/payments.ts": 'export const WIDGET_PAYMENT_REASON = "widget_payment";\n',
        "packages/ai-core/src/chain.ts": f'export const USDC = "{USDC}"; # not a comment in TS\n',
        ".env.local.example": "OPENROUTER_API_KEY=your-key\n",
        ".github/workflows/ci.yaml": "env:\n  OPENROUTER_API_KEY: test-key\n",
        "platform/infra/services/runtime/docker-compose.dev.yml": "  - LITELLM_MASTER_KEY=${LITELLM_MASTER_KEY}\n",
        "platform/ci/scripts/stack-test.sh": "export OPENROUTER_API_KEY\n",
        "platform/bootstrap/install.sh": "echo $LITELLM_MASTER_KEY\n",
    })
    report = audit(repo)
    assert found(report) == [
        ("wallet-address-literals", "packages/ai-core/src/chain.ts", 1, USDC),
        ("provider-api-key-usage", "src/features/ai/chat.ts", 1, "OPENROUTER_API_KEY"),
    ]


def test_a_gate_that_selects_no_file_is_neutral_and_says_why(repo) -> None:
    repo.commit("no src", **{
        ".cogni/repo-spec.yaml": "payments_in:\n  widget: {provider: depay}\n",
        "app/page.tsx": f'const to = "{USDC}";\n',
        "lib/pay.ts": "export {};\n",
    })
    report = audit(repo)
    wallet = by_gate(report)["wallet-address-literals"]
    assert (wallet.status, wallet.neutral_reason) == ("neutral", "nothing_judged")
    assert wallet.message == ("its paths (**/src/**) select none of the 3 files in the repository; "
                              "no folder holds a src/: set the gate's `paths` to where the app code is")
    repo.commit("src", **{"packages/x/src/a.ts": "export {};\n"})
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit("docs only", **{"lib/pay.ts": "export const a = 1;\n"})
    check = Workspace.open(str(repo.root), None).check("main")
    assert by_gate(check)["wallet-address-literals"].status == "pass"  # it could judge; nothing of it changed


def test_a_spec_that_turns_on_no_dao_gate_says_why(repo) -> None:
    repo.commit("bare", **{".cogni/repo-spec.yaml": "intent: {name: x}\n", "src/a.ts": "export {};\n"})
    report = audit(repo)
    (note,) = [n for n in report.notes if n.kind == "activation"]
    assert note.message.startswith("no DAO gate is on: ")
    assert "payments_in" in note.message and "api_key_env" in note.message and "on-chain address" in note.message


@pytest.mark.parametrize(
    ("spec", "error"),
    [
        pytest.param("paymnets_in: {widget: {}}\n", "s.yaml:1: paymnets_in: unknown key; did you mean 'payments_in'?",
                     id="top-level-key"),
        pytest.param("gates:\n  - type: walet-address-literals\n",
                     "gates[0].type: unknown gate type 'walet-address-literals'; did you mean 'wallet-address-literals'?",
                     id="gate-type"),
        pytest.param("gates:\n  - type: review-limits\n    wiht: {max_changed_files: 3}\n",
                     "s.yaml:3: gates[0].wiht: unknown key (did you mean 'with'? a gate entry has type, id, with and enabled)",
                     id="gate-entry-key"),
    ],
)
def test_near_misses_are_config_errors_with_a_suggestion(repo, run_cli, spec: str, error: str) -> None:
    path = repo.write("s.yaml", spec)
    code, _, err = run_cli("validate-spec", str(path))
    assert code == 2 and error in err


def test_other_tools_gate_types_stay_neutral_and_legacy_settings_load(repo, run_cli) -> None:
    path = repo.write("s.yaml", "gates:\n  spec_mode: enforced\n  on_missing_spec: neutral_with_annotation\n"
                                "  deny_paths: ['**/*.exe']\n  review_limits: {max_changed_files: 5}\n"
                                "  commit_policy: {conventional_commits: true}\n")
    code, out, _ = run_cli("validate-spec", str(path))
    assert code == 0 and "review_limits (review-limits)" in out and "commit_policy (commit-policy, not implemented here)" in out


def test_a_nested_specs_change_gates_judge_the_part_of_the_change_under_it(repo) -> None:
    repo.commit("monorepo", **{**MONOREPO, "nodes/operator/.cogni/repo-spec.yaml": OPERATOR_SPEC +
                               "gates:\n  - type: review-limits\n    with: {max_changed_files: 1}\n"})
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit("three files", **{f"{APP}/a.ts": "export const a = 1;\n", f"{APP}/b.ts": "export const b = 1;\n",
                                  "packages/x/src/c.ts": "export const c = 1;\n"})
    report = Workspace.open(str(repo.root), None).check("main")
    gates = by_gate(report)
    assert (gates["review_limits"].status, gates["review_limits"].stats["changed_files"]) == ("pass", 3)
    node = gates["review-limits@nodes/operator"]
    assert (node.status, node.message, node.spec) == ("fail", "2 files changed; limit 1", "nodes/operator/.cogni/repo-spec.yaml")


def test_a_nested_spec_over_a_folder_with_no_code_passes_saying_so(repo) -> None:
    """A node that is only a spec (and deployment files) has nothing for its gates to judge."""
    repo.commit("monorepo", **{**MONOREPO, "nodes/hello/.cogni/repo-spec.yaml": OPERATOR_SPEC,
                               "nodes/hello/k8s/external-secret.yaml": "- secretKey: LITELLM_MASTER_KEY\n"})
    wallet = by_gate(audit(repo))["wallet-address-literals@nodes/hello"]
    assert (wallet.status, wallet.message) == ("pass", "nothing to judge: no source code under nodes/hello")


def test_the_llm_proxys_own_adapter_may_read_its_master_key(repo) -> None:
    repo.commit("monorepo", **{**MONOREPO,
                               f"{APP}/adapters/server/sandbox/llm-proxy-manager.ts": "LITELLM_MASTER_KEY: vars.key,\n"})
    assert [v.path for v in audit(repo).violations if v.token == "LITELLM_MASTER_KEY"] == [
        f"{APP}/shared/ai/model-catalog.server.ts"]


def test_app_code_inside_src_is_judged_whatever_its_folder_is_called(repo) -> None:
    """Deployment-config and fixture names do not hide app code inside a `src/`."""
    repo.commit("app", **{
        ".cogni/repo-spec.yaml": CLASSIC_SPEC,
        "src/infra/openrouter-client.ts": "export const key = process.env.OPENROUTER_API_KEY;\n",
        "src/scripts/sync.ts": "export const key = process.env.OPENROUTER_API_KEY;\n",
        "src/fixtures/treasury.ts": f'export const TREASURY = "{TREASURY}";\n',
        "scripts/deploy.sh": "export OPENROUTER_API_KEY\n",
        "src/__tests__/pay.test.ts": f'const to = "{TREASURY}";\n',
    })
    assert found(audit(repo)) == [
        ("wallet-address-literals", "src/fixtures/treasury.ts", 1, TREASURY),
        ("provider-api-key-usage", "src/infra/openrouter-client.ts", 1, "OPENROUTER_API_KEY"),
        ("provider-api-key-usage", "src/scripts/sync.ts", 1, "OPENROUTER_API_KEY"),
    ]


def test_a_cogni_folder_that_is_not_a_specs_is_judged(repo) -> None:
    repo.commit("app", **{
        ".cogni/repo-spec.yaml": CLASSIC_SPEC,
        "src/chains/.cogni/mainnet.json": f'{{"treasury": "{TREASURY}"}}\n',
        ".cogni/rules/rule.yaml": f"note: {TREASURY}\n",  # the policy's own folder: never judged
    })
    assert found(audit(repo)) == [("wallet-address-literals", "src/chains/.cogni/mainnet.json", 1, TREASURY)]


def test_a_nested_spec_in_a_folder_with_glob_characters_governs_exactly_it(repo) -> None:
    repo.commit("app", **{
        ".cogni/repo-spec.yaml": "payments_in: {widget: {provider: depay}}\n",
        "nodes/[x]/.cogni/repo-spec.yaml": OPERATOR_SPEC,
        "nodes/[x]/app/src/pay.ts": f'const to = "{TREASURY}";\n',
        "nodes/x/app/src/pay.ts": f'const to = "{USDC}";\n',
    })
    report = audit(repo)
    assert {(v.gate_id, v.path) for v in report.violations} == {
        ("wallet-address-literals@nodes/[x]", "nodes/[x]/app/src/pay.ts"),
        ("wallet-address-literals", "nodes/x/app/src/pay.ts"),
    }


def test_a_gate_the_root_lists_is_not_replaced_by_a_nodes_defaults(repo) -> None:
    """The root configures the address gate for every app (and `allow`s a protocol constant); a
    node that merely declares an address does not swap that for the defaults in its subtree."""
    root = ("payments_in: {widget: {provider: depay}}\ngates:\n  - type: wallet-address-literals\n"
            f"    with: {{paths: [\"**/app/**\"], allow: [\"{USDC}\"]}}\n")
    repo.commit("app", **{
        ".cogni/repo-spec.yaml": root,
        "nodes/op/.cogni/repo-spec.yaml": f'operator_wallet: {{address: "{OPERATOR}"}}\n',
        "nodes/op/app/lib/pay.ts": f'const to = "{TREASURY}";\n',  # outside src/, inside the root's paths
        "nodes/op/app/src/usdc.ts": f'const usdc = "{USDC}";\n',  # allowed by the root
    })
    report = audit(repo)
    assert found(report) == [("wallet-address-literals", "nodes/op/app/lib/pay.ts", 1, TREASURY)]
    assert "wallet-address-literals@nodes/op" not in {g.id for g in report.gates}


def test_a_nested_specs_governance_paths_and_setting_apply_to_its_subtree(repo) -> None:
    repo.commit("app", **{
        ".cogni/repo-spec.yaml": "intent: {name: root}\n",
        "nodes/op/.cogni/repo-spec.yaml": "governance_change: fail\ngovernance_paths: [app/src/policy.ts]\n",
        "nodes/op/app/src/policy.ts": "export const LIMIT = 1;\n",
    })
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit("loosen", **{"nodes/op/app/src/policy.ts": "export const LIMIT = 9;\n"})
    report = Workspace.open(str(repo.root), None).check("main")
    (governance,) = [g for g in report.gates if g.type == "governance-change"]
    assert (governance.status, [v.path for v in governance.violations]) == ("fail", ["nodes/op/app/src/policy.ts"])


def test_code_in_any_language_is_something_to_judge(repo) -> None:
    repo.commit("go", **{".cogni/repo-spec.yaml": "payments_in: {widget: {provider: depay}}\n",
                         "cmd/pay/main.go": f'const to = "{TREASURY}"\n'})
    wallet = by_gate(audit(repo))["wallet-address-literals"]
    assert (wallet.status, wallet.neutral_reason) == ("neutral", "nothing_judged")


def test_changed_code_no_gate_judges_is_said(repo) -> None:
    spec = "payments_in: {widget: {provider: depay}}\ngates:\n  - type: widget-payment-reason\n    enabled: false\n"
    repo.commit("app", **{".cogni/repo-spec.yaml": spec,
                          "src/a.ts": "export const a = 1;\n"})
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit("lib", **{"lib/pay.ts": f'const to = "{TREASURY}";\n', "README.md": "# x\n"})
    report = Workspace.open(str(repo.root), None).check("main")
    assert [(n.kind, n.path) for n in report.notes if n.kind == "not_selected"] == [("not_selected", "lib/pay.ts")]


def test_a_spec_under_a_test_path_is_ignored_and_said(repo) -> None:
    repo.commit("app", **{".cogni/repo-spec.yaml": "intent: {name: x}\n",
                          "tests/fixtures/app/.cogni/repo-spec.yaml": "payments_in: {widget: {}}\n"})
    notes = [(n.kind, n.path) for n in audit(repo).notes if n.kind == "spec_source"]
    assert notes == [("spec_source", "tests/fixtures/app/.cogni/repo-spec.yaml")]
