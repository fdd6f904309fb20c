"""A safe YAML loader for request specs that remembers where every value was written.

Why not `yaml.safe_load`: validation errors must name `file:line:column`, so the loader keeps
the position of every key and value (ruamel.yaml's round-trip constructor records them), and
a request file comes from outside, so the loader refuses what a request never needs and an
attacker could use: anchors/aliases (the "billion laughs" bomb), explicit tags, several
documents, duplicate keys, over-deep nesting, too many nodes, files over a size limit and
bytes that are not UTF-8. The limits are checked on the parser's event stream *before*
anything is built, so no input can make the loader recurse deeply, allocate a lot or hang.

`load_yaml(raw, source)` returns a `LoadedYaml`: plain Python data (dict, list, str, int,
float, bool, None, date) and the 1-based (line, column) of each value and key, addressed by
the path of keys and indexes that leads to it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import (
    AliasEvent,
    CollectionEndEvent,
    CollectionStartEvent,
    DocumentStartEvent,
    NodeEvent,
    ScalarEvent,
)
from ruamel.yaml.reader import ReaderError

from primex.errors import PrimexError

# A request is a few kilobytes; these limits leave a wide margin and stop abuse early.
MAX_BYTES = 64 * 1024
MAX_DEPTH = 16
MAX_EVENTS = 10_000

PathKey = tuple[str | int, ...]
Position = tuple[int, int]


class YamlLoadError(PrimexError):
    """The file is not a YAML request that can be read at all (syntax, encoding, limits)."""


@dataclass(frozen=True)
class LoadedYaml:
    """The data of one YAML file and where each piece of it was written."""

    source: str
    data: Any
    raw: bytes
    value_positions: dict[PathKey, Position] = field(default_factory=dict)
    key_positions: dict[PathKey, Position] = field(default_factory=dict)

    def position(self, path: PathKey, *, key: bool = False) -> Position:
        """(line, column) of the value (or key) at `path`, else of its nearest written ancestor."""
        table = self.key_positions if key else self.value_positions
        probe = tuple(path)
        while probe:
            if probe in table:
                return table[probe]
            if key and probe in self.value_positions:
                return self.value_positions[probe]
            probe = probe[:-1]
            table = self.value_positions
        return self.value_positions.get((), (1, 1))

    def where(self, path: PathKey, *, key: bool = False) -> str:
        line, col = self.position(path, key=key)
        return f"{self.source}:{line}:{col}"


def read_bytes(path: Path, *, limit: int = MAX_BYTES) -> bytes:
    """Read a request file, refusing anything over `limit` bytes without reading it all."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read(limit + 1)
    except FileNotFoundError:
        raise YamlLoadError("file not found", where=str(path), hint="check the path") from None
    except IsADirectoryError:
        raise YamlLoadError("is a folder, not a file", where=str(path)) from None
    except OSError as exc:
        raise YamlLoadError(f"cannot read the file ({exc.strerror})", where=str(path)) from None
    _check_size(raw, str(path), limit)
    return raw


def load_file(path: Path) -> LoadedYaml:
    return load_yaml(read_bytes(path), str(path))


def load_yaml(raw: bytes, source: str, *, limit: int = MAX_BYTES) -> LoadedYaml:
    """Parse `raw` safely; every problem is a YamlLoadError naming source:line:column."""
    _check_size(raw, source, limit)
    text = _decode(raw, source)
    yaml = YAML(typ="rt")  # round-trip mode: records line/column of every key and value
    yaml.allow_duplicate_keys = False
    try:
        _check_events(yaml, text, source)
        data = yaml.load(text)
    except YamlLoadError:
        raise
    except MarkedYAMLError as exc:
        raise _marked(exc, source) from None
    except ReaderError as exc:  # a control character the YAML spec forbids
        line = text.count("\n", 0, exc.position) + 1
        col = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        raise YamlLoadError(
            f"character U+{exc.character:04X} is not allowed in YAML"
            if isinstance(exc.character, int)
            else "a character that is not allowed in YAML",
            where=f"{source}:{line}:{col}",
            hint="remove control characters from the file",
        ) from None
    except (YAMLError, ValueError, TypeError, RecursionError) as exc:
        # ruamel raises ValueError for impossible dates (2023-02-30) and TypeError for
        # unhashable complex keys; both are the file's fault, not ours.
        raise YamlLoadError(
            f"cannot read the YAML ({type(exc).__name__}: {str(exc)[:200]})",
            where=source,
            hint="check the dates (YYYY-MM-DD) and keys near the error"
            if isinstance(exc, ValueError)
            else "check the file against examples/requests/",
        ) from None
    if data is None:
        raise YamlLoadError(
            "the file is empty", where=f"{source}:1:1", hint="start from an example request"
        )
    loaded = LoadedYaml(source=source, data=None, raw=raw)
    plain = _to_plain(data, (), loaded)
    loaded.value_positions.setdefault((), (1, 1))
    object.__setattr__(loaded, "data", plain)
    return loaded


def _check_size(raw: bytes, source: str, limit: int) -> None:
    if len(raw) > limit:
        raise YamlLoadError(
            f"the file is larger than {limit // 1024} KiB",
            where=source,
            hint="a request is a few kilobytes; is this the right file?",
        )


def _decode(raw: bytes, source: str) -> str:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise YamlLoadError(
            f"byte 0x{raw[exc.start]:02x} is not valid UTF-8",
            where=f"{source}:{line}:{col}",
            hint="save the file as UTF-8",
        ) from None
    return text.removeprefix("\ufeff")


