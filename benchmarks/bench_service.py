"""Load benchmark of `primex serve` on loopback (issue 17).

≥ 50 concurrent authenticated clients (each request signed per RFC 9421 with the actor's
Ed25519 key, as the CLI does) run a realistic mix against a real uvicorn process on
127.0.0.1 with the embedded SQLite database, WHILE extraction jobs run in the service, one
after another for the whole duration of the load (the share of the time covered is reported):

    status (30 %), list (20 %), comment thread (20 %), add a comment (10 %),
    submit a new request: validate + prepare + sign + commit (researchers, 20 %)

Reported: p50 / p95 / p99 latency per operation (status, list, comments, comment, submit),
errors (any 5xx, any refused signature, any unexpected status), the service's CPU time per
operation (its processes' user+system time, from /proc) and the machine's load average.
Goals: p95 ≤ 100 ms reads, ≤ 300 ms submit, 0 errors. Bounded: a fixed number of
operations per client and a time cap; loopback only.

Each client is a person or a script, not a flood: it waits a random think time (uniform
0.5x to 1.5x `--think`, default 1 s) between two operations. With `--think 0` the 50
clients are a closed loop at saturation: latency is then 50 / throughput (Little's law)
whatever the service does, which measures throughput, not responsiveness.

    .venv/bin/python benchmarks/bench_service.py [--quick] [--think S] [--workers N]
        [--repeats R] [--profile FILE]

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
import threading
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
OPERATIONS = ("status", "list", "comments", "comment", "me", "submit")
READS = ("status", "list", "comments", "comment", "me")


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
    def __init__(self, base: str, home: Home, signers: dict, seed_id: str,
                 think: float) -> None:
        self.base, self.home, self.signers, self.seed = base, home, signers, seed_id
        self.think = think
        self.ops: dict[str, list[float]] = {k: [] for k in OPERATIONS}
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
                if self.think:
                    await asyncio.sleep(rng.uniform(0.5, 1.5) * self.think)
                if time.monotonic() > deadline:
                    return
                roll = rng.random()
                started = time.perf_counter()
                if roll < 0.2 and name != "officer":
                    await self.submit(http, name)
                    self.ops["submit"].append((time.perf_counter() - started) * 1000)
                    continue
                if roll < 0.5 and seed:
                    op, reply = "status", await self.call(http, name, "GET",
                                                          f"/api/requests/{seed}")
                elif roll < 0.7:
                    op, reply = "list", await self.call(http, name, "GET", "/api/requests")
                elif roll < 0.9 and seed:
                    op, reply = "comments", await self.call(
                        http, name, "GET", f"/api/requests/{seed}/comments")
                elif seed:
                    op, reply = "comment", await self.call(
                        http, name, "POST", f"/api/requests/{seed}/comments",
                        {"text": "a question about the variables"})
                else:
                    op, reply = "me", await self.call(http, name, "GET", "/api/me")
                self.ops[op].append((time.perf_counter() - started) * 1000)
                if reply.status_code not in (200, 201):
                    self.errors.append(f"{reply.request.url.path} {reply.status_code}")


def _cpu_seconds(pid: int) -> tuple[float, float]:
    """User + system CPU seconds of `pid` and all its descendants (Linux /proc): (the
    service's processes, the job processes: those running at a lower priority)."""
    tick = os.sysconf("SC_CLK_TCK")
    service, jobs, todo = 0.0, 0.0, [pid]
    while todo:
        p = todo.pop()
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            used = (int(fields[11]) + int(fields[12])) / tick
            children = Path(f"/proc/{p}/task/{p}/children").read_text().split()
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        if int(fields[16]) > 0:  # nice: a job process (primex.service.jobs)
            jobs += used
        else:
            service += used
        todo += [int(c) for c in children]
    return service, jobs


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run(quick: bool = False, *, repeats: int | None = None, think: float = 1.0,
        workers: int = 1, profile: Path | None = None) -> list[dict]:
    """The rows for benchmarks/RESULTS.md (run_all.py): median of `repeats` runs."""
    runs = [run_once(quick, profile, think, workers)
            for _ in range(repeats or (1 if quick else 3))]
    return summarise(runs, think, workers)


def run_once(quick: bool = False, profile: Path | None = None, think: float = 1.0,
             workers: int = 1) -> dict:
    """One run: per-operation latencies, errors, CPU time and load averages."""
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
             "--port", str(port), *(["--workers", str(workers)] if workers > 1 else [])],
            env=env, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        try:
            ready_by = time.monotonic() + 180  # workers start slowly on a loaded machine
            while time.monotonic() < ready_by and server.poll() is None:
                try:
                    if httpx.get(base + "/api/health").status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.2)
            alice = RemoteClient(base, signers["alice"])
            officer = RemoteClient(base, signers["officer"])

            def approved_request(title: str) -> str:
                rid = alice.submit(_spec(home, "alice", title))["request"]
                officer.decide(rid, "approval", {"conditions": []})
                return str(rid)

            seed = approved_request("Seed request")
            load = Load(base, home, signers, seed, think)
            load_before = os.getloadavg()[0]
            cpu_before = _cpu_seconds(server.pid)
            stop = threading.Event()
            extractions: list[tuple[float, float, str]] = []  # (start, end, final state)
            running: list[float] = []  # start of the job in progress, if any

            def keep_extracting() -> None:
                # Extraction jobs run during the WHOLE load: as soon as one ends, another
                # approved request is extracted (one extraction per approval).
                runner = RemoteClient(base, signers["spp"])
                rid = seed
                while not stop.is_set():
                    t0 = time.perf_counter()
                    running[:] = [t0]
                    job = runner.start_job(rid, "extract")
                    final = runner.wait_job(job["id"], timeout=600)
                    extractions.append((t0, time.perf_counter(), final["state"]))
                    running.clear()
                    rid = approved_request(f"Extraction {len(extractions)}")

            extractor = threading.Thread(target=keep_extracting, daemon=True)
            extractor.start()
            time.sleep(0.5)  # the first job is running before the first client starts
            started = time.perf_counter()

            async def main() -> None:
                deadline = time.monotonic() + TIME_CAP_S
                await asyncio.gather(*(load.client(i, operations, deadline)
                                       for i in range(CLIENTS)))

            asyncio.run(main())
            elapsed = time.perf_counter() - started
            ended = started + elapsed
            cpu_after = _cpu_seconds(server.pid)
            cpu, job_cpu = (a - b for a, b in zip(cpu_after, cpu_before, strict=True))
            load_after = os.getloadavg()[0]
            stop.set()
            in_progress = list(running)  # a job still running covers the rest of the load
            covered = sum(max(0.0, min(b, ended) - max(a, started))
                          for a, b, _ in extractions)
            covered += sum(max(0.0, ended - max(a, started)) for a in in_progress)
            extractor.join(timeout=600)
            failed = [state for _, _, state in extractions if state != "done"]
        finally:
            if profile:  # py-spy writes its file on SIGINT
                import signal

                server.send_signal(signal.SIGINT)
            else:
                server.terminate()
            server.wait(timeout=60)
    total = sum(len(v) for v in load.ops.values())
    return {
        "ops": load.ops, "errors": load.errors, "elapsed": elapsed, "total": total,
        "cpu_ms_per_op": 1000 * cpu / max(total, 1), "job_cpu_s": job_cpu,
        "load": (load_before, load_after),
        "job": (f"{len(extractions)} extraction job(s) one after another, running during "
                f"{100 * min(covered, elapsed) / max(elapsed, 1e-9):.0f} % of the load"
                + (f"; NOT done: {failed}" if failed else "")),
    }


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[len(ordered) // 2] if ordered else float("nan")


def summarise(runs: list[dict], think: float, workers: int) -> list[dict]:
    """Rows for benchmarks/RESULTS.md: per operation the median over runs of p50/p95/p99."""
    rows = []
    loads = ", ".join(f"{a:.1f}→{b:.1f}" for a, b in (r["load"] for r in runs))
    note = (f"{CLIENTS} clients, think {think:g} s, {workers} worker(s), median of "
            f"{len(runs)} run(s); load average {loads}; extraction job "
            f"{runs[-1]['job']}")
    groups = {op: [op] for op in OPERATIONS} | {"reads (all)": list(READS)}
    for name, ops in groups.items():
        per_run = [[v for op in ops for v in r["ops"][op]] for r in runs]
        if not any(per_run):
            continue
        p50, p95, p99 = (_median([_pct(v, q) for v in per_run if v])
                         for q in (0.5, 0.95, 0.99))
        goal = SUBMIT_GOAL_MS if name == "submit" else READ_GOAL_MS
        count = sum(len(v) for v in per_run)
        rows.append({"name": f"service {name} p95 ({count} ops; p50 {p50:.0f} ms, "
                     f"p99 {p99:.0f} ms)", "figure": round(p95, 1), "unit": "ms",
                     "goal": f"<= {goal:.0f}", "peer": note, "ratio": None,
                     "passed": p95 <= goal})
    errors = [e for r in runs for e in r["errors"]]
    rows.append({"name": "service errors under load", "figure": len(errors),
                 "unit": "errors", "goal": "0", "peer": ", ".join(sorted(set(errors))[:5])
                 or "-", "ratio": None, "passed": not errors})
    cpu = _median([r["cpu_ms_per_op"] for r in runs])
    rate = _median([r["total"] / r["elapsed"] for r in runs])
    jobs = _median([r["job_cpu_s"] for r in runs])
    rows.append({"name": f"service CPU time per operation ({rate:.0f} ops/s; job processes "
                 f"still running at the end had used {jobs:.1f} s of CPU)",
                 "figure": round(cpu, 1), "unit": "ms", "goal": "-", "peer": note,
                 "ratio": None, "passed": True})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer operations, less data")
    parser.add_argument("--profile", type=Path, help="sample the server with py-spy (dev "
                        "dependency) into this file (collapsed stacks)")
    parser.add_argument("--think", type=float, default=1.0,
                        help="mean seconds between two operations of one client (0: flood)")
    parser.add_argument("--workers", type=int, default=1, help="service worker processes")
    parser.add_argument("--repeats", type=int, default=None,
                        help="runs, the median is kept (default 3, --quick 1)")
    args = parser.parse_args()
    for row in run(args.quick, repeats=args.repeats, think=args.think, workers=args.workers,
                   profile=args.profile):
        print(f"{'PASS' if row['passed'] else 'FAIL'}  {row['name']}: {row['figure']} "
              f"{row['unit']}  (goal {row['goal']}; {row['peer']})")


if __name__ == "__main__":
    main()
