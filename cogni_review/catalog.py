"""Finds gate plugins by path and turns a spec's `gates:` into gates ready to run.

Built-in gates and rules ship in the wheel (from the repository's `gates/` and `rules/`
folders) and are loaded exactly like a user's own: a module per gate, named after its type.
A module is imported, and checked against the contract (`gate.Plugin.of`), the first time
something needs it: a pre-commit hook should not pay for a parser no gate of its spec uses.
The engine is handed the result and never imports a plugin itself.
"""

from __future__ import annotations

import ast
import difflib
import importlib.util
import sys
from dataclasses import dataclass, replace
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

from pydantic import ValidationError

import cogni_review
from cogni_review import config
from cogni_review.config import GateEntry, LoadedSpec, ScopedSpec, describe
from cogni_review.errors import ConfigError
from cogni_review.gate import GateOptions, Plugin, rebase


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
            source = self.path.read_bytes()
            declared_coding = b"coding" in b"\n".join(source.split(b"\n", 2)[:2])
            if source.isascii() and b"activates" not in source and not declared_coding and b"import *" not in source:
                # no name in it is `activates` (a non-ASCII name may be, once normalised, and a
                # declared encoding such as utf-7 may spell it in other bytes)
                return False
            tree = ast.parse(source, str(self.path))
        except (OSError, SyntaxError, ValueError):
            return True  # let the import report what is wrong
        return _may_bind(tree, "activates")

    def activates(self, spec: Any) -> bool:
        if not self.declares_activation:
            return False
        hook = self.plugin.activates
        return bool(hook and hook(spec))


def _may_bind(tree: ast.Module, name: str) -> bool:
    """Whether running the module may bind `name`: a def or class of that name, any assignment
    to it (plain, annotated, augmented, unpacked, a walrus, in any block), an import of it, a
    star import, or the name as a string (`globals()[...]`, `setattr`). False is certain; True
    is settled by importing the module."""
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name == name:
            return True
        if isinstance(node, ast.Name) and node.id == name and not isinstance(node.ctx, ast.Load):
            return True
        if isinstance(node, (ast.Import, ast.ImportFrom)) and any(
                alias.name == "*" or (alias.asname or alias.name.split(".")[0]) == name for alias in node.names):
            return True
        if isinstance(node, ast.Constant) and node.value == name:
            return True
    return False


@dataclass(frozen=True)
class ResolvedGate:
    """A gate as the spec configures it: id, type, validated options; plugin None if unknown."""

    id: str
    type: str
    plugin: Plugin | None
    options: GateOptions | None
    implicit: bool = False  # turned on by what the spec declares, not listed under gates:
    folder: str = ""  # the folder of the spec that configured it ("" for the root spec)
    shadowed: tuple[str, ...] = ()  # folders below whose nearer spec has a gate of this type
    spec: str = config.DEFAULT_SPEC  # the spec file that configured it

    @property
    def description(self) -> str:
        return self.plugin.summary if self.plugin else ""

    def judges(self, path: str | None) -> bool:
        """Whether this gate judges the file at `path`: in its spec's subtree, not below a nearer
        spec with a gate of its own type, and selected by its (rebased) options."""
        if path is None or self.options is None:
            return False
        if self.folder and not path.startswith(self.folder + "/"):
            return False
        if any(path.startswith(folder + "/") for folder in self.shadowed):
            return False
        return self.options.selects(path)


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
    """The gates of one spec, in spec order, then those its declarations turn on."""
    return _resolve_scope(ScopedSpec.root(loaded), plugins)


