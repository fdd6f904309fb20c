"""The service end to end over HTTP on loopback, through the remote client (signed
requests, decisions signed client-side), on SQLite and on PostgreSQL."""

from __future__ import annotations

import base64
import hashlib
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from release_chain import PASS, SPEC, no_fsync  # noqa: F401  (autouse fixture)
from service_fixtures import Stack, pg_url, service_stack_fixture  # noqa: F401

from primex.audit.keys import create_identity, load_signer, verify_signature
from primex.audit.log import open_log, signed_bytes
from primex.service.client import RemoteClient, RemoteError
from primex.service.httpsig import sign_request

ANONYMOUS = {"/api/health", "/api/public/keys", "/auth/login", "/auth/callback"}


def spec_text(stack: Stack, researcher: str = "alice") -> str:
    return SPEC.format(key=stack.chain.ids[researcher].encryption_public_key)


def submit(stack: Stack, researcher: str = "alice", text: str | None = None) -> str:
    with stack.client(researcher) as client:
        return str(client.submit(text or spec_text(stack, researcher))["request"])


def test_nothing_without_credentials(stack: Stack) -> None:
    with stack.client("alice") as alice:
        schema = alice.call("GET", "/openapi.json")
    assert httpx.get(stack.url + "/openapi.json").status_code == 401
    assert httpx.get(stack.url + "/api/health").json() == {"status": "ok"}
    checked = 0
    for path, ops in schema["paths"].items():
        if path in ANONYMOUS:
            continue
        url = stack.url + path.replace("{request_id}", "REQ-2026-0001").replace(
            "{job_id}", "x")
        for method in ops:
            reply = httpx.request(method.upper(), url, json={})
            assert reply.status_code == 401, (method, path, reply.status_code)
            checked += 1
    assert checked >= 20


def test_submit_review_and_per_organisation_visibility(stack: Stack) -> None:
    rid = submit(stack)
    with stack.client("alice") as alice, stack.client("eve") as eve, \
            stack.client("olivia") as olivia:
        assert alice.status(rid)["state"] == "submitted"
        # another organisation's researcher: the request does not exist for them
        with pytest.raises(RemoteError) as err:
            eve.status(rid)
        assert err.value.status == 404
        assert eve.status()["requests"] == []
        assert [r["request"] for r in alice.status()["requests"]] == [rid]
        with pytest.raises(RemoteError) as err:
            eve.comment(rid, "hello?")
        assert err.value.status == 404
        # eve may not submit for alice's organisation
        with pytest.raises(RemoteError) as err:
            eve.submit(spec_text(stack, "eve").replace("title: Labour", "title: Other"))
        assert err.value.status == 403 and "organisation" in str(err.value)
        # the researcher may not approve (role checked before anything is prepared)
        with pytest.raises(RemoteError) as err:
            alice.decide(rid, "approval", {"conditions": []})
        assert err.value.status == 403
        # comment thread between the officer and the researcher
        olivia.comment(rid, "Why do you need the region?")
        alice.comment(rid, "To compare the three regions.")
        thread = olivia.comments(rid)
        assert [(c["author"], c["role"]) for c in thread] == [
            ("olivia", "privacy_officer"), ("alice", "researcher")]
        # return, resubmit, approve with a condition
        olivia.decide(rid, "return", {"reasons": ["drop sex"]})
        assert alice.status(rid)["state"] == "returned"
        edited = f"id: {rid}\n" + spec_text(stack).replace("region, category", "region")
        assert alice.submit(edited)["request"] == rid
        done = olivia.decide(rid, "approval", {"conditions": ["k=10", "no linkage"]})
        assert done["state"] == "approved"
    log = open_log(stack.chain.home, create=False)
    approval = log.entries(rid)[-1]
    assert approval.type == "approval" and approval.actor == "olivia"
    assert approval.body["conditions"]["disclosure"]["k"] == 10
    assert approval.body["conditions"]["notes"] == ["no linkage"]
    # signed by the officer's own key (client-side), verifiable by anyone
    assert verify_signature(stack.chain.ids["olivia"].public_key_bytes,
                            base64.b64decode(approval.sig), approval.signed_bytes())


