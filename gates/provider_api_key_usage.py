"""A provider API key read outside the env module and its own adapter.

Why: provider and proxy keys spend the DAO's money; once a key is read in an unrelated module it
can be wired into new network clients, logged or shipped to the browser without review.

Instead: read the key once in the env module (validated there) and hand it only to the adapter
of the provider it belongs to.

Deployment config that supplies keys rather than reading them (`.env.example`, compose files,
workflows) is judged like code; exclude it explicitly if your DAO allows it, e.g.
`exclude: ["tests/**", "docs/**", ".env*", "**/docker-compose*.yml", ".github/**"]`.

Every form of reading counts, because the key's name appears in code or a string:
`process.env.KEY`, `process.env["KEY"]`, `const { KEY } = process.env`, `os.environ["KEY"]`,
`os.getenv("KEY")`, `settings.KEY`. Comments do not count.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, ValidationInfo, field_validator, model_validator

from cogni_review import globs
from cogni_review.confinement import ConfinementOptions, candidates, governed, scan, where
from cogni_review.gate import spec_of

__all__ = ["Options", "activates", "candidates", "scan"]


def adapter_globs(name: str) -> tuple[str, ...]:
    """Where the adapter of provider `name` lives (the name is a name, not a glob: `[z-a]` is literal)."""
    name = globs.escape(name)
    return (f"src/adapters/**/{name}/**", f"src/adapters/**/{name}.*")


class Options(ConfinementOptions):
    env_modules: tuple[str, ...] = Field(("src/shared/env/**",), description="where every key may be read")
    keys: dict[str, tuple[str, ...]] = Field({}, description=(
        "map of env var name -> adapter globs where it is also allowed; by default derived from the spec: "
        f"each `providers.<name>.api_key_env` in {', '.join(f'`{g}`' for g in adapter_globs('<name>'))}, "
        "and `llm_proxy.master_key_env` likewise for `litellm`"))

    _governed = field_validator("keys")(governed)
    _env_globs = field_validator("env_modules")(lambda cls, patterns: globs.validate(patterns))

    @model_validator(mode="before")
    @classmethod
    def _keys_from_spec(cls, data: Any, info: ValidationInfo) -> Any:
        spec = spec_of(info)
        if isinstance(data, dict) and "keys" not in data and spec is not None:
            derived = {key: adapter_globs(name) for key, name in spec.provider_keys().items()}
            return {**data, "keys": derived}
        return data

    def governed(self) -> dict[str, tuple[str, ...]]:
        return {key: self.env_modules + allowed for key, allowed in self.keys.items()}

    def describe(self, key: str, allowed: tuple[str, ...]) -> tuple[str, str]:
        return (
            f"provider key {key} read outside the env module and its adapter (allowed only in {where(allowed)})",
            "read the key in the env module and pass it only to its own provider adapter",
        )


def activates(spec) -> bool:
    return bool(spec.provider_keys())


EXAMPLES = {
    "with": {"keys": {"OPENROUTER_API_KEY": ["src/adapters/**/openrouter/**"]}},
    "passes": [
        ("src/shared/env/server.ts", "OPENROUTER_API_KEY: z.string().min(1),"),
        ("src/adapters/openrouter/client.ts", "const key = serverEnv().OPENROUTER_API_KEY;"),
        ("src/features/chat/send.ts", "// uses OPENROUTER_API_KEY via the adapter"),
    ],
    "fails": [
        ("src/features/chat/send.ts", "const key = process.env.OPENROUTER_API_KEY; // <-"),
        ("src/jobs/sync.py", 'key = os.getenv("OPENROUTER_API_KEY")  # <-'),
    ],
}
