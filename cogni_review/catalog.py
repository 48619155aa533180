"""Finds gate plugins by path and turns a spec's `gates:` into gates ready to run.

Built-in gates and rules ship in the wheel (from the repository's `gates/` and `rules/`
folders) and are loaded exactly like a user's own: a module per gate, named after its type.
A module is imported, and checked against the contract (`gate.Plugin.of`), the first time
something needs it: a pre-commit hook should not pay for a parser no gate of its spec uses.
The engine is handed the result and never imports a plugin itself.
"""

from __future__ import annotations

import ast
import importlib.util
import sys
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

from pydantic import ValidationError

import cogni_review
from cogni_review.config import GateEntry, LoadedSpec, describe
from cogni_review.errors import ConfigError
from cogni_review.gate import GateOptions, Plugin


@dataclass(frozen=True)
class PluginFile:
    """A gate module on disk, loaded (and checked) on first use."""

    type: str
    path: Path

    @cached_property
    def plugin(self) -> Plugin:
        return Plugin.of(self.type, self.path, _import(self.path))

    @cached_property
    def declares_activation(self) -> bool:
        """Whether the module defines `activates(spec)` at top level (read without importing it)."""
        try:
            tree = ast.parse(self.path.read_bytes(), str(self.path))
        except (OSError, SyntaxError, ValueError):
            return True  # let the import report what is wrong
        return any(_binds(node, "activates") for node in tree.body)

    def activates(self, spec: Any) -> bool:
        if not self.declares_activation:
            return False
        hook = self.plugin.activates
        return bool(hook and hook(spec))


def _binds(node: ast.stmt, name: str) -> bool:
    """Whether a top-level statement binds `name` (a def, an assignment or an import)."""
    if isinstance(node, ast.FunctionDef):
        return node.name == name
    if isinstance(node, ast.Assign):
        return any(isinstance(t, ast.Name) and t.id == name for t in node.targets)
    if isinstance(node, (ast.ImportFrom, ast.Import)):
        return any((alias.asname or alias.name) == name for alias in node.names)
    return False


@dataclass(frozen=True)
class ResolvedGate:
    """A gate as the spec configures it: id, type, validated options; plugin None if unknown."""

    id: str
    type: str
    plugin: Plugin | None
    options: GateOptions | None
    implicit: bool = False  # turned on by what the spec declares, not listed under gates:

    @property
    def description(self) -> str:
        return self.plugin.summary if self.plugin else ""


def builtin_dirs() -> tuple[Path, ...]:
    """`gates/` and `rules/` beside the package in a checkout; their packaged copies in a wheel."""
    here = Path(cogni_review.__file__).resolve().parent
    return tuple(_builtin(here, folder) for folder in ("gates", "rules"))


def _builtin(here: Path, folder: str) -> Path:
    packaged = here / f"builtin_{folder}"
    return packaged if packaged.is_dir() else here.parent / folder


@lru_cache(maxsize=8)
def discover(*folders: Path) -> dict[str, PluginFile]:
    """type -> plugin file for every gate module in `folders`; a later folder cannot shadow a built-in."""
    plugins: dict[str, PluginFile] = {}
    for folder in folders:
        for file in sorted(Path(folder).glob("[!_]*.py")):
            gate_type = file.stem.replace("_", "-")
            if gate_type in plugins:
                raise ConfigError(f"{file}: gate type {gate_type!r} is already defined by {plugins[gate_type].path}")
            plugins[gate_type] = PluginFile(gate_type, file)
    return plugins


def builtins() -> dict[str, PluginFile]:
    return discover(*builtin_dirs())


def _import(file: Path):
    name = f"cogni_review_plugins.{file.parent.name}.{file.stem}"
    spec = importlib.util.spec_from_file_location(name, file)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and pydantic look a plugin's names up there
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def resolve(loaded: LoadedSpec, plugins: dict[str, PluginFile]) -> list[ResolvedGate]:
    """The gates to run, in spec order, then those the spec's declarations turn on."""
    spec = loaded.spec
    gates = [_resolve(loaded, index, entry, plugins) for index, entry in enumerate(spec.gates)]
    listed = {entry.type for entry in spec.gates}
    for file in plugins.values():
        if file.type not in listed and file.activates(spec):
            plugin = file.plugin
            try:
                options = plugin.options.model_validate({}, context={"spec": spec})
            except ValidationError as e:  # options derived from what the spec declares
                problems = "; ".join(f"{'.'.join(map(str, p['loc']))}: {p['msg']}" for p in e.errors())
                raise ConfigError(f"{loaded.document.where(())}: {plugin.type}, turned on by what the spec "
                                  f"declares, cannot take the options derived from it ({problems})") from None
            gates.append(ResolvedGate(plugin.type, plugin.type, plugin, options, implicit=True))
    return [g for g in gates if g is not None]


def _resolve(loaded: LoadedSpec, index: int, entry: GateEntry, plugins: dict[str, PluginFile]) -> ResolvedGate | None:
    if not entry.enabled:
        return None
    file = plugins.get(entry.type)
    if file is None:
        return ResolvedGate(entry.gate_id, entry.type, None, None)
    plugin = file.plugin
    try:
        options = plugin.options.model_validate(entry.options, context={"spec": loaded.spec})
    except ValidationError as e:
        raise ConfigError(describe(e, loaded.document, prefix=("gates", index, "with"))) from None
    return ResolvedGate(entry.gate_id, entry.type, plugin, options)