def _pos(mark: Any) -> Position:
    return (int(mark.line) + 1, int(mark.column) + 1)


def _check_events(yaml: YAML, text: str, source: str) -> None:
    """Walk the parser's events (no tree is built) and enforce the limits."""
    depth = documents = 0
    for count, event in enumerate(yaml.parse(text)):
        where = f"{source}:{_pos(event.start_mark)[0]}:{_pos(event.start_mark)[1]}"
        if count > MAX_EVENTS:
            raise YamlLoadError(
                f"the file has more than {MAX_EVENTS} YAML nodes",
                where=where,
                hint="a request needs a few hundred at most",
            )
        if isinstance(event, DocumentStartEvent):
            documents += 1
            if documents > 1:
                raise YamlLoadError(
                    "more than one YAML document in the file",
                    where=where,
                    hint="put one request per file; remove the second `---`",
                )
        if isinstance(event, AliasEvent) or (
            isinstance(event, NodeEvent) and event.anchor is not None
        ):
            raise YamlLoadError(
                "YAML anchors and aliases (&name / *name) are not allowed in a request",
                where=where,
                hint="write the values out in full",
            )
        if isinstance(event, NodeEvent) and getattr(event, "tag", None) is not None:
            raise YamlLoadError(
                f"explicit YAML tags ({event.tag}) are not allowed in a request",
                where=where,
                hint="remove the tag; quote the value if it must be text",
            )
        if isinstance(event, ScalarEvent) and event.style is None:
            _check_timestamp(event.value, where)
        if isinstance(event, CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise YamlLoadError(
                    f"the YAML is nested more than {MAX_DEPTH} levels deep",
                    where=where,
                    hint="a request is nested 5 levels at most",
                )
        elif isinstance(event, CollectionEndEvent):
            depth -= 1


# YAML 1.2 timestamps as ruamel resolves them; an impossible one (2023-02-30) would otherwise
# fail inside the constructor, where the position is lost.
_TIMESTAMP = re.compile(
    r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:(?:[Tt]|[ \t]+)(\d{1,2}):(\d{2}):(\d{2}))?"
)


def _check_timestamp(value: str, where: str) -> None:
    match = _TIMESTAMP.match(value)
    if match is None or not re.fullmatch(r"\d{4}-\d\d?-\d\d?([Tt \t].*)?", value):
        return
    y, m, d, hh, mm, ss = match.groups()
    try:
        dt.date(int(y), int(m), int(d))
        if hh is not None:
            dt.time(int(hh), int(mm), int(ss))
    except ValueError as exc:
        raise YamlLoadError(
            f"{value!r} is not a real date or time ({exc})",
            where=where,
            hint="write dates as YYYY-MM-DD with a day that exists in that month",
        ) from None


def _marked(exc: MarkedYAMLError, source: str) -> YamlLoadError:
    mark = exc.problem_mark or exc.context_mark
    line, col = _pos(mark) if mark is not None else (1, 1)
    original = str(exc.problem or exc.context or "invalid YAML")
    problem = " ".join(original.split())
    if "duplicate key" in problem or "found duplicate key" in str(exc):
        return YamlLoadError(
            f"duplicate key {_duplicate_name(exc)}".rstrip(),
            where=f"{source}:{line}:{col}",
            hint="each field may appear once; merge the two entries",
        )
    hint = "check indentation and quoting near this position"
    if "\t" in original or "\\t" in original or "tab" in problem:
        hint = "indent with spaces, not tabs"
    return YamlLoadError(f"YAML syntax: {problem}", where=f"{source}:{line}:{col}", hint=hint)


def _duplicate_name(exc: MarkedYAMLError) -> str:
    text = str(exc.problem or "")
    start = text.find('"')
    end = text.find('"', start + 1)
    return text[start : end + 1] if 0 <= start < end else ""


def _to_plain(node: Any, path: PathKey, loaded: LoadedYaml) -> Any:
    """Turn ruamel's round-trip objects into plain Python, recording positions."""
    if isinstance(node, CommentedMap):
        out: dict[str, Any] = {}
        for key in node:
            key_line, key_col, val_line, val_col = node.lc.data[key]
            if not isinstance(key, str):
                raise YamlLoadError(
                    f"the key {str(key)[:40]!r} is not text",
                    where=f"{loaded.source}:{key_line + 1}:{key_col + 1}",
                    hint="field names are words such as `title` or `variables`",
                )
            child = (*path, str(key))
            loaded.key_positions[child] = (key_line + 1, key_col + 1)
            loaded.value_positions[child] = (val_line + 1, val_col + 1)
            out[str(key)] = _to_plain(node[key], child, loaded)
        return out
    if isinstance(node, CommentedSeq):
        items = []
        for index, item in enumerate(node):
            line, col = node.lc.data[index]
            loaded.value_positions[(*path, index)] = (line + 1, col + 1)
            items.append(_to_plain(item, (*path, index), loaded))
        return items
    return _scalar(node)


def _scalar(value: Any) -> Any:
    # ruamel subclasses int/float/str to keep formatting; downstream wants the plain types.
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, dt.datetime):
        return dt.datetime(*value.timetuple()[:6])
    if isinstance(value, dt.date):
        return dt.date(value.year, value.month, value.day)
    return str(value)


def walk(data: Any, path: PathKey = ()) -> Iterator[tuple[PathKey, Any]]:
    """Every (path, value) pair in a plain data tree, depth first."""
    yield path, data
    if isinstance(data, dict):
        for key, value in data.items():
            yield from walk(value, (*path, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from walk(value, (*path, index))
