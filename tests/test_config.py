"""Spec loading: every real-world shape loads; every mistake names file, line and key path."""

from __future__ import annotations

from pathlib import Path

import pytest

from cogni_review import catalog, config
from cogni_review.errors import ConfigError

SPECS = Path(__file__).parent / "fixtures" / "specs"


def resolve(text: str, source: str = "spec.yaml") -> list[catalog.ResolvedGate]:
    return catalog.resolve(config.parse(text, source), catalog.builtins())


def error_of(text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        resolve(text)
    return str(caught.value)


@pytest.mark.parametrize("path", sorted(SPECS.glob("*.yaml")), ids=lambda p: p.stem)
def test_real_world_shapes_load(path: Path) -> None:
    loaded = config.load(path)
    assert loaded.document.source == str(path)
    resolve(path.read_text(encoding="utf-8"), str(path))


def test_gate_ids_from_type_id_or_legacy_id_only() -> None:
    gates = config.load(SPECS / "classic_template.yaml").spec.gates
    assert [(g.gate_id, g.type) for g in gates] == [
        ("governance_policy", "governance-policy"),
        ("review_limits", "review-limits"),
        ("agents_md_sync", "agents-md-sync"),
        ("goal_declaration", "goal-declaration"),
        ("forbidden_scopes", "forbidden-scopes"),
        ("no-copy-paste", "ai-rule"),  # an ai-rule is named after its rule file, as the predecessor named it
        ("rule-file-that-does-not-exist", "ai-rule"),
    ]
    legacy = config.load(SPECS / "legacy_id_only_gates.yaml").spec.gates
    assert [(g.gate_id, g.type) for g in legacy] == [
        ("review_limits", "review-limits"),
        ("forbidden_scopes", "forbidden-scopes"),
        ("goal_declaration", "goal-declaration"),
    ]


def test_legacy_gate_map_becomes_a_list() -> None:
    gates = resolve((SPECS / "legacy_gate_map.yaml").read_text())
    assert [(g.id, g.type, g.options.max_changed_files) for g in gates] == [("review_limits", "review-limits", 100)]


def test_anchors_merge_keys_and_unquoted_hex_address() -> None:
    loaded = config.load(SPECS / "anchors_and_merge.yaml")
    address = loaded.spec.payments_in["credits_topup"]["receiving_address"]
    assert address == "0x0000000000000000000000000000000000005911"
    gates = {g.id: g for g in resolve((SPECS / "anchors_and_merge.yaml").read_text())}
    assert gates["review_limits"].options.max_changed_files == 25
    assert gates["review_limits"].options.max_total_diff_kb == 300
    assert gates["widget-payment-reason"].options.reasons == {
        "credits_purchase": ("src/features/payments/**", "src/shared/constants/**"),
        "system_donation": ("src/features/payments/**", "src/shared/constants/**"),
    }


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("", id="empty-file"),
        pytest.param("# only a comment\n", id="only-comments"),
        pytest.param("gates: null\n", id="gates-null"),
        pytest.param("gates: []\nsomething_else_entirely: {a: 1}\n", id="unknown-top-level-keys"),
    ],
)
def test_empty_and_tolerant_specs(text: str) -> None:
    assert resolve(text) == []


def test_misspelt_option_names_file_line_and_key_path() -> None:
    text = """\
schema_version: "0.2.1"
gates:
  - type: review-limits
  - type: goal-declaration
  - type: wallet-address-literals
    with:
      paths: ["src/**"]
      exlude: ["tests/**"]
"""
    assert error_of(text) == (
        "spec.yaml:8: gates[2].with.exlude: unknown key "
        "(check the spelling; `cogni-review explain GATE` lists the options)"
    )


def test_wrong_option_type_names_the_key() -> None:
    text = "gates:\n  - type: review-limits\n    with:\n      max_changed_files: lots\n"
    message = error_of(text)
    assert message.startswith("spec.yaml:4: gates[0].with.max_changed_files: Input should be a valid integer")


def test_invalid_allow_address() -> None:
    text = "gates:\n  - type: wallet-address-literals\n    with:\n      allow: ['0x12']\n"
    assert error_of(text).startswith("spec.yaml:4: gates[0].with.allow: Value error, not an address")


def test_duplicate_explicit_gate_id() -> None:
    text = "gates:\n  - type: review-limits\n    id: limits\n  - type: goal-declaration\n    id: limits\n"
    assert error_of(text) == (
        "spec.yaml:4: gates[1]: duplicate gate id 'limits' (also at gates[0]); give one of them an explicit `id:`"
    )


