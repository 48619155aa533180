"""`cogni-review explain GATE`: the gate's page, with the options in force in this repository."""

from __future__ import annotations

import difflib

from cogni_review import docs
from cogni_review.catalog import OTHER_GATE_TYPES, PluginFile, ResolvedGate
from cogni_review.errors import CogniError


def render(plugins: dict[str, PluginFile], gate: str, resolved: list[ResolvedGate] = (), where: str = "") -> str:
    """The page of the gate type (or gate id, in this repository's spec) `gate`."""
    by_id = {g.id: g for g in resolved if g.plugin is not None}
    wanted = by_id[gate].type if gate in by_id else gate.replace("_", "-")
    file = plugins.get(wanted)
    if file is None and wanted in OTHER_GATE_TYPES:
        return (f"#### `{wanted}`\n\nA gate type another tool implements (the reviewer this one replaces); "
                "cogni-review lists it as neutral `unimplemented_gate` and judges nothing with it.\n")
    if file is None:
        close = difflib.get_close_matches(wanted, list(plugins) + list(by_id), n=1, cutoff=0.75)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise CogniError(f"unknown gate {gate!r}{hint}; known gates: {', '.join(sorted(plugins))}")
    in_force = by_id.get(gate) or next((g for g in resolved if g.type == wanted and g.plugin is not None), None)
    return docs.page(file.plugin, in_force.options if in_force else None, where)
