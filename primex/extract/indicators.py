"""The indicators of the basic application: what each one means, and how it is computed.

Each indicator carries its definition, interest and methodological precautions (EN, with FR/NL
names), its numerator and denominator, the breakdowns it supports and the grains (quarter,
year) it is defined at. `compute()` runs standard SQL through an `Engine` on the temporary
tables prepared by `primex.extract.run` (`bm`, `per`, `sp`, `geo`, ...) and returns *cells*:
one row per (period, breakdown, key) with the numerator, the denominator and the number of
distinct persons behind each (what table protection needs).

All counts are integers until the last step (a division in Python), so reruns are
byte-identical whatever the engine's summation order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

import pandas as pd

from primex.extract.engine import Engine


class PeriodLike(Protocol):
    label: str
    end: date


class Context(Protocol):
    """What an indicator computation may use. primex.extract.run builds it (run.Context);
    declared here as a protocol so this module imports nothing from the run (one-way
    imports: run -> protocol -> indicators)."""

    engine: Engine
    grain: str
    periods: Sequence[PeriodLike]
    data_start_mi: int
    data_end_mi: int
    series_start: date
    target: str
    series_breakdowns: tuple[str, ...]
    ppr_columns: tuple[str, ...]
    cache: dict[str, Any]  # results shared by several indicators of one run

    @property
    def months_in(self) -> dict[str, int]: ...

    def outcomes(self, offset: int) -> pd.DataFrame | None: ...

    def transitions(self) -> pd.DataFrame | None: ...


# Statbel's statistical sector (REFNIS + 4 characters, `ZZZZ` = not located) nests in the
# commune: only a profile listing it (internal) shows it, and only for counts of persons
# (no population by sector for rates)
SECTOR = "sector"
GEO_LEVELS = ("region", "province", "arrondissement", "commune", SECTOR)
PERSON_DIMS = ("sex", "age_band", "nationality_group")
CELL_COLUMNS = [
    "period_type", "period", "breakdown", "key", "numerator", "denominator", "n", "n_den",
]
AGE_BANDS = ("0-17", "18-24", "25-29", "30-34", "35-39", "40-44", "45-49", "50-54", "55-59",
             "60-64", "65+")
WORK_GROUPS = ("employee", "self_employed")


@dataclass(frozen=True)
class Indicator:
    id: str
    name_en: str
    name_fr: str
    name_nl: str
    definition: str
    interest: str
    precautions: str
    numerator: str
    denominator: str | None
    unit: str  # "persons" | "per 1 000" | "%"
    breakdowns: tuple[str, ...]
    grains: tuple[str, ...]
    compute: Callable[[Context, tuple[str, ...]], pd.DataFrame]
    headline: bool = False

    @property
    def scale(self) -> float:
        return {"per 1 000": 1000.0, "%": 100.0}.get(self.unit, 1.0)

    @property
    def is_ratio(self) -> bool:
        return self.denominator is not None

    @property
    def geographic_levels(self) -> tuple[str, ...]:
        return tuple(b for b in self.breakdowns if b in GEO_LEVELS)


def _dim(breakdown: str) -> str:
    """SQL expression of a breakdown column (whitelisted: breakdowns are validated names)."""
    if breakdown == "total":
        return "''"
    if breakdown not in (*GEO_LEVELS, *PERSON_DIMS, "category", "benefit", "duration_band",
                         "position_group", "piis_type", "outcome"):
        raise ValueError(f"unknown breakdown {breakdown}")
    return f"COALESCE(CAST({breakdown} AS VARCHAR), 'unknown')"


def _union(template: str, breakdowns: tuple[str, ...], ctx: Context,
           col: str = "period") -> str:
    """One SELECT per breakdown, glued with UNION ALL; `{dim}`, `{name}`, `{pf}`, `{src}` and
    `{months}` are filled in. `{pf}` restricts a breakdown outside the protocol's series
    breakdowns to the published period (the series of every breakdown would cost much and
    nobody reads it). `{months}` is the person-month table to read: `bmv` (every period) for
    a series breakdown, else `bmt`, its rows of the published period only (a twelfth of
    them, read once instead of filtering every month of the data again); `{src}` is the
    person-period table `ppr` where it holds the breakdown, else `{months}`."""
    def pf(b: str) -> str:
        if b in ctx.series_breakdowns:
            return ""
        return f"AND {col} = '{ctx.target}'"  # a validated label: 2025Q2 / 2024

    def months(b: str) -> str:
        return "bmv" if b in ctx.series_breakdowns else "bmt"

    def src(b: str) -> str:
        return "ppr" if b == "total" or b in ctx.ppr_columns else months(b)

    return "\nUNION ALL\n".join(
        template.format(dim=_dim(b), name=f"'{b}'", pf=pf(b), src=src(b), months=months(b))
        for b in breakdowns
    )


def _query(ctx: Context, template: str, breakdowns: tuple[str, ...], col: str = "period",
           param: Any = None) -> pd.DataFrame:
    """The rows of `template` over every breakdown (see `_union`); `param`, when given, is
    bound once per breakdown (each SELECT has one `?`)."""
    params = None if param is None else [param] * len(breakdowns)
    return ctx.engine.query(_union(template, breakdowns, ctx, col), params).to_pandas()


def _frame(rows: Any, period_type: str) -> pd.DataFrame:
    """The cells of `rows` (numerator, n and, for a ratio, denominator, n_den): the period
    type added, the counts made values (float64) here, once for every indicator."""
    frame = rows.to_pandas() if hasattr(rows, "to_pandas") else pd.DataFrame(rows)
    if frame.empty:
        return pd.DataFrame(columns=CELL_COLUMNS)
    frame["period_type"] = period_type
    for col in ("denominator", "n_den"):
        if col not in frame:
            frame[col] = float("nan")
    frame["numerator"] = frame["numerator"].astype("float64")
    frame["denominator"] = frame["denominator"].astype("float64")
    return frame[CELL_COLUMNS]


def _cells(part: pd.DataFrame, breakdown: str) -> pd.DataFrame:
    """Cells counted in pandas (BCSS outcomes, transitions), one breakdown: numerator and
    denominator are counts of persons, so they are also `n` and `n_den`."""
    part["breakdown"] = breakdown
    part["n"] = part["numerator"].astype("int64")
    part["n_den"] = part["denominator"].astype("int64")
    return _frame(part, "quarter")


def _concat(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """The cells of several parts (`_frame`d), or no cell."""
    parts = [p for p in parts if not p.empty]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=CELL_COLUMNS)


# --- stock ---------------------------------------------------------------------------------


def _stock(benefit: str) -> Callable[[Context, tuple[str, ...]], pd.DataFrame]:
    def compute(ctx: Context, breakdowns: tuple[str, ...]) -> pd.DataFrame:
        rows = _persons(ctx, breakdowns, benefit)
        rows["numerator"] = rows["pm"] / rows["period"].map(ctx.months_in).astype("float64")
        out = _frame(rows, ctx.grain)
        # monthly series (national total): SPP IS publishes monthly averages of these
        monthly = ctx.engine.query(
            "SELECT month, COUNT(*) AS pm FROM bm WHERE benefit = ? AND month >= ? "
            "GROUP BY month",
            [benefit, ctx.series_start],
        ).to_pandas()
        monthly = pd.DataFrame({
            "period": [f"{m.year:04d}-{m.month:02d}" for m in monthly["month"]],
            "breakdown": "total", "key": "",
            "numerator": monthly["pm"].astype("float64"), "n": monthly["pm"],
        })
        return _concat([out, _frame(monthly, "month")])

    return compute


def _rate_18_64(ctx: Context, breakdowns: tuple[str, ...]) -> pd.DataFrame:
    num = _query(ctx, "SELECT period, {name} AS breakdown, {dim} AS key, CAST(SUM(am) AS "
                 "BIGINT) AS pm, COUNT(DISTINCT niss) AS n FROM {src} WHERE period IS NOT NULL "
                 "AND am > 0 {pf} GROUP BY period, {dim}", breakdowns)
    return _per_population(num, breakdowns, ctx)


def _per_population(num: Any, breakdowns: Any, ctx: Any) -> Any:
    """Person-months per month (`pm`, `n` from `num`) over the population aged 18-64 of the
    same period and breakdown: the rate indicators' common denominator."""
    den = _query(ctx, "SELECT period, {name} AS breakdown, {dim} AS key, CAST(SUM(population) "
                 "AS BIGINT) AS pop FROM pop1864 WHERE 1 = 1 {pf} GROUP BY period, {dim}",
                 breakdowns)
    rows = den.merge(num, on=["period", "breakdown", "key"], how="left")
    rows["pm"] = rows["pm"].fillna(0)
    rows["n"] = rows["n"].fillna(0).astype("int64")
    rows["numerator"] = rows["pm"] / rows["period"].map(ctx.months_in).astype("float64")
    rows["denominator"] = rows["pop"]
    rows["n_den"] = rows["pop"].astype("int64")
    return _frame(rows, ctx.grain)


