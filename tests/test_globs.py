"""Globs match exactly what they say, in time linear in the path, and a glob that cannot be matched
is refused when the spec is read."""

from __future__ import annotations

import re
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cogni_review import catalog, config, globs
from cogni_review.errors import ConfigError

PLUGINS = {t: f.plugin for t, f in catalog.builtins().items()}


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        pytest.param("**/*.spec.*", "src/app/a.spec.ts", True, id="file-name-pattern"),
        pytest.param("**/*.spec.*", "src/app/api/pay.spec.v1/route.ts", False, id="file-name-pattern-is-no-directory"),
        pytest.param("*.md", "a/b/c.md", True, id="no-slash-any-depth"),
        pytest.param("*.md", "notes.md/x.ts", False, id="no-slash-file-only"),
        pytest.param("src/shared/constants/**/payments.ts", "src/shared/constants/payments.ts", True, id="allowed-file"),
        pytest.param("src/shared/constants/**/payments.ts", "src/shared/constants/a/payments.ts", True, id="allowed-file-deeper"),
        pytest.param("src/shared/constants/**/payments.ts", "src/shared/constants/payments.ts/mint.ts", False,
                     id="allowed-file-never-a-directory"),
        pytest.param("docs", "docs/guide.ts", True, id="bare-name-is-a-folder-too"),
        pytest.param("docs", "docs", True, id="bare-name-is-a-file-too"),
        pytest.param(".cogni", "nodes/x/.cogni/rules/a.yaml", True, id="bare-dot-name-is-a-folder-too"),
        pytest.param("src/env.ts", "src/env.ts/evil.ts", False, id="bare-name-with-extension-is-a-file-only"),
        pytest.param("*.env", "x.env/evil.ts", False, id="wildcard-name-is-a-file-only"),
        pytest.param("do\\*cs", "do*cs/x.ts", True, id="escaped-wildcard-is-a-plain-name"),
        pytest.param("docs/", "docs/guide.ts", True, id="trailing-slash-is-a-directory"),
        pytest.param("src/*", "src/pay/t.ts", True, id="a-star-name-is-any-entry-folders-too"),
        pytest.param(".github/*", ".github/workflows/ci.yml", True, id="a-star-name-below-a-dot-folder"),
        pytest.param("src/*", "src/a.ts", True, id="a-star-name-is-a-file-too"),
        pytest.param("src/*", "srcx/a.ts", False, id="a-star-name-stays-in-its-folder"),
        pytest.param("src/*.ts", "src/pay.ts/evil.js", False, id="a-star-pattern-with-more-is-a-file-only"),
        pytest.param("docs/", "site/docs/guide.ts", True, id="directory-at-any-depth"),
        pytest.param("src/**", "src/a/b.ts", True, id="everything-below"),
        pytest.param("src/**", "src", False, id="not-the-directory-itself"),
        pytest.param("src/**", "srcx/a.ts", False, id="whole-segment"),
        pytest.param("**/tests/**", "tests/a.py", True, id="double-star-zero-directories"),
        pytest.param("a/**/b/**/c", "a/x/b/y/b/c", True, id="two-double-stars"),
        pytest.param("a/**/b/**/c", "a/c", False, id="two-double-stars-need-b"),
        pytest.param("*a*a*b", "aab", True, id="stars-commit-leftmost"),
        pytest.param("*a*a*b", "ab", False, id="stars-need-both"),
        pytest.param("x/*/y", "x/a/b/y", False, id="star-stays-in-a-segment"),
        pytest.param("a?c", "a/c", False, id="question-mark-stays-in-a-segment"),
        pytest.param("[!a-c]x", "/x", False, id="negated-class-never-a-slash"),
        pytest.param("[]]x", "]x", True, id="bracket-first-in-class"),
        pytest.param("\\*x", "*x", True, id="escaped-star"),
        pytest.param("{src,lib}/**/*.{js,ts}", "lib/a/b.ts", True, id="braces"),
        pytest.param("{a,{b,c}}/x", "c/x", True, id="nested-braces"),
        pytest.param("{a", "{a", True, id="unclosed-brace-is-literal"),
        pytest.param("src/**", "src/nl\nx.ts", True, id="newline-in-a-name"),
        pytest.param("src/**", "src/bad\udcff.ts", True, id="undecodable-name"),
    ],
)
def test_a_glob_matches_exactly_what_it_says(pattern, path, expected) -> None:
    assert globs.matches_any((pattern,), path) is expected


