"""Upload throughput: 100 documents of 100 KB through the service (real HTTP, uvicorn) against
direct adds to the same IPFS node, in the same run; then 5 MB documents added to the node,
uploaded plain through the service, and encrypted to a deal's five readers and uploaded as the
oracle CLI does it (ciphertext, manifest, readers), rotating. Both sizes also go through the
bare hop (scripts/bare_hop.py: a Python process that only passes the file on to the node), the
floor of any service between the client and the node on the machine it runs on. Writes
bench/uploads.json.

    brownie run scripts/bench_uploads.py     (part of `make bench`)
"""

from __future__ import annotations

import hashlib
import json
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
from brownie import accounts, chain

from backend import auth
from backend.confidential import client
from backend.evidence.ipfs_node import IpfsNodeStore
from backend.settings import Settings
from scripts.brownie_types import LocalKey
from scripts.deals import register_operator
from scripts.deploy import deploy
from scripts.ipfs_node import ipfs_node
from scripts.local_chain import rpc_url
from scripts.service_process import LiveService

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "uploads.json"
COUNT, SIZE = 100, 100_000
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "1"))
# Documents per turn: one at a time (in an order that rotates every turn), or as many as run at
# once. Turns of 10 let the node's slow patches (its garbage collector) fall on one side
# unevenly: the same build measured 65-74% in four runs, and the bare hop 67-107%.
ROUND = CONCURRENCY