def _share_students(ctx: Context, breakdowns: tuple[str, ...]) -> pd.DataFrame:
    students = _query(ctx, "SELECT period, {name} AS breakdown, {dim} AS key, CAST(SUM(spm) "
                      "AS BIGINT) AS spm, COUNT(DISTINCT CASE WHEN spm > 0 THEN niss END) AS n "
                      "FROM {src} WHERE benefit = 'RI' AND period IS NOT NULL {pf} "
                      "GROUP BY period, {dim}", breakdowns)
    ri = _persons(ctx, breakdowns, "RI").rename(columns={"n": "n_den"})
    rows = students.merge(ri, on=["period", "breakdown", "key"])
    months = rows["period"].map(ctx.months_in).astype("float64")
    rows["numerator"] = rows["spm"] / months
    rows["denominator"] = rows["pm"] / months
    return _frame(rows, ctx.grain)


# --- flows and durations -------------------------------------------------------------------


def _entries(ctx: Context, breakdowns: tuple[str, ...]) -> pd.DataFrame:
    # a spell that starts in the first month of the data may have started earlier: not an entry
    return _frame(_query(
        ctx, "SELECT period_first AS period, {name} AS breakdown, {dim} AS key, COUNT(*) AS "
        "numerator, COUNT(DISTINCT niss) AS n FROM sp_first WHERE period_first IS NOT NULL AND "
        "first_mi > ? {pf} GROUP BY period_first, {dim}", breakdowns, "period_first",
        ctx.data_start_mi), ctx.grain)


def _exits(ctx: Context, breakdowns: tuple[str, ...]) -> pd.DataFrame:
    # an exit is known only when the month after the last payment is in the (stable) data
    rows = _query(ctx, "SELECT period_last AS period, {name} AS breakdown, {dim} AS key, "
                  "COUNT(*) AS numerator, COUNT(DISTINCT niss) AS n FROM sp_last WHERE "
                  "period_last IS NOT NULL AND exit_known {pf} GROUP BY period_last, {dim}",
                  breakdowns, "period_last")
    return _frame(_exits_complete(ctx, rows), ctx.grain)


def _exits_complete(ctx: Context, rows: pd.DataFrame) -> pd.DataFrame:
    """Only periods whose every exit is known: the month after the period is stable data."""
    ends = {p.label: p.end.year * 12 + p.end.month - 1 for p in ctx.periods}
    return rows[rows["period"].map(ends) < ctx.data_end_mi]


def _spell_duration(ctx: Context, breakdowns: tuple[str, ...]) -> pd.DataFrame:
    base = ("FROM sp_last WHERE period_last IS NOT NULL AND exit_known AND first_mi > ? "
            "GROUP BY period_last")
    num = _query(ctx, "SELECT period_last AS period, {name} AS breakdown, {dim} AS key, "
                 "COUNT(*) AS numerator, COUNT(DISTINCT niss) AS n "
                 + base.replace("GROUP BY", "{pf} GROUP BY") + ", {dim}",
                 breakdowns, "period_last", ctx.data_start_mi)
    den = ctx.engine.query(
        "SELECT period_last AS period, COUNT(*) AS denominator, COUNT(DISTINCT niss) AS n_den "
        + base,
        [ctx.data_start_mi],
    ).to_pandas()
    return _frame(_exits_complete(ctx, num.merge(den, on="period", how="inner")), ctx.grain)


def _long_rights(ctx: Context, breakdowns: tuple[str, ...]) -> pd.DataFrame:
    # beneficiaries of the period's last month whose spell has run 24 months or more; only
    # periods whose last month is >= 23 months after the data start (no left censoring)
    return _frame(_query(
        ctx, "SELECT b.period, {name} AS breakdown, {dim} AS key, "
        "CAST(SUM(CASE WHEN b.mi - s.first_mi >= 23 THEN 1 ELSE 0 END) AS BIGINT) "
        "AS numerator, COUNT(*) AS denominator, "
        "CAST(SUM(CASE WHEN b.mi - s.first_mi >= 23 THEN 1 ELSE 0 END) AS BIGINT) AS n, "
        "COUNT(*) AS n_den "
        "FROM bm b JOIN sp s ON s.spell_id = b.spell_id JOIN per ON per.period = b.period "
        "WHERE b.mi = per.end_mi AND per.end_mi - ? >= 23 {pf} GROUP BY b.period, {dim}",
        breakdowns, "b.period", ctx.data_start_mi), ctx.grain)


# --- activation ----------------------------------------------------------------------------


