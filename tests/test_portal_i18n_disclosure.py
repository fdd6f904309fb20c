"""The output check's disclosure report and the reasons of a failed verification on the
portal's French and Dutch pages: said from catalogues keyed by what is said (the report's
JSON fields, the verifier's typed reasons), a measure's technical name beside its plain
label; in English the summary is the protection step's own sentence."""

from __future__ import annotations

import copy
import html
import json
import re
from typing import Any

import httpx
import pytest
from portal_disclosure_fixtures import MICRODATA_REPORT, TABLES_REPORT
from release_chain import no_fsync  # noqa: F401  (autouse fixture)
from service_fixtures import Stack, pg_url, service_stack_fixture  # noqa: F401

from primex.audit.phrases import placeholders
from primex.audit.reasons import Reason
from primex.exchange.layout import REPORT_JSON
from primex.protection.step import _summary
from primex.release.gate import REASONS as GATE_REASONS
from primex.release.gate import protected_dir
from primex.service.identity import new_session
from primex.service.pages.disclosure_view import disclosure_view
from primex.service.pages.disclosure_words import DISCLOSURE
from primex.service.pages.reason_words import CHECKS, REASONS, failure_said


def test_every_key_in_every_language_with_the_same_parameters() -> None:
    for name, catalogue in (("disclosure", DISCLOSURE), ("reasons", REASONS)):
        english = catalogue["en"]
        for lang in ("fr", "nl"):
            assert set(catalogue[lang]) == set(english), (name, lang,
                                                          set(catalogue[lang]) ^ set(english))
            for key, template in english.items():
                assert placeholders(catalogue[lang][key]) == placeholders(template), (
                    name, lang, key)
    # every typed reason and every check of the verifier has its words
    assert {f"reason.{r.name}" for r in Reason} <= set(REASONS["en"])
    assert {f"check.{c}" for c in CHECKS} <= set(REASONS["en"])
    assert all(REASONS["en"][f"reason.{r.name}"] == r.summary for r in Reason)
    assert {f"gate.{code}" for code in GATE_REASONS} == {
        k for k in REASONS["en"] if k.startswith("gate.")}


def test_the_english_summary_is_the_protection_steps_sentence() -> None:
    for report in (MICRODATA_REPORT, TABLES_REPORT):
        step = _summary(str(report["kind"]), bool(report["passed"]), report["details"])
        assert step == report["summary"]  # the report as written
        assert disclosure_view(report, "en")["summary"] == step
        failed = {**report, "passed": False}
        assert disclosure_view(failed, "en")["summary"] == _summary(
            str(report["kind"]), False, report["details"])


def _rows(view: dict[str, Any], key: str) -> dict[str, tuple[str, ...]]:
    return {r["name"]: (r["label"], *(r[k] for k in ("before", "after", "value") if k in r))
            for r in view[key]}


def test_microdata_report_in_three_languages() -> None:
    # the report's figures (disclosure-report.json): 521 → 0 records under k = 6,
    # global_risk_ER 295.0 → 41.37052087124561, 37 of 748 records blanked
    en, fr, nl = (disclosure_view(MICRODATA_REPORT, lang) for lang in ("en", "fr", "nl"))
    assert _rows(en, "risk")["global_risk_ER"] == ("Expected re-identifications", "295",
                                                   "41.37")
    assert _rows(fr, "risk")["global_risk_ER"] == ("Réidentifications attendues", "295",
                                                   "41,37")
    assert _rows(nl, "risk")["global_risk_ER"] == ("Verwachte heridentificaties", "295",
                                                   "41,37")
    assert _rows(fr, "risk")["kanon_violations"] == (
        "Enregistrements qui enfreignent la 6-anonymité", "521", "0")
    assert _rows(nl, "risk")["global_risk_pct"] == ("Globaal risico (aandeel van de records)",
                                                    "39,4%", "5,5%")
    assert _rows(fr, "suppressed")["records_suppressed"] == (
        "Enregistrements avec une valeur masquée", "37 (4,9\u202f%)")
    assert fr["summary"] == ("protection des microdonnées réussie ; généralisation : age_5y → "
                             "age_10y, household_type → total ; 37 valeurs masquées dans 37 "
                             "enregistrements")
    assert nl["summary"] == ("microdata geslaagd; veralgemeend: age_5y → age_10y, "
                             "household_type → total; 37 waarden onderdrukt in 37 records")
    # the share of records with no suppressed value (utility.records_without_suppression)
    assert "95,0\u202f% des enregistrements n'ont aucune valeur masquée." in \
        fr["utility"]["lines"]
    assert {r["variable"]: r["value"] for r in nl["utility"]["loss"]} == {
        "age_5y": "0,0801", "sex": "0,0374", "household_type": "1",
        "spell_duration_band": "0,008"}
    assert fr["reason"] is not None and fr["reason"].startswith("Après la généralisation")


