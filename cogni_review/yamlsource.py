"""YAML read once, with the line of every key, so errors can name file, line and key path.

Safe loading only; anchors, aliases and merge keys work; duplicate keys and alias bombs are
rejected with a clear error instead of being silently resolved or exhausting memory.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from cogni_review.errors import ConfigError

#: nodes visited with aliases expanded; far above any honest spec, far below a "billion laughs"
MAX_NODES = 200_000

Path = tuple  # a key path: ("gates", 2, "with", "exclude")


@dataclass(frozen=True)
class Document:
    """Parsed YAML data plus the line (1-based) where each key path starts."""

    source: str
    data: Any
    lines: dict[Path, int] = field(default_factory=dict)

    def line_of(self, path: Path) -> int:
        """The line of `path`, or of its nearest ancestor that has one."""
        path = tuple(path)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), 1)

    def where(self, path: Path) -> str:
        """`file:line: key.path` for messages."""
        return f"{self.source}:{self.line_of(path)}: {format_path(path)}"


def format_path(path: Path) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def parse(text: str, source: str) -> Document:
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
    except yaml.YAMLError as e:
        raise ConfigError(_yaml_error(e, source)) from None
    finally:
        loader.dispose()
    if root is None:
        return Document(source, None, {(): 1})
    builder = _Builder(loader, source)
    data = builder.build(root, ())
    return Document(source, data, builder.lines)


def _yaml_error(e: yaml.YAMLError, source: str) -> str:
    mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
    line = f"{mark.line + 1}:{mark.column + 1}" if mark else "1"
    problem = getattr(e, "problem", None) or str(e)
    context = getattr(e, "context", None)
    detail = f"{context}, {problem}" if context else problem
    return f"{source}:{line}: invalid YAML: {detail}"


class _Builder:
    """Turns a composed node graph into plain data, recording lines and counting nodes."""

    def __init__(self, loader: yaml.SafeLoader, source: str) -> None:
        self.loader, self.source = loader, source
        self.lines: dict[Path, int] = {}
        self.visited = 0
        self.merged: dict[int, int] = {}

    def build(self, node: yaml.Node, path: Path) -> Any:
        self.visited += 1
        if self.visited > MAX_NODES:
            raise ConfigError(
                f"{self.source}:{node.start_mark.line + 1}: the document expands to more than "
                f"{MAX_NODES} nodes (aliases nested too deep?); refusing to load it"
            )
        self.lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, path + (i,)) for i, item in enumerate(node.value)]
        if not node.tag.startswith("tag:yaml.org,2002:"):
            raise ConfigError(f"{self.source}:{node.start_mark.line + 1}: {format_path(path)}: "
                              f"unknown tag {node.tag!r}; write the value without it")
        return self._scalar(node)

    def _mapping(self, node: yaml.MappingNode, path: Path) -> dict:
        merged = self._flatten(node)
        out: dict = {}
        own: set = set()
        for index, (key_node, value_node) in enumerate(node.value):
            key = self._scalar(key_node) if isinstance(key_node, yaml.ScalarNode) else None
            if key is None or isinstance(key, (list, dict)):
                raise ConfigError(
                    f"{self.source}:{key_node.start_mark.line + 1}: {format_path(path)}: "
                    "mapping keys must be plain scalars"
                )
            if index >= merged and key in own:
                raise ConfigError(
                    f"{self.source}:{key_node.start_mark.line + 1}: {format_path(path + (key,))}: "
                    "duplicate key (YAML would silently keep only the last one)"
                )
            if index >= merged:
                own.add(key)
            self.lines[path + (key,)] = key_node.start_mark.line + 1
            out[key] = self.build(value_node, path + (key,))
        return out

    def _flatten(self, node: yaml.MappingNode) -> int:
        """Resolve merge keys (`<<`) once per node; returns how many leading pairs were merged in."""
        if id(node) not in self.merged:
            own = sum(1 for key, _ in node.value if key.tag != "tag:yaml.org,2002:merge")
            try:
                self.loader.flatten_mapping(node)
            except yaml.YAMLError as e:
                raise ConfigError(_yaml_error(e, self.source)) from None
            self.merged[id(node)] = len(node.value) - own
        return self.merged[id(node)]

    def _scalar(self, node: yaml.ScalarNode) -> Any:
        try:
            value = self.loader.construct_object(node, deep=True)
        except yaml.YAMLError as e:  # an unknown tag (`!foo bar`), a malformed timestamp...
            raise ConfigError(_yaml_error(e, self.source)) from None
        if isinstance(value, int) and not isinstance(value, bool) and node.style is None:
            raw = node.value
            if raw.lower().startswith(("0x", "-0x", "+0x")):
                return raw  # an unquoted hex address must keep its digits and leading zeros
        return value
