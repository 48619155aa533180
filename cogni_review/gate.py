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
- `EXAMPLES`, at least one passing and one failing: its tests and part of its documentation.
  - A file gate's: `{"passes": [(path, code)], "fails": [(path, code)], "with": {options}}`; a
    `# <-` or `// <-` marks each line that must be reported.
  - A change gate's are small changes: `{"base": {path: text}, "passes": [change], "fails":
    [change], "with": {options}}`, each change a dict with `head` (`{path: text}`, None deleting
    a file), and optionally its own `base` files (added to the shared ones), the pull request's
    `title` and `body`, and `replies`, what a model answers, in order (see `testing`). The spec
    is the base's `.cogni/repo-spec.yaml`, as in a real check.

What a change gate needs besides the change reaches it through its `Options`: a validator reads
the spec with `spec_of(info)` and the environment with `environ_of(info)` (kept in private
attributes, so they are not options a spec can set). A gate with a policy file of its own (an
`ai-rule`'s rule file) reads it from `change.policy_files` and parses it with `read_yaml`.

`Plugin.of(...)` reads a module into one `Plugin` and refuses what does not fit: a misspelt hook
(`candidate`), both or neither of `scan` and `judge`, a hook with the wrong arity, examples of the
wrong shape. The engine, `explain`, `docs` and the catalog use the `Plugin`, never the module.
"""

from __future__ import annotations

import difflib
import inspect
import json
import os
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Iterable, Mapping, TypeVar

from pydantic import (BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, ValidationInfo, field_validator,
                      model_validator)

from cogni_review import globs, yamlsource
from cogni_review.config import describe
from cogni_review.errors import ConfigError
from cogni_review.globs import GlobSet
from cogni_review.model import GateResult, Violation

if TYPE_CHECKING:
    from cogni_review.diff import Change
    from cogni_review.source import SourceFile

#: test code, fakes, fixtures and stories, by the conventions of JavaScript and Python projects
TEST_PATHS = (
    "**/tests/**",
    "**/test/**",
    "**/__tests__/**",
    "**/*.test.*",
    "**/*.spec.*",
    "**/test_*.py",
    "**/*_test.py",
    "**/conftest.py",
    "**/mocks/**",
    "**/__mocks__/**",
    "**/_fakes/**",
    "**/_fixtures/**",
    "**/__fixtures__/**",
    "**/testing.ts",
    "**/adapters/test/**",
    "**/cypress/**",
    "**/e2e/**",
    "**/*.cy.*",
    "**/*.stories.*",
    "**/vitest.config.*",
    "**/vitest.*.config.*",
    "**/vitest.setup.*",
    "**/jest.config.*",
    "**/playwright.config.*",
)
DOC_PATHS = ("**/docs/**", "*.md", "*.rst")  # not *.mdx: MDX pages are code
#: deployment config, which supplies keys to the code rather than reading them
DEPLOY_PATHS = (
    "**/.env",
    "**/.env.*",
    "**/docker-compose*.yml",
    "**/docker-compose*.yaml",
    "**/compose.yml",
    "**/compose.yaml",
    "**/compose.*.yml",
    "**/compose.*.yaml",
    "**/Dockerfile",
    "**/Dockerfile.*",
    "**/*.Dockerfile",
    "**/k8s/**",
    "**/infra/**",
    "**/.github/**",
    "**/scripts/**",
    "**/*.sh",
    "**/*.tf",
    "**/*.tfvars",
    "**/*.tfvars.*",
)


#: deployment config, but never inside an app's source: `src/infra/` or `src/scripts/` is app code
DEPLOY_OUTSIDE_APPS = DEPLOY_PATHS + ("!**/src/**",)


def in_every_app(*patterns: str) -> tuple[str, ...]:
    """Globs written for one app at the repository root (`src/shared/env/**`), read relative to
    every app or package root: any folder holding a `src/` (`app/`, `nodes/x/app/`,
    `packages/y/`, `services/z/`) and the root itself."""
    return tuple(f"**/{p}" for p in patterns)


class NotJudged(Exception):
    """Raised by `scan` for a file the gate cannot judge (a Python rule and a file libcst cannot
    parse): the engine notes the file by name and goes on, so the skip is never silent."""


