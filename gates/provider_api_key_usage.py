"""A provider API key read outside the env module and its own adapter.

Why: provider and proxy keys spend the DAO's money; once a key is read in an unrelated module it
can be wired into new network clients, logged or shipped to the browser without review.

Instead: read the key once in the env module (validated there) and hand it only to the adapter
of the provider it belongs to.

Deployment config supplies keys rather than reading them: `.env` files, compose files,
Dockerfiles, `k8s/`, `infra/`, `.github/`, shell scripts and `scripts/` are not judged by
default. A spec that sets `paths` (and not `exclude`) judges deployment config wherever its
`paths` reach; tests and docs stay excluded.

Every form of reading counts, because the key's name appears in code or a string:
`process.env.KEY`, `process.env["KEY"]`, `const { KEY } = process.env`, `os.environ["KEY"]`,
`os.getenv("KEY")`, `settings.KEY`. Comments do not count.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, ValidationInfo, field_validator, model_validator

from cogni_review import globs
from cogni_review.config import LLM_PROXY
from cogni_review.confinement import ConfinementOptions, candidates, governed, scan, where
from cogni_review.gate import DEPLOY_OUTSIDE_APPS, DOC_PATHS, TEST_PATHS, in_every_app, spec_of

__all__ = ["Options", "activates", "candidates", "scan"]


#: the LLM proxy's master key belongs to the proxy's adapters: LiteLLM's, or one named for the proxy
PROXY = ("litellm", "llm-proxy", "llm_proxy")


def adapter_globs(owner: str) -> tuple[str, ...]:
    """Where the adapter of a key's owner lives: code under an `adapters` folder whose path names
    it (`adapters/openrouter/**`, `adapters/server/ai/openrouter.adapter.ts`); the name is a name,
    not a glob (`[z-a]` is literal)."""
    names = PROXY if owner == LLM_PROXY else (globs.escape(owner),)
    return tuple(g for name in names for g in (f"**/adapters/**/*{name}*/**", f"**/adapters/**/*{name}*"))


class Options(ConfinementOptions):
    glob_fields = ConfinementOptions.glob_fields + ("env_modules", "keys")
    env_modules: tuple[str, ...] = Field(in_every_app("src/shared/env/**"), description="where every key may be read")
    exclude: tuple[str, ...] = Field(DEPLOY_OUTSIDE_APPS + TEST_PATHS + DOC_PATHS, description=(
        "files never judged: deployment config outside the apps' source, which supplies keys rather than "
        "reading them, and tests and docs"))
    keys: dict[str, tuple[str, ...]] = Field({}, description=(
        "map of env var name -> adapter globs where it is also allowed; by default derived from the spec: "
        f"each `providers.<name>.api_key_env` in {', '.join(f'`{g}`' for g in adapter_globs('<name>'))}, "
        f"and `llm_proxy.master_key_env` likewise for the proxy's adapters ({', '.join(f'`{n}`' for n in PROXY)})"))

    _governed = field_validator("keys")(governed)
    _env_globs = field_validator("env_modules")(lambda cls, patterns: globs.validate(patterns))

    @model_validator(mode="before")
    @classmethod
    def _defaults(cls, data: Any, info: ValidationInfo) -> Any:
        """Keys derived from the spec; deployment config judged where explicit `paths` reach."""
        if not isinstance(data, dict):
            return data
        spec = spec_of(info)
        if "keys" not in data and spec is not None:
            data = {**data, "keys": {key: adapter_globs(name) for key, name in spec.provider_keys().items()}}
        if "paths" in data and "exclude" not in data:
            data = {**data, "exclude": TEST_PATHS + DOC_PATHS}
        return data

    def governed(self) -> dict[str, tuple[str, ...]]:
        return {key: self.env_modules + allowed for key, allowed in self.keys.items()}

    def describe(self, key: str, allowed: tuple[str, ...]) -> tuple[str, str]:
        return (
            f"provider key {key} read outside the env module and its adapter (allowed only in {where(allowed)})",
            "read the key in the env module and pass it only to its own provider adapter; if this file is that "
            "adapter, put it under an `adapters` folder whose path names the provider, or list it under `keys:`",
        )


def activates(spec) -> bool:
    """When the spec declares `providers.<name>.api_key_env` or `llm_proxy.master_key_env`."""
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
