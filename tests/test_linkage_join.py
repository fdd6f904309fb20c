"""The warehouse join against a plain-Python reference of the quarter arithmetic."""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import given, settings
from hypothesis import strategies as st
from linkage_helpers import quarter_end

from primex.extract.engine import DuckDBEngine
from primex.linkage.join import LinkPoint, join_positions, parse_points

QUARTERS = [(y, q) for y in range(2021, 2026) for q in range(1, 5)]


def _q(d: date) -> int:
    return d.year * 4 + (d.month - 1) // 3


months = st.builds(lambda y, m: date(y, m, 1), st.integers(2021, 2025), st.integers(1, 12))
spells = st.tuples(st.integers(0, 5), months, st.one_of(st.none(), st.integers(0, 8)))
points_st = st.lists(
    st.builds(LinkPoint, st.sampled_from(["position_group", "wage_class"]),
              st.sampled_from(["entry", "exit"]), st.integers(-6, 10)),
    min_size=1, max_size=6, unique=True,
)


@settings(max_examples=25, deadline=None)
@given(
    spell_list=st.lists(spells, min_size=1, max_size=12),
    cells=st.dictionaries(st.tuples(st.integers(0, 5), st.sampled_from(QUARTERS)),
                          st.tuples(st.sampled_from(["employee", "job_seeker", "inactive"]),
                                    st.one_of(st.none(), st.integers(1, 10))), max_size=60),
    points=points_st,
)
def test_join_matches_the_reference(spell_list, cells, points) -> None:  # type: ignore[no-untyped-def]
    niss = [f"{90000000000 + i:011d}" for i in range(6)]
    rows = []
    for person, start, months_after in spell_list:
        end = None
        if months_after is not None:
            k = start.year * 12 + start.month - 1 + months_after
            end = date(k // 12, k % 12 + 1, 1)
        rows.append((person, start, end))
    with tempfile.TemporaryDirectory() as tmp, DuckDBEngine(None) as eng:
        eng.execute("CREATE TABLE dwh_person (niss VARCHAR)")
        eng.execute("CREATE TABLE dwh_position (niss VARCHAR, quarter VARCHAR, quarter_end DATE, "
                    "position VARCHAR, position_group VARCHAR, wage_class SMALLINT)")
        for person in sorted({p for p, _ in cells}):
            eng.execute("INSERT INTO dwh_person VALUES (?)", [niss[person]])
        for (person, (y, q)), (group, wage) in cells.items():
            eng.execute("INSERT INTO dwh_position VALUES (?, ?, ?, '111', ?, ?)",
                        [niss[person], f"{y}Q{q}", quarter_end(y, q), group, wage])
        path = Path(tmp) / "p.parquet"
        pq.write_table(pa.table({
            "row_pos": list(range(len(rows))),
            "niss": [niss[p] for p, _, _ in rows],
            "spell_start": pa.array([s for _, s, _ in rows], pa.date32()),
            "spell_end": pa.array([e for _, _, e in rows], pa.date32()),
        }), path)
        eng.register_parquet("persons", path)
        out = join_positions(eng, "persons", points).to_pylist()
    by_quarter = {(niss[p], y * 4 + q - 1): v for (p, (y, q)), v in cells.items()}
    persons_in = {niss[p] for p, _ in cells}
    for i, (person, start, end) in enumerate(rows):
        assert out[i]["row_pos"] == i
        assert out[i]["in_warehouse"] == (niss[person] in persons_in)
        for pt in points:
            event = start if pt.event == "entry" else end
            want = None
            cell = None
            if event is not None:
                cell = by_quarter.get((niss[person], _q(event) + pt.offset))
                if cell is not None:
                    want = cell[0] if pt.variable == "position_group" else cell[1]
            if pt.variable == "wage_class" and want is not None:
                want = str(want)  # linked as text, beside its codes (issue 16)
            if cell is not None and want is None:
                want = "not_applicable"  # a warehouse row, no wage class: not an employee
            if want is None:
                # censoring is an explicit code, with its reason (issue 16)
                known = [q for _, q in by_quarter]
                target = None if event is None else _q(event) + pt.offset
                want = ("not_observed_running" if target is None
                        else "no_warehouse_record" if known and min(known) <= target
                        <= max(known) else "not_observed_outside_data")
            assert out[i][pt.column] == want, (i, pt)


def test_point_names_follow_the_data_model_and_the_request_spec() -> None:
    from primex.requests.spec import linked_column

    blocks = [{"variables": ["position_group", "wage_class"],
               "at": ["exit+4q", "entry-4q", "exit+0q", "entry-0q"]}]
    points = parse_points(blocks)
    assert [p.column for p in points] == [
        "position_group_exit_p4q", "position_group_entry_m4q", "position_group_exit_p0q",
        "position_group_entry_m0q", "wage_class_exit_p4q", "wage_class_entry_m4q",
        "wage_class_exit_p0q", "wage_class_entry_m0q",
    ]
    assert [p.column for p in points] == [
        linked_column(v, at) for v in blocks[0]["variables"] for at in blocks[0]["at"]]
