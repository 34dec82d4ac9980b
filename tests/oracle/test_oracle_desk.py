"""escrow-oracle's desk (keys publish, inbox, upload, fetch) against a real service (its own
uvicorn process, indexing), a real IPFS node and the test chain: the command in this process
(tests/helpers.py run_cli), but once as a real process."""

import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import brownie
import httpx
import pytest
from helpers import USD, fund_fully, give_ether, keystore_json, milestones, run_cli

from backend.confidential import client as conf
from backend.confidential import envelope
from backend.confidential.identity import derive_identity_from_key
from backend.evidence.cid import raw_cid_of_sha256
from backend.oracle_cli import main
from backend.settings import Settings
from scripts.service_process import LiveService

PASSWORD = "correct horse battery staple"
INVOICE = b"%PDF-1.7\ncommercial invoice 2026-117: 2,000 controllers at 41.20 USD\n%%EOF\n"
REPORT = b"%PDF-1.7\npre-shipment inspection: AQL 1.0 passed, 3 minor defects\n%%EOF\n"


@pytest.fixture
def service(tmp_path, escrow, ipfs_node):
    settings = Settings(
        rpc_url=brownie.web3.provider.endpoint_uri,
        escrow_address=escrow.address,
        data_dir=tmp_path / "var",
        ipfs_api_url=ipfs_node,
        run_indexer=True,
        indexer_confirmations=0,
        indexer_interval_seconds=0.3,
    )
    live = LiveService(settings, tmp_path / "service.log")
    yield live.url
    live.stop()


@pytest.fixture
def keystores(tmp_path, buyer, supplier, inspector, stranger):
    paths = {}
    for name, account in (("buyer", buyer), ("supplier", supplier), ("inspector", inspector),
                          ("stranger", stranger)):  # fmt: skip
        paths[name] = tmp_path / f"{name}.json"
        paths[name].write_text(keystore_json(account.private_key, PASSWORD))
    return paths


def desk(command, service, keystore, *args):
    """`escrow-oracle COMMAND --service S --keystore K ARGS` (in this process: run_cli)."""
    env = {"ESCROW_KEYSTORE_PASSWORD": PASSWORD}
    return run_cli(main, *command.split(), "--service", service, "--keystore", keystore, *args,
                   env=env)  # fmt: skip