def _activation(column: str, population: str) -> Callable[[Context, tuple[str, ...]], pd.DataFrame]:
    def compute(ctx: Context, breakdowns: tuple[str, ...]) -> pd.DataFrame:
        where = "ri = 1" if population == "ri" else "1 = 1"
        return _frame(_query(
            ctx, "SELECT period, {name} AS breakdown, {dim} AS key, "
            f"CAST(SUM({column}) AS BIGINT) AS numerator, COUNT(*) AS denominator, "
            f"CAST(SUM({column}) AS BIGINT) AS n, COUNT(*) AS n_den FROM act_pop WHERE {where} "
            "{pf} GROUP BY period, {dim}", breakdowns), ctx.grain)

    return compute


# --- annual --------------------------------------------------------------------------------


def _persons_year(benefit: str) -> Callable[[Context, tuple[str, ...]], pd.DataFrame]:
    def compute(ctx: Context, breakdowns: tuple[str, ...]) -> pd.DataFrame:
        # dimensions as in the person's first month of the benefit in the year
        rows = ctx.engine.query(
            "WITH f AS (SELECT bm.*, ROW_NUMBER() OVER (PARTITION BY period, niss "
            "ORDER BY month) AS rn FROM bm WHERE benefit = ? AND period IS NOT NULL) "
            + _union(
                "SELECT period, {name} AS breakdown, {dim} AS key, COUNT(*) AS numerator, "
                "COUNT(*) AS n FROM f WHERE rn = 1 {pf} GROUP BY period, {dim}",
                breakdowns, ctx,
            ),
            [benefit],
        ).to_pandas()
        return _frame(rows, ctx.grain)

    return compute


# --- labour-market outcomes (BCSS) ---------------------------------------------------------


def _outcome(offset: int, by_position: bool) -> Callable[[Context, tuple[str, ...]], pd.DataFrame]:
    def compute(ctx: Context, breakdowns: tuple[str, ...]) -> pd.DataFrame:
        frame = ctx.outcomes(offset)
        if frame is None or frame.empty:
            return pd.DataFrame(columns=CELL_COLUMNS)
        frame = frame[frame["position_group"].notna()].copy()
        frame["at_work"] = frame["position_group"].isin(WORK_GROUPS).astype("int64")
        out: list[pd.DataFrame] = []
        for b in breakdowns:
            data = frame if b in ctx.series_breakdowns else frame[frame["period"] == ctx.target]
            if by_position:
                if b == "total":
                    continue
                g = data.groupby(["period", "position_group"], sort=True).size()
                tot = data.groupby("period").size()
                part = g.rename("numerator").reset_index().rename(columns={"position_group": "key"})
                part["denominator"] = part["period"].map(tot)
            else:
                keys = ["period"] if b == "total" else ["period", b]
                agg = data.groupby(keys, sort=True)["at_work"].agg(["sum", "count"]).reset_index()
                part = agg.rename(columns={"sum": "numerator", "count": "denominator"})
                part["key"] = "" if b == "total" else part[b].astype(str)
            out.append(_cells(part, b))
        return _concat(out)

    return compute


# --- profiles of the beneficiaries ---------------------------------------------------------


def _persons(ctx: Context, breakdowns: tuple[str, ...], benefit: str | None = None,
             ) -> pd.DataFrame:
    """Beneficiaries of `benefit` (RI, ERIS; None: both) by period and breakdown:
    person-months (`pm`) and distinct persons (`n`). Counted once per benefit and breakdown
    in a run (cached in its context): the stocks, the nine profile shares and the students'
    denominator stand on the same persons, and a distinct count over every period is the
    dearest aggregate of the protocol."""
    cache: dict[tuple[str | None, str], pd.DataFrame] = ctx.cache.setdefault("persons", {})
    todo = tuple(b for b in breakdowns if (benefit, b) not in cache)
    if todo:
        rows = _query(ctx, "SELECT period, {name} AS breakdown, {dim} AS key, CAST(SUM(pm) AS "
                      "BIGINT) AS pm, COUNT(DISTINCT niss) AS n FROM {src} WHERE period IS NOT "
                      "NULL " + ("AND benefit = ? " if benefit else "") + "{pf} "
                      "GROUP BY period, {dim}", todo, param=benefit)
        for b in todo:
            cache[(benefit, b)] = rows[rows["breakdown"] == b]
    return pd.concat([cache[(benefit, b)] for b in breakdowns], ignore_index=True)


def _stock_all(ctx: Context, breakdowns: tuple[str, ...]) -> pd.DataFrame:
    """RI and ERIS together: average monthly number of persons (one benefit a month)."""
    rows = _persons(ctx, breakdowns)
    rows["numerator"] = rows["pm"] / rows["period"].map(ctx.months_in).astype("float64")
    return _frame(rows, ctx.grain)


PROFILE_CONDITIONS = {
    "share_women": "sex = 'F'",
    "share_18_24": "age_band = '18-24'",
    "share_50_64": "age_band IN ('50-54', '55-59', '60-64')",
    "share_non_eu": "nationality_group = 'NON_EU'",
    "share_eu": "nationality_group = 'EU'",
    "share_cohabitant": "category = '1'",
    "share_isolated": "category = '2'",
    "share_family": "category = '3'",
    "share_eris": "benefit = 'ERIS'",
}
_PROFILE_ALL_BD = ("total", "region", "province", "arrondissement", "sex", "age_band")


def _profile_share(ind_id: str) -> Callable[[Context, tuple[str, ...]], pd.DataFrame]:
    """Share of the average monthly RI+ERIS beneficiaries meeting the indicator's condition
    (PROFILE_CONDITIONS: fixed SQL predicates of this module, never user input). The nine
    shares come from ONE pass over the person-months (cached in the run's context), their
    distinct persons from `_persons`: the threshold applies to the average shown, which
    never exceeds the distinct persons, so the cell's distinct persons (`n_den`) bound `n`."""
    def compute(ctx: Context, breakdowns: tuple[str, ...]) -> pd.DataFrame:
        if "profiles" not in ctx.cache:
            sums = ", ".join(f"CAST(SUM(CASE WHEN {cond} THEN 1 ELSE 0 END) AS BIGINT) AS {i}"
                             for i, cond in PROFILE_CONDITIONS.items())
            months = _query(
                ctx, "SELECT period, {name} AS breakdown, {dim} AS key, " + sums + ", "
                "CAST(COUNT(*) AS BIGINT) AS pm "
                "FROM {months} WHERE period IS NOT NULL {pf} GROUP BY period, {dim}",
                _PROFILE_ALL_BD)
            persons = _persons(ctx, _PROFILE_ALL_BD)[["period", "breakdown", "key", "n"]]
            ctx.cache["profiles"] = months.merge(persons.rename(columns={"n": "n_den"}),
                                                 on=["period", "breakdown", "key"])
        rows = ctx.cache["profiles"]
        rows = rows[rows["breakdown"].isin(breakdowns)].copy()
        months = rows["period"].map(ctx.months_in).astype("float64")
        rows["numerator"] = rows[ind_id] / months
        rows["denominator"] = rows["pm"] / months
        rows["n"] = rows["n_den"]
        return _frame(rows, ctx.grain)

    return compute


