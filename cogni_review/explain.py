"""`cogni-review explain GATE`: what the gate flags, why, how to fix it, its options and examples."""

from __future__ import annotations

from cogni_review.catalog import Plugin
from cogni_review.errors import CogniError


def render(plugins: dict[str, Plugin], gate_type: str) -> str:
    plugin = plugins.get(gate_type) or plugins.get(gate_type.replace("_", "-"))
    if plugin is None:
        known = ", ".join(sorted(plugins))
        raise CogniError(f"unknown gate {gate_type!r}; known gates: {known}")
    parts = [f"{plugin.type}: {plugin.doc}", "", "Defaults:", *_defaults(plugin)]
    examples = getattr(plugin.module, "EXAMPLES", {})
    for kind in ("passes", "fails"):
        if examples.get(kind):
            parts += ["", "Passes:" if kind == "passes" else "Fails (the line marked <- is reported):"]
            parts += [f"  {path}:  {code}" for path, code in examples[kind]]
    return "\n".join(parts) + "\n"


def _defaults(plugin: Plugin) -> list[str]:
    lines = []
    for name, field in plugin.options_model.model_fields.items():
        lines.append(f"  {name}: {_show(field.get_default(call_default_factory=True))}")
    return lines or ["  (no options)"]


def _show(value) -> str:
    if isinstance(value, tuple):
        return "[" + ", ".join(map(str, value)) + "]"
    if isinstance(value, dict):
        return "{" + "; ".join(f"{k}: {_show(v)}" for k, v in value.items()) + "}" if value else "{} (see above)"
    return str(value)