def test_validation_problems_are_those_of_request_validate(stack: Stack,
                                                           tmp_path: Path) -> None:
    bad = spec_text(stack).replace("variables: [age, sex, region, category]",
                                   "variables: [age, sexe, region]").replace(
        "kind: microdata", "kind: micro")
    path = tmp_path / "request.yaml"
    path.write_text(bad)
    cli = subprocess.run([sys.executable, "-m", "primex.cli", "--home",
                          str(stack.chain.home.root), "request", "validate", str(path)],
                         capture_output=True, text=True, cwd=tmp_path)
    assert cli.returncode == 2
    expected = [line.replace(str(path), "request.yaml") for line in cli.stdout.splitlines()]
    with stack.client("alice") as alice:
        got = alice.validate(bad)
        assert got["ok"] is False
        assert got["lines"] == expected and len(expected) >= 2
        assert any(p["path"] == "variables[1]" and p["line"] == 14 for p in got["problems"])
        with pytest.raises(Exception) as err:
            alice.submit(bad)
        assert getattr(err.value, "problems", None) == expected
    assert open_log(stack.chain.home, create=False).requests() == []


def _signed_headers(stack: Stack, name: str, method: str, path: str,
                    body: bytes) -> dict[str, str]:
    signer = stack.chain.signers[name]
    return dict(sign_request(method, path, body, name, signer, time.time()).headers)


def test_replay_tamper_and_unknown_keys_are_refused(stack: Stack,
                                                    tmp_path: Path) -> None:
    body = b'{"text": "first"}'
    rid = submit(stack)
    path = f"/api/requests/{rid}/comments"
    headers = {**_signed_headers(stack, "alice", "POST", path, body),
               "Content-Type": "application/json"}
    assert httpx.post(stack.url + path, content=body, headers=headers).status_code == 201
    replay = httpx.post(stack.url + path, content=body, headers=headers)
    assert replay.status_code == 401 and "replayed" in replay.json()["detail"]
    fresh = {**_signed_headers(stack, "alice", "POST", path, body),
             "Content-Type": "application/json"}
    tampered = httpx.post(stack.url + path, content=b'{"text": "other"}', headers=fresh)
    assert tampered.status_code == 401 and "Content-Digest" in tampered.json()["detail"]
    # the signature covers the path: moved to another request, it fails
    moved = httpx.post(stack.url + "/api/requests/REQ-2026-9999/comments", content=body,
                       headers={**_signed_headers(stack, "alice", "POST", path, body),
                                "Content-Type": "application/json"})
    assert moved.status_code == 401
    # an old signature (outside the window) is refused
    old = dict(sign_request("GET", "/api/me", b"", "alice", stack.chain.signers["alice"],
                            time.time() - 3600).headers)
    assert httpx.get(stack.url + "/api/me", headers=old).status_code == 401
    # a key unknown to the log (same name, other key pair) is refused
    create_identity(stack.chain.home.__class__(tmp_path / "elsewhere"), "researcher",
                    "alice", PASS)
    impostor = load_signer(stack.chain.home.__class__(tmp_path / "elsewhere"), "alice", PASS)
    with RemoteClient(stack.url, impostor) as fake, pytest.raises(RemoteError) as err:
        fake.status()
    assert err.value.status == 401
    comments = [c["text"] for c in stack.client("alice").comments(rid)]
    assert comments == ["first"]


