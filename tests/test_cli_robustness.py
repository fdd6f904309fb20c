"""Every bad input a user will produce gets one clear line on stderr (exit 2), naming the
file, field or request; no traceback, no `internal error`, nothing half-written.

The commands run in-process through `primex.cli.main`. Homes: an empty or missing folder;
a copy of the session's synthetic home with every actor's key and two requests (one
submitted, one coded), built once per module with the demo's own steps; and the release
chain of tests/release_chain.py for the president's and the release gate's commands.
"""

from __future__ import annotations

import io
import json
import os
import shutil
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from release_chain import PASS, Chain, make_chain, no_fsync  # noqa: F401
from rich.console import Console

from primex.audit.log import open_log
from primex.cli import main
from primex.demo import KEYSTORE_PASSPHRASE, PASSPHRASES, Demo, _env_name
from primex.errors import PrimexError
from primex.home import Home
from primex.requests.conditions import build_conditions, service_minimums

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples" / "requests"
RID = "REQ-2026-0001"  # submitted, in the flow home
CODED = "REQ-2026-0002"  # approved, extracted and coded, in the flow home
UNKNOWN = "REQ-2099-0042"
RESEARCHER = "researcher-1"


def fails(capsys: pytest.CaptureFixture[str], args: list[str], *names: str, code: int = 2) -> str:
    """Run `primex ARGS`; assert the exit code and one clean `error:` line naming `names`."""
    rc = main([str(a) for a in args])
    err = capsys.readouterr().err
    assert rc == code, f"exit {rc} (expected {code}); stderr: {err!r}"
    lines = err.strip().splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got: {err!r}"
    line = lines[0]
    assert line.startswith("error:"), line
    assert "Traceback" not in err and "internal error" not in line, line
    for name in names:
        assert name in line, f"{name!r} not named in: {line}"
    return line


def no_leftovers(folder: Path) -> None:
    """No temporary file of an interrupted atomic write stays behind."""
    if folder.is_dir():
        stray = [p.name for p in folder.iterdir() if p.name.startswith(".") and "tmp" in p.name]
        assert not stray, stray


# --- homes ---------------------------------------------------------------------------------


@pytest.fixture
def passphrases(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in PASSPHRASES.items():
        monkeypatch.setenv(_env_name(name), value)
    monkeypatch.setenv(_env_name(RESEARCHER), f"demo-{RESEARCHER}-passphrase")
    monkeypatch.setenv("PRIMEX_BCSS_PASSPHRASE", KEYSTORE_PASSPHRASE)


@pytest.fixture(scope="module")
def flow_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Small synthetic data (the demo's period: the example requests ask for 2022-2023),
    keys for every actor, RID submitted and CODED coded; built once with the demo's steps."""
    root = tmp_path_factory.mktemp("robust") / "flow home é"
    home = Home.resolve(root)
    with pytest.MonkeyPatch.context() as mp:
        for name, value in PASSPHRASES.items():
            mp.setenv(_env_name(name), value)
        mp.setenv(_env_name(RESEARCHER), f"demo-{RESEARCHER}-passphrase")
        mp.setenv("PRIMEX_BCSS_PASSPHRASE", KEYSTORE_PASSPHRASE)
        mp.setattr("os.fsync", lambda fd: None)
        demo = Demo(home, EXAMPLES, Console(file=io.StringIO()), main, persons=600)
        demo.data()
        demo.keys([RESEARCHER])
        assert demo.submit(EXAMPLES / "young-adults-trajectories.yaml", RESEARCHER) == RID
        assert demo.submit(EXAMPLES / "ri-by-arrondissement.yaml", RESEARCHER) == CODED
        demo.cmd("review", "approve", CODED, "--as", "officer")
        demo.cmd("extract", "request", CODED, "--as", "spp")
        work = home.spp_work / CODED
        demo.cmd("linkage", "code", "--request", CODED, "--in", str(work / "extract.parquet"),
                 "--as", "bcss")
        shutil.copy2(home.bcss_work / CODED / "coded.parquet", work / "coded.parquet")
    return root


@pytest.fixture
def flow(tmp_path: Path, flow_template: Path, passphrases: None) -> Iterator[list[str]]:
    """`--home HOME` of a private copy of the flow template (a path with a space and é)."""
    root = tmp_path / "my hömé"
    shutil.copytree(flow_template, root)
    yield ["--home", str(root)]


def flow_home(flow: list[str]) -> Home:
    return Home.resolve(flow[1])


def state(flow: list[str], rid: str) -> str:
    return open_log(flow_home(flow), create=False).state(rid).state


@pytest.fixture
def chain(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Chain:
    """A request checked by the officer (make_chain), passphrases in the environment."""
    monkeypatch.setenv("PRIMEX_PASSPHRASE", PASS)
    return make_chain(tmp_path).up_to_output_check()


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    """The bad files users hand over: missing, empty, a YAML list, binary, a folder, ..."""
    d = tmp_path / "bad files ü"
    d.mkdir()
    out = {
        "missing": d / "missing.yaml",
        "empty": d / "empty.yaml",
        "list": d / "list.yaml",
        "binary": d / "binary.bin",
        "folder": d / "a folder",
        "csv-as-parquet": d / "data.parquet",
        "csv": d / "data.csv",
        "header-only": d / "header.csv",
    }
    out["empty"].write_bytes(b"")
    out["list"].write_text("- a\n- b\n")
    out["binary"].write_bytes(bytes(range(256)) * 8)
    out["folder"].mkdir()
    out["csv-as-parquet"].write_text("a,b\n1,2\n")
    out["csv"].write_text("age,sex,amount\n30,F,1.5\n30,F,2.5\n40,M,3.5\n40,M,4.0\n")
    out["header-only"].write_text("age,sex\n")
    return out


# --- a missing or empty home -----------------------------------------------------------------

NEEDS_LOG = [
    ["review", "list"],
    ["review", "show", RID],
    ["review", "approve", RID, "--as", "officer"],
    ["review", "expire", "--as", "officer"],
    ["signoff", RID, "--as", "president", "--yes"],
    ["disclosure", "protect", RID, "--as", "spp"],
    ["release", "check", RID],
    ["audit", "verify"],
    ["audit", "report"],
    ["audit", "log"],
    ["audit", "checkpoint"],
    ["audit", "witness", "init"],
]


@pytest.mark.parametrize("made", [False, True], ids=["missing", "empty"])
@pytest.mark.parametrize("args", NEEDS_LOG, ids=lambda a: " ".join(a[:2]))
def test_no_audit_log_yet(tmp_path: Path, capsys: pytest.CaptureFixture[str], made: bool,
                          args: list[str]) -> None:
    home = tmp_path / "new home"
    if made:
        home.mkdir()
    line = fails(capsys, ["--home", home, *args], "entries.jsonl")
    assert "no audit log yet" in line
    assert not (home / "audit").exists()  # a refused command creates no log


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["request", "status", RID], RID),
        (["extract", "run", "--protocol", "quarterly"], "prima.duckdb"),
        (["dashboard", "build"], "prima.duckdb"),
        (["synth", "hash"], "prima.duckdb"),
        (["linkage", "key-id", "--request", RID], "master-key.json"),
        (["release", "build", RID, "--as", "spp"], "spp"),
        (["keys", "revoke", "alice", "--by", "committee", "--reason", "lost"], "committee"),
    ],
    ids=lambda a: " ".join(a[:2]) if isinstance(a, list) else None,
)
def test_empty_home_names_what_is_missing(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                          args: list[str], named: str) -> None:
    fails(capsys, ["--home", tmp_path / "empty", *args], named)


