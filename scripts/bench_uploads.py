"""Upload throughput: 100 documents of 100 KB through the service (real HTTP, uvicorn) against
direct adds to the same IPFS node, in the same run. Writes bench/uploads.json.

    brownie run scripts/bench_uploads.py     (part of `make bench`)
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import httpx
from brownie import accounts, chain
from eth_account import Account

from backend import auth
from backend.evidence.ipfs_node import IpfsNodeStore
from backend.main import BackgroundServer
from backend.settings import Settings
from scripts.deploy import deploy

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "uploads.json"
COUNT, SIZE = 100, 100_000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def documents() -> list[bytes]:
    # Distinct plain-text documents (so every add is new content).
    return [
        (f"report {i}\n".encode() + os.urandom(SIZE // 2).hex().encode())[:SIZE]
        for i in range(COUNT)
    ]


def main() -> None:
    escrow, _token = deploy(accounts[0], silent=True)
    key = Account.create()
    escrow.registerOperator("bench oracle", "", key.address, {"from": accounts[0]}, silent=True)
    repo = Path(tempfile.mkdtemp(prefix="bench-ipfs-"))
    api, gateway = free_port(), free_port()
    node_sh = ROOT / "tools" / "ipfs-node.sh"
    subprocess.run([node_sh, "start", repo, str(api), str(gateway)], check=True, timeout=120)
    try:
        node_url = f"http://127.0.0.1:{api}"
        settings = Settings(
            rpc_url="http://127.0.0.1:8545",
            escrow_address=escrow.address,
            ipfs_api_url=node_url,
            data_dir=repo / "service",
        )
        server = BackgroundServer(settings)

        direct_docs, service_docs = documents(), documents()
        store = IpfsNodeStore(node_url)
        started = time.perf_counter()
        for doc in direct_docs:
            store.add([doc])
        direct = COUNT / (time.perf_counter() - started)

        with httpx.Client(base_url=server.url, timeout=60) as client:
            # Signing is the client's work, done before the clock starts.
            requests = [
                (
                    doc,
                    auth.upload_headers(
                        key.key,
                        hashlib.sha256(doc).hexdigest(),
                        None,
                        chain.id,
                        escrow.address,
                        expires_in=600,
                    ),
                )
                for doc in service_docs
            ]
            started = time.perf_counter()
            for doc, headers in requests:
                r = client.post("/evidence", headers=headers, files={"file": ("d.txt", doc)})
                assert r.status_code == 201, r.text
            service = COUNT / (time.perf_counter() - started)
        server.stop()
    finally:
        subprocess.run([node_sh, "stop", repo], check=False, timeout=60)
        shutil.rmtree(repo, ignore_errors=True)

    result = {
        "documents": COUNT,
        "bytes_each": SIZE,
        "node_adds_per_s": round(direct, 1),
        "service_uploads_per_s": round(service, 1),
        "service_share_of_node_rate": round(service / direct, 3),
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n")
    print(
        f"\n{COUNT} x {SIZE // 1000} KB: node {direct:.1f}/s, service {service:.1f}/s "
        f"({service / direct:.0%} of the node's rate; aim >= 70%)  -> {OUT}"
    )
