"""The operator registry: identities, keys, rotation, revocation."""

import brownie
from helpers import DAY, key_consent, now, reverts


def _new_key():
    key = brownie.accounts.add()
    return key


def test_registration_assigns_id_admin_and_key(escrow, stranger):
    key = _new_key()
    tx = escrow.registerOperator(
        "Lab", "ipfs://lab", key, *key_consent(escrow, stranger, key), {"from": stranger}
    )
    op_id = tx.events["OperatorRegistered"]["operatorId"]
    assert op_id == escrow.operatorCount()
    assert tuple(escrow.getOperator(op_id)) == (stranger, 1, "Lab", "ipfs://lab")
    assert escrow.operatorOf(key) == op_id


def test_key_cannot_serve_two_operators(escrow, inspector, stranger, ops):
    consent = key_consent(escrow, stranger, inspector)  # even with the key's own consent
    with reverts("KeyAlreadyRegistered", inspector.address, ops.inspector):
        escrow.registerOperator("Copycat", "", inspector, *consent, {"from": stranger})


def test_zero_key_is_refused(escrow, stranger):
    with reverts("InvalidKey"):
        escrow.registerOperator("Nobody", "", brownie.ZERO_ADDRESS, 0, b"", {"from": stranger})


def test_nobody_binds_a_key_it_does_not_hold(escrow, stranger, inspector, ops):
    """Squatting: naming someone else's address as a key, without its signature, is refused;
    after the attempt the key's owner binds it as usual."""
    victim = _new_key()
    with reverts("InvalidKeyConsent", victim.address):
        escrow.registerOperator("Squatter", "", victim, 0, b"", {"from": stranger})
    with reverts("InvalidKeyConsent", victim.address):  # the victim's consent names its admin
        consent = key_consent(escrow, inspector, victim)
        escrow.registerOperator("Squatter", "", victim, *consent, {"from": stranger})
    own = escrow.registerOperator("Squatter", "", stranger, 0, b"", {"from": stranger})
    squatter = own.events["OperatorRegistered"]["operatorId"]
    with reverts("InvalidKeyConsent", victim.address):
        escrow.addOperatorKey(squatter, victim, 0, b"", {"from": stranger})
    assert tuple(escrow.getKey(victim)) == (0, False)
    escrow.addOperatorKey(
        ops.inspector, victim, *key_consent(escrow, inspector, victim), {"from": inspector}
    )
    assert escrow.operatorOf(victim) == ops.inspector


def test_a_key_consent_expires(escrow, inspector, ops):
    key, deadline = _new_key(), now() + DAY
    consent = key_consent(escrow, inspector, key, deadline=deadline)
    brownie.chain.sleep(DAY + 10)
    brownie.chain.mine()
    with reverts("KeyConsentExpired", deadline):
        escrow.addOperatorKey(ops.inspector, key, *consent, {"from": inspector})


def test_a_key_adds_itself_without_a_signature(escrow):
    """The admin is the key: its own transaction is its consent."""
    key = _new_key()
    tx = escrow.registerOperator("Solo", "", key, 0, b"", {"from": key})
    assert escrow.operatorOf(key) == tx.events["OperatorRegistered"]["operatorId"]


def test_revoked_key_is_gone_for_good(escrow, inspector, ops):
    escrow.revokeOperatorKey(ops.inspector, inspector, {"from": inspector})
    assert escrow.operatorOf(inspector) == 0
    assert tuple(escrow.getKey(inspector)) == (ops.inspector, True)
    with reverts("KeyAlreadyRegistered"):
        escrow.addOperatorKey(ops.inspector, inspector, 0, b"", {"from": inspector})


def test_only_the_admin_manages_keys(escrow, stranger, ops):
    with reverts("NotOperatorAdmin", ops.inspector, stranger.address):
        escrow.addOperatorKey(ops.inspector, _new_key(), 0, b"", {"from": stranger})


def test_revoking_a_key_of_another_operator_fails(escrow, inspector, carrier, ops):
    with reverts("KeyNotActive", ops.inspector, carrier.address):
        escrow.revokeOperatorKey(ops.inspector, carrier, {"from": inspector})


def test_admin_role_can_be_handed_on(escrow, inspector, stranger, ops):
    escrow.transferOperatorAdmin(ops.inspector, stranger, {"from": inspector})
    assert escrow.getOperator(ops.inspector)[0] == stranger
    with reverts("NotOperatorAdmin"):
        escrow.addOperatorKey(ops.inspector, _new_key(), 0, b"", {"from": inspector})


def test_metadata_update_is_recorded(escrow, inspector, ops):
    tx = escrow.updateOperatorMetadata(
        ops.inspector, "Inspector BV", "ipfs://new", {"from": inspector}
    )
    assert tuple(escrow.getOperator(ops.inspector))[2:] == ("Inspector BV", "ipfs://new")
    assert tx.events["OperatorMetadataUpdated"]["metadataURI"] == "ipfs://new"


def test_unknown_operator_is_reported(escrow):
    with reverts("UnknownOperator", 999):
        escrow.getOperator(999)
