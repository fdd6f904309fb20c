"""`primex signoff ID --as KEY`: the president sees the manifest and the disclosure summary,
confirms, and signs exactly that manifest."""

from __future__ import annotations

import base64
import hashlib
import io
from pathlib import Path

import pytest
from release_chain import FILES, PASS, Chain, make_chain, no_fsync  # noqa: F401

from primex.cli import main
from primex.release.manifest import collect_protected


@pytest.fixture
def chain(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Chain:
    monkeypatch.setenv("PRIMEX_PASSPHRASE", PASS)
    return make_chain(tmp_path).up_to_output_check()


def run(chain: Chain, *args: str) -> int:
    return main(["--home", str(chain.home.root), *args])


def test_signoff_shows_then_signs_the_manifest(chain: Chain, capsys: pytest.CaptureFixture) -> None:
    assert run(chain, "signoff", chain.request, "--as", "paul", "--yes") == 0
    out = capsys.readouterr().out
    manifest = collect_protected(chain.work)
    for name in FILES:
        assert name in out
    assert manifest.sha256 in out
    assert "PASSED" in out and "suppressed_values" in out
    chain.log.refresh()
    entry = chain.log.entries(chain.request)[-1]
    assert entry.type == "signoff" and entry.actor == "paul"
    # issue 14 #1/#2: the sign-off also binds the readable reports and the recipient's key
    raw_key = base64.b64decode(chain.ids["alice"].encryption_public_key.split(":")[1])
    digest = hashlib.sha256(raw_key).hexdigest()
    assert entry.body == {
        "manifest_sha256": manifest.sha256, "manifest": manifest.as_dict(),
        "reports": {"files": [{
            "name": "disclosure-report.md",
            "bytes": len(b"# Disclosure report\n\npassed\n"),
            "sha256": hashlib.sha256(b"# Disclosure report\n\npassed\n").hexdigest(),
        }]},
        "recipient": ":".join(digest[i:i + 4] for i in range(0, 64, 4)),
    }
    assert chain.log.state(chain.request).state == "signed_off"


@pytest.mark.parametrize(("answer", "code", "state"), [("n\n", 2, "output_checked"),
                                                      ("y\n", 0, "signed_off")])
def test_confirmation(chain: Chain, monkeypatch: pytest.MonkeyPatch, answer: str, code: int,
                      state: str) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(answer))
    assert run(chain, "signoff", chain.request, "--as", "paul") == code
    chain.log.refresh()
    assert chain.log.state(chain.request).state == state


def test_only_the_president_signs(chain: Chain, capsys: pytest.CaptureFixture) -> None:
    assert run(chain, "signoff", chain.request, "--as", "olivia", "--yes") == 2
    assert "signoff must be signed by president" in capsys.readouterr().err
    chain.log.refresh()
    assert chain.log.state(chain.request).state == "output_checked"


def test_files_changed_after_the_check(chain: Chain, capsys: pytest.CaptureFixture) -> None:
    (chain.protected / "totals.csv").write_bytes(b"region,count\n03000,1\n")
    assert run(chain, "signoff", chain.request, "--as", "paul", "--yes") == 2
    err = capsys.readouterr().err
    assert "not the ones the disclosure result passed" in err
    assert "totals.csv" not in capsys.readouterr().out  # nothing offered for signature


def test_nothing_to_sign_before_the_output_check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture) -> None:
    monkeypatch.setenv("PRIMEX_PASSPHRASE", PASS)
    c = make_chain(tmp_path)
    c.submit()
    c.approve()
    c.extract()
    c.protect()
    assert run(c, "signoff", c.request, "--as", "paul", "--yes") == 2
    assert "only an output checked by the privacy officer" in capsys.readouterr().err


def test_signoff_is_a_single_command(capsys: pytest.CaptureFixture) -> None:
    assert main(["signoff", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--as" in out and "--yes" in out and "request_id" in out


def test_full_chain_through_the_cli(chain: Chain, tmp_path: Path,
                                    capsys: pytest.CaptureFixture) -> None:
    assert run(chain, "signoff", chain.request, "--as", "paul", "--yes") == 0
    assert run(chain, "release", "check", chain.request) == 2
    assert "not_witnessed" in capsys.readouterr().err
    chain.witness()
    assert run(chain, "release", "check", chain.request) == 0
    assert run(chain, "release", "build", chain.request, "--as", "spp") == 0
    package = chain.home.releases / f"{chain.request}.primex"
    assert package.is_file()
    assert run(chain, "release", "open", str(package), "--key", "alice",
               "--out", str(tmp_path / "opened")) == 0
    assert (tmp_path / "opened" / "data" / "totals.csv").read_bytes() == FILES["totals.csv"]


def test_the_officer_cannot_sign_off_with_a_second_key(
    chain: Chain, capsys: pytest.CaptureFixture
) -> None:
    """Separation of duties: the person who checked the output holds a president key too."""
    from primex.audit.keys import create_identity

    second = create_identity(chain.home, "president", "olivia-p", PASS, person="olivia")
    chain.log.register_key(second, chain.signers["committee"])
    assert run(chain, "signoff", chain.request, "--as", "olivia-p", "--yes") == 2
    assert "one person holds one role per request" in capsys.readouterr().err
    chain.log.refresh()
    assert chain.log.state(chain.request).state == "output_checked"
