"""Interoperability: another EIP-712 implementation (ethers v6, run by node) signs what the
escrow accepts, and the worked example in docs/typed-data.md is what both libraries produce."""

import json
import re
import subprocess
from pathlib import Path

import brownie
from helpers import DAY, USD, milestones, now

from backend import typed_data
from backend.terms import (
    Amendment,
    Cancellation,
    ChangeAction,
    DealOffer,
    DealStatus,
    Milestone,
    MilestoneChange,
    Policy,
)

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "typed-data.md"
ANVIL_KEY_0 = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"


def ethers_sign(message: dict, private_key: str) -> dict:
    def plain(o):
        if isinstance(o, bytes):
            return "0x" + o.hex()
        raise TypeError(type(o))

    payload = json.dumps({"privateKey": private_key, "typedData": message}, default=plain)
    out = subprocess.run(
        ["node", str(ROOT / "tests" / "js" / "sign_typed_data.mjs")],
        input=payload,
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        timeout=60,
    )
    return json.loads(out.stdout)


def _doc_example() -> tuple[dict, dict]:
    text = DOC.read_text()
    message = json.loads(re.search(r"```json\n(.*?)\n```", text, re.S).group(1))
    values = dict(re.findall(r"\| (digest|signature \(r‖s‖v\)) \| `(0x[0-9a-f]+)` \|", text))
    return message, values


def test_ethers_signed_offer_is_accepted_on_chain(escrow, buyer, supplier, ops):
    offer = DealOffer(
        buyer.address,
        supplier.address,
        ops.arbiter,
        milestones=tuple(
            milestones(
                [10 * USD, 20 * USD], [(ops.inspector,), (ops.inspector, ops.carrier)], [1, 2]
            )
        ),
        nonce=42,
        deadline=now() + DAY,
        policy=Policy(
            examination_window=5 * DAY,
            ruling_period=14 * DAY,
            warranty_period=90 * DAY,
            retention_bps=500,
        ),
    )
    message = typed_data.offer_message(brownie.chain.id, escrow.address, offer)
    signed = ethers_sign(message, supplier.private_key)
    assert signed["signer"] == supplier.address
    assert signed["digest"] == escrow.hashOffer(offer.as_tuple())
    tx = escrow.acceptOffer(offer.as_tuple(), signed["signature"], 0, {"from": buyer})
    deal_id = tx.events["DealCreated"]["dealId"]
    assert escrow.getDeal(deal_id)["status"] == DealStatus.ACCEPTED
    assert tuple(escrow.getPolicy(deal_id)) == offer.policy.as_tuple()


def test_cancellation_doc_example_matches_ethers_and_the_escrow(escrow):
    text = DOC.read_text()
    fields = json.loads(re.search(r"```json cancellation\n(.*?)\n```", text, re.S).group(1))
    values = dict(re.findall(r"\| cancellation (digest|signature) \| `(0x[0-9a-f]+)` \|", text))
    example, _ = _doc_example()
    cancellation = Cancellation(
        fields["dealId"],
        fields["dealVersion"],
        int(fields["toSupplier"]),
        int(fields["toBuyer"]),
        deadline=fields["deadline"],
        nonce=fields["nonce"],
    )
    domain = example["domain"]
    message = typed_data.cancellation_message(
        domain["chainId"], domain["verifyingContract"], cancellation
    )
    by_ethers = ethers_sign(message, ANVIL_KEY_1)
    assert by_ethers["digest"] == values["digest"] == "0x" + typed_data.digest(message).hex()
    assert by_ethers["signature"] == values["signature"]
    assert "0x" + typed_data.sign(message, ANVIL_KEY_1).signature.hex() == values["signature"]
    # The escrow hashes the same struct (in its own domain).
    ours = typed_data.cancellation_message(brownie.chain.id, escrow.address, cancellation)
    assert escrow.hashCancellation(cancellation.as_tuple()) == "0x" + typed_data.digest(ours).hex()


