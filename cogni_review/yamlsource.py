"""YAML read once, with the line of every key, so errors can name file, line and key path.

Safe loading only; anchors, aliases and merge keys work; duplicate keys and alias bombs are
rejected with a clear error instead of being silently resolved or exhausting memory. So is
anything else YAML cannot turn into data: a character YAML does not allow (NUL, most control
characters), a scalar whose tag it cannot convert (`!!int abc`, `!!timestamp junk`, `2001-02-30`,
an integer of thousands of digits), an alias inside its own anchor (`&a [*a]`), and nesting deeper
than `MAX_DEPTH` (measured on the token stream before anything recurses). Each is a ConfigError
naming the line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from cogni_review.errors import ConfigError

#: nodes visited with aliases expanded; far above any honest spec, far below a "billion laughs"
MAX_NODES = 200_000
#: collections nested in one another, as written or through aliases; far above any honest spec
MAX_DEPTH = 64
_OPENS = (yaml.BlockMappingStartToken, yaml.BlockSequenceStartToken, yaml.FlowMappingStartToken,
          yaml.FlowSequenceStartToken)
_CLOSES = (yaml.BlockEndToken, yaml.FlowMappingEndToken, yaml.FlowSequenceEndToken)

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
    try:
        _check_depth(text, source)
        loader = yaml.SafeLoader(text)
    except yaml.YAMLError as e:
        raise ConfigError(_yaml_error(e, source, text)) from None
    try:
        root = loader.get_single_node()
    except yaml.YAMLError as e:
        raise ConfigError(_yaml_error(e, source, text)) from None
    finally:
        loader.dispose()
    if root is None:
        return Document(source, None, {(): 1})
    builder = _Builder(loader, source)
    data = builder.build(root, ())
    return Document(source, data, builder.lines)


def _check_depth(text: str, source: str) -> None:
    """Refuse nesting deeper than MAX_DEPTH, from the scanner's tokens (which do not recurse),
    before the composer (which does) sees the document."""
    depth = 0
    for token in yaml.scan(text, Loader=yaml.SafeLoader):
        if isinstance(token, _OPENS):
            depth += 1
            if depth > MAX_DEPTH:
                raise ConfigError(f"{source}:{token.start_mark.line + 1}: collections nested more than {MAX_DEPTH} "
                                  "deep; refusing to load it")
        elif isinstance(token, _CLOSES):
            depth -= 1


def _yaml_error(e: yaml.YAMLError, source: str, text: str = "") -> str:
    mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
    line = f"{mark.line + 1}:{mark.column + 1}" if mark else "1"
    if isinstance(e, yaml.reader.ReaderError):  # a character YAML does not allow: it has a position only
        line = str(text.count("\n", 0, e.position) + 1)
        shown = f"U+{e.character:04X}" if isinstance(e.character, int) else repr(e.character)
        return f"{source}:{line}: invalid YAML: character {shown} is not allowed in a YAML document"
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
        self.open: set[int] = set()  # the collections being built, outermost first

    def build(self, node: yaml.Node, path: Path) -> Any:
        self.visited += 1
        where = f"{self.source}:{node.start_mark.line + 1}"
        if self.visited > MAX_NODES:
            raise ConfigError(f"{where}: the document expands to more than {MAX_NODES} nodes (aliases nested too "
                              "deep?); refusing to load it")
        if len(path) > MAX_DEPTH:
            raise ConfigError(f"{where}: {format_path(path[:3])}…: collections nested more than {MAX_DEPTH} deep "
                              "(through aliases); refusing to load it")
        self.lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.CollectionNode):
            if id(node) in self.open:
                raise ConfigError(f"{where}: {format_path(path)}: an alias inside its own anchor makes the data "
                                  "infinite; refusing to load it")
            self.open.add(id(node))
            try:
                if isinstance(node, yaml.MappingNode):
                    return self._mapping(node, path)
                return [self.build(item, path + (i,)) for i, item in enumerate(node.value)]
            finally:
                self.open.discard(id(node))
        if not node.tag.startswith("tag:yaml.org,2002:"):
            raise ConfigError(f"{self.source}:{node.start_mark.line + 1}: {format_path(path)}: "
                              f"unknown tag {node.tag!r}; write the value without it")
        return self._scalar(node, path)

    def _mapping(self, node: yaml.MappingNode, path: Path) -> dict:
        merged = self._flatten(node)
        out: dict = {}
        own: set = set()
        for index, (key_node, value_node) in enumerate(node.value):
            key = self._scalar(key_node, path) if isinstance(key_node, yaml.ScalarNode) else None
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
            except RecursionError:
                raise ConfigError(f"{self.source}:{node.start_mark.line + 1}: merge keys (`<<`) nested too deep; "
                                  "refusing to load it") from None
            self.merged[id(node)] = len(node.value) - own
        return self.merged[id(node)]

    def _scalar(self, node: yaml.ScalarNode, path: Path = ()) -> Any:
        try:
            value = self.loader.construct_object(node, deep=True)
        except yaml.YAMLError as e:  # an unknown tag (`!foo bar`)...
            raise ConfigError(_yaml_error(e, self.source)) from None
        except (ValueError, TypeError, KeyError, AttributeError, OverflowError) as e:
            kind = node.tag.rsplit(":", 1)[-1]  # `!!int abc`, `!!timestamp junk`, `2001-02-30`, 5,000 digits
            shown = node.value if len(node.value) <= 40 else node.value[:40] + "…"
            raise ConfigError(f"{self.source}:{node.start_mark.line + 1}: {format_path(path)}: {shown!r} is not "
                              f"a valid {kind} ({type(e).__name__}: {str(e)[:120]}); quote it to keep it as text, "
                              "or fix it") from None
        if isinstance(value, int) and not isinstance(value, bool) and node.style is None:
            raw = node.value
            if raw.lower().startswith(("0x", "-0x", "+0x")):
                return raw  # an unquoted hex address must keep its digits and leading zeros
        return value
