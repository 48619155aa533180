"""`cogni-review init` in a repository that already has code: a spec for the layout it finds.

It looks for what the DAO gates need to know, and writes each finding as a commented line: the
app and package roots (folders holding a `src/`), the env modules (where the env schema is),
the provider adapters, the payment rails (where reason constants are defined), and the provider
keys the env modules declare. Keys are never governed silently: they are listed as suggestions
to uncomment, because governing a key is a decision of the DAO, not of a tool reading the code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, Iterable

from cogni_review import layout
from cogni_review.globs import matches_any

CODE = ("**/*.ts", "**/*.tsx", "**/*.js", "**/*.mjs", "**/*.cjs", "**/*.jsx", "**/*.py", "**/*.sol")
NOT_APP = ("**/node_modules/**", "**/tests/**", "**/test/**", "**/__tests__/**", "**/*.test.*", "**/*.spec.*",
           "**/dist/**", "**/build/**", ".cogni/**")
ENV_MODULES = ("**/src/shared/env/**", "**/src/env/**", "**/src/**/env.ts", "**/src/**/env.js",
               "**/src/**/*-env.ts", "**/env.py", "**/settings.py")
#: a secret's name as env modules declare it: OPENROUTER_API_KEY, LITELLM_MASTER_KEY, GH_TOKEN
SECRET = re.compile(r"\b([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*_(?:API_KEY|KEY|TOKEN|SECRET))\b")
REASON = re.compile(r"\b[A-Z][A-Z0-9_]*_REASON\b\s*(?::\s*[\w.]+\s*)?=\s*[\"']([a-z][a-z0-9_]*)[\"']")
DAO_REASONS = ("widget_payment", "credits_purchase", "platform_revenue_share", "system_donation")
RAILS = ("**/src/app/api/v1/payments/credits/**/route.ts", "**/src/features/payments/**", "**/src/shared/constants/**",
         "**/src/constants/**", "**/db-schema/**", "**/migrations/**")
MOST = 2_000_000  # bytes read from one file: enough for any env module or constants file


@dataclass
class Findings:
    """What the repository's code shows, each with where it was seen."""

    files: int = 0
    roots: list[str] = field(default_factory=list)
    env_modules: list[str] = field(default_factory=list)
    keys: dict[str, str] = field(default_factory=dict)  # key -> the env module declaring it
    adapters: dict[str, list[str]] = field(default_factory=dict)  # key -> adapter files naming its provider
    reasons: dict[str, list[str]] = field(default_factory=dict)  # reason -> files defining it


def survey(paths: Iterable[str], read: Callable[[str], bytes | None]) -> Findings:
    """What the code at `paths` shows (`read` gives a file's bytes)."""
    code = [p for p in paths if matches_any(CODE, p) and not matches_any(NOT_APP, p)]
    found = Findings(files=len(code), roots=layout.app_roots(code))
    for path in code:
        is_env = matches_any(ENV_MODULES, path)
        text = _text(read, path) if is_env or "constants" in path or "/adapters/" in path else ""
        if is_env:
            found.env_modules.append(path)
            for key in SECRET.findall(text):
                found.keys.setdefault(key, path)
        for reason in REASON.findall(text):
            found.reasons.setdefault(reason, []).append(path)
    adapters = [p for p in code if "/adapters/" in f"/{p}"]
    for key in found.keys:
        provider = _provider(key)
        named = [p for p in adapters if provider and provider in p.lower()]
        if named:
            found.adapters[key] = named
    return found


def _text(read: Callable[[str], bytes | None], path: str) -> str:
    data = read(path)
    return data[:MOST].decode("utf-8", errors="replace") if data else ""


def _provider(key: str) -> str:
    """The provider a key names: OPENROUTER_API_KEY -> openrouter, LITELLM_MASTER_KEY -> litellm."""
    head = re.sub(r"_(?:MASTER_|API_|ACCESS_|SECRET_)?(?:KEY|TOKEN|SECRET)$", "", key)
    return head.split("_")[0].lower() if head else ""


