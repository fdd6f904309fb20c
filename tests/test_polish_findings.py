"""Small defects found by a walkthrough of the portal and the CLI (December 2026): what the
officer's approval form offers, the home page's empty lists, the output-check count, the
pages' timestamps and what `keys list` tells the committee."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
import release_chain
from release_chain import PASS, Chain, make_chain, no_fsync  # noqa: F401  (autouse fixture)
from service_fixtures import Stack, sqlite_stack_fixture  # noqa: F401  (a fixture)
from test_four_eyes import protected, run

from primex.service.identity import new_session

TABLES = release_chain.SPEC.replace(
    "output:\n  kind: microdata\n  format: csv\n"
    "disclosure:\n  k: 5\n  max_suppression: 0.03\n",
    "output:\n  kind: tables\n  format: csv\n  method: suppression\n  tables:\n"
    "    - {{name: by_region, dimensions: [age, region], measure: count}}\n"
    "disclosure:\n  min_count: 10\n")


@pytest.fixture(name="stack")
def sqlite_stack(sqlite_stack: Stack) -> Stack:
    return sqlite_stack


def _submit(stack: Stack, spec: str) -> str:
    with stack.client("alice") as client:
        return str(client.submit(spec.format(
            key=stack.chain.ids["alice"].encryption_public_key))["request"])


def _officer(stack: Stack) -> dict[str, str]:
    token, csrf = new_session(stack.state, "olivia")
    return {"Cookie": f"__Host-primex-session={token}", "X-CSRF-Token": csrf}


def _fields(page: str) -> list[str]:
    return re.findall(r'data-condition data-field="([^"]+)"', page)


def test_the_approval_form_offers_only_the_conditions_of_the_output_kind(stack: Stack) -> None:
    """A microdata request was offered min_count, p% and dominance; a table request k, l,
    max_suppression and a priority per variable: conditions nothing would enforce."""
    micro, tables = _submit(stack, release_chain.SPEC), _submit(stack, TABLES)
    headers = _officer(stack)
    page = httpx.get(f"{stack.url}/portal/requests/{micro}", headers=headers).text
    assert _fields(page) == ["k", "l", "max_suppression"]
    assert 'data-priority="age"' in page and 'data-drop="age"' in page
    page = httpx.get(f"{stack.url}/portal/requests/{tables}", headers=headers).text
    assert _fields(page) == ["min_count", "p_percent", "dominance.n", "dominance.k"]
    assert "data-priority=" not in page and 'data-drop="age"' in page
    assert "how much it matters" not in page  # the help names no priority either
    assert 'data-generalise="age"' in page


@pytest.mark.parametrize(("which", "condition", "field", "line"), [
    ("micro", "min_count=12", "min_count",
     "condition min_count does not apply to microdata output: nothing would enforce it "
     "(hint: microdata output takes k, l, max_suppression; or write a note)"),
    ("tables", "k=7", "k",
     "condition k does not apply to tables output: nothing would enforce it (hint: tables "
     "output takes min_count, p_percent, dominance.n, dominance.k; or write a note)"),
    ("tables", "priority.age=keep", "priority.age",
     "condition priority.age does not apply to tables output: priorities weigh the "
     "generalisation of microdata only (hint: use VARIABLE=LEVEL or drop=VARIABLE)"),
])
def test_the_service_refuses_a_condition_the_output_kind_does_not_use(
    stack: Stack, which: str, condition: str, field: str, line: str
) -> None:
    rid = _submit(stack, release_chain.SPEC if which == "micro" else TABLES)
    reply = httpx.post(f"{stack.url}/api/requests/{rid}/approve/prepare",
                       headers=_officer(stack),
                       json={"conditions": ["drop=sex", condition, "No maps."]})
    assert reply.status_code == 422, reply.text
    assert reply.json()["detail"] == {"lines": [line], "field": field}


@pytest.mark.parametrize(("lang", "nothing_waits", "waiting", "nothing"), [
    ("en", "Nothing waits for you.", "Waiting for you", "Nothing here."),
    ("fr", "Rien n'attend votre action.", "En attente de votre part", "Rien ici."),
    ("nl", "Er wacht niets op u.", "Wacht op u", "Niets hier."),
])
def test_the_home_page_says_once_that_nothing_waits(
    stack: Stack, lang: str, nothing_waits: str, waiting: str, nothing: str
) -> None:
    """The home page read "Waiting for you" (a heading), then "Waiting for you: Nothing
    here."; with no request at all, "All requests you may see: Nothing here." below its own
    heading."""
    token, _csrf = new_session(stack.state, "olivia")
    cookie = {"Cookie": f"__Host-primex-session={token}; primex-lang={lang}"}
    page = httpx.get(f"{stack.url}/portal/", headers=cookie).text
    assert f"<p data-nothing-waits>{nothing_waits}</p>" in page.replace("&#39;", "'")
    assert waiting not in page and f": {nothing}" not in page
    assert f"<p>{nothing}</p>" in page  # under the heading of all requests
    _submit(stack, release_chain.SPEC)  # now a submitted request waits for the officer
    page = httpx.get(f"{stack.url}/portal/", headers=cookie).text
    assert f"<h2>{waiting}</h2>" in page and "data-nothing-waits" not in page


@pytest.fixture(name="one_checker")
def one_checker_chain(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Chain:
    """The release tests' chain under the shipped policy (one output checker)."""
    monkeypatch.setenv("PRIMEX_PASSPHRASE", PASS)
    return make_chain(tmp_path)


