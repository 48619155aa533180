"""The repo spec (`.cogni/repo-spec.yaml`) as pydantic models. YAML is parsed here only.

Lenient about what belongs to other tools (unknown top-level keys, intent, governance), strict
about what this tool enforces: every error names the file, the line and the key path.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from cogni_review import globs, yamlsource
from cogni_review.errors import ConfigError
from cogni_review.yamlsource import Document

DEFAULT_SPEC = ".cogni/repo-spec.yaml"
ADDRESS = re.compile(r"0[xX][0-9a-fA-F]{40}")
LLM_PROXY = "llm_proxy"


class Lenient(BaseModel):
    model_config = ConfigDict(frozen=True, extra="allow", populate_by_name=True)


class GateEntry(BaseModel):
    """One item of `gates:`: `{type, id?, with?}`; `enabled: false` switches a gate off.

    Older specs name a gate by `id` alone (`id: review_limits`): its type is read from the id. A
    gate listed without an `id` is named after its `rule_file` when it has one (an `ai-rule` with
    `rule_file: pr-coherence.yaml` is `pr-coherence`), else after its type. Any other key is a
    mistake (`wiht:`), and an error.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    type: str
    id: str | None = None
    with_: dict[str, Any] | None = Field(default=None, alias="with")
    enabled: bool = True
    derived_id: str | None = Field(default=None, exclude=True)

    @model_validator(mode="before")
    @classmethod
    def _type_from_id(cls, data: Any) -> Any:
        if isinstance(data, dict) and "type" not in data and isinstance(data.get("id"), str):
            return {**data, "type": data["id"].replace("_", "-")}
        return data

    @property
    def gate_id(self) -> str:
        return self.id or self.derived_id or self.type

    @property
    def default_id(self) -> str:
        rule_file = (self.with_ or {}).get("rule_file")
        if isinstance(rule_file, str) and rule_file.strip():
            return re.sub(r"\.ya?ml$", "", rule_file.strip().rsplit("/", 1)[-1]) or self.type
        return self.type

    @property
    def options(self) -> dict[str, Any]:
        return dict(self.with_ or {})


def _env_name(value: str | None) -> str | None:
    """An env var name the provider-key gate governs: neither blank nor with white space around it."""
    if value is not None and (not value.strip() or value != value.strip()):
        raise ValueError(f"{value!r} is not an env var name: it is blank or has white space around it")
    return value


class Provider(Lenient):
    api_host: str | None = None
    api_key_env: str | None = None

    _key = field_validator("api_key_env")(lambda cls, value: _env_name(value))


class LlmProxy(Lenient):
    host_env: str | None = None
    master_key_env: str | None = None

    _key = field_validator("master_key_env")(lambda cls, value: _env_name(value))


class Review(Lenient):
    enabled: bool = True
    model: str | None = None  # the model ai-rule gates ask, unless a gate names its own


