"""The read snapshot stays whole when another process appends while it is built (issue 17:
under load, with extraction jobs appending, every `GET /api/requests` failed with a 500
until the next append)."""

from __future__ import annotations

from pathlib import Path

import pytest
from release_chain import make_chain, no_fsync  # noqa: F401  (autouse fixture)

import primex.requests.lifecycle as lifecycle
from primex.audit.log import open_log
from primex.service.readcache import advance


def test_a_request_submitted_while_the_snapshot_is_built_has_its_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    chain = make_chain(tmp_path)
    chain.submit()
    first = chain.request
    view = open_log(chain.home, create=False)
    snap = advance(None, view, chain.home)
    assert snap.order == (first,)

    real_status = lifecycle.status
    appended: list[str] = []

    def status_while_another_process_appends(home, rid, log=None):  # type: ignore[no-untyped-def]
        if not appended:  # the writer (a job, another worker) appends meanwhile
            chain.submit()
            appended.append(chain.request)
        return real_status(home, rid, log=log)

    monkeypatch.setattr(lifecycle, "status", status_while_another_process_appends)
    chain.approve()  # the log grows: the next snapshot re-reads the first request
    view.refresh()  # as the service does, under its view lock
    snap = advance(snap, view, chain.home)
    # every listed request has its row: the list route reads them all
    rows = [snap.row(rid) for rid in snap.order]
    assert [r["request"] for r in rows] == [first, appended[0]]
    monkeypatch.setattr(lifecycle, "status", real_status)
    view.refresh()
    again = advance(snap, view, chain.home)
    assert again.statuses[first]["state"] == "approved"
    assert again.size == chain.log.size