def test_home_that_is_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "home.txt"
    f.write_text("not a folder")
    fails(capsys, ["--home", f, "request", "status"], str(f), "not a folder")


@pytest.mark.parametrize("name", ["a[/b]", "[red]x", "dossier été 2026"])
def test_markup_and_unicode_in_paths_are_printed_as_text(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    home = tmp_path / name / "home"
    fails(capsys, ["--home", home, "request", "status", UNKNOWN], f"{name}/home", UNKNOWN)


def test_markup_in_an_output_path_does_not_fail_after_the_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], files: dict[str, Path]
) -> None:
    out = tmp_path / "x[" / "b]" / "o.csv"  # printed as `…x[/b]/o.csv`: not rich markup
    rc = main(["--home", str(tmp_path / "h"), "disclosure", "anonymize", str(files["csv"]),
               "--qi", "sex", "--k", "2", "--no-catalogue", "--out", str(out)])
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    assert out.exists() and str(out) in captured.out.replace("\n", "")


def test_keys_list_on_an_empty_home_creates_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--home", str(tmp_path / "h"), "keys", "list"]) == 0
    assert "no audit log yet" in capsys.readouterr().out
    assert not (tmp_path / "h" / "audit").exists()


# --- passphrases and terminals ---------------------------------------------------------------


@pytest.fixture
def no_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """stdin is a pipe at its end (a script, CI), not a terminal; no passphrase variables."""
    for var in list(os.environ):
        if var.startswith("PRIMEX_PASSPHRASE"):
            monkeypatch.delenv(var)
    monkeypatch.setattr("sys.stdin", io.StringIO(""))


def test_new_key_without_passphrase_or_terminal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], no_terminal: None
) -> None:
    home = tmp_path / "h"
    fails(capsys, ["--home", home, "keys", "init", "--role", "committee", "--name", "c-1"],
          "PRIMEX_PASSPHRASE_C_1", "no terminal")
    assert not (home / "audit").exists() and not (home / "keys" / "c-1").exists()


def test_bad_key_name_is_refused_before_anything_is_asked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], no_terminal: None
) -> None:
    home = tmp_path / "h"
    fails(capsys, ["--home", home, "keys", "init", "--role", "committee", "--name", "../evil"],
          "--name", "../evil")
    assert not home.exists()


