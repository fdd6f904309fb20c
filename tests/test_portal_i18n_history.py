"""The request's history, its summary lines and the committee's report on the portal's
French and Dutch pages: said from message catalogues keyed by what an entry says (with its
parameters), never English sentences on a French or Dutch page; the CLI keeps its English."""

from __future__ import annotations

import html
import re
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from release_chain import no_fsync  # noqa: F401  (autouse fixture)
from service_fixtures import Stack, pg_url, service_stack_fixture  # noqa: F401

from primex.audit.phrases import keys_of, placeholders, render
from primex.committee.report import WORDS, _detail_phrase
from primex.requests.conditions import describe_conditions
from primex.requests.history_text import condition_phrase, history_phrase
from primex.service.identity import new_session
from primex.service.pages.history_words import CATALOGUES, HISTORY, REPORT, REPORT_ROLES_EN

CONDITIONS: list[dict[str, Any]] = [
    {"disclosure": {"k": 6, "l": 2, "max_suppression": "0.02", "min_count": 10,
                    "p_percent": 10, "dominance": {"n": 2, "k": 85}},
     "tightened": ["k"], "notes": ["No maps.", "Region level only."], "output_checks": 2,
     "generalise": {"age": "age_10y"}, "drop": ["category"], "priorities": {"region": "low"}},
    {"notes": ["only a note"]},
    {"disclosure": {"k": 5}},
    {"output_checks": 1},
    {},
]


def _entries() -> list[SimpleNamespace]:
    """One entry of every kind the history and the report describe, with its variants."""
    out = [SimpleNamespace(type=t, body={"conditions": c, "reason": "why"})
           for t in ("approval", "amendment") for c in CONDITIONS]
    out += [SimpleNamespace(type="output_check", body={"decision": d, "comment": c})
            for d in ("approve", "return", "other") for c in (None, "fine")]
    out += [SimpleNamespace(type="disclosure_result", body={"passed": p, "summary": s})
            for p in (True, False) for s in (None, "3 cells")]
    out += [SimpleNamespace(type=t, body=b) for t, b in (
        ("submission", {"spec_sha256": "ab" * 32, "title": "T"}),
        ("return", {"reasons": ["a", "b"]}), ("rejection", {"reasons": "no basis"}),
        ("extraction", {"manifest_sha256": "c" * 64, "snapshot": "2026Q3"}),
        ("extraction", {"manifest_sha256": "c" * 64}),
        ("coding", {"key_id": "v1:00", "manifest_sha256": "d" * 64}),
        ("signoff", {"manifest_sha256": "e" * 64, "manifest": {"files": [{}]}}),
        ("release", {"recipient": "alice", "package_sha256": "f" * 64,
                     "checkpoint": {"size": 3}}),
        ("access", {"sha256": "2" * 64, "name": "x.csv"}),
        ("closure", {"reason": "done", "destroyed": [{}]}), ("closure", {"destroyed": []}),
        ("key_add", {"name": "olga", "role": "privacy_officer", "person": "olga"}),
    )]
    return out


def test_every_catalogue_key_in_every_language_with_the_same_parameters() -> None:
    report = {"en": WORDS, **REPORT}  # the committee's English, the portal's fr and nl
    assert set(REPORT_ROLES_EN) <= set(WORDS)
    for name, catalogue in {**CATALOGUES, "report": report}.items():
        english = catalogue["en"]
        for lang in ("fr", "nl"):
            assert set(catalogue[lang]) == set(english), (name, lang,
                                                          set(catalogue[lang]) ^ set(english))
            for key, template in english.items():
                assert placeholders(catalogue[lang][key]) == placeholders(template), (
                    name, lang, key)
    # every key the code says is in the catalogues (so no page falls back or fails)
    said = set().union(*(keys_of(history_phrase(e)) for e in _entries()))
    assert said <= set(HISTORY["en"]) and "history.decision.return" in said
    reported = set().union(*(keys_of(_detail_phrase(e)) for e in _entries()))  # type: ignore[arg-type]
    assert reported <= set(WORDS) and "details.destroyed" in reported


def test_a_missing_french_word_is_caught() -> None:
    broken = {k: v for k, v in HISTORY["fr"].items() if k != "history.no_conditions"}
    with pytest.raises(KeyError):
        render(history_phrase(SimpleNamespace(type="approval", body={"conditions": {}})),
               broken)


def test_conditions_in_english_are_the_clis_words() -> None:
    """The history's phrase of an approval says in English exactly what `review approve`
    and `request status` say (primex.requests.conditions.describe_conditions)."""
    for conditions in CONDITIONS:
        assert render(condition_phrase(conditions), HISTORY["en"]) == \
            describe_conditions(conditions), conditions
    fr = render(history_phrase(SimpleNamespace(type="approval",
                                               body={"conditions": CONDITIONS[0]})),
                HISTORY["fr"])
    assert fr == ("conditions : k=6 (renforcée), l=2, max_suppression=0.02, min_count=10, "
                  "p_percent=10, dominance.n=2, dominance.k=85, age=age_10y, drop=category, "
                  "priority.region=low, quatre yeux : 2 délégué·e·s différent·e·s contrôlent "
                  "les résultats ; notes : No maps. / Region level only.")


