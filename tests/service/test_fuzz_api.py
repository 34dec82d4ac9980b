"""The API is what its OpenAPI document says: schemathesis' CLI (`st run`, from the tool venv
.venv-fuzz) against the live service (its own uvicorn process, on anvil, the embedded store,
the indexer on), every route, every check: no 5xx, no status the document does not list, no
body, header or media type it does not describe, schema-valid requests never 422, invalid
ones always refused, 405 with an exact `Allow`. Uploads and attestations are signed for real
(tests/service/fuzz/hooks.py asks the signer this test runs). `make test` runs 20 cases per
operation and phase (FUZZ_EXAMPLES, seed 12: about 1,600 cases); `make fuzz` runs it for ten
minutes (FUZZ_SECONDS), with a new seed (FUZZ_SEED)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import brownie
import pytest
from eth_account import Account
from helpers import USD, fund_fully, milestones

from backend import attestations, auth, typed_data
from backend.settings import Settings
from scripts.service_process import LiveService

ROOT = Path(__file__).resolve().parents[2]
FUZZ = Path(__file__).resolve().parent / "fuzz"
ST = ROOT / ".venv-fuzz" / "bin" / "st"
# The everyday run does a fixed amount of work (EXAMPLES test cases per operation and phase,
# seed 12), so that a busy machine makes it slower, never thinner: under a time budget, on a
# loaded machine, schemathesis' coverage phase once spent all of it and no operation was tested.
# `make fuzz` sets FUZZ_SECONDS: a time budget, which fuzzing fills with as many cases as fit.
SECONDS = int(os.environ.get("FUZZ_SECONDS") or 0)
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES") or 20)


class Signer(ThreadingHTTPServer):
    """Signs for the hooks, with a key the escrow knows as an operator: the headers of an
    upload of given bytes, and attestations of given fields."""

    def __init__(self, key, escrow_address: str):
        super().__init__(("127.0.0.1", 0), _SignerHandler)
        self.key, self.escrow = key, escrow_address
        self.url = f"http://127.0.0.1:{self.server_address[1]}"
        self.signed = {"upload": 0, "attestation": 0}
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def sign(self, what: str, payload: dict) -> dict:
        self.signed[what] += 1
        if what == "upload":
            document = bytes.fromhex(payload["document"])
            deal = payload["deal"]
            return auth.upload_headers(
                self.key.key,
                hashlib.sha256(document).hexdigest(),
                int(deal) if deal is not None else None,
                brownie.chain.id,
                self.escrow,
            )
        fields = payload  # schema-valid: uints as ints or decimal strings
        attestation = attestations.Attestation(
            chain_id=brownie.chain.id,
            escrow=self.escrow,
            deal_id=int(fields["dealId"]),
            milestone=int(fields["milestone"]),
            deal_version=int(fields["dealVersion"]),
            met=fields["met"],
            evidence_hash=bytes.fromhex(fields["evidenceHash"][2:]),
            deadline=int(fields["deadline"]),
        )
        signed = attestations.sign(attestation, self.key.key)
        return {"signer": signed.signer, "signature": "0x" + signed.signature.hex()}


class _SignerHandler(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 - http.server's naming
        length = int(self.headers["Content-Length"])
        payload = json.loads(self.rfile.read(length))
        try:
            answer = json.dumps(self.server.sign(self.path.strip("/"), payload)).encode()
        except (ValueError, TypeError, KeyError):  # fields no key can sign: sent unsigned
            answer = b"{}"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


@pytest.fixture
def live_service(tmp_path, escrow, stable, buyer, supplier, deployer, ops, create_deal):
    """The service on a chain with something in it: an operator key the signer holds, a
    funded deal (indexed) with a document pinned for it."""
    key = Account.create()
    deadline = brownie.chain[-1].timestamp + 86_400
    consent = typed_data.key_consent_message(
        brownie.chain.id, escrow.address, deployer.address, key.address, deadline
    )
    signature = typed_data.sign(consent, key.key).signature
    escrow.registerOperator("fuzz oracle", "", key.address, deadline, signature, {"from": deployer})
    deal = create_deal(milestones([10 * USD], [(ops.inspector,)]))
    fund_fully(escrow, stable, buyer, deal.id)
    settings = Settings(
        rpc_url=brownie.web3.provider.endpoint_uri,
        escrow_address=escrow.address,
        data_dir=tmp_path / "var",
        run_indexer=True,
        indexer_confirmations=0,
        indexer_start_block=escrow.deployed_at_block,
        indexer_interval_seconds=1,
    )
    service = LiveService(settings, tmp_path / "service.log")
    signer = Signer(key, escrow.address)
    yield service, signer
    signer.shutdown()
    service.stop()


def test_every_route_answers_as_the_openapi_document_says(live_service, tmp_path):
    if not ST.exists():
        pytest.fail(f"{ST} is missing: `make setup` installs schemathesis", pytrace=False)
    service, signer = live_service
    report = tmp_path / "report.json"
    env = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": "hooks",
        "PYTHONPATH": str(FUZZ),
        "FUZZ_SIGNER_URL": signer.url,
        "FUZZ_DOMAIN": json.dumps(typed_data.escrow_domain(brownie.chain.id, signer.escrow)),
    }
    run = subprocess.run(
        [str(ST), "--config-file", str(FUZZ / "schemathesis.toml"), "--no-color",
         "run", f"{service.url}/openapi.json",
         "--checks", "all",
         *(["--max-time", str(SECONDS)] if SECONDS else ["--max-examples", str(EXAMPLES)]),
         # One worker: with two, schemathesis' threads parse source with ast.parse at once,
         # and CPython 3.11.7 may fail that with "SystemError: AST constructor recursion
         # depth mismatch" (CPython gh-106905), failing the run for nothing the service did.
         "--workers", "1",
         "--request-timeout", "20",
         "--seed", os.environ.get("FUZZ_SEED", "12"),
         "--generation-database", "none",
         "--report", "json", "--report-json-path", str(report)],
        env=env,
        cwd=tmp_path,  # its replay files (.schemathesis/) stay out of the repository
        capture_output=True,
        text=True,
        timeout=(SECONDS or 300) + 240,
    )  # fmt: skip
    output = run.stdout + run.stderr
    print(output[-6000:])
    assert run.returncode == 0, output[-20000:]
    summary = json.loads(report.read_text())
    operations, cases = summary["operations"], summary["test_cases"]
    print(
        f"schemathesis: {cases['generated']} test cases, {operations['tested']} of "
        f"{operations['total']} operations, {cases['with_failures']} with failures, "
        f"{cases['errored']} errored; the hooks signed {signer.signed}"
    )
    # every route of the service: 7 of them confidential evidence's; GET /escrows and the 6
    # deal routes by escrow, /escrows/{escrow}/deals..., beside their deprecated /deals...; the
    # 3 operator routes, /escrows/{escrow}/operators...
    assert operations["tested"] == operations["total"] == 31
    assert cases["with_failures"] == cases["errored"] == 0
    assert signer.signed["upload"] > 0 and signer.signed["attestation"] > 0
