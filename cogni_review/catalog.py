"""Finds gate plugins by path and turns a spec's `gates:` into gates ready to run.

Built-in gates and rules ship in the wheel (from the repository's `gates/` and `rules/`
folders) and are loaded exactly like a user's own: a module per gate, named after its type.
The engine is handed the result and never imports a plugin itself.
"""

from __future__ import annotations

import ast
import importlib.util
import inspect
import sys
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from types import ModuleType
from typing import Any

from pydantic import ValidationError

import cogni_review
from cogni_review.config import GateEntry, LoadedSpec, describe
from cogni_review.errors import ConfigError
from cogni_review.gate import GateOptions


@dataclass(frozen=True)
class Plugin:
    """A gate module, imported the first time something needs it: a pre-commit hook should not
    pay for a parser that no gate of its spec uses."""

    type: str
    path: Path

    @cached_property
    def module(self) -> ModuleType:
        return _load(self.path)

    @cached_property
    def declares_activation(self) -> bool:
        """Whether the module defines `activates(spec)` at top level (read without importing it)."""
        try:
            tree = ast.parse(self.path.read_bytes(), str(self.path))
        except (OSError, SyntaxError, ValueError):
            return True  # let the import report what is wrong
        return any(isinstance(n, ast.FunctionDef) and n.name == "activates" for n in tree.body)

    @property
    def options_model(self) -> type[GateOptions]:
        return getattr(self.module, "Options", GateOptions)

    @property
    def is_file_gate(self) -> bool:
        return hasattr(self.module, "scan")

    @property
    def doc(self) -> str:
        return inspect.cleandoc(self.module.__doc__ or "")

    @property
    def summary(self) -> str:
        return self.doc.splitlines()[0] if self.doc else ""

    def activates(self, spec: Any) -> bool:
        if not self.declares_activation:
            return False
        hook = getattr(self.module, "activates", None)
        return bool(hook and hook(spec))


@dataclass(frozen=True)
class ResolvedGate:
    """A gate as the spec configures it: id, type, validated options; plugin None if unknown."""

    id: str
    type: str
    plugin: Plugin | None
    options: GateOptions | None
    implicit: bool = False  # turned on by what the spec declares, not listed under gates:


def builtin_dirs() -> tuple[Path, ...]:
    """`gates/` and `rules/` beside the package in a checkout; their packaged copies in a wheel."""
    here = Path(cogni_review.__file__).resolve().parent
    return tuple(_builtin(here, folder) for folder in ("gates", "rules"))


def _builtin(here: Path, folder: str) -> Path:
    packaged = here / f"builtin_{folder}"
    return packaged if packaged.is_dir() else here.parent / folder


@lru_cache(maxsize=8)
def discover(*folders: Path) -> dict[str, Plugin]:
    """type -> plugin for every gate module in `folders`; a later folder cannot shadow a built-in."""
    plugins: dict[str, Plugin] = {}
    for folder in folders:
        for file in sorted(Path(folder).glob("[!_]*.py")):
            gate_type = file.stem.replace("_", "-")
            if gate_type in plugins:
                raise ConfigError(f"{file}: gate type {gate_type!r} is already defined by {plugins[gate_type].path}")
            plugins[gate_type] = Plugin(gate_type, file)
    return plugins


def _load(file: Path) -> ModuleType:
    name = f"cogni_review_plugins.{file.parent.name}.{file.stem}"
    spec = importlib.util.spec_from_file_location(name, file)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and pydantic look a plugin's names up there
    spec.loader.exec_module(module)
    if not (hasattr(module, "scan") or hasattr(module, "check")):
        raise ConfigError(f"{file}: a gate module must define scan(file, options) or check(change, options)")
    return module


def resolve(loaded: LoadedSpec, plugins: dict[str, Plugin]) -> list[ResolvedGate]:
    """The gates to run, in spec order, then those the spec's declarations turn on."""
    spec = loaded.spec
    gates = [_resolve(loaded, index, entry, plugins) for index, entry in enumerate(spec.gates)]
    listed = {entry.type for entry in spec.gates}
    for plugin in plugins.values():
        if plugin.type not in listed and plugin.activates(spec):
            options = plugin.options_model.model_validate({}, context={"spec": spec})
            gates.append(ResolvedGate(plugin.type, plugin.type, plugin, options, implicit=True))
    return [g for g in gates if g is not None]


def _resolve(loaded: LoadedSpec, index: int, entry: GateEntry, plugins: dict[str, Plugin]) -> ResolvedGate | None:
    if not entry.enabled:
        return None
    plugin = plugins.get(entry.type)
    if plugin is None:
        return ResolvedGate(entry.gate_id, entry.type, None, None)
    try:
        options = plugin.options_model.model_validate(entry.options, context={"spec": loaded.spec})
    except ValidationError as e:
        raise ConfigError(describe(e, loaded.document, prefix=("gates", index, "with"))) from None
    return ResolvedGate(entry.gate_id, entry.type, plugin, options)
