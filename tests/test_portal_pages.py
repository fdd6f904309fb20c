"""The portal's pages without a browser (httpx against a real `primex serve`): per-object
authorisation through the URL, no national number on a page, the three languages, the
security headers and the no-inline-script rule the CSP enforces."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from release_chain import no_fsync  # noqa: F401  (autouse fixture)
from service_fixtures import Stack, pg_url, service_stack_fixture  # noqa: F401
from test_service_api import submit

from primex.service.db import Comment
from primex.service.identity import new_session
from primex.service.pages import i18n

PAGES = Path(__file__).resolve().parents[1] / "primex" / "service" / "pages"
# a synthetic national number with valid check digits (born 1985-07-14, serial 123)
NISS = "85071412345"[:9] + f"{97 - int('850714123') % 97:02d}"


def _session(stack: Stack, key: str) -> dict[str, str]:
    token, _csrf = new_session(stack.state, key)
    return {"Cookie": f"__Host-primex-session={token}"}


def test_every_language_has_every_word() -> None:
    for lang in i18n.LANGUAGES:
        assert set(i18n.MESSAGES[lang]) == set(i18n.EN), lang
    for lang in i18n.LANGUAGES:  # every state and decision of the log has its word
        assert set(i18n.TERMS[lang]) == set(i18n.TERMS["en"]), lang
    from primex.audit.keys import ROLES
    from primex.audit.workflow import STATES

    assert set(STATES) <= set(i18n.TERMS["en"])
    assert set(ROLES) <= set(i18n.TERMS["en"])  # "(privacy officer)", never "(privacy_officer)"
    assert i18n.pick_language(None, "nl-BE,nl;q=0.9,fr;q=0.8") == "nl"
    assert i18n.pick_language("fr", "nl-BE") == "fr"
    assert i18n.pick_language("xx", "de-DE") == "en"


def test_no_inline_script_or_style_in_templates() -> None:
    for template in (PAGES / "templates").glob("*.html"):
        text = template.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), template.name
        assert "<style" not in text and " style=" not in text, template.name
        assert not re.search(r"\son[a-z]+=", text), template.name  # no inline handlers
    for script in (PAGES / "static").glob("*.js"):
        text = script.read_text()
        assert "innerHTML" not in text and "eval(" not in text, script.name


@pytest.mark.parametrize("stack", ["sqlite"], indirect=True)
def test_pages_authorise_per_organisation_and_never_show_a_niss(stack: Stack) -> None:
    rid = submit(stack)
    url = f"{stack.url}/portal/requests/{rid}"
    # anonymous: to the login, which starts at the service's OIDC route
    anonymous = httpx.get(url)
    assert anonymous.status_code == 303 and anonymous.headers["location"] == "/portal/login"
    login = httpx.get(stack.url + "/portal/login")
    assert login.headers["location"] == "/auth/login"
    assert "primex-portal-login=1" in login.headers["set-cookie"]
    # a researcher of another organisation, by changing the URL: as if it did not exist
    eve = httpx.get(url, headers=_session(stack, "eve"))
    assert eve.status_code == 404 and "Labour" not in eve.text
    assert rid not in httpx.get(stack.url + "/portal/", headers=_session(stack, "eve")).text
    # an insider writes a national number into the thread: no page shows it
    with stack.state.db() as db:
        db.add(Comment(request=rid, author="alice", role="researcher",
                       text=f"the person {NISS} is in our sample"))
    alice = httpx.get(url, headers=_session(stack, "alice"))
    assert alice.status_code == 200 and "Labour-market trajectories" in alice.text
    assert NISS not in alice.text and "[redacted-number]" in alice.text
    assert 'data-sign="approve"' not in alice.text  # the researcher gets no officer form
    officer = httpx.get(url, headers=_session(stack, "olivia"))
    assert 'data-sign="approve"' in officer.text and NISS not in officer.text
    # the service's headers hold on the pages: strict CSP, no framing
    assert "script-src 'self'" in officer.headers["content-security-policy"]
    assert officer.headers["x-frame-options"] == "DENY"
    # the audit page is for the committee and the officer only
    assert httpx.get(stack.url + "/portal/audit",
                     headers=_session(stack, "alice")).status_code == 403
    committee = httpx.get(stack.url + "/portal/audit", headers=_session(stack, "committee"))
    assert committee.status_code == 200 and rid in committee.text
    assert "Key registrations and revocations" in committee.text
    assert "built-in method" not in committee.text


@pytest.mark.parametrize("stack", ["sqlite"], indirect=True)
def test_language_switch_and_lang_attribute(stack: Stack) -> None:
    cookie = _session(stack, "alice")
    for accept, lang, word in (("fr-BE,fr", "fr", "Demandes"), ("nl-BE", "nl", "Aanvragen"),
                               ("de", "en", "Requests")):
        page = httpx.get(stack.url + "/portal/", headers={**cookie, "Accept-Language": accept})
        assert f'<html lang="{lang}">' in page.text and word in page.text
    switch = httpx.get(stack.url + "/portal/lang/nl?next=/portal/new")
    assert switch.headers["location"] == "/portal/new"
    assert "primex-lang=nl" in switch.headers["set-cookie"]
    chosen = httpx.get(stack.url + "/portal/", headers={
        "Cookie": cookie["Cookie"] + "; primex-lang=nl", "Accept-Language": "fr"})
    assert '<html lang="nl">' in chosen.text
    # no open redirect through the language switch
    for evil in ("https://evil.test/", "//evil.test/portal/", "/portal//evil.test"):
        reply = httpx.get(stack.url + "/portal/lang/fr", params={"next": evil})
        assert reply.headers["location"] == "/portal/", evil
    assert httpx.get(stack.url + "/portal/lang/de").status_code == 404


def test_preview_marks_blanked_cells(tmp_path: Path) -> None:
    from primex.service.pages.views import PREVIEW_ROWS, _preview

    path = tmp_path / "spells.csv"
    rows = ["age,sex,region"] + ["18-24,F,03000", "*,M,", "25-34,,NA"] * 5
    path.write_text("\n".join(rows) + "\n")
    table = _preview(path)
    assert table is not None and table["header"] == ["age", "sex", "region"]
    assert len(table["rows"]) == PREVIEW_ROWS
    # blanks are suppressed values; "*" is a generalisation level, not a suppression
    assert [gone for _cell, gone in table["rows"][1]] == [False, False, True]
    assert [gone for _cell, gone in table["rows"][2]] == [False, True, True]


@pytest.mark.parametrize("stack", ["sqlite"], indirect=True)
def test_approval_form_offers_the_enforceable_conditions(stack: Stack) -> None:
    """generalise / drop / priority are fields (levels from the catalogue hierarchy); the
    service parses them with `review approve --conditions`'s code and names the field of a
    bad one, so the page shows its one line beside it."""
    rid = submit(stack)
    page = httpx.get(f"{stack.url}/portal/requests/{rid}", headers=_session(stack, "olivia"))
    select = re.search(r'<select id="g-age".*?</select>', page.text, re.S)
    assert select is not None  # catalogue: age -> age_5y -> age_10y -> total
    assert re.findall(r'<option value="([^"]*)"', select.group(0)) == ["", "age_5y", "age_10y"]
    for var in ("age", "sex", "region", "category"):
        assert f'<input type="checkbox" id="d-{var}" data-drop="{var}"' in page.text
        assert f'<label class="sr-only" for="p-{var}">' in page.text
    assert 'data-default="normal"' in page.text
    token, csrf = new_session(stack.state, "olivia")
    headers = {"Cookie": f"__Host-primex-session={token}", "X-CSRF-Token": csrf}
    url = f"{stack.url}/api/requests/{rid}/approve/prepare"
    bad = httpx.post(url, headers=headers, json={"conditions": [
        "k=7", "drop=sex", "age=age_3y", "priority.region=low"]})
    assert bad.status_code == 422
    detail = bad.json()["detail"]
    assert detail["field"] == "generalise.age"
    assert len(detail["lines"]) == 1 and "not a level of age's hierarchy" in detail["lines"][0]
    looser = httpx.post(url, headers=headers, json={"conditions": ["drop=sex", "k=2"]})
    assert looser.status_code == 422 and looser.json()["detail"]["field"] == "k"
    good = httpx.post(url, headers=headers, json={"conditions": [
        "age=age_10y", "drop=sex", "priority.region=low", "No maps."]})
    assert good.status_code == 200, good.text
    conditions = good.json()["draft"]["body"]["conditions"]
    assert conditions["generalise"] == {"age": "age_10y"} and conditions["drop"] == ["sex"]
    assert conditions["priorities"] == {"region": "low"} and conditions["notes"] == ["No maps."]
