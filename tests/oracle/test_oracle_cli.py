"""The escrow-oracle command against the test chain (anvil): in this process, but for the
first test, which runs it as a real process."""

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import brownie
import pytest
from helpers import USD, give_ether, keystore_json, run_cli

from backend.oracle_cli import main
from backend.terms import MilestoneStatus

PASSWORD = "correct horse battery staple"


@pytest.fixture
def keystore(tmp_path, inspector):
    """The inspector's key as an encrypted keystore file, as an operator would hold it."""
    give_ether(inspector)
    path = tmp_path / "inspector.json"
    path.write_text(keystore_json(inspector.private_key, PASSWORD))
    return path


@pytest.fixture
def evidence(tmp_path):
    path = tmp_path / "inspection-report.pdf"
    path.write_bytes(b"%PDF-1.7\n... 2,000 controllers inspected, AQL 1.0 passed ...\n")
    return path


def oracle(*args, password=PASSWORD):
    """`escrow-oracle ARGS` (in this process: tests/helpers.py run_cli)."""
    return run_cli(main, *args, env={"ESCROW_KEYSTORE_PASSWORD": password})


def oracle_process(*args, password=PASSWORD):
    """`escrow-oracle ARGS` as a real process, through `python -m`."""
    env = {"ESCROW_KEYSTORE_PASSWORD": password, "PATH": "/usr/bin:/bin", "HOME": str(Path.home())}
    return subprocess.run(
        [sys.executable, "-m", "backend.oracle_cli", *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def rpc():
    return brownie.web3.provider.endpoint_uri


def sign(escrow, keystore, evidence, deal, milestone, *options, password=PASSWORD, run=oracle):
    """`escrow-oracle sign` for one milestone of `deal`, with the evidence file's sha256."""
    return run(
        "sign", "--keystore", keystore, "--escrow", escrow.address, "--deal", deal,
        "--milestone", milestone, "--evidence", evidence, *options, password=password,
    )  # fmt: skip


def test_sign_then_verify_offline(escrow, keystore, evidence, tmp_path, active_deal):
    out = tmp_path / "att.json"
    offline = ("--chain-id", brownie.chain.id, "--deal-version", 1)
    signed = sign(escrow, keystore, evidence, active_deal.id, 0, *offline, "--met", "--out", out,
                  run=oracle_process)  # fmt: skip
    assert signed.returncode == 0, signed.stderr
    checked = oracle_process("verify", out)
    assert checked.returncode == 0, checked.stdout
    assert "VALID" in checked.stdout
    assert hashlib.sha256(evidence.read_bytes()).hexdigest() in checked.stdout


def test_tampered_attestation_fails_verification(escrow, keystore, evidence, tmp_path, active_deal):
    out = tmp_path / "att.json"
    offline = ("--chain-id", brownie.chain.id, "--deal-version", 1)
    sign(escrow, keystore, evidence, active_deal.id, 0, *offline, "--not-met", "--out", out)
    data = json.loads(out.read_text())
    data["attestation"]["met"] = True  # flip the verdict
    out.write_text(json.dumps(data))
    checked = oracle("verify", out)
    assert checked.returncode == 1
    assert "not by the named signer" in checked.stdout


def test_sign_and_submit_pays_the_milestone(
    escrow, stable, supplier, keystore, evidence, active_deal
):
    done = sign(escrow, keystore, evidence, active_deal.id, 0, "--rpc", rpc(), "--met", "--submit")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUBMITTED" in done.stdout
    assert stable.balanceOf(supplier) == 100 * USD
    assert escrow.getMilestone(active_deal.id, 0)["status"] == MilestoneStatus.RELEASED


def test_relayer_submits_someone_elses_attestation(
    escrow, stable, supplier, keystore, evidence, tmp_path, stranger, active_deal
):
    out = tmp_path / "att.json"
    sign(escrow, keystore, evidence, active_deal.id, 0, "--rpc", rpc(), "--met", "--out", out)
    give_ether(stranger)
    relayer = tmp_path / "relayer.json"
    relayer.write_text(keystore_json(stranger.private_key, PASSWORD))
    done = oracle("submit", out, "--rpc", rpc(), "--keystore", relayer)
    assert done.returncode == 0, done.stdout + done.stderr
    assert stable.balanceOf(supplier) == 100 * USD


def test_refused_submission_names_the_error_and_changes_nothing(
    escrow, keystore, evidence, tmp_path, active_deal
):
    out = tmp_path / "att.json"
    sign(escrow, keystore, evidence, active_deal.id, 1, "--rpc", rpc(), "--met", "--out", out)
    first = oracle("submit", out, "--rpc", rpc(), "--keystore", keystore)
    assert first.returncode == 0, first.stdout + first.stderr
    again = oracle("submit", out, "--rpc", rpc(), "--keystore", keystore)
    assert again.returncode == 1
    assert "AlreadyAttested" in again.stdout
    assert escrow.getMilestone(active_deal.id, 1)["attestations"] == 1


def test_wrong_password_is_a_clear_error(escrow, keystore, evidence, active_deal):
    done = sign(escrow, keystore, evidence, 1, 0, "--chain-id", 1, "--deal-version", 1, "--met",
                password="wrong")  # fmt: skip
    assert done.returncode == 2
    assert "wrong password" in done.stderr


def test_rpc_down_is_a_clear_error(escrow, keystore, evidence):
    done = sign(escrow, keystore, evidence, 1, 0, "--rpc", "http://127.0.0.1:9", "--met")
    assert done.returncode == 2
    assert "cannot reach the RPC" in done.stderr
