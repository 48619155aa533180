"""The commented starter spec `cogni-review init` writes."""

TEMPLATE = """\
# .cogni/repo-spec.yaml: the rules this repository is governed by.
# cogni-review enforces them on pull requests (GitHub Action), before each commit
# (pre-commit hook) and on demand (`cogni-review audit`). In a pull request the policy is
# always read from the base branch, so a change cannot weaken its own gate.
schema_version: "0.2.1"

intent:
  name: my-project
  goals:
    - Keep the DAO's payments loop on its approved rails
  non_goals:
    - Anything not written here

# The DAO that governs this repository.
cogni_dao:
  chain_id: "8453"

# Where payments come in. Declaring payments_in turns on `wallet-address-literals` and
# `widget-payment-reason` with their defaults, even if `gates:` does not list them.
payments_in:
  widget:
    provider: depay
    receiving_address: "0x0000000000000000000000000000000000000000"  # the DAO's receiver, governed here, not in code
    allowed_chains: [base]
    allowed_tokens: [USDC]

# Provider API keys: declaring api_key_env / master_key_env turns on `provider-api-key-usage`,
# which lets each key be read only in the env module and in its own adapter.
providers:
  openrouter:
    api_host: https://openrouter.ai/api/v1
    api_key_env: OPENROUTER_API_KEY

llm_proxy:
  host_env: LITELLM_PROXY_URL
  master_key_env: LITELLM_MASTER_KEY

secrets:
  manager:
    type: env

# Turn neutral results caused by errors (a gate that crashed or timed out) into failures.
fail_on_error: true

# Listing a gate configures it; `enabled: false` switches off one the sections above turn on.
# `cogni-review explain GATE` prints every option with its default.
gates:
  - type: review-limits
    id: review_limits
    with:
      max_changed_files: 40
      max_total_diff_kb: 1500

  - type: wallet-address-literals
    with:
      paths: ["src/**"]
      # allow: ["0x..."]   # addresses allowed anyway

  - type: widget-payment-reason
    with:
      reasons:
        credits_purchase:
          - "src/app/api/v1/payments/credits/**/route.ts"
          - "src/features/payments/**"
          - "src/shared/constants/**/payments.ts"
        platform_revenue_share: ["src/features/payments/**", "src/shared/constants/**"]
        system_donation: ["src/features/payments/**", "src/shared/constants/**"]

  - type: provider-api-key-usage
    # with:
    #   env_modules: ["src/shared/env/**"]
    #   keys: {OPENROUTER_API_KEY: ["src/adapters/**/openrouter/**"]}
"""
