"""The whole ad hoc flow through the portal's pages in a real browser: Playwright drives
Debian's chromium (nothing downloaded) against a real `primex serve` and a real OpenID
Provider. Every decision is signed in the browser with a non-extractable WebCrypto Ed25519
key that the committee registered; the SPP operator runs the steps through the service's
jobs; the researcher downloads the package and `primex release open` verifies it.

Every page is checked with axe-core (bundled in axe-playwright-python, injected from disk:
0 serious or critical violations), for console errors (a CSP violation is one), for the
lang attribute and for national numbers. Screenshots of every page stay in
test-artifacts/portal/ (to look at after a failure), and go to docs/img/portal/ after a
passing run with PORTAL_SCREENSHOTS=1."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pytest
from portal_fixtures import (
    ARTIFACTS,
    CHROMIUM,
    DOCS_IMG,
    Portal,
    chromium_args,
    password,
    portal_fixture,  # noqa: F401  (a fixture)
    screenshots_to_docs,
)
from release_chain import PASS, SPEC, no_fsync  # noqa: F401
from test_four_eyes import four_eyes

from primex.audit.keys import load_identity
from primex.audit.log import open_log
from primex.home import Home

pytestmark = pytest.mark.browser
sync_api = pytest.importorskip("playwright.sync_api")
axe_module = pytest.importorskip("axe_playwright_python.sync_playwright")


class Shots:
    """Each page visited: axe, console errors, lang, NISS; a screenshot kept by name."""

    def __init__(self, folder: Path, niss: set[str]) -> None:
        self.folder, self.niss, self.errors = folder, niss, []  # type: list[str]
        self.axe = axe_module.Axe()
        folder.mkdir(parents=True, exist_ok=True)

    def watch(self, page: Any, who: str, origin: str) -> None:
        """Errors on the service's pages (the OpenID Provider's page is not ours)."""
        def ours() -> bool:
            return bool(page.url.startswith(origin))

        page.on("console", lambda m: m.type == "error" and ours() and self.errors.append(
            f"{who} {page.url}: {m.text}"))
        page.on("pageerror", lambda e: ours() and self.errors.append(f"{who}: {e}"))

    def check(self, page: Any, name: str, lang: str = "en") -> None:
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(self.folder / f"{name}.png"), full_page=True)
        assert page.get_attribute("html", "lang") == lang, name
        html = page.content()
        leaked = [n for n in self.niss if n in html]
        assert not leaked, f"{name} shows a NISS"
        results = self.axe.run(page)
        bad = [v for v in results.response["violations"]
               if v.get("impact") in ("serious", "critical")]
        assert not bad, f"{name}: " + results.generate_report()
        assert not self.errors, self.errors

    def publish(self) -> None:
        """After a passing run, with PORTAL_SCREENSHOTS=1: the pictures of docs/portal.md."""
        if screenshots_to_docs():
            DOCS_IMG.mkdir(parents=True, exist_ok=True)
            for png in sorted(self.folder.glob("*.png")):
                shutil.copyfile(png, DOCS_IMG / png.name)


@pytest.fixture
def shots(synth_home: Home) -> Iterator[Shots]:
    with duckdb.connect(str(synth_home.prima_db), read_only=True) as con:
        tables = [r[0] for r in con.execute(
            "select table_name from information_schema.columns where column_name = 'niss'"
        ).fetchall()]
        niss = {str(r[0]) for t in tables for r in con.execute(
            f'select distinct niss from "{t}" limit 20000').fetchall()}
    assert len(niss) > 100
    folder = ARTIFACTS
    shutil.rmtree(folder, ignore_errors=True)
    yield Shots(folder, niss)


def _spec(portal: Portal) -> str:
    """The service tests' request, encrypted for rosa's key, on a shorter period."""
    rosa = load_identity(portal.researcher_home, "rosa").encryption_public_key
    text = SPEC.format(key=rosa)
    return text.replace("period: {start: 2023-01, end: 2024-06}",
                        "period: {start: 2023-07, end: 2024-06}")


def _in_fr_and_nl(page: Any, shots: Shots, name: str) -> None:
    """The page as it is in French and Dutch (screenshots `NAME-fr`, `NAME-nl`), then back
    in English for the rest of the flow."""
    url = page.url
    for lang in ("fr", "nl", "en"):
        page.click(f".langs a[lang={lang}]")
        page.wait_for_url(url)
        sync_api.expect(page.locator("html")).to_have_attribute("lang", lang)
        if lang != "en":
            shots.check(page, f"{name}-{lang}", lang=lang)


def _login(page: Any, portal: Portal, subject: str) -> None:
    page.goto(portal.url + "/portal/login")
    page.fill("input[name=login]", subject)
    page.fill("input[name=password]", password(subject))
    page.click("button[type=submit]")
    page.wait_for_url(portal.url + "/portal/")


def _enrol(page: Any, portal: Portal, name: str) -> None:
    page.goto(portal.url + "/portal/enrol")
    page.click("[data-make-key]")
    key = page.locator("[data-public-key]")
    sync_api.expect(key).to_have_text(re.compile(r"^[A-Za-z0-9+/]{43}=$"))
    portal.register_browser_key(name, key.inner_text())


def _state(page: Any, state: str) -> None:
    sync_api.expect(page.locator("[data-state]")).to_have_attribute("data-state", state,
                                                                    timeout=20000)


@contextmanager
def _tampered(page: Any, pattern: str, field: str) -> Iterator[None]:
    """The service (or a man in the middle) prepares a draft whose body[field] differs from
    what the page shows: the browser must refuse to sign it."""
    def handle(route: Any) -> None:
        reply = route.fetch()
        data = reply.json()
        data["draft"]["body"][field] = "0" * 64
        route.fulfill(response=reply, json=data)

    page.route(pattern, handle)
    try:
        yield
    finally:
        page.unroute(pattern)


def _cli(home: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "primex.cli", "--home", str(home), *args],
                          capture_output=True, text=True, env={**os.environ, **env},
                          timeout=120)


def test_the_whole_flow_in_the_browser(portal: Portal, synth_home: Home, shots: Shots,
                                       tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if not CHROMIUM.exists():
        pytest.skip("chromium is not installed: run scripts/test-system-deps.sh as root")
    four_eyes(monkeypatch, tmp_path)  # policy.yaml output_check.checkers: 2
    home = portal.chain.home
    for src, dst in ((synth_home.prima_db, home.prima_db),
                     (synth_home.warehouse_db, home.warehouse_db)):
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dst)
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(**chromium_args())
        people = {}
        for name in ("rosa", "olga", "pia", "eve"):
            context = browser.new_context(accept_downloads=True, locale="en-GB",
                                          viewport={"width": 1200, "height": 900})
            people[name] = context.new_page()
            shots.watch(people[name], name, portal.url)
        rosa, olga, pia, eve = (people[n] for n in ("rosa", "olga", "pia", "eve"))

        # 1. each signer's browser creates its key; the committee registers it
        for name in ("rosa", "olga", "pia"):
            _enrol(people[name], portal, name)
        shots.check(rosa, "enrol")
        for name, page in people.items():
            _login(page, portal, f"sub-{name}")
        shots.check(rosa, "researcher-home")

        # 2. a request with a mistake: the problem is shown beside its line
        good = _spec(portal)
        bad = good.replace("variables: [age, sex, region, category]",
                           "variables: [age, sexe, region, category]")
        rosa.goto(portal.url + "/portal/new")
        # completion from the request's JSON Schema: keys where the cursor is, then values
        rosa.fill("[data-yaml]", "population:\n  benefits: [RI]\n  per")
        rosa.focus("[data-yaml]")
        rosa.keyboard.press("End")
        rosa.keyboard.press("Control+Space")
        sync_api.expect(rosa.locator("[data-suggestions] [role=option]")).to_have_text(
            [re.compile(r"^period")])
        rosa.keyboard.press("Enter")
        rosa.keyboard.type("\noutput:\n  kind: ")
        rosa.keyboard.press("Control+Space")
        sync_api.expect(rosa.locator("[data-suggestions] [role=option]").first).to_have_text(
            "microdata")
        shots.check(rosa, "editor-completion")
        rosa.keyboard.press("ArrowDown")
        rosa.keyboard.press("Enter")
        assert rosa.input_value("[data-yaml]").endswith("  period: \noutput:\n  kind: tables")
        rosa.fill("[data-yaml]", bad)
        rosa.click("[data-check]")
        line = bad.splitlines().index("variables: [age, sexe, region, category]") + 1
        flagged = rosa.locator(f"#L{line}.has-problem .problem")
        sync_api.expect(flagged).to_contain_text("variables[1]")
        expected = portal.client("alice").validate(bad)["lines"]
        assert rosa.locator("[data-problem-count]").inner_text().splitlines() == expected
        shots.check(rosa, "editor-problems")
        rosa.fill("[data-yaml]", good)
        rosa.click("[data-check]")
        sync_api.expect(rosa.locator(".has-problem")).to_have_count(0)
        rosa.click("[data-assess]")
        assessed = portal.client("alice").call("POST", "/api/assess", {"yaml": good})
        table = rosa.locator("[data-assessment] table")
        sync_api.expect(table.locator("tbody tr").first).to_contain_text(
            str(assessed["risk"]["records"]))
        first = assessed["suggestions"][0]
        sync_api.expect(table.locator("thead th").nth(2)).to_contain_text(
            ", ".join(f"{v} → {to}" for v, to in first["generalise"].items()))
        shots.check(rosa, "editor-assessment")
        # a server that prepares another text than the one shown gets no signature
        with _tampered(rosa, "**/api/submissions/prepare", "spec_sha256"):
            rosa.click("[data-submit]")
            sync_api.expect(rosa.locator("[data-status]")).to_contain_text("not signed")
        assert open_log(home, create=False).requests() == []
        rosa.click("[data-submit]")
        rosa.wait_for_url(re.compile(r".*/portal/requests/REQ-\d{4}-\d{4}$"))
        rid = rosa.url.rsplit("/", 1)[1]
        _state(rosa, "submitted")

        # 3. the officer comments, the researcher answers; returned, resubmitted (diff)
        olga.goto(portal.url + "/portal/")
        sync_api.expect(olga.locator("table").first).to_contain_text(rid)
        shots.check(olga, "officer-queue")
        olga.click(f"a[href='/portal/requests/{rid}']")
        olga.fill("#comment", "Why do you need the region?")
        olga.click("form[data-comment] button")
        sync_api.expect(olga.locator("[data-thread]")).to_contain_text("region?")
        rosa.reload()
        # the keyboard alone: type the answer, Tab to the button, Enter
        rosa.focus("#comment")
        rosa.keyboard.type("To compare the three regions.")
        rosa.keyboard.press("Tab")
        assert rosa.evaluate("document.activeElement.textContent") == "Send"
        rosa.keyboard.press("Enter")
        sync_api.expect(rosa.locator("[data-thread] li")).to_have_count(2)
        olga.fill("#return-reasons", "Keep the data one year less.")
        olga.click("form[data-sign=return] button")
        _state(olga, "returned")
        rosa.reload()
        rosa.click(f"a[href='/portal/new?resubmit={rid}']")
        text = rosa.locator("[data-yaml]").input_value()
        assert text.startswith(f"id: {rid}\n")
        rosa.fill("[data-yaml]", text.replace("retention_until: 2028-12-31",
                                              "retention_until: 2027-12-31"))
        rosa.click("[data-submit]")
        rosa.wait_for_url(portal.url + f"/portal/requests/{rid}")
        _state(rosa, "submitted")
        shots.check(rosa, "researcher-request")
        olga.reload()
        diff = olga.locator("[data-diff]")
        sync_api.expect(diff.locator(".del")).to_contain_text(["retention_until: 2028-12-31"])
        sync_api.expect(diff.locator(".add")).to_contain_text(["retention_until: 2027-12-31"])
        # conditions: a looser k is refused by the CLI's parser, its line beside the field
        olga.fill("#c-k", "2")
        olga.click("form[data-sign=approve] button")
        sync_api.expect(olga.locator("#err-c-k")).to_contain_text("looser than")
        assert olga.get_attribute("#c-k", "aria-invalid") == "true"
        assert olga.evaluate("document.activeElement.id") == "c-k"
        assert open_log(home, create=False).state(rid).state == "submitted"
        shots.errors.clear()  # the expected 422 is logged by the browser
        olga.fill("#c-k", "6")
        olga.select_option("#g-age", "age_10y")
        olga.focus("#d-category")  # the keyboard alone ticks the box
        olga.keyboard.press("Space")
        assert olga.is_checked("#d-category")
        sync_api.expect(olga.locator("#p-region option:checked")).to_have_text(
            "normal (default)")
        olga.fill("#notes", "No publication below the region level.")
        # review show's pre-assessment on the officer's page: the editor's figures
        records = f"{assessed['risk']['records']:,}".replace(",", "\u202f")
        sync_api.expect(olga.locator("[data-preassessment] [data-records]")).to_contain_text(
            f"{records} (")
        shots.check(olga, "officer-request")
        olga.click("form[data-sign=approve] button")
        _state(olga, "approved")
        conditions = open_log(home, create=False).entries(rid)[-1].body["conditions"]
        assert conditions["generalise"] == {"age": "age_10y"}
        assert conditions["drop"] == ["category"] and conditions["output_checks"] == 2
        assert conditions["disclosure"]["k"] == 6

        # 4. the SPP runs the steps through the service's jobs (the BCSS codes by its CLI)
        with portal.client("spp") as spp:
            done = spp.wait_job(spp.start_job(rid, "extract")["id"])
            assert done["state"] == "done", done
            work = home.spp_work / rid
            env = {"PRIMEX_PASSPHRASE": PASS, "PRIMEX_BCSS_PASSPHRASE": PASS}
            for args in (["linkage", "keygen"],
                         ["linkage", "code", "--request", rid, "--in",
                          str(work / "extract.parquet"), "--as", "bob"]):
                ran = _cli(home.root, *args, **env)
                assert ran.returncode == 0, ran.stderr
            shutil.copyfile(home.bcss_work / rid / "coded.parquet", work / "coded.parquet")
            done = spp.wait_job(spp.start_job(rid, "protect")["id"])
            assert done["state"] == "done", done

        # 5. the officer checks the output: every file, a preview, the risk, the reasons
        olga.reload()
        _state(olga, "protected")
        assert olga.locator("table.preview").count() >= 1
        shots.check(olga, "output-check")
        _in_fr_and_nl(olga, shots, "output-check")
        olga.click("form[data-decision=approve] button")
        sync_api.expect(olga.locator("[data-awaiting-other]")).to_be_visible()
        _state(olga, "protected")  # four eyes: one of two checks

        # the president sees the count; the second officer decides without seeing the first
        pia.goto(portal.url + f"/portal/requests/{rid}")
        sync_api.expect(pia.locator("[data-output-checks]")).to_have_text(
            "1 of 2 output checks")
        assert pia.locator("form[data-sign=signoff]").count() == 0
        olivia = browser.new_context().new_page()
        shots.watch(olivia, "olivia", portal.url)
        _login(olivia, portal, "sub-olivia")
        olivia.goto(portal.url + f"/portal/requests/{rid}")
        sync_api.expect(olivia.locator("[data-independent]")).to_be_visible()
        assert olivia.locator("[data-output-checks]").count() == 0
        assert "output check" not in olivia.locator(".timeline").inner_text()
        shots.check(olivia, "second-output-check")
        portal.client("olivia").decide(rid, "output_check", {"decision": "approve",
                                                             "reasons": []})
        olivia.reload()
        _state(olivia, "output_checked")
        sync_api.expect(olivia.locator(".timeline")).to_contain_text("output check — olga")

        # 6. the president signs exactly the manifest shown
        pia.goto(portal.url + f"/portal/requests/{rid}")
        sync_api.expect(pia.locator("[data-output-checks]")).to_have_text(
            "2 of 2 output checks")
        shown = pia.locator("[data-manifest-sha256]").inner_text()
        shots.check(pia, "president-signoff")
        _in_fr_and_nl(pia, shots, "president-signoff")
        with _tampered(pia, f"**/api/requests/{rid}/signoff/prepare", "manifest_sha256"):
            pia.click("form[data-sign=signoff] button")
            sync_api.expect(pia.locator("form[data-sign=signoff] [role=status]")
                            ).to_contain_text("not signed")
        assert open_log(home, create=False).state(rid).state == "output_checked"
        pia.click("form[data-sign=signoff] button")
        _state(pia, "signed_off")
        log = open_log(home, create=False)
        signoff = log.entries(rid)[-1]
        assert (signoff.type, signoff.actor) == ("signoff", "pia")
        assert signoff.body["manifest_sha256"] == shown

        # 7. witness, build, download, open with the exact command shown
        portal.chain.witness()
        with portal.client("spp") as spp:
            done = spp.wait_job(spp.start_job(rid, "build")["id"])
            assert done["state"] == "done", done
        rosa.reload()
        _state(rosa, "released")
        shots.check(rosa, "researcher-download")
        command = rosa.locator("[data-open-command]").inner_text()
        with rosa.expect_download() as info:
            rosa.click(f"a[href='/api/requests/{rid}/package']")
        package = tmp_path / f"{rid}.primex"
        info.value.save_as(package)
        args = command.split(" ", 1)[1]
        assert args.startswith(f"release open {rid}.primex --key rosa --log-key '")
        log_key = args.split("--log-key '", 1)[1].rstrip("'")
        opened = _cli(portal.researcher_home.root, "release", "open", str(package), "--key",
                      "rosa", "--log-key", log_key, "--out", str(tmp_path / "opened"),
                      PRIMEX_PASSPHRASE_ROSA=PASS)
        assert opened.returncode == 0, opened.stdout + opened.stderr
        assert "verified" in opened.stdout
        # the officer's conditions reached the package: age in 10-year bands, no category
        codebook = json.loads(next((tmp_path / "opened").rglob("datapackage.json")).read_text())
        fields = {f["name"]: f for r in codebook["resources"]
                  for f in r.get("schema", {}).get("fields", [])}
        # (released under the name of the level it holds, requested as `age`)
        assert "category" not in fields and "age" not in fields
        assert fields["age_10y"]["requested_as"] == "age"
        assert fields["age_10y"]["generalised_to"] == "age_10y"
        bands = [c["value"] for c in fields["age_10y"]["categories"]]
        assert bands and all(re.fullmatch(r"\d+-\d+|\*", b) for b in bands), bands
        assert all(int(b.split("-")[1]) - int(b.split("-")[0]) == 9 for b in bands if b != "*")

        # 8. the committee's report; another organisation sees nothing; FR and NL
        committee = browser.new_context().new_page()
        shots.watch(committee, "committee", portal.url)
        _login(committee, portal, "sub-committee")
        committee.goto(portal.url + "/portal/audit")
        sync_api.expect(committee.locator("main")).to_contain_text(rid)
        # the whole log verifies, the browser-signed decisions included
        assert committee.locator("[data-verification]").inner_text().startswith("verified: ")
        shots.check(committee, "committee-audit")
        _in_fr_and_nl(committee, shots, "committee-audit")
        reply = eve.goto(portal.url + f"/portal/requests/{rid}")
        assert reply is not None and reply.status == 404
        assert "Labour-market" not in eve.content()
        shots.errors.clear()  # the expected 404 is logged by the browser
        shots.check(eve, "not-found")
        eve.goto(portal.url + "/portal/")
        assert rid not in eve.content()
        for lang, word in (("fr", "Demandes"), ("nl", "Aanvragen")):
            rosa.goto(portal.url + f"/portal/requests/{rid}")
            rosa.click(f".langs a[lang={lang}]")
            rosa.wait_for_url(portal.url + f"/portal/requests/{rid}")
            sync_api.expect(rosa.locator("nav")).to_contain_text(word)
            shots.check(rosa, f"researcher-request-{lang}", lang=lang)
        # keyboard alone: the skip link is the first stop and moves the focus to main
        rosa.keyboard.press("Tab")
        assert rosa.evaluate("document.activeElement.className") == "skip"
        rosa.keyboard.press("Enter")
        assert rosa.evaluate("document.activeElement.id") == "main"
        browser.close()
    shots.publish()