def _rate_benefit(benefit: str) -> Callable[[Context, tuple[str, ...]], pd.DataFrame]:
    """Beneficiaries of one benefit aged 18-64 per 1 000 inhabitants aged 18-64."""
    def compute(ctx: Context, breakdowns: tuple[str, ...]) -> pd.DataFrame:
        num = _query(ctx, "SELECT period, {name} AS breakdown, {dim} AS key, CAST(SUM(am) AS "
                     "BIGINT) AS pm, COUNT(DISTINCT niss) AS n FROM {src} WHERE period IS NOT "
                     "NULL AND am > 0 AND benefit = ? {pf} GROUP BY period, {dim}", breakdowns,
                     param=benefit)
        return _per_population(num, breakdowns, ctx)

    return compute


def _reentries(ctx: Context, breakdowns: tuple[str, ...]) -> pd.DataFrame:
    """Entries of persons whose previous spell ended at most 12 months before."""
    rows = ctx.engine.query(
        _union(
            "SELECT f.period_first AS period, {name} AS breakdown, {dim} AS key, "
            "COUNT(*) AS numerator, COUNT(DISTINCT f.niss) AS n FROM sp_first f "
            "WHERE f.period_first IS NOT NULL AND f.first_mi > ? AND EXISTS (SELECT 1 FROM "
            "sp_last l WHERE l.niss = f.niss AND l.last_mi < f.first_mi "
            "AND f.first_mi - l.last_mi <= 12) {pf} GROUP BY f.period_first, {dim}",
            breakdowns, ctx, "f.period_first",
        ).replace("COALESCE(CAST(", "COALESCE(CAST(f."),
        [ctx.data_start_mi] * len(breakdowns),
    ).to_pandas()
    return _frame(rows, ctx.grain)


# --- contracts: PIIS, art. 60 §7, art. 61 (table `ct`) -------------------------------------


def _contracts_started(kind: str) -> Callable[[Context, tuple[str, ...]], pd.DataFrame]:
    def compute(ctx: Context, breakdowns: tuple[str, ...]) -> pd.DataFrame:
        return _frame(_query(
            ctx, "SELECT period_start AS period, {name} AS breakdown, {dim} AS key, COUNT(*) "
            "AS numerator, COUNT(DISTINCT niss) AS n FROM ct WHERE kind = ? AND period_start IS "
            "NOT NULL {pf} GROUP BY period_start, {dim}", breakdowns, "period_start", kind),
            ctx.grain)

    return compute


def _contracts_share(kind: str, condition: str, by: str = "period_start",
                     ) -> Callable[[Context, tuple[str, ...]], pd.DataFrame]:
    """Contracts of `kind` started (or ended: by='period_end') in the period meeting
    `condition` (a fixed SQL predicate of this module), as a % of all of them."""
    def compute(ctx: Context, breakdowns: tuple[str, ...]) -> pd.DataFrame:
        return _frame(_query(
            ctx, f"SELECT {by} AS period, {{name}} AS breakdown, {{dim}} AS key, "
            f"CAST(SUM(CASE WHEN {condition} THEN 1 ELSE 0 END) AS BIGINT) AS numerator, "
            "COUNT(*) AS denominator, "
            f"COUNT(DISTINCT CASE WHEN {condition} THEN niss END) AS n, "
            f"COUNT(DISTINCT niss) AS n_den FROM ct WHERE kind = ? AND {by} IS NOT NULL "
            f"{{pf}} GROUP BY {by}, {{dim}}", breakdowns, by, kind), ctx.grain)

    return compute


def _contracts_distribution(kind: str, column: str, by: str = "period_start",
                            ) -> Callable[[Context, tuple[str, ...]], pd.DataFrame]:
    """Contracts of `kind` started (ended) in the period by `column`, % of all of them."""
    def compute(ctx: Context, breakdowns: tuple[str, ...]) -> pd.DataFrame:
        num = _query(ctx, f"SELECT {by} AS period, {{name}} AS breakdown, {{dim}} AS key, "
                     "COUNT(*) AS numerator, COUNT(DISTINCT niss) AS n FROM ct "
                     f"WHERE kind = ? AND {by} IS NOT NULL {{pf}} GROUP BY {by}, {{dim}}",
                     breakdowns, by, kind)
        den = ctx.engine.query(
            f"SELECT {by} AS period, COUNT(*) AS denominator, COUNT(DISTINCT niss) AS n_den "
            f"FROM ct WHERE kind = ? AND {by} IS NOT NULL GROUP BY {by}", [kind],
        ).to_pandas()
        return _frame(num.merge(den, on="period", how="inner"), ctx.grain)

    del column  # the breakdown names the column (piis_type, outcome, duration_band)
    return compute


def _running(column: str) -> Callable[[Context, tuple[str, ...]], pd.DataFrame]:
    """Persons with a contract (`a60`, `a61` or `piis` of act_pop) running in the period."""
    def compute(ctx: Context, breakdowns: tuple[str, ...]) -> pd.DataFrame:
        return _frame(_query(
            ctx, "SELECT period, {name} AS breakdown, {dim} AS key, "
            f"CAST(SUM({column}) AS BIGINT) AS numerator, CAST(SUM({column}) AS BIGINT) AS n "
            "FROM act_pop WHERE 1 = 1 {pf} GROUP BY period, {dim}", breakdowns), ctx.grain)

    return compute


# --- transition matrices (BCSS positions a year apart) -------------------------------------


def _transition(cohort: str) -> Callable[[Context, tuple[str, ...]], pd.DataFrame]:
    """Persons of the cohort by (position a year before → position at the period's end), as a
    % of the cohort found in the warehouse at both dates."""
    def compute(ctx: Context, breakdowns: tuple[str, ...]) -> pd.DataFrame:
        frame = ctx.transitions()
        if frame is None or frame.empty:
            return pd.DataFrame(columns=CELL_COLUMNS)
        frame = frame[frame["cohort"] == cohort]
        out: list[pd.DataFrame] = []
        for b in breakdowns:
            data = frame if b in ctx.series_breakdowns else frame[frame["period"] == ctx.target]
            if b != "transition" or data.empty:
                continue
            keys = data["from_group"].astype(str) + ">" + data["to_group"].astype(str)
            g = data.assign(key=keys).groupby(["period", "key"], sort=True).size()
            part = g.rename("numerator").reset_index()
            part["denominator"] = part["period"].map(data.groupby("period").size())
            out.append(_cells(part, b))
        return _concat(out)

    return compute