def documents() -> list[bytes]:
    # Distinct plain-text documents (so every add is new content).
    return [
        (f"report {i}\n".encode() + os.urandom(SIZE // 2).hex().encode())[:SIZE]
        for i in range(COUNT)
    ]


def race(
    store: IpfsNodeStore, url: str, bare_url: str, key: LocalKey, escrow: str
) -> tuple[float, float, float, dict]:
    """Adds per second straight to the node, uploads per second through the service, and
    through the bare hop (scripts/bare_hop.py). The three take turns, ROUND documents each,
    their order rotating, so a slow patch of the machine (2 cores shared with the node) falls
    on all of them rather than on whichever ran last."""
    direct_docs, service_docs, bare_docs = documents(), documents(), documents()
    direct_ms: list[float] = []
    breakdown: list[dict[str, float]] = []  # per upload: the service's Server-Timing laps
    with (
        httpx.Client(base_url=url, timeout=60) as client,
        httpx.Client(base_url=bare_url, timeout=60) as bare,
    ):
        # Signing is the client's work, done before the clock starts.
        headers = [
            auth.upload_headers(
                key.private_key,
                hashlib.sha256(doc).hexdigest(),
                None,
                chain.id,
                escrow,
                expires_in=600,
            )
            for doc in service_docs
        ]
        # Warm-up outside the clock: first connections, the service's first chain lookups.
        store.add([b"warm-up " + os.urandom(8).hex().encode()])
        warm = b"warm-up " + os.urandom(8).hex().encode()
        client.post(
            "/evidence",
            headers=auth.upload_headers(
                key.private_key, hashlib.sha256(warm).hexdigest(), None, chain.id, escrow
            ),
            files={"file": ("w.txt", warm)},
        ).raise_for_status()
        bare.post("/evidence", files={"file": ("w.txt", warm)}).raise_for_status()

        def upload(item: tuple[bytes, dict[str, str]]) -> None:
            doc, signed = item
            started = time.perf_counter()
            r = client.post("/evidence", headers=signed, files={"file": ("d.txt", doc)})
            assert r.status_code == 201, r.text
            laps = dict(
                (name, float(dur.removeprefix("dur=")))
                for name, dur in (
                    p.strip().split(";") for p in r.headers["server-timing"].split(",")
                )
            )
            laps["round_trip"] = (time.perf_counter() - started) * 1000
            breakdown.append(laps)

        def add(doc: bytes) -> None:
            started = time.perf_counter()
            store.add([doc])
            direct_ms.append((time.perf_counter() - started) * 1000)

        def hop(doc: bytes) -> None:
            r = bare.post("/evidence", files={"file": ("d.txt", doc)})
            assert r.status_code == 201, r.text

        spent = {"direct": 0.0, "service": 0.0, "bare": 0.0}
        with ThreadPoolExecutor(CONCURRENCY) as pool:
            signed = list(zip(service_docs, headers, strict=True))
            for turn, i in enumerate(range(0, COUNT, ROUND)):
                sides: list[tuple[str, Callable[[Any], None], list]] = [
                    ("direct", add, direct_docs[i : i + ROUND]),
                    ("service", upload, signed[i : i + ROUND]),
                    ("bare", hop, bare_docs[i : i + ROUND]),
                ]
                for name, side, items in sides[turn % 3 :] + sides[: turn % 3]:
                    started = time.perf_counter()
                    list(pool.map(side, items))
                    spent[name] += time.perf_counter() - started
        direct_time, service_time, bare_time = spent["direct"], spent["service"], spent["bare"]
    medians = {
        name: round(statistics.median(laps[name] for laps in breakdown), 2) for name in breakdown[0]
    }
    medians["direct_add"] = round(statistics.median(direct_ms), 2)
    return COUNT / direct_time, COUNT / service_time, COUNT / bare_time, medians


BIG, BIG_RUNS, READERS = 5_000_000, 30, 5
BIG_SHARE_AIM = 0.90  # the service keeps at least this share of the node's rate at 5 MB
ENCRYPTION_BUDGET = 0.20  # encryption may add at most this much to a 5 MB upload's time


def big_uploads(store: IpfsNodeStore, url: str, bare_url: str, key: LocalKey, escrow: str) -> dict:
    """5 MB documents four ways, the order rotating every round (a slow patch of the shared
    machine falls on each in turn): added straight to the node; uploaded plain through the
    service; the same request through the bare hop (scripts/bare_hop.py); encrypted to five
    readers and uploaded as `escrow-oracle upload` does it (backend/confidential/client.py:
    encrypted while it is sent), its steps timed. Distinct documents every time; the signing
    inside the clock."""
    import pyrage

    recipients = [str(pyrage.x25519.Identity.generate().to_public()) for _ in range(READERS)]
    readers = [
        client.Reader(f"0x{i + 1:040x}", ("reader",), recipient)
        for i, recipient in enumerate(recipients)
    ]
    signer = client.Signer(key.private_key, chain.id, escrow)
    times: dict[str, list[float]] = {"node": [], "plain": [], "bare": [], "confidential": []}
    steps: list[dict[str, float]] = []
    # The service's Server-Timing laps of each 5 MB request, by route: where its time went.
    served: dict[str, list[dict[str, float]]] = {"/evidence": [], "/evidence/confidential": []}

    def laps_of(response: httpx.Response) -> None:
        if response.request.url.path in served and "server-timing" in response.headers:
            served[response.request.url.path].append(_server_laps(response))

    with (
        httpx.Client(base_url=url, timeout=120, event_hooks={"response": [laps_of]}) as http,
        httpx.Client(base_url=bare_url, timeout=120) as bare_http,
        tempfile.TemporaryDirectory(prefix="bench-5mb-") as work,
    ):
        path = Path(work) / "report.pdf"

        def plain() -> None:
            data = _document(BIG)
            started = time.perf_counter()
            client.upload_file(http, signer, data, hashlib.sha256(data).hexdigest(), None)
            times["plain"].append((time.perf_counter() - started) * 1000)

        def bare() -> None:
            data = _document(BIG)
            started = time.perf_counter()
            client.upload_file(bare_http, signer, data, hashlib.sha256(data).hexdigest(), None)
            times["bare"].append((time.perf_counter() - started) * 1000)

        def node() -> None:
            data = _document(BIG)
            started = time.perf_counter()
            store.add([data])
            times["node"].append((time.perf_counter() - started) * 1000)

        def confidential() -> None:
            path.write_bytes(_document(BIG))  # written (and in the page cache) off the clock
            laps = _Laps()
            client.upload_confidential(http, signer, path, readers, None, lap=laps)
            times["confidential"].append(laps.total)
            steps.append(laps.laps)

        sides = [node, plain, bare, confidential]
        for side in sides:  # warm-up: first connections, the service's first chain lookups
            side()
        for ms in times.values():
            ms.clear()
        steps.clear()
        for laps in served.values():
            laps.clear()
        for run in range(BIG_RUNS):
            for side in sides[run % 4 :] + sides[: run % 4]:
                side()
    median = {name: statistics.median(ms) for name, ms in times.items()}
    return {
        "bytes": BIG,
        "readers": READERS,
        "runs": BIG_RUNS,
        "node_add_median_ms": round(median["node"], 1),
        "plain_upload_median_ms": round(median["plain"], 1),
        "confidential_upload_median_ms": round(median["confidential"], 1),
        "service_share_of_node_rate": round(median["node"] / median["plain"], 3),
        "share_aim": BIG_SHARE_AIM,
        "bare_hop_median_ms": round(median["bare"], 1),
        "bare_hop_share_of_node_rate": round(median["node"] / median["bare"], 3),
        "encryption_added": round(median["confidential"] / median["plain"] - 1, 3),
        "encryption_budget": ENCRYPTION_BUDGET,
        # the client's steps (backend/confidential/client.py upload_confidential), medians
        "confidential_steps_median_ms": {
            name: round(statistics.median(laps[name] for laps in steps), 1) for name in steps[0]
        },
        # the service's own laps (Server-Timing), medians: plain and confidential requests
        "service_laps_median_ms": {
            route: {
                name: round(statistics.median(laps[name] for laps in runs), 1) for name in runs[0]
            }
            for route, runs in served.items()
            if runs
        },
    }


def _server_laps(response: httpx.Response) -> dict[str, float]:
    """A Server-Timing header (`auth;dur=1.2, body;dur=0.8, ...`) as {lap: ms}."""
    return {
        name.strip(): float(dur)
        for name, dur in (
            part.split(";dur=") for part in response.headers["server-timing"].split(",")
        )
    }


class _Laps:
    """upload_confidential's `lap`: the time since the previous lap, by step name."""

    def __init__(self):
        self.started = self.last = time.perf_counter()
        self.laps: dict[str, float] = {}

    def __call__(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = (now - self.last) * 1000
        self.last = now

    @property
    def total(self) -> float:
        return (self.last - self.started) * 1000


def _document(size: int) -> bytes:
    # A PDF by its header (a media type the service takes), random bytes after it: as
    # incompressible and as free of structure as the ciphertext it is compared with.
    return b"%PDF-1.7\n" + os.urandom(size - 9)


def main() -> None:
    escrow, _token = deploy(accounts[0], silent=True)
    key = accounts.add()  # the oracle's key, registered by an admin with its consent
    register_operator(escrow, "bench oracle", key, admin=accounts[0], silent=True)
    with (
        ipfs_node() as node_url,
        tempfile.TemporaryDirectory(prefix="bench-uploads-") as data,
    ):
        settings = Settings(
            rpc_url=rpc_url(),
            escrow_address=escrow.address,
            ipfs_api_url=node_url,
            data_dir=Path(data),
        )
        # The service runs in its own process, as `make serve` runs it (BENCH_SERVER_PREFIX: a
        # Python command to run it with instead, e.g. "python -m cProfile -o service.prof").
        python = os.environ.get("BENCH_SERVER_PREFIX", "").split() or None
        server = LiveService(settings, Path(data) / "service.log", python)
        hop = LiveService(settings, Path(data) / "bare.log", factory="scripts.bare_hop:create_app")
        try:
            direct, service, bare, medians = race(
                IpfsNodeStore(node_url), server.url, hop.url, key, escrow.address
            )
            big = big_uploads(IpfsNodeStore(node_url), server.url, hop.url, key, escrow.address)
        finally:
            server.stop()
            hop.stop()

    result = {
        "documents": COUNT,
        "bytes_each": SIZE,
        "node_adds_per_s": round(direct, 1),
        "service_uploads_per_s": round(service, 1),
        "service_share_of_node_rate": round(service / direct, 3),
        # the bare hop (scripts/bare_hop.py): the node through a Python process doing nothing
        # but passing the file on, the floor of any service on this machine
        "bare_hop_uploads_per_s": round(bare, 1),
        "bare_hop_share_of_node_rate": round(bare / direct, 3),
        "concurrency": CONCURRENCY,
        # medians in ms: the service's Server-Timing laps, its round trip seen by the client,
        # and a direct add to the node
        "median_ms": medians,
        # 5 MB: the service against the node (issue 15), and a confidential upload (encrypted,
        # ciphertext + manifest + readers) against a plain one (issue 14)
        "uploads_5mb": big,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n")
    print(
        f"\n{COUNT} x {SIZE // 1000} KB: node {direct:.1f}/s, service {service:.1f}/s "
        f"({service / direct:.0%} of the node's rate; aim >= 70%); bare hop {bare:.1f}/s "
        f"({bare / direct:.0%})  -> {OUT}"
    )
    share = big["service_share_of_node_rate"]
    print(
        f"5 MB: node {big['node_add_median_ms']} ms, service {big['plain_upload_median_ms']} ms "
        f"({share:.0%} of the node's rate; aim >= {BIG_SHARE_AIM:.0%}"
        f"{'' if share >= BIG_SHARE_AIM else ': UNDER'}); bare hop {big['bare_hop_median_ms']} ms "
        f"({big['bare_hop_share_of_node_rate']:.0%})"
    )
    print(
        f"5 MB confidential: {big['confidential_upload_median_ms']} ms, encryption adds "
        f"{big['encryption_added']:.0%} to the plain upload (aim: at most {ENCRYPTION_BUDGET:.0%}"
        f"{'' if big['encryption_added'] <= ENCRYPTION_BUDGET else ': OVER'}); steps "
        f"{big['confidential_steps_median_ms']}"
    )
