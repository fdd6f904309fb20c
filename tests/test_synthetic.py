"""The synthetic PRIMA and warehouse are realistic, valid and deterministic.

Reference values come from the domain notes (SPP IS / Statbel / press figures quoted in
docs/synthetic-data.md), copied here as numbers. Tolerances: with 3,000 persons a share's
standard error is at most 0.009, so +/- 0.03 is more than 3 standard errors.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest
from stdnum.be import bis as stdnum_bis
from stdnum.be import nn as stdnum_nn
from stdnum.be import ssn as stdnum_ssn

from primex.catalogue import geography, load_catalogue
from primex.synthetic import SynthConfig, content_hash, generate
from primex.synthetic.niss import serial_in_range

# legal monthly RI amounts (EUR) by category 1/2/3, from their start date (domain notes 3.3)
LEGAL_2024_05 = {1: 858.97, 2: 1288.46, 3: 1741.29}
LEGAL_2025_02 = {1: 876.13, 2: 1314.20, 3: 1776.07}
TOL = 0.03


@pytest.fixture(scope="module")
def prima(synth_home):
    con = duckdb.connect(str(synth_home.prima_db), read_only=True)
    con.execute(f"ATTACH '{synth_home.warehouse_db}' AS dwh (READ_ONLY)")
    yield con
    con.close()


def one(con, sql):
    return con.execute(sql).fetchone()[0]


# ---------------------------------------------------------------- national numbers
def test_every_niss_is_valid_unique_and_consistent(prima):
    rows = prima.execute(
        "SELECT niss, birth_date, sex FROM dwh.dwh_person"
    ).fetchall()  # beneficiaries and comparison population
    assert len({r[0] for r in rows}) == len(rows)
    for niss, birth, sex in rows:
        assert len(niss) == 11 and niss.isdigit()
        assert stdnum_ssn.is_valid(niss), "invalid number generated"
        assert serial_in_range(niss)
        assert stdnum_ssn.get_birth_date(niss) == birth
        assert stdnum_ssn.get_gender(niss) == sex


def test_person_niss_unique_and_bis_only_for_eris(prima):
    assert one(prima, "SELECT count(*) - count(DISTINCT niss) FROM person") == 0
    rows = prima.execute(
        "SELECT p.niss, bool_or(b.benefit = 'ERIS') FROM person p "
        "JOIN benefit_month b USING (niss) GROUP BY p.niss"
    ).fetchall()
    eris = [n for n, e in rows if e]
    ri_only = [n for n, e in rows if not e]
    assert all(stdnum_nn.is_valid(n) for n in ri_only)  # RI needs the population register
    bis_share = sum(stdnum_bis.is_valid(n) for n in eris) / len(eris)
    assert 0.25 <= bis_share <= 0.45  # model: 35 % of ERIS beneficiaries hold a BIS number


def test_prima_persons_are_in_the_warehouse_with_the_same_identity(prima):
    mismatch = one(
        prima,
        "SELECT count(*) FROM person p LEFT JOIN dwh.dwh_person d USING (niss) "
        "WHERE d.niss IS NULL OR d.birth_date <> p.birth_date OR d.sex <> p.sex "
        "OR d.commune <> p.commune",
    )
    assert mismatch == 0
    comparison = one(
        prima, "SELECT count(*) FROM dwh.dwh_person WHERE niss NOT IN (SELECT niss FROM person)"
    )
    assert comparison == 1500  # 0.5 x 3,000: the comparison population never had RI


# ---------------------------------------------------------------- geography and shares
def test_communes_and_sectors_are_real_refnis(prima):
    communes = {r[0] for r in prima.execute("SELECT DISTINCT commune FROM person").fetchall()}
    assert communes <= geography.commune_codes()
    assert len(communes) > 200  # spread over the country, not a handful of codes
    bad = one(
        prima,
        "SELECT count(*) FROM person WHERE length(sector) <> 9 OR sector[1:5] <> commune",
    )
    assert bad == 0
    assert one(prima, "SELECT count(*) FROM benefit_month b JOIN person p USING (niss) "
               "WHERE b.cpas <> p.commune") == 0  # fmt: skip
    dwh = {r[0] for r in prima.execute("SELECT DISTINCT commune FROM dwh.dwh_person").fetchall()}
    assert dwh <= geography.commune_codes()


def test_regional_shares_of_beneficiaries(prima):
    regions = geography.communes().set_index("commune")["region"]
    counts = {"02000": 0, "03000": 0, "04000": 0}
    for (commune,) in prima.execute("SELECT commune FROM person").fetchall():
        counts[regions[commune]] += 1
    total = sum(counts.values())
    # Feb 2023 (RTL/FPB): Wallonia 46 %, Brussels 29 %, Flanders 25 %
    assert counts["03000"] / total == pytest.approx(0.46, abs=TOL)
    assert counts["04000"] / total == pytest.approx(0.29, abs=TOL)
    assert counts["02000"] / total == pytest.approx(0.25, abs=TOL)
    # the largest cities concentrate beneficiaries
    top = prima.execute(
        "SELECT commune FROM person GROUP BY 1 ORDER BY count(*) DESC LIMIT 5"
    ).fetchall()
    assert {"11002", "52011", "62063"} & {t[0] for t in top}  # Antwerpen, Charleroi, Liège


def test_sex_age_student_refugee_nationality_shares(prima):
    women = one(prima, "SELECT avg((sex = 'F')::INT) FROM person")
    assert women == pytest.approx(0.522, abs=TOL)  # 52.2 % women (2024)
    young = one(
        prima,
        """SELECT avg((date_diff('year', p.birth_date, f.m0)
                - (strftime(f.m0, '%m%d') < strftime(p.birth_date, '%m%d'))::INT
                BETWEEN 18 AND 24)::INT)
           FROM (SELECT niss, min(month) AS m0 FROM benefit_month GROUP BY 1) f
           JOIN person p USING (niss)""",
    )
    assert young == pytest.approx(1 / 3, abs=TOL)  # 18-24: about one third (2021)
    students = one(
        prima,
        "SELECT avg(s::INT) FROM (SELECT bool_or(student) s FROM benefit_month GROUP BY niss)",
    )
    assert students == pytest.approx(1 / 6, abs=0.025)  # about one sixth (2021)
    refugees = one(prima, "SELECT avg(refugee::INT) FROM person")
    assert refugees == pytest.approx(0.151, abs=0.025)  # 15.1 % (Feb 2023)
    assert one(prima, "SELECT count(*) FROM person WHERE refugee AND nationality_group <> "
               "'NON_EU'") == 0  # fmt: skip
    belgian = one(prima, "SELECT avg((nationality_group = 'BE')::INT) FROM person")
    assert 0.5 <= belgian <= 0.75  # 73 % in 2011, lower since
    eris_per_ri = one(
        prima,
        "SELECT count(*) FILTER (benefit = 'ERIS') / count(*) FILTER (benefit = 'RI') "
        "FROM benefit_month",
    )
    assert 0.12 <= eris_per_ri <= 0.28  # ERIS monthly about 15-25 % of RI monthly


def test_categories_follow_households(prima):
    shares = dict(
        prima.execute(
            "SELECT category, count(*) / sum(count(*)) OVER () FROM "
            "(SELECT DISTINCT niss, category FROM benefit_month) GROUP BY 1"
        ).fetchall()
    )
    assert set(shares) == {1, 2, 3}
    assert all(0.15 <= s <= 0.50 for s in shares.values())
    wrong = one(
        prima,
        "SELECT count(*) FROM benefit_month b JOIN person p USING (niss) WHERE "
        "(p.household_type = 'single' AND b.category <> 2) OR "
        "(p.household_type = 'single_parent' AND b.category <> 3)",
    )
    assert wrong == 0


# ---------------------------------------------------------------- amounts
def test_amounts_never_exceed_the_legal_amount_and_full_ones_equal_it(prima):
    for since, until, legal in (
        ("2024-05-01", "2025-01-01", LEGAL_2024_05),
        ("2025-02-01", "2025-06-01", LEGAL_2025_02),
    ):
        rows = prima.execute(
            "SELECT category, max(amount), min(amount) FROM benefit_month "
            f"WHERE month BETWEEN DATE '{since}' AND DATE '{until}' GROUP BY 1"
        ).fetchall()
        for category, top, low in rows:
            assert float(top) == legal[category]  # the full amount is paid to many
            assert float(low) > 0
    partial = one(
        prima,
        "SELECT avg((amount < CASE category WHEN 1 THEN 876.13 WHEN 2 THEN 1314.20 "
        "ELSE 1776.07 END)::INT) FROM benefit_month WHERE month >= DATE '2025-02-01'",
    )
    assert 0.3 <= partial <= 0.7  # partial RI is common


# ---------------------------------------------------------------- spells
def test_spells_are_continuous_months_at_one_cpas(prima):
    bad = one(
        prima,
        """SELECT count(*) FROM (
             SELECT spell_id, count(*) n, count(DISTINCT month) dm,
                    date_diff('month', min(month), max(month)) + 1 span,
                    count(DISTINCT niss) np, count(DISTINCT cpas) nc,
                    count(DISTINCT benefit) nb, count(DISTINCT category) ncat
             FROM benefit_month GROUP BY spell_id)
           WHERE n <> span OR dm <> n OR np > 1 OR nc > 1 OR nb > 1 OR ncat > 1""",
    )
    assert bad == 0
    # two spells of one person are separated by at least one month without payment
    touching = one(
        prima,
        """WITH s AS (SELECT niss, spell_id, min(month) m0, max(month) m1
                      FROM benefit_month GROUP BY ALL)
           SELECT count(*) FROM s a JOIN s b ON a.niss = b.niss AND a.spell_id <> b.spell_id
           WHERE b.m0 BETWEEN a.m0 AND a.m1 + INTERVAL 1 MONTH""",
    )
    assert touching == 0


def test_entries_exits_and_reentries_every_month(prima):
    flows = prima.execute(
        """WITH s AS (SELECT spell_id, min(month) m0, max(month) m1
                      FROM benefit_month GROUP BY 1)
           SELECT m.month,
                  (SELECT count(*) FROM s WHERE s.m0 = m.month) entries,
                  (SELECT count(*) FROM s WHERE s.m1 = m.month) exits
           FROM (SELECT DISTINCT month FROM benefit_month) m ORDER BY 1"""
    ).fetchall()
    assert len(flows) == 24
    assert all(e > 0 and x > 0 for _m, e, x in flows[1:-1])
    stock = [r[0] for r in prima.execute(
        "SELECT count(*) FROM benefit_month GROUP BY month ORDER BY month").fetchall()]  # fmt: skip
    # a stationary monthly stock: first and last half-year within 8 % of each other
    assert sum(stock[-6:]) / sum(stock[:6]) == pytest.approx(1, abs=0.08)
    reentry = one(
        prima,
        "SELECT avg((n >= 2)::INT) FROM "
        "(SELECT count(DISTINCT spell_id) n FROM benefit_month GROUP BY niss)",
    )
    assert 0.08 <= reentry <= 0.35


@pytest.fixture(scope="module")
def long_period(tmp_path_factory):
    """10 years, so spells are seen whole: durations can be checked without censoring."""
    root = tmp_path_factory.mktemp("long")
    cfg = SynthConfig(persons=2000, start="2012-01", months=120, seed=11, comparison=0)
    generate(cfg, root / "prima.duckdb", root / "warehouse.duckdb")
    con = duckdb.connect(str(root / "prima.duckdb"), read_only=True)
    yield con
    con.close()


def test_spell_durations_mean_about_eleven_months_with_a_long_tail(long_period):
    # spells starting in the first 4 years are followed for at least 6 years
    mean, tail24, tail48 = long_period.execute(
        """WITH s AS (SELECT spell_id, min(month) m0, count(*) d FROM benefit_month GROUP BY 1)
           SELECT avg(d), avg((d > 24)::INT), avg((d > 48)::INT) FROM s
           WHERE m0 > DATE '2012-01-01' AND m0 < DATE '2016-01-01'"""
    ).fetchone()
    assert mean == pytest.approx(11, abs=1.5)  # SPP IS: about 11 months since 2016
    assert 0.05 <= tail24 <= 0.20 and tail48 > 0.01  # a long tail, a hard core


# ---------------------------------------------------------------- record dates
def test_late_corrections_and_recording_dates(prima, synth_config):
    late = one(
        prima, "SELECT avg((recorded_on > month + INTERVAL 2 MONTH)::INT) FROM benefit_month"
    )
    assert 0.01 <= late <= 0.06  # a few % recorded months late
    early = one(
        prima,
        "SELECT count(*) FROM benefit_month WHERE recorded_on < month + INTERVAL 1 MONTH "
        "OR recorded_on > (SELECT snapshot_date FROM snapshot)",
    )
    assert early == 0
    snap = prima.execute("SELECT * FROM snapshot").fetchall()
    assert snap == [
        (dt.date(2025, 8, 1), synth_config.seed, 3000, dt.date(2023, 7, 1), 24, "primex-synth/1")
    ]


# ---------------------------------------------------------------- measures and PIIS
def test_employment_measures_replace_the_ri(prima):
    sql = "SELECT measure, count(DISTINCT niss) FROM employment_measure GROUP BY 1"
    counts = dict(prima.execute(sql).fetchall())
    assert set(counts) == {"art60", "art61"} and counts["art60"] > counts["art61"]
    assert 0.05 <= counts["art60"] / 3000 <= 0.25
    assert one(prima, "SELECT count(*) FROM employment_measure WHERE (end_date IS NULL) <> "
               "(outcome = 'ongoing') OR end_date < start_date") == 0  # fmt: skip
    overlap = one(
        prima,
        "SELECT count(*) FROM employment_measure m JOIN benefit_month b USING (niss) "
        "WHERE b.month BETWEEN date_trunc('month', m.start_date) "
        "AND coalesce(m.end_date, DATE '2100-01-01')",
    )
    assert overlap == 0  # an art. 60 worker is an employee, not on RI


def test_piis(prima):
    assert one(prima, "SELECT count(*) FROM piis WHERE (end_date IS NULL) <> "
               "(outcome = 'ongoing') OR end_date < start_date") == 0  # fmt: skip
    types = {r[0] for r in prima.execute("SELECT DISTINCT piis_type FROM piis").fetchall()}
    assert types == {"student", "employment", "social", "training"}
    student_without = one(
        prima,
        "SELECT count(DISTINCT b.niss) FROM benefit_month b WHERE b.student AND NOT EXISTS "
        "(SELECT 1 FROM piis p WHERE p.niss = b.niss AND p.piis_type = 'student')",
    )
    students = one(prima, "SELECT count(DISTINCT niss) FROM benefit_month WHERE student")
    assert student_without / students < 0.2  # left-censored spells may predate their PIIS
    with_piis = one(prima, "SELECT count(DISTINCT niss) FROM piis") / 3000
    assert 0.35 <= with_piis <= 0.85  # 43.5 % of RI persons in 10 months (2016-2017)


# ---------------------------------------------------------------- warehouse
def test_positions_cover_every_person_and_quarter(prima):
    persons = one(prima, "SELECT count(*) FROM dwh.dwh_person")
    quarters = one(prima, "SELECT count(DISTINCT quarter) FROM dwh.dwh_position")
    assert quarters == 8 + 8  # the period's 8 quarters, 4 before, 4 after
    assert one(prima, "SELECT count(*) FROM dwh.dwh_position") == persons * quarters
    bad = one(
        prima,
        """SELECT count(*) FROM dwh.dwh_position WHERE
             quarter_end <> last_day(make_date(quarter[1:4]::INT, quarter[6]::INT * 3, 1))
             OR position[1] <> CASE position_group WHEN 'employee' THEN '1'
                 WHEN 'self_employed' THEN '1' WHEN 'job_seeker' THEN '2' WHEN 'cpas' THEN '3'
                 WHEN 'inactive' THEN '3' ELSE '4' END
             OR (wage_class IS NULL) <> (position_group <> 'employee')
             OR wage_class NOT BETWEEN 1 AND 10""",
    )
    assert bad == 0


def test_positions_agree_with_prima(prima):
    on_ri = prima.execute(
        """SELECT avg((p.position_group = 'cpas')::INT), avg((p.position_group IN
                  ('cpas', 'employee'))::INT)
           FROM benefit_month b JOIN dwh.dwh_position p
             ON p.niss = b.niss AND p.quarter_end = last_day(b.month)"""
    ).fetchone()
    assert on_ri[0] > 0.85 and on_ri[1] == 1.0  # partial RI with part-time work: employee
    assert (
        one(
            prima,
            "SELECT count(*) FROM dwh.dwh_position WHERE position_group = 'cpas' "
            "AND niss NOT IN (SELECT niss FROM person)",
        )
        == 0
    )  # the comparison population never had RI


def test_exit_destinations(prima):
    dest = dict(
        prima.execute(
            """WITH s AS (SELECT niss, max(month) m1 FROM benefit_month GROUP BY niss, spell_id
                          HAVING max(month) < DATE '2025-03-01')
               SELECT p.position_group, count(*) / sum(count(*)) OVER ()
               FROM s JOIN dwh.dwh_position p ON p.niss = s.niss
                AND p.quarter = strftime(s.m1 + INTERVAL 6 MONTH, '%Y') || 'Q'
                    || quarter(s.m1 + INTERVAL 6 MONTH)
               WHERE p.position_group <> 'cpas' GROUP BY 1"""
        ).fetchall()
    )
    assert dest["employee"] > 0.2 and dest["job_seeker"] > 0.15  # exits towards work and UB
    after_art60 = one(
        prima,
        """SELECT avg((p.position_group = 'job_seeker')::INT) FROM employment_measure m
           JOIN dwh.dwh_position p ON p.niss = m.niss
            AND p.quarter = strftime(m.end_date + INTERVAL 1 MONTH, '%Y') || 'Q'
                || quarter(m.end_date + INTERVAL 1 MONTH)
           WHERE m.outcome = 'completed' AND m.measure = 'art60'
             AND p.position_group <> 'cpas'""",
    )
    assert after_art60 > 0.4  # the contract opens the right to unemployment benefits


# ---------------------------------------------------------------- population
def test_synthetic_population_matches_2020_region_totals(prima):
    rows = prima.execute(
        "SELECT year, count(DISTINCT commune), count(*), sum(population) FROM population "
        "GROUP BY 1 ORDER BY 1"
    ).fetchall()
    assert [r[0] for r in rows] == [2023, 2024, 2025]
    for year, communes, n, total in rows:
        assert communes == 565 and n == 565 * 2 * 11
        # Statbel 1 Jan 2020: 11,492,641 inhabitants, grown 0.5 % a year (synthetic)
        assert total == pytest.approx(11_492_641 * 1.005 ** (year - 2020), rel=0.001)
    regions = geography.communes().set_index("commune")["region"].to_dict()
    by_region: dict[str, int] = {}
    for commune, pop in prima.execute(
        "SELECT commune, sum(population) FROM population WHERE year = 2023 GROUP BY 1"
    ).fetchall():
        by_region[regions[commune]] = by_region.get(regions[commune], 0) + pop
    growth = 1.005**3
    assert by_region["04000"] == pytest.approx(1_218_255 * growth, rel=0.001)
    assert by_region["03000"] == pytest.approx(3_645_243 * growth, rel=0.001)


# ---------------------------------------------------------------- catalogue consistency
def test_every_catalogue_variable_exists_in_the_generated_schema(prima):
    schema: dict[str, set[str]] = {}
    for table, column in prima.execute(
        "SELECT table_name, column_name FROM duckdb_columns() WHERE database_name IN "
        "(current_database(), 'dwh') AND schema_name = 'main'"
    ).fetchall():
        schema.setdefault(table, set()).add(column)
    for v in load_catalogue().variables:
        refs = list(v.inputs) + ([f"{v.table}.{v.column}"] if v.column else [])
        for ref in refs:
            table, column = ref.split(".")
            assert column in schema.get(table, set()), f"{v.name}: {ref} missing"


def test_generated_codes_are_catalogue_categories(prima):
    cat = load_catalogue()
    checks = {
        "sex": "SELECT DISTINCT sex FROM person",
        "nationality": "SELECT DISTINCT nationality FROM person",
        "nationality_group": "SELECT DISTINCT nationality_group FROM person",
        "household_type": "SELECT DISTINCT household_type FROM person",
        "benefit": "SELECT DISTINCT benefit FROM benefit_month",
        "category": "SELECT DISTINCT category::VARCHAR FROM benefit_month",
        "piis_type": "SELECT DISTINCT piis_type FROM piis",
        "piis_outcome": "SELECT DISTINCT outcome FROM piis",
        "position": "SELECT DISTINCT position FROM dwh.dwh_position",
        "position_group": "SELECT DISTINCT position_group FROM dwh.dwh_position",
    }
    for name, sql in checks.items():
        values = {r[0] for r in prima.execute(sql).fetchall()}
        assert values <= set(cat.get(name).codes), name
    sectors = [r[0] for r in prima.execute("SELECT DISTINCT sector FROM person").fetchall()]
    table = cat.hierarchy_table("sector", sectors)
    assert len(table) == len(sectors) and (table["total"] == "*").all()
    sizes = [r[0] for r in prima.execute("SELECT DISTINCT household_size FROM person").fetchall()]
    assert len(cat.hierarchy_table("household_size", sizes)) == len(sizes)


# ---------------------------------------------------------------- determinism
def test_same_seed_same_content_hash(tmp_path, synth_home, synth_config):
    generate(synth_config, tmp_path / "a" / "p.duckdb", tmp_path / "a" / "w.duckdb")
    assert content_hash(tmp_path / "a" / "p.duckdb") == content_hash(synth_home.prima_db)
    assert content_hash(tmp_path / "a" / "w.duckdb") == content_hash(synth_home.warehouse_db)


def test_another_seed_gives_other_content(tmp_path):
    small = {"persons": 300, "start": "2023-01", "months": 6}
    for seed in (1, 2):
        generate(
            SynthConfig(seed=seed, **small),
            tmp_path / f"{seed}.duckdb",
            tmp_path / f"{seed}w.duckdb",
        )
    assert content_hash(tmp_path / "1.duckdb") != content_hash(tmp_path / "2.duckdb")
    assert not list(tmp_path.glob(".*tmp*"))  # no temporary file left behind