def test_options_of_unimplemented_gates_are_not_judged() -> None:
    gates = resolve("gates:\n  - type: license-headers\n    with: {year: x, anything: [1, 2]}\n")
    assert [(g.id, g.plugin, g.options) for g in gates] == [("license-headers", None, None)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("gates:\n  - type: x\n   bad: 1\n", "spec.yaml:3:4: invalid YAML: while parsing a block collection",
                     id="bad-indent"),
        pytest.param("a: [1\n", "spec.yaml:2:1: invalid YAML", id="unclosed-flow"),
        # YAML notices the stray `D` (line 3) where the key it began fails to end, on line 4
        pytest.param("gates:\n  - type: review-limits\nD    \n",
                     "spec.yaml:4:1: invalid YAML: while scanning a simple key, could not find expected ':'", id="stray-line"),
        pytest.param("a: 1\n---\nb: 2\n", "spec.yaml:2:1: invalid YAML: expected a single document", id="two-documents"),
        pytest.param("fail_on_error: 1\nfail_on_error: 0\n", "spec.yaml:2: fail_on_error: duplicate key", id="duplicate-key"),
        pytest.param("- a\n- b\n", "spec.yaml:1: the spec must be a mapping", id="top-level-list"),
        pytest.param("gates:\n  - with: {a: 1}\n", "spec.yaml:2: gates[0].type: required key is missing", id="gate-without-type"),
        pytest.param("fail_on_error: maybe\n", "spec.yaml:1: fail_on_error: Input should be a valid boolean", id="bad-bool"),
        pytest.param("providers:\n  openrouter:\n    api_key_env: [A, B]\n", "spec.yaml:3: providers.openrouter.api_key_env", id="bad-provider"),
        pytest.param("intent: !custom thing\n", "spec.yaml:1: intent: unknown tag '!custom'", id="unknown-tag"),
        pytest.param("gates:\n  - type: wallet-address-literals\n    with: {paths: ['[z-a]']}\n",
                     "spec.yaml:3: gates[0].with.paths: Value error, bad glob '[z-a]'", id="bad-glob"),
        pytest.param("gates:\n  - type: provider-api-key-usage\n    with: {keys: {'': []}}\n",
                     "spec.yaml:3: gates[0].with.keys: Value error, a governed token may not be empty", id="blank-key"),
        pytest.param("gates:\n  - type: widget-payment-reason\n    with: {reasons: {credits_purchase: ['src/[z-a]']}}\n",
                     "spec.yaml:3: gates[0].with.reasons: Value error, bad glob 'src/[z-a]'", id="bad-rail-glob"),
    ],
)
def test_yaml_and_shape_errors_name_the_line(text: str, expected: str) -> None:
    assert error_of(text).startswith(expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("a: 1\nb: x\x00y\n", "spec.yaml:2: invalid YAML: character U+0000 is not allowed", id="nul"),
        pytest.param("a: 1\n\nb: x\x1by\n", "spec.yaml:3: invalid YAML: character U+001B is not allowed", id="control"),
        pytest.param("a: !!int abc\n", "spec.yaml:1: a: 'abc' is not a valid int", id="int-tag"),
        pytest.param("a: !!float abc\n", "spec.yaml:1: a: 'abc' is not a valid float", id="float-tag"),
        pytest.param("a: !!bool maybe\n", "spec.yaml:1: a: 'maybe' is not a valid bool", id="bool-tag"),
        pytest.param("a:\n  b: !!timestamp junk\n", "spec.yaml:2: a.b: 'junk' is not a valid timestamp", id="timestamp-tag"),
        pytest.param("a: 2001-02-30\n", "spec.yaml:1: a: '2001-02-30' is not a valid timestamp", id="no-such-day"),
        pytest.param("a: " + "1" * 5000 + "\n", "spec.yaml:1: a: '" + "1" * 40 + "…' is not a valid int", id="huge-int"),
        pytest.param("gates:\n  - type: review-limits\n    with: {max_changed_files: !!int x}\n",
                     "spec.yaml:3: gates[0].with.max_changed_files: 'x' is not a valid int", id="in-gate-options"),
        pytest.param("a: &a [*a]\n", "spec.yaml:1: a[0]: an alias inside its own anchor makes the data infinite",
                     id="recursive-alias"),
        pytest.param("a:\n  b: &x {c: *x}\n", "spec.yaml:2: a.b.c: an alias inside its own anchor", id="recursive-mapping"),
        pytest.param("a: " + "[" * 5000 + "]" * 5000 + "\n", "spec.yaml:1: collections nested more than 64 deep",
                     id="deep-flow"),
        pytest.param("".join("  " * i + f"k{i}:\n" for i in range(5000)) + "  " * 5000 + "v: 1\n",
                     "spec.yaml:65: collections nested more than 64 deep", id="deep-block"),
        pytest.param("a: &a [[[[[[[[1]]]]]]]]\n" + "".join(f"b{i}: &b{i} [*{'a' if i == 0 else f'b{i - 1}'}]\n"
                                                           for i in range(60)),
                     "spec.yaml:1: b55[0][0]…: collections nested more than 64 deep (through aliases)",
                     id="deep-through-aliases"),
    ],
)
def test_what_yaml_cannot_turn_into_data_is_exit_2_naming_the_line(tmp_path, run_cli, text, expected) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text(text, encoding="utf-8")
    code, _, err = run_cli("validate-spec", str(path))
    assert (code, err.startswith(f"cogni-review: {path}"[: -len("spec.yaml")] + expected)) == (2, True), err