def _page(stack: Stack, key: str, path: str, lang: str) -> str:
    token, _csrf = new_session(stack.state, key)
    reply = httpx.get(stack.url + path, headers={
        "Cookie": f"__Host-primex-session={token}; primex-lang={lang}"})
    assert reply.status_code == 200, reply.text[:300]
    assert f'<html lang="{lang}">' in reply.text
    return reply.text


def _timeline(html: str) -> str:
    found = re.search(r'<ol class="timeline">(.*?)</ol>', html, re.S)
    assert found is not None
    return found.group(1)


def _section(html: str, heading_id: str) -> str:
    found = re.search(rf'<h2 id="{heading_id}">.*?</section>', html, re.S)
    assert found is not None
    return found.group(0)


@pytest.mark.parametrize("stack", ["sqlite"], indirect=True)
def test_request_and_audit_pages_speak_french_and_dutch(stack: Stack) -> None:
    chain = stack.chain
    chain.submit()
    rid = chain.request
    chain.approve({"disclosure": {"k": 6, "l": 2, "max_suppression": "0.03"},
                   "tightened": ["k"], "notes": ["No maps."], "output_checks": 1})
    chain.extract()
    chain.protect()
    chain.check_output("approve")
    english = _timeline(_page(stack, "alice", f"/portal/requests/{rid}", "en"))
    for said in ("spec sha256", "conditions: k=6 (tightened), l=2, max_suppression=0.03; "
                 "notes: No maps.", "passed", "decision: approve"):
        assert said in english
    expected = {
        "fr": ("spécification sha256", "conditions : k=6 (renforcée), l=2, "
               "max_suppression=0.03 ; notes : No maps.", "réussie", "décision : approbation"),
        "nl": ("specificatie sha256", "voorwaarden: k=6 (verstrengd), l=2, "
               "max_suppression=0.03; notities: No maps.", "geslaagd",
               "beslissing: goedgekeurd"),
    }
    summary_words = {"fr": ("microdonnées (csv)",), "nl": ("microdata (csv)",)}
    for lang, words in expected.items():
        page = _page(stack, "alice", f"/portal/requests/{rid}", lang)
        timeline = _timeline(page)
        for said in words:
            assert said in timeline, (lang, said)
        for english_words in ("spec sha256", "conditions:", "(tightened)", "notes:",
                              "passed", "decision:", "approve"):
            assert english_words not in timeline, (lang, english_words)
        summary = _section(page, "summary-h")
        assert all(w in summary for w in summary_words[lang])
    # the officer's page says the same (its own view of the timeline)
    officer = _timeline(_page(stack, "olivia", f"/portal/requests/{rid}", "nl"))
    assert "beslissing: goedgekeurd" in officer and "decision:" not in officer

    # the committee's audit page
    audit_en = html.unescape(_page(stack, "committee", "/portal/audit", "en"))
    # (the test chain's protection records no inputs: the verification fails, and says so)
    assert "VERIFICATION FAILED: entry " in audit_en and "alice (researcher) on " in audit_en
    assert "olivia (privacy officer) on " in audit_en  # the portal's words for a role
    # the conditions in force in the history's words, not the log's field names
    assert "k=6 (tightened), l=2, max_suppression=0.03; notes: No maps." in audit_en
    assert "disclosure.k" not in audit_en and "tightened: k" not in audit_en
    # why it failed, by the verifier's typed reason (entry 11: the protection, which the
    # test chain writes without its inputs); the verifier's own English detail apart
    assert ("VERIFICATION FAILED: entry 11: chain of custody check failed: an input is not "
            "the previous step's recorded output") in audit_en
    audit = {"fr": ("ÉCHEC DE LA VÉRIFICATION : entrée 11 : échec du contrôle « chaîne de "
                    "possession » : une entrée n'est pas le résultat enregistré de l'étape "
                    "précédente", "Détail (tel que le vérificateur l'a écrit, en anglais) :",
                    "alice (chercheur·e) le ",
                    "clé enregistrée", "olivia (délégué·e à la protection des données) le ",
                    "k=6 (renforcée), l=2, max_suppression=0.03 ; notes : No maps."),
             "nl": ("VERIFICATIE MISLUKT: item 11: controle ‘bewaringsketen’ mislukt: een "
                    "invoer is niet de vastgelegde output van de vorige stap",
                    "Detail (zoals de verificatie het schreef, in het Engels):",
                    "alice (onderzoeker) op ",
                    "sleutel geregistreerd",
                    "olivia (functionaris voor gegevensbescherming) op ",
                    "k=6 (verstrengd), l=2, max_suppression=0.03; notities: No maps.")}
    for lang, words in audit.items():
        page = html.unescape(_page(stack, "committee", "/portal/audit", lang))
        for said in words:
            assert said in page, (lang, said)
        for english_words in ("VERIFICATION FAILED", " on 20", "key registered",
                              "(researcher)", "spec ", "custody check failed",
                              "recorded output", "disclosure.k", "tightened"):
            assert english_words not in page, (lang, english_words)
