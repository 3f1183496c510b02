"""The change-notification receiver, without a server: every refusal, and the one acceptance."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from cchc.service.events import EOFFICE_CHANGED, ONESTOP_CHANGED
from cchc.service.hooks import create_app, parse_notification, sign, signature_ok

SECRET = "s3cret"
URL = "/hooks/onestop"
GOOD = json.dumps({"event": "dossier.changed", "changed_since": "2026-11-25T17:00:00Z",
                   "count": 12}).encode()


class Recorder:
    def __init__(self, ok: bool = True) -> None:
        self.events: list[tuple[str, str, dict]] = []
        self.ok = ok

    def __call__(self, event: str, resource: str, payload: dict) -> bool:
        self.events.append((event, resource, payload))
        return self.ok


@pytest.fixture
def emitted() -> Recorder:
    return Recorder()


class Client:
    """A synchronous front to httpx's ASGI transport (no network, no server)."""

    def __init__(self, app) -> None:
        self.app = app

    def request(self, method: str, url: str, **kwargs) -> httpx.Response:
        async def go() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://hook") as c:
                return await c.request(method, url, **kwargs)

        return asyncio.run(go())

    def post(self, url: str, **kwargs) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    def get(self, url: str, **kwargs) -> httpx.Response:
        return self.request("GET", url, **kwargs)


@pytest.fixture
def client(emitted: Recorder) -> Client:
    return Client(create_app(SECRET, emitted, max_bytes=64 * 1024))


def post(client: Client, body: bytes, signature: str | None = "auto", **headers: str):
    if signature == "auto":
        signature = sign(body, SECRET)
    if signature is not None:
        headers["X-Signature"] = signature
    return client.post(URL, content=body, headers={"Content-Type": "application/json", **headers})


def test_sign_matches_the_documented_format() -> None:
    import hashlib
    import hmac

    expected = hmac.new(SECRET.encode(), GOOD, hashlib.sha256).hexdigest()
    assert sign(GOOD, SECRET) == f"sha256={expected}"
    assert signature_ok(GOOD, f"sha256={expected}", SECRET)
    assert signature_ok(GOOD, f"SHA256={expected.upper()}", SECRET)  # hex is case-insensitive
    assert not signature_ok(GOOD, f"sha256={expected}", "other")
    assert not signature_ok(GOOD, None, SECRET)


def test_signed_notification_is_accepted_and_emits_one_event(client, emitted) -> None:
    response = post(client, GOOD)
    assert response.status_code == 202
    assert emitted.events == [(ONESTOP_CHANGED, "cchc.source.onestop",
                               {"changed_since": "2026-11-25T17:00:00Z", "count": 12,
                                "source_system": "onestop"})]


@pytest.mark.parametrize("signature", [None, "", "sha256=", "sha256=" + "0" * 64, "md5=abc",
                                       sign(GOOD, "wrong-secret"), sign(GOOD + b" ", SECRET)])
def test_unsigned_or_badly_signed_is_401_and_emits_nothing(client, emitted, signature) -> None:
    assert post(client, GOOD, signature=signature).status_code == 401
    assert emitted.events == []


def test_oversized_by_content_length_is_413(client, emitted) -> None:
    body = b"{" + b" " * (64 * 1024) + b"}"
    assert post(client, body).status_code == 413
    assert emitted.events == []


def test_oversized_chunked_body_is_cut_off_while_streaming(client, emitted) -> None:
    chunk = b" " * 8192

    async def body():
        for _ in range(20):  # 160 KiB, no Content-Length
            yield chunk

    response = client.post(URL, content=body(), headers={"X-Signature": "sha256=" + "0" * 64})
    assert response.status_code == 413
    assert emitted.events == []


def test_exactly_the_limit_is_accepted(emitted) -> None:
    doc = {"event": "dossier.changed", "changed_since": "2026-11-25T17:00:00Z", "count": 1, "pad": ""}
    base = len(json.dumps(doc).encode())
    doc["pad"] = "x" * (1024 - base)
    body = json.dumps(doc).encode()
    assert len(body) == 1024
    small = Client(create_app(SECRET, emitted, max_bytes=1024))
    assert post(small, body).status_code == 202
    assert post(small, body + b" ").status_code == 413


@pytest.mark.parametrize("body", [
    b"not json", b"\xff\xfe", b"[]", b"null",
    json.dumps({"event": "dossier.deleted", "changed_since": "2026-11-25T17:00:00Z", "count": 1}).encode(),
    json.dumps({"event": "dossier.changed", "changed_since": "yesterday", "count": 1}).encode(),
    json.dumps({"event": "dossier.changed", "changed_since": "2026-11-25T17:00:00", "count": 1}).encode(),
    json.dumps({"event": "dossier.changed", "changed_since": "2026-11-25T17:00:00Z", "count": -1}).encode(),
    json.dumps({"event": "dossier.changed", "changed_since": "2026-11-25T17:00:00Z", "count": "3"}).encode(),
    json.dumps({"event": "dossier.changed", "changed_since": "2026-11-25T17:00:00Z", "count": True}).encode(),
    json.dumps({"event": "dossier.changed", "count": 1}).encode(),
])
def test_malformed_or_wrong_shape_is_400(client, emitted, body) -> None:
    assert post(client, body).status_code == 400
    assert emitted.events == []