def test_tables_report_and_the_exact_search_line() -> None:
    fr = disclosure_view(TABLES_REPORT, "fr")
    rows = {t["name"]: {r["name"]: r["value"] for r in t["rows"]} for t in fr["tables"]}
    big = rows["position_after_one_year"]
    # 224 cells, 68 primary, 23 secondary; published_share 0.5938
    assert (big["cells"], big["primary"], big["secondary"], big["published_share"]) == (
        "224", "68", "23", "59,4\u202f%")
    assert big["secondary_optimum"] == ("l'optimum exact a 15 cellules secondaires ; "
                                        "l'heuristique en a masqué 8 de plus (valeur masquée "
                                        "900 plus basse).")
    # the exact search's pattern released, not proven within its work budget
    report = copy.deepcopy(TABLES_REPORT)
    optimum = report["details"]["tables"]["position_after_one_year"]["secondary_optimum"]
    optimum.update({"released": "exact search", "proven_optimal": False, "lower_bound": 12.0,
                    "budget": "100 master MIPs and 300 nodes or 10 s"})
    for lang, said in (
        ("en", "the exact search's pattern is released: 15 secondary cells, 8 fewer than the "
               "heuristic's 23 (at most 25 % above the best lower bound (12) found within 100 "
               "master MIPs and 300 nodes or 10 s)."),
        ("nl", "het patroon van de exacte zoektocht wordt vrijgegeven: 15 secundaire cellen, "
               "8 minder dan de 23 van de heuristiek (hoogstens 25 % boven de beste ondergrens "
               "(12) gevonden binnen 100 master-MIP's en 300 knopen of 10 s)."),
    ):
        view = disclosure_view(report, lang)
        line = {r["name"]: r["value"] for r in view["tables"][1]["rows"]}["secondary_optimum"]
        assert line == said, lang
    nl = disclosure_view(TABLES_REPORT, "nl")
    assert nl["summary"] == ("tabellen geslaagd (suppression); beneficiaries_by_age_region: "
                             "0 primair, 0 secundair, audit geslaagd; position_after_one_year: "
                             "68 primair, 23 secundair, audit geslaagd")


def test_a_verification_failure_is_said_by_its_reason() -> None:
    failure = type("F", (), {"check": "signature", "seq": 7, "reason": Reason.BAD_SIGNATURE,
                             "message": "the signature by 'olga' does not verify"})()
    assert failure_said(failure, "fr") == (
        "entrée 7 : échec du contrôle « signature » : la signature ne se vérifie pas",
        "the signature by 'olga' does not verify")
    log_level = type("F", (), {"check": "witness", "seq": None, "reason": None,
                               "message": "witness state: unreadable"})()
    assert failure_said(log_level, "nl") == ("logboek: controle ‘getuige’ mislukt",
                                             "witness state: unreadable")


def _page(stack: Stack, key: str, path: str, lang: str) -> str:
    token, _csrf = new_session(stack.state, key)
    reply = httpx.get(stack.url + path, headers={
        "Cookie": f"__Host-primex-session={token}; primex-lang={lang}"})
    assert reply.status_code == 200, reply.text[:300]
    return html.unescape(reply.text)


def _disclosure(page: str) -> str:
    found = re.search(r"<section aria-labelledby=\"disclosure-h\" data-disclosure>.*?</section>",
                      page, re.S)
    assert found is not None, "no disclosure report on the page"
    return found.group(0)


ENGLISH = ("Expected re-identifications", "values suppressed", "Sample uniques",
           "After generalisation", "records violating", "Highest individual risk",
           "Utility cost", "microdata passed", "of the records have no")


