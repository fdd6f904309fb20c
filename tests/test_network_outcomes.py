"""The basic application's outcomes through the BCSS service (issue 19 #3): the leavers go
out, positions without NISS come back; the quarterly protocol gives the same bytes as the
one-home model, run after run."""

from __future__ import annotations

import base64
import dataclasses
import json
import shutil
from pathlib import Path

import pyarrow as pa
import pytest
from service_fixtures import ServerThread, free_port
from test_extract_protocol_fixture import tiny_home

from primex.audit.keys import create_identity, load_signer
from primex.bcss_service.app import create_app, peers_path
from primex.extract.protocol import SourceSpec, load_protocol
from primex.extract.run import run_protocol
from primex.home import Home
from primex.service.bcss_client import BcssEndpoint, fetch_positions

PASS = "test-passphrase"


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Home:
    return tiny_home(tmp_path_factory.mktemp("tiny"))


def test_quarterly_outcomes_through_the_bcss_service(tiny: Home, tmp_path: Path) -> None:
    proto = load_protocol("quarterly")
    assert proto.outcomes.kind == "bcss_model"
    local = run_protocol(tiny, proto, "2025Q2", out_dir=tmp_path / "local", previous=None)

    spp = Home(tmp_path / "spp-home")  # PRIMA only
    shutil.copytree(tiny.spp, spp.spp)
    bcss = Home(tmp_path / "bcss-home")  # the warehouse only
    bcss.bcss.mkdir(parents=True)
    shutil.copy2(tiny.warehouse_db, bcss.warehouse_db)
    spp_id = create_identity(spp, "spp_operator", "spp", PASS)
    bea_id = create_identity(bcss, "bcss_operator", "bea", PASS)
    peers_path(bcss).write_text(json.dumps(
        {"keys": {"spp": base64.b64encode(spp_id.public_key_bytes).decode()}}))
    sent: list[pa.Table] = []
    with ServerThread(create_app(bcss, load_signer(bcss, "bea", PASS)), free_port()) as srv:
        endpoint = BcssEndpoint(srv.url, "bea", public_key=bea_id.public_key_bytes)
        operator = load_signer(spp, "spp", PASS)

        def positions(leavers: pa.Table) -> pa.Table:
            sent.append(leavers)
            out = fetch_positions(endpoint, operator, leavers, "quarterly-2025Q2")
            assert "niss" not in out.column_names
            return out

        remote = dataclasses.replace(proto, outcomes=SourceSpec("bcss_service", srv.url))
        runs = [run_protocol(spp, remote, "2025Q2", out_dir=tmp_path / f"remote{i}",
                             previous=None, positions=positions) for i in range(2)]
    assert sent and sent[0].num_rows > 0 and "niss" in sent[0].column_names
    want = (local.folder / "indicators.parquet").read_bytes()
    for run in runs:
        assert (run.folder / "indicators.parquet").read_bytes() == want
        assert run.manifest["files"] == local.manifest["files"]
    # the SPP home never held the warehouse; the BCSS keeps no leavers list
    assert not spp.warehouse_db.exists() and not spp.bcss.exists()
    assert not [p for p in bcss.root.rglob("*") if p.name.startswith("extract")]


def test_a_bcss_service_protocol_without_a_service_is_refused(tiny: Home, tmp_path: Path
                                                              ) -> None:
    from primex.errors import PrimexError

    proto = dataclasses.replace(load_protocol("quarterly"),
                                outcomes=SourceSpec("bcss_service", "https://bcss.invalid"))
    with pytest.raises(PrimexError, match="no service is configured"):
        run_protocol(tiny, proto, "2025Q2", out_dir=tmp_path / "x", previous=None)