def test_bad_content_length_is_400(client, emitted) -> None:
    response = post(client, GOOD, **{"Content-Length": "abc"})
    assert response.status_code == 400
    assert emitted.events == []


def test_event_that_cannot_be_handed_on_is_503_so_the_sender_retries() -> None:
    failing = Recorder(ok=False)
    response = post(Client(create_app(SECRET, failing)), GOOD)
    assert response.status_code == 503


def test_an_emitter_that_raises_does_not_take_the_receiver_down(emitted) -> None:
    def boom(*args):
        raise RuntimeError("boom")

    client = Client(create_app(SECRET, boom))
    assert post(client, GOOD).status_code == 500
    assert post(client, GOOD).status_code == 500  # still answering
    assert client.get("/health").status_code == 200


def test_wrong_method_and_path(client, emitted) -> None:
    assert client.get(URL).status_code == 405
    assert client.post("/hooks/other", content=GOOD).status_code == 404
    assert emitted.events == []


def test_parse_notification_returns_the_fields() -> None:
    note = parse_notification(GOOD)
    assert (note.changed_since, note.count) == ("2026-11-25T17:00:00Z", 12)


def test_each_source_system_has_its_own_hook_and_event(client, emitted) -> None:
    body = json.dumps({"event": "document.changed", "changed_since": "2026-11-25T17:00:00Z",
                       "count": 3}).encode()
    response = client.post("/hooks/eoffice", content=body,
                           headers={"Content-Type": "application/json", "X-Signature": sign(body, SECRET)})
    assert response.status_code == 202
    assert emitted.events == [(EOFFICE_CHANGED, "cchc.source.eoffice",
                               {"changed_since": "2026-11-25T17:00:00Z", "count": 3,
                                "source_system": "eoffice"})]
    # A dossier notification at the document hook is malformed there; an unknown system is 404.
    wrong = client.post("/hooks/eoffice", content=GOOD, headers={"X-Signature": sign(GOOD, SECRET)})
    assert wrong.status_code == 400
    unknown = client.post("/hooks/other", content=GOOD, headers={"X-Signature": sign(GOOD, SECRET)})
    assert unknown.status_code == 404
    assert len(emitted.events) == 1


# ------------------------------------------------------------- default secret, replays


@pytest.mark.parametrize("secret", ["", "change-me", " change-me "])
def test_the_receiver_refuses_to_run_on_the_default_secret(emitted, secret) -> None:
    from cchc.service.hooks import WeakSecret

    with pytest.raises(WeakSecret, match="CCHC_HOOK_SECRET"):
        create_app(secret, emitted)


def note(**extra) -> bytes:
    return json.dumps({"event": "dossier.changed", "changed_since": "2026-11-25T17:00:00Z",
                       "count": 12, **extra}).encode()


def test_a_replayed_notification_is_409_and_starts_nothing(client, emitted) -> None:
    assert post(client, GOOD).status_code == 202
    again = post(client, GOOD)
    assert again.status_code == 409 and "replay" in again.json()["error"]
    assert len(emitted.events) == 1
    # the same change told again with its own id is a new notification
    assert post(client, note(id="n-2")).status_code == 202
    assert emitted.events[-1][2]["id"] == "n-2"
    assert post(client, note(id="n-2")).status_code == 409
    assert len(emitted.events) == 2


def test_signatures_are_remembered_for_the_window_only(emitted) -> None:
    now = [1000.0]
    client = Client(create_app(SECRET, emitted, replay_window_s=600, clock=lambda: now[0]))
    assert post(client, GOOD).status_code == 202
    now[0] += 599
    assert post(client, GOOD).status_code == 409
    now[0] += 2
    assert post(client, GOOD).status_code == 202  # forgotten: hence sent_at, below


def test_sent_at_outside_the_window_is_refused(client, emitted) -> None:
    from datetime import UTC, datetime, timedelta

    old = (datetime.now(UTC) - timedelta(minutes=11)).isoformat()
    fresh = datetime.now(UTC).isoformat()
    response = post(client, note(sent_at=old))
    assert response.status_code == 400 and "sent_at" in response.json()["error"]
    assert post(client, note(sent_at="yesterday")).status_code == 400
    assert post(client, note(sent_at=fresh)).status_code == 202
    assert len(emitted.events) == 1


def test_a_503_body_is_not_remembered_so_the_senders_retry_goes_through() -> None:
    flaky = Recorder(ok=False)
    client = Client(create_app(SECRET, flaky))
    assert post(client, GOOD).status_code == 503
    flaky.ok = True
    assert post(client, GOOD).status_code == 202
    assert post(client, GOOD).status_code == 409
