"""Defects found by taking new requests through every step as each person would (CLI and
portal, December 2026): what the reviewer is shown, how the history reads, and a person
moving their login to a new (browser) key."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
import release_chain
from release_chain import PASS, Chain, make_chain, no_fsync  # noqa: F401  (autouse fixture)
from release_chain import run_cli as run
from service_fixtures import Stack, sqlite_stack_fixture  # noqa: F401  (a fixture)

from primex.audit.keys import create_identity, load_identity, load_signer
from primex.home import Home
from primex.requests import describe
from primex.requests.spec import RequestSpec
from primex.service.accounts import add_account
from primex.service.app import build_state
from primex.service.identity import account_by_subject
from primex.service.settings import ServiceSettings

FILTERED = release_chain.SPEC.replace(
    "  period: {{start: 2023-01, end: 2024-06}}\n",
    "  period: {{start: 2023-01, end: 2024-06}}\n"
    "  filters:\n    age: {{min: 18, max: 24}}\n    region: [\"04000\"]\n",
)


@pytest.fixture(name="filtered")
def filtered_chain(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Chain:
    """alice submitted a request that covers only 18-24 year-olds in Brussels."""
    monkeypatch.setenv("PRIMEX_PASSPHRASE", PASS)
    monkeypatch.setattr(release_chain, "SPEC", FILTERED)
    chain = make_chain(tmp_path)
    chain.submit()
    return chain


def test_the_review_view_shows_the_population_filters(
    filtered: Chain, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(filtered, "review", "show", filtered.request, "--no-assess") == 0
    out = capsys.readouterr().out
    line = next(x for x in out.splitlines() if x.startswith("population:"))
    assert line == 'population: RI, 2023-01 – 2024-06; filters: 18 ≤ age ≤ 24, region in ["04000"]'


def test_the_history_states_conditions_in_the_cli_words(
    filtered: Chain, capsys: pytest.CaptureFixture[str]
) -> None:
    filtered.approve({"disclosure": {"k": 6, "l": 2, "max_suppression": "0.03",
                                     "dominance": {"n": 2, "k": 85}},
                      "tightened": ["k"], "notes": ["No maps."], "output_checks": 2,
                      "generalise": {"age": "age_10y"}, "drop": ["category"]})
    assert run(filtered, "request", "status", filtered.request, "--json") == 0
    history = json.loads(capsys.readouterr().out)["history"]
    assert history[-1]["summary"] == (
        "conditions: k=6 (tightened), l=2, max_suppression=0.03, dominance.n=2, "
        "dominance.k=85, age=age_10y, drop=category, four eyes: 2 different officers check "
        "the output; "
        "notes: No maps.")


def test_describe_tables_and_groups() -> None:
    import yaml

    data = yaml.safe_load(FILTERED.format(key="primex-x25519:" + "A" * 43 + "="))
    data["population"]["groups"] = {"study": {"art60": [True]}, "comparison": {}}
    data["output"] = {"kind": "tables", "format": "csv", "method": "suppression", "tables": [
        {"name": "by_region", "dimensions": ["age", "region"], "measure": "count"}]}
    data["disclosure"] = {"priorities": {"age": "keep"}}
    data["retention_until"] = str(data["retention_until"])
    spec = RequestSpec.model_validate(data, strict=False)
    assert describe.output(spec) == "tables (csv, suppression): by_region = age × region (count)"
    assert describe.population(spec).endswith(
        "; groups: study = art60 in [true], comparison = every other spell")
    assert describe.priorities(spec) == "age keep"


def test_a_person_moves_their_login_to_a_new_key(tmp_path: Path) -> None:
    """portal.md: a key made in one browser does not exist in another; the committee
    registers the new one and the operator points the person's login at it. A login is
    never moved onto a key of another person."""
    chain = make_chain(tmp_path, extra={"eve": "researcher"},
                       organisations={"alice": "HIVA", "eve": "ULB"})
    home = chain.home
    state = build_state(ServiceSettings(home=home.root,
                                        database_url=f"sqlite:///{tmp_path / 's.sqlite'}"))
    try:
        with state.log() as log:
            add_account(state, log, "alice", subject="sub-alice")
            add_account(state, log, "eve", subject="sub-eve")
            create_identity(home, "researcher", "alice-browser", PASS)
            new = load_identity(home, "alice-browser")
            new = type(new)(new.name, new.role, "alice", new.public_key_bytes,
                            new.encryption_public_key_bytes)
            log.register_key(new, load_signer(home, "committee", PASS), organisation="HIVA")
            add_account(state, log, "alice-browser", subject="sub-alice")
            with pytest.raises(Exception, match="another person"):
                add_account(state, log, "eve", subject="sub-alice")
            # nor from a revoked key of another person: eve's login stays eve's
            log.revoke_key("eve", "left ULB", load_signer(home, "committee", PASS))
            with pytest.raises(Exception, match="another person"):
                add_account(state, log, "alice-browser", subject="sub-eve")
        assert account_by_subject(state, "sub-alice") == "alice-browser"
    finally:
        state.close()


@pytest.fixture(name="stack")
def sqlite_stack(sqlite_stack: Stack) -> Stack:
    return sqlite_stack


def test_the_request_page_shows_population_and_output(stack: Stack) -> None:
    """The portal's summary, for the officer deciding and the researcher following: the
    benefits and period (and filters), the output asked for; before, only the variables."""
    import httpx

    from primex.service.identity import new_session

    with stack.client("alice") as client:
        rid = str(client.submit(release_chain.SPEC.format(
            key=stack.chain.ids["alice"].encryption_public_key))["request"])
    token, _csrf = new_session(stack.state, "olivia")
    page = httpx.get(f"{stack.url}/portal/requests/{rid}",
                     headers={"Cookie": f"__Host-primex-session={token}"}).text
    assert "<dd data-population>RI, 2023-01 – 2024-06</dd>" in page
    assert "<dd data-requested-output>microdata (csv)</dd>" in page


def test_the_output_check_preview_marks_only_hidden_table_cells(tmp_path: Path) -> None:
    """A protected table's published cells have an empty `reason`: the preview showed every
    one of them as '✱ suppressed'. Only the figures of a u (primary) or x (secondary) cell
    are hidden."""
    from primex.service.pages.views import _preview

    path = tmp_path / "position.csv"
    path.write_text("region,position,value,count,status,reason\n"
                    "*,*,1243,1243,s,\n"
                    "02000,cpas,,,x,secondary\n"
                    "03000,other,,,u,min_count\n")
    table = _preview(path)
    assert table is not None
    assert [[gone for _c, gone in row] for row in table["rows"]] == [
        [False, False, False, False, False, False],
        [False, False, True, True, False, False],
        [False, False, True, True, False, False],
    ]


def test_the_demo_service_restarts_after_a_person_moved_to_a_browser_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`make serve`, then portal.md's steps: the officer makes a key in the browser, the
    committee registers it and revokes the old one, the login moves to it. The next
    `make serve` refused to start ("key 'officer' is not an active key")."""
    from primex.service import demo_setup

    monkeypatch.setattr(demo_setup, "_data", lambda home, persons: None)  # no PRIMA needed
    home = Home(tmp_path / "serve")
    prepared = demo_setup.prepare(home)
    settings = ServiceSettings(home=home.root, database_url=f"sqlite:///{tmp_path / 's.db'}")
    state = build_state(settings)
    try:
        demo_setup.accounts(state)
        committee = load_signer(home, "committee", prepared.passphrases["committee"])
        create_identity(home, "privacy_officer", "officer-browser", PASS)
        browser = load_identity(home, "officer-browser")
        browser = type(browser)(browser.name, browser.role, "officer",
                                browser.public_key_bytes, None)
        with state.log() as log:
            log.register_key(browser, committee)
            log.revoke_key("officer", "moved to a browser key", committee)
            add_account(state, log, "officer-browser", subject="demo-officer")
        state.appended()
        demo_setup.accounts(state)  # the next start
        assert account_by_subject(state, "demo-officer") == "officer-browser"
        assert account_by_subject(state, "demo-alice") == "alice"
    finally:
        state.close()