def test_signing_without_passphrase_or_terminal(
    chain: Chain, capsys: pytest.CaptureFixture[str], no_terminal: None
) -> None:
    size = len(chain.log)
    fails(capsys, ["--home", chain.home.root, "signoff", chain.request, "--as", "paul", "--yes"],
          "PRIMEX_PASSPHRASE_PAUL")
    assert len(open_log(chain.home, create=False)) == size


def test_signoff_confirmation_without_terminal(
    chain: Chain, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(""))  # `primex signoff ... < /dev/null`
    fails(capsys, ["--home", chain.home.root, "signoff", chain.request, "--as", "paul"], "--yes")
    assert open_log(chain.home, create=False).state(chain.request).state == "output_checked"


def test_wrong_passphrase(flow: list[str], capsys: pytest.CaptureFixture[str],
                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(_env_name("officer"), "not the passphrase")
    fails(capsys, [*flow, "review", "approve", RID, "--as", "officer"], "officer", "passphrase")
    assert state(flow, RID) == "submitted"


def test_wrong_keystore_passphrase(flow: list[str], capsys: pytest.CaptureFixture[str],
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRIMEX_BCSS_PASSPHRASE", "not the keystore passphrase")
    fails(capsys, [*flow, "linkage", "key-id", "--request", RID], "master-key.json")


# --- bad files ---------------------------------------------------------------------------------

SPEC_FILES = ["missing", "empty", "list", "binary", "folder"]


@pytest.mark.parametrize("kind", SPEC_FILES)
@pytest.mark.parametrize("command", ["validate", "assess", "submit"])
def test_bad_request_files(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                           files: dict[str, Path], kind: str, command: str) -> None:
    extra = ["--as", RESEARCHER] if command == "submit" else []
    home = tmp_path / "h"
    fails(capsys, ["--home", home, "request", command, files[kind], *extra], str(files[kind]))
    assert not (home / "requests").exists()


def test_truncated_request_names_line_and_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / "trunc.yaml"
    spec.write_text((EXAMPLES / "young-adults-trajectories.yaml").read_text()[:300])
    rc = main(["--home", str(tmp_path / "h"), "request", "validate", str(spec)])
    out, err = capsys.readouterr()
    assert rc == 2 and len(err.strip().splitlines()) == 1 and str(spec) in err
    problems = [ln for ln in out.splitlines() if ln.startswith(f"{spec}:")]
    assert problems and all(ln.split(":")[1].isdigit() for ln in problems)  # file:line:col


MICRO_INPUTS = ["missing", "empty", "binary", "folder", "csv-as-parquet"]


@pytest.mark.parametrize("kind", MICRO_INPUTS)
@pytest.mark.parametrize("command", ["risk", "anonymize", "perturb", "table"])
def test_bad_microdata_files(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                             files: dict[str, Path], kind: str, command: str) -> None:
    out = tmp_path / "out"
    extra = {
        "risk": ["--keys", "age"],
        "anonymize": ["--qi", "age", "--k", "2", "--out", out / "o.csv"],
        "perturb": ["--method", "mdav", "--vars", "amount", "--out", out / "o.csv"],
        "table": ["--dims", "age", "--out", out],
    }[command]
    src = files[kind].with_suffix(".csv") if kind in ("empty", "binary") else files[kind]
    if kind in ("empty", "binary"):
        shutil.copyfile(files[kind], src)
    fails(capsys, ["--home", tmp_path / "h", "disclosure", command, src, *extra], str(src))
    assert not out.exists()


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        (["risk", "--keys", "age", "--k", "0"], "--k"),
        (["risk", "--keys", "nope"], "nope"),
        (["anonymize", "--qi", "age", "--k", "0", "--out", "OUT/o.csv"], "k"),
        (["anonymize", "--qi", "age", "--k", "2", "--max-suppression", "1.5",
          "--out", "OUT/o.csv"], "max_suppression"),
        (["anonymize", "--qi", "age", "--k", "2", "--hierarchy", "age=BIN",
          "--out", "OUT/o.csv"], "BIN"),
        (["anonymize", "--qi", "age", "--k", "2", "--out", "FILE/o.csv"], "FILE"),
        (["anonymize", "--qi", "age", "--k", "2", "--out", "DIR"], "DIR"),
        (["anonymize", "--qi", "age", "--k", "2", "--out", "OUT/o.csv",
          "--report-dir", "FILE"], "FILE"),
        (["perturb", "--method", "magic", "--vars", "amount", "--out", "OUT/o.csv"],
         "--method"),
        (["perturb", "--method", "mdav", "--vars", "amount", "--k", "0", "--out", "OUT/o.csv"],
         "k"),
        (["perturb", "--method", "noise", "--vars", "amount", "--out", "FILE/o.csv"], "FILE"),
        (["risk", "--keys", "age", "--records", "FILE/r.csv"], "FILE"),
        (["risk", "--keys", "age", "--records", "DIR"], "DIR"),
    ],
)
def test_bad_microdata_options(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                               files: dict[str, Path], extra: list[str], named: str) -> None:
    places = {"OUT": tmp_path / "out", "FILE": tmp_path / "a-file", "DIR": files["folder"],
              "BIN": files["binary"]}
    places["FILE"].write_text("x")
    for key, path in places.items():
        extra = [x.replace(key, str(path)) if x.startswith(key) or f"={key}" in x else x
                 for x in extra]
        named = str(path) if named == key else named
    fails(capsys, ["--home", tmp_path / "h", "disclosure", extra[0], files["csv"], *extra[1:]],
          named)
    assert not places["OUT"].exists()
    assert list(files["folder"].iterdir()) == []
    no_leftovers(tmp_path)