# --- the list ------------------------------------------------------------------------------

_GEO_ALL = ("total", *GEO_LEVELS[:-1])  # down to the commune (populations exist there)
_STOCK_BD = (*_GEO_ALL, SECTOR, "category", "sex", "age_band", "nationality_group")
_PERSON_BD = ("total", "region", "province", "arrondissement", "sex", "age_band")
_BOTH = ("quarter", "year")

_CENSOR = (
    "The data start at a given month: a spell running in that first month may have begun "
    "earlier, so it is left out where its start matters."
)


def _stock_indicator(benefit: str, fr: str, nl: str) -> Indicator:
    label = "integration income (RI)" if benefit == "RI" else "equivalent social aid (ERIS)"
    return Indicator(
        id=f"stock_{benefit.lower()}",
        name_en=f"Beneficiaries of {label}",
        name_fr=fr, name_nl=nl,
        definition=(
            f"Number of persons with {benefit} paid by a CPAS in a month; the figure of a "
            "quarter (year) is the average of its monthly counts. A person counts once a "
            "month, at the CPAS that paid (the CPAS of the commune of residence)."
        ),
        interest=(
            "The headline measure of the last safety net: how many people rely on it, where, "
            "and how that changes over time."
        ),
        precautions=(
            "Monthly averages differ from the number of distinct persons in a quarter or a "
            "year (much higher, see the annual count). Only stable months are counted: a CPAS "
            "can still correct a month later, which revises the figure in the next "
            "publication. A person paid RI and ERIS in the same month counts under RI."
        ),
        numerator=f"person-months with {benefit} in the period / months in the period",
        denominator=None, unit="persons", breakdowns=_STOCK_BD, grains=_BOTH,
        compute=_stock(benefit), headline=True,
    )


INDICATORS: dict[str, Indicator] = {}


def _add(ind: Indicator) -> None:
    INDICATORS[ind.id] = ind


_add(_stock_indicator(
    "RI", "Bénéficiaires du revenu d'intégration (RI)", "Leefloongerechtigden (RI)"))
_add(_stock_indicator(
    "ERIS", "Bénéficiaires de l'équivalent du revenu d'intégration (ERIS)",
    "Gerechtigden op het equivalent leefloon (ERIS)"))