def test_the_president_reads_the_disclosure_summary_before_signing(stack: Stack) -> None:
    """president.md: read the disclosure summary before you sign. The CLI prints it; the
    portal's sign-off page showed only the manifest."""
    import httpx

    from primex.service.identity import new_session

    chain = stack.chain
    chain.submit()
    chain.approve()
    chain.extract()
    chain.protect()
    with stack.client("olivia") as olivia:
        olivia.decide(chain.request, "output_check", {"decision": "approve"})
    token, _csrf = new_session(stack.state, "paul")
    page = httpx.get(f"{stack.url}/portal/requests/{chain.request}",
                     headers={"Cookie": f"__Host-primex-session={token}"}).text
    summary = re.search(r"<p data-signoff-summary>(.*?)</p>", page)
    assert summary is not None and "suppressed_values" in summary.group(1)  # the chain's
    assert 'data-sign="signoff"' in page


def test_the_open_command_names_the_key_that_decrypts(stack: Stack) -> None:
    """A researcher who signs in the browser (key alice-web, registered with the X25519 key
    of her CLI key `alice`, as portal.md says) was told `--key alice-web`: no such key on
    her machine, and a browser key cannot decrypt anyway."""

    import httpx

    from primex.audit.keys import Identity
    from primex.service.identity import new_session

    chain = stack.chain
    alice = chain.ids["alice"]
    with stack.state.log() as log:
        log.register_key(Identity("alice-web", "researcher", "alice", bytes(range(32)),
                                  alice.encryption_public_key_bytes),
                         chain.signers["committee"], organisation="HIVA - KU Leuven")
        add_account(stack.state, log, "alice-web", subject="sub-alice-web")
    stack.state.appended()
    rid = chain.through_protection()
    with stack.client("olivia") as olivia, stack.client("paul") as paul, \
            stack.client("spp") as spp:
        olivia.decide(rid, "output_check", {"decision": "approve"})
        paul.decide(rid, "signoff", {})
        chain.witness()
        assert spp.wait_job(spp.start_job(rid, "build")["id"])["state"] == "done"
    token, _csrf = new_session(stack.state, "alice-web")
    page = httpx.get(f"{stack.url}/portal/requests/{rid}",
                     headers={"Cookie": f"__Host-primex-session={token}"}).text
    command = re.search(r"<code data-open-command>(.*?)</code>", page)
    assert command is not None
    assert f"primex release open {rid}.primex --key alice --log-key" in command.group(1)