def test_a_later_negation_takes_back() -> None:
    assert [globs.matches_any(("src/**", "!src/gen/**"), p) for p in ("src/a.ts", "src/gen/a.ts")] == [True, False]


def test_a_provider_name_is_escaped_in_adapter_globs() -> None:
    adapter = PLUGINS["provider-api-key-usage"].options.model_validate(
        {}, context={"spec": config.parse("providers: {'[z-a]': {api_key_env: KEY}}", "spec").spec})
    assert adapter.keys == {"KEY": ("**/adapters/**/*\\[z-a\\]*/**", "**/adapters/**/*\\[z-a\\]*")}
    assert globs.matches_any(adapter.keys["KEY"], "src/adapters/[z-a]/client.ts")
    assert not globs.matches_any(adapter.keys["KEY"], "src/adapters/z/client.ts")


def default_globs():
    """Every glob a gate has by default, with the option it is in."""
    for plugin in PLUGINS.values():
        if any(field.is_required() for field in plugin.options.model_fields.values()):
            continue  # no defaults to check: the spec must say (an ai-rule's rule file)
        options = plugin.options.model_validate({}, context={"spec": config.parse(
            "providers: {openrouter: {api_key_env: OPENROUTER_API_KEY}}", "spec").spec})
        for name in plugin.options.model_fields:
            value = getattr(options, name)
            lists = value.values() if isinstance(value, dict) else [value]
            for patterns in lists:
                if isinstance(patterns, tuple) and all(isinstance(p, str) for p in patterns) and name not in ("names", "roots"):
                    for pattern in patterns:
                        yield pytest.param(pattern, id=f"{plugin.type}.{name}:{pattern}")


def written_out(pattern: str) -> str:
    """A path `pattern` names: the first of each `{a,b}` and `[ab]`, a name for each wildcard."""
    path = re.sub(r"\{([^,{}]*)(,[^{}]*)?\}", lambda m: m.group(1), pattern.lstrip("/"))
    path = re.sub(r"\[!?\]?[^\]]*\]", lambda m: m.group(0).lstrip("[!")[:1] or "a", path)
    return path.replace("**/", "x/").replace("/**", "/x").replace("**", "x").replace("*", "a").replace("?", "q")


@pytest.mark.parametrize("pattern", list(default_globs()))
def test_no_default_file_glob_stretches_to_a_directory(pattern) -> None:
    """What a default allows or excludes is what its docs say: a file pattern is never a folder,
    and a folder pattern takes in what is below it. Each pattern is tried on a path it names."""
    pattern = pattern.removeprefix("!")  # what a negation takes back is what the pattern names
    path = written_out(pattern.rstrip("/"))
    assert globs.matches_any((pattern,), path + ("/below.ts" if pattern.endswith("/") else "")), path
    if pattern == "**" or pattern.endswith(("/**", "/")):
        assert globs.matches_any((pattern,), path.removesuffix("/x") + "/x/below.ts"), path
    else:
        assert not globs.matches_any((pattern,), path + "/evil.ts"), path


def test_the_key_gate_allows_only_the_adapter_globs_its_docs_name() -> None:
    plugin = PLUGINS["provider-api-key-usage"]
    options = plugin.options.model_validate({}, context={"spec": config.parse(
        "providers: {openrouter: {api_key_env: OPENROUTER_API_KEY}}", "spec").spec})
    allowed = options.governed()["OPENROUTER_API_KEY"]
    assert [globs.matches_any(allowed, p) for p in (
        "src/adapters/openrouter/client.ts", "src/adapters/ai/openrouter.adapter.ts",
        "nodes/x/app/src/adapters/server/ai/openrouter.ts", "src/shared/env/server.ts",
        "src/features/openrouter.ts", "src/adapters/ai/other.ts", "src/openrouter/adapters.ts",
        "src/shared/env/server.ts.d/evil.ts")] == [True, True, True, True, False, False, False, True]