_add(Indicator(
    id="rate_18_64",
    name_en="RI and ERIS beneficiaries per 1 000 inhabitants aged 18-64",
    name_fr="Bénéficiaires RI et ERIS pour 1 000 habitants de 18 à 64 ans",
    name_nl="RI- en ERIS-gerechtigden per 1 000 inwoners van 18 tot 64 jaar",
    definition=(
        "Average monthly number of RI or ERIS beneficiaries aged 18 to 64, divided by the "
        "population aged 18 to 64 of the same area (the population of the period's year, or "
        "the latest year available), times 1 000."
    ),
    interest="Compares areas of different size: the intensity of reliance on the CPAS.",
    precautions=(
        "The population table is synthetic unless a Statbel file was loaded "
        "(`primex synth load-population`). The CPAS commune is used for the beneficiaries and "
        "the commune of residence for the population; for homeless persons they can differ. "
        "Rates on small numerators or populations are not shown."
    ),
    numerator="person-months with RI or ERIS, aged 18-64 / months in the period",
    denominator="inhabitants aged 18-64", unit="per 1 000",
    breakdowns=(*_GEO_ALL, "sex"), grains=_BOTH, compute=_rate_18_64, headline=True,
))
_add(Indicator(
    id="share_students",
    name_en="Share of students among RI beneficiaries",
    name_fr="Part d'étudiants parmi les bénéficiaires du RI",
    name_nl="Aandeel studenten bij de leefloongerechtigden",
    definition=(
        "Average monthly number of RI beneficiaries with a student PIIS, as a percentage of "
        "the average monthly number of RI beneficiaries."
    ),
    interest="Tracks the weight of young people who combine studies and RI.",
    precautions="Student status is the one recorded for the month; it can change in a year.",
    numerator="person-months with RI as a student", denominator="person-months with RI",
    unit="%", breakdowns=("total", "region", "province", "sex", "age_band"), grains=_BOTH,
    compute=_share_students,
))
_add(Indicator(
    id="entries",
    name_en="Entries into RI or ERIS",
    name_fr="Entrées dans le RI ou l'ERIS", name_nl="Instroom in RI of ERIS",
    definition=(
        "Number of spells (continuous months of the same benefit at the same CPAS) whose "
        "first month falls in the period."
    ),
    interest="Inflow: how many people newly turn to the CPAS for an income.",
    precautions=(
        _CENSOR + " A move to another CPAS or a switch between RI and ERIS starts a new spell, "
        "so entries count spells, not new persons."
    ),
    numerator="spells starting in the period", denominator=None, unit="persons",
    breakdowns=(*_PERSON_BD, "benefit"), grains=_BOTH, compute=_entries,
))
_add(Indicator(
    id="exits",
    name_en="Exits from RI or ERIS",
    name_fr="Sorties du RI ou de l'ERIS", name_nl="Uitstroom uit RI of ERIS",
    definition=(
        "Number of spells whose last month falls in the period, counted only when the "
        "following month is in the stable data (otherwise the spell may still be running)."
    ),
    interest="Outflow: how many people leave the CPAS income, for work or otherwise.",
    precautions=(
        "An exit is only known one month later: the exits of the latest quarter are published "
        "when the month after it is stable. A spell interrupted for one month and resumed "
        "counts as an exit and a new entry."
    ),
    numerator="spells ending in the period", denominator=None, unit="persons",
    breakdowns=(*_PERSON_BD, "benefit"), grains=_BOTH, compute=_exits,
))
_add(Indicator(
    id="spell_duration",
    name_en="Duration of completed spells",
    name_fr="Durée des périodes de droit terminées", name_nl="Duur van afgesloten periodes",
    definition=(
        "Spells ending in the period by duration band (1-3, 4-6, 7-12, 13-24, 25+ months), as "
        "a percentage of all spells ending in the period."
    ),
    interest="Separates short passages through the CPAS from long-term reliance.",
    precautions=_CENSOR + " Spells that began in the first month of the data are excluded.",
    numerator="spells ending in the period in the duration band",
    denominator="spells ending in the period", unit="%",
    breakdowns=("duration_band",), grains=_BOTH, compute=_spell_duration,
))
_add(Indicator(
    id="long_rights",
    name_en="Share of rights open for 2 years or more",
    name_fr="Part des droits ouverts depuis 2 ans ou plus",
    name_nl="Aandeel rechten die 2 jaar of langer open zijn",
    definition=(
        "Among the beneficiaries of the last month of the period, the percentage whose current "
        "spell has lasted 24 months or more."
    ),
    interest="Measures long-term dependence on the last safety net.",
    precautions=(
        "Only computed once the data cover 24 months before the period's last month. A break "
        "of one month restarts the spell, which understates long dependence."
    ),
    numerator="beneficiaries with a spell of 24 months or more",
    denominator="beneficiaries in the period's last month", unit="%",
    breakdowns=_PERSON_BD, grains=_BOTH, compute=_long_rights, headline=True,
))
_add(Indicator(
    id="art60_share",
    name_en="Share in an art. 60 §7 job",
    name_fr="Part en mise à l'emploi art. 60 §7", name_nl="Aandeel in tewerkstelling art. 60 §7",
    definition=(
        "Persons with an art. 60 §7 contract running in the period, as a percentage of the "
        "persons supported by the CPAS in the period (RI or ERIS paid, or an art. 60 §7 / art. "
        "61 contract running)."
    ),
    interest="Activation: how many people the CPAS itself puts to work.",
    precautions=(
        "During an art. 60 §7 contract the person is an employee and usually receives no RI, "
        "hence the wider denominator. Regions fund these jobs since 2015: compare regions "
        "with care. Geography: the CPAS of the contract, else the commune of residence."
    ),
    numerator="persons with an art. 60 §7 contract in the period",
    denominator="persons with RI, ERIS or an employment measure in the period", unit="%",
    breakdowns=_PERSON_BD, grains=_BOTH, compute=_activation("a60", "all"),
))
_add(Indicator(
    id="art61_share",
    name_en="Share in an art. 61 job",
    name_fr="Part en mise à l'emploi art. 61", name_nl="Aandeel in tewerkstelling art. 61",
    definition=(
        "Persons with an art. 61 contract (job with a private employer, supported by the "
        "CPAS) running in the period, as a percentage of the persons supported by the CPAS."
    ),
    interest="Activation through private employers.",
    precautions="Small numbers: often not shown below the regional level.",
    numerator="persons with an art. 61 contract in the period",
    denominator="persons with RI, ERIS or an employment measure in the period", unit="%",
    breakdowns=_PERSON_BD, grains=_BOTH, compute=_activation("a61", "all"),
))
_add(Indicator(
    id="piis_coverage",
    name_en="PIIS coverage",
    name_fr="Couverture PIIS", name_nl="GPMI-dekking",
    definition=(
        "RI beneficiaries of the period with a PIIS (individualised social integration "
        "project) running at some time in the period, as a percentage of RI beneficiaries."
    ),
    interest="PIIS are general for new RI beneficiaries since November 2016: the coverage "
             "shows how far that is applied.",
    precautions="Older beneficiaries (before 2016) are not required to have one.",
    numerator="RI beneficiaries with a PIIS in the period",
    denominator="RI beneficiaries in the period", unit="%",
    breakdowns=_PERSON_BD, grains=_BOTH, compute=_activation("piis", "ri"),
))
for _k in (4, 8):
    _add(Indicator(
        id=f"outcome_work_{_k}q",
        name_en=f"At work {_k} quarters after leaving RI",
        name_fr=f"Au travail {_k} trimestres après la sortie du RI",
        name_nl=f"Aan het werk {_k} kwartalen na het verlaten van het leefloon",
        definition=(
            f"Persons who left RI in the quarter {_k} quarters before the period, the "
            "percentage at work (employee or self-employed) on the last day of the period, "
            "according to the BCSS data warehouse."
        ),
        interest="The labour-market integration that RI and activation aim for.",
        precautions=(
            "Positions come from the BCSS data warehouse (pseudonymised, aggregated-ready "
            "outcomes); persons the warehouse does not find are left out. A person may have "
            "returned to RI in between."
        ),
        numerator="leavers at work at the end of the period",
        denominator=f"persons who left RI {_k} quarters earlier (found in the warehouse)",
        unit="%", breakdowns=("total", "region", "sex", "age_band"), grains=("quarter",),
        compute=_outcome(_k, by_position=False),
    ))
    _add(Indicator(
        id=f"position_{_k}q",
        name_en=f"Position {_k} quarters after leaving RI",
        name_fr=f"Position {_k} trimestres après la sortie du RI",
        name_nl=f"Positie {_k} kwartalen na het verlaten van het leefloon",
        definition=(
            f"Persons who left RI in the quarter {_k} quarters before the period, by "
            "socio-economic position (data warehouse group) on the last day of the period, as a "
            "percentage of those found in the warehouse."
        ),
        interest="Where leavers go: work, unemployment, back to the CPAS, inactivity.",
        precautions="See 'At work': same cohort and sources.",
        numerator="leavers in the position group",
        denominator=f"persons who left RI {_k} quarters earlier (found in the warehouse)",
        unit="%", breakdowns=("position_group",), grains=("quarter",),
        compute=_outcome(_k, by_position=True),
    ))
_add(Indicator(
    id="persons_year_ri",
    name_en="Persons with RI at least once in the year",
    name_fr="Personnes ayant bénéficié du RI au moins une fois dans l'année",
    name_nl="Personen met minstens één maand leefloon in het jaar",
    definition="Distinct persons with RI paid for at least one month of the calendar year.",
    interest="The reach of RI over a year: about 1.5 times the monthly average.",
    precautions=(
        "Breakdowns use the person's situation in their first month of RI in the year. Not "
        "comparable with monthly averages."
    ),
    numerator="distinct persons with RI in the year", denominator=None, unit="persons",
    breakdowns=(*_GEO_ALL, "sex", "age_band", "nationality_group"), grains=("year",),
    compute=_persons_year("RI"), headline=True,
))
_add(Indicator(
    id="persons_year_eris",
    name_en="Persons with ERIS at least once in the year",
    name_fr="Personnes ayant bénéficié de l'ERIS au moins une fois dans l'année",
    name_nl="Personen met minstens één maand equivalent leefloon in het jaar",
    definition="Distinct persons with ERIS paid for at least one month of the calendar year.",
    interest="The reach of equivalent social aid over a year.",
    precautions="As for RI.",
    numerator="distinct persons with ERIS in the year", denominator=None, unit="persons",
    breakdowns=(*_GEO_ALL, "sex", "age_band", "nationality_group"), grains=("year",),
    compute=_persons_year("ERIS"),
))

