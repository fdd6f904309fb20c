"""At every transition the next actor gets an e-mail (request id and title only), through
a real SMTP conversation with a local aiosmtpd sink."""

from __future__ import annotations

import time
from collections.abc import Iterator
from email import message_from_bytes
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from release_chain import PASS, SPEC, no_fsync  # noqa: F401
from service_fixtures import ServerThread, Stack, free_port, make_stack

from primex.service.app import create_app
from primex.service.settings import SmtpSettings


class Sink:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], bytes]] = []

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        self.messages.append((list(envelope.rcpt_tos), envelope.content))  # type: ignore[attr-defined]
        return "250 OK"


@pytest.fixture
def mailed(request: pytest.FixtureRequest, tmp_path: Path,
           monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Stack, Sink]]:
    monkeypatch.setenv("PRIMEX_PASSPHRASE_SPP", PASS)
    sink = Sink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    state, chain, service_port = make_stack(
        tmp_path, request, "sqlite",
        smtp=SmtpSettings(host="127.0.0.1", port=port, sender="primex@spp.example"))
    try:
        with ServerThread(create_app(state.settings, state), service_port) as server:
            yield Stack(server.url, chain, state, "sqlite"), sink
    finally:
        state.close()
        controller.stop()


def _wait(sink: Sink, count: int) -> None:
    deadline = time.monotonic() + 10
    while len(sink.messages) < count and time.monotonic() < deadline:
        time.sleep(0.05)


def test_each_transition_mails_the_next_actor_only_id_and_title(
        mailed: tuple[Stack, Sink]) -> None:
    stack, sink = mailed
    text = SPEC.format(key=stack.chain.ids["alice"].encryption_public_key)
    with stack.client("alice") as alice, stack.client("olivia") as olivia:
        rid = alice.submit(text)["request"]
        _wait(sink, 1)
        olivia.decide(rid, "return", {"reasons": ["the purpose is too vague"]})
        _wait(sink, 2)
        alice.submit(f"id: {rid}\n" + text.replace("variables: [age, sex, region, category]",
                                                   "variables: [age, region, category]"))
        _wait(sink, 3)
        olivia.decide(rid, "approval", {"conditions": []})
        _wait(sink, 4)
    assert [to for to, _ in sink.messages] == [
        ["olivia@example.org"], ["alice@example.org"], ["olivia@example.org"],
        ["spp@example.org"]]
    title = "Labour-market trajectories of young adults after RI"
    for (_to, raw), state in zip(sink.messages, ["submitted", "returned", "submitted",
                                                 "approved"], strict=True):
        mail = message_from_bytes(raw)
        assert mail["Subject"] == f"[primex] {rid}: {state}"
        body = mail.get_payload(decode=True).decode()
        assert rid in body and title in body
        # no reasons, names, organisation or spec contents by e-mail
        for private in ("vague", "alice", "olivia", "HIVA", "age", "Alice"):
            assert private not in body
