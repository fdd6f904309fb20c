"""Contract C5: a researcher's organisation comes from the signed log (their key_add), not
from the service's database; a researcher registered without one is refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from release_chain import PASS, SPEC, no_fsync  # noqa: F401  (autouse fixture)
from service_fixtures import OTHER_ORG, ServerThread, Stack, make_stack, sqlite_stack_fixture  # noqa: F401  (a fixture)
from sqlalchemy import text

from primex.audit.keys import create_identity, load_signer
from primex.cli import main
from primex.home import Home
from primex.service.accounts import add_account
from primex.service.client import RemoteClient, RemoteError


def spec_text(stack: Stack, researcher: str = "alice") -> str:
    return SPEC.format(key=stack.chain.ids[researcher].encryption_public_key)


def submit(stack: Stack) -> str:
    with stack.client("alice") as client:
        return str(client.submit(spec_text(stack))["request"])


@pytest.fixture(name="stack")
def sqlite_stack(sqlite_stack: Stack) -> Stack:
    return sqlite_stack


def test_editing_the_database_organisation_shows_no_other_request(stack: Stack) -> None:
    rid = submit(stack)  # alice, HIVA
    # the insider edits the service's database: eve's account now says alice's organisation
    # (the column the service read before C5)
    with stack.state.engine.begin() as conn:
        conn.execute(text("UPDATE accounts SET organisation = 'HIVA - KU Leuven' "
                          "WHERE key_name = 'eve'"))
    stack.state.forget_account("eve")
    with stack.client("eve") as eve:
        assert eve.call("GET", "/api/me")["organisation"] == OTHER_ORG
        with pytest.raises(RemoteError) as err:
            eve.status(rid)
        assert err.value.status == 404
        assert eve.status()["requests"] == []
        with pytest.raises(RemoteError) as err:
            eve.comments(rid)
        assert err.value.status == 404
        # nor submit for alice's organisation
        with pytest.raises(RemoteError) as err:
            eve.submit(spec_text(stack, "eve").replace("title: Labour", "title: Other"))
        assert err.value.status == 403


def test_researcher_without_organisation_in_the_log_is_refused(stack: Stack) -> None:
    home = stack.chain.home
    create_identity(home, "researcher", "zoe", PASS)
    from primex.audit.keys import load_identity

    with stack.state.log() as log:
        log.register_key(load_identity(home, "zoe"), stack.chain.signers["committee"])
        with pytest.raises(Exception, match="no organisation"):
            add_account(stack.state, log, "zoe", subject="sub-zoe")
    # even with an account row (made by hand in the database), zoe is refused
    with stack.state.engine.begin() as conn:
        conn.execute(text("INSERT INTO accounts (key_name, organisation, created) "
                          "VALUES ('zoe', 'HIVA - KU Leuven', CURRENT_TIMESTAMP)"))
    stack.state.appended()
    with RemoteClient(stack.url, load_signer(home, "zoe", PASS)) as zoe, \
            pytest.raises(RemoteError) as err:
        zoe.status()
    assert err.value.status == 403 and "--organisation" in str(err.value)


def test_keys_register_and_init_record_the_organisation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import base64

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    from primex.audit.log import open_log

    monkeypatch.setenv("PRIMEX_PASSPHRASE", PASS)
    h = ["--home", str(tmp_path)]
    assert main([*h, "keys", "init", "--role", "committee", "--name", "comm"]) == 0
    assert main([*h, "keys", "init", "--role", "researcher", "--name", "alice", "--by", "comm",
                 "--organisation", "HIVA – KU Leuven"]) == 0
    raw = Ed25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw,
                                                                 PublicFormat.Raw)
    args = [*h, "keys", "register", "rosa-web", "--role", "researcher", "--by", "comm",
            "--ed25519", base64.b64encode(raw).decode()]
    assert main([*args, "--organisation", "  "]) == 2
    assert "--organisation" in capsys.readouterr().err
    assert main([*args, "--organisation", "ULB – DULBEA"]) == 0
    registry = open_log(Home(tmp_path)).registry
    assert registry.keys["alice"].organisation == "HIVA – KU Leuven"
    assert registry.keys["rosa-web"].organisation == "ULB – DULBEA"
    assert registry.keys["comm"].organisation is None


def test_the_log_refuses_a_malformed_organisation(tmp_path: Path) -> None:
    from release_chain import make_chain

    from primex.audit.log import _key_body
    from primex.errors import PrimexError

    chain = make_chain(tmp_path)
    identity = create_identity(chain.home, "researcher", "zoe", PASS)
    for bad in (7, "", " " * 3, "x" * 201):
        with pytest.raises(PrimexError, match="organisation"):
            chain.log.append("key_add", None, {**_key_body(identity), "organisation": bad},
                             chain.signers["committee"])
    assert "zoe" not in chain.log.registry.keys
