"""Durability of the log: concurrent writers, kill -9, torn tails, group commit."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from audit_fixtures import PASS, World, body, make_world

from primex.audit import files
from primex.audit import log as log_module
from primex.audit.log import open_log
from primex.committee.verify import verify_log
from primex.errors import IntegrityError, PermissionDenied, PrimexError
from primex.home import Home

REPO = Path(__file__).resolve().parents[1]

WRITER = textwrap.dedent(
    """
    import sys
    from primex.home import Home
    from primex.audit.keys import load_signer
    from primex.audit.log import open_log
    home = Home(__import__("pathlib").Path(sys.argv[1]))
    log = open_log(home)
    alice = load_signer(home, "alice")
    body = {"spec_sha256": "a" * 64, "title": "t", "organisation": "o"}
    for i in range(int(sys.argv[2])):
        entry = log.append("submission", None, body, alice)
        print(entry.seq, flush=True)   # acknowledged: the append returned after fsync
    """
)


def _env() -> dict[str, str]:
    return {**os.environ, "PRIMEX_PASSPHRASE": PASS, "PYTHONPATH": str(REPO)}


@pytest.fixture
def world(tmp_path: Path) -> World:
    return make_world(tmp_path)


def test_concurrent_writers_lose_nothing(world: World) -> None:
    before = world.log.size
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(world.home.root), "40"],
                         stdout=subprocess.PIPE, text=True, env=_env())
        for _ in range(3)
    ]
    acked = []
    for p in procs:
        out, _ = p.communicate(timeout=60)
        assert p.returncode == 0
        acked += [int(x) for x in out.split()]
    assert len(acked) == len(set(acked)) == 120
    log = open_log(world.home)
    assert log.size == before + 120
    assert sorted(acked) == list(range(before, before + 120))
    assert len(log.requests()) == 120  # every writer got distinct request ids
    r = verify_log(world.home, require_witness=False, full=True, record=False)
    assert r.ok, r.failures


def test_kill_9_while_appending(world: World) -> None:
    for _ in range(3):  # kill at a different moment each round
        p = subprocess.Popen([sys.executable, "-c", WRITER, str(world.home.root), "100000"],
                             stdout=subprocess.PIPE, text=True, env=_env())
        acked = []
        assert p.stdout is not None
        while len(acked) < 15:
            acked.append(int(p.stdout.readline()))
        os.kill(p.pid, signal.SIGKILL)
        rest, _ = p.communicate()
        acked += [int(x) for x in rest.split() if x.strip().isdigit()]
        log = open_log(world.home)  # repairs a torn tail if the kill hit mid-write
        seqs = {e.seq for e in log.entries()}
        assert set(acked) <= seqs, "an acknowledged entry was lost"
        r = verify_log(world.home, require_witness=False, full=True, record=False)
        assert r.ok, r.failures
        log.close()


def test_torn_tail_is_cut_and_kept_aside(world: World) -> None:
    good = world.log.path.read_bytes()
    half = b'{"actor":"alice","body":{"spec_sha256":"aaaa'
    with open(world.log.path, "ab") as fh:
        fh.write(half)
    r = verify_log(world.home, require_witness=False, record=False)
    assert r.ok and any(f"half-written tail of {len(half)} bytes" in w for w in r.warnings)
    log = open_log(world.home)
    # opening reads (a read-only home must work, issue 14 #16): the next writer cuts it
    assert world.log.path.read_bytes() == good + half
    e = log.append("submission", None, body("submission"), world.s("alice"))
    assert world.log.path.read_bytes() == good + e.raw + b"\n"
    torn = list((world.home.audit / "torn").iterdir())
    assert len(torn) == 1 and torn[0].read_bytes() == half
    assert verify_log(world.home, require_witness=False, record=False).ok


def test_complete_but_damaged_last_line_is_refused(world: World) -> None:
    with open(world.log.path, "ab") as fh:
        fh.write(b'{"garbage": true}\n')
    with pytest.raises(IntegrityError, match=f"entry {world.log.size}"):
        open_log(world.home)


def test_refused_append_writes_nothing(world: World) -> None:
    before = world.log.path.read_bytes()
    with pytest.raises(PermissionDenied):
        world.log.append("approval", "REQ-2026-0001", body("approval"), world.s("olga"))
    assert world.log.path.read_bytes() == before


def test_batch_fsyncs_once(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    real = os.fsync
    monkeypatch.setattr(files, "fsync", lambda fd: (calls.append(fd), real(fd)))
    with world.log.batch():
        for _ in range(50):
            world.log.append("submission", None, body("submission"), world.s("alice"))
    assert len(calls) == 1
    world.log.append("submission", None, body("submission"), world.s("alice"))
    assert len(calls) == 2  # outside a batch: one fsync per append
    assert open_log(world.home).size == world.log.size


def test_log_shrinking_under_an_open_handle_is_detected(world: World) -> None:
    data = world.log.path.read_bytes()
    world.log.path.write_bytes(data[: data.rfind(b"\n", 0, len(data) - 1) + 1])
    with pytest.raises(IntegrityError, match="shrank"):
        world.log.append("submission", None, body("submission"), world.s("alice"))


def test_genesis_and_missing_log(tmp_path: Path) -> None:
    with pytest.raises(PrimexError, match="no audit log yet"):
        open_log(Home(tmp_path), create=False)
    log = open_log(Home(tmp_path))
    first = log.entries()[0]
    assert (first.seq, first.type, first.actor, first.prev) == (0, "key_add", "log", None)
    assert first.body["role"] == "log" and log.origin.startswith("audit.primex.local/")
    assert first.time.endswith("Z") and len(first.time) == 27
    assert open_log(Home(tmp_path)).origin == log.origin  # stable across opens


def test_time_is_monotonic_even_if_the_clock_goes_back(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(log_module, "utc_now", lambda: "2001-01-01T00:00:00.000000Z")
    e = world.log.append("submission", None, body("submission"), world.s("alice"))
    assert e.time == world.log.entries()[-2].time  # clamped to the previous entry's time
    assert verify_log(world.home, require_witness=False, record=False).ok


def test_incremental_verification_skips_only_covered_signatures(world: World) -> None:
    first = verify_log(world.home, require_witness=False)  # records the verified root
    assert first.ok and first.signatures_covered == 0
    world.log.append("submission", None, body("submission"), world.s("alice"))
    second = verify_log(world.home, require_witness=False)
    assert second.ok and second.signatures_verified == 1
    assert second.signatures_covered == first.size
    # tampering below the recorded size is still caught: the root no longer matches
    lines = world.log.path.read_bytes().splitlines()
    k = next(i for i, raw in enumerate(lines) if b'"name":"alice"' in raw)
    lines[k] = lines[k].replace(b'"role":"researcher"', b'"role":"president"')
    world.log.path.write_bytes(b"".join(x + b"\n" for x in lines))
    third = verify_log(world.home, require_witness=False, record=False)
    assert not third.ok and third.failures[0].seq == k
    assert any("not the bytes the committee verified" in w for w in third.warnings)


def test_many_appends_stay_fast_enough_for_the_cli(world: World) -> None:
    started = time.perf_counter()
    with world.log.batch():
        for _ in range(300):
            world.log.append("submission", None, body("submission"), world.s("alice"))
    assert open_log(world.home).size == world.log.size
    assert time.perf_counter() - started < 20  # generous: the benchmark measures speed


def test_resumed_verification_replays_new_entries_from_the_recorded_state(
    world: World,
) -> None:
    from audit_fixtures import walk_to
    from test_audit_attacks import forge

    rid = walk_to(world, "submitted")
    assert verify_log(world.home, require_witness=False).ok  # records size, root and states
    size = world.log.size
    world.log.append("approval", rid, body("approval"), world.s("olga"))
    r = verify_log(world.home, require_witness=False)
    assert r.ok and r.signatures_covered == size and r.signatures_verified == 1
    assert r.requests == 1
    # a new entry that the recorded state forbids is still caught after resuming
    forge(world, "approval", rid, body("approval"), world.s("olga"))
    r = verify_log(world.home, require_witness=False, record=False)
    assert not r.ok and r.signatures_covered == size + 1
    assert r.failures[0].check == "workflow" and "the request is approved" in r.failures[0].message


def test_parallel_signature_check_names_the_earliest_bad_entry(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from primex.committee import verify as verify_module

    with world.log.batch():
        for _ in range(40):
            world.log.append("submission", None, body("submission"), world.s("alice"))
    monkeypatch.setattr(verify_module, "_PARALLEL_MIN", 10)  # force the worker path
    r = verify_log(world.home, require_witness=False, full=True, record=False)
    assert r.signatures_verified == world.log.size
    lines = world.log.path.read_bytes().splitlines()
    k = len(lines) - 5  # the last entry of its request: only its signature breaks
    lines[k] = lines[k].replace(b'"title":"RI exits"', b'"title":"RI exitz"')
    world.log.path.write_bytes(b"".join(x + b"\n" for x in lines))
    r = verify_log(world.home, require_witness=False, full=True, record=False)
    assert (r.failures[0].check, r.failures[0].seq) == ("signature", k)


def test_appended_lines_are_exactly_canonical(world: World) -> None:
    from primex.audit.canonical import dumps, loads

    e = world.log.append("submission", None, body("submission", title="Ünïcode “quotes” \\ \"",
                                                   extra={"z": [1, None, True], "a": "é"}),
                         world.s("alice"))
    assert dumps(loads(e.raw)) == e.raw == world.log.path.read_bytes().splitlines()[-1]
    assert loads(e.raw)["body"]["title"] == "Ünïcode “quotes” \\ \""