def test_anonymize_not_passed_writes_no_protected_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], files: dict[str, Path]
) -> None:
    out = tmp_path / "out" / "protected.csv"
    rc = main(["--home", str(tmp_path / "h"), "disclosure", "anonymize", str(files["csv"]),
               "--qi", "age,sex", "--k", "50", "--max-suppression", "0", "--no-catalogue",
               "--out", str(out)])
    assert rc == 1  # documented: NOT PASSED
    assert not out.exists()
    report = json.loads((out.parent / "disclosure-report.json").read_text())
    assert report["passed"] is False
    assert "not written" in capsys.readouterr().out


@pytest.mark.parametrize(("kind", "says"), [("binary", "not UTF-8"), ("list", "signed note"),
                                            ("folder", "cannot read"), ("missing", "cannot")])
def test_checkpoint_files_that_are_not_checkpoints(
    chain: Chain, capsys: pytest.CaptureFixture[str], files: dict[str, Path], kind: str, says: str
) -> None:
    fails(capsys, ["--home", chain.home.root, "audit", "verify", "--checkpoint", files[kind]],
          str(files[kind]), says)


@pytest.mark.parametrize("content", [b"", b"[1]", b"\xff\xfe", b'{"log": "not base64!"}'])
def test_damaged_witness_state(chain: Chain, capsys: pytest.CaptureFixture[str],
                               content: bytes) -> None:
    chain.witness()
    trusted = chain.home.witness / "logs.json"
    trusted.write_bytes(content)
    fails(capsys, ["--home", chain.home.root, "audit", "witness", "status"], str(trusted))
    fails(capsys, ["--home", chain.home.root, "audit", "witness", "cosign", "--as", "committee"],
          str(trusted))


def test_damaged_stored_checkpoint(chain: Chain, capsys: pytest.CaptureFixture[str]) -> None:
    chain.witness()
    stored = chain.home.audit / "checkpoint"
    stored.write_bytes(b"\xff" * 40)
    fails(capsys, ["--home", chain.home.root, "audit", "witness", "cosign", "--as", "committee"],
          str(stored))


@pytest.mark.parametrize("kind", ["csv", "truncated"])
def test_synth_hash_of_a_file_that_is_not_duckdb(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], synth_home: Home, files: dict[str, Path],
    kind: str,
) -> None:
    db = files["csv"]
    if kind == "truncated":
        db = tmp_path / "trunc.duckdb"
        db.write_bytes(synth_home.prima_db.read_bytes()[:5000])
    fails(capsys, ["--home", tmp_path / "h", "synth", "hash", "--db", db, "--warehouse", db],
          str(db), "DuckDB")


@pytest.mark.parametrize("kind", ["csv", "truncated", "warehouse"])
def test_load_population_into_a_file_that_is_not_prima(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], synth_home: Home, files: dict[str, Path],
    kind: str,
) -> None:
    population = tmp_path / "population.csv"
    population.write_text("commune,year,sex,age_band,population\n21004,2024,F,18-24,10\n")
    db = {"csv": files["csv"], "truncated": tmp_path / "cut.duckdb",
          "warehouse": tmp_path / "warehouse.duckdb"}[kind]
    if kind == "truncated":
        db.write_bytes(synth_home.prima_db.read_bytes()[:5000])
    if kind == "warehouse":
        shutil.copyfile(synth_home.warehouse_db, db)
    before = db.read_bytes()
    fails(capsys, ["--home", tmp_path / "h", "synth", "load-population", population,
                   "--db", db], str(db))
    assert db.read_bytes() == before


@pytest.mark.parametrize(
    ("target", "named"),
    [("csv", "not a DuckDB database"), ("folder", "is a folder"), ("same", "--warehouse")],
)
def test_synth_generate_never_overwrites_what_is_not_its_own(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], files: dict[str, Path], target: str,
    named: str,
) -> None:
    before = files["csv"].read_bytes()
    db = files["csv"] if target == "csv" else files["folder"] if target == "folder" else (
        tmp_path / "same.duckdb")
    warehouse = db if target == "same" else tmp_path / "w.duckdb"
    fails(capsys, ["--home", tmp_path / "h", "synth", "generate", "--persons", "500",
                   "--db", db, "--warehouse", warehouse], named)
    assert files["csv"].read_bytes() == before  # the user's CSV is still there
    assert not (tmp_path / "w.duckdb").exists() and not (tmp_path / "same.duckdb").exists()


