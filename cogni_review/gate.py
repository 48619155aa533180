"""The plugin contract: what a gate module provides, checked once when the catalog loads it.

A gate is a module in `gates/` (or, for Python rules, `rules/`) named after its type
(`wallet_address_literals.py` is `wallet-address-literals`). Its docstring is its documentation:
first line what it flags, then `Why:`, `Instead:` and `Options:`. It defines:

- `Options`: a `GateOptions` (a `FileGateOptions` for a file gate), the typed `with:` options.
- exactly one of
  - `scan(file: SourceFile, options) -> Iterable[Violation]`: a file gate. The engine runs it
    over every file its `paths`/`exclude` select; in a check, over both sides of each changed
    file, keeping only the findings the change introduces.
  - `judge(change: Change, options) -> GateResult`: a change gate, judging the change as a
    whole (`GateResult.passed(...)`, `.failed(...)` or `.neutral(...)`).
- optionally `candidates(options)`: what a file must contain for `scan` to be worth calling, a
  tuple of literal strings (any of them) or a regular expression run over raw bytes (keep it
  loose and free of look-arounds); None means every file.
- optionally `activates(spec) -> bool`: turns the gate on with default options when the spec
  declares what it protects, even if `gates:` does not list it.
- `EXAMPLES` (required for a file gate): `{"passes": [(path, code)], "fails": [(path, code)],
  "with": {options}}`; a `# <-` or `// <-` marks each line that must be reported.

`Plugin.of(...)` reads a module into one `Plugin` and refuses what does not fit: a misspelt hook
(`candidate`), both or neither of `scan` and `judge`, a hook with the wrong arity, examples of the
wrong shape. The engine, `explain`, `docs` and the catalog use the `Plugin`, never the module.
"""

from __future__ import annotations

import difflib
import inspect
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping

from pydantic import BaseModel, ConfigDict, Field, field_validator

from cogni_review import globs
from cogni_review.errors import ConfigError
from cogni_review.globs import GlobSet
from cogni_review.model import GateResult, Violation

if TYPE_CHECKING:
    from cogni_review.diff import Change
    from cogni_review.source import SourceFile

TEST_PATHS = (
    "tests/**",
    "test/**",
    "**/test/**",
    "**/tests/**",
    "**/__tests__/**",
    "**/*.test.*",
    "**/*.spec.*",
    "**/mocks/**",
    "**/__mocks__/**",
    "cypress/**",
    "**/e2e/**",
    "**/*.cy.*",
    "**/*.stories.*",
)
DOC_PATHS = ("docs/**", "**/docs/**", "*.md", "*.rst")  # not *.mdx: MDX pages are code


class NotJudged(Exception):
    """Raised by `scan` for a file the gate cannot judge (a Python rule and a file libcst cannot
    parse): the engine notes the file by name and goes on, so the skip is never silent."""


class GateOptions(BaseModel):
    """Typed `with:` options; a misspelt key or a wrong type is a config error.

    Every gate has `timeout_seconds`: past it, the gate stops and its result is neutral
    `timeout` (a failure under `fail_on_error: true`).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    timeout_seconds: float = Field(default=300, gt=0, description=(
        "seconds the gate may run; past it, the gate stops and is neutral `timeout`"))


class FileGateOptions(GateOptions):
    """Options every file gate has: which files it judges."""

    paths: tuple[str, ...] = Field(("**",), description="the files judged (globs)")
    exclude: tuple[str, ...] = Field((), description="files never judged, even if `paths` selects them")

    @field_validator("paths", "exclude")
    @classmethod
    def _globs(cls, patterns: tuple[str, ...]) -> tuple[str, ...]:
        return globs.validate(patterns)

    def selects(self, path: str) -> bool:
        return self._selector(path)

    @cached_property
    def _selector(self) -> Callable[[str], bool]:
        included, excluded = GlobSet(self.paths).matcher(), GlobSet(self.exclude).matcher()
        return lambda path: included(path) and not excluded(path)


def spec_of(info: Any) -> Any:
    """The spec a gate's Options validator was handed (pydantic ValidationInfo), if any."""
    context = getattr(info, "context", None) or {}
    return context.get("spec")


@dataclass(frozen=True)
class Example:
    path: str
    code: str

    @property
    def marked_lines(self) -> list[int]:
        """The lines a finding must point at: those ending with a `<-` marker."""
        return [n for n, line in enumerate(self.code.splitlines(), 1) if line.rstrip().endswith("<-")]


