"""Release package throughput: the primex-release/v1 envelope against one-shot AES-256-GCM
(the primitive's ceiling, measured in the same run), and a whole `build_release` + `open`
of one data file through the gate.

Issue 7 sets no speed goal for releases; the goals below are ours: the chunked envelope
should cost at most 2x the one-shot primitive (ratio >= 0.5), and packaging should not be
what makes a release slow (>= 50 MB/s end to end, i.e. a 1 GB extract in 20 s).

    .venv/bin/python benchmarks/bench_release.py [--quick]
"""

from __future__ import annotations

import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from unittest import mock

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from primex.exchange import envelope


def _median(fn, repeat: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _envelope_rows(size: int, repeat: int) -> list[dict]:
    data = os.urandom(size)
    private = X25519PrivateKey.generate()
    public = envelope.format_public_key(private.public_key())
    sealed = io.BytesIO()
    envelope.seal(io.BytesIO(data), sealed, public)
    blob = sealed.getvalue()

    def seal() -> None:
        envelope.seal(io.BytesIO(data), io.BytesIO(), public)

    def open_() -> None:
        envelope.open_sealed(io.BytesIO(blob), io.BytesIO(), private)

    key = AESGCM(AESGCM.generate_key(256))
    nonce = os.urandom(12)
    one_shot = key.encrypt(nonce, data, b"")
    t_peer_enc = _median(lambda: key.encrypt(nonce, data, b""), repeat)
    t_peer_dec = _median(lambda: key.decrypt(nonce, one_shot, b""), repeat)
    mb = size / 1e6
    rows = []
    for name, t, peer in (("seal", _median(seal, repeat), t_peer_enc),
                          ("open", _median(open_, repeat), t_peer_dec)):
        ratio = peer / t  # our speed / the one-shot primitive's speed
        rows.append({
            "name": f"release envelope {name} ({mb:.0f} MB)",
            "figure": round(mb / t, 1),
            "unit": "MB/s",
            "goal": "at most 2x the cost of one-shot AES-256-GCM (ratio >= 0.5)",
            "peer": f"cryptography AESGCM one-shot, same run: {mb / peer:.0f} MB/s",
            "ratio": round(ratio, 2),
            "passed": ratio >= 0.5,
        })
    return rows


def _end_to_end_once(size: int) -> tuple[float, float, float]:
    from release_chain import PASS, make_chain

    from primex.audit.keys import load_encryption_private_key
    from primex.catalogue import load_catalogue
    from primex.release.package import build_release
    from primex.researcher.open import open_package

    with tempfile.TemporaryDirectory() as tmp, mock.patch("os.fsync", lambda fd: None):
        chain = make_chain(Path(tmp))
        # a compressible CSV next to a Parquet file of random numbers (incompressible)
        sink = io.BytesIO()
        numbers = np.random.default_rng(1).integers(0, 2**62, size // 16)
        pq.write_table(pa.table({"amount": numbers}), sink, compression="none")
        files = {
            "big.csv": b"region,count\n" + b"03000,12\n" * (size // 18),
            "big.parquet": sink.getvalue(),
        }
        chain.submit()
        chain.approve()
        chain.extract()
        chain.protect(files)
        chain.check_output()
        chain.signoff()
        chain.witness()
        total = sum(len(v) for v in files.values()) / 1e6
        load_catalogue()  # a fixed ~0.4 s per process, not a per-megabyte cost
        start = time.perf_counter()
        released = build_release(chain.home, chain.request, chain.signers["spp"])
        t_build = time.perf_counter() - start
        key = load_encryption_private_key(chain.home, "alice", PASS)
        start = time.perf_counter()
        open_package(released.path, key, Path(tmp) / "out")
        t_open = time.perf_counter() - start
    return total, t_build, t_open


def _end_to_end_row(size: int, repeat: int) -> dict:
    runs = [_end_to_end_once(size) for _ in range(repeat)]
    total = runs[0][0]
    t_build = statistics.median(r[1] for r in runs)
    t_open = statistics.median(r[2] for r in runs)
    rate = statistics.median(r[0] / (r[1] + r[2]) for r in runs)
    return {
        "name": f"release build + open ({total:.0f} MB of data, median of {repeat})",
        "figure": round(rate, 1),
        "unit": "MB/s",
        "goal": ">= 50 MB/s end to end (our target: a 1 GB extract in 20 s)",
        "peer": f"build {t_build:.2f} s, open {t_open:.2f} s, catalogue preloaded "
        "(no peer tool packages releases)",
        "ratio": None,
        "passed": rate >= 50,
    }


def run(quick: bool = False) -> list[dict]:
    size = (16 if quick else 128) << 20
    rows = _envelope_rows(size, 3 if quick else 5)
    rows.append(_end_to_end_row((8 if quick else 64) << 20, 1 if quick else 3))
    return rows


if __name__ == "__main__":
    for row in run(quick="--quick" in sys.argv):
        print(f"{row['name']}: {row['figure']} {row['unit']}  goal: {row['goal']}  "
              f"peer: {row['peer']}  ratio: {row['ratio']}  "
              f"{'PASS' if row['passed'] else 'FAIL'}")
