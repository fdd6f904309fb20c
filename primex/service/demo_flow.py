"""One request end to end THROUGH `primex serve` on localhost (issue 17, item 7).

    python -m primex.service.demo_flow HOME [--persons N]

Starts the service on a free loopback port over a demo home (primex.service.demo_setup),
then every person acts as they would from their own machine, through the remote CLI
(`--server URL`, each call signed with their key; decisions signed on their side):

    researcher  primex request submit FILE --as alice --server URL
    officer     primex review approve ID --as officer --server URL
    service     extract job (signed by the service's own spp_operator key)
    BCSS        codes the extract (local CLI: its own service is primex bcss serve)
    service     protect job
    officer     primex review check-output ID --approve --as officer --server URL
    president   primex signoff ID --yes --as president --server URL (the manifest shown)
    committee   primex audit witness cosign (local: the committee's witness)
    service     build job (the release gate checks the signed history)
    researcher  downloads the package from the service, opens and verifies it locally

The homes are one folder here (one machine); what crosses the service is only HTTP.
`make demo-service` runs it; `make demo` keeps its own one-home and three-home flows.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

from primex.errors import PrimexError
from primex.home import Home

EXAMPLE = "young-adults-trajectories.yaml"
ORGANISATION = "HIVA – KU Leuven"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(passphrases: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PRIMEX_PASSPHRASE")}
    for name, value in passphrases.items():
        env[f"PRIMEX_PASSPHRASE_{re.sub(r'[^A-Za-z0-9]', '_', name).upper()}"] = value
    env["PRIMEX_BCSS_PASSPHRASE"] = passphrases["bcss"]  # the BCSS keystore (demo only)
    return env


class Flow:
    def __init__(self, home: Home, passphrases: dict[str, str], url: str) -> None:
        self.home, self.url = home, url
        self.env = _env(passphrases)

    def cli(self, *args: str, server: bool = True) -> str:
        """Run `primex` as a person would; returns its output (raises on failure)."""
        full = ["--home", str(self.home.root), *args, *(["--server", self.url] if server
                                                        else [])]
        print("$ primex " + " ".join(a if " " not in a else repr(a) for a in full[2:]),
              flush=True)
        done = subprocess.run([sys.executable, "-m", "primex.cli", *full], env=self.env,
                              capture_output=True, text=True, stdin=subprocess.DEVNULL)
        out = (done.stdout + done.stderr).strip()
        if out:
            print("  " + out.replace("\n", "\n  "), flush=True)
        if done.returncode != 0:
            raise PrimexError(f"demo step `primex {' '.join(args)}` exited {done.returncode}",
                              where="demo_flow")
        return out

    def job(self, client: object, rid: str, step: str) -> None:
        print(f"→ job {step} on the service", flush=True)
        done = client.wait_job(client.start_job(rid, step)["id"])  # type: ignore[attr-defined]
        print(f"  {done['state']}: {done['message']}", flush=True)
        if done["state"] != "done":
            raise PrimexError(f"the {step} job failed: {done['message']}", where="demo_flow")


def _spec(home: Home) -> Path:
    from primex.audit.keys import load_identity

    repo = Path(__file__).resolve().parents[2]
    text = (repo / "examples" / "requests" / EXAMPLE).read_text(encoding="utf-8")
    key = load_identity(home, "alice").encryption_public_key
    text = re.sub(r"primex-x25519:[A-Za-z0-9+/=]+", str(key), text, count=1)
    path = home.root / "alice-request.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def run(root: Path, persons: int) -> Path:
    """The flow above; returns the folder the researcher opened the release into."""
    import httpx

    from primex.audit.keys import load_signer
    from primex.service import demo_setup
    from primex.service.app import build_state
    from primex.service.client import RemoteClient
    from primex.service.settings import ServiceSettings

    home = Home.resolve(root)
    prepared = demo_setup.prepare(home, persons)
    db_url = f"sqlite:///{home.spp / 'service.sqlite'}"
    state = build_state(ServiceSettings(home=home.root, database_url=db_url))
    demo_setup.accounts(state)
    state.close()
    port = _port()
    url = f"http://127.0.0.1:{port}"
    flow = Flow(home, prepared.passphrases, url)
    ready = home.root / ".primex-demo-flow"
    if not ready.exists():  # the BCSS's linkage key and the committee's witness, once
        flow.cli("linkage", "keygen", server=False)
        flow.cli("audit", "witness", "init", server=False)
        ready.write_text("linkage key and witness made\n")
    server = subprocess.Popen(
        [sys.executable, "-m", "primex.cli", "--home", str(home.root), "serve", "--port",
         str(port)], env={**flow.env, "PRIMEX_OPERATOR_KEY": "spp"},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(url + "/api/health").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise PrimexError("the service did not start", where=url)
            time.sleep(0.2)
        print(f"primex serve on {url}", flush=True)
        out = flow.cli("request", "submit", str(_spec(home)), "--as", "alice")
        found = re.search(r"submitted (\S+)", out)
        if found is None:
            raise PrimexError("no request id in the submission's answer", where="demo_flow")
        rid = found.group(1)
        flow.cli("review", "approve", rid, "--as", "officer")
        spp = RemoteClient(url, load_signer(home, "spp", prepared.passphrases["spp"]))
        flow.job(spp, rid, "extract")
        work = home.spp_work / rid
        print("→ the BCSS codes the extract (its own side; NISS replaced by pseudonyms)")
        flow.cli("linkage", "code", "--request", rid, "--in", str(work / "extract.parquet"),
                 "--as", "bcss", server=False)
        (work / "coded.parquet").write_bytes(
            (home.bcss_work / rid / "coded.parquet").read_bytes())
        flow.job(spp, rid, "protect")
        flow.cli("review", "check-output", rid, "--approve", "--as", "officer")
        flow.cli("signoff", rid, "--yes", "--as", "president")
        flow.cli("audit", "witness", "cosign", "--as", "committee", server=False)
        flow.job(spp, rid, "build")
        alice = RemoteClient(url, load_signer(home, "alice", prepared.passphrases["alice"]))
        package = home.root / "alice-downloads" / f"{rid}.primex"
        package.parent.mkdir(exist_ok=True)
        package.write_bytes(alice.download(rid))
        print(f"→ alice downloaded {package.name} ({package.stat().st_size:,} bytes)")
        opened = home.root / "alice-opened" / rid
        flow.cli("release", "open", str(package), "--key", "alice", "--out", str(opened),
                 server=False)
        spp.close()
        alice.close()
        return opened
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("home", type=Path, help="a new (or earlier demo_flow) home folder")
    parser.add_argument("--persons", type=int, default=2000)
    args = parser.parse_args()
    try:
        opened = run(args.home, args.persons)
    except PrimexError as exc:
        print(f"error: {exc.one_line()}", file=sys.stderr)
        raise SystemExit(2) from None
    print(f"done: the release is open in {opened}")


if __name__ == "__main__":
    main()
