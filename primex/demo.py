"""The demo: the whole ad hoc flow and the basic application, end to end, on synthetic data.

It drives the real `primex` commands (the same code a user runs), in one home folder:

1. a small synthetic PRIMA and BCSS warehouse;
2. a key for every actor — researchers, the privacy officer, the president, the BCSS
   operator, the SPP operator and the committee (whose witness cosigns checkpoints);
   passphrases come from environment variables the demo sets (DEMO ONLY: real keys are
   protected by passphrases nobody writes down in a script);
3. every example request in examples/requests/ through every step: validate, assess,
   submit, approval with a condition, extraction (SPP), coding and linkage (BCSS),
   protection, the officer's output check, the president's sign-off, the witness's
   cosignature, the encrypted release, and the researcher opening and verifying it;
4. one request rejected by the officer, and one release attempt without sign-off refused;
5. the committee's verification and report; 6. the quarterly dashboard.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from primex.audit.keys import load_identity
from primex.audit.log import open_log
from primex.catalogue import load_policy
from primex.errors import PrimexError
from primex.home import Home

MARKER = ".primex-demo"
PASSPHRASES = {  # DEMO ONLY: never put real passphrases in environment files or scripts.
    "committee": "demo-committee-passphrase",
    "officer": "demo-officer-passphrase",
    "president": "demo-president-passphrase",
    "bcss": "demo-bcss-operator-passphrase",
    "spp": "demo-spp-operator-passphrase",
}
KEYSTORE_PASSPHRASE = "demo-bcss-keystore-passphrase"
REPO = Path(__file__).resolve().parents[1]


@dataclass
class Outcome:
    example: str
    request_id: str
    kind: str
    organisation: str
    researcher: str
    package: Path | None = None
    opened: Path | None = None
    notes: list[str] = field(default_factory=list)


def _env_name(name: str) -> str:
    return "PRIMEX_PASSPHRASE_" + re.sub(r"[^A-Za-z0-9]", "_", name).upper()


class Demo:
    def __init__(
        self,
        home: Home,
        examples: Path,
        console: Console,
        run: Callable[[Sequence[str]], int],
        persons: int = 20_000,
        months: int = 24,
    ) -> None:
        self.home = home
        self.examples = examples
        self.out = console
        self._run = run
        self.persons = persons
        self.months = months
        self.outcomes: list[Outcome] = []
        self.net: Any = None  # primex.demo_network.Networked with --networked

    # --- plumbing ---------------------------------------------------------------------
    def step(self, title: str) -> None:
        self.out.rule(f"[bold]{title}")

    def cmd(self, *args: str, expect: int = 0) -> int:
        shown = " ".join(a if " " not in a else repr(a) for a in args)
        self.out.print(f"[dim]$ primex {escape(shown)}[/]", highlight=False)
        code = self._run(["--home", str(self.home.root), *args])
        if code != expect:
            raise PrimexError(
                f"demo step `primex {shown}` exited {code} (expected {expect})",
                where="demo",
                hint="rerun with --debug to see why",
            )
        return code

    def cmd_in(self, root: Path, *args: str) -> int:
        """A command in another party's home (the networked demo)."""
        shown = " ".join(a if " " not in a else repr(a) for a in args)
        self.out.print(f"[dim]$ primex --home {escape(str(root))} {escape(shown)}[/]",
                       highlight=False)
        code = self._run(["--home", str(root), *args])
        if code != 0:
            raise PrimexError(f"demo step `primex {shown}` exited {code}", where="demo")
        return code

    def cosign(self) -> None:
        if self.net is not None:
            self.net.cosign()
        else:
            self.cmd("audit", "witness", "cosign", "--as", "committee")

    def passphrase(self, name: str, value: str) -> None:
        os.environ[_env_name(name)] = value

    # --- the stages -------------------------------------------------------------------
    def prepare(self) -> None:
        root = self.home.root
        if root.exists() and any(root.iterdir()):
            if not (root / MARKER).exists():
                raise PrimexError(
                    "this home folder holds state that the demo did not create",
                    where=str(root),
                    hint="run the demo in a new folder: primex --home DIR demo",
                )
            shutil.rmtree(root)  # the demo starts from scratch on every run
        root.mkdir(parents=True, exist_ok=True)
        (root / MARKER).write_text("created by `primex demo`; safe to delete\n")
        for name, value in PASSPHRASES.items():
            self.passphrase(name, value)
        os.environ["PRIMEX_BCSS_PASSPHRASE"] = KEYSTORE_PASSPHRASE

    def data(self) -> None:
        self.step("1. Synthetic PRIMA (SPP side) and BCSS warehouse")
        self.cmd(
            "synth",
            "generate",
            "--persons",
            str(self.persons),
            "--months",
            str(self.months),
            "--start",
            "2022-01",
            "--seed",
            "2026",
        )

    def keys(self, researchers: list[str]) -> None:
        self.step("2. Keys for every actor (registered in the audit log)")
        self.cmd("keys", "init", "--role", "committee", "--name", "committee")
        for role, name in [
            ("privacy_officer", "officer"),
            ("president", "president"),
            ("bcss_operator", "bcss"),
            ("spp_operator", "spp"),
        ]:
            self.cmd("keys", "init", "--role", role, "--name", name, "--by", "committee")
        for name in researchers:
            self.passphrase(name, f"demo-{name}-passphrase")
            self.cmd("keys", "init", "--role", "researcher", "--name", name, "--by", "committee")
        self.cmd("linkage", "keygen")
        self.cmd("audit", "witness", "init")

    def _spec_for(self, example: Path, researcher: str) -> Path:
        """The example with the researcher's real encryption key in requester.public_key."""
        key = load_identity(self.home, researcher).encryption_public_key
        text = example.read_text(encoding="utf-8")
        text = re.sub(r"primex-x25519:[A-Za-z0-9+/=]+", str(key), text, count=1)
        text = text.replace(
            "$schema=../../request.schema.json", f"$schema={REPO}/request.schema.json"
        )
        target = self.home.root / "submitted-specs" / example.name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        return target

    def submit(self, example: Path, researcher: str) -> str:
        spec = self._spec_for(example, researcher)
        self.cmd("request", "validate", str(spec))
        self.cmd("request", "assess", str(spec))
        before = set(open_log(self.home).requests())
        self.cmd("request", "submit", str(spec), "--as", researcher)
        new = sorted(set(open_log(self.home).requests()) - before)
        if len(new) != 1:
            raise PrimexError("submission did not create exactly one request", where="demo")
        return new[0]

    def through(self, example: Path, researcher: str, *, refuse_unsigned: bool) -> Outcome:
        from primex.requests.spec import RequestSpec  # noqa: F401  (validated by the CLI)
        from primex.requests.store import load_submitted

        rid = self.submit(example, researcher)
        spec, _raw, _sha = load_submitted(self.home, rid)
        conditions = ["--conditions", "results are published in aggregated form only"]
        if spec.output.kind == "microdata":  # the officer tightens k by one
            k = spec.disclosure.k or load_policy().microdata.k
            conditions += ["--conditions", f"k={k + 1}"]
        self.cmd("review", "approve", rid, "--as", "officer", *conditions)
        self.cmd("extract", "request", rid, "--as", "spp")
        work = self.home.spp_work / rid
        if self.net is not None:
            self.net.code(rid)
        else:
            self.out.print("[dim]→ the SPP sends extract.parquet to the BCSS (NISS still in it)[/]")
            self.cmd(
                "linkage",
                "code",
                "--request",
                rid,
                "--in",
                str(work / "extract.parquet"),
                "--as",
                "bcss",
            )
            coded = self.home.bcss_work / rid / "coded.parquet"
            shutil.copy2(coded, work / "coded.parquet")
            self.out.print("[dim]← the BCSS returns coded.parquet (pseudonyms, no NISS)[/]")
        self.cmd("disclosure", "protect", rid, "--as", "spp")
        self.cmd("review", "check-output", rid, "--as", "officer", "--approve")
        outcome = Outcome(
            example.name, rid, spec.output.kind, spec.requester.organisation, researcher
        )
        if refuse_unsigned:
            self.out.print(
                "[bold yellow]Attempt to release before the president's sign-off: the gate "
                "must refuse.[/]"
            )
            self.cmd("release", "build", rid, "--as", "spp", expect=2)
            outcome.notes.append("release without sign-off refused")
        self.cmd("signoff", rid, "--as", "president", "--yes")
        self.cosign()
        self.cmd("release", "build", rid, "--as", "spp")
        package = self.home.releases / f"{rid}.primex"
        opened = self.home.root / "researchers" / researcher / rid
        self.cmd("release", "open", str(package), "--key", researcher, "--out", str(opened))
        outcome.package, outcome.opened = package, opened
        return outcome

    def rejected(self, example: Path, researcher: str) -> Outcome:
        rid = self.submit(example, researcher)
        self.cmd(
            "review",
            "reject",
            rid,
            "--as",
            "officer",
            "--reason",
            "commune × exact age × nationality of ERIS beneficiaries is disproportionate "
            "to the stated purpose; regions and age bands answer the question",
        )
        self.cmd("request", "status", rid)
        return Outcome(example.name, rid, "rejected", "", researcher, notes=["rejected"])

    def committee(self) -> Path:
        self.step("Committee: verify the whole log and read the histories")
        self.cosign()
        if self.net is None:
            self.cmd("audit", "verify")
        else:  # the witness state lives in the committee's home: it replayed every entry
            self.out.print("[dim]the committee's witness just recomputed every entry from "
                           "the tiles; the SPP checks the rest of its log:[/]")
            self.cmd("audit", "verify", "--no-witness")
        report = self.home.root / "audit-report.html"
        self.cmd("audit", "report", "--format", "html", "--output", str(report))
        return report

    def dashboard(self) -> None:
        self.step("Basic application: quarterly protocol and the published dashboard")
        self.cmd("dashboard", "build", "--profile", "public", "--year", "2022")

    def summary(self, report: Path, started: float) -> None:
        table = Table(title="What was released, to whom", show_lines=False)
        for col in ("request", "example", "output", "recipient", "package / outcome"):
            table.add_column(col)
        for o in self.outcomes:
            where = str(o.package.relative_to(self.home.root)) if o.package else "—"
            table.add_row(
                o.request_id,
                o.example,
                o.kind,
                o.organisation or o.researcher,
                where + ("; " + "; ".join(o.notes) if o.notes else ""),
            )
        self.out.print(table)
        root = self.home.root
        self.out.print(
            Panel.fit(
                Text(
                    "\n".join(
                        [
                            f"home folder      {root}",
                            f"dashboard        {self.home.site / 'index.html'}",
                            f"audit report     {report}",
                            f"opened releases  {root / 'researchers'}",
                            "",
                            "look further with:",
                            f"  primex --home {root} request status",
                            f"  primex --home {root} audit verify",
                            f"  primex --home {root} audit report --format md",
                            f"  primex --home {root} audit log",
                            f"  primex --home {root} release verify "
                            f"{root / 'releases'}/<ID>.primex",
                            f"  python -m http.server -d {self.home.site}   # then open the site",
                            "",
                            "passphrases were set by the demo in its own environment: DEMO ONLY",
                            f"done in {time.perf_counter() - started:.0f} s",
                        ]
                    )
                ),
                title="primex demo: done",
            )
        )

    def run(self) -> None:
        started = time.perf_counter()
        examples = sorted(self.examples.glob("*.yaml"))
        if not examples:
            raise PrimexError("no example requests found", where=str(self.examples))
        to_reject = self.examples.parent / "demo" / "rejected-request.yaml"
        researchers = [f"researcher-{i + 1}" for i in range(len(examples) + 1)]
        self.prepare()
        if self.net is not None:
            self.net.prepare()
        self.data()
        self.keys(researchers)
        if self.net is None:
            self._flows(examples, researchers, to_reject, started)
            return
        self.net.split()
        self.net.start()
        try:
            self._flows(examples, researchers, to_reject, started)
        finally:
            self.net.stop()

    def _flows(self, examples: list[Path], researchers: list[str], to_reject: Path,
               started: float) -> None:
        for i, example in enumerate(examples):
            self.step(f"3.{i + 1} Request {example.name}: every step to an encrypted release")
            self.outcomes.append(self.through(example, researchers[i], refuse_unsigned=i == 0))
        if to_reject.exists():
            self.step("4. A request the privacy officer rejects")
            self.outcomes.append(self.rejected(to_reject, researchers[-1]))
        report = self.committee()
        if self.net is None:
            self.dashboard()
        else:  # its outcomes need the warehouse: protocol kind bcss_service (statistician.md)
            self.out.print("[dim]the networked demo skips the dashboard (its outcomes would "
                           "come from the BCSS service: docs/statistician.md)[/]")
        self.summary(report, started)
