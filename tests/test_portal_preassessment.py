"""The officer's request page shows the risk pre-assessment that `primex review show`
prints (population size, the key's risk, the verdict, the cheapest generalisations, a
table's small cells, the priorities), computed by the same function
(`primex.requests.assess.assess`), in English, French and Dutch; without data it says so."""

from __future__ import annotations

import datetime as dt
import html
import re

import httpx
import pytest
from release_chain import no_fsync  # noqa: F401  (autouse fixture)
from requests_helpers import EXAMPLES, make_prima, valid_request
from service_fixtures import ORG, Stack, pg_url, service_stack_fixture  # noqa: F401
from test_service_api import submit

from primex.requests.assess import assess
from primex.requests.store import load_submitted
from primex.service.identity import new_session

# tests/test_requests_assess.py's people: keys (F,20)×6, (M,21)×3, (M,22), (F,23); by hand:
# 11 records, 2 sample uniques, 5 records under k = 5, expected re-identifications
# 6/6 + 3/3 + 1 + 1 = 4; only age_5y with sex generalised away reaches the target
PEOPLE = ([{"sex": "F", "age": 20}] * 6 + [{"sex": "M", "age": 21}] * 3
          + [{"sex": "M", "age": 22}, {"sex": "F", "age": 23}])


def _ours(stack: Stack, text: str) -> str:
    """A request text as alice's: her organisation (C5) and her encryption key."""
    text = re.sub(r"organisation: .*", f"organisation: {ORG}", text, count=1)
    key = stack.chain.ids["alice"].encryption_public_key
    return re.sub(r'public_key: "[^"]*"', f'public_key: "{key}"', text, count=1)


def age_sex_request(stack: Stack) -> str:
    return _ours(stack, valid_request(**{
        "variables: [age, sex, nationality_group, region, category, spell_duration, student]":
            "variables: [age, sex]",
        "max_suppression: 0.02": "max_suppression: 0.05",
    }) + "  priorities: {age: keep}\n")


def _page(stack: Stack, key: str, rid: str, lang: str) -> str:
    token, _csrf = new_session(stack.state, key)
    reply = httpx.get(f"{stack.url}/portal/requests/{rid}", headers={
        "Cookie": f"__Host-primex-session={token}; primex-lang={lang}"}, timeout=60)
    assert reply.status_code == 200, reply.text[:300]
    return reply.text


def _block(html: str) -> str:
    found = re.search(r"<section aria-labelledby=\"preassess-h\" data-preassessment>.*?"
                      r"</section>", html, re.S)
    assert found is not None, "no pre-assessment on the page"
    return found.group(0)


def _cell(block: str, name: str) -> str:
    found = re.search(rf"<(td|dd) {name}>([^<]*)</(td|dd)>", block)
    assert found is not None, name
    return found.group(2)


@pytest.mark.parametrize("stack", ["sqlite"], indirect=True)
def test_the_officer_sees_the_clis_pre_assessment_in_three_languages(stack: Stack) -> None:
    home = stack.state.home
    make_prima(home.prima_db, PEOPLE)
    text = age_sex_request(stack)  # linked: the assessment notes that l-diversity comes later
    rid = submit(stack, text=text)
    # the CLI's function on the stored request: the figures the page must show
    expected = assess(load_submitted(home, rid)[0], home)
    assert expected.risk is not None
    assert (expected.records, expected.risk.sample_uniques, expected.risk.violating_k) == \
        (11, 2, 5)
    assert expected.risk.expected_reidentifications == pytest.approx(4.0)
    assert [s.levels for s in expected.suggestions] == [{"age": "age_5y", "sex": "total"}]
    # the notes (said in the page's language below): linked variables, running spells
    assert expected.notes[0] == ("linked warehouse variables are sensitive: l-diversity is "
                                 "checked after linkage, not in this pre-assessment")
    assert "spells are still running: their position_group, wage_class at exit+4q, " \
        "exit+8q" in expected.notes[1]

    words = {
        "en": ("Risk pre-assessment", "Above target", "Expected re-identifications", "4.0",
               "age keep", "18.2%", "l-diversity is checked after linkage"),
        "fr": ("Pré-évaluation du risque", "Au-dessus de la cible",
               "Réidentifications attendues", "4,0", "age : garder", "18,2\u202f%",
               "la l-diversité est contrôlée après le couplage",
               "épisodes sont encore en cours : leurs position_group, wage_class"),
        "nl": ("Voorafgaande risico-inschatting", "Boven het doel",
               "Verwachte heridentificaties", "4,0", "age: behouden", "18,2%",
               "l-diversiteit wordt na de koppeling gecontroleerd",
               "episodes lopen nog: hun position_group, wage_class"),
    }
    for lang, said in words.items():
        block = _block(_page(stack, "olivia", rid, lang))
        assert _cell(block, "data-records").startswith("11 (2023-01 ")
        assert _cell(block, "data-uniques") == "2"  # 2 of 11 = 18.2 %
        assert _cell(block, "data-violating") == "5"
        for word in said:
            assert word in block, (lang, word)
        assert 'data-verdict="above"' in block
        change = re.search(r"<td data-change>(.*?)</td>", block)
        assert change is not None
        assert re.sub(r"</?code>", "", change.group(1)) == "age → age_5y, sex → total"
        if lang != "en":  # the page's words, not the English ones
            for english in ("Expected re-identifications", "Above target", "sensitive:",
                            "still running"):
                assert english not in block, (lang, english)
    # the researcher's page has no officer's block (she assesses her draft in the editor)
    assert "data-preassessment" not in _page(stack, "alice", rid, "en")


