"""The docs cannot drift: the README's gate reference is generated from the gates, and checked."""

from __future__ import annotations

from pathlib import Path

from cogni_review import catalog, docs

ROOT = Path(__file__).resolve().parents[1]
PLUGINS = [file.plugin for file in catalog.builtins().values()]


def test_readme_gate_reference_is_current() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert docs.update(readme, PLUGINS) == readme, "run `cogni-review docs --write README.md`"


def test_every_gate_is_in_the_reference_with_its_options_and_examples() -> None:
    reference = docs.reference(PLUGINS)
    for plugin in PLUGINS:
        assert f"#### `{plugin.type}`" in reference
        for option in plugin.options.model_fields:
            assert f"| `{option}` |" in reference, (plugin.type, option)
        for _, _, example in plugin.examples:
            if plugin.examples.of_changes:
                for text in (*example.base.values(), *filter(None, example.head.values()), *example.replies):
                    assert all(line.strip() in reference for line in text.splitlines()), (plugin.type, text)
            else:
                assert f"```\n{example.code}\n```" in reference, (plugin.type, example)


def test_a_required_option_and_unset_defaults_read_as_such() -> None:
    page = docs.page(next(p for p in PLUGINS if p.type == "ai-rule"))
    assert "| `rule_file` | (required) |" in page
    assert "| `model` | (unset) |" in page and "| `neutral_on_error` | `true` |" in page


def test_no_gate_restates_a_default_in_its_docstring() -> None:
    """Defaults come from the code; a docstring that spells one out would drift from it."""
    for plugin in PLUGINS:
        assert "(default" not in plugin.doc and "Options:" not in plugin.doc, plugin.type