@pytest.mark.parametrize(
    ("option", "value"),
    [("--persons", "-5"), ("--months", "0"), ("--start", "2022-13"), ("--seed", "-1"),
     ("--comparison", "-1")],
)
def test_synth_generate_out_of_range(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                     option: str, value: str) -> None:
    fails(capsys, ["--home", tmp_path / "h", "synth", "generate", option, value], option)
    assert not (tmp_path / "h" / "spp").exists()


# --- the request flow: unknown ids, wrong states, wrong roles, reruns -------------------------

UNKNOWN_ID_COMMANDS = [
    ["request", "status", UNKNOWN],
    ["review", "show", UNKNOWN, "--no-assess"],
    ["review", "approve", UNKNOWN, "--as", "officer"],
    ["review", "reject", UNKNOWN, "--as", "officer", "--reason", "no"],
    ["review", "check-output", UNKNOWN, "--as", "officer", "--approve"],
    ["review", "close", UNKNOWN, "--as", "officer", "--reason", "no"],
    ["extract", "request", UNKNOWN, "--as", "spp"],
    ["disclosure", "protect", UNKNOWN, "--as", "spp"],
    ["signoff", UNKNOWN, "--as", "president", "--yes"],
    ["release", "check", UNKNOWN],
    ["release", "build", UNKNOWN, "--as", "spp"],
    ["audit", "report", "--request", UNKNOWN],
]


@pytest.mark.parametrize("args", UNKNOWN_ID_COMMANDS, ids=lambda a: " ".join(a[:2]))
def test_unknown_request_id(flow: list[str], capsys: pytest.CaptureFixture[str],
                            args: list[str]) -> None:
    size = len(open_log(flow_home(flow), create=False))
    fails(capsys, [*flow, *args], UNKNOWN)
    assert len(open_log(flow_home(flow), create=False)) == size


WRONG_STATE = [
    (["review", "check-output", RID, "--as", "officer", "--approve"], "submitted"),
    (["signoff", RID, "--as", "president", "--yes"], "submitted"),
    (["extract", "request", RID, "--as", "spp"], "submitted"),
    (["disclosure", "protect", RID, "--as", "spp"], "submitted"),
    (["release", "build", RID, "--as", "spp"], "submitted"),
    (["review", "approve", CODED, "--as", "officer"], "coded"),
    (["review", "reject", CODED, "--as", "officer", "--reason", "late"], "coded"),
]


@pytest.mark.parametrize(("args", "current"), WRONG_STATE, ids=lambda a: " ".join(a[:2])
                         if isinstance(a, list) else a)
def test_request_in_the_wrong_state(flow: list[str], capsys: pytest.CaptureFixture[str],
                                    args: list[str], current: str) -> None:
    rid = args[2] if args[0] != "signoff" else args[1]
    fails(capsys, [*flow, *args], rid, current)
    assert state(flow, rid) == current


WRONG_ROLE = [
    (["review", "approve", RID, "--as", RESEARCHER], "privacy_officer"),
    (["request", "submit", "SPEC", "--as", "officer"], "researcher"),
    (["linkage", "code", "--request", CODED, "--in", "EXTRACT", "--as", "officer"],
     "bcss_operator"),
    (["disclosure", "protect", CODED, "--as", "officer"], "spp_operator"),
    (["audit", "witness", "cosign", "--as", "officer"], "committee"),
    (["keys", "revoke", "spp", "--by", "officer", "--reason", "x"], "committee"),
    (["keys", "init", "--role", "researcher", "--name", "zed", "--by", "nobody"], "nobody"),
]


@pytest.mark.parametrize(("args", "role"), WRONG_ROLE, ids=lambda a: " ".join(a[:2])
                         if isinstance(a, list) else a)