def test_doc_example_matches_ethers_and_eth_account():
    message, values = _doc_example()
    # The documented types are the ones the escrow hashes (checked on chain just above).
    for name, fields in (
        ("DealOffer", typed_data.DEAL_OFFER_TYPE),
        ("Milestone", typed_data.MILESTONE_TYPE),
        ("Policy", typed_data.POLICY_TYPE),
    ):
        assert message["types"][name] == fields
    by_ethers = ethers_sign(message, ANVIL_KEY_0)
    for m in message["message"]["milestones"]:
        m["amount"] = int(m["amount"])
        m["requirementsHash"] = bytes.fromhex(m["requirementsHash"][2:])
    by_python = typed_data.sign(message, ANVIL_KEY_0)
    assert by_ethers["digest"] == values["digest"]
    assert "0x" + typed_data.digest(message).hex() == values["digest"]
    assert by_ethers["signature"] == values["signature (r‖s‖v)"]
    assert "0x" + by_python.signature.hex() == values["signature (r‖s‖v)"]


ATTESTATION_DOC = ROOT / "docs" / "attestations.md"
ANVIL_KEY_1 = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"


def test_attestation_doc_example_verifies_and_matches_ethers():
    from backend.attestations import SignedAttestation, verify

    text = ATTESTATION_DOC.read_text()
    document = re.search(r"```json\n(.*?)\n```", text, re.S).group(1)
    digest = re.search(r"\| digest \| `(0x[0-9a-f]+)` \|", text).group(1)
    signed = SignedAttestation.from_json(document)
    result = verify(signed, now=1767225600)
    assert result.ok, result.problems
    assert "0x" + result.digest.hex() == digest
    by_ethers = ethers_sign(signed.attestation.message(), ANVIL_KEY_1)
    assert by_ethers["digest"] == digest
    assert by_ethers["signature"] == "0x" + signed.signature.hex()


def test_amendment_doc_example_matches_ethers_and_the_escrow(escrow):
    text = DOC.read_text()
    doc = json.loads(re.search(r"```json amendment\n(.*?)\n```", text, re.S).group(1))
    values = dict(re.findall(r"\| amendment (digest|signature) \| `(0x[0-9a-f]+)` \|", text))
    example, _ = _doc_example()
    amendment = Amendment(
        doc["dealId"],
        doc["dealVersion"],
        tuple(
            MilestoneChange(
                c["index"],
                ChangeAction(c["action"]),
                Milestone(
                    amount=int(c["terms"]["amount"]),
                    due_at=c["terms"]["dueAt"],
                    quorum=c["terms"]["quorum"],
                    oracles=tuple(o for o in c["terms"]["oracles"] if o),
                    requirements_hash=bytes.fromhex(c["terms"]["requirementsHash"][2:]),
                ),
            )
            for c in doc["changes"]
        ),
        deadline=doc["deadline"],
        nonce=doc["nonce"],
    )
    domain = example["domain"]
    message = typed_data.amendment_message(
        domain["chainId"], domain["verifyingContract"], amendment
    )
    by_ethers = ethers_sign(message, ANVIL_KEY_1)
    assert by_ethers["digest"] == values["digest"] == "0x" + typed_data.digest(message).hex()
    assert by_ethers["signature"] == values["signature"]
    # The escrow hashes the same struct (in its own domain).
    ours = typed_data.amendment_message(brownie.chain.id, escrow.address, amendment)
    assert escrow.hashAmendment(amendment.as_tuple()) == "0x" + typed_data.digest(ours).hex()


def test_operator_key_doc_example_matches_ethers_and_the_escrow(escrow, deployer):
    text = DOC.read_text()
    doc = json.loads(re.search(r"```json operator-key\n(.*?)\n```", text, re.S).group(1))
    values = dict(re.findall(r"\| operator-key (digest|signature) \| `(0x[0-9a-f]+)` \|", text))
    example, _ = _doc_example()
    domain = example["domain"]
    args = (doc["admin"], doc["key"], doc["deadline"])
    message = typed_data.key_consent_message(domain["chainId"], domain["verifyingContract"], *args)
    by_ethers = ethers_sign(message, ANVIL_KEY_1)
    assert by_ethers["digest"] == values["digest"] == "0x" + typed_data.digest(message).hex()
    assert by_ethers["signature"] == values["signature"]
    ours = typed_data.key_consent_message(brownie.chain.id, escrow.address, *args)
    assert escrow.hashKeyConsent(*args) == "0x" + typed_data.digest(ours).hex()