@pytest.mark.parametrize(
    ("pattern", "path"),
    [
        pytest.param("**/*a*a*a*a*a*a*a*a*a*a*a*b*", "a" * 36, id="stars-in-a-segment"),
        pytest.param("**/" * 8 + "x", "a/" * 5000, id="double-stars"),
        pytest.param("**/*a*/**/*b*/**/c", ("a/" * 2000) + "b", id="mixed"),
    ],
)
def test_matching_is_linear_whatever_the_pattern(pattern, path) -> None:
    """These took seconds to hours with a backtracking translation; each is a few milliseconds."""
    started = time.perf_counter()
    assert globs.matches_any((pattern,), path) is False
    assert time.perf_counter() - started < 1.0


@pytest.mark.parametrize(
    ("pattern", "problem"),
    [
        pytest.param("{" * 3000 + "a" + "}" * 3000, "6001 characters long; the limit is 1000", id="3000-nested-braces"),
        pytest.param("{" * 20 + "a" + "}" * 20, "braces nested 20 deep; the limit is 8", id="deep-braces"),
        pytest.param("{a,b}" * 10, "braces expand to more than 64 alternatives", id="many-alternatives"),
        pytest.param("[z-a]", "bad character range z-a", id="bad-range"),
        pytest.param("src/**.ts", "`**` matches directories only as a whole path segment", id="double-star-in-a-name"),
        pytest.param("", "an empty glob matches nothing", id="empty"),
        pytest.param("a" * 1001, "1001 characters long; the limit is 1000", id="too-long"),
    ],
)
def test_a_glob_that_cannot_be_matched_is_refused(pattern, problem) -> None:
    with pytest.raises(ValueError) as e:
        globs.validate([pattern])
    assert problem in str(e.value)


@pytest.mark.parametrize(
    ("spec", "where"),
    [
        pytest.param("governance_paths: ['[z-a]']\n", "spec.yaml:1: governance_paths:", id="governance-paths"),
        pytest.param("gates:\n  - type: sql-confinement\n    with:\n      statements:\n        - pattern: UPDATE x\n"
                     "          allowed: ['{{{{{{{{{{a}}}}}}}}}}']\n", "spec.yaml:6: gates[0].with.statements[0].allowed:",
                     id="sql-allowed"),
        pytest.param("gates:\n  - type: call-confinement\n    with:\n      calls:\n        mint: ['src/**.py']\n",
                     "spec.yaml:4: gates[0].with.calls:", id="call-confinement-calls"),
        pytest.param("gates:\n  - type: literal-allowlist\n    with:\n      literals:\n        admin: ['']\n",
                     "spec.yaml:4: gates[0].with.literals:", id="literal-allowlist"),
        pytest.param("gates:\n  - type: provider-api-key-usage\n    with:\n      env_modules: ['[z-a]']\n",
                     "spec.yaml:4: gates[0].with.env_modules:", id="env-modules"),
        pytest.param("providers: {openrouter: {api_key_env: ' '}}\n", "spec.yaml:1: providers.openrouter.api_key_env:",
                     id="blank-provider-key"),
        pytest.param("llm_proxy: {master_key_env: ''}\n", "spec.yaml:1: llm_proxy.master_key_env:", id="blank-proxy-key"),
        pytest.param("gates:\n  - type: literal-allowlist\n    with:\n      literals:\n        ' admin': []\n",
                     "spec.yaml:4: gates[0].with.literals:", id="token-with-white-space"),
    ],
)
def test_every_glob_and_derived_option_is_checked_when_the_spec_is(tmp_path, run_cli, spec, where) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text(spec, encoding="utf-8")
    code, _, err = run_cli("validate-spec", str(path))
    assert (code, err.startswith(f"cogni-review: {path.parent}/{where}")) == (2, True), err


def test_a_provider_named_like_a_glob_is_a_valid_spec(tmp_path, run_cli) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text("providers: {'[z-a]': {api_key_env: KEY}}\n", encoding="utf-8")
    assert run_cli("validate-spec", str(path))[0] == 0


