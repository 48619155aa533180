"""The model client on its own: what redaction keeps and removes, and how the client ends."""

from __future__ import annotations

import socket
import time

import pytest

from cogni_review import llm
from cogni_review.testing import ChatServer, Reply


@pytest.mark.parametrize(("text", "expected"), [
    pytest.param("+DATABASE_URL=postgres://db/x", "+DATABASE_URL=[redacted]", id="dotenv"),
    pytest.param('export OPENROUTER_API_KEY="abc"', "export OPENROUTER_API_KEY=[redacted]", id="shell-export"),
    pytest.param("ENV SIGNING_SALT=tomato", "ENV SIGNING_SALT=[redacted]", id="dockerfile"),
    pytest.param("    LITELLM_MASTER_KEY: ${{ secrets.KEY }}", "    LITELLM_MASTER_KEY: [redacted]", id="yaml-env-block"),
    pytest.param("process.env.FEE = '5'", "process.env.FEE = [redacted]", id="js-env-write"),
    pytest.param('os.environ["FEE"] = "5"', 'os.environ["FEE"] = [redacted]', id="py-env-write"),
    pytest.param('os.environ.setdefault("FEE", "5")', 'os.environ.setdefault("FEE", [redacted])', id="py-setdefault"),
    pytest.param('db_password = "hunter2"', "db_password = [redacted]", id="secret-named-key"),
    pytest.param('"apiToken": "abc"', '"apiToken": [redacted]', id="camel-case-key"),
    pytest.param("Authorization: Bearer abcdefghijklmnop0123", "Authorization: Bearer [redacted]", id="bearer"),
    pytest.param("url = 'https://bot:longpassword@host/x'", "url = 'https://bot:[redacted]@host/x'", id="url-credentials"),
    pytest.param("k = 'sk-or-v1-" + "a" * 40 + "'", "k = '[redacted]'", id="provider-key"),
    pytest.param("t = ghp_" + "A" * 36, "t = [redacted]", id="github-token"),
    pytest.param("AKIAABCDEFGHIJKLMNOP", "[redacted]", id="aws-key-id"),
    pytest.param("pk = 0x" + "4c0883a6" * 8, "pk = [redacted]", id="32-byte-private-key"),
    pytest.param("-----BEGIN EC PRIVATE KEY-----\n+MHcCAQEE\n+-----END EC PRIVATE KEY-----", "[redacted]", id="pem"),
])
def test_secrets_and_env_values_are_redacted(text: str, expected: str) -> None:
    redacted, count = llm.redact(text)
    assert (redacted, count) == (expected, 1)
    assert llm.redact(redacted) == (redacted, 0)  # redacting again changes nothing


@pytest.mark.parametrize("text", [
    pytest.param("MAX_FILES = 40", id="a-constant"),
    pytest.param("if (a == B) { x = FOO==1 }", id="comparisons"),
    pytest.param('"tokenizer": "bpe", author: jane', id="words-that-contain-a-keyword"),
    pytest.param('const to = "0x52908400098527886E0F7030069857D2E4169EE7";', id="a-public-address"),
    pytest.param("see https://example.org/a:b@c", id="a-plain-url"),
])
def test_code_that_holds_no_secret_is_left_alone(text: str) -> None:
    assert llm.redact(text) == (text, 0)


def test_known_secret_values_are_redacted_wherever_they_appear() -> None:
    assert llm.redact("say the-real-key-123 twice: the-real-key-123", ["the-real-key-123", "short"]) == (
        "say [redacted] twice: [redacted]", 2)


def test_chat_redacts_what_it_sends_and_returns_the_reply() -> None:
    with ChatServer([Reply.content("{}")]) as server:
        endpoint = llm.Endpoint(server.url, "sk-key-0123456789abcdef", "llm_proxy (KEY)")
        reply = llm.chat(endpoint, "m", [{"role": "user", "content": "KEY=sk-key-0123456789abcdef; TOKEN=x"}],
                         deadline=time.monotonic() + 5)
    assert reply == "{}"
    assert server.requests[0]["json"]["messages"] == [{"role": "user", "content": "KEY=[redacted]; TOKEN=[redacted]"}]


def test_an_unreachable_endpoint_is_retried_then_a_provider_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed when the block ends: nothing listens there
    endpoint = llm.Endpoint(f"http://127.0.0.1:{port}/v1", "k" * 16, "llm_proxy (KEY)")
    with pytest.raises(llm.ProviderError, match=rf"cannot reach 127.0.0.1:{port}: ConnectError: .* \(3 tries\)"):
        llm.chat(endpoint, "m", [{"role": "user", "content": "x"}], deadline=time.monotonic() + 10, retries=2, backoff=0.01)


def test_a_reply_that_is_not_a_chat_completion_is_a_provider_error() -> None:
    with ChatServer([Reply(200, "<html>proxy login</html>")]) as server:
        endpoint = llm.Endpoint(server.url, "k" * 16, "llm_proxy (KEY)")
        with pytest.raises(llm.ProviderError, match="answered with something that is not a chat completion: <html>"):
            llm.chat(endpoint, "m", [{"role": "user", "content": "x"}], deadline=time.monotonic() + 5)


def test_the_deadline_holds_even_when_the_server_never_answers() -> None:
    with ChatServer([Reply.slow(60)]) as server:
        endpoint = llm.Endpoint(server.url, "k" * 16, "llm_proxy (KEY)")
        started = time.monotonic()
        with pytest.raises(llm.Timeout):
            llm.chat(endpoint, "m", [{"role": "user", "content": "x"}], deadline=time.monotonic() + 0.3)
        assert time.monotonic() - started < 1.5


def test_a_retry_that_would_pass_the_deadline_is_a_timeout_at_once() -> None:
    with ChatServer([Reply.error(429, retry_after="30")]) as server:
        endpoint = llm.Endpoint(server.url, "k" * 16, "llm_proxy (KEY)")
        started = time.monotonic()
        with pytest.raises(llm.Timeout):
            llm.chat(endpoint, "m", [{"role": "user", "content": "x"}], deadline=time.monotonic() + 5)
        assert time.monotonic() - started < 1 and len(server.requests) == 1