@dataclass(frozen=True)
class Examples:
    """A gate's examples: its tests and part of its documentation."""

    passes: tuple[Example, ...] = ()
    fails: tuple[Example, ...] = ()
    options: Mapping[str, Any] = field(default_factory=dict)  # the `with:` they run with

    @classmethod
    def parse(cls, raw: Any, where: str) -> Examples:
        if raw is None:
            return cls()
        if not isinstance(raw, Mapping) or set(raw) - {"passes", "fails", "with"}:
            raise ConfigError(f"{where}: EXAMPLES must be a dict with keys passes, fails and with")
        options = raw.get("with", {})
        if not isinstance(options, Mapping):
            raise ConfigError(f"{where}: EXAMPLES['with'] must be a dict of options")
        return cls(_examples(raw.get("passes", ()), where, "passes"), _examples(raw.get("fails", ()), where, "fails"),
                   dict(options))

    def __iter__(self):
        """(kind, index, example) for every example, passes first."""
        for kind in ("passes", "fails"):
            for index, example in enumerate(getattr(self, kind)):
                yield kind, index, example


def _examples(items: Any, where: str, kind: str) -> tuple[Example, ...]:
    found = []
    for index, item in enumerate(items):
        if not (isinstance(item, (tuple, list)) and len(item) == 2 and all(isinstance(x, str) for x in item)):
            raise ConfigError(f"{where}: EXAMPLES[{kind!r}][{index}] must be a (path, code) pair of strings")
        found.append(Example(*item))
    return tuple(found)


HOOKS = ("scan", "judge", "candidates", "activates")
DATA = ("Options", "EXAMPLES")
_ARITY = {"scan": 2, "judge": 2, "candidates": 1, "activates": 1}


@dataclass(frozen=True)
class Plugin:
    """A gate as its module describes it, checked once, when the catalog loads it."""

    type: str
    source: Path
    doc: str
    options: type[GateOptions]
    examples: Examples
    scan: Callable[[SourceFile, Any], Iterable[Violation]] | None = None
    judge: Callable[[Change, Any], GateResult] | None = None
    candidates: Callable[[Any], str | tuple[str, ...] | None] | None = None
    activates: Callable[[Any], bool] | None = None

    @property
    def is_file_gate(self) -> bool:
        return self.scan is not None

    @property
    def summary(self) -> str:
        """What the gate flags: the first line of its documentation."""
        return self.doc.splitlines()[0] if self.doc else ""

    @classmethod
    def of(cls, gate_type: str, source: Path, module: ModuleType) -> Plugin:
        """The plugin a module describes; a ConfigError naming the file when it does not fit."""
        where = str(source)
        _refuse_near_misses(module, where)
        hooks = {name: getattr(module, name, None) for name in HOOKS}
        for name, hook in hooks.items():
            if hook is not None and not _takes(hook, _ARITY[name]):
                raise ConfigError(f"{where}: {name} must be a function of {_ARITY[name]} argument(s)")
        if (hooks["scan"] is None) == (hooks["judge"] is None):
            raise ConfigError(f"{where}: a gate module defines exactly one of scan(file, options) (a file gate) "
                              "or judge(change, options) (a change gate)")
        default = FileGateOptions if hooks["scan"] else GateOptions
        options = getattr(module, "Options", default)
        if not (isinstance(options, type) and issubclass(options, default)):
            raise ConfigError(f"{where}: Options must be a subclass of {default.__name__}")
        examples = Examples.parse(getattr(module, "EXAMPLES", None), where)
        if hooks["scan"] and not (examples.passes and examples.fails):
            raise ConfigError(f"{where}: a file gate needs EXAMPLES with at least one 'passes' and one 'fails'")
        doc = inspect.cleandoc(module.__doc__ or "")
        if not doc:
            raise ConfigError(f"{where}: the module docstring is the gate's documentation; it is missing")
        return cls(gate_type, source, doc, options, examples, **hooks)


def _refuse_near_misses(module: ModuleType, where: str) -> None:
    """A name one typo away from a hook (`candidate`, `activate`, `Option`, `EXAMPLE`) would be a
    silently missing hook; so would `check`, the change-gate hook's former name."""
    for name, value in vars(module).items():
        if name in HOOKS or name in DATA or name.startswith("_") or _imported(value, module):
            continue
        if name == "check":
            raise ConfigError(f"{where}: `check` is not a hook; a change gate defines judge(change, options)")
        close = difflib.get_close_matches(name.lower(), [h.lower() for h in HOOKS + DATA], n=1, cutoff=0.85)
        if close:
            meant = next(h for h in HOOKS + DATA if h.lower() == close[0])
            raise ConfigError(f"{where}: defines {name!r}, which is not a hook; did you mean {meant!r}?")


def _imported(value: Any, module: ModuleType) -> bool:
    """A module, or a function or class some other module defined (`Optional`, `cached_property`)."""
    if isinstance(value, ModuleType):
        return True
    return callable(value) and getattr(value, "__module__", module.__name__) != module.__name__


def _takes(function: Any, count: int) -> bool:
    """Whether `function` can be called with `count` positional arguments."""
    if not callable(function):
        return False
    try:
        inspect.signature(function).bind(*range(count))
    except (TypeError, ValueError):
        return False
    return True
