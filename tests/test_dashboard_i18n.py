"""Four publication languages: every text a reader sees exists in FR, NL, DE and EN."""

from __future__ import annotations

import pytest

from primex.dashboard import charts, i18n, sheets
from primex.extract.indicators import INDICATORS, KEY_LABELS


def test_every_indicator_has_a_complete_sheet_in_four_languages() -> None:
    assert len(INDICATORS) >= 40
    assert sheets.missing() == []
    fr = sheets.sheet(INDICATORS["stock_ri"], "fr")
    de = sheets.sheet(INDICATORS["piis_success"], "de")
    assert fr.name.startswith("Bénéficiaires") and "PRIMA" in fr.source
    assert de.frequency == "vierteljährlich, jährlich" and "Fortschritt" in de.interest
    assert "BCSS" in sheets.sheet(INDICATORS["transition_from_cpas"], "en").source
    names = {lang: {sheets.sheet(i, lang).name for i in INDICATORS.values()}
             for lang in i18n.LANGS}
    assert all(len(n) == len(INDICATORS) for n in names.values())  # no two alike


def test_every_text_and_code_label_exists_in_each_language() -> None:
    for key, texts in i18n.UI.items():
        assert set(texts) == set(i18n.LANGS), key
    for breakdown, codes in KEY_LABELS.items():
        for code in codes:
            labels = {lang: i18n.label(breakdown, code, lang) for lang in i18n.LANGS}
            # a label of its own (not the code echoed back) in at least one language
            assert all(labels.values()) and labels["nl"] != code, (breakdown, code)
    assert i18n.label("sex", "F", "nl") == "vrouwen"
    assert i18n.label("category", "2", "de") == "2 alleinstehend"
    assert i18n.label("transition", "cpas>employee", "fr") == "CPAS (RI/ERIS) → salarié"
    assert i18n.label("total", "", "de") == "Belgien"


@pytest.mark.parametrize(("code", "lang", "name"), [
    ("63023", "de", "Eupen"), ("63040", "de", "Kelmis"), ("63040", "fr", "La Calamine"),
    ("11002", "en", "Antwerpen"), ("62063", "en", "Liège"), ("21004", "de", "Bruxelles / Brussel"),
])
def test_place_names_follow_the_language_area(code: str, lang: str, name: str) -> None:
    assert i18n.place("commune", code, lang) == name


def test_numbers_never_show_a_negative_zero() -> None:
    assert i18n.number(-0.04, 1, "fr") == "0,0"
    assert charts.fmt(-0.04, 1) == "0.0"
    assert i18n.number(1234567.25, 1, "nl") == "1\u202f234\u202f567,2"
    assert i18n.number(12.35, 1, "en") == "12.3" or i18n.number(12.35, 1, "en") == "12.4"