def render(found: Findings, name: str) -> str:
    """The spec for what was found, every decision on a commented line."""
    lines = [
        "# .cogni/repo-spec.yaml: the rules this repository is governed by, written by `cogni-review init`",
        f"# from what it found in {found.files} code file(s). Every line below says what it is and why;",
        "# review it, then commit it. In a pull request the policy is read from the base branch.",
        'schema_version: "0.2.1"',
        "",
        "intent:",
        f"  name: {_quoted(name)}",
        "",
    ]
    lines += _layout_lines(found)
    lines += _key_lines(found)
    lines += [
        "# Declare the DAO's payment rail here to turn on the address and reason gates by default:",
        "# payments_in:",
        "#   credits_topup:",
        "#     provider: <your payment backend>",
        '#     receiving_address: "0x..."   # the DAO\'s receiver: governed here, never in code',
        "",
        "gates:",
        "  - type: review-limits",
        "    id: review_limits",
        "    with: {max_changed_files: 40, max_total_diff_kb: 1500}",
        "",
        "  # No on-chain address in app or library code: `src/**` of every root listed above.",
        "  - type: wallet-address-literals",
        "",
    ]
    lines += _reason_lines(found)
    lines += [
        "  # Provider keys read only in the env modules and each provider's own adapter.",
        "  - type: provider-api-key-usage",
    ]
    if found.env_modules and not all(matches_any(("**/src/shared/env/**",), p) for p in found.env_modules):
        lines += ["    with:", "      env_modules:   # where the env schema is"]
        lines += [f"        - {_quoted(p)}" for p in found.env_modules]
    return "\n".join(lines) + "\n"


def _layout_lines(found: Findings) -> list[str]:
    lines = ["# Layout found. The gates' defaults (`src/**`, `src/shared/env/**`, the payment rails) are read"]
    lines.append("# relative to every app or package root, a folder holding a src/:")
    lines += [f"#   {root}" for root in found.roots[:40]] or ["#   (none: no folder holds a src/; set each gate's `paths`)"]
    if len(found.roots) > 40:
        lines.append(f"#   ... and {len(found.roots) - 40} more")
    lines.append("# Env modules (where keys may be read):")
    lines += [f"#   {p}" for p in found.env_modules[:20]] or ["#   (none found under src/shared/env/)"]
    return lines + [""]


def _key_lines(found: Findings) -> list[str]:
    if not found.keys:
        return ["# No provider key was found in an env module. Declare the keys that spend the DAO's money:",
                "# providers:", "#   <name>: {api_key_env: <NAME>_API_KEY}", ""]
    lines = ["# Keys your env modules declare. A key under `providers` is governed: read only in the env",
             "# modules and its provider's adapter. None is governed until you uncomment it:",
             "# providers:"]
    for key, module in sorted(found.keys.items()):
        adapters = found.adapters.get(key, [])
        seen = f"adapter: {adapters[0]}" if adapters else "no adapter names this provider yet"
        lines.append(f"#   {_provider(key) or key.lower()}: {{api_key_env: {key}}}   # declared in {module}; {seen}")
    return lines + [""]


def _reason_lines(found: Findings) -> list[str]:
    if not found.reasons:
        return ["  # Minting reasons on their rails (the DAO's four reasons by default; add yours under `reasons:`).",
                "  - type: widget-payment-reason", ""]
    lines = ["  # Minting reasons, each on its rails: the confirm route, the payments feature, the shared",
             "  # constants, DB schema and migrations of every app, and wherever the code defines it.",
             "  - type: widget-payment-reason", "    with:", "      reasons:"]
    for reason in sorted(set(DAO_REASONS) | set(found.reasons)):
        files = found.reasons.get(reason, [])
        said = f"defined in {', '.join(files[:3])}" if files else "one of the DAO's reasons"
        lines.append(f"        {reason}:   # {said}")
        lines += [f"          - {_quoted(g)}" for g in dict.fromkeys(RAILS + tuple(files))]
    return lines + [""]


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
