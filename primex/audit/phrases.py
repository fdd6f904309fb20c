"""Text about log entries as message keys with parameters, rendered with a catalogue.

The code that describes an entry (a request's history, the committee's report) says *what*
to say as a `Phrase` (a key such as `history.conditions` and its parameters); a catalogue
(key -> `str.format` template) says it in one language. The CLI renders with the English
catalogue next to that code; the portal renders the same phrases with its French and Dutch
catalogues (primex/service/pages/history_words.py), so no page translates a finished English
sentence. Text from the log itself (reasons, notes, names, hashes) is a parameter, never
translated and never read as a template."""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Union

# a parameter: a value shown as is, another phrase, or a list of those (", " between)
Text = Union["Phrase", "Join", str, list[Any]]


@dataclass(frozen=True)
class Phrase:
    key: str
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Join:
    """Parts said one after the other with `sep` between them (a plain list uses ", ")."""

    sep: str
    parts: tuple[Any, ...]


def phrase(key: str, /, **params: Any) -> Phrase:
    return Phrase(key, params)


def render(value: Any, words: Mapping[str, str]) -> str:
    """`value` in the language of `words`; a key the catalogue lacks is a KeyError (the
    catalogue tests make sure every language has every key)."""
    if isinstance(value, Phrase):
        params = {name: render(v, words) for name, v in value.params.items()}
        return words[value.key].format(**params)
    if isinstance(value, Join):
        return value.sep.join(render(v, words) for v in value.parts)
    if isinstance(value, list | tuple):
        return ", ".join(render(v, words) for v in value)
    return str(value)


def placeholders(template: str) -> set[str]:
    """The parameter names a template uses (the catalogue tests compare languages)."""
    return {name for _text, name, _spec, _conv in string.Formatter().parse(template)
            if name is not None}


def keys_of(value: Any) -> set[str]:
    """Every message key `value` needs, nested phrases included."""
    if isinstance(value, Phrase):
        return {value.key}.union(*(keys_of(v) for v in value.params.values()))
    if isinstance(value, Join):
        return keys_of(value.parts)
    if isinstance(value, list | tuple):
        return set().union(*(keys_of(v) for v in value)) if value else set()
    return set()


__all__ = ["Join", "Phrase", "Text", "keys_of", "phrase", "placeholders", "render"]
