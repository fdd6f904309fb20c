"""`primex request submit` / `status`: stored bytes, signed submission events, resubmission of
a returned request, and the refusals."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from pathlib import Path

import pytest
from requests_helpers import make_prima, valid_request

from primex import cli
from primex.audit.keys import create_identity, load_signer
from primex.audit.log import open_log
from primex.errors import IntegrityError, PermissionDenied, PrimexError
from primex.home import Home
from primex.requests.lifecycle import status, submit
from primex.requests.store import load_submitted, spec_path

PASS = "correct horse battery"


@pytest.fixture()
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Home:
    monkeypatch.setenv("PRIMEX_PASSPHRASE", PASS)
    home = Home(tmp_path / "home")
    make_prima(home.prima_db, [{"sex": "F", "age": 20}] * 6, start=dt.date(2023, 1, 1))
    log = open_log(home)
    for role, name in [("researcher", "alice"), ("researcher", "bob"),
                       ("privacy_officer", "olivia")]:
        identity = create_identity(home, role, name, PASS)
        log.register_key(identity, load_signer(home, name))
    return home


def write(tmp_path: Path, text: str, name: str = "request.yaml") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


def test_submit_stores_exact_bytes_and_signs_a_submission(home: Home, tmp_path: Path) -> None:
    path = write(tmp_path, valid_request())
    receipt = submit(home, path, "alice")
    year = dt.datetime.now(dt.UTC).year
    assert receipt.request_id == f"REQ-{year}-0001"
    raw = path.read_bytes()
    assert receipt.sha256 == hashlib.sha256(raw).hexdigest()
    assert spec_path(home, receipt.sha256).read_bytes() == raw
    spec, stored, sha = load_submitted(home, receipt.request_id)
    assert (stored, sha) == (raw, receipt.sha256)
    assert spec.title == "Labour-market trajectories of young adults after RI"
    (entry,) = open_log(home).entries(receipt.request_id)
    assert entry.type == "submission" and entry.actor == "alice"
    assert entry.body["spec_sha256"] == receipt.sha256
    assert entry.body["organisation"] == "HIVA – KU Leuven"
    report = status(home, receipt.request_id)
    assert report["state"] == "submitted" and report["requester"] == "alice"
    assert [h["event"] for h in report["history"]] == ["submission"]


def test_the_same_file_twice_is_refused(home: Home, tmp_path: Path) -> None:
    path = write(tmp_path, valid_request())
    first = submit(home, path, "alice")
    with pytest.raises(PrimexError, match=f"already submitted as {first.request_id}"):
        submit(home, path, "alice")
    assert open_log(home).requests() == [first.request_id]


def test_returned_request_is_resubmitted_with_its_id(home: Home, tmp_path: Path) -> None:
    first = submit(home, write(tmp_path, valid_request()), "alice")
    open_log(home).append("return", first.request_id, {"reasons": ["narrow the age range"]},
                          load_signer(home, "olivia"))
    assert status(home, first.request_id)["state"] == "returned"
    assert "id: " + first.request_id in status(home, first.request_id)["next"]
    edited = f"id: {first.request_id}\n" + valid_request(
        **{"age: {min: 18, max: 24}": "age: {min: 18, max: 21}"})
    second = submit(home, write(tmp_path, edited, "v2.yaml"), "alice")
    assert second.request_id == first.request_id and second.resubmission
    spec, raw, sha = load_submitted(home, first.request_id)
    assert raw == edited.encode() and sha == second.sha256
    assert spec.population.filters["age"].max == 21
    report = status(home, first.request_id)
    assert report["state"] == "submitted"
    assert [h["event"] for h in report["history"]] == ["submission", "return", "submission"]
    assert report["history"][1]["summary"] == "narrow the age range"


def test_only_the_requester_resubmits_and_nothing_is_left_behind(
    home: Home, tmp_path: Path
) -> None:
    first = submit(home, write(tmp_path, valid_request()), "alice")
    open_log(home).append("return", first.request_id, {"reasons": ["x"]},
                          load_signer(home, "olivia"))
    text = f"id: {first.request_id}\n" + valid_request(**{"k: 5": "k: 6"})
    with pytest.raises(PermissionDenied):
        submit(home, write(tmp_path, text, "bob.yaml"), "bob")
    assert not spec_path(home, hashlib.sha256(text.encode()).hexdigest()).exists()


def test_resubmitting_a_request_under_review_is_refused(home: Home, tmp_path: Path) -> None:
    first = submit(home, write(tmp_path, valid_request()), "alice")
    text = f"id: {first.request_id}\n" + valid_request()
    with pytest.raises(PermissionDenied, match="submission is not allowed"):
        submit(home, write(tmp_path, text, "again.yaml"), "alice")


def test_unknown_id_and_wrong_role(home: Home, tmp_path: Path) -> None:
    with pytest.raises(PrimexError, match="unknown request id REQ-2020-0042"):
        submit(home, write(tmp_path, "id: REQ-2020-0042\n" + valid_request()), "alice")
    with pytest.raises(PrimexError, match="only a researcher submits"):
        submit(home, write(tmp_path, valid_request(), "o.yaml"), "olivia")
    assert open_log(home).requests() == []


def test_tampered_stored_spec_is_detected(home: Home, tmp_path: Path) -> None:
    receipt = submit(home, write(tmp_path, valid_request()), "alice")
    stored = spec_path(home, receipt.sha256)
    os.chmod(stored, 0o644)
    stored.write_bytes(stored.read_bytes().replace(b"k: 5", b"k: 9"))
    with pytest.raises(IntegrityError, match="does not match the sha256"):
        load_submitted(home, receipt.request_id)


def test_cli_submit_invalid_file_prints_every_problem(
    home: Home, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, valid_request(**{"variables: [age,": "variables: [agee,",
                                             "kind: microdata": "kind: micro"}))
    code = cli.main(["--home", str(home.root), "request", "submit", str(path), "--as", "alice",
                     "--third-party-recipient"])
    assert code == 2
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 2 and all(line.startswith(f"{path}:") for line in out)
    assert open_log(home).requests() == []
    assert not home.requests.exists() or list(home.requests.iterdir()) == []


def test_cli_submit_and_status(
    home: Home, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, valid_request())
    root = str(home.root)
    # the example's key is not hers: issue 14 #11 refuses it unless she asks the officer
    assert cli.main(["--home", root, "request", "submit", str(path), "--as", "alice"]) == 2
    assert "NOT registered" in capsys.readouterr().err
    assert open_log(home).requests() == []
    assert cli.main(["--home", root, "request", "submit", str(path), "--as", "alice",
                     "--third-party-recipient"]) == 0
    captured = capsys.readouterr()
    rid = open_log(home).requests()[0]
    assert rid in captured.out
    assert "not the encryption key of 'alice'" in captured.err  # the example's key is not hers
    assert cli.main(["--home", root, "request", "status", "--json"]) == 0
    listing = json.loads(capsys.readouterr().out)
    assert [(r["request"], r["state"]) for r in listing["requests"]] == [(rid, "submitted")]
    assert cli.main(["--home", root, "request", "status", rid]) == 0
    out = capsys.readouterr().out
    assert "submitted" in out and "privacy officer" in out
    assert cli.main(["--home", root, "request", "status", "REQ-1999-0001"]) == 2
    assert "unknown request" in capsys.readouterr().err


def test_wrong_passphrase_is_a_clean_error(
    home: Home, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("PRIMEX_PASSPHRASE", "wrong passphrase")
    path = write(tmp_path, valid_request())
    code = cli.main(["--home", str(home.root), "request", "submit", str(path), "--as", "alice",
                     "--third-party-recipient"])
    assert code == 2
    err = capsys.readouterr().err
    assert "passphrase" in err and "Traceback" not in err


def test_status_of_an_empty_home_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "empty"
    assert cli.main(["--home", str(empty), "request", "status"]) == 0
    assert "no requests yet" in capsys.readouterr().out
    assert cli.main(["--home", str(empty), "request", "status", "REQ-2026-0001"]) == 2
    assert not empty.exists()