class Spec(Lenient):
    """The whole spec. Keys this tool does not read are kept, never rejected."""

    schema_version: str | None = None
    intent: Any = None
    gates: list[GateEntry] = Field(default_factory=list)
    fail_on_error: bool = False
    cogni_dao: Any = None
    governance: Any = None
    payments_in: dict[str, Any] | None = None
    payments_out: Any = None
    providers: dict[str, Provider | None] | None = None
    llm_proxy: LlmProxy | None = None
    secrets: Any = None
    required_status_contexts: tuple[str, ...] | None = None
    review: Review | None = None
    governance_change: Literal["warn", "fail"] = "warn"
    governance_paths: tuple[str, ...] = ()

    _governance_globs = field_validator("governance_paths")(lambda cls, patterns: globs.validate(patterns))

    @field_validator("schema_version", mode="before")
    @classmethod
    def _version_as_text(cls, value: Any) -> Any:
        return None if value is None else str(value)

    @field_validator("gates", mode="before")
    @classmethod
    def _gate_list(cls, value: Any) -> Any:
        if value is None:
            return []
        if isinstance(value, dict):  # the legacy map form: {review_limits: {max_changed_files: 30}}
            # a mapping is a gate's options; a scalar or a list (spec_mode, deny_paths) is a setting
            return [{"id": key, "with": options} for key, options in value.items() if isinstance(options, dict) or options is None]
        return value

    @model_validator(mode="after")
    def _unique_derived_ids(self) -> "Spec":
        """Gates listed without an id get their default id, then `-2`, `-3`... when it is taken."""
        taken = {entry.id for entry in self.gates if entry.id}
        for entry in self.gates:
            if entry.id is None:
                candidate, n = entry.default_id, 1
                while candidate in taken:
                    n += 1
                    candidate = f"{entry.default_id}-{n}"
                taken.add(candidate)
                object.__setattr__(entry, "derived_id", candidate)
        return self

    def declared_addresses(self) -> list[str]:
        """Every on-chain address the spec declares (receiving addresses, wallets, governance
        contracts, approvers...), wherever it is declared, outside `gates:`."""
        found: list[str] = []
        _addresses(self.model_dump(exclude={"gates"}), found)
        return found

    def provider_keys(self) -> dict[str, str]:
        """Sensitive env var name -> whose it is, as the spec declares them: a provider's name, or
        `llm_proxy` for the proxy's master key."""
        keys: dict[str, str] = {}
        for name, provider in (self.providers or {}).items():
            if provider and provider.api_key_env:
                keys[provider.api_key_env] = str(name)
        if self.llm_proxy and self.llm_proxy.master_key_env:
            keys.setdefault(self.llm_proxy.master_key_env, LLM_PROXY)
        return keys

    def intent_list(self, key: str) -> tuple[str, ...]:
        """The non-blank strings of `intent.<key>` (`goals`, `non_goals`); () when it is not a list."""
        items = self.intent.get(key) if isinstance(self.intent, dict) else None
        if not isinstance(items, list):
            return ()
        return tuple(str(item).strip() for item in items if isinstance(item, (str, int, float)) and str(item).strip())

    def dao(self) -> dict[str, str]:
        """The DAO's contracts and proposal host: `governance.*`, its gaps filled from the older `cogni_dao.*`."""
        found: dict[str, str] = {}
        for block in (self.governance, self.cogni_dao):
            for key, value in (block.items() if isinstance(block, dict) else ()):
                if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value).strip():
                    found.setdefault(str(key), str(value).strip())
        return found


def _addresses(value: Any, found: list[str]) -> None:
    if isinstance(value, str):
        if ADDRESS.fullmatch(value.strip()):
            found.append(value.strip())
    elif isinstance(value, dict):
        for item in value.values():
            _addresses(item, found)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _addresses(item, found)


class LoadedSpec(BaseModel):
    """A validated spec together with its document, for error messages about gate options."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    spec: Spec
    document: Document


@dataclass(frozen=True)
class ScopedSpec:
    """A spec and the folder it governs ("" for the root). A nested spec governs its subtree, its
    globs are relative to its folder, and it inherits every top-level key it does not declare
    from the specs above it (`gates:` aside: each spec lists its own)."""

    folder: str
    loaded: LoadedSpec
    effective: Spec  # its own keys, and those it inherits

    @property
    def path(self) -> str:
        return f"{self.folder}/{DEFAULT_SPEC}" if self.folder else DEFAULT_SPEC

    @property
    def data(self) -> dict:
        return self.effective.model_dump(by_alias=True, exclude={"gates"}, exclude_none=True)

    @classmethod
    def root(cls, loaded: LoadedSpec) -> ScopedSpec:
        return cls("", loaded, loaded.spec)

    def nest(self, folder: str, loaded: LoadedSpec) -> ScopedSpec:
        """The spec at `folder`, below this one, with what it inherits from this one."""
        own = loaded.document.data or {}
        inherited = {key: value for key, value in self.data.items() if key not in own}
        try:
            effective = Spec.model_validate({**inherited, **own})
        except ValidationError as e:
            raise ConfigError(describe(e, loaded.document)) from None
        return ScopedSpec(folder, loaded, effective)


def load(path: str | Path) -> LoadedSpec:
    """Read and validate a spec file; a missing file says how to start one."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(
            f"{path}: no spec found. Run `cogni-review init` to write a starter spec, "
            "or pass --spec FILE"
        )
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path}: cannot read the spec: {e}") from None
    return parse(text, str(path))


