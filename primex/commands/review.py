"""`primex review`: see the help text below.

The privacy officer's commands. Each decision is one signed log entry (the log refuses what
the workflow or the separation of duties forbids); `show` reads the stored spec, the risk
pre-assessment and, once protected, the disclosure report.

Approval conditions (`--conditions`, repeatable) are either exactly `NAME=VALUE` for a
disclosure parameter of the request's `disclosure:` block (k, l, max_suppression, min_count,
p_percent, dominance.n, dominance.k) or free text. Free text is never enforced, so a text that
contains `=` is refused (it would read as a parameter that nothing applies): parameters go
one per `--conditions`, notes are written without `=`. The `approval` (and each later
`amendment`, `review amend`) body then carries::

    "conditions": {"disclosure": {<every parameter, effective value>},
                   "tightened": [<names the officer changed>], "notes": [<free text>]}

The effective value of a parameter is the officer's if given, else the researcher's
proposal, else the service minimum (policy.yaml); each is checked never to be looser than
the service minimum nor than the researcher's proposal. Canonical JSON has no floats, so a
non-integer value is written as a decimal string ("0.02").
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from primex.audit.log import AuditLog, open_log
from primex.commands.common import console, home
from primex.commands.keys import prompt_signer
from primex.commands.remote import ServerOption
from primex.errors import IntegrityError, PermissionDenied, PrimexError
from primex.exchange.layout import REPORT_JSON
from primex.home import Home
from primex.release.gate import protected_dir, required_checks
from primex.release.manifest import collect_protected
from primex.release.recipient_views import check_officer_can_approve_recipient, describe_recipient
from primex.requests import describe
from primex.requests.conditions import (
    PARAMETERS,
    check_amendment,
    conditions_for,
    json_number,
    parameters_in_force,
    proposed_parameters,
    service_minimums,
)
from primex.requests.store import load_submitted

app = typer.Typer(
    help=(
        "Privacy officer: list, inspect, approve (with conditions), reject or return "
        "requests, and check protected outputs."
    ),
    no_args_is_help=True,
)

RequestId = Annotated[str, typer.Argument(help="The request id, e.g. REQ-2026-0001.")]
AsKey = Annotated[str, typer.Option("--as", help="Your key name (a privacy_officer key).")]
Reasons = Annotated[
    list[str], typer.Option("--reason", help="Why (repeatable; kept in the log).")
]

AWAITING = {"submitted": "review the request", "protected": "check the protected output"}


def _open(h: Home) -> AuditLog:
    return open_log(h, create=False)


@app.command("list")
def list_command(
    show_all: Annotated[
        bool, typer.Option("--all", help="Every request, not only the pending ones.")
    ] = False,
) -> None:
    """Requests awaiting the officer: new submissions and protected outputs to check."""
    log = _open(home())
    table = Table(title="Requests" if show_all else "Awaiting the privacy officer")
    for col in ("request", "state", "to do", "updated (UTC)"):
        table.add_column(col, no_wrap=True)
    table.add_column("title")
    rows = 0
    for rid in log.requests():
        st = log.state(rid)
        if not show_all and st.state not in AWAITING:
            continue
        rows += 1
        updated = st.history[-1].time[:16].replace("T", " ") if st.history else ""
        table.add_row(rid, st.state or "", AWAITING.get(st.state or "", ""), updated,
                      st.title or "")
    if rows:
        console().print(table)
    else:
        console().print("nothing awaits the privacy officer" if not show_all else "no requests")


def _report(h: Home, request_id: str) -> dict[str, Any] | None:
    path = protected_dir(h, request_id) / REPORT_JSON
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise IntegrityError(
            f"the disclosure report cannot be read ({exc})", where=str(path)
        ) from None
    return data if isinstance(data, dict) else None


def _show_report(report: dict[str, Any]) -> None:
    out = console()
    verdict = "[green]PASSED[/]" if report.get("passed") is True else "[red]NOT PASSED[/]"
    out.print(f"\n[bold]Disclosure report[/] ({report.get('kind', '?')}): {verdict}")
    if report.get("reasons"):
        out.print("reasons: " + "; ".join(map(str, report["reasons"])), highlight=False)
    risk = report.get("risk") if isinstance(report.get("risk"), dict) else {}
    before = report.get("risk_before", risk.get("before"))
    after = report.get("risk_after", risk.get("after"))
    if isinstance(before, dict) and isinstance(after, dict):
        table = Table(title="Risk before and after protection")
        for col in ("measure", "before", "after"):
            table.add_column(col)
        for key in sorted(set(before) & set(after)):
            if not isinstance(before[key], dict | list):
                table.add_row(key, str(before[key]), str(after[key]))
        for key in ("kanon_violations_before", "kanon_violations_after"):
            if key in report:
                table.add_row(key, "", str(report[key]))
        out.print(table)
    suppressions = report.get("suppressions")
    if suppressions:
        table = Table(title="What was suppressed")
        table.add_column("what")
        table.add_column("how many / why")
        items = suppressions.items() if isinstance(suppressions, dict) else enumerate(suppressions)
        for key, value in items:
            table.add_row(str(key), json.dumps(value, ensure_ascii=False, default=str))
        out.print(table)
    if report.get("suppression_reason"):
        out.print(f"why: {report['suppression_reason']}", highlight=False, soft_wrap=True)
    details = report.get("details") if isinstance(report.get("details"), dict) else {}
    for line in details.get("notices") or []:  # a requested variable removed entirely
        out.print(f"[bold]removed:[/] {escape(str(line))}", highlight=False, soft_wrap=True)
    for requested, released in (details.get("released_as") or {}).items():
        out.print(f"released as: {escape(str(requested))} → {escape(str(released))} "
                  "(the level it holds)", highlight=False, soft_wrap=True)
    if report.get("summary") is not None:
        summary = report["summary"]
        out.print(
            "summary: " + (summary if isinstance(summary, str) else json.dumps(summary)),
            highlight=False, soft_wrap=True,
        )


@app.command("show")
def show(
    request_id: RequestId,
    assess: Annotated[
        bool, typer.Option("--assess/--no-assess", help="Run the risk pre-assessment.")
    ] = True,
) -> None:
    """The review view: the request, its risk pre-assessment, and the disclosure report.

    Once the output is protected, the report shows the risk before and after protection,
    what was suppressed and why.
    """
    h = home()
    log = _open(h)
    st = log.state(request_id)
    out = console()
    out.print(f"[bold]{request_id}[/] — {st.title} ({st.state})", highlight=False)
    spec, _raw, sha = load_submitted(h, request_id)
    stated = describe.priorities(spec)
    out.print(
        f"requester: {st.requester} ({spec.requester.organisation}, {spec.requester.contact})\n"
        f"legal basis: {spec.legal_basis}; retention until {spec.retention_until}\n"
        f"purpose: {spec.purpose}\n"
        f"population: {describe.population(spec)}\n"
        f"variables: {', '.join(spec.variables)}\n"
        + (f"linked: {', '.join(spec.linked_columns())}\n" if spec.linkage else "")
        + (f"priorities: {stated}\n" if stated else "")
        + f"output: {describe.output(spec)}; spec sha256 {sha[:16]}…",
        highlight=False, soft_wrap=True,
    )
    out.print(describe_recipient(log, request_id, spec.requester.public_key),
              highlight=False, soft_wrap=True)
    minimums = service_minimums()
    proposed = proposed_parameters(spec.disclosure)
    table = Table(title="Disclosure parameters")
    for col in ("parameter", "proposed", "service limit", "approved"):
        table.add_column(col)
    approved = (st.conditions or {}).get("disclosure", {}) if st.conditions else {}
    for name in PARAMETERS:
        head, _, tail = name.partition(".")
        value = approved.get(head, {}).get(tail) if tail else approved.get(name)
        table.add_row(
            name,
            str(json_number(proposed[name])) if name in proposed else "—",
            str(json_number(minimums[name])),
            "" if value is None else str(value),
        )
    out.print(table)
    if st.conditions and st.conditions.get("notes"):
        out.print("conditions: " + "; ".join(st.conditions["notes"]), highlight=False)
    if assess:
        from primex.requests.assess import assess as run_assessment
        from primex.requests.assess import render

        try:
            render(run_assessment(spec, h), out)
        except PrimexError as exc:
            out.print(f"pre-assessment not available: {exc.one_line()}", highlight=False)
    report = _report(h, request_id)
    if report is not None:
        _show_report(report)


def _decide(request_id: str, as_key: str, event: str, body: dict[str, Any]) -> int:
    h = home()
    log = _open(h)
    entry = log.append(event, request_id, body, prompt_signer(h, as_key))
    return entry.seq


@app.command("approve")
def approve(
    request_id: RequestId,
    as_key: AsKey,
    conditions: Annotated[
        list[str] | None,
        typer.Option(
            "--conditions",
            help="NAME=VALUE to tighten a disclosure parameter of the request's output kind "
            "(microdata: k, l, max_suppression; tables: min_count, p_percent, dominance.n, "
            "dominance.k), VARIABLE=LEVEL, drop=VARIABLE, priority.VARIABLE=..., or free "
            "text. Repeatable.",
        ),
    ] = None,
    recipient: Annotated[
        str | None,
        typer.Option(
            "--recipient",
            help="Approve a recipient key that is not registered to the requester: its full "
            "fingerprint, as `review show` prints it.",
        ),
    ] = None,
    server: ServerOption = None,
) -> None:
    """Approve the submitted request, optionally with conditions."""
    if server:
        from primex.commands import remote

        if recipient:
            raise PrimexError(
                "--recipient cannot be given through the service yet", where="--recipient",
                hint="approve a third-party recipient on the SPP side without --server",
            )
        return remote.decide(server, as_key, request_id, "approval",
                             {"conditions": conditions or []})
    h = home()
    spec, _raw, sha = load_submitted(h, request_id)
    body: dict[str, Any] = {
        "spec_sha256": sha,
        "conditions": conditions_for(conditions or [], spec),
    }
    approved = check_officer_can_approve_recipient(
        _open(h), request_id, spec.requester.public_key, recipient
    )
    if approved is not None:  # issue 14 #11: a third-party recipient, approved by name
        body["recipient"] = approved
    seq = _decide(request_id, as_key, "approval", body)
    console().print(f"[green]approved[/] {request_id} at log entry {seq}", highlight=False)
    _print_conditions(body["conditions"])


def _print_conditions(conditions: dict[str, Any]) -> None:
    """Say what is enforced and what is only text: nothing becomes a condition silently."""
    out = console()
    enforced = [f"{name}={value}" + (" (yours)" if tightened else "")
                for name, value, tightened in parameters_in_force(conditions)]
    enforced += [f"{var}={level} (yours)"
                 for var, level in (conditions.get("generalise") or {}).items()]
    enforced += [f"drop={var} (yours)" for var in conditions.get("drop") or []]
    enforced += [f"priority.{var}={p} (yours)"
                 for var, p in (conditions.get("priorities") or {}).items()]
    checks = conditions.get("output_checks", 1)
    if checks > 1:
        enforced.append(f"output checks by {checks} different officers (policy: four eyes)")
    out.print("enforced: " + ", ".join(enforced), highlight=False, soft_wrap=True)
    for note in conditions.get("notes") or []:
        out.print(f"note (not enforced by the software): {escape(note)}", highlight=False,
                  soft_wrap=True)


@app.command("amend")
def amend(
    request_id: RequestId,
    as_key: AsKey,
    reason: Reasons,
    conditions: Annotated[
        list[str] | None,
        typer.Option(
            "--conditions",
            help="The new full set of conditions, as for `approve` (NAME=VALUE or free "
            "text). Repeatable.",
        ),
    ] = None,
) -> None:
    """Record a new version of the approval's conditions (steps after it apply the latest).

    The new set is complete (conditions not repeated are dropped) and may only tighten the
    conditions in force: a looser value is refused."""
    h = home()
    log = _open(h)
    st = log.state(request_id)
    spec, _raw, _sha = load_submitted(h, request_id)
    new = conditions_for(conditions or [], spec)
    check_amendment(st.conditions, new)
    body = {"conditions": new, "reason": "; ".join(_reasons(reason))}
    seq = _decide(request_id, as_key, "amendment", body)
    console().print(f"[green]amended[/] the conditions of {request_id} at log entry {seq}",
                    highlight=False)
    dropped = [n for n in (st.conditions or {}).get("notes") or [] if n not in new["notes"]]
    for note in dropped:
        console().print(f"note dropped: {escape(note)}", highlight=False, soft_wrap=True)
    _print_conditions(new)


@app.command("reject")
def reject(request_id: RequestId, as_key: AsKey, reason: Reasons,
           server: ServerOption = None) -> None:
    """Reject the submitted request (final)."""
    if server:
        from primex.commands import remote

        return remote.decide(server, as_key, request_id, "rejection",
                             {"reasons": _reasons(reason)})
    seq = _decide(request_id, as_key, "rejection", {"reasons": _reasons(reason)})
    console().print(f"[red]rejected[/] {request_id} at log entry {seq}", highlight=False)


@app.command("return")
def return_command(request_id: RequestId, as_key: AsKey, reason: Reasons,
                   server: ServerOption = None) -> None:
    """Return the request to the researcher for changes (they may submit it again)."""
    if server:
        from primex.commands import remote

        return remote.decide(server, as_key, request_id, "return",
                             {"reasons": _reasons(reason)})
    seq = _decide(request_id, as_key, "return", {"reasons": _reasons(reason)})
    console().print(f"returned {request_id} for changes at log entry {seq}", highlight=False)


def _reasons(items: list[str]) -> list[str]:
    reasons = [r.strip() for r in items if r.strip()]
    if not reasons:
        raise PrimexError("give at least one reason", where="--reason",
                          hint='e.g. --reason "the purpose does not justify wage_class"')
    return reasons


@app.command("output-check")
def check_output(
    request_id: RequestId,
    as_key: AsKey,
    approve_it: Annotated[
        bool, typer.Option("--approve", help="The protected output may go to the president.")
    ] = False,
    return_it: Annotated[
        bool, typer.Option("--return", help="Send the output back for more protection.")
    ] = False,
    reason: Annotated[
        list[str] | None, typer.Option("--reason", help="Why (repeatable).")
    ] = None,
    server: ServerOption = None,
) -> None:
    """Record the check of the protected output (exactly one of --approve / --return).

    With four eyes (policy.yaml `output_check.checkers: 2`) two DIFFERENT privacy officers
    approve the output before the president may sign it off; the same officer checking twice
    is refused."""
    if approve_it == return_it:
        raise PrimexError("give exactly one of --approve or --return", where="output-check")
    if server:
        from primex.commands import remote

        return remote.decide(server, as_key, request_id, "output_check", {
            "decision": "approve" if approve_it else "return", "reasons": reason or []})
    h = home()
    log = _open(h)
    st = log.state(request_id)
    if st.state not in ("protected", "output_checked") or st.manifest_sha256 is None:
        raise PermissionDenied(
            f"the request is {st.state}; only a protected output (passed disclosure result) "
            "can be checked", where=f"request {request_id}",
        )
    manifest = collect_protected(protected_dir(h, request_id).parent)
    if manifest.sha256 != st.manifest_sha256:
        raise IntegrityError(
            "the protected files differ from those the disclosure result passed",
            where=str(protected_dir(h, request_id)),
            hint="protect the output again; never edit protected files by hand",
        )
    if approve_it:
        _protected_under_the_conditions_in_force(log, request_id)
        if st.state == "output_checked" and len(st.output_checkers) >= required_checks(
                st.conditions):
            raise PermissionDenied(
                f"the output already has its {len(st.output_checkers)} output check(s)",
                where=f"request {request_id}", hint="the president signs it off next")
    body: dict[str, Any] = {
        "manifest_sha256": manifest.sha256,
        "decision": "approve" if approve_it else "return",
    }
    if reason:
        body["reasons"] = [r for r in reason if r.strip()]
    entry = log.append("output_check", request_id, body, prompt_signer(h, as_key))
    after = log.state(request_id)
    progress = ""
    if approve_it:
        needed = required_checks(after.conditions)
        # "1 of 1 output checks" says nothing a person needs: the count only with four eyes
        progress = " (output checked)" if needed == 1 else (
            f" ({len(after.output_checkers)} of {needed} output checks" + (
                "; another privacy officer must check it too)"
                if len(after.output_checkers) < needed else ")"))
    console().print(
        f"output of {request_id} {'approved' if approve_it else 'returned'} at log entry "
        f"{entry.seq}{progress}",
        highlight=False,
    )


# the command's name before four eyes (kept for scripts)
app.command("check-output", hidden=True)(check_output)



def _protected_under_the_conditions_in_force(log: AuditLog, request_id: str) -> None:
    """An output protected before the latest amendment was made under conditions no longer
    in force: it cannot be approved (return it, or protect it again)."""
    latest: dict[str, int] = {}
    for entry in log.entries(request_id):
        latest[entry.type] = entry.seq
    if latest.get("amendment", -1) > latest.get("disclosure_result", -1):
        raise PermissionDenied(
            "the conditions were amended after this output was protected", where=request_id,
            hint="protect it again (`primex disclosure protect`), or --return it")


@app.command("close")
def close(request_id: RequestId, as_key: AsKey, reason: Reasons) -> None:
    """Close a request (e.g. withdrawn, or its retention date reached): final.

    Destroys the request's work files on the SPP and the BCSS side (extract, coded and
    protected files) and records what was destroyed (names and SHA-256) in the closure.
    """
    from primex.requests.closure import close_request, finish_destruction, leftovers

    reasons = _reasons(reason)
    h = home()
    log = _open(h)
    st = log.state(request_id)
    signer = prompt_signer(h, as_key)
    if st.state == "closed" and leftovers(h, request_id):
        files = finish_destruction(h, log, request_id, signer)
        console().print(f"{request_id} was already closed; destroyed {len(files)} work "
                        "file(s) its closure left behind", highlight=False)
        return
    entry, files = close_request(h, log, request_id, reasons, signer)
    console().print(f"closed {request_id} at log entry {entry.seq}; {_destroyed(files)}",
                    highlight=False, soft_wrap=True)


def _destroyed(files: list[Any]) -> str:
    if not files:
        return "no work files to destroy"
    sides = {side: sum(f.side == side for f in files) for side in ("spp", "bcss")}
    return (f"destroyed {len(files)} work file(s) (SPP {sides['spp']}, BCSS {sides['bcss']}), "
            "listed with their SHA-256 in the log")


@app.command("expire")
def expire(
    as_key: Annotated[str | None, typer.Option(
        "--as", help="Your key name (a privacy_officer key); needed with --yes.")] = None,
    today: Annotated[
        str | None,
        typer.Option("--today", help="Date to compare retention dates with (YYYY-MM-DD)."),
    ] = None,
    yes: Annotated[bool, typer.Option(
        "--yes", help="Close them (and destroy their work files); without it, only show "
                      "what would be closed.")] = False,
) -> None:
    """Show (or, with --yes, close) every request whose retention date has passed.

    Closing destroys the request's work files on both sides, as `review close` does.
    """
    from primex.requests.closure import close_request, count, finish_destruction, leftovers

    h = home()
    log = _open(h)
    try:
        day = dt.date.fromisoformat(today) if today else dt.datetime.now(dt.UTC).date()
    except ValueError:
        raise PrimexError(f"not a date: {today!r}", where="--today", hint="YYYY-MM-DD") from None
    if yes and as_key is None:
        raise PrimexError("closing needs your key", where="--as",
                          hint="review expire --yes --as NAME")
    due: list[tuple[str, dt.date]] = []
    unfinished: list[str] = []
    for request_id in log.requests():
        st = log.state(request_id)
        if st.state == "closed" and leftovers(h, request_id):
            unfinished.append(request_id)
        if st.state in ("rejected", "closed"):
            continue
        spec, _raw, _sha = load_submitted(h, request_id)
        if spec.retention_until < day:
            due.append((request_id, spec.retention_until))
    out = console()
    if not yes:
        for request_id, until in due:
            n = count(h, request_id)
            out.print(f"would close {request_id}: retention date {until} passed; "
                      f"{n} work file(s) to destroy", highlight=False)
        for request_id in unfinished:
            out.print(f"would finish destroying the work files of closed {request_id}",
                      highlight=False)
        out.print(f"{len(due)} request(s) would be closed at their retention date; nothing "
                  "was changed (add --yes --as NAME to close them)", highlight=False)
        return
    assert as_key is not None
    signer = prompt_signer(h, as_key)
    for request_id in unfinished:
        files = finish_destruction(h, log, request_id, signer)
        out.print(f"destroyed {len(files)} work file(s) left by the closure of {request_id}",
                  highlight=False)
    for request_id, until in due:
        entry, files = close_request(
            h, log, request_id, [f"retention date {until.isoformat()} reached"], signer)
        out.print(f"closed {request_id} at log entry {entry.seq}: retention date {until} "
                  f"passed; {_destroyed(files)}", highlight=False, soft_wrap=True)
    out.print(f"{len(due)} request(s) closed at their retention date", highlight=False)