def desk_process(command, service, keystore, *args):
    """The same, as a real process through `python -m`."""
    env = {"ESCROW_KEYSTORE_PASSWORD": PASSWORD, "PATH": "/usr/bin:/bin", "HOME": str(Path.home())}
    return subprocess.run(
        [sys.executable, "-m", "backend.oracle_cli", *command.split(), "--service", service,
         "--keystore", keystore, *map(str, args)],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip


def _evidence_hash(output: str) -> str:
    return re.search(r"evidenceHash (0x[0-9a-f]{64})", output).group(1)


def _indexed(service, deal_id):
    for _ in range(100):
        if httpx.get(f"{service}/deals/{deal_id}").status_code == 200:
            return
        time.sleep(0.2)
    raise AssertionError(f"deal {deal_id} was not indexed")


def test_an_oracle_works_a_milestone_with_encrypted_documents(
    service, keystores, escrow, stable, buyer, inspector, ops, create_deal, tmp_path
):
    for name in ("buyer", "supplier", "inspector"):
        done = desk("keys publish", service, keystores[name])
        assert done.returncode == 0, done.stderr
        assert "published age1" in done.stdout
    deal = create_deal(milestones([100 * USD], [(ops.inspector,)]))
    fund_fully(escrow, stable, buyer, deal.id)
    invoice = tmp_path / "invoice.pdf"
    invoice.write_bytes(INVOICE)
    up = desk("upload", service, keystores["supplier"], "--deal", deal.id, "--milestone", 0,
              invoice)  # fmt: skip
    assert up.returncode == 0, up.stderr
    assert "encrypted to 3 reader(s)" in up.stdout
    assert "has published no valid key" in up.stderr  # the arbiter's key
    invoice_hash = _evidence_hash(up.stdout)
    _indexed(service, deal.id)

    inbox = desk("inbox", service, keystores["inspector"])
    assert inbox.returncode == 0, inbox.stderr
    line = f"deal {deal.id} milestone 0: amount {100 * USD} (token base units)"
    assert line in inbox.stdout
    assert deal.terms[0].requirements_hash.hex().removeprefix("0x") in inbox.stdout
    assert f"confidential, evidenceHash {invoice_hash}" in inbox.stdout

    read = tmp_path / "read.pdf"
    fetched = desk("fetch", service, keystores["inspector"], "--deal", deal.id,
                   "--evidence-hash", invoice_hash, "--out", read)  # fmt: skip
    assert fetched.returncode == 0, fetched.stderr
    assert read.read_bytes() == INVOICE
    assert "not attested on chain yet" in fetched.stdout

    report = tmp_path / "report.pdf"
    report.write_bytes(REPORT)
    up = desk("upload", service, keystores["inspector"], "--deal", deal.id, report)
    report_hash = _evidence_hash(up.stdout)
    give_ether(inspector)
    signed = run_cli(
        main, "sign", "--keystore", keystores["inspector"], "--escrow", escrow.address,
        "--rpc", brownie.web3.provider.endpoint_uri, "--deal", deal.id, "--milestone", 0, "--met",
        "--evidence-hash", report_hash, "--submit", env={"ESCROW_KEYSTORE_PASSWORD": PASSWORD},
    )  # fmt: skip
    assert signed.returncode == 0, signed.stdout + signed.stderr
    mine = tmp_path / "buyer-copy.pdf"
    fetched = desk("fetch", service, keystores["buyer"], "--deal", deal.id,
                   "--evidence-hash", report_hash, "--out", mine)  # fmt: skip
    assert fetched.returncode == 0, fetched.stderr
    assert mine.read_bytes() == REPORT
    assert f"on chain: milestone 0 of deal {deal.id} met by operator {ops.inspector}" in (
        fetched.stdout
    )
    inbox = desk("inbox", service, keystores["inspector"])
    assert f"deal {deal.id} milestone 0" not in inbox.stdout  # its verdict is in


def test_a_reader_without_a_copy_is_given_one_a_stranger_gets_a_clear_error_and_no_file(
    service, keystores, escrow, supplier, inspector, stranger, ops, create_deal, tmp_path
):
    for name in ("buyer", "supplier"):
        assert desk("keys publish", service, keystores[name]).returncode == 0
    deal = create_deal(milestones([100 * USD], [(ops.inspector,)]))
    invoice = tmp_path / "invoice.pdf"
    invoice.write_bytes(INVOICE)
    up = desk("upload", service, keystores["supplier"], "--deal", deal.id, invoice)
    evidence_hash = _evidence_hash(up.stdout)
    out = tmp_path / "out.pdf"
    # The inspector published its key after the upload: a reader gives it a copy.
    fetch = ("fetch", service, keystores["inspector"], "--deal", deal.id,
             "--evidence-hash", evidence_hash, "--out", out)  # fmt: skip
    refused = desk(*fetch)
    assert refused.returncode == 1 and "no copy of this document is encrypted to" in refused.stderr
    assert desk("keys publish", service, keystores["inspector"]).returncode == 0
    give = ("give-access", service, keystores["buyer"], "--deal", deal.id,
            "--evidence-hash", evidence_hash)  # fmt: skip
    given = desk(*give)
    assert given.returncode == 0, given.stderr
    assert f"a new copy for 3 reader(s), new: {inspector.address} (oracle)" in given.stdout
    fetched = desk(*fetch)
    assert fetched.returncode == 0, fetched.stderr
    assert out.read_bytes() == INVOICE
    out.unlink()
    assert "nothing to do" in desk(*give).stdout  # every reader with a key has a copy now
    refused = desk("fetch", service, keystores["stranger"], "--deal", deal.id,
                   "--evidence-hash", evidence_hash, "--out", out)  # fmt: skip
    assert refused.returncode == 1
    assert "no copy of this document is encrypted to" in refused.stderr and not out.exists()
    # a copy that says it is the stranger's, encrypted to someone else: the key opens nothing
    http = httpx.Client(base_url=service)
    manifest_cid = raw_cid_of_sha256(bytes.fromhex(evidence_hash[2:]))
    signer = conf.Signer(supplier.private_key, brownie.chain.id, escrow.address)
    other = derive_identity_from_key(supplier.private_key)
    sealed_other = tmp_path / "other.age"
    resealed = envelope.encrypt_file(invoice, sealed_other, [other.recipient])
    conf.upload_file(http, signer, sealed_other.read_bytes(),
                     resealed.ciphertext_sha256.hex(), deal.id)  # fmt: skip
    lie = conf.Reader(stranger.address, ("stranger",), other.recipient)
    conf.record_copy(http, signer, manifest_cid, resealed.ciphertext_cid, [lie], deal.id)
    refused = desk("fetch", service, keystores["stranger"], "--deal", deal.id,
                   "--evidence-hash", evidence_hash, "--out", out)  # fmt: skip
    assert refused.returncode == 1
    assert "error: " in refused.stderr and "Traceback" not in refused.stderr
    assert not out.exists()


def test_inbox_of_a_key_of_no_operator_or_of_an_escrow_not_served_is_a_clear_error(
    service, keystores, escrow
):
    done = desk_process("inbox", service, keystores["stranger"])
    assert done.returncode == 2
    assert "is not a live key of any operator" in done.stderr
    nowhere = "0x" + "00" * 19 + "01"
    done = desk("inbox", service, keystores["inspector"], "--escrow", nowhere)
    assert done.returncode == 2
    assert f"serves no escrow at {nowhere}: it serves {escrow.address} (tUSD)" in done.stderr


def test_an_upload_refused_before_its_body_is_read_says_why(
    service, keystores, escrow, supplier, stranger, ops, create_deal, tmp_path
):
    """The service answers 403 to a stranger's streamed upload before reading the body: the
    client stops encrypting and reports the answer, not a broken connection."""
    assert desk("keys publish", service, keystores["supplier"]).returncode == 0
    deal = create_deal(milestones([100 * USD], [(ops.inspector,)]))
    big = tmp_path / "photos.pdf"
    big.write_bytes(b"%PDF-1.7\n" + os.urandom(12_000_000))
    refused = desk("upload", service, keystores["stranger"], "--deal", deal.id, big)
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "403" in refused.stderr and "not a party" in refused.stderr, refused.stderr
    assert "Traceback" not in refused.stderr
    assert all(t.name != "encrypt" for t in threading.enumerate())  # the worker stopped
