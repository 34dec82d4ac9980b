"""Stateful test: random programs over the whole deal lifecycle, on a chain driven directly over
JSON-RPC, checked step by step against a Python model (tests/contracts/model).

Rules (model/*.py): create (by either party; with or without a policy: examination window,
retention), accept, fund (partly, fully, more than needed), call off; verdicts met and not met;
release after the window, waive it, release a holdback, refund; disputes by the buyer and the
supplier side, a ruled split, the default after the ruling deadline; change orders (edit, add,
remove) and cancellation by agreement, applied at once or signed now and applied after other
things happened; receivables assigned to a financier; operator keys added, revoked, rotated in
the middle of deals; time passing (to the second around every deadline). Per token: a
denylisted party and its withdrawal, a token whose transfers call back into the escrow.

Every rule predicts whether its call succeeds or which custom error (with its arguments) it
fails with. A predicted success is sent and must succeed; a predicted failure is simulated
(eth_call, at the next block's exact timestamp) and must fail with exactly that error.
Invariants after every step, read in one call (contracts/test/EscrowLens.sol):
  - every deal's and milestone's status, amount, deadline, verdict count, version and payee
    equal the model's;
  - per deal: credited == held + paid out; the escrow's token balance == everything deals hold
    + everything owed (deferred payouts);
  - every account's balance and owed amount moved by exactly what the rules, a signed split or
    a ruling gave it (fees of the fee token included): nobody receives more, or twice;
  - operator keys resolve as the model says; the re-entrant token's call-backs were all refused
    (ReentrancyGuardReentrantCall) and nothing else changed;
  - a change order moves exactly the amounts its signer saw, and a signed cancellation never
    moves more to the signer's counterparty than the signer saw (HeldAmountChanged once
    anything was paid out since); signatures over a revoked agreement nonce are refused; an
    assigned payee's consent is needed before its share is cut; withdraw refuses the zero
    address and the escrow (MODEL_SAFE_RULES=0 leaves these out).
A failure is shrunk to a minimal program, printed with the chain calls it made.

Budget (environment): MODEL_EXAMPLES programs per token (default 60) of MODEL_STEPS steps
(default 150), over the tokens in MODEL_TOKENS (default all six, comma-separated), from
MODEL_SEED (default: random; printed on failure). `make fuzz` runs a long campaign.
"""

from __future__ import annotations

import os
import random

import pytest
from helpers import HOSTILE_TOKENS
from model.deploy import World
from model.engine import explore
from model.machine import EscrowModel

MODEL_TOKENS = {kind: container._name for kind, container in HOSTILE_TOKENS.items()}
MODEL_TOKENS["reentrant"] = "ReentrantToken"

EVERYDAY_EXAMPLES, EVERYDAY_STEPS = 60, 150  # 6 tokens x 9,000 steps: 54,000 steps
EXAMPLES = int(os.environ.get("MODEL_EXAMPLES") or EVERYDAY_EXAMPLES)
STEPS = int(os.environ.get("MODEL_STEPS") or EVERYDAY_STEPS)
SEED = int(os.environ.get("MODEL_SEED") or random.randrange(2**32))
TOKENS = [t for t in os.environ.get("MODEL_TOKENS", ",".join(MODEL_TOKENS)).split(",") if t]

# What every token's run must have done successfully at the everyday budget or above (each
# happens a dozen times or more in such a run): a model that predicted only refusals would
# pass every check without testing anything.
MUST_SUCCEED = (
    "createDeal",
    "acceptDeal",
    "fund",
    "cancelDeal",
    "attest",
    "reject",
    "refund",
    "release",
    "waiveExamination",
    "releaseRetention",
    "openDispute",
    "rule",
    "settleDispute",
    "amend",
    "cancelByAgreement",
    "assignPayments",
    "addOperatorKey",
    "revokeOperatorKey",
    "revokeAgreements",
    "consentAsPayee",
)
MUST_SUCCEED_FOR = {"blocklist": ("blacklist", "withdraw"), "reentrant": ("arm",)}


@pytest.fixture(scope="module")
def world():
    unknown = set(TOKENS) - set(MODEL_TOKENS)
    if unknown:
        pytest.fail(f"MODEL_TOKENS: unknown {sorted(unknown)}, known {list(MODEL_TOKENS)}")
    world = World({kind: MODEL_TOKENS[kind] for kind in TOKENS})
    yield world
    world.close()


@pytest.mark.parametrize("kind", TOKENS)
def test_escrow_matches_model(world, kind):
    deployment = world.deployments[kind]
    world.chain.succeeded.clear()
    world.chain.refused.clear()
    stats = explore(
        lambda: EscrowModel(world, deployment),
        EscrowModel,
        examples=EXAMPLES,
        steps=STEPS,
        seed=SEED,
        label=kind,
        applies_to=kind,
    )
    reached, refused = world.chain.succeeded, world.chain.refused
    print(
        f"\n{kind}: {stats.steps} steps in {stats.examples} programs, {stats.seconds:.1f} s, "
        f"{stats.per_second:.0f} steps/s (MODEL_SEED={SEED}); calls that succeeded: "
        + ", ".join(f"{f} {n}" for f, n in sorted(reached.items()))
        + f"; refused as predicted: {sum(refused.values())}, with {len(refused)} kinds of error"
    )
    assert stats.steps == EXAMPLES * STEPS
    if EXAMPLES * STEPS >= EVERYDAY_EXAMPLES * EVERYDAY_STEPS:
        wanted = MUST_SUCCEED + MUST_SUCCEED_FOR.get(kind, ())
        missing = [f for f in wanted if not reached[f]]
        assert not missing, f"no program reached a successful {missing}"
