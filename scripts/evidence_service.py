"""The evidence service (backend/) run inside a script's process, as the demo uses it: real
HTTP on a free port, the embedded content-addressed store in a temporary folder, and the deal
index the web page reads. Documents are confidential (docs/confidential.md): each party
publishes its key, each document is encrypted to the deal's readers before it is pinned, and
what the chain anchors is its manifest's sha256."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import httpx
from brownie import chain, web3

from backend.confidential import client as confidential
from backend.confidential.identity import derive_identity_from_key
from backend.escrow.abi import load_abi
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

    def signer(self, key: LocalKey) -> confidential.Signer:
        return confidential.Signer(key.private_key, chain.id, self.escrow.address)

    def publish_keys(self, parties: dict[str, LocalKey]) -> None:
        """Each party derives its age identity from its key and publishes the signed
        binding of its recipient (POST /keys)."""
        for label, key in parties.items():
            identity = derive_identity_from_key(key.private_key)
            confidential.publish_key(self.http, self.signer(key), identity, issued_at=1)
            print(f"  {label:<10} publishes its encryption key {identity.recipient[:20]}…")

    def pin(self, key: LocalKey, deal_id: int, name: str, document: bytes) -> bytes:
        """Encrypt `document` to the deal's readers (each binding verified here), upload the
        ciphertext and its manifest signed by `key`; returns the manifest's sha256, what the
        attestation anchors."""
        readers = confidential.deal_readers(self.http, deal_id, chain.id)
        with tempfile.TemporaryDirectory(prefix="demo-doc-") as work:
            path = Path(work) / name
            path.write_bytes(document)
            manifest, copy = confidential.upload_confidential(
                self.http, self.signer(key), path, readers, deal_id
            )
        print(
            f"           sealed {name} ({len(document)} B) for {len(copy['readers'])} readers; "
            f"manifest {manifest.cid()}"
        )
        return manifest.evidence_hash()

    def read_back(self, key: LocalKey, who: str, deal_id: int) -> None:
        """`who` decrypts the first document attested on chain for the deal and checks it
        against the chain's evidenceHash and the manifest it names."""
        escrow = web3.eth.contract(address=self.escrow.address, abi=load_abi())
        [first, *_] = escrow.events.MilestoneAttested().get_logs(
            from_block=0, argument_filters={"dealId": deal_id}
        )
        evidence_hash = bytes(first["args"]["evidenceHash"])
        identity = derive_identity_from_key(key.private_key)
        with tempfile.TemporaryDirectory(prefix="demo-read-") as work:
            out = Path(work) / "document.pdf"
            _, opened = confidential.fetch_confidential(self.http, evidence_hash, identity, out)
            title = out.read_bytes().split(b"\n")[1].decode()
        print(
            f"\nThe {who} reads M{first['args']['index'] + 1}'s evidence: decrypted "
            f'{opened.plaintext_size} B "{title}"\n  plaintext sha256 '
            f"{opened.plaintext_sha256.hex()[:16]}… = the manifest's, whose sha256 "
            f"0x{evidence_hash.hex()[:16]}… is the evidenceHash on chain"
        )

    def wait_indexed(self, deal_id: int, released: int, timeout: float = 30) -> None:
        """Until the service's index has caught up with the chain (the web page reads it)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            r = self.http.get(f"/escrows/{self.escrow.address}/deals/{deal_id}")
            if r.status_code == 200 and r.json()["released"] == str(released):
                return
            time.sleep(0.25)
        raise RuntimeError(f"the service did not index deal {deal_id} within {timeout} s")

    def close(self) -> None:
        self.http.close()
        self.server.stop()