class GateOptions(BaseModel):
    """Typed `with:` options; a misspelt key or a wrong type is a config error.

    Every gate has `timeout_seconds`: past it, the gate stops and its result is neutral
    `timeout` (a failure under `fail_on_error: true`).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")
    #: options that hold globs, relative to the spec's folder (a value may be a glob, a list of
    #: them, a map to them, or options models with their own `glob_fields`); `folder_fields` hold
    #: folders. A nested spec's options are rebased onto the repository root through these.
    glob_fields: ClassVar[tuple[str, ...]] = ()
    folder_fields: ClassVar[tuple[str, ...]] = ()

    timeout_seconds: float = Field(default=300, gt=0, description=(
        "seconds the gate may run; past it, the gate stops and is neutral `timeout`"))


class FileGateOptions(GateOptions):
    """Options every file gate has: which files it judges."""

    glob_fields: ClassVar[tuple[str, ...]] = ("paths", "exclude")

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
        return _selector(self.paths, self.exclude)


@lru_cache(maxsize=256)
def _selector(paths: tuple[str, ...], exclude: tuple[str, ...]) -> Callable[[str], bool]:
    """The test for one (paths, exclude) pair, shared by every gate that has it (most keep the
    defaults), remembering each path's answer: a path is matched once, however many gates ask."""
    included, excluded = GlobSet(paths).matcher(), GlobSet(exclude).matcher()
    answers: dict[str, bool] = {}

    def selects(path: str) -> bool:
        answer = answers.get(path)
        if answer is None:
            answer = answers[path] = included(path) and not excluded(path)
        return answer

    return selects


def rebase(options: BaseModel, folder: str) -> BaseModel:
    """`options` of a spec in `folder`, with every glob and folder made relative to the
    repository root, so a gate of a nested spec judges repository paths like any other."""
    if not folder:
        return options
    updates = {name: _rebased(getattr(options, name), folder) for name in getattr(options, "glob_fields", ())}
    for name in getattr(options, "folder_fields", ()):
        value = getattr(options, name)
        moved = [folder if f.strip("./") == "" else f"{folder}/{f.strip('/')}" for f in ([value] if isinstance(value, str) else value)]
        updates[name] = moved[0] if isinstance(value, str) else tuple(moved)
    return options.model_copy(update=updates)


def _rebased(value: Any, folder: str) -> Any:
    if isinstance(value, str):
        return globs.rebase(value, folder)
    if isinstance(value, BaseModel):
        return rebase(value, folder)
    if isinstance(value, dict):
        return {key: _rebased(item, folder) for key, item in value.items()}
    if isinstance(value, (tuple, list)):
        return tuple(_rebased(item, folder) for item in value)
    return value


class DeclarationOptions(GateOptions):
    """Options of a gate that holds the spec to declaring a list under `intent` (`goals`,
    `non_goals`): a subclass names it in `key`. The list is read from the spec in force, never
    an option a spec can set."""

    key: ClassVar[str] = ""
    _declared: tuple[str, ...] = PrivateAttr(())

    @model_validator(mode="after")
    def _from_spec(self, info: ValidationInfo) -> DeclarationOptions:
        spec = spec_of(info)
        self._declared = spec.intent_list(self.key) if spec is not None else ()
        return self

    def verdict(self, what: str) -> GateResult:
        """Passed when the spec declares at least one `what`; failed, saying where to, when not."""
        count = len(self._declared)
        if count:
            return GateResult.passed(f"{what} declared: {count}", declared=count)
        return GateResult.failed(f"the spec declares no {what}: list at least one under `intent.{self.key}`", declared=0)


def spec_of(info: Any) -> Any:
    """The spec a gate's Options validator was handed (pydantic ValidationInfo), if any."""
    context = getattr(info, "context", None) or {}
    return context.get("spec")


def environ_of(info: Any) -> Mapping[str, str]:
    """The environment a gate's Options validator was handed, else the process's own: where a
    gate finds the values of the env vars its spec names (an endpoint's URL and key)."""
    context = getattr(info, "context", None) or {}
    environ = context.get("environ")
    return os.environ if environ is None else environ


M = TypeVar("M", bound=BaseModel)


class InvalidFile(ConfigError):
    """A YAML file a gate reads (a rule file, a workflow) that does not parse or validate; the
    message names the file, the line and the key path."""


def read_yaml(data: bytes, source: str, model: type[M], unknown: str = "check the spelling") -> M:
    """A YAML file of a gate's own, read like the spec: `data` validated as `model`, or
    InvalidFile naming `source:line: key.path` and what is wrong there (`unknown`: the advice on
    an unknown key)."""
    try:
        document = yamlsource.parse(data.decode("utf-8-sig"), source)
        return model.model_validate(document.data)
    except UnicodeDecodeError as e:
        raise InvalidFile(f"{source}: not UTF-8 text: {e}") from None
    except ConfigError as e:
        raise InvalidFile(str(e)) from None
    except ValidationError as e:
        raise InvalidFile(describe(e, document, unknown=unknown)) from None


@dataclass(frozen=True)
class Example:
    path: str
    code: str

    @property
    def marked_lines(self) -> list[int]:
        """The lines a finding must point at: those ending with a `<-` marker."""
        return [n for n, line in enumerate(self.code.splitlines(), 1) if line.rstrip().endswith("<-")]