BREAKDOWN_LABELS = {
    "total": "Belgium", "region": "Region", "province": "Province",
    "arrondissement": "Arrondissement", "commune": "Commune (CPAS)", "category": "Category",
    "sex": "Sex", "age_band": "Age band", "nationality_group": "Nationality group",
    "benefit": "Benefit", "duration_band": "Duration", "position_group": "Position",
}
KEY_LABELS = {
    "category": {"1": "1 cohabitant", "2": "2 isolé", "3": "3 famille à charge"},
    "sex": {"M": "men", "F": "women"},
    "nationality_group": {"BE": "Belgian", "EU": "EU", "NON_EU": "non-EU"},
    "position_group": {
        "employee": "employee", "self_employed": "self-employed", "job_seeker": "job seeker",
        "cpas": "CPAS (RI/ERIS)", "inactive": "not active", "other": "other",
    },
}

# --- profiles, socio-geography, PIIS trajectory, activation, transitions -------------------
# (their sheets in four languages: primex.dashboard.sheets)

_SOURCE_NOTE = "Shares are of the average monthly number of RI and ERIS beneficiaries."
_PROFILE_BD = ("total", "region", "province", "arrondissement")
_add(Indicator(
    id="stock_total", name_en="Beneficiaries of RI or ERIS",
    name_fr="Bénéficiaires du RI ou de l'ERIS", name_nl="Gerechtigden op RI of ERIS",
    definition="Average monthly number of persons paid RI or ERIS by a CPAS (one benefit a "
               "month per person).",
    interest="The whole population relying on the CPAS for a minimum income.",
    precautions="A person paid both in a month counts once, under RI.",
    numerator="person-months with RI or ERIS / months in the period", denominator=None,
    unit="persons", breakdowns=_STOCK_BD, grains=_BOTH, compute=_stock_all, headline=True,
))
for _id, _en, _fr, _nl in (
    ("share_women", "Share of women", "Part de femmes", "Aandeel vrouwen"),
    ("share_18_24", "Share of young people aged 18-24", "Part de jeunes de 18 à 24 ans",
     "Aandeel jongeren van 18 tot 24 jaar"),
    ("share_50_64", "Share of persons aged 50-64", "Part de personnes de 50 à 64 ans",
     "Aandeel personen van 50 tot 64 jaar"),
    ("share_non_eu", "Share of non-EU nationals", "Part de ressortissants hors UE",
     "Aandeel niet-EU-onderdanen"),
    ("share_eu", "Share of other EU nationals", "Part de ressortissants d'un autre pays de l'UE",
     "Aandeel onderdanen van een andere EU-lidstaat"),
    ("share_cohabitant", "Share in category 1 (cohabitant)", "Part en catégorie 1 (cohabitant)",
     "Aandeel in categorie 1 (samenwonend)"),
    ("share_isolated", "Share in category 2 (living alone)", "Part en catégorie 2 (isolé)",
     "Aandeel in categorie 2 (alleenstaand)"),
    ("share_family", "Share in category 3 (family at charge)",
     "Part en catégorie 3 (famille à charge)", "Aandeel in categorie 3 (gezin ten laste)"),
    ("share_eris", "Share of ERIS among RI and ERIS", "Part de l'ERIS dans le RI et l'ERIS",
     "Aandeel ERIS in RI en ERIS"),
):
    _add(Indicator(
        id=_id, name_en=_en, name_fr=_fr, name_nl=_nl,
        definition=f"{_en} among the average monthly RI and ERIS beneficiaries, in %.",
        interest="Describes who relies on the CPAS and how that changes between areas and "
                 "over time.",
        precautions=_SOURCE_NOTE + " Characteristics are those recorded in the month paid.",
        numerator=f"person-months with RI or ERIS where {PROFILE_CONDITIONS[_id]}",
        denominator="person-months with RI or ERIS", unit="%",
        breakdowns=(*_PROFILE_BD, "age_band" if _id == "share_women" else "sex"),
        grains=_BOTH, compute=_profile_share(_id),
    ))
for _b, _en, _fr, _nl in (
    ("RI", "RI beneficiaries per 1 000 inhabitants aged 18-64",
     "Bénéficiaires du RI pour 1 000 habitants de 18 à 64 ans",
     "Leefloongerechtigden per 1 000 inwoners van 18 tot 64 jaar"),
    ("ERIS", "ERIS beneficiaries per 1 000 inhabitants aged 18-64",
     "Bénéficiaires de l'ERIS pour 1 000 habitants de 18 à 64 ans",
     "ERIS-gerechtigden per 1 000 inwoners van 18 tot 64 jaar"),
):
    _add(Indicator(
        id=f"rate_{_b.lower()}_18_64", name_en=_en, name_fr=_fr, name_nl=_nl,
        definition=f"Average monthly number of {_b} beneficiaries aged 18 to 64, per 1 000 "
                   "inhabitants aged 18 to 64 of the same area.",
        interest="Compares areas of different size, for each benefit separately.",
        precautions="As for the RI and ERIS rate: CPAS commune for the beneficiaries, commune "
                    "of residence for the population; synthetic population in a demo.",
        numerator=f"person-months with {_b}, aged 18-64 / months in the period",
        denominator="inhabitants aged 18-64", unit="per 1 000",
        breakdowns=(*_GEO_ALL, "sex"), grains=_BOTH, compute=_rate_benefit(_b),
    ))
