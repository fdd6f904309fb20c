"""niss.check_column (the vectorised check of a whole column) decides every cell exactly as
niss.check does, reason included, on numbers built to hit every rule."""

from __future__ import annotations

import datetime

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from primex.linkage import niss


def _with_check_digits(body: str, rule: str) -> str:
    base = int(("2" if rule == "2000" else "") + body)
    return body + f"{97 - base % 97:02d}"


THIS_YEAR = datetime.date.today().year % 100  # the 2000 rule stops at the current year
year = st.one_of(st.integers(0, 99), st.sampled_from([THIS_YEAR, (THIS_YEAR + 1) % 100]))
month = st.sampled_from([0, 1, 6, 12, 13, 19, 20, 25, 32, 33, 39, 40, 45, 52, 53, 60, 99])
number = st.builds(
    lambda yy, mm, dd, serial, rule, unknown: _with_check_digits(
        (unknown or f"{yy:02d}{mm:02d}{dd:02d}") + f"{serial:03d}", rule)
    if rule != "bad" else f"{yy:02d}{mm:02d}{dd:02d}{serial:03d}{(yy * 7 + serial) % 100:02d}",
    year, month, st.integers(0, 35), st.integers(0, 999),
    st.sampled_from(["1900", "2000", "bad"]),
    st.sampled_from([None, None, None, "000001", "002001", "004001"]),
)
odd = st.sampled_from([None, "", "   ", "00000000000", "85.07.31-003.33", "123", "8507310033x",
                       "850731003331", " 85073100333 ", "٣٣٣٣٣٣٣٣٣٣٣"])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(number, number, number, odd, st.text(max_size=14)), max_size=60))
def test_check_column_equals_check(values: list[str | None]) -> None:
    nn11, codes = niss.check_column(pa.array(values, pa.string()))
    got = list(zip(nn11.to_pylist(), (niss.REASON_CODES[c] for c in codes), strict=True))
    assert got == [niss.check(v) for v in values]
    assert niss.count_reason_codes(codes) == niss.count_reasons([r for _, r in got])