def test_drafts_cannot_be_altered_or_signed_by_someone_else(stack: Stack) -> None:
    rid = submit(stack)
    olivia = stack.client("olivia")
    prefix = f"/api/requests/{rid}/approve"
    payload = {"conditions": ["k=10"]}
    prepared = olivia.call("POST", prefix + "/prepare", payload)
    draft = prepared["draft"]
    assert base64.b64decode(prepared["signing_input"]) == signed_bytes(draft)
    # looser conditions in the draft than the input: refused
    loose = {**draft, "body": {**draft["body"], "conditions": {"disclosure": {"k": 2}}}}
    sig = base64.b64encode(stack.chain.signers["olivia"].sign(signed_bytes(loose))).decode()
    with pytest.raises(RemoteError) as err:
        olivia.call("POST", prefix + "/commit", {**payload, "draft": loose, "signature": sig})
    assert err.value.status == 422
    # a draft moved into the future (it would drag every later entry's time along)
    future = {**draft, "time": "2099-01-01T00:00:00.000000Z"}
    sig = base64.b64encode(stack.chain.signers["olivia"].sign(signed_bytes(future))).decode()
    with pytest.raises(RemoteError) as err:
        olivia.call("POST", prefix + "/commit", {**payload, "draft": future, "signature": sig})
    assert err.value.status == 409 and "time" in str(err.value)
    # a signature by another key over the right draft: refused
    sig = base64.b64encode(stack.chain.signers["paul"].sign(signed_bytes(draft))).decode()
    with pytest.raises(RemoteError) as err:
        olivia.call("POST", prefix + "/commit", {**payload, "draft": draft, "signature": sig})
    assert err.value.status == 409 and "does not verify" in str(err.value)
    # the log moved (another submission) after the prepare: the draft is stale
    submit(stack, text=spec_text(stack).replace("title: Labour", "title: Second labour"))
    sig = base64.b64encode(stack.chain.signers["olivia"].sign(signed_bytes(draft))).decode()
    with pytest.raises(RemoteError) as err:
        olivia.call("POST", prefix + "/commit", {**payload, "draft": draft, "signature": sig})
    assert err.value.status == 409 and "prepare it again" in str(err.value)
    assert open_log(stack.chain.home, create=False).state(rid).state == "submitted"
    # the client prepares again by itself
    assert olivia.decide(rid, "approval", payload)["state"] == "approved"


def test_output_check_signoff_build_job_and_download(stack: Stack) -> None:
    chain = stack.chain
    rid = chain.through_protection()
    with stack.client("olivia") as olivia, stack.client("paul") as paul, \
            stack.client("spp") as spp, stack.client("alice") as alice:
        review = olivia.call("GET", f"/api/requests/{rid}/output")
        assert review["manifest_sha256"] == chain.manifest().sha256
        assert review["report"]["passed"] is True
        olivia.decide(rid, "output_check", {"decision": "approve"})
        # the officer may not sign off; the president signs exactly the shown manifest
        with pytest.raises(RemoteError) as err:
            olivia.decide(rid, "signoff", {})
        assert err.value.status == 403
        prepared = paul.call("POST", f"/api/requests/{rid}/signoff/prepare", {})
        assert prepared["draft"]["body"]["manifest"] == chain.manifest().as_dict()
        paul.decide(rid, "signoff", {})
        # building before the witness cosigned: the job fails closed, with the reason
        job = spp.wait_job(spp.start_job(rid, "build")["id"])
        assert job["state"] == "failed" and "witness" in job["message"]
        chain.witness()
        job = spp.wait_job(spp.start_job(rid, "build")["id"])
        assert job["state"] == "done", job
        assert alice.status(rid)["state"] == "released"
        package = alice.call("GET", f"/api/requests/{rid}/package", raw=True).content
        with pytest.raises(RemoteError) as err:
            spp.call("GET", f"/api/requests/{rid}/package", raw=True)
        assert err.value.status == 403
    release = open_log(chain.home, create=False).entries(rid)[-1]
    assert release.type == "release"
    assert release.body["package_sha256"] == hashlib.sha256(package).hexdigest()
    # the committee's report of the whole history, from the verified log
    with stack.client("committee") as committee, stack.client("alice") as alice:
        report = committee.call("GET", "/api/audit/report")
        with pytest.raises(RemoteError) as err:
            alice.call("GET", "/api/audit/report")
        assert err.value.status == 403
    # the test chain's steps are stand-ins (no custody hashes): the report says so
    assert report["verification"].startswith(("verified: ", "VERIFICATION FAILED"))
    (row,) = report["requests"]
    assert (row["request"], row["state"]) == (rid, "released")
    assert [e["seq"] for e in row["events"]] == [e.seq for e in open_log(
        chain.home, create=False).entries(rid)]


def test_extract_job_failure_is_reported(stack: Stack) -> None:
    chain = stack.chain
    chain.submit()
    chain.approve()
    with stack.client("spp") as spp, stack.client("alice") as alice:
        job = spp.wait_job(spp.start_job(chain.request, "extract")["id"])
        assert job["state"] == "failed" and "prima" in job["message"].lower()
        with pytest.raises(RemoteError) as err:
            alice.start_job(chain.request, "extract")
        assert err.value.status == 403
