"""The docs cannot drift: the README's gate reference is generated from the gates, and checked."""

from __future__ import annotations

from pathlib import Path

from cogni_review import catalog, docs

ROOT = Path(__file__).resolve().parents[1]
PLUGINS = catalog.discover(*catalog.builtin_dirs())


def test_readme_gate_reference_is_current() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert docs.update(readme, PLUGINS) == readme, "run `cogni-review docs --write README.md`"


def test_every_gate_is_in_the_reference_with_its_options() -> None:
    reference = docs.reference(PLUGINS)
    for plugin in PLUGINS.values():
        assert f"#### `{plugin.type}`" in reference
        for option in plugin.options_model.model_fields:
            assert f"| `{option}` |" in reference, (plugin.type, option)