@pytest.mark.browser
def test_portal_css_keeps_long_cells_and_problem_lines_readable(tmp_path: Path) -> None:
    """In chromium with the portal's stylesheet: the committee's report table (a 64-digit
    manifest hash in a cell) widened the page past the window, and the editor's problem
    summary ran every `request validate` line into one paragraph. Only the cells that hold
    hashes and keys (class `long`) may break anywhere."""
    sync_api = pytest.importorskip("playwright.sync_api")
    from portal_fixtures import CHROMIUM, chromium_args

    if not CHROMIUM.exists():
        pytest.skip("chromium is not installed: run scripts/test-system-deps.sh as root")
    css = Path(__file__).resolve().parents[1] / "primex/service/pages/static/portal.css"
    digest = "e220330ca416675bc10610099a5ef223accdf5493e75e14dd9d4398a2bfa13ad"
    page_file = tmp_path / "page.html"
    page_file.write_text(
        f'<!doctype html><html lang="en"><head><link rel="stylesheet" href="{css.as_uri()}">'
        "</head><body><main><table><tr><td>REQ-2026-0001</td>"
        "<td><span id=word>vrijgegeven</span></td>"
        + "".join(f'<td class="long">president (president) on 2026-12-06, manifest {digest}</td>'
                  for _ in range(3))
        + "</tr></table><p data-problem-count></p></main></body></html>")
    lines = ["a.yaml:1:1: title: too short", "a.yaml:2:3: disclosure.k: k = 3 is below 5"]
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(**chromium_args())
        page = browser.new_page(viewport={"width": 800, "height": 600})
        page.goto(page_file.as_uri())
        page.evaluate("t => { document.querySelector('[data-problem-count]').textContent = t }",
                      "\n".join(lines))
        assert page.evaluate("document.documentElement.scrollWidth") <= 800
        # ... while a word of another cell stays whole (one line box, not "vrijgeg|even")
        assert page.evaluate("document.getElementById('word').getClientRects().length") == 1
        assert page.inner_text("[data-problem-count]").splitlines() == lines
        heights = page.evaluate("document.querySelector('[data-problem-count]')"
                                ".getClientRects()[0].height")
        assert heights > 1.5 * 16  # two lines on the screen, not one
        browser.close()


