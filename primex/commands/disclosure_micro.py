"""`primex disclosure` commands for micro: risk, anonymize, perturb."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from primex.commands.common import check_output, console
from primex.errors import PrimexError

if TYPE_CHECKING:  # pandas is imported by the commands that use it: every `primex` call
    import pandas as pd  # would otherwise pay its start-up time


def _read(path: Path) -> pd.DataFrame:
    import pandas as pd

    if not path.exists():
        raise PrimexError("file not found", where=str(path), hint="give an existing CSV or Parquet")
    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            return pd.read_parquet(path)
        return pd.read_csv(path, sep=None, engine="python") if path.suffix.lower() == ".txt" \
            else pd.read_csv(path)
    except (ValueError, OSError, UnicodeDecodeError) as exc:
        raise PrimexError(f"cannot read the data: {exc}", where=str(path),
                          hint="a CSV with a header line, or a Parquet file") from exc


def _write(df: pd.DataFrame, path: Path) -> None:
    from primex.atomic import write_via

    parquet = path.suffix.lower() in (".parquet", ".pq")
    try:
        write_via(path, (lambda tmp: df.to_parquet(tmp, index=False)) if parquet
                  else (lambda tmp: df.to_csv(tmp, index=False)))
    except OSError as exc:
        raise PrimexError(f"cannot write the file ({exc.strerror})", where=str(path),
                          hint="choose a writable output path") from exc


def _hierarchy(name: str, path: Path) -> Any:
    from primex.protection.files import read_hierarchy_csv

    try:
        return read_hierarchy_csv(name, path)
    except UnicodeDecodeError as exc:  # a binary or non-UTF-8 file given as a hierarchy
        raise PrimexError("cannot read hierarchy file: not UTF-8 text", where=str(path),
                          hint="save the hierarchy as a UTF-8 CSV (ARX form)") from exc


def _names(text: str, option: str) -> list[str]:
    names = [x.strip() for x in text.split(",") if x.strip()]
    if not names:
        raise PrimexError("no variable names given", where=option, hint="comma-separated names")
    return names


def _pairs(items: list[str], option: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise PrimexError(f"expected NAME=VALUE, got {item!r}", where=option,
                              hint=f"e.g. {option} age=hierarchies/age.csv")
        out[name.strip()] = value.strip()
    return out


def _print_json(obj: Any) -> None:
    typer.echo(json.dumps(obj, indent=2, sort_keys=True, default=str))


def register(app: typer.Typer) -> None:
    """Add this half's commands to the `disclosure` group."""

    @app.command("risk")
    def risk_cmd(
        file: Annotated[Path, typer.Argument(help="Microdata file (CSV or Parquet).")],
        keys: Annotated[str, typer.Option("--keys", help="Key variables, comma-separated.")],
        weight: Annotated[str | None, typer.Option(help="Sampling weight column.")] = None,
        hid: Annotated[str | None, typer.Option(help="Household id (hierarchical risk).")] = None,
        alpha: Annotated[float, typer.Option(help="Weight of wildcard matches of blanks.")] = 1.0,
        k: Annotated[int, typer.Option(help="Also count records violating this k.")] = 3,
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
        records: Annotated[Path | None, typer.Option(
            help="Write per-record fk, Fk, risk to this CSV.")] = None,
        report_dir: Annotated[Path | None, typer.Option(
            help="Write disclosure-report.json (the risk figures) into this folder.")] = None,
    ) -> None:
        """Re-identification risk as sdcMicro's measure_risk (fk, Fk, individual, global)."""
        from primex.protection.files import write_micro_report as write_report
        from primex.protection.micro_report import risk_report
        from primex.sdc.micro import measure_risk

        if k < 1:
            raise PrimexError(f"k must be at least 1, got {k}", where="--k", hint="e.g. --k 3")
        if records is not None:
            check_output(records, "--records")
        if report_dir is not None:
            check_output(report_dir, "--report-dir", folder=True)
        df = _read(file)
        m = measure_risk(df, _names(keys, "--keys"), weight=weight, hid=hid, alpha=alpha)
        summary = m.summary()
        summary[f"kanon_violations_k{k}"] = m.kanon_violations(k)
        if records is not None:
            _write(m.frame(), records)
        if report_dir is not None:
            rep = risk_report(m)
            rep["risk"][f"kanon_violations_k{k}"] = m.kanon_violations(k)
            write_report(rep, report_dir)
        if as_json:
            _print_json(summary)
            return
        c = console()
        c.print(f"records: {m.n}   key variables: {', '.join(m.key_vars)}")
        for kk in sorted({2, 3, 5, k}):
            c.print(f"records violating {kk}-anonymity: {m.kanon_violations(kk)}")
        c.print(f"expected re-identifications (global_risk_ER): {m.global_risk_ER:.6f}")
        c.print(f"global risk: {m.global_risk_pct:.4f} %")
        if m.hier_risk_ER is not None:
            c.print(f"household risk ER: {m.hier_risk_ER:.6f} ({m.hier_risk_pct:.4f} %)")

    @app.command("anonymize")
    def anonymize_cmd(
        file: Annotated[Path, typer.Argument(help="Microdata file (CSV or Parquet).")],
        qi: Annotated[str, typer.Option("--qi", help="Quasi-identifiers, comma-separated.")],
        k: Annotated[int, typer.Option("--k", help="Minimum size of every group.")],
        out: Annotated[Path, typer.Option("--out", help="Protected file (.csv or .parquet).")],
        max_suppression: Annotated[float | None, typer.Option(
            help="Share of records that may have a value blanked [policy.yaml "
            "microdata.max_suppression].")] = None,
        hierarchy: Annotated[list[str] | None, typer.Option(
            "--hierarchy", help="NAME=FILE.csv (ARX form); repeatable.")] = None,
        catalogue: Annotated[bool, typer.Option(
            help="Use the catalogue's hierarchies for the QIs it knows.")] = True,
        sensitive: Annotated[str | None, typer.Option(help="Sensitive variable (l-div).")] = None,
        l_div: Annotated[int | None, typer.Option("--l", help="Minimum distinct values.")] = None,
        weight: Annotated[str | None, typer.Option(help="Sampling weight column.")] = None,
        importance: Annotated[str | None, typer.Option(
            help="NAME=N,... lower N = blanked last.")] = None,
        report_dir: Annotated[Path | None, typer.Option(
            help="Folder for disclosure-report.{json,md,html} (default: next to --out).")] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    ) -> None:
        """k-anonymise (optimal generalisation + local suppression) and write the report."""
        from primex.catalogue import load_policy
        from primex.protection.files import write_micro_report as write_report
        from primex.protection.microdata import protect_microdata
        from primex.sdc.micro import GeneralisationHierarchy

        check_output(out, "--out")
        check_output(report_dir or out.parent, "--report-dir", folder=True)
        df = _read(file)
        qis = _names(qi, "--qi")
        hs: dict[str, Any] = {n: _hierarchy(n, Path(p))
                              for n, p in _pairs(hierarchy or [], "--hierarchy").items()}
        if not catalogue:
            hs = {q: hs.get(q) or GeneralisationHierarchy.flat(q, df[q].dropna().unique())
                  for q in qis if q in df.columns} | hs
        imp = None
        if importance:
            given = {n: v for n, v in _pairs(importance.split(","), "--importance").items()}
            try:
                imp = [int(given[q]) for q in qis]
            except (KeyError, ValueError) as exc:
                raise PrimexError("importance needs an integer for every QI",
                                  where="--importance", hint="e.g. age=1,sex=2,region=3") from exc
        data, report = protect_microdata(
            df, qis, k, l=l_div, sensitive=sensitive,
            max_suppression=load_policy().microdata.max_suppression if max_suppression is None
            else max_suppression,
            hierarchies=hs, weight=weight, importance=imp)
        if report["passed"]:  # a file that failed protection is never written as --out
            _write(data, out)
        paths = write_report(report, report_dir or out.parent)
        if as_json:
            _print_json(report)
        else:
            c = console()
            verdict = "[green]PASSED[/]" if report["passed"] else "[red]NOT PASSED[/]"
            c.print(f"{verdict}  k={k}: violations {report['kanon_violations_before']} → "
                    f"{report['kanon_violations_after']}")
            c.print("levels: " + ", ".join(f"{q}={lv}" for q, lv in report["levels"].items()))
            c.print(f"blanked: {report['values_suppressed']} values in "
                    f"{report['records_suppressed']} records "
                    f"(limit {report['parameters']['suppression_budget_records']} records)")
            if report["passed"]:
                c.print(f"wrote {out} and {', '.join(str(p) for p in paths)}")
            else:
                c.print(f"{out} not written; wrote {', '.join(str(p) for p in paths)}")
        if not report["passed"]:
            raise typer.Exit(1)

    @app.command("perturb")
    def perturb_cmd(
        file: Annotated[Path, typer.Argument(help="Microdata file (CSV or Parquet).")],
        method: Annotated[str, typer.Option(help="mdav | noise | correlated-noise | pram")],
        variables: Annotated[str, typer.Option("--vars", help="Variables, comma-separated.")],
        out: Annotated[Path, typer.Option("--out", help="Output file (.csv or .parquet).")],
        k: Annotated[int | None, typer.Option(
            help="MDAV group size [policy.yaml perturbation.mdav_k].")] = None,
        noise: Annotated[float | None, typer.Option(
            help="Noise in % of the sd [policy.yaml perturbation.noise].")] = None,
        pd_min: Annotated[float | None, typer.Option(
            "--pd", help="PRAM minimum diagonal [policy.yaml perturbation.pram_pd].")] = None,
        alpha: Annotated[float | None, typer.Option(
            help="PRAM invariant mixing [policy.yaml perturbation.pram_alpha].")] = None,
        seed: Annotated[int, typer.Option(help="Random seed (noise, PRAM).")] = 0,
        as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    ) -> None:
        """Microaggregate (MDAV), add noise, or PRAM variables; prints IL1s/eigen or changes."""
        import dataclasses

        from primex.catalogue import load_policy
        from primex.sdc.micro.perturb import perturb_variables

        check_output(out, "--out")
        stated = {"mdav_k": k, "noise": noise, "pram_pd": pd_min, "pram_alpha": alpha}
        # what the options do not state comes from policy.yaml, never from a number in code
        params = dataclasses.replace(load_policy().perturbation,
                                     **{f: v for f, v in stated.items() if v is not None})
        df = _read(file)
        names = _names(variables, "--vars")
        df, reports = perturb_variables(df, method, names, params, seed=seed, where="--method")
        _write(df, out)
        if as_json:
            _print_json(reports)
        else:
            for rep in reports:
                figures = {k_: v for k_, v in rep.items() if k_ != "transition_matrix"}
                console().print(figures)
