"""Asking a model: an OpenAI-compatible chat-completions client, and the only home of httpx.

`chat` posts one conversation to `{endpoint.url}/chat/completions` and returns the reply's text.
It retries what is worth retrying (HTTP 429 and 5xx, a connection that failed), backing off
(honouring `Retry-After`), and never runs past its deadline: the exchange runs in a daemon
thread the caller stops waiting for, so a server that never answers cannot hold a check up.

Nothing leaves the machine unredacted: `chat` passes every message through `redact`, which
replaces the values of env assignments and anything shaped like a secret with `[redacted]`.
`Evidence` is what a model is shown of a change: its title, body and patches, redacted (so it
can count what it redacted and measure what it sends), cut to a byte budget, and framed so the
change cannot pass itself off as instructions; files that hold keys, and binary ones, are never sent.

httpx is an optional extra (`pip install 'cogni-review[ai]'`): without it `available()` is
False and a gate says so instead of crashing.
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any, Iterable
from urllib.parse import urlsplit

from cogni_review.diff import Change
from cogni_review.globs import matches_any

#: files never sent, whatever their patch: they hold keys
KEY_FILES = ("*.pem", "*.key", "*.p12", "*.pfx", "*.jks", "*.keystore", "id_rsa*", "id_dsa*", "id_ecdsa*",
             "id_ed25519*", ".netrc", ".npmrc", ".pypirc", ".git-credentials")
REDACTED = "[redacted]"
RETRIED = frozenset({408, 409, 429, 500, 502, 503, 504})
#: a name read as an env var's (upper snake case), in `NAME=value`, `export NAME=value`, `NAME: value`
_ENV_NAME = r"[A-Z][A-Z0-9_]*[A-Z0-9]"
_VALUE = r"""(?:\$\{\{[^}\n]*\}\}|"[^"\n]*"|'[^'\n]*'|[^\s"'#,;]+)"""
#: (pattern, group holding the secret): each match's group is replaced, most specific shapes first
PATTERNS: tuple[tuple[re.Pattern[str], int], ...] = tuple(
    (re.compile(pattern), group) for pattern, group in (
        # PEM private keys, whole blocks (a patch prefixes each line with `+`, which stays)
        (r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|\Z)", 0),
        # shapes of well-known credentials
        (r"\b(?:sk|rk|pk)-[A-Za-z0-9_-]{16,}", 0),  # provider keys (`sk-...`, `sk-or-v1-...`)
        (r"\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}", 0),  # payment processor keys
        (r"\bgh[pousr]_[A-Za-z0-9]{30,}|\bgithub_pat_[A-Za-z0-9_]{30,}", 0),
        (r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b", 0),
        (r"\bxox[abposr]-[A-Za-z0-9-]{10,}", 0),
        (r"\bAIza[0-9A-Za-z_-]{35}", 0),
        (r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}", 0),  # JWTs
        (r"(?i)\b(?:bearer|basic)[ \t]+([A-Za-z0-9._~+/=-]{16,})", 1),
        (r"\b[a-z][a-z0-9+.-]*://[^/\s:@]+:([^@\s/]+)@", 1),  # credentials in a URL
        (r"(?<![0-9a-fA-F])(?:0x)?[0-9a-fA-F]{64}(?![0-9a-fA-F])", 0),  # a 32-byte private key
        # env assignments: dotenv, shell, Dockerfile ENV, YAML `env:` blocks, code that writes the environment
        (rf"(?<![\w.$])(?:export[ \t]+|ENV[ \t]+)?{_ENV_NAME}=(?!=)({_VALUE})", 1),
        (rf"(?<![\w.$-]){_ENV_NAME}:[ \t]+({_VALUE})", 1),
        (rf"(?:process\.env\.\w+|environ\[[^\]\n]+\])[ \t]*=(?!=)[ \t]*({_VALUE})", 1),
        (rf"(?:setenv|putenv|setdefault)\(\s*[^,\n]+,\s*({_VALUE})", 1),
        # values of keys named like secrets, in any case and notation
        (r"(?i)(?<![\w-])[\w.-]*(?:secret|token|passw(?:or)?d|pwd|api[_-]?key|private[_-]?key|access[_-]?key|"
         rf"credential|auth)s?(?-i:(?![a-z]))[\w.-]*[\"']?[ \t]*[:=][ \t]*({_VALUE})", 1),
    )
)


class Unavailable(Exception):
    """The HTTP client library is not installed."""


class Timeout(Exception):
    """The deadline passed before the model answered."""


class ProviderError(Exception):
    """The endpoint answered with an error, or not at all, after the retries it deserved."""


@dataclass(frozen=True)
class Endpoint:
    """Where a model is asked: the base URL (`.../v1` or a proxy's root), its key, and which
    part of the spec named them (for messages; never the key)."""

    url: str
    key: str
    source: str

    @property
    def host(self) -> str:
        return urlsplit(self.url).netloc or self.url


def available() -> bool:
    try:
        import httpx  # noqa: F401
    except ImportError:
        return False
    return True


def redact(text: str, secrets: Iterable[str] = ()) -> tuple[str, int]:
    """`text` with every secret-shaped value replaced by `[redacted]`, and how many were."""
    count = 0
    for secret in sorted({s for s in secrets if len(s) >= 8}, key=len, reverse=True):
        count += text.count(secret)
        text = text.replace(secret, REDACTED)
    for pattern, group in PATTERNS:
        replaced = [0]

        def blank(match: re.Match[str], group: int = group) -> str:
            value, whole = match.group(group), match.group(0)
            if not value.strip("\"'") or value.strip("\"'").startswith(REDACTED):
                return whole
            replaced[0] += 1
            start, end = match.start(group) - match.start(0), match.end(group) - match.start(0)
            return whole[:start] + REDACTED + whole[end:]

        text = pattern.sub(blank, text)
        count += replaced[0]
    return text, count


def chat(endpoint: Endpoint, model: str, messages: list[dict[str, str]], *, deadline: float,
         secrets: Iterable[str] = (), retries: int = 3, backoff: float = 0.5) -> str:
    """The model's reply to `messages` (their content redacted first), by `deadline` (a
    `time.monotonic()` value). Raises Unavailable, Timeout or ProviderError."""
    if not available():
        raise Unavailable("the HTTP client (httpx) is not installed: pip install 'cogni-review[ai]'")
    keep = tuple(secrets) + (endpoint.key,)
    payload = {
        "model": model,
        "messages": [{**m, "content": redact(m["content"], keep)[0]} for m in messages],
        "temperature": 0,
        "response_format": {"type": "json_object"},
    }
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["reply"] = _exchange(endpoint, payload, deadline, retries, backoff)
        except BaseException as e:  # handed to the waiting thread, which raises it
            outcome["error"] = e

    worker = threading.Thread(target=run, name="cogni-review-llm", daemon=True)
    worker.start()
    worker.join(max(0.0, deadline - time.monotonic()))
    if worker.is_alive():
        raise Timeout(f"{endpoint.host} did not answer in time")
    if "error" in outcome:
        error = outcome["error"]
        raise Timeout(str(error) or f"{endpoint.host} did not answer in time") if isinstance(error, Timeout) else error
    return outcome["reply"]


def _exchange(endpoint: Endpoint, payload: dict, deadline: float, retries: int, backoff: float) -> str:
    import httpx

    url = endpoint.url.rstrip("/") + "/chat/completions"
    headers = {"Authorization": f"Bearer {endpoint.key}", "Content-Type": "application/json"}
    problem = ""
    with httpx.Client(follow_redirects=False) as client:
        for attempt in range(retries + 1):
            left = deadline - time.monotonic()
            if left <= 0:
                raise Timeout(problem)
            try:
                response = client.post(url, json=payload, headers=headers, timeout=httpx.Timeout(left))
            except httpx.TimeoutException:
                raise Timeout(f"{endpoint.host} did not answer in time") from None
            except (httpx.InvalidURL, httpx.UnsupportedProtocol) as e:
                raise ProviderError(f"{endpoint.url!r} from {endpoint.source} is not an http(s) URL: {e}") from None
            except httpx.TransportError as e:
                problem = f"cannot reach {endpoint.host}: {type(e).__name__}: {e}"
                wait = backoff * 2 ** attempt
            else:
                if response.status_code < 300:
                    return _content(response, endpoint)
                problem = f"{endpoint.host} answered HTTP {response.status_code}: {_snippet(response.text)}"
                if response.status_code not in RETRIED:
                    raise ProviderError(problem + _advice(response.status_code, endpoint))
                wait = _retry_after(response.headers.get("retry-after"), backoff * 2 ** attempt)
            if attempt < retries:
                if time.monotonic() + wait >= deadline:
                    raise Timeout(f"{problem}; the next try would be past the deadline")
                time.sleep(wait)
    raise ProviderError(f"{problem} ({retries + 1} tries)")


def _content(response: Any, endpoint: Endpoint) -> str:
    """The first choice's message text; a ProviderError when the body is not a chat completion."""
    try:
        content = response.json()["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError):
        raise ProviderError(f"{endpoint.host} answered with something that is not a chat completion: "
                            f"{_snippet(response.text)}") from None
    if not isinstance(content, str):
        raise ProviderError(f"{endpoint.host} answered a chat completion without text")
    return content


def _retry_after(header: str | None, default: float) -> float:
    if not header:
        return default
    try:
        return max(0.0, float(header))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(header).timestamp() - time.time())
    except (TypeError, ValueError):
        return default


def _advice(status: int, endpoint: Endpoint) -> str:
    if status in (401, 403):
        return f"; the key from {endpoint.source} was refused: check the secret"
    if status in (400, 404, 422):
        return "; check the model name (the gate's `model`, or `review.model` in the spec) and the endpoint's URL"
    return ""


def _snippet(text: str, limit: int = 200) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit] + "…"