def test_one_required_output_check_reads_output_checked(
    one_checker: Chain, capsys: pytest.CaptureFixture[str]
) -> None:
    """`review output-check --approve` printed "(1 of 1 output checks)" under the shipped
    policy (one checker); the count is for four eyes (test_four_eyes keeps "1 of 2")."""
    protected(one_checker)
    assert run(one_checker, "review", "output-check", one_checker.request,
               "--as", "olivia", "--approve") == 0
    out = capsys.readouterr().out.strip()
    assert out.endswith("(output checked)") and "of 1" not in out


def test_the_page_says_output_checked_when_one_check_is_required(stack: Stack) -> None:
    chain = stack.chain
    chain.submit()
    chain.approve()
    chain.extract()
    chain.protect()
    token, _csrf = new_session(stack.state, "paul")
    url, cookie = f"{stack.url}/portal/requests/{chain.request}", f"__Host-primex-session={token}"

    def line(lang: str) -> str:
        page = httpx.get(url, headers={"Cookie": f"{cookie}; primex-lang={lang}"}).text
        found = re.search(r'<p class="progress" data-output-checks="([^"]*)">(.*?)</p>', page)
        assert found is not None
        return f"{found.group(1)} {found.group(2)}"

    assert line("en") == "0/1 The output is not checked yet."
    with stack.client("olivia") as olivia:
        olivia.decide(chain.request, "output_check", {"decision": "approve"})
    assert [line(lang) for lang in ("en", "fr", "nl")] == [
        "1/1 Output checked.", "1/1 Résultats contrôlés.", "1/1 Output gecontroleerd."]


def test_pages_show_times_to_the_minute_and_keep_the_exact_one(stack: Stack) -> None:
    """Timelines, comments, the home list and the audit page showed raw ISO times with
    microseconds (2026-12-06T18:01:02.123456Z)."""
    import datetime as dt

    from primex.service.db import Comment

    rid = _submit(stack, release_chain.SPEC)
    with stack.state.db() as db:
        db.add(Comment(request=rid, author="alice", role="researcher", text="Thanks.",
                       created=dt.datetime(2026, 12, 6, 18, 1, 2, 123456)))  # naive: UTC
    token, _csrf = new_session(stack.state, "olivia")
    cookie = {"Cookie": f"__Host-primex-session={token}"}
    shown = 0
    for path in (f"/portal/requests/{rid}", "/portal/", "/portal/audit"):
        page = httpx.get(stack.url + path, headers=cookie).text
        times = re.findall(r'<time datetime="([^"]+)">([^<]*)</time>', page)
        assert times, path
        for exact, text in times:
            moment = dt.datetime.fromisoformat(exact)
            assert moment.tzinfo is not None
            assert text == moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"), path
            shown += 1
        assert not re.search(r">[^<]*\d{2}:\d{2}:\d{2}\.\d{6}", page), path
    page = httpx.get(stack.url + f"/portal/requests/{rid}", headers=cookie).text
    assert '<time datetime="2026-12-06T18:01:02.123456+00:00">2026-12-06 18:01 UTC</time>' \
        in page
    assert shown >= 5


def test_keys_list_shows_the_organisation_and_the_encryption_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The committee registering a researcher's new (browser) key with `keys register
    --x25519` found neither the researcher's organisation nor their X25519 key in `keys
    list`."""
    from primex.cli import main

    monkeypatch.setenv("PRIMEX_PASSPHRASE", PASS)
    h = ["--home", str(tmp_path)]
    assert main([*h, "keys", "init", "--role", "committee", "--name", "comm"]) == 0
    assert main([*h, "keys", "init", "--role", "researcher", "--name", "alice", "--by", "comm",
                 "--organisation", "HIVA - KU Leuven"]) == 0
    x25519 = capsys.readouterr().out.strip().splitlines()[-1]
    assert x25519.startswith("primex-x25519:")
    assert main([*h, "keys", "list"]) == 0
    out = capsys.readouterr().out
    header = next(line for line in out.splitlines() if "name" in line and "role" in line)
    assert [c.strip() for c in header.strip("┃ ").split("┃")] == [
        "name", "role", "person", "organisation", "added at", "status", "key id",
        "encryption", "private key here"]
    rows = {cells[0]: cells for cells in (
        [c.strip() for c in line.strip("│ ").split("│")] for line in out.splitlines()
        if line.startswith("│"))}
    assert rows["alice"][3] == "HIVA - KU Leuven"
    assert rows["alice"][7] == x25519.removeprefix("primex-x25519:")[:8] + "…"
    assert rows["comm"][3] == "—" and rows["comm"][7] == "—"
    # the whole key, as `keys register … --x25519` takes it
    assert f"  alice: {x25519}" in out.splitlines()