def test_the_distance_to_the_optimum_names_the_tables_protected_together() -> None:
    """Two linked tables protected as one problem: the report printed the joint figure under
    each table, '15 secondary cells … 8 more (value -900 more)', beside a table that had 0
    secondary suppressions."""
    from primex.protection.step import _optimum_md

    joint = {"checked": True, "proven_optimal": True, "best_secondary_cells": 15,
             "extra_cells": 8, "extra_value": -900.0}
    (line,) = _optimum_md(joint, ["by_region", "position"])
    assert line == ("  Distance to the optimum (tables by_region, position protected together): "
                    "the exact optimum has 15 secondary cells; the heuristic suppressed 8 more "
                    "(suppressed value 900 lower).")
    (alone,) = _optimum_md({**joint, "extra_value": 12.5}, ["by_region"])
    assert alone.endswith("suppressed 8 more (suppressed value 12.5 higher).")
    assert alone.startswith("  Distance to the optimum: ")


def test_the_codebook_names_the_regions_in_french_and_dutch(tmp_path: Path) -> None:
    """A table by region arrived with bare REFNIS codes (02000, 03000, 04000) and no value
    labels, while every other coded column has FR/NL labels."""
    from primex.release.codebook import build_codebook
    from primex.release.manifest import collect_protected

    protected = tmp_path / "R" / "protected"
    protected.mkdir(parents=True)
    (protected / "by_region.csv").write_text(
        "region,value,count,status,reason\n*,10,10,s,\n04000,10,10,s,\n")
    book = build_codebook(protected, collect_protected(protected.parent),
                          request_id="REQ-2026-0001", title="t")
    (field,) = [f for r in book["resources"] for f in r["schema"]["fields"]
                if f["name"] == "region"]
    brussels = {c["value"]: c for c in field["categories"]}["04000"]
    # the official names (FPS Economy, REFNIS), written here as the reference
    assert brussels["label_fr"] == "Région de Bruxelles-Capitale"
    assert brussels["label_nl"] == "Brussels Hoofdstedelijk Gewest"
    assert sorted(c["value"] for c in field["categories"]) == ["02000", "03000", "04000"]


@pytest.mark.parametrize(("keep", "first"), [("sex", {"age": "total"}),
                                              ("age", {"sex": "total"})])
def test_the_assessment_suggests_generalising_a_keep_variable_last(
    tmp_path: Path, keep: str, first: dict[str, str]
) -> None:
    """A researcher marks a variable `keep`; the pre-assessment's first suggestion was to
    generalise exactly that variable to its total. Here both single generalisations reach
    k = 5 at the same unweighted cost (1): the priority decides."""
    from requests_helpers import make_prima, valid_request

    from primex.requests.assess import assess
    from primex.requests.validate import validate_bytes

    home = Home(tmp_path)
    people = ([{"sex": "F", "age": 20}] * 5 + [{"sex": "M", "age": 20}] * 2
              + [{"sex": "F", "age": 30}] * 2 + [{"sex": "M", "age": 30}] * 5)
    make_prima(home.prima_db, people)
    text = valid_request(**{
        "variables: [age, sex, nationality_group, region, category, spell_duration, student]":
            "variables: [age, sex]",
        "max_suppression: 0.02": f"max_suppression: 0.05\n  priorities: {{{keep}: keep}}",
        "  filters:\n    age: {min: 18, max: 24}\n": "",
    })
    checked = validate_bytes(text.encode(), "req.yaml", home=home,
                             today=dt.date(2026, 11, 24))
    assert checked.lines() == []
    result = assess(checked.spec, home)
    assert result.records == 14 and not result.within_target
    assert result.suggestions[0].levels == first
    assert result.suggestions[0].cost == pytest.approx(1.0)
    assert result.suggestions[1].cost == pytest.approx(4.0)  # the keep variable, weight 4


def test_the_parameters_in_force_carry_the_approved_number_of_output_checkers() -> None:
    """An approval made under four eyes (output_checks: 2): the disclosure report's
    "Parameters in force" said output_check.checkers 1 (the policy file of the day)."""
    from primex.protection.step import effective_policy

    spec = RequestSpec.model_validate(_spec_data(), strict=False)
    policy = effective_policy(spec, {"disclosure": {"k": 6}, "output_checks": 2})
    assert policy.as_dict()["output_check"] == {"checkers": 2}
    assert policy.as_dict()["microdata"]["k"] == 6
    assert effective_policy(spec, {"output_checks": 1}).as_dict()["output_check"] == {
        "checkers": 1}


