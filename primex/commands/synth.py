"""`primex synth`: generate the synthetic PRIMA and BCSS warehouse, load a real population."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from primex.commands.common import console, home
from primex.errors import PrimexError

app = typer.Typer(
    help=(
        "Generate the synthetic PRIMA and BCSS warehouse used by the demo, tests and "
        "benchmarks (no real personal data)."
    ),
    no_args_is_help=True,
)

DbOption = Annotated[
    Path | None,
    typer.Option("--db", help="PRIMA database (default: <home>/spp/prima.duckdb)."),
]
WarehouseOption = Annotated[
    Path | None,
    typer.Option(
        "--warehouse", help="BCSS warehouse database (default: <home>/bcss/warehouse.duckdb)."
    ),
]


@app.command()
def generate(
    persons: Annotated[
        int, typer.Option("--persons", help="PRIMA beneficiaries (paid at least once).")
    ] = 20_000,
    start: Annotated[str, typer.Option("--start", help="First month, YYYY-MM.")] = "2022-01",
    months: Annotated[int, typer.Option("--months", help="Length of the period.")] = 24,
    seed: Annotated[int, typer.Option("--seed", help="Same seed, same content.")] = 1,
    comparison: Annotated[
        float,
        typer.Option(
            "--comparison",
            help="Warehouse comparison population (never on RI) per beneficiary.",
        ),
    ] = 0.5,
    db: DbOption = None,
    warehouse: WarehouseOption = None,
    warehouse_parquet: Annotated[
        bool,
        typer.Option(
            "--warehouse-parquet",
            help="Also write the warehouse as Parquet partitioned by quarter under "
            "<home>/bcss/warehouse/ (what `linkage code --engine spark` reads).",
        ),
    ] = False,
) -> None:
    """Write a synthetic PRIMA (spp/prima.duckdb) and BCSS warehouse (bcss/warehouse.duckdb).

    With `--prima postgresql://…` (before the command) PRIMA is also loaded into that
    PostgreSQL database, where every SPP-side step then reads it.

    Example: primex --home demo synth generate --persons 20000 --start 2022-01 --months 24
    """
    from primex.synthetic import SynthConfig
    from primex.synthetic import generate as run

    cfg = SynthConfig(persons=persons, start=start, months=months, seed=seed, comparison=comparison)
    h = home()
    prima_path = db or h.prima_db
    warehouse_path = warehouse or h.warehouse_db
    _check_target(prima_path, "--db")
    _check_target(warehouse_path, "--warehouse")
    if prima_path.resolve() == warehouse_path.resolve():
        raise PrimexError(
            "PRIMA and the BCSS warehouse would be the same file", where="--warehouse",
            hint="give --db and --warehouse two different paths",
        )
    began = time.perf_counter()
    with Progress(
        TextColumn("{task.description:<24}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        console=console(),
        transient=True,
    ) as bar:
        task = bar.add_task("persons", total=1.0)

        def report(label: str, fraction: float) -> None:
            bar.update(task, description=label, completed=fraction)

        result = run(cfg, prima_path, warehouse_path, progress=report)
    elapsed = time.perf_counter() - began
    table = Table(title=f"synthetic data (seed {seed}), {elapsed:.1f} s", show_header=False)
    table.add_row("PRIMA", str(result.prima))
    table.add_row("warehouse", str(result.warehouse))
    table.add_row("beneficiaries", f"{result.persons:,}")
    table.add_row("comparison population", f"{result.comparison:,}")
    table.add_row("monthly payment rows", f"{result.benefit_rows:,}")
    table.add_row("quarterly position rows", f"{result.position_rows:,}")
    table.add_row("period", f"{cfg.start} + {cfg.months} months (snapshot {cfg.snapshot_date})")
    if h.prima_url:  # `--prima postgresql://…`: PRIMA also goes to the SPP's server
        from primex.synthetic.postgres import load_prima, redact_url

        counts = load_prima(result.prima, h.prima_url)
        table.add_row("PRIMA on PostgreSQL",
                      f"{redact_url(h.prima_url)} ({sum(counts.values()):,} rows loaded)")
    if warehouse_parquet:
        from primex.synthetic.warehouse_files import export_warehouse

        folder = export_warehouse(result.warehouse, h.bcss / "warehouse")
        table.add_row("warehouse (Parquet)", str(folder))
    console().print(table)


def _check_target(path: Path, option: str) -> None:
    """generate replaces its targets: never replace a folder or a file that is not a DuckDB
    database (a mistyped `--db data.csv` must not destroy the CSV)."""
    from primex.synthetic.store import is_duckdb_file  # pandas/duckdb: only when needed

    if path.is_dir():
        raise PrimexError("is a folder, not a database file", where=str(path),
                          hint=f"give a .duckdb file name to {option}")
    if path.is_file() and not is_duckdb_file(path):
        raise PrimexError("exists and is not a DuckDB database; not overwritten",
                          where=str(path), hint=f"give a new path or a .duckdb file to {option}")


@app.command("load-population")
def load_population(
    file: Annotated[Path, typer.Argument(help="Statbel population file (CSV/TXT).")],
    year: Annotated[
        int | None, typer.Option("--year", help="Year the file describes (if not in it).")
    ] = None,
    db: DbOption = None,
) -> None:
    """Replace the synthetic population of the file's year(s) by a real Statbel file.

    Accepts Statbel's TF_SOC_POP_STRUCT layout (CD_REFNIS, CD_SEX, CD_AGE, MS_POPULATION) or
    primex's (commune, year, sex, age_band, population). Example:
    primex synth load-population TF_SOC_POP_STRUCT_2025.txt --year 2025
    """
    from primex.synthetic.population import load_statbel
    from primex.synthetic.store import replace_population

    target = db or home().prima_db
    frame = load_statbel(file, year)
    replaced = replace_population(target, frame)
    console().print(
        f"loaded {int(frame['population'].sum()):,} inhabitants in {frame['commune'].nunique()} "
        f"communes for {', '.join(str(y) for y in sorted(frame['year'].unique()))} "
        f"into {target} (replaced {replaced:,} rows)",
        soft_wrap=True,
    )


@app.command("hash")
def hash_(db: DbOption = None, warehouse: WarehouseOption = None) -> None:
    """Print the content hash of both stores (same seed and parameters -> same hashes)."""
    from primex.synthetic import content_hash

    h = home()
    for label, path in (("prima", db or h.prima_db), ("warehouse", warehouse or h.warehouse_db)):
        console().print(f"{label}  {content_hash(path)}  {path}", highlight=False, soft_wrap=True)