def test_implicit_gate_options_that_do_not_validate_are_a_config_error() -> None:
    """Options derived from the spec that a gate refuses (here a provider name too long for a glob)
    are exit 2 naming the spec, never a traceback."""
    loaded = config.parse(f"providers: {{{'p' * 990}: {{api_key_env: KEY}}}}\n", "spec.yaml")
    with pytest.raises(ConfigError) as e:
        catalog.resolve(loaded, catalog.builtins())
    assert str(e.value).startswith("spec.yaml:1: (top level): provider-api-key-usage, turned on by what the spec "
                                   "declares, cannot take the options derived from it (keys: ")


def test_a_list_with_negations_decides_as_the_last_matching_pattern_does() -> None:
    """Runs of same-sign patterns are matched as one regex each: the answer is still that of the
    last pattern in the list that matches the path."""
    import random

    from cogni_review.gate import DEPLOY_OUTSIDE_APPS, TEST_PATHS

    def last_match_wins(patterns, path) -> bool:
        verdict = False
        for pattern in patterns:
            if globs.matches_any((pattern.lstrip("!"),), path):
                verdict = not pattern.startswith("!")
        return verdict

    pool = [*DEPLOY_OUTSIDE_APPS, *TEST_PATHS, "src/**", "!src/gen/**", "src/gen/keep.ts", "!**/*.md", "docs",
            "!docs/a.md"]
    paths = ["src/a.ts", "src/gen/a.ts", "src/gen/keep.ts", "infra/x.sh", "infra/src/a.ts", "k8s/a.yaml",
             "a/.github/w.yml", "docs/a.md", "docs/b.md", "x/tests/a.ts", "nodes/a/app/src/scripts/x.ts",
             "scripts/deploy.sh", ".env", "a/.env.local"]
    rng = random.Random(7)
    for _ in range(2000):
        patterns = tuple(rng.choice(pool) for _ in range(rng.randint(0, 6)))
        for path in paths:
            assert globs.matches_any(patterns, path) is last_match_wins(patterns, path), (patterns, path)


@pytest.mark.parametrize("folder", [" pkg", "pkg ", "a b/\tc", "/".join(["a" * 200] * 6), "x[1]/{y}/*!"])
def test_a_rebased_glob_matches_below_its_folder_whatever_the_folder_is(folder) -> None:
    """A nested spec's folder is the repository's: its blanks, glob characters and length are
    taken as they are (the length limit is the written pattern's)."""
    for pattern, path in (("src/**", "src/a.ts"), ("*.ts", "src/a.ts"), ("!src/gen/**", "src/gen/a.ts")):
        rebased = globs.rebase(pattern, folder)
        assert rebased.startswith("!") is pattern.startswith("!")
        assert globs.validate((pattern,)) and globs.matches_any((rebased.lstrip("!"),), f"{folder}/{path}")
        assert not globs.matches_any((rebased.lstrip("!"),), f"{folder.strip()}x/{path}")


GLOB_CHARS = st.sampled_from(["a", "b", "ab", ".", "/", "*", "**/", "?", "[ab]", "[!a]", "[", "]", "{a,b}", "{", ",", "}",
                              "\\*", "\\[", "\\", "x.y", "_"])
PATH_CHARS = st.sampled_from(["a", "b", ".", "/", "*", "?", "[", "]", "{", "}", ",", "\\", "x.y", "_", "ab"])


@settings(max_examples=1000, deadline=None)
@given(pattern=st.lists(GLOB_CHARS, min_size=1, max_size=8).map("".join),
       path=st.lists(PATH_CHARS, min_size=1, max_size=10).map("".join))
def test_the_quick_test_before_the_regex_never_turns_a_match_away(pattern: str, path: str) -> None:
    """A path is first searched for plain text each pattern needs; the answer is still the regex's own."""
    try:
        globs.validate((pattern,))
    except ValueError:
        return
    regex = re.compile(globs._regex(pattern, "g"), re.DOTALL)
    assert globs.matches_any((pattern,), path) is (regex.match(path + "/") is not None)
    assert globs.matches_any(("nothing", "!" + pattern), path) is False


def test_the_quick_test_looks_for_the_longest_plain_text_of_each_pattern() -> None:
    needles = globs._needles(["**/tests/**", "**/*.spec.*", "src/{a,bc}/x*y.ts", "[ab]c/\\*d"])
    assert needles.pattern == "|".join(re.escape(n) for n in ["*d", ".spec.", "tests", "y.ts"])
    assert globs._needles(["docs/**", "*"]) is None