def _spec_data() -> dict:
    import yaml

    data = yaml.safe_load(FILTERED.format(key="primex-x25519:" + "A" * 43 + "="))
    data["retention_until"] = str(data["retention_until"])
    return data


def test_a_refused_condition_in_the_portal_does_not_name_the_cli_option(stack: Stack) -> None:
    """Beside the approval form's k field the officer read '--conditions: conditions may
    only tighten: k=2 …': the CLI's option name, on a web page."""
    import httpx

    from primex.service.identity import new_session

    with stack.client("alice") as client:
        rid = str(client.submit(release_chain.SPEC.format(
            key=stack.chain.ids["alice"].encryption_public_key))["request"])
    token, csrf = new_session(stack.state, "olivia")
    reply = httpx.post(f"{stack.url}/api/requests/{rid}/approve/prepare",
                       headers={"Cookie": f"__Host-primex-session={token}",
                                "X-CSRF-Token": csrf}, json={"conditions": ["k=2"]})
    assert reply.status_code == 422
    detail = reply.json()["detail"]
    assert detail["field"] == "k"
    assert detail["lines"] == [
        "conditions may only tighten: k=2 is looser than the service minimum 5 (hint: k, l, "
        "min_count, p_percent, dominance.n: higher is tighter; max_suppression, dominance.k: "
        "lower is tighter)"]


def test_the_suggestion_search_itself_weighs_the_priorities() -> None:
    """Reordering is not enough: when every one of the cheapest unweighted nodes generalises
    the `keep` variable, the search must look further (weights 1 and 4: the second variable
    is `keep`, so generalising the first is the cheapest suggestion)."""
    from primex.sdc.micro.lattice import cheapest_nodes, node_cost

    found = cheapest_nodes([1, 1], lambda r: True, lambda n: n, wanted=1,
                           max_evaluations=10, time_budget_s=5, weights=[1.0, 4.0])
    assert [node for node, _ in found] == [(1, 0)]
    assert node_cost((0, 1), [1, 1], [1.0, 4.0]) == 4.0
    assert node_cost((1, 1), [3, 1]) == pytest.approx(1 / 3 + 1)


def test_the_output_check_shows_risk_figures_a_person_can_read() -> None:
    """The officer's risk table printed 20.87003657302913 and 0.14285714285714285."""
    from primex.service.pages.disclosure_view import disclosure_view

    shown = disclosure_view({"kind": "microdata", "passed": True, "details": {
        "risk_before": {"global_risk_ER": 202.0, "max_individual_risk": 1.0,
                        "sample_uniques": 98},
        "risk_after": {"global_risk_ER": 20.87003657302913,
                       "max_individual_risk": 0.14285714285714285, "sample_uniques": 0},
        "information_loss": {"loss": 0.5257421150278293}}}, "en")
    assert [(r["name"], r["before"], r["after"]) for r in shown["risk"]] == [
        ("global_risk_ER", "202", "20.87"), ("max_individual_risk", "1", "0.1429"),
        ("sample_uniques", "98", "0")]
    assert "Average information loss per value: 0.5257" in shown["utility"]["lines"][0]


def test_the_committee_report_tells_the_two_ks_apart() -> None:
    """The report read 'disclosure: dominance: k: 85; n: 2; k: 5': which k is k-anonymity?"""
    from primex.committee.report import _flat

    conditions = {"disclosure": {"dominance": {"k": 85, "n": 2}, "k": 6},
                  "notes": ["No maps."], "tightened": ["k"]}
    assert _flat(conditions) == ("disclosure.dominance.k: 85; disclosure.dominance.n: 2; "
                                 "disclosure.k: 6; notes: No maps.; tightened: k")
    assert _flat({"k": 10, "text": "no region"}) == "k: 10; text: no region"


