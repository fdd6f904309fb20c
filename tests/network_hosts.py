"""Three hosts for the network tests: the SPP, the BCSS and the committee, each in its own
network namespace where the machine allows it (`ip netns` + veth, as root), on loopback
otherwise (said in the test output as a warning, never silently).

The namespaced layout is a small LAN: a fourth namespace holds a bridge; one veth pair per
party joins it, and one more joins the test process (the people: researcher, officer,
president) from the root namespace. No forwarding or sysctl of the machine is touched; the
names carry a random tag so parallel pytest workers do not clash, and everything (processes
of the namespaces, namespaces, veths) is removed on exit, also when the test fails.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from service_fixtures import free_port

from primex.service.bcss_client import tls_context

PARTIES = ("spp", "bcss", "committee")
REPO = Path(__file__).resolve().parents[1]


class LoopbackOnly(UserWarning):
    """The three-host test ran on loopback: network namespaces are not permitted here."""


@dataclass
class Hosts:
    mode: str  # "netns" or "loopback"
    addresses: dict[str, str]  # party -> the address the others reach it at
    namespaces: dict[str, str] = field(default_factory=dict)  # party -> netns name

    def prefix(self, party: str) -> list[str]:
        """The command prefix that runs a program on `party`'s host."""
        ns = self.namespaces.get(party)
        return ["ip", "netns", "exec", ns] if ns else []

    def port(self) -> int:
        # each namespace has its own ports; loopback shares the machine's
        return 8443 if self.mode == "netns" else free_port()

    def url(self, party: str, port: int) -> str:
        return f"https://{self.addresses[party]}:{port}"

    def bind(self, party: str) -> str:
        return self.addresses[party]


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", *args], capture_output=True, text=True, timeout=20,
                          check=check)


def netns_permitted() -> str | None:
    """None when this process may create namespaces and veths; else why not."""
    if shutil.which("ip") is None:
        return "the `ip` command (iproute2) is not installed"
    if os.geteuid() != 0:
        return "the tests do not run as root"
    probe = f"pxp{secrets.token_hex(4)}"
    try:
        done = _ip("netns", "add", probe, check=False)
        if done.returncode != 0:
            return f"`ip netns add` refused: {done.stderr.strip()[:200]}"
        veth = _ip("-n", probe, "link", "add", f"{probe}a", "type", "veth", "peer", "name",
                   f"{probe}b", check=False)
        if veth.returncode != 0:
            return f"veth pairs refused: {veth.stderr.strip()[:200]}"
        bridge = _ip("-n", probe, "link", "add", "br0", "type", "bridge", check=False)
        if bridge.returncode != 0:
            return f"bridges refused: {bridge.stderr.strip()[:200]}"
        inside = _ip("netns", "exec", probe, "true", check=False)  # needs mounts too
        if inside.returncode != 0:
            return f"`ip netns exec` refused: {inside.stderr.strip()[:200]}"
        return None
    finally:
        _ip("netns", "del", probe, check=False)


def _free_subnet() -> ipaddress.IPv4Network:
    used = _ip("-o", "-4", "addr").stdout + _ip("-4", "route").stdout
    for _ in range(50):
        net = ipaddress.IPv4Network(f"10.{secrets.randbelow(50) + 200}."
                                    f"{secrets.randbelow(256)}.0/24")
        if str(net.network_address).rsplit(".", 1)[0] + "." not in used:
            return net
    raise RuntimeError("no free 10.x.y.0/24 for the test network")


def _teardown(tag: str, names: list[str]) -> None:
    for ns in names:  # stop what still runs inside (only our namespaces: unique tag)
        pids = _ip("netns", "pids", ns, check=False).stdout.split()
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, ValueError):
                os.kill(int(pid), signal.SIGKILL)
    for ns in names:
        _ip("netns", "del", ns, check=False)
    for end in "hsbc":  # a pair not yet moved into a namespace (a setup cut short)
        _ip("link", "del", f"px{tag}{end}", check=False)


@contextlib.contextmanager
def three_hosts() -> Iterator[Hosts]:
    why = netns_permitted()
    if why is not None:
        warnings.warn(LoopbackOnly(f"three-host test on loopback only: {why}"), stacklevel=3)
        yield Hosts("loopback", {p: "127.0.0.1" for p in (*PARTIES, "people")})
        return
    tag = secrets.token_hex(3)
    lan = f"pxlan{tag}"
    names = [lan, *(f"px{p}{tag}" for p in PARTIES)]
    net = _free_subnet()
    hosts_ = list(net.hosts())
    addresses = {"people": str(hosts_[0])}
    try:
        for ns in names:
            _ip("netns", "add", ns)
            _ip("-n", ns, "link", "set", "lo", "up")
        _ip("-n", lan, "link", "add", "br0", "type", "bridge")
        _ip("-n", lan, "link", "set", "br0", "up")
        for i, party in enumerate(("people", *PARTIES)):
            inner, outer = f"px{tag}{party[0]}", f"pq{tag}{party[0]}"
            if party == "people":
                inner = f"px{tag}h"
            _ip("link", "add", inner, "type", "veth", "peer", "name", outer)
            _ip("link", "set", outer, "netns", lan)
            _ip("-n", lan, "link", "set", outer, "master", "br0", "up")
            address = f"{hosts_[i]}/{net.prefixlen}"
            if party == "people":
                _ip("addr", "add", address, "dev", inner)
                _ip("link", "set", inner, "up")
            else:
                ns = f"px{party}{tag}"
                _ip("link", "set", inner, "netns", ns)
                _ip("-n", ns, "addr", "add", address, "dev", inner)
                _ip("-n", ns, "link", "set", inner, "up")
                addresses[party] = str(hosts_[i])
        yield Hosts("netns", addresses, {p: f"px{p}{tag}" for p in PARTIES})
    finally:
        _teardown(tag, names)


def child_env(**extra: str) -> dict[str, str]:
    """The environment of a party's process: no PRIMEX_ setting of the test leaks in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PRIMEX_")}
    env["PYTHONPATH"] = str(REPO)
    env.update(extra)
    return env


def cli(hosts: Hosts | None, party: str, args: list[str]) -> list[str]:
    return [*(hosts.prefix(party) if hosts else []), sys.executable, "-m", "primex.cli",
            *args]


def wait_healthy(proc: subprocess.Popen[bytes], health: str, ca: Path | None,
                 cert: tuple[str, str] | None, log: Path, timeout: float = 120) -> None:
    verify: object = tls_context(str(ca), cert) if ca else True
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(health, verify=verify, timeout=2).status_code == 200:  # type: ignore[arg-type]
                return
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{health} did not start: {log.read_text()[-800:]}")
        time.sleep(0.1)


def spawn(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(command, env=env, stdout=out, stderr=out,
                                stdin=subprocess.DEVNULL)


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@contextlib.contextmanager
def service(command: list[str], env: dict[str, str], health: str, log: Path,
            ca: Path | None = None, cert: tuple[str, str] | None = None
            ) -> Iterator[subprocess.Popen[bytes]]:
    proc = spawn(command, env, log)
    try:
        wait_healthy(proc, health, ca, cert, log)
        yield proc
    finally:
        stop(proc)