@pytest.mark.parametrize("stack", ["sqlite"], indirect=True)
def test_the_output_check_page_says_the_report_in_french_and_dutch(stack: Stack) -> None:
    chain = stack.chain
    chain.submit()
    rid = chain.request
    chain.approve({"disclosure": {"k": 6}})
    chain.extract()
    chain.protect()
    # the protection step's report (the data files and their manifest stay the chain's)
    (protected_dir(chain.home, rid) / REPORT_JSON).write_text(json.dumps(MICRODATA_REPORT))
    said = {
        "en": ("Expected re-identifications", "Records violating 6-anonymity"),
        "fr": ("Réidentifications attendues", "Enregistrements qui enfreignent la 6-anonymité",
               "Résultat : réussi. protection des microdonnées réussie",
               "95,0\u202f% des enregistrements n'ont aucune valeur masquée.",
               "Après la généralisation"),
        "nl": ("Verwachte heridentificaties", "Records die 6-anonimiteit schenden",
               "Resultaat: geslaagd. microdata geslaagd",
               "95,0% van de records heeft geen onderdrukte waarde.",
               "Na de veralgemening"),
    }
    for lang, words in said.items():
        block = _disclosure(_page(stack, "olivia", f"/portal/requests/{rid}", lang))
        for word in words:
            assert word in block, (lang, word)
        # the expert's names stay visible beside the label
        assert re.search(r"<tr data-measure=\"global_risk_ER\"><th scope=\"row\">[^<]+ "
                         r"<code class=\"tech\"[^>]*>\(global_risk_ER\)</code></th>"
                         r"<td>295</td><td>41[.,]37</td>", block), lang
        if lang != "en":
            for english in ENGLISH:
                assert english not in block, (lang, english)
    # the president's sign-off page: the summary in the page's language
    chain.check_output("approve")
    page = _page(stack, "paul", f"/portal/requests/{rid}", "nl")
    summary = re.search(r"<p data-signoff-summary>(.*?)</p>", page, re.S)
    assert summary is not None
    assert summary.group(1) == ("Resultaat: geslaagd. microdata geslaagd; veralgemeend: "
                                "age_5y → age_10y, household_type → total; 37 waarden "
                                "onderdrukt in 37 records")


@pytest.mark.parametrize("stack", ["sqlite"], indirect=True)
def test_a_typed_refusal_carries_its_code_and_the_page_its_words(stack: Stack) -> None:
    """The API names a typed refusal's code (the log's Reason) beside its English line; the
    page gives its script the words of every code in the page's language."""
    chain = stack.chain
    chain.submit()
    rid = chain.request
    chain.approve({"disclosure": {"k": 6}})
    token, csrf = new_session(stack.state, "olivia")
    # approving an approved request: the workflow refuses (Reason.WORKFLOW)
    reply = httpx.post(f"{stack.url}/api/requests/{rid}/approve/prepare",
                       json={"conditions": []},
                       headers={"Cookie": f"__Host-primex-session={token}",
                                "X-CSRF-Token": csrf})
    assert reply.status_code >= 400, reply.text
    assert reply.json()["reason"] == "WORKFLOW", reply.text
    page = httpx.get(f"{stack.url}/portal/requests/{rid}", headers={
        "Cookie": f"__Host-primex-session={token}; primex-lang=fr"}).text
    found = re.search(r'<meta name="primex-refusals" content="([^"]*)">', page)
    assert found is not None
    codes = json.loads(html.unescape(found.group(1)))
    assert codes["WORKFLOW"] == "l'événement n'est pas permis dans l'état de la demande"
    assert codes["too_few_output_checks"].startswith("les résultats doivent être approuvés")
    assert '<meta name="primex-server-said" content="Message du serveur (en anglais) :">' \
        in html.unescape(page)


def test_a_report_without_fields_is_shown_as_written_not_made_up() -> None:
    """A report the page cannot read field by field (not the step's) keeps its own summary
    (marked English on the page); the page never says '0 values suppressed' it did not read."""
    view = disclosure_view({"kind": "microdata", "passed": True, "summary": "3 cells"}, "fr")
    assert (view["summary"], view["as_written"], view["result"]) == (
        "3 cells", True, "Résultat : réussi.")
    assert view["risk"] == [] and view["suppressed"] == []
    assert disclosure_view({}, "nl")["summary"] == ""


