"""The evidence service (backend/) run inside a script's process, as the demo uses it: real
HTTP on a free port, the embedded content-addressed store in a temporary folder, and the deal
index the web page reads."""

from __future__ import annotations

import hashlib
import tempfile
import time
from pathlib import Path

import httpx
from brownie import chain

from backend import auth
from backend.main import BackgroundServer
from backend.settings import Settings
from scripts.brownie_types import Contract, LocalKey
from scripts.local_chain import rpc_url


class EvidenceService:
    """The evidence service (backend/) run in this process on a free port, with the embedded
    content-addressed store in a temporary folder; documents go to it over real HTTP."""

    def __init__(self, escrow: Contract):
        settings = Settings(
            rpc_url=rpc_url(),
            escrow_address=escrow.address,
            data_dir=Path(tempfile.mkdtemp(prefix="demo-service-")),
            # the deal index behind the web page, which the demo's last line points to
            run_indexer=True,
            indexer_confirmations=0,
            indexer_interval_seconds=0.5,
        )
        self.server = BackgroundServer(settings)
        self.url = self.server.url
        self.http = httpx.Client(base_url=self.url, timeout=30)
        self.escrow = escrow

    def pin(self, key: LocalKey, deal_id: int, name: str, document: bytes) -> bytes:
        """Upload `document` signed by `key`; returns its sha256 (what attestations anchor)."""
        headers = auth.upload_headers(
            key.private_key,
            hashlib.sha256(document).hexdigest(),
            deal_id,
            chain.id,
            self.escrow.address,
        )
        r = self.http.post(
            "/evidence", params={"deal": deal_id}, files={"file": (name, document)}, headers=headers
        )
        r.raise_for_status()
        meta = r.json()
        print(f"           pinned {name} ({meta['size']} B, {meta['media_type']}): {meta['cid']}")
        return bytes.fromhex(meta["sha256"])

    def wait_indexed(self, deal_id: int, released: int, timeout: float = 30) -> None:
        """Until the service's index has caught up with the chain (the web page reads it)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            r = self.http.get(f"/deals/{deal_id}")
            if r.status_code == 200 and r.json()["released"] == str(released):
                return
            time.sleep(0.25)
        raise RuntimeError(f"the service did not index deal {deal_id} within {timeout} s")

    def close(self) -> None:
        self.http.close()
        self.server.stop()