def parse(text: str, source: str) -> LoadedSpec:
    document = yamlsource.parse(text, source)
    data = document.data
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{source}:1: the spec must be a mapping of keys, not {type(data).__name__}")
    _refuse_near_misses(data, document)
    try:
        spec = Spec.model_validate(data)
    except ValidationError as e:
        raise ConfigError(describe(e, document)) from None
    _check_gate_ids(spec, document)
    return LoadedSpec(spec=spec, document=document)


#: top-level keys other tools read from the same spec (the DAO's node platform, the reviewer it
#: replaced): kept as they are, and never mistaken for a misspelling
OTHER_KEYS = frozenset({
    "node_id", "scope_id", "scope_key", "activity_ledger", "nodes", "operator_wallet", "payments",
    "knowledge", "distributions", "schedules", "review", "check", "deployment", "repo",
})


def _refuse_near_misses(data: dict, document: Document) -> None:
    """A top-level key one typo away from a key this tool reads (`paymnets_in`) would silently
    turn a gate off; it is an error with a suggestion. Keys no tool here knows are kept."""
    known = set(Spec.model_fields) | OTHER_KEYS
    for key in data:
        if not isinstance(key, str) or key in known:
            continue
        close = difflib.get_close_matches(key, sorted(set(Spec.model_fields)), n=1, cutoff=0.8)
        if close:
            raise ConfigError(f"{document.where((key,))}: unknown key; did you mean {close[0]!r}?")


UNKNOWN_KEY = "check the spelling; `cogni-review explain GATE` lists the options"


def describe(error: ValidationError, document: Document, prefix: tuple = (), unknown: str = UNKNOWN_KEY) -> str:
    """One line per problem: `file:line: key.path: what is wrong`; `unknown` advises on an unknown key."""
    lines = []
    for problem in error.errors():
        path = prefix + tuple(_yaml_key(p) for p in problem["loc"])
        lines.append(f"{document.where(path)}: {_message(problem, unknown)}")
    return "\n".join(lines)


def _yaml_key(part: Any) -> Any:
    return "with" if part == "with_" else part


def _message(problem: dict, unknown: str) -> str:
    if problem["type"] == "extra_forbidden":
        loc = problem["loc"]
        if len(loc) == 3 and loc[0] == "gates":  # a key of a gate entry itself
            close = difflib.get_close_matches(str(loc[-1]), ["type", "id", "with", "enabled"], n=1, cutoff=0.6)
            hint = f"did you mean {close[0]!r}? " if close else ""
            return f"unknown key ({hint}a gate entry has type, id, with and enabled)"
        return f"unknown key ({unknown})"
    if problem["type"] == "missing":
        return "required key is missing"
    got = repr(problem.get("input"))
    return f"{problem['msg']} (got {got if len(got) <= 200 else got[:200] + '…'})"


def _check_gate_ids(spec: Spec, document: Document) -> None:
    seen: dict[str, int] = {}
    for index, entry in enumerate(spec.gates):
        if entry.gate_id in seen:
            raise ConfigError(
                f"{document.where(('gates', index))}: duplicate gate id {entry.gate_id!r} "
                f"(also at gates[{seen[entry.gate_id]}]); give one of them an explicit `id:`"
            )
        seen[entry.gate_id] = index