@dataclass
class Evidence:
    """What the model is shown: title, body and patches, redacted and cut to a byte budget."""

    text: str = ""
    sent: list[str] = field(default_factory=list)
    cut: list[str] = field(default_factory=list)
    withheld: dict[str, str] = field(default_factory=dict)
    redacted: int = 0
    budget: int = 0

    @classmethod
    def gather(cls, change: Change, budget: int, secrets: list[str]) -> Evidence:
        """The smallest patches first, so a budget shows as many whole files as it can: the first
        that does not fit is cut, the rest are not sent. They are shown in path order."""
        evidence = cls(budget=budget)
        title, body = change.title.strip() or "(no title)", change.body.strip() or "(no description)"
        if len(body.encode()) > budget // 4:
            body = _cut(body, budget // 4) + "\n[the rest of the description was cut]"
            evidence.cut.append("description")
        head, evidence.redacted = _guarded(f"Title: {title}\n\nDescription:\n{body}\n\nChanges:\n", secrets)
        blocks: dict[str, tuple[str, int]] = {}
        for f in change.files:
            path = f.path or f.old_path
            if matches_any(KEY_FILES, path):
                evidence.withheld[path] = "may hold a key"
            elif "\0" in f.patch:
                evidence.withheld[path] = "binary"
            else:
                blocks[path] = _block(f, secrets)
        room, cutting, shown = budget - len(head.encode()), True, {}
        for path, (block, redacted) in sorted(blocks.items(), key=lambda item: len(item[1][0].encode())):
            if len(block.encode()) > room:
                if not (cutting and room > 200):
                    evidence.withheld[path] = "over the budget"
                    continue
                fence = block.split("diff\n", 1)[0].rsplit("\n", 1)[-1]
                block = _cut(block, room - 80) + f"\n{fence}\n[the rest of {path} was cut]\n"
                evidence.cut.append(path)
                cutting = False
            else:
                evidence.sent.append(path)
            shown[path] = block
            evidence.redacted += redacted
            room -= len(block.encode())
        evidence.text = head + "".join(shown[path] for path in sorted(shown))
        evidence.sent.sort()
        return evidence

    def framed(self) -> str:
        """The evidence between `<pull-request>` tags, which nothing inside it can close."""
        return f"<pull-request>\n{self.text}</pull-request>\n\n"

    def notice(self) -> str:
        """What the model is told of what it was not shown."""
        missing = [*(f"{p} (cut)" for p in self.cut), *(f"{p} ({why})" for p, why in self.withheld.items())]
        if not missing:
            return ""
        return (f"Not everything was shown (a {self.budget // 1024} KB budget): {', '.join(missing)}. Judge only what "
                "you were shown, and say so where it matters.\n\n")

    def describe(self, host: str, model: str) -> str:
        sent = ", ".join(self.sent) or "no file"
        line = f"sent to {host} ({model}): title, description, {len(self.sent)} file(s): {sent}"
        if self.cut:
            line += f"; cut to fit {self.budget // 1024} KB: {', '.join(self.cut)}"
        if self.withheld:
            line += "; not sent: " + ", ".join(f"{p} ({why})" for p, why in self.withheld.items())
        return line + f"; {self.redacted} value(s) redacted"

    def stats(self) -> dict[str, Any]:
        return {"files_sent": self.sent, "files_cut": self.cut, "files_not_sent": dict(self.withheld),
                "evidence_bytes": len(self.text.encode()), "redacted": self.redacted}


def _guarded(text: str, secrets: list[str]) -> tuple[str, int]:
    """`text` redacted, and made unable to close the `<pull-request>` it is shown in."""
    text, count = redact(text, secrets)
    return text.replace("</pull-request>", "</pull-request\u200b>"), count


def _block(f: Any, secrets: list[str]) -> tuple[str, int]:
    """One file's patch as the model is shown it, and how many values were redacted from it."""
    moved = f", from {f.old_path}" if f.old_path and f.path and f.old_path != f.path else ""
    patch, redacted = _guarded(f.patch, secrets) if f.patch else ("(no change to its content)\n", 0)
    fence = "~~~~" if "```" in patch else "```"
    return f"### {f.path or f.old_path} ({f.status}{moved})\n{fence}diff\n{patch.rstrip()}\n{fence}\n", redacted


def _cut(text: str, size: int) -> str:
    """`text` cut to at most `size` bytes of UTF-8, at a line's end where there is one."""
    head = text.encode()[:max(size, 0)].decode("utf-8", "ignore")
    return head[:head.rfind("\n")] if "\n" in head else head


def parse_json(text: str) -> Any:
    """A reply's JSON, from the text or the one fenced block it is wrapped in; ValueError if none."""
    stripped = text.strip()
    fenced = re.fullmatch(r"```[a-zA-Z]*\s*\n(.*?)\n?```", stripped, re.S)
    return json.loads(fenced.group(1) if fenced else stripped)