def resolve_all(specs: tuple[ScopedSpec, ...], plugins: dict[str, PluginFile]) -> list[ResolvedGate]:
    """The gates of a root spec and its nested specs. For each file, the nearest spec with a
    file gate of a type wins: a parent's gate of that type does not judge below it."""
    per_spec = [(scoped, _resolve_scope(scoped, plugins)) for scoped in specs]
    listed = {scoped.folder: {e.type for e in scoped.loaded.spec.gates} for scoped, _ in per_spec}
    # a gate a spec turns on by what it declares yields to one an enclosing spec configured by
    # listing it: only listing the type again (or `enabled: false`) takes a subtree from it
    kept = [(scoped.folder, gate) for scoped, resolved in per_spec for gate in resolved
            if not (gate.implicit and any(_below(scoped.folder, f) and gate.type in types for f, types in listed.items()))]
    decides = {folder: set(types) for folder, types in listed.items()}
    for folder, gate in kept:
        decides[folder].add(gate.type)
    gates = []
    for folder, gate in kept:
        below = () if not (gate.plugin and gate.plugin.is_file_gate) else tuple(
            other for other, types in decides.items() if _below(other, folder) and gate.type in types)
        gates.append(replace(gate, shadowed=below) if below else gate)
    return gates


def _below(folder: str, parent: str) -> bool:
    return folder != parent and (parent == "" or folder.startswith(parent + "/"))


def _resolve_scope(scoped: ScopedSpec, plugins: dict[str, PluginFile]) -> list[ResolvedGate]:
    """A spec's listed gates and those its own declarations turn on, with options validated
    against what it declares and inherits, and globs rebased onto the repository root."""
    own = scoped.loaded.spec
    gates = [_resolve(scoped, index, entry, plugins) for index, entry in enumerate(own.gates)]
    listed = {entry.type for entry in own.gates}
    for file in plugins.values():
        if file.type not in listed and file.activates(own):
            plugin = file.plugin
            try:
                options = plugin.options.model_validate({}, context={"spec": scoped.effective})
            except ValidationError as e:  # options derived from what the spec declares
                problems = "; ".join(f"{'.'.join(map(str, p['loc']))}: {p['msg']}" for p in e.errors())
                raise ConfigError(f"{scoped.loaded.document.where(())}: {plugin.type}, turned on by what the "
                                  f"spec declares, cannot take the options derived from it ({problems})") from None
            gates.append(_scoped(scoped, ResolvedGate(plugin.type, plugin.type, plugin, options, implicit=True)))
    return [g for g in gates if g is not None]


def _scoped(scoped: ScopedSpec, gate: ResolvedGate) -> ResolvedGate:
    """The gate as its spec's folder places it: options rebased, id marked with the folder."""
    if not scoped.folder:
        return gate
    options = rebase(gate.options, scoped.folder) if gate.options is not None else None
    return replace(gate, id=f"{gate.id}@{scoped.folder}", options=options, folder=scoped.folder, spec=scoped.path)


#: gate types other tools implement (the reviewer the DAO ran before): neutral here, never typos
OTHER_GATE_TYPES = frozenset({"ai-rule", "agents-md-sync", "governance-policy", "goal-declaration",
                              "forbidden-scopes", "rules", "ai-rules"})


def _refuse_near_miss(loaded: LoadedSpec, index: int, gate_type: str, plugins: dict[str, PluginFile]) -> None:
    """A type one typo away from a known one (`walet-address-literals`) is an error with a
    suggestion; a type no one here knows is another tool's gate, neutral `unimplemented_gate`."""
    if gate_type in OTHER_GATE_TYPES:
        return
    close = difflib.get_close_matches(gate_type, sorted(set(plugins) | OTHER_GATE_TYPES), n=1, cutoff=0.8)
    if close:
        raise ConfigError(f"{loaded.document.where(('gates', index, 'type'))}: unknown gate type {gate_type!r}; "
                          f"did you mean {close[0]!r}?")


def _resolve(scoped: ScopedSpec, index: int, entry: GateEntry, plugins: dict[str, PluginFile]) -> ResolvedGate | None:
    if not entry.enabled:
        return None
    loaded = scoped.loaded
    file = plugins.get(entry.type)
    if file is None:
        _refuse_near_miss(loaded, index, entry.type, plugins)
        return _scoped(scoped, ResolvedGate(entry.gate_id, entry.type, None, None))
    plugin = file.plugin
    try:
        options = plugin.options.model_validate(entry.options, context={"spec": scoped.effective})
    except ValidationError as e:
        raise ConfigError(describe(e, loaded.document, prefix=("gates", index, "with"))) from None
    return _scoped(scoped, ResolvedGate(entry.gate_id, entry.type, plugin, options))
