"""Fuzzing the YAML loader and the validator: whatever the bytes, the answer is a clean
PrimexError or a list of well-formed problems, quickly; never a traceback or a hang."""

from __future__ import annotations

import datetime as dt
import io
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from requests_helpers import EXAMPLES, valid_request
from ruamel.yaml import YAML

from primex.errors import PrimexError
from primex.requests.validate import Checked, validate_bytes
from primex.requests.yaml_loader import MAX_BYTES, MAX_DEPTH, load_yaml, walk

LINE = re.compile(r"^req\.yaml:(\d+):(\d+): \S+: \S.*$")
TODAY = dt.date(2026, 11, 24)
FUZZ = settings(max_examples=80, suppress_health_check=[HealthCheck.too_slow])
VALID = valid_request()
VALID_DATA = load_yaml(VALID.encode(), "req.yaml").data
OPTIONAL = {"id", "linkage", "disclosure", "filters", "format", "tables", "method", "k", "l",
            "max_suppression", "min_count", "dominance", "p_percent", "min", "max", "age"}


def run(raw: bytes) -> Checked | PrimexError:
    """Validate; only a Checked or a PrimexError may come out."""
    try:
        checked = validate_bytes(raw, "req.yaml", today=TODAY)
    except PrimexError as exc:
        assert exc.what and "Traceback" not in exc.one_line()
        assert exc.where is not None and exc.where.startswith("req.yaml")
        return exc
    lines = raw.count(b"\n") + 1
    for line in checked.lines():
        m = LINE.match(line)
        assert m, line
        assert 1 <= int(m.group(1)) <= lines, line
    assert checked.ok or checked.problems
    return checked


def dump(data: Any) -> bytes:
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue().encode("utf-8")


scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**12), 10**12),
    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=30),
    st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 1, 1)),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.text(min_size=1, max_size=12), inner, max_size=4),
    ),
    max_leaves=12,
)


@FUZZ
@given(st.binary(max_size=3000))
def test_random_bytes(raw: bytes) -> None:
    run(raw)


@FUZZ
@given(st.text(alphabet=st.sampled_from(list("ab:-[]{}&*!|>'\"#?,% \n\t\\0123")), max_size=400))
def test_yaml_punctuation_soup(text: str) -> None:
    run(text.encode("utf-8"))


@FUZZ
@given(st.data())
def test_any_value_anywhere_gives_positioned_problems(data: st.DataObject) -> None:
    paths = [p for p, _ in walk(VALID_DATA) if p]
    path = data.draw(st.sampled_from(paths))
    new = data.draw(values)
    tree = _copy(VALID_DATA)
    node = tree
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = new
    result = run(dump(tree))
    if isinstance(result, Checked) and not result.ok:
        assert result.problems


# Every shipped example is a starting point: together they reach every optional block
# (linkage, tables, synthetic analyses, filters) that the single valid request lacks.
BASES = [load_yaml(p.read_bytes(), p.name).data for p in sorted(EXAMPLES.glob("*.yaml"))]


@FUZZ
@given(st.data())
def test_several_values_anywhere_in_any_example(data: st.DataObject) -> None:
    """Up to three values replaced at once, at any depth of any example: only positioned
    problems come out, never an internal error (this is how `linkage: true` was found)."""
    tree = _copy(data.draw(st.sampled_from(BASES)))
    for _ in range(data.draw(st.integers(1, 3))):
        paths = [p for p, _ in walk(tree) if p]
        path = data.draw(st.sampled_from(paths))
        node = tree
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = data.draw(values)
    run(dump(tree))