def test_key_of_the_wrong_role(flow: list[str], capsys: pytest.CaptureFixture[str],
                               args: list[str], role: str) -> None:
    home = flow_home(flow)
    places = {"SPEC": str(home.root / "submitted-specs" / "young-adults-trajectories.yaml"),
              "EXTRACT": str(home.spp_work / CODED / "extract.parquet")}
    size = len(open_log(home, create=False))
    fails(capsys, [*flow, *[places.get(a, a) for a in args]], role)
    assert len(open_log(home, create=False)) == size


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["review", "approve", RID, "--as", "officer", "--conditions", "k=1"], "--conditions"),
        (["review", "approve", RID, "--as", "officer", "--conditions", "k=abc"],
         "--conditions"),
        (["review", "approve", RID, "--as", "officer", "--conditions", "nonsense=5"],
         "nonsense"),
        (["review", "approve", RID, "--as", "officer", "--conditions", "k=1e999999"],
         "k=1e999999"),
        (["review", "approve", RID, "--as", "officer", "--conditions",
          "max_suppression=-0.1"], "max_suppression"),
        (["review", "check-output", RID, "--as", "officer", "--approve", "--return"],
         "--approve"),
        (["review", "reject", RID, "--as", "officer", "--reason", " "], "--reason"),
        (["review", "expire", "--as", "officer", "--today", "2025-13-01"], "--today"),
        (["keys", "revoke", RESEARCHER, "--by", "committee", "--reason", ""], "--reason"),
        (["keys", "init", "--role", "wizard", "--name", "x"], "wizard"),
        (["audit", "log", "--limit", "-1"], "--limit"),
        (["audit", "report", "--from", "2025-02-30"], "--from"),
        (["audit", "report", "--from", "2025-03-02", "--to", "2025-03-01"], "--from"),
        (["audit", "report", "--format", "pdf"], "--format"),
        (["extract", "run", "--protocol", "quarterly", "--period", "2025Q5"], "2025Q5"),
        (["extract", "run", "--protocol", "annual", "--period", "2025Q1"], "2025Q1"),
        (["extract", "run", "--protocol", "quarterly", "--snapshot", "2024-02-30"],
         "--snapshot"),
        (["extract", "run", "--protocol", "no-such-protocol"], "no-such-protocol"),
        (["dashboard", "build", "--profile", "nosuch"], "--profile"),
        (["linkage", "code", "--request", "../outside", "--in", "EXTRACT", "--as", "bcss"],
         "--request"),
        (["linkage", "keygen"], "--force"),
    ],
    ids=lambda a: " ".join(a[:2]) if isinstance(a, list) else a,
)
def test_bad_options(flow: list[str], capsys: pytest.CaptureFixture[str], args: list[str],
                     named: str) -> None:
    home = flow_home(flow)
    extract = str(home.spp_work / CODED / "extract.parquet")
    size = len(open_log(home, create=False))
    fails(capsys, [*flow, *[extract if a == "EXTRACT" else a for a in args]], named)
    assert len(open_log(home, create=False)) == size
    assert not (home.root / "outside").exists() and not (home.bcss / "outside").exists()


def test_resubmitting_the_same_request(flow: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    spec = flow_home(flow).root / "submitted-specs" / "young-adults-trajectories.yaml"
    fails(capsys, [*flow, "request", "submit", spec, "--as", RESEARCHER], RID, "already")


def test_rerunning_a_step_that_already_ran(flow: list[str],
                                           capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*flow, "review", "approve", RID, "--as", "officer"]) == 0
    capsys.readouterr()
    fails(capsys, [*flow, "review", "approve", RID, "--as", "officer"], RID, "approved")
    assert main([*flow, "linkage", "keygen"]) == 2  # a second master key needs --force
    capsys.readouterr()


@pytest.mark.parametrize("kind", ["csv-as-parquet", "folder", "binary"])
def test_protect_with_a_coded_file_that_is_not_parquet(
    flow: list[str], capsys: pytest.CaptureFixture[str], files: dict[str, Path], kind: str
) -> None:
    home = flow_home(flow)
    fails(capsys, [*flow, "disclosure", "protect", CODED, "--as", "spp", "--in", files[kind]],
          str(files[kind]), "Parquet")
    assert state(flow, CODED) == "coded"
    assert not (home.spp_work / CODED / "protected").exists()


@pytest.mark.parametrize("kind", ["csv-as-parquet", "folder", "binary", "missing"])
def test_linkage_code_with_an_extract_that_is_not_parquet(
    flow: list[str], capsys: pytest.CaptureFixture[str], files: dict[str, Path], kind: str,
    tmp_path: Path,
) -> None:
    out = tmp_path / "coded" / "coded.parquet"
    fails(capsys, [*flow, "linkage", "code", "--request", CODED, "--in", files[kind],
                   "--out", out, "--as", "bcss"], str(files[kind]))
    assert not out.parent.exists()


def test_linkage_code_output_under_a_file(flow: list[str], capsys: pytest.CaptureFixture[str],
                                          tmp_path: Path) -> None:
    blocker = tmp_path / "a file"
    blocker.write_text("x")
    extract = flow_home(flow).spp_work / CODED / "extract.parquet"
    fails(capsys, [*flow, "linkage", "code", "--request", CODED, "--in", extract,
                   "--out", blocker / "coded.parquet", "--as", "bcss"], str(blocker))