@dataclass(frozen=True)
class ChangeExample:
    """A change gate's example: the files at the base, what the change writes (None deletes a
    file), the pull request's title and body, and the replies a model gives, in order."""

    base: Mapping[str, str]
    head: Mapping[str, str | None]
    title: str = ""
    body: str = ""
    replies: tuple[str, ...] = ()

    KEYS = frozenset({"base", "head", "title", "body", "replies"})

    @classmethod
    def parse(cls, item: Any, shared: Mapping[str, str], where: str) -> ChangeExample:
        if not isinstance(item, Mapping) or set(item) - cls.KEYS or not isinstance(item.get("head"), Mapping):
            raise ConfigError(f"{where} must be a dict with `head` (path -> text or None) and optionally "
                              f"{', '.join(sorted(cls.KEYS - {'head'}))}")
        base, head = {**shared, **_files(item.get("base", {}), where)}, dict(item["head"])
        if not all(isinstance(k, str) and (v is None or isinstance(v, str)) for k, v in head.items()):
            raise ConfigError(f"{where}: `head` maps paths to text, or to None for a deleted file")
        replies = item.get("replies", ())
        if not all(isinstance(r, (str, Mapping)) for r in replies):
            raise ConfigError(f"{where}: `replies` are the model's answers: each a dict (sent as JSON) or text")
        texts = tuple(r if isinstance(r, str) else json.dumps(r, indent=2) for r in replies)
        title, body = item.get("title", ""), item.get("body", "")
        if not (isinstance(title, str) and isinstance(body, str)):
            raise ConfigError(f"{where}: `title` and `body` are text")
        return cls(base, head, title, body, texts)


@dataclass(frozen=True)
class Examples:
    """A gate's examples: its tests and part of its documentation."""

    passes: tuple[Example | ChangeExample, ...] = ()
    fails: tuple[Example | ChangeExample, ...] = ()
    options: Mapping[str, Any] = field(default_factory=dict)  # the `with:` they run with
    base: Mapping[str, str] = field(default_factory=dict)  # change examples: the files every one starts from

    @classmethod
    def parse(cls, raw: Any, where: str) -> Examples:
        if raw is None:
            return cls()
        if not isinstance(raw, Mapping) or set(raw) - {"passes", "fails", "with", "base"}:
            raise ConfigError(f"{where}: EXAMPLES must be a dict with keys passes, fails, with and (change gates) base")
        options = raw.get("with", {})
        if not isinstance(options, Mapping):
            raise ConfigError(f"{where}: EXAMPLES['with'] must be a dict of options")
        shared = _files(raw.get("base", {}), f"{where}: EXAMPLES['base']")
        return cls(_examples(raw.get("passes", ()), where, "passes", shared),
                   _examples(raw.get("fails", ()), where, "fails", shared), dict(options), shared)

    @property
    def of_changes(self) -> bool:
        """Whether these are change examples (a change gate's)."""
        return any(isinstance(e, ChangeExample) for _, _, e in self)

    def __iter__(self):
        """(kind, index, example) for every example, passes first."""
        for kind in ("passes", "fails"):
            for index, example in enumerate(getattr(self, kind)):
                yield kind, index, example


def _examples(items: Any, where: str, kind: str, shared: Mapping[str, str]) -> tuple[Example | ChangeExample, ...]:
    found: list[Example | ChangeExample] = []
    for index, item in enumerate(items):
        if isinstance(item, Mapping):
            found.append(ChangeExample.parse(item, shared, f"{where}: EXAMPLES[{kind!r}][{index}]"))
        elif isinstance(item, (tuple, list)) and len(item) == 2 and all(isinstance(x, str) for x in item):
            found.append(Example(*item))
        else:
            raise ConfigError(f"{where}: EXAMPLES[{kind!r}][{index}] must be a (path, code) pair of strings "
                              "(a file gate's) or a dict describing a change (a change gate's)")
    return tuple(found)


def _files(files: Any, where: str) -> dict[str, str]:
    if not (isinstance(files, Mapping) and all(isinstance(k, str) and isinstance(v, str) for k, v in files.items())):
        raise ConfigError(f"{where}: files must be a dict of path -> text")
    return dict(files)


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
        kind = "file" if hooks["scan"] else "change"
        if not (examples.passes and examples.fails):
            raise ConfigError(f"{where}: a {kind} gate needs EXAMPLES with at least one 'passes' and one 'fails'")
        wanted = ChangeExample if hooks["judge"] else Example
        if not all(isinstance(e, wanted) for _, _, e in examples):
            shape = "dicts describing changes" if hooks["judge"] else "(path, code) pairs"
            raise ConfigError(f"{where}: a {kind} gate's EXAMPLES are {shape}")
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
