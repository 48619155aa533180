"""The repo spec (`.cogni/repo-spec.yaml`) as pydantic models. YAML is parsed here only.

Lenient about what belongs to other tools (unknown top-level keys, intent, governance), strict
about what this tool enforces: every error names the file, the line and the key path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from cogni_review import globs, yamlsource
from cogni_review.errors import ConfigError
from cogni_review.yamlsource import Document

DEFAULT_SPEC = ".cogni/repo-spec.yaml"


class Lenient(BaseModel):
    model_config = ConfigDict(frozen=True, extra="allow", populate_by_name=True)


class GateEntry(BaseModel):
    """One item of `gates:`: `{type, id?, with?}`; `enabled: false` switches a gate off.

    Older specs name a gate by `id` alone (`id: review_limits`): its type is read from the id.
    """

    model_config = ConfigDict(frozen=True, extra="allow", populate_by_name=True)

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
    required_status_contexts: Any = None
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
            return [{"id": key, "with": options} for key, options in value.items()]
        return value

    @model_validator(mode="after")
    def _unique_derived_ids(self) -> "Spec":
        """Gates listed without an id (several `ai-rule`s, say) get `type`, `type-2`, `type-3`..."""
        taken = {entry.id for entry in self.gates if entry.id}
        for entry in self.gates:
            if entry.id is None:
                candidate, n = entry.type, 1
                while candidate in taken:
                    n += 1
                    candidate = f"{entry.type}-{n}"
                taken.add(candidate)
                object.__setattr__(entry, "derived_id", candidate)
        return self

    def provider_keys(self) -> dict[str, str]:
        """Sensitive env var name -> the adapter name it belongs to, as the spec declares them."""
        keys: dict[str, str] = {}
        for name, provider in (self.providers or {}).items():
            if provider and provider.api_key_env:
                keys[provider.api_key_env] = str(name)
        if self.llm_proxy and self.llm_proxy.master_key_env:
            keys.setdefault(self.llm_proxy.master_key_env, "litellm")
        return keys


class LoadedSpec(BaseModel):
    """A validated spec together with its document, for error messages about gate options."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    spec: Spec
    document: Document


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
    try:
        spec = Spec.model_validate(data)
    except ValidationError as e:
        raise ConfigError(describe(e, document)) from None
    _check_gate_ids(spec, document)
    return LoadedSpec(spec=spec, document=document)


def describe(error: ValidationError, document: Document, prefix: tuple = ()) -> str:
    """One line per problem: `file:line: key.path: what is wrong`."""
    lines = []
    for problem in error.errors():
        path = prefix + tuple(_yaml_key(p) for p in problem["loc"])
        lines.append(f"{document.where(path)}: {_message(problem)}")
    return "\n".join(lines)


def _yaml_key(part: Any) -> Any:
    return "with" if part == "with_" else part


def _message(problem: dict) -> str:
    if problem["type"] == "extra_forbidden":
        return "unknown key (check the spelling; `cogni-review explain GATE` lists the options)"
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