def test_alias_bomb_is_refused_quickly() -> None:
    lines = ['a: &a ["x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    previous = "a"
    for name in "bcdefghij":
        lines.append(f"{name}: &{name} [{', '.join(['*' + previous] * 9)}]")
        previous = name
    message = error_of("\n".join(lines) + "\n")
    assert "expands to more than 200000 nodes" in message


def test_huge_honest_spec_loads() -> None:
    reasons = "\n".join(f"        reason_{i}: ['src/r{i}/**']" for i in range(3000))
    text = f"gates:\n  - type: widget-payment-reason\n    with:\n      reasons:\n{reasons}\n"
    (gate,) = resolve(text)
    assert len(gate.options.reasons) == 3000


def test_missing_spec_says_how_to_start(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        config.load(tmp_path / ".cogni" / "repo-spec.yaml")
    assert "Run `cogni-review init`" in str(caught.value)


def test_zero_config_activation_and_opt_out() -> None:
    spec = """\
payments_in:
  widget: {receiving_address: "0x0000000000000000000000000000000000000000"}
providers:
  openrouter: {api_key_env: OPENROUTER_API_KEY}
llm_proxy: {master_key_env: LITELLM_MASTER_KEY}
"""
    gates = {g.type: g for g in resolve(spec)}
    assert sorted(gates) == ["provider-api-key-usage", "wallet-address-literals", "widget-payment-reason"]
    assert all(g.implicit for g in gates.values())
    assert gates["provider-api-key-usage"].options.keys == {
        "OPENROUTER_API_KEY": ("**/adapters/**/*openrouter*/**", "**/adapters/**/*openrouter*"),
        "LITELLM_MASTER_KEY": ("**/adapters/**/*litellm*/**", "**/adapters/**/*litellm*",
                               "**/adapters/**/*llm-proxy*/**", "**/adapters/**/*llm-proxy*",
                               "**/adapters/**/*llm_proxy*/**", "**/adapters/**/*llm_proxy*"),
    }
    opted_out = spec + "gates:\n  - type: wallet-address-literals\n    enabled: false\n"
    assert sorted(g.type for g in resolve(opted_out)) == ["provider-api-key-usage", "widget-payment-reason"]


def test_listing_a_gate_configures_it() -> None:
    spec = """\
payments_in: {widget: {provider: depay}}
gates:
  - type: widget-payment-reason
    with:
      reasons:
        credits_purchase: ["src/features/payments/**"]
        platform_revenue_share: ["src/features/payments/**"]
        system_donation: ["src/features/payments/**"]
"""
    gates = [g for g in resolve(spec) if g.type == "widget-payment-reason"]
    assert len(gates) == 1 and not gates[0].implicit
    assert sorted(gates[0].options.reasons) == ["credits_purchase", "platform_revenue_share", "system_donation"]


def test_declared_on_chain_addresses_turn_on_the_address_gate() -> None:
    """A minted node declares its DAO's contracts and a distributor, but no payment rail: the
    spec is where addresses belong, so the address gate is on; the reason and key gates are not."""
    gates = resolve((SPECS / "minted_node_no_gates.yaml").read_text(encoding="utf-8"))
    assert [(g.type, g.implicit) for g in gates] == [("wallet-address-literals", True)]


@pytest.mark.parametrize(
    "spec",
    [
        pytest.param('payments_out:\n  steward_wallet: {address: "0x000000000000000000000000000000000000A11c"}\n', id="payments-out"),
        pytest.param('operator_wallet: {address: "0x000000000000000000000000000000000000A11c"}\n', id="operator-wallet"),
        pytest.param('governance: {dao_contract: "0x000000000000000000000000000000000000dEaD", chain_id: "8453"}\n', id="governance"),
        pytest.param("cogni_dao: {dao_contract: 0x000000000000000000000000000000000000dEaD}\n", id="cogni-dao-unquoted"),
        pytest.param('activity_ledger: {approvers: ["0x070075F1389Ae1182aBac722B36CA12285d0c949"]}\n', id="approvers"),
    ],
)
def test_each_kind_of_declared_address_turns_on_the_address_gate(spec: str) -> None:
    assert [g.type for g in resolve(spec)] == ["wallet-address-literals"]


def test_nothing_declared_nothing_activated() -> None:
    assert resolve('intent: {name: x}\ncogni_dao: {chain_id: "8453"}\n') == []


def test_starter_spec_is_valid() -> None:
    from cogni_review.starter import TEMPLATE

    types = [g.type for g in resolve(TEMPLATE)]
    assert types == ["review-limits", "wallet-address-literals", "widget-payment-reason", "provider-api-key-usage"]
