"""Examples as tests: a gate's examples run through the engine, exactly as a repository would be.

`judge(plugin, example)` runs one example. A file gate's example is an audit of a one-file
snapshot in memory with the gate configured by its examples' options, so it exercises the gate's
file selection, its `candidates` prefilter, its `scan`, the suppression and comment handling,
and the result the engine builds. A change gate's example is a check of a real change: the base
files are committed to a new git repository, the head's changes on top of them, and the gate
judges git's diff of the two with the base's spec, as `cogni-review check` would.

An example's `replies` are what a model answers: they are served, in order, by a `ChatServer`, a
local server speaking the chat-completions protocol over a real socket, whose URL and key the
example's spec reads from the env vars `EXAMPLE_LLM_URL` and `EXAMPLE_LLM_KEY`.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
import threading
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Mapping

from cogni_review import config, diff, engine
from cogni_review.catalog import ResolvedGate
from cogni_review.config import Spec
from cogni_review.gate import ChangeExample, Example, Plugin
from cogni_review.git import Repository
from cogni_review.model import Report, Violation

EXAMPLE_KEY = "example-key-0123456789"


@dataclass
class Files:
    """A snapshot held in memory: path -> bytes."""

    files: dict[str, bytes]
    label: str = "example"
    skipped: dict[str, str] = field(default_factory=dict)

    def paths(self) -> list[str]:
        return sorted(self.files)

    def read(self, path: str) -> bytes | None:
        return self.files.get(path)

    def blob_id(self, path: str) -> str | None:
        return None


def gate_of(plugin: Plugin, options: dict | None = None, spec: Spec | None = None,
            environ: Mapping[str, str] | None = None) -> ResolvedGate:
    """The gate as a spec listing it with `options` (default: its examples' options) would run it."""
    chosen = dict(plugin.examples.options) if options is None else options
    context = {"spec": spec, "environ": environ}
    return ResolvedGate(plugin.type, plugin.type, plugin, plugin.options.model_validate(chosen, context=context))


def judge(plugin: Plugin, example: Example | ChangeExample, options: dict | None = None) -> Report:
    """A file example: an audit of its file alone in a repository, by this gate alone. A change
    example: a check of its change in a new git repository, by this gate alone."""
    if isinstance(example, ChangeExample):
        return judge_change(plugin, example, options)
    snapshot = Files({example.path: example.code.encode()})
    return engine.run([gate_of(plugin, options)], engine.Sides.of_snapshot(snapshot))


def judge_change(plugin: Plugin, example: ChangeExample, options: dict | None = None) -> Report:
    with tempfile.TemporaryDirectory(prefix="cogni-example-") as folder, ChatServer(example.replies) as server:
        root = Path(folder)
        _git(root, "init", "-q", "-b", "main")
        base = _commit(root, example.base, "base")
        head = _commit(root, example.head, "change")
        repo = Repository(root)
        with repo.reading():
            base_snap, head_snap = repo.revision(base), repo.revision(head)
            change = diff.between(repo, base, head, base_snap, head_snap)
            change = replace(change, title=example.title, body=example.body)
            spec_text = example.base.get(config.DEFAULT_SPEC, "")
            spec = config.parse(spec_text, f"{config.DEFAULT_SPEC} (example)").spec
            environ = {"EXAMPLE_LLM_URL": server.url, "EXAMPLE_LLM_KEY": EXAMPLE_KEY}
            gate = gate_of(plugin, options, spec, environ)
            return engine.run([gate], engine.Sides.of_change(change))


def _commit(root: Path, files: Mapping[str, str | None], message: str) -> str:
    for path, text in files.items():
        full = root / path
        if text is None:
            full.unlink()
            continue
        full.parent.mkdir(parents=True, exist_ok=True)
        full.write_text(text, encoding="utf-8")
    _git(root, "add", "-A")
    _git(root, "-c", "user.name=example", "-c", "user.email=example@example.org", "-c", "commit.gpgsign=false",
         "commit", "-q", "--allow-empty", "--no-verify", "-m", message)
    return _git(root, "rev-parse", "HEAD").strip()


def _git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True).stdout


def findings(report: Report) -> list[Violation]:
    return [v for gate in report.gates if gate.type != engine.SUPPRESSIONS for v in gate.violations]


# --------------------------------------------------------------------------- a model, scripted


@dataclass(frozen=True)
class Reply:
    """One scripted answer: an HTTP status, a body, headers, and how long to wait before it."""

    status: int = 200
    body: str = ""
    headers: tuple[tuple[str, str], ...] = ()
    delay: float = 0.0

    @classmethod
    def content(cls, text: str | dict) -> Reply:
        """A chat completion whose message is `text` (a dict is sent as its JSON)."""
        message = text if isinstance(text, str) else json.dumps(text)
        completion = {"id": "chatcmpl-example", "object": "chat.completion", "created": 0, "model": "scripted",
                      "choices": [{"index": 0, "finish_reason": "stop",
                                   "message": {"role": "assistant", "content": message}}]}
        return cls(200, json.dumps(completion), (("Content-Type", "application/json"),))

    @classmethod
    def error(cls, status: int, retry_after: str | None = None) -> Reply:
        headers = (("Content-Type", "application/json"),) + ((("Retry-After", retry_after),) if retry_after else ())
        return cls(status, json.dumps({"error": {"message": f"scripted HTTP {status}"}}), headers)

    @classmethod
    def slow(cls, seconds: float, then: Reply | None = None) -> Reply:
        return replace(then or cls.content("{}"), delay=seconds)


class ChatServer:
    """A local server speaking the chat-completions protocol, on a real loopback socket: it
    answers each POST to `.../chat/completions` with the next scripted reply (the last one
    repeats) and records every request it received (`requests`: path, headers, JSON body)."""

    def __init__(self, replies: tuple[Reply | str | dict, ...] | list = ()) -> None:
        self.replies = [r if isinstance(r, Reply) else Reply.content(r) for r in replies]
        self.requests: list[dict[str, Any]] = []
        self._stop = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._server.block_on_close = False
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,), daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def __enter__(self) -> ChatServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()

    def _next(self) -> Reply:
        index = min(len(self.requests) - 1, len(self.replies) - 1)
        return self.replies[index] if self.replies else Reply.error(503)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server hook's name
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = raw.decode("utf-8", "replace")
                server.requests.append({"path": self.path, "headers": dict(self.headers), "json": body})
                reply = server._next() if self.path.endswith("/chat/completions") else Reply.error(404)
                if server._stop.wait(reply.delay):
                    return
                data = reply.body.encode()
                try:
                    self.send_response(reply.status)
                    for name, value in reply.headers:
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:  # the client gave up waiting
                    pass

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
                pass

        return Handler