@pytest.mark.parametrize("stack", ["sqlite"], indirect=True)
def test_a_refusal_on_a_page_is_a_page_in_its_language(stack: Stack) -> None:
    """Protected files that differ from those the disclosure result passed: the officer's
    page says it cannot be shown, in its language, the server's line after a lead-in (it
    was the API's JSON before)."""
    chain = stack.chain
    chain.submit()
    rid = chain.request
    chain.approve({"disclosure": {"k": 6}})
    chain.extract()
    chain.protect()
    next(p for p in protected_dir(chain.home, rid).iterdir()
         if p.name != REPORT_JSON).write_bytes(b"changed,after\n1,2\n")
    token, _csrf = new_session(stack.state, "olivia")
    reply = httpx.get(f"{stack.url}/portal/requests/{rid}", headers={
        "Cookie": f"__Host-primex-session={token}; primex-lang=fr"})
    assert reply.status_code == 409
    page = html.unescape(reply.text)
    assert '<html lang="fr">' in page and "Cette page ne peut pas être affichée." in page
    assert re.search(r'<p data-server-line>Message du serveur \(en anglais\) : '
                     r'<span lang="en">[^<]*the protected files differ', page)
    # a researcher on the audit page: refused in the page's language
    token, _csrf = new_session(stack.state, "alice")
    reply = httpx.get(f"{stack.url}/portal/audit", headers={
        "Cookie": f"__Host-primex-session={token}; primex-lang=nl"})
    assert reply.status_code == 403
    assert "Het auditrapport is voor het comité" in html.unescape(reply.text)


def test_a_removed_variable_and_a_renamed_column_are_said_from_their_fields() -> None:
    """The step's notices (`removed`: QI -> the variables whose removal would keep it) and
    `released_as`, said in the page's language; in English the step's own words."""
    from primex.protection.microdata import removal_notices

    removed: dict[str, list[str] | None] = {"household_type": ["sex"], "region": None}
    priorities = {"sex": "keep"}
    report = {"kind": "microdata", "passed": True, "details": {
        "parameters": {"k": 6, "max_suppression": 0.05}, "priorities": priorities,
        "removed": removed, "released_as": {"age_5y": "age_10y"}}}
    english = disclosure_view(report, "en")["removed"]
    step = removal_notices(removed, priorities, 6, 0.05)
    assert [line.replace("5.0%", "5 %") for line in english] == [
        line.replace("`", "") for line in step]
    fr = disclosure_view(report, "fr")
    assert fr["removed"][0].startswith(
        "household_type vaut * dans chaque enregistrement (retirée) : aucun niveau de "
        "household_type sous son total n'atteint k = 6 avec au plus 5,0\u202f% des "
        "enregistrements masqués, à moins de retirer sex à sa place ; pour garder "
        "household_type, abaissez la priorité keep de sex")
    assert fr["released_as"] == ["age_5y (demandée) est livrée sous le nom age_10y"]
    nl = disclosure_view(report, "nl")
    assert "zelfs als alle andere variabelen worden verwijderd" in nl["removed"][1]
    assert "tenzij in de plaats sex verwijderd wordt" in nl["removed"][0]


def test_the_step_s_work_budget_is_said_in_the_page_s_language() -> None:
    """The budget the protection step really uses (OPTIMUM_CHECK.budget(), English words)
    is said again from its figures, not shown in English on a French page."""
    from primex.protection.step import OPTIMUM_CHECK

    report = copy.deepcopy(TABLES_REPORT)
    optimum = report["details"]["tables"]["position_after_one_year"]["secondary_optimum"]
    optimum.update({"proven_optimal": False, "budget": OPTIMUM_CHECK.budget(),
                    "heuristic_above_bound_pct": 53.33})
    line = {r["name"]: r["value"] for r in disclosure_view(report, "fr")["tables"][1]["rows"]
            }["secondary_optimum"]
    assert line.startswith("optimum non prouvé dans ")
    for english in ("master MIPs", "nodes", "neighbourhoods", " then ", " or "):
        assert english not in line, (english, line)
    if OPTIMUM_CHECK.lns_rounds:
        assert f"puis {OPTIMUM_CHECK.lns_rounds} voisinages" in line


def test_a_request_that_is_not_trusted_is_said_by_its_reason() -> None:
    from primex.audit.reasons import Untrusted
    from primex.service.pages.reason_words import refusal_said

    exc = Untrusted(Reason.BAD_SIGNATURE, "the signature by 'olga' does not verify", seq=12)
    assert refusal_said(exc, "nl") == (
        "item 12: controle ‘handtekening’ mislukt: de handtekening klopt niet",
        "the signature by 'olga' does not verify")