_add(Indicator(
    id="reentries_12m", name_en="Returns to RI or ERIS within 12 months",
    name_fr="Retours au RI ou à l'ERIS dans les 12 mois",
    name_nl="Terugkeer naar RI of ERIS binnen 12 maanden",
    definition="Entries (new spells) of persons whose previous spell ended at most 12 months "
               "before.",
    interest="A high number of returns points to exits that do not last.",
    precautions=_CENSOR + " Spells ended before the data start are not seen.",
    numerator="spells starting in the period after a spell ended in the last 12 months",
    denominator=None, unit="persons", breakdowns=_PERSON_BD, grains=_BOTH,
    compute=_reentries,
))
_PIIS_BD = ("total", "region", "province", "sex", "age_band")
_add(Indicator(
    id="piis_new", name_en="New PIIS contracts", name_fr="Nouveaux contrats PIIS",
    name_nl="Nieuwe GPMI-contracten",
    definition="PIIS (individualised social integration project) contracts starting in the "
               "period.",
    interest="The volume of new integration trajectories the CPAS open.",
    precautions="A person may sign several contracts; contracts are counted, not persons.",
    numerator="PIIS contracts starting in the period", denominator=None, unit="persons",
    breakdowns=(*_PIIS_BD, "piis_type"), grains=_BOTH, compute=_contracts_started("piis"),
))
_add(Indicator(
    id="piis_running", name_en="Persons with a PIIS running",
    name_fr="Personnes avec un PIIS en cours", name_nl="Personen met een lopend GPMI",
    definition="Persons supported by a CPAS with a PIIS contract running at some time in the "
               "period.",
    interest="How many people are on an integration trajectory.",
    precautions="Only persons paid RI/ERIS or on an employment measure in the period count.",
    numerator="persons with a PIIS running in the period", denominator=None, unit="persons",
    breakdowns=_PIIS_BD, grains=_BOTH, compute=_running("piis"),
))
_add(Indicator(
    id="piis_type_share", name_en="New PIIS contracts by type",
    name_fr="Nouveaux contrats PIIS par type", name_nl="Nieuwe GPMI-contracten per type",
    definition="PIIS contracts starting in the period by type (studies, employment, social, "
               "training), as a % of all new PIIS contracts.",
    interest="Which integration paths the CPAS choose.",
    precautions="The type is the one recorded when the contract was signed.",
    numerator="new PIIS contracts of the type", denominator="new PIIS contracts", unit="%",
    breakdowns=("piis_type",), grains=_BOTH,
    compute=_contracts_distribution("piis", "piis_type"),
))
_add(Indicator(
    id="piis_success", name_en="PIIS contracts completed successfully",
    name_fr="Contrats PIIS menés à bien", name_nl="Succesvol afgeronde GPMI-contracten",
    definition="PIIS contracts ended in the period with the outcome 'success', as a % of the "
               "PIIS contracts ended in the period with a known outcome.",
    interest="How progress on the integration trajectory is measured: the share of "
             "contracts whose goals were reached.",
    precautions="The outcome is the CPAS's assessment; practices differ between CPAS.",
    numerator="PIIS contracts ended with success", denominator="PIIS contracts ended",
    unit="%", breakdowns=_PIIS_BD, grains=_BOTH,
    compute=_contracts_share("piis", "outcome = 'success'", "period_end"),
))
_add(Indicator(
    id="piis_duration", name_en="Duration of ended PIIS contracts",
    name_fr="Durée des contrats PIIS terminés", name_nl="Duur van afgelopen GPMI-contracten",
    definition="PIIS contracts ended in the period by duration band, as a % of all PIIS "
               "contracts ended in the period.",
    interest="Long contracts (studies) and short ones (job search) do not measure the same.",
    precautions="Contracts still running are not counted.",
    numerator="ended PIIS contracts in the duration band", denominator="ended PIIS contracts",
    unit="%", breakdowns=("duration_band",), grains=_BOTH,
    compute=_contracts_distribution("piis", "duration_band", "period_end"),
))
_add(Indicator(
    id="piis_outcome", name_en="Ended PIIS contracts by outcome",
    name_fr="Contrats PIIS terminés par issue", name_nl="Afgelopen GPMI-contracten per resultaat",
    definition="PIIS contracts ended in the period by outcome, as a % of all ended.",
    interest="Completes the success share: how the other contracts end.",
    precautions="As for the success share.",
    numerator="ended PIIS contracts with the outcome", denominator="ended PIIS contracts",
    unit="%", breakdowns=("outcome",), grains=_BOTH,
    compute=_contracts_distribution("piis", "outcome", "period_end"),
))
for _m, _label in (("art60", "art. 60 §7"), ("art61", "art. 61")):
    _add(Indicator(
        id=f"{_m}_persons", name_en=f"Persons in an {_label} job",
        name_fr=f"Personnes en mise à l'emploi {_label}",
        name_nl=f"Personen in een tewerkstelling {_label}",
        definition=f"Persons with an {_label} contract running at some time in the period.",
        interest="The number of people the CPAS put to work.",
        precautions="Geography: the CPAS of the contract. Regions fund these jobs since 2015.",
        numerator=f"persons with an {_label} contract in the period", denominator=None,
        unit="persons", breakdowns=_PERSON_BD, grains=_BOTH, compute=_running(_m[0] + _m[3:]),
    ))
    _add(Indicator(
        id=f"{_m}_starts", name_en=f"New {_label} contracts",
        name_fr=f"Nouveaux contrats {_label}", name_nl=f"Nieuwe contracten {_label}",
        definition=f"{_label} contracts starting in the period.",
        interest="The inflow into activation jobs.",
        precautions="Contracts are counted, not persons.",
        numerator=f"{_label} contracts starting in the period", denominator=None,
        unit="persons", breakdowns=_PIIS_BD, grains=_BOTH, compute=_contracts_started(_m),
    ))
_add(Indicator(
    id="art60_completed", name_en="Art. 60 §7 contracts completed",
    name_fr="Contrats art. 60 §7 menés à terme", name_nl="Voltooide contracten art. 60 §7",
    definition="Art. 60 §7 contracts ended in the period that ran to their term, as a % of "
               "the art. 60 §7 contracts ended in the period.",
    interest="A completed contract usually opens the right to unemployment benefits.",
    precautions="An early end can also be a move to a regular job.",
    numerator="art. 60 §7 contracts completed", denominator="art. 60 §7 contracts ended",
    unit="%", breakdowns=_PIIS_BD, grains=_BOTH,
    compute=_contracts_share("art60", "outcome = 'completed'", "period_end"),
))
for _c, _en, _fr, _nl, _def in (
    ("from_cpas", "Where RI/ERIS beneficiaries stand a year later",
     "Situation un an plus tard des bénéficiaires du RI/ERIS",
     "Situatie een jaar later van RI/ERIS-gerechtigden",
     "Persons with RI or ERIS in the last month of the quarter a year before the period"),
    ("to_cpas", "Where RI/ERIS beneficiaries stood a year before",
     "Situation un an plus tôt des bénéficiaires du RI/ERIS",
     "Situatie een jaar eerder van RI/ERIS-gerechtigden",
     "Persons with RI or ERIS in the last month of the period"),
):
    _add(Indicator(
        id=f"transition_{_c}", name_en=_en, name_fr=_fr, name_nl=_nl,
        definition=f"{_def}, by their socio-economic position (BCSS data warehouse group) on "
                   "the last day of the quarter a year before and on the last day of the "
                   "period: a transition matrix, each cell as a % of the cohort.",
        interest="Labour-market mobility: moves between work, unemployment, the CPAS and "
                 "inactivity.",
        precautions="Positions are the warehouse's, one per person and quarter, closest to the "
                    "labour market: a person with partial RI and part-time work is a worker. "
                    "Persons the warehouse does not find at both dates are left out.",
        numerator="persons of the cohort in the cell",
        denominator="persons of the cohort found in the warehouse at both dates", unit="%",
        breakdowns=("transition",), grains=("quarter",), compute=_transition(_c),
    ))
BREAKDOWN_LABELS.update({"piis_type": "PIIS type", "outcome": "Outcome",
                         "transition": "Transition"})
KEY_LABELS.update({
    "piis_type": {"student": "studies", "employment": "employment", "social": "social",
                  "training": "training"},
    "outcome": {"success": "success", "failure": "failure", "ongoing": "ongoing",
                "completed": "completed", "dropped": "dropped"},
})
