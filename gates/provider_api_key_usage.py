"""A provider API key read outside the env module and its own adapter.

Why: provider and proxy keys spend the DAO's money; once a key is read in an unrelated module it
can be wired into new network clients, logged or shipped to the browser without review.

Instead: read the key once in the env module (validated there) and hand it only to the adapter
of the provider it belongs to.

Options:
  env_modules: where every key may be read (default `src/shared/env/**`)
  keys: map of env var name -> adapter globs where it is also allowed. Default: derived from
        the spec, each `providers.<name>.api_key_env` allowed in `src/adapters/**/<name>/**`
        and `src/adapters/**/<name>.*`, and `llm_proxy.master_key_env` likewise for `litellm`.
  paths: files judged (default all)
  exclude: files never judged (default: tests and docs). Deployment config that supplies keys
           rather than reading them (`.env.example`, compose files, workflows) is judged like
           code; exclude it explicitly if your DAO allows it, e.g.
           `exclude: ["tests/**", "docs/**", ".env*", "**/docker-compose*.yml", ".github/**"]`

Every form of reading counts, because the key's name appears in code or a string:
`process.env.KEY`, `process.env["KEY"]`, `const { KEY } = process.env`, `os.environ["KEY"]`,
`os.getenv("KEY")`, `settings.KEY`. Comments do not count.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any, Iterable

from pydantic import ValidationInfo, field_validator, model_validator

from cogni_review import globs
from cogni_review.confinement import Confinement, governed, where
from cogni_review.gate import DOC_PATHS, TEST_PATHS, FileGateOptions, spec_of
from cogni_review.model import Violation
from cogni_review.source import SourceFile


def adapter_globs(name: str) -> tuple[str, ...]:
    return (f"src/adapters/**/{name}/**", f"src/adapters/**/{name}.*", f"src/adapters/**/{name}-*")


class Options(FileGateOptions):
    env_modules: tuple[str, ...] = ("src/shared/env/**",)
    keys: dict[str, tuple[str, ...]] = {}
    exclude: tuple[str, ...] = TEST_PATHS + DOC_PATHS

    _governed = field_validator("keys")(governed)
    _env_globs = field_validator("env_modules")(lambda cls, patterns: globs.check(patterns))

    @model_validator(mode="before")
    @classmethod
    def _keys_from_spec(cls, data: Any, info: ValidationInfo) -> Any:
        spec = spec_of(info)
        if isinstance(data, dict) and "keys" not in data and spec is not None:
            derived = {key: adapter_globs(name) for key, name in spec.provider_keys().items()}
            return {**data, "keys": derived}
        return data

    @cached_property
    def confinement(self) -> Confinement:
        return Confinement({key: self.env_modules + globs for key, globs in self.keys.items()})


def activates(spec) -> bool:
    return bool(spec.provider_keys())


def candidates(options: Options) -> tuple[str, ...]:
    return tuple(options.confinement.allowed)


def scan(file: SourceFile, options: Options) -> Iterable[Violation]:
    return options.confinement.scan(file, _describe)


def _describe(key: str, globs: tuple[str, ...]) -> tuple[str, str]:
    return (
        f"provider key {key} read outside the env module and its adapter (allowed only in {where(globs)})",
        "read the key in the env module and pass it only to its own provider adapter",
    )


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