@FUZZ
@given(st.data())
def test_unknown_or_missing_keys(data: st.DataObject) -> None:
    tree = _copy(VALID_DATA)
    mappings = [(p, v) for p, v in walk(tree) if isinstance(v, dict)]
    path, mapping = data.draw(st.sampled_from(mappings))
    if data.draw(st.booleans()) and mapping:
        key = data.draw(st.sampled_from(sorted(mapping)))
        del mapping[key]
        result = run(dump(tree))
        if key not in OPTIONAL:
            assert isinstance(result, Checked)
            assert any(p.what == f"required field `{key}` is missing" for p in result.problems)
    else:
        key = data.draw(st.text(min_size=1, max_size=20).filter(lambda k: k not in mapping))
        mapping[key] = data.draw(values)
        result = run(dump(tree))
        if path != ("population", "filters"):
            assert isinstance(result, PrimexError) or any(
                p.what.startswith("unknown field") for p in result.problems
            )


@FUZZ
@given(st.integers(0, VALID.count("\n") - 1))
def test_duplicated_top_level_key(index: int) -> None:
    lines = VALID.splitlines(keepends=True)
    top = [i for i, line in enumerate(lines) if re.match(r"^[a-z_]+:", line)]
    i = top[index % len(top)]
    key = lines[i].split(":")[0]
    doubled = "".join(lines) + f"{key}: again\n"
    result = run(doubled.encode())
    assert isinstance(result, PrimexError)
    assert "duplicate key" in result.what and key in result.what
    assert result.where == f"req.yaml:{len(lines) + 1}:1"


@FUZZ
@given(st.integers(0, len(VALID.encode()) - 1), st.sampled_from([b"\xff", b"\xc3", b"\x80"]))
def test_non_utf8_byte_is_located(offset: int, bad: bytes) -> None:
    raw = VALID.encode()
    # keep multi-byte characters whole so the invalid byte is the one we insert
    while offset and (raw[offset] & 0xC0) == 0x80:
        offset -= 1
    broken = raw[:offset] + bad + raw[offset:]
    result = run(broken)
    assert isinstance(result, PrimexError)
    line = raw.count(b"\n", 0, offset) + 1
    col = offset - (raw.rfind(b"\n", 0, offset) + 1) + 1
    assert result.where == f"req.yaml:{line}:{col}"
    assert "UTF-8" in result.what


@pytest.mark.fuzz_cap(2000)
@settings(max_examples=20)
@given(st.integers(1, 400_000), st.sampled_from(["title", "purpose", "legal_basis"]))
def test_huge_strings(size: int, field: str) -> None:
    text = re.sub(rf"(?m)^{field}:.*$", f"{field}: {'x' * size}", VALID, count=1)
    text = text.replace("  We study", "  x", 1) if field == "purpose" else text
    result = run(text.encode())
    if len(text.encode()) > MAX_BYTES:
        assert isinstance(result, PrimexError) and "larger than" in result.what
    elif isinstance(result, Checked) and size > 20_000:
        assert any("characters" in p.what for p in result.problems)


@pytest.mark.fuzz_cap(2000)
@settings(max_examples=15)
@given(st.integers(1, 5_000), st.sampled_from(["[", "{a: ", "- "]))
def test_deep_nesting(depth: int, opener: str) -> None:
    if opener == "- ":
        text = "".join("  " * i + "-\n" for i in range(min(depth, 2000)))
    else:
        text = "x: " + opener * depth
    result = run(text.encode())
    if depth > MAX_DEPTH + 1 and opener != "- ":
        assert isinstance(result, PrimexError)
        assert "nested" in result.what or "YAML syntax" in result.what


def test_billion_laughs_is_refused_without_expanding() -> None:
    bomb = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i, name in enumerate("bcdefghi"):
        prev = "abcdefghi"[i]
        bomb.append(f"{name}: &{name} [{', '.join(['*' + prev] * 9)}]")
    result = run("\n".join(bomb).encode())
    assert isinstance(result, PrimexError)
    assert "anchors and aliases" in result.what and result.where == "req.yaml:1:4"


def test_too_many_nodes() -> None:
    text = "variables: [" + ", ".join(["a"] * 12_000) + "]\n"
    result = run(text.encode())
    assert isinstance(result, PrimexError) and "YAML nodes" in result.what


def _copy(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _copy(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_copy(v) for v in data]
    return data