@pytest.mark.parametrize("stack", ["sqlite"], indirect=True)
def test_a_table_requests_small_cells_are_shown(stack: Stack) -> None:
    home = stack.state.home
    people = ([{"sex": "F", "age": 30, "commune": "21004", "category": 2}] * 12
              + [{"sex": "F", "age": 30, "commune": "11002", "category": 1}] * 3
              + [{"sex": "M", "age": 30, "commune": "11002", "category": 2}] * 8)
    make_prima(home.prima_db, people, start=dt.date(2022, 1, 1))
    text = (EXAMPLES / "ri-by-arrondissement.yaml").read_text(encoding="utf-8")
    text = text.replace("variables: [arrondissement, category, entry_quarter]",
                        "variables: [arrondissement, category]")
    text = text.replace("dimensions: [arrondissement, category, entry_quarter]",
                        "dimensions: [arrondissement, category]")
    rid = submit(stack, text=_ours(stack, text))
    block = _block(_page(stack, "olivia", rid, "fr"))
    # cells (21000, 2) = 12, (11000, 1) = 3, (11000, 2) = 8: two of three under 10
    assert _cell(block, "data-small-cells") == "2"
    assert "Cellules sous 10" in block and "66,7\u202f%" in block
    assert "<code>category</code> → <code>total</code>" in block


@pytest.mark.parametrize("stack", ["sqlite"], indirect=True)
def test_without_data_the_page_says_it_cannot_assess(stack: Stack) -> None:
    rid = submit(stack)  # the stack's home has no PRIMA
    assert not stack.state.home.prima_db.exists()
    for lang, said in (("en", "The pre-assessment cannot be computed: there are no PRIMA "
                              "data in the service's home"),
                       ("fr", "La pré-évaluation ne peut pas être calculée : il n'y a pas de "
                              "données PRIMA dans le répertoire du service"),
                       ("nl", "De voorafgaande inschatting kan niet worden berekend: er zijn "
                              "geen PRIMA-gegevens in de map van de dienst")):
        block = html.unescape(_block(_page(stack, "olivia", rid, lang)))
        assert said in block, lang
        if lang != "en":  # said by what stopped it, not the server's English line
            assert "PRIMA data" not in block and "The server" not in block


@pytest.mark.parametrize("stack", ["sqlite"], indirect=True)
def test_an_error_from_the_assessment_has_a_lead_in_in_the_pages_language(
        stack: Stack) -> None:
    rid = submit(stack)
    home = stack.state.home
    home.prima_db.parent.mkdir(parents=True, exist_ok=True)
    home.prima_db.write_bytes(b"not a database")  # the assessment's own one-line error
    block = html.unescape(_block(_page(stack, "olivia", rid, "nl")))
    found = re.search(r"<p class=\"bad\" data-preassessment-unavailable>(.*?)</p>", block, re.S)
    assert found is not None
    assert found.group(1).startswith("De voorafgaande inschatting kan niet worden berekend: "
                                     "Melding van de server (in het Engels): <span lang=\"en\">")
    assert "cannot open PRIMA" in found.group(1)


@pytest.mark.parametrize("stack", ["sqlite"], indirect=True)
def test_the_pre_assessment_is_computed_once_per_version_and_data(
        stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    """Loading the officer's page again does not assess again; a resubmitted request (another
    spec_sha256) or replaced PRIMA data does, and the page shows the new figures."""
    import primex.requests.assess as assessment
    from primex.service.pages.assessment_cache import CACHE

    CACHE.clear()
    home = stack.state.home
    make_prima(home.prima_db, PEOPLE)
    calls: list[str] = []

    def counted(spec: object, at: object) -> object:
        calls.append(str(getattr(spec, "variables", "")))
        return assess(spec, at)  # type: ignore[arg-type]

    monkeypatch.setattr(assessment, "assess", counted)
    rid = submit(stack, text=age_sex_request(stack))
    assert _cell(_block(_page(stack, "olivia", rid, "en")), "data-uniques") == "2"
    assert _cell(_block(_page(stack, "olivia", rid, "fr")), "data-uniques") == "2"
    assert len(calls) == 1  # the second load (another language, same inputs) is cached
    # the officer returns it, the researcher drops `sex`: a new version is assessed
    with stack.client("olivia") as olivia, stack.client("alice") as alice:
        olivia.decide(rid, "return", {"reasons": ["drop sex"]})
        alice.submit(f"id: {rid}\n" + age_sex_request(stack).replace(
            "variables: [age, sex]", "variables: [age]"))
    block = _block(_page(stack, "olivia", rid, "en"))
    assert len(calls) == 2 and calls[-1] == "['age']"
    # the key shown is the new version's
    assert "<dd>age</dd>" in block
    _page(stack, "olivia", rid, "en")
    assert len(calls) == 2
    # the same request on regenerated data (another file): assessed again, new figures
    home.prima_db.unlink()
    make_prima(home.prima_db, [*PEOPLE, {"sex": "F", "age": 22}])
    block = _block(_page(stack, "olivia", rid, "en"))
    assert len(calls) == 3
    assert _cell(block, "data-records").startswith("12 ")
