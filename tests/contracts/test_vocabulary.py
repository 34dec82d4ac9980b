"""The escrow's vocabulary as Python declares it (backend/escrow/structs.py) against the
contract: every struct's derived ABI form is the compiled interface's, component by component,
and every signed struct's derived EIP-712 message hashes as the escrow hashes it. A field
added, renamed, retyped or moved on one side fails here, not in production."""

import json

import brownie
import pytest

from backend.escrow import eip712
from backend.escrow.abi import ARTIFACT
from backend.escrow.http import model_of
from backend.escrow.statuses import ChangeAction
from backend.escrow.struct import REGISTRY, Struct
from backend.escrow.structs import (
    Amendment,
    Attestation,
    Cancellation,
    DealOffer,
    Milestone,
    MilestoneChange,
    OperatorKey,
    Policy,
)

# Read by their ABI component names (backend/escrow/abi.py), so not declared in Python.
VIEWS = {"DealView", "MilestoneView", "KeyView", "OperatorView"}


def _abi_structs() -> dict[str, list[list[dict]]]:
    """Every struct the compiled IEscrow ABI uses, by name: its components wherever it occurs."""
    found: dict[str, list[list[dict]]] = {}

    def walk(items):
        for item in items:
            kind = item.get("internalType", "")
            if kind.startswith("struct "):
                name = kind.removeprefix("struct ").split(".")[-1].split("[")[0]
                found.setdefault(name, []).append(item["components"])
            walk(item.get("components", []))

    for item in json.loads(ARTIFACT.read_text())["abi"]:
        walk(item.get("inputs", []))
        walk(item.get("outputs", []))
    return found


def _plain(components: list[dict]) -> list[dict]:
    """Components without `internalType` (the derived form names no Solidity file)."""
    out = []
    for c in components:
        item = {"name": c["name"], "type": c["type"]}
        if "components" in c:
            item["components"] = _plain(c["components"])
        out.append(item)
    return out


DECLARED = {cls.ABI: cls for cls in REGISTRY.values() if cls.ABI}


def test_every_struct_of_the_abi_is_declared_once_or_read_by_name():
    assert set(_abi_structs()) == set(DECLARED) | (VIEWS & set(_abi_structs()))


@pytest.mark.parametrize("name", sorted(DECLARED))
def test_derived_abi_form_is_the_compiled_one(name):
    occurrences = _abi_structs()[name]
    assert occurrences, name
    for components in occurrences:
        assert _plain(components) == DECLARED[name].abi_components()


def test_a_reordered_struct_would_not_match():
    """The comparison above sees order: Policy with two fields swapped differs."""
    [components, *_] = _abi_structs()["Policy"]
    swapped = [components[1], components[0], *components[2:]]
    assert _plain(swapped) != Policy.abi_components()


def _examples(chain_id, escrow, buyer, supplier) -> list[tuple[str, Struct, tuple]]:
    """One value of each signed struct with every field set and distinct (a swap shows)."""
    terms = Milestone(
        amount=7_000_001,
        due_at=1_900_000_003,
        quorum=2,
        oracles=(5, 9),
        requirements_hash=b"\x11" * 32,
    )
    policy = Policy(
        examination_window=86_401, ruling_period=86_402, warranty_period=86_403, retention_bps=503
    )
    offer = DealOffer(
        buyer, supplier, 4, policy=policy, milestones=(terms,), nonce=77, deadline=1_900_000_077
    )
    amendment = Amendment(
        12,
        3,
        (MilestoneChange(1, ChangeAction.EDIT, terms), MilestoneChange(2, ChangeAction.REMOVE)),
        nonce=6,
        deadline=1_900_000_099,
    )
    cancellation = Cancellation(12, 3, 1_000_003, 2_000_007, nonce=5, deadline=1_900_000_055)
    attestation = Attestation(
        chain_id, escrow, deal_id=12, milestone=1, deal_version=3, met=True,
        evidence_hash=b"\x22" * 32, deadline=1_900_000_033,
    )  # fmt: skip
    consent = OperatorKey(admin=buyer, key=supplier, deadline=1_900_000_011)
    return [
        ("hashOffer", offer, (offer.as_tuple(),)),
        ("hashAmendment", amendment, (amendment.as_tuple(),)),
        ("hashCancellation", cancellation, (cancellation.as_tuple(),)),
        ("hashAttestation", attestation, (attestation.as_tuple(),)),
        ("hashKeyConsent", consent, (buyer, supplier, consent.deadline)),
    ]


def test_derived_eip712_messages_hash_as_the_escrow_hashes(escrow, buyer, supplier):
    domain = eip712.escrow_domain(brownie.chain.id, escrow.address)
    examples = _examples(brownie.chain.id, escrow.address, buyer.address, supplier.address)
    for function, struct, args in examples:
        ours = eip712.digest(struct.typed_message(domain))
        assert getattr(escrow, function)(*args) == "0x" + ours.hex(), function


@pytest.mark.parametrize("struct", [DealOffer, Amendment, Cancellation, Attestation, Milestone])
def test_the_http_model_takes_the_wire_names_in_order(struct):
    assert list(model_of(struct).model_fields) == [s.name for _, s in struct.sol_fields()]
