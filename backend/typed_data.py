"""EIP-712 messages of the escrow under their former module name: backend/escrow/ owns them
(eip712.py the mechanics, messages.py the messages, structs.py the types). Kept so that code
written against `backend.typed_data` (scripts, tests, the page's routes) keeps importing; the
type lists below are derived from the struct declarations, not written out."""

from __future__ import annotations

from backend.escrow.eip712 import (
    EIP712_DOMAIN,
    ESCROW_DOMAIN_NAME,
    ESCROW_DOMAIN_VERSION,
    SECP256K1_HALF_N,
    Signature,
    digest,
    ecdsa_recover,
    escrow_domain,
    sign,
    signer_among,
)
from backend.escrow.messages import (
    ESCROW_TYPES,
    amendment_message,
    attestation_message,
    cancellation_message,
    key_consent_message,
    offer_message,
    permit_message,
)
from backend.escrow.structs import (
    Amendment,
    Attestation,
    Cancellation,
    DealOffer,
    Milestone,
    MilestoneChange,
    OperatorKey,
    Permit,
    Policy,
)

__all__ = [
    "EIP712_DOMAIN",
    "ESCROW_DOMAIN_NAME",
    "ESCROW_DOMAIN_VERSION",
    "ESCROW_TYPES",
    "SECP256K1_HALF_N",
    "Signature",
    "amendment_message",
    "attestation_message",
    "cancellation_message",
    "digest",
    "ecdsa_recover",
    "escrow_domain",
    "key_consent_message",
    "offer_message",
    "permit_message",
    "sign",
    "signer_among",
]

MILESTONE_TYPE = Milestone.eip712_types()["Milestone"]
POLICY_TYPE = Policy.eip712_types()["Policy"]
DEAL_OFFER_TYPE = DealOffer.eip712_types()["DealOffer"]
ATTESTATION_TYPE = Attestation.eip712_types()["Attestation"]
MILESTONE_CHANGE_TYPE = MilestoneChange.eip712_types()["MilestoneChange"]
AMENDMENT_TYPE = Amendment.eip712_types()["Amendment"]
CANCELLATION_TYPE = Cancellation.eip712_types()["Cancellation"]
OPERATOR_KEY_TYPE = OperatorKey.eip712_types()["OperatorKey"]
PERMIT_TYPE = Permit.eip712_types()["Permit"]
