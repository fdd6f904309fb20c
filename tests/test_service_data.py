"""The steps that read PRIMA, through the service, on the shared synthetic home: the risk
pre-assessment (the same numbers as `primex request assess --json`) and an extraction job
that runs in the background while the API keeps answering."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from release_chain import PASS, SPEC, no_fsync  # noqa: F401
from service_fixtures import Stack, pg_url, service_stack_fixture  # noqa: F401

from primex.audit.log import open_log
from primex.home import Home


def _with_data(stack: Stack, synth_home: Home) -> str:
    home = stack.chain.home
    for src, dst in ((synth_home.prima_db, home.prima_db),
                     (synth_home.warehouse_db, home.warehouse_db)):
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dst)
    return SPEC.format(key=stack.chain.ids["alice"].encryption_public_key).replace(
        "period: {{start: 2023-01, end: 2024-06}}".replace("{{", "{").replace("}}", "}"),
        "period: {start: 2023-07, end: 2024-06}")


@pytest.mark.parametrize("stack", ["sqlite"], indirect=True)
def test_assess_equals_cli_and_extract_job_runs_in_background(
        stack: Stack, synth_home: Home, tmp_path: Path) -> None:
    text = _with_data(stack, synth_home)
    path = tmp_path / "request.yaml"
    path.write_text(text)
    cli = subprocess.run([sys.executable, "-m", "primex.cli", "--home",
                          str(stack.chain.home.root), "request", "assess", str(path), "--json"],
                         capture_output=True, text=True, env={**os.environ})
    assert cli.returncode == 0, cli.stderr
    with stack.client("alice") as alice, stack.client("olivia") as olivia, \
            stack.client("spp") as spp:
        assessed = alice.call("POST", "/api/assess", {"yaml": text})
        expected = json.loads(cli.stdout)
        assert assessed["risk"] == expected["risk"] and assessed["risk"]["records"] > 100
        rid = alice.submit(text)["request"]
        olivia.decide(rid, "approval", {"conditions": []})
        job = spp.start_job(rid, "extract")
        assert job["state"] in ("queued", "running", "done")
        # the API keeps answering while the job runs
        started = time.perf_counter()
        assert httpx.get(stack.url + "/api/health").status_code == 200
        assert time.perf_counter() - started < 2.0
        done = spp.wait_job(job["id"])
        assert done["state"] == "done", done
        assert alice.status(rid)["state"] == "extracted"
        entry = open_log(stack.chain.home, create=False).entries(rid)[-1]
        assert (entry.type, entry.actor) == ("extraction", "spp")
        manifest = entry.body["manifest"]
        assert manifest["request"] == rid and manifest["rows"] > 0
        work = stack.chain.home.spp_work / rid
        extract = work / manifest["files"][0]["name"]
        assert hashlib.sha256(extract.read_bytes()).hexdigest() == (
            manifest["files"][0]["sha256"])
        # the BCSS codes the extract (its own service is issue 19: the CLI here)
        env = {**os.environ, "PRIMEX_PASSPHRASE": PASS, "PRIMEX_BCSS_PASSPHRASE": PASS}
        for args in (["linkage", "keygen"],
                     ["linkage", "code", "--request", rid, "--in", str(extract), "--as",
                      "bob"]):
            ran = subprocess.run([sys.executable, "-m", "primex.cli", "--home",
                                  str(stack.chain.home.root), *args], capture_output=True,
                                 text=True, env=env)
            assert ran.returncode == 0, ran.stderr
        shutil.copyfile(stack.chain.home.bcss_work / rid / "coded.parquet",
                        work / "coded.parquet")  # the coded file comes back to the SPP
        done = spp.wait_job(spp.start_job(rid, "protect")["id"])
        assert done["state"] == "done", done
        assert alice.status(rid)["state"] == "protected"
        review = olivia.call("GET", f"/api/requests/{rid}/output")
        assert review["report"]["passed"] is True
        assert olivia.decide(rid, "output_check", {"decision": "approve"})["state"] == (
            "output_checked")