@pytest.mark.parametrize("where", ["under a file", "a folder"])
def test_audit_report_output_that_cannot_be_written(
    flow: list[str], capsys: pytest.CaptureFixture[str], tmp_path: Path, where: str
) -> None:
    blocker = tmp_path / "a file"
    blocker.write_text("x")
    target = blocker / "r.md" if where == "under a file" else tmp_path
    fails(capsys, [*flow, "audit", "report", "--output", target], str(blocker if
          where == "under a file" else tmp_path))
    no_leftovers(tmp_path)


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_read_only_output_folder(flow: list[str], tmp_path: Path) -> None:
    from audit_fixtures import run_primex  # a child without root's bypass: runs in CI as root

    locked = tmp_path / "read only"
    locked.mkdir()
    locked.chmod(0o555)
    extract = flow_home(flow).spp_work / CODED / "extract.parquet"
    try:
        for args in (["audit", "report", "--output", locked / "r.md"],
                     ["linkage", "code", "--request", CODED, "--in", extract,
                      "--out", locked / "sub" / "coded.parquet", "--as", "bcss"]):
            run = run_primex(*flow, *args, modes_apply=True)
            lines = run.stderr.strip().splitlines()
            assert run.returncode == 2 and len(lines) == 1, run.stderr
            assert lines[0].startswith("error:") and "internal error" not in lines[0]
            assert str(locked) in lines[0]
        assert list(locked.iterdir()) == []
    finally:
        locked.chmod(0o755)


def test_audit_report_output_in_a_new_folder(flow: list[str], tmp_path: Path) -> None:
    target = tmp_path / "new folder" / "report.md"
    assert main([*flow, "audit", "report", "--output", str(target)]) == 0
    assert target.read_text().startswith("#")


# --- the release gate and opened packages ------------------------------------------------------


def test_release_build_output_under_a_file_logs_nothing(
    chain: Chain, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    chain.signoff()
    chain.witness()
    blocker = tmp_path / "a file"
    blocker.write_text("x")
    fails(capsys, ["--home", chain.home.root, "release", "build", chain.request, "--as", "spp",
                   "--out", blocker / "p.primex"], str(blocker))
    assert open_log(chain.home, create=False).state(chain.request).state == "signed_off"


@pytest.fixture
def package(chain: Chain, capsys: pytest.CaptureFixture[str]) -> Path:
    chain.signoff()
    chain.witness()
    assert main(["--home", str(chain.home.root), "release", "build", chain.request,
                 "--as", "spp"]) == 0
    capsys.readouterr()
    return chain.home.releases / f"{chain.request}.primex"


def test_open_package_problems(chain: Chain, package: Path, capsys: pytest.CaptureFixture[str],
                               tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = ["--home", str(chain.home.root)]
    blocker = tmp_path / "a file"
    blocker.write_text("x")
    fails(capsys, [*home, "release", "open", package, "--key", "alice", "--out",
                   blocker / "o"], str(blocker))
    fails(capsys, [*home, "release", "open", package, "--key", "olivia", "--out",
                   tmp_path / "o"], "olivia")  # no encryption key: not a researcher
    truncated = tmp_path / "cut.primex"
    truncated.write_bytes(package.read_bytes()[: package.stat().st_size // 2])
    fails(capsys, [*home, "release", "open", truncated, "--key", "alice", "--out",
                   tmp_path / "o"], str(truncated))
    fails(capsys, [*home, "release", "verify", package, "--witness-key", "garbage"], "--key")
    fails(capsys, [*home, "release", "open", package, "--key", "alice", "--log-key", "x",
                   "--out", tmp_path / "o"], "--log-key")
    monkeypatch.setenv("PRIMEX_PASSPHRASE_ALICE", "not alice's passphrase")
    fails(capsys, [*home, "release", "open", package, "--key", "alice", "--out",
                   tmp_path / "o"], "alice", "passphrase")
    assert not (tmp_path / "o").exists()
    monkeypatch.delenv("PRIMEX_PASSPHRASE_ALICE")
    assert main([*home, "release", "open", str(package), "--key", "alice", "--out",
                 str(tmp_path / "o")]) == 0
    capsys.readouterr()
    fails(capsys, [*home, "release", "open", package, "--key", "alice", "--out",
                   tmp_path / "o"], str(tmp_path / "o"), "not empty")
    fails(capsys, [*home, "release", "build", chain.request, "--as", "spp"], chain.request,
          "already")


@pytest.mark.parametrize("meta", [b"[1]", b"{}", b"\xff", b""])
def test_access_with_a_damaged_opened_folder(chain: Chain, package: Path, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str],
                                             meta: bytes) -> None:
    home = ["--home", str(chain.home.root)]
    opened = tmp_path / "opened"
    assert main([*home, "release", "open", str(package), "--key", "alice", "--out",
                 str(opened)]) == 0
    capsys.readouterr()
    (opened / "release.json").write_bytes(meta)
    size = len(open_log(chain.home, create=False))
    fails(capsys, [*home, "release", "access", opened, "--as", "alice"], str(opened))
    assert len(open_log(chain.home, create=False)) == size


# --- open-ended inputs -------------------------------------------------------------------------


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.one_of(st.binary(max_size=300),
                      st.text(max_size=300).map(lambda s: s.encode("utf-8"))))
def test_any_request_file_gets_an_answer(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                         data: bytes) -> None:
    spec = tmp_path / "request.yaml"
    spec.write_bytes(data)
    rc = main(["--home", str(tmp_path / "h"), "request", "validate", str(spec)])
    err = capsys.readouterr().err
    assert rc in (0, 2)
    assert "Traceback" not in err and "internal error" not in err
    if rc == 2:
        assert err.startswith("error:") and str(spec) in err.splitlines()[0]


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=200))
def test_any_microdata_file_gets_an_answer(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                           data: bytes) -> None:
    src = tmp_path / "data.csv"
    src.write_bytes(data)
    rc = main(["--home", str(tmp_path / "h"), "disclosure", "risk", str(src), "--keys", "a"])
    err = capsys.readouterr().err
    assert rc in (0, 2)
    assert "Traceback" not in err and "internal error" not in err
    if rc == 2:
        assert len(err.strip().splitlines()) == 1 and err.startswith("error:")


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(min_size=1, max_size=20).filter(lambda s: not s.startswith("-")))
def test_any_day_for_the_report(chain: Chain, capsys: pytest.CaptureFixture[str],
                                text: str) -> None:
    rc = main(["--home", str(chain.home.root), "audit", "report", "--from", text])
    err = capsys.readouterr().err
    assert rc in (0, 2) and "internal error" not in err
    if rc == 2:
        assert len(err.strip().splitlines()) == 1 and "--from" in err


