"""Load benchmark of `primex serve` on loopback (issue 17).

≥ 50 concurrent authenticated clients (each request signed per RFC 9421 with the actor's
Ed25519 key, as the CLI does) run a realistic mix against a real uvicorn process on
127.0.0.1 with the embedded SQLite database, WHILE an extraction job runs in the service:

    status (30 %), list (20 %), comment thread (20 %), add a comment (10 %),
    submit a new request: validate + prepare + sign + commit (researchers, 20 %)

Reported: p50 / p95 / p99 latency of reads and of submissions, and errors (any 5xx, any
refused signature, any unexpected status). Goals: p95 ≤ 100 ms reads, ≤ 300 ms submit,
0 errors. Bounded: a fixed number of operations per client and a time cap; loopback only.

    .venv/bin/python benchmarks/bench_service.py [--quick]

The load driver is asyncio + httpx (already a dependency) rather than locust: the requests
must be signed per call, which locust would need the same code for.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from primex.audit.keys import load_identity, load_signer  # noqa: E402
from primex.audit.log import signed_bytes  # noqa: E402
from primex.home import Home  # noqa: E402
from primex.service import demo_setup  # noqa: E402
from primex.service.app import build_state  # noqa: E402
from primex.service.client import RemoteClient  # noqa: E402
from primex.service.httpsig import sign_request  # noqa: E402
from primex.service.settings import ServiceSettings  # noqa: E402

CLIENTS = 50
READ_GOAL_MS = 100.0
SUBMIT_GOAL_MS = 300.0
TIME_CAP_S = 120.0
EXAMPLE = ROOT / "examples" / "requests" / "young-adults-trajectories.yaml"
RESEARCHERS = {"alice": "HIVA – KU Leuven", "bruno": "ULB – DULBEA"}


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _spec(home: Home, researcher: str, title: str) -> str:
    text = EXAMPLE.read_text(encoding="utf-8")
    key = load_identity(home, researcher).encryption_public_key
    text = re.sub(r"primex-x25519:[A-Za-z0-9+/=]+", str(key), text, count=1)
    text = text.replace("HIVA – KU Leuven", RESEARCHERS[researcher])
    return text.replace("title: Labour-market trajectories of young adults after RI",
                        f"title: {title}")


class Load:
    def __init__(self, base: str, home: Home, signers: dict, seed_id: str) -> None:
        self.base, self.home, self.signers, self.seed = base, home, signers, seed_id
        self.reads: list[float] = []
        self.submits: list[float] = []
        self.errors: list[str] = []
        self.counter = 0

    async def call(self, http: httpx.AsyncClient, name: str, method: str, path: str,
                   payload: object = None) -> httpx.Response:
        body = b"" if payload is None else json.dumps(payload).encode()
        headers = sign_request(method, path, body, name, self.signers[name],
                               time.time()).headers
        return await http.request(method, self.base + path, content=body, headers={
            **headers, "Content-Type": "application/json"})

    async def submit(self, http: httpx.AsyncClient, name: str) -> None:
        self.counter += 1
        text = _spec(self.home, name, f"Load test request {self.counter} of {name}")
        prepared = await self.call(http, name, "POST", "/api/submissions/prepare",
                                   {"yaml": text})
        if prepared.status_code != 200:
            self.errors.append(f"prepare {prepared.status_code}")
            return
        draft = prepared.json()["draft"]
        sig = self.signers[name].sign(signed_bytes(draft))
        import base64

        done = await self.call(http, name, "POST", "/api/submissions/commit", {
            "yaml": text, "draft": draft, "signature": base64.b64encode(sig).decode()})
        if done.status_code == 409:  # the log moved: a real client prepares again
            return await self.submit(http, name)
        if done.status_code != 201:
            self.errors.append(f"commit {done.status_code}")

    async def client(self, index: int, operations: int, deadline: float) -> None:
        rng = random.Random(index)
        name = "officer" if index % 5 == 0 else ("alice" if index % 2 else "bruno")
        seed = self.seed if name != "bruno" else None
        async with httpx.AsyncClient(timeout=30) as http:
            for _ in range(operations):
                if time.monotonic() > deadline:
                    return
                roll = rng.random()
                started = time.perf_counter()
                if roll < 0.2 and name != "officer":
                    await self.submit(http, name)
                    self.submits.append((time.perf_counter() - started) * 1000)
                    continue
                if roll < 0.5 and seed:
                    reply = await self.call(http, name, "GET", f"/api/requests/{seed}")
                elif roll < 0.7:
                    reply = await self.call(http, name, "GET", "/api/requests")
                elif roll < 0.9 and seed:
                    reply = await self.call(http, name, "GET",
                                            f"/api/requests/{seed}/comments")
                elif seed:
                    reply = await self.call(http, name, "POST",
                                            f"/api/requests/{seed}/comments",
                                            {"text": "a question about the variables"})
                else:
                    reply = await self.call(http, name, "GET", "/api/me")
                self.reads.append((time.perf_counter() - started) * 1000)
                if reply.status_code not in (200, 201):
                    self.errors.append(f"{reply.request.url.path} {reply.status_code}")


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run(quick: bool = False, profile: Path | None = None) -> list[dict]:
    operations = 10 if quick else 30
    with tempfile.TemporaryDirectory(prefix="primex-bench-service-") as tmp:
        home = Home.resolve(Path(tmp) / "home")
        prepared = demo_setup.prepare(home, persons=2000 if quick else 20_000)
        db_url = f"sqlite:///{home.spp / 'service.sqlite'}"
        state = build_state(ServiceSettings(home=home.root, database_url=db_url))
        demo_setup.accounts(state)
        state.close()
        signers = {n: load_signer(home, n, prepared.passphrases[n])
                   for n in ("alice", "bruno", "officer", "spp")}
        port = _port()
        env = {**os.environ, "PYTHONPATH": str(ROOT), "PRIMEX_OPERATOR_KEY": "spp",
               "PRIMEX_PASSPHRASE_SPP": prepared.passphrases["spp"]}
        spy = ([str(Path(sys.executable).parent / "py-spy"), "record", "--format", "raw",
                "--threads", "--idle", "-r", "200", "-o", str(profile), "--"]
               if profile else [])
        server = subprocess.Popen(
            [*spy, sys.executable, "-m", "primex.cli", "--home", str(home.root), "serve",
             "--port", str(port)], env=env, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(200):
                try:
                    if httpx.get(base + "/api/health").status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
            alice = RemoteClient(base, signers["alice"])
            seed = alice.submit(_spec(home, "alice", "Seed request"))["request"]
            RemoteClient(base, signers["officer"]).decide(seed, "approval",
                                                          {"conditions": []})
            spp = RemoteClient(base, signers["spp"])
            job = spp.start_job(seed, "extract")
            load = Load(base, home, signers, seed)
            started = time.perf_counter()

            async def main() -> None:
                deadline = time.monotonic() + TIME_CAP_S
                await asyncio.gather(*(load.client(i, operations, deadline)
                                       for i in range(CLIENTS)))

            asyncio.run(main())
            elapsed = time.perf_counter() - started
            job_state = spp.call("GET", f"/api/jobs/{job['id']}")
            final = spp.wait_job(job["id"], timeout=300)
        finally:
            if profile:  # py-spy writes its file on SIGINT
                import signal

                server.send_signal(signal.SIGINT)
            else:
                server.terminate()
            server.wait(timeout=60)
    total = len(load.reads) + len(load.submits)
    overlap = "running" if job_state["state"] in ("queued", "running") else "finished"
    note = (f"{CLIENTS} clients, {total} operations in {elapsed:.1f} s "
            f"({total / elapsed:.0f}/s); extraction job {overlap} at the end of the load, "
            f"then {final['state']}")
    rows = []
    for name, values, goal in (("reads", load.reads, READ_GOAL_MS),
                               ("submit", load.submits, SUBMIT_GOAL_MS)):
        p50, p95, p99 = (_pct(values, q) for q in (0.5, 0.95, 0.99))
        rows.append({"name": f"service {name} p95 ({len(values)} ops; p50 {p50:.0f} ms, "
                     f"p99 {p99:.0f} ms)", "figure": round(p95, 1), "unit": "ms",
                     "goal": f"<= {goal:.0f}", "peer": note, "ratio": None,
                     "passed": p95 <= goal})
    rows.append({"name": "service errors under load", "figure": len(load.errors),
                 "unit": "errors", "goal": "0", "peer": ", ".join(sorted(set(
                     load.errors))[:5]) or "-", "ratio": None, "passed": not load.errors})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer operations, less data")
    parser.add_argument("--profile", type=Path, help="sample the server with py-spy (dev "
                        "dependency) into this file (collapsed stacks)")
    args = parser.parse_args()
    for row in run(quick=args.quick, profile=args.profile):
        print(f"{'PASS' if row['passed'] else 'FAIL'}  {row['name']}: {row['figure']} "
              f"{row['unit']}  (goal {row['goal']}; {row['peer']})")


if __name__ == "__main__":
    main()