def test_make_serve_points_people_at_the_portal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`make serve` printed 'browser login: …/auth/login (then …/api/me)': a JSON page. The
    people of the flow use the portal, /portal/."""
    import io
    import subprocess

    import uvicorn

    from primex.cli import main
    from primex.service import demo_setup

    class Node:  # the demo OpenID Provider, started and stopped
        stdout = io.StringIO("READY\n")

        def __init__(self, *args: object, **kwargs: object) -> None: ...
        def terminate(self) -> None: ...
        def wait(self, timeout: float) -> int:
            return 0

    monkeypatch.setattr(demo_setup, "_data",  # no PRIMA needed: only its folder
                        lambda home, persons: home.spp.mkdir(parents=True, exist_ok=True))
    monkeypatch.setattr(subprocess, "Popen", Node)
    monkeypatch.setenv("PRIMEX_PASSPHRASE_SPP", "-")  # the command sets it: undone after
    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: None)
    provider = tmp_path / "provider.js"
    provider.write_text("// stand-in\n")
    assert main(["--home", str(tmp_path / "serve"), "serve", "demo", "--oidc-provider",
                 str(provider), "--port", "8799"]) == 0
    out = capsys.readouterr().out
    assert "http://127.0.0.1:8799/portal/" in out and "/api/me" not in out


def test_a_table_without_suppressions_still_types_its_reason_column_as_text(
    tmp_path: Path,
) -> None:
    """Two tables of one release: the one with no suppressed cell had `reason` typed 'any'
    in the codebook, the other 'string'."""
    from primex.release.codebook import build_codebook
    from primex.release.manifest import collect_protected

    protected = tmp_path / "R" / "protected"
    protected.mkdir(parents=True)
    (protected / "safe.csv").write_text("sex,value,count,status,reason\n*,20,20,s,\nF,20,20,s,\n")
    book = build_codebook(protected, collect_protected(protected.parent),
                          request_id="REQ-2026-0001", title="t")
    types = {f["name"]: f["type"] for r in book["resources"] for f in r["schema"]["fields"]}
    assert types["reason"] == "string" and types["value"] == "integer"


@pytest.mark.browser
def test_making_a_signing_key_again_asks_before_replacing_the_registered_one(
    stack: Stack,
) -> None:
    """The Signing key page offers its button again once a key exists; one more click put a
    new key in its place, silently: the registered private key (not exportable) was gone
    and the person could no longer sign."""
    sync_api = pytest.importorskip("playwright.sync_api")
    from portal_fixtures import CHROMIUM, chromium_args

    if not CHROMIUM.exists():
        pytest.skip("chromium is not installed: run scripts/test-system-deps.sh as root")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(**chromium_args())
        page = browser.new_page()
        page.goto(f"{stack.url}/portal/enrol")
        key = page.locator("[data-public-key]")
        page.click("[data-make-key]")
        sync_api.expect(key).to_have_text(re.compile(r"^[A-Za-z0-9+/]{43}=$"))
        first = key.inner_text()
        asked: list[str] = []

        def answer(dialog: object, accept: bool) -> None:
            asked.append(dialog.message)  # type: ignore[attr-defined]
            dialog.accept() if accept else dialog.dismiss()  # type: ignore[attr-defined]

        page.once("dialog", lambda d: answer(d, False))
        page.click("[data-make-key]")
        page.wait_for_timeout(500)
        assert asked and "already has a signing key" in asked[0]
        page.reload()
        sync_api.expect(key).to_have_text(first)  # kept, in the browser's storage too
        page.once("dialog", lambda d: answer(d, True))
        page.click("[data-make-key]")
        sync_api.expect(key).not_to_have_text(first)
        browser.close()


def test_the_not_found_page_speaks_the_page_language(stack: Stack) -> None:
    """A French page said 'Introuvable.' then, in English, 'unknown request REQ-2099-0001'."""
    import httpx

    from primex.service.identity import new_session

    token, _csrf = new_session(stack.state, "alice")
    for lang, words in (("fr", "Aucune demande que vous pouvez voir"),
                        ("nl", "Er is geen aanvraag die u mag zien"),
                        ("en", "There is no request you may see")):
        page = httpx.get(f"{stack.url}/portal/requests/REQ-2099-0001", headers={
            "Cookie": f"__Host-primex-session={token}; primex-lang={lang}"})
        assert page.status_code == 404
        assert words in page.text and "unknown request" not in page.text
        assert "<code>REQ-2099-0001</code>" in page.text
    odd = httpx.get(f"{stack.url}/portal/requests/%3Cb%3Ex", headers={
        "Cookie": f"__Host-primex-session={token}"})
    assert "<b>x" not in odd.text  # the id from the address is escaped