@settings(max_examples=150)
@given(items=st.lists(st.one_of(
    st.text(max_size=30),
    st.tuples(st.sampled_from(["k", "l", "max_suppression", "min_count", "p_percent",
                               "dominance.n", "dominance.k", "x"]),
              st.one_of(st.text(max_size=12),
                        st.decimals(allow_nan=True, allow_infinity=True).map(str),
                        st.integers(-20, 20).map(lambda e: f"1e{e}"),
                        st.sampled_from(["1e999999", "1e-999999", "-0", "NaN", "5.0"])))
    .map(lambda t: f"{t[0]}={t[1]}")), max_size=4))
def test_any_conditions_are_accepted_tightened_or_refused(items: list[str]) -> None:
    """Whatever the officer types: conditions that only tighten, or one PrimexError naming
    --conditions, and never a stall on a huge exponent."""
    minimums = service_minimums()
    try:
        out = build_conditions(items, {}, minimums)
    except PrimexError as exc:
        assert exc.where == "--conditions"
        return
    for name, floor in minimums.items():
        head, _, tail = name.partition(".")
        value = out["disclosure"][head][tail] if tail else out["disclosure"][name]
        higher = name in ("k", "l", "min_count", "p_percent", "dominance.n")
        assert (Decimal(str(value)) >= floor) if higher else (Decimal(str(value)) <= floor)


# --- protocols, manifests and the stores they read ---------------------------------------------


@pytest.mark.parametrize("kind", ["binary", "folder", "list", "missing"])
def test_protocol_and_manifest_files_that_are_not(
    flow: list[str], capsys: pytest.CaptureFixture[str], files: dict[str, Path], kind: str
) -> None:
    fails(capsys, [*flow, "extract", "run", "--protocol", files[kind]], str(files[kind]))
    fails(capsys, [*flow, "extract", "verify", files[kind]], str(files[kind]))


@pytest.mark.parametrize("cut", [0, 4096])
def test_damaged_prima(flow: list[str], capsys: pytest.CaptureFixture[str], cut: int) -> None:
    prima = flow_home(flow).prima_db
    prima.write_bytes(prima.read_bytes()[:cut])
    for args in (["extract", "run", "--protocol", "quarterly"], ["dashboard", "build"],
                 ["request", "assess", flow_home(flow).root / "submitted-specs"
                  / "young-adults-trajectories.yaml"]):
        fails(capsys, [*flow, *args], str(prima))
    assert not flow_home(flow).extracts.exists()


def test_damaged_indicator_dataset(flow: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*flow, "extract", "run", "--protocol", "quarterly", "--period", "2023Q4"]) == 0
    capsys.readouterr()
    dataset = next(flow_home(flow).extracts.rglob("indicators.parquet"))
    dataset.write_bytes(dataset.read_bytes()[:100])
    fails(capsys, [*flow, "dashboard", "build", "--period", "2023Q4"], str(dataset))
    # a later snapshot compares with this (damaged) earlier publication
    fails(capsys, [*flow, "extract", "run", "--protocol", "quarterly", "--period", "2023Q4",
                   "--snapshot", "2030-01-01"], str(dataset))
    assert not (flow_home(flow).site / "index.html").exists()


@pytest.mark.parametrize("where", ["a file", "under a file"])
def test_table_output_that_cannot_be_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], files: dict[str, Path], where: str
) -> None:
    blocker = tmp_path / "a file"
    blocker.write_text("x")
    out = blocker if where == "a file" else blocker / "table"
    fails(capsys, ["--home", tmp_path / "h", "disclosure", "table", files["csv"], "--dims",
                   "age", "--out", out], str(blocker))
    fails(capsys, ["--home", tmp_path / "h", "disclosure", "table", files["csv"], "--dims",
                   "age", "--method", "cellkey", "--key-file", files["folder"], "--out",
                   tmp_path / "t"], "--key-file")
    assert not (tmp_path / "t").exists()
