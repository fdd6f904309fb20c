"""`primex disclosure table`: protect a table from a microdata file (wiring only)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from primex.commands.common import check_output, console, home
from primex.errors import PrimexError


def _read_frame(path: Path, what: str) -> Any:
    import pandas as pd

    if not path.exists():
        raise PrimexError(f"{what} not found", where=str(path), hint="check the path")
    try:
        if path.suffix.lower() == ".parquet":
            return pd.read_parquet(path)
        return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    except (ValueError, OSError) as e:
        raise PrimexError(f"cannot read {what} ({e})", where=str(path),
                          hint="give a CSV with a header row, or a Parquet file") from e


def _read_hierarchy(spec: str) -> tuple[str, Any]:
    import pandas as pd

    if "=" not in spec:
        raise PrimexError(f"bad --hierarchy {spec!r}", where="--hierarchy",
                          hint="use DIM=FILE.csv (ARX form: finest code;parent;...;*)")
    dim, file = spec.split("=", 1)
    path = Path(file)
    if not path.exists():
        raise PrimexError("hierarchy file not found", where=str(path))
    text = path.read_text(encoding="utf-8")
    sep = ";" if ";" in text.splitlines()[0] else ","
    return dim, pd.read_csv(path, sep=sep, header=None, dtype=str)


def _rules(rules_json: str | None, min_count: int | None, dominance: str | None,
           p_percent: float | None) -> dict[str, Any]:
    rules: dict[str, Any] = {}
    if rules_json:
        try:
            rules = json.loads(rules_json)
        except json.JSONDecodeError as e:
            raise PrimexError(f"--rules is not valid JSON ({e.msg})", where="--rules",
                              hint='e.g. \'{"min_count": 10, "p_percent": 10}\'') from e
    if min_count is not None:
        rules["min_count"] = min_count
    if dominance:
        try:
            n, k = (float(v) for v in dominance.split(","))
        except ValueError as e:
            raise PrimexError(f"bad --dominance {dominance!r}", where="--dominance",
                              hint="use N,K e.g. 2,85") from e
        rules["dominance"] = {"n": int(n), "k": k}
    if p_percent is not None:
        rules["p_percent"] = p_percent
    from primex.catalogue import load_policy

    # what the options do not state comes from policy.yaml, never from a number in code
    tables = load_policy().tables
    if not rules.keys() & {"min_count", "dominance", "p_percent"}:
        rules["min_count"] = tables.min_count
    return {**tables.levels(), **rules}


def register(app: typer.Typer) -> None:
    """Add this half's commands to the `disclosure` group."""

    @app.command("table")
    def table(
        file: Annotated[Path, typer.Argument(help="Microdata: CSV (with header) or Parquet.")],
        dims: Annotated[str, typer.Option("--dims", help="Comma-separated dimensions.")],
        out: Annotated[Path, typer.Option("--out", help="Output folder.")],
        measure: Annotated[str | None, typer.Option(
            "--measure", help="Amount to sum (magnitude table); omit for counts.")] = None,
        weight: Annotated[str | None, typer.Option("--weight", help="Weight column.")] = None,
        hierarchy: Annotated[list[str] | None, typer.Option(
            "--hierarchy", help="DIM=FILE.csv in ARX form (finest;parent;...;*). Repeat.")
        ] = None,
        rules: Annotated[str | None, typer.Option(
            "--rules", help='JSON, e.g. \'{"min_count": 10, "p_percent": 10}\'.')] = None,
        min_count: Annotated[int | None, typer.Option(
            "--min-count", help="Publish iff count >= this.")] = None,
        dominance: Annotated[str | None, typer.Option(
            "--dominance", help="N,K: unsafe iff top N > K% of the total.")] = None,
        p_percent: Annotated[float | None, typer.Option(
            "--p-percent", help="Unsafe iff T - x1 - x2 < p% of x1.")] = None,
        method: Annotated[str, typer.Option(
            "--method", help="suppression (default) or cellkey.")] = "suppression",
        pseudonym: Annotated[str | None, typer.Option(
            "--pseudonym", help="Pseudonym column (cell key, ledger).")] = None,
        key_file: Annotated[Path | None, typer.Option(
            "--key-file", help="Cell-key secret (raw bytes, >= 16).")] = None,
        noise_d: Annotated[int | None, typer.Option(
            "--noise-d", help="Cell key: max deviation D [policy.yaml cell_key.D].")] = None,
        noise_v: Annotated[float | None, typer.Option(
            "--noise-v", help="Cell key: variance V [policy.yaml cell_key.V].")] = None,
        noise_js: Annotated[int | None, typer.Option(
            "--noise-js", help="Cell key: no published values in 1..js [policy.yaml "
            "cell_key.js].")] = None,
        fmt: Annotated[str, typer.Option("--format", help="csv or parquet.")] = "csv",
        data_id: Annotated[str | None, typer.Option(
            "--data-id", help="Check and record in the release ledger under this data id.")
        ] = None,
        release_id: Annotated[str | None, typer.Option(
            "--release-id", help="Release id recorded in the ledger.")] = None,
    ) -> None:
        """Protect a table: primary rules, secondary suppression, attacker audit (or cell-key
        noise), then write table, pivot and disclosure report. Refuses to write a table that
        fails its audit."""
        from primex.catalogue import load_policy
        from primex.protection.files import write_table
        from primex.protection.ledger import ReleaseLedger
        from primex.sdc.tables import protect_table

        dim_list = [d.strip() for d in dims.split(",") if d.strip()]
        check_output(out, "--out", folder=True)  # before any work, not after it
        micro = _read_frame(file, "microdata")
        hier = dict(_read_hierarchy(h) for h in (hierarchy or []))
        kwargs: dict[str, Any] = {}
        if method == "cellkey":
            if key_file is None or not key_file.is_file():
                raise PrimexError("the cell-key method needs --key-file", where="--key-file",
                                  hint="a file of >= 16 random bytes kept on the SPP side")
            # what the options do not state comes from policy.yaml, never from code
            stated = {"D": noise_d, "V": noise_v, "js": noise_js}
            kwargs["cellkey"] = {"key": key_file.read_bytes(), **load_policy().cell_key.as_dict(),
                                 **{k: v for k, v in stated.items() if v is not None}}
            kwargs["pseudonym"] = pseudonym
        the_rules = _rules(rules, min_count, dominance, p_percent)
        pt = protect_table(micro, dim_list, measure=measure, weight=weight,
                           hierarchies=hier or None, rules=the_rules, method=method, **kwargs)
        ledger_note = ""
        if data_id is not None:
            if not pseudonym or not release_id:
                raise PrimexError("the ledger needs --pseudonym and --release-id",
                                  where="--data-id")
            threshold = int(the_rules.get("min_count", load_policy().tables.min_count))
            with ReleaseLedger(home().ledger_db) as ledger:
                flags = ledger.check(data_id, pt, micro[pseudonym], threshold)
                if len(flags) and method == "suppression":
                    pt = protect_table(micro, dim_list, measure=measure, weight=weight,
                                       hierarchies=hier or None, rules=the_rules,
                                       force_suppress=flags[dim_list])
                    flags = ledger.check(data_id, pt, micro[pseudonym], threshold)
                if len(flags):
                    raise PrimexError(
                        f"{len(flags)} cell(s) would isolate fewer than {threshold} people "
                        "by differencing with an earlier release", where=f"release {release_id}",
                        hint="change the request (population or breakdown)")
                write_table(pt, out, fmt)
                ledger.record(release_id, data_id, pt, micro[pseudonym])
                ledger_note = f"; recorded in the ledger as {release_id}"
        else:
            write_table(pt, out, fmt)
        r = pt.report
        if r["method"] == "suppression":
            console().print(
                f"{r['cells']} cells: {r['primary']} primary, {r['secondary']} secondary "
                f"suppressions; audit {'passed' if r['passed'] else 'FAILED'} "
                f"({r['audit']['primaries_audited']} primaries){ledger_note} -> {out}")
        else:
            ck = r["cellkey"]
            console().print(
                f"{r['cells']} cells, cell-key noise D={ck['D']} V={ck['V']} js={ck['js']}: "
                f"mean |noise| {ck['mean_absolute_perturbation']}{ledger_note} -> {out}")
