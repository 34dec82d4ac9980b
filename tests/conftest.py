"""Shared fixtures: accounts named by role, module-scoped deployments, deal factories.

Every test runs against a real anvil chain (brownie's development network); `fn_isolation`
snapshots the chain before each test and reverts it after. Helpers: tests/helpers.py.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from brownie import TestEuro, TestStablecoin, accounts
from helpers import (
    HOSTILE_TOKENS,
    USD,
    Deal,
    Operators,
    fund_fully,
    milestones,
    new_account,
    register_operators,
)

from backend.terms import NO_POLICY, Milestone, Policy
from scripts import deals
from scripts.deploy import deploy_escrow
from scripts.ipfs_node import IpfsNodeError
from scripts.ipfs_node import ipfs_node as start_ipfs_node

# The longest test files (seconds of one worker, `--durations=0` summed per file), started first:
# `make test` hands whole files to its workers in collection order (--dist loadfile, with
# --no-loadscope-reorder: xdist would otherwise start the files with the most tests first), so a
# long file collected last runs alone at the end while the other workers idle. Longest first is
# the classic greedy schedule. Refresh the list when a file's cost moves a lot.
LONGEST_FIRST = (  # two quiet 3-worker runs at fb60c6c (600 s and 506 s), the larger figure
    "contracts/test_stateful.py",  # 222
    "web/test_pages.py",  # 115
    "service/test_faults.py",  # 82
    "web/test_confidential_documents.py",  # 79
    "service/test_fuzz_api.py",  # 77
    "service/test_review_findings.py",  # 69
    "oracle/test_oracle_desk.py",  # 57
    "service/test_evidence_api.py",  # 54
    "service/test_indexer.py",  # 49
    "service/test_proposals.py",  # 48
    "service/test_replicas.py",  # 41
    "service/test_offers.py",  # 41
    "contracts/test_hostile_tokens.py",  # 40
    "service/test_attestation_intake.py",  # 31
    "deploy/test_live_deploy.py",  # 26
    "service/test_confidential_api.py",  # 26
    "service/test_migrations.py",  # 25
)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    def rank(item) -> int:
        path = item.nodeid.split("::")[0].removeprefix("tests/")
        return LONGEST_FIRST.index(path) if path in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=rank)  # stable: the rest keep their order, and each file its own


@pytest.fixture(autouse=True)
def isolation(fn_isolation):
    pass


@pytest.fixture(scope="session")
def deployer():
    return accounts[0]


@pytest.fixture(scope="session")
def buyer():
    return new_account()


@pytest.fixture(scope="session")
def supplier():
    return new_account()


@pytest.fixture(scope="session")
def inspector():
    return new_account()


@pytest.fixture(scope="session")
def carrier():
    return new_account()


@pytest.fixture(scope="session")
def customs():
    return new_account()


@pytest.fixture(scope="session")
def arbiter():
    return new_account()


@pytest.fixture(scope="session")
def stranger():
    return new_account()


@pytest.fixture(scope="module")
def stable(deployer):
    return TestStablecoin.deploy({"from": deployer})


@pytest.fixture(scope="module")
def escrow(stable, deployer):
    return deploy_escrow(stable, deployer)


@pytest.fixture(scope="module")
def ops(escrow, inspector, carrier, customs, arbiter) -> Operators:
    return register_operators(escrow, inspector, carrier, customs, arbiter)


@pytest.fixture
def create_deal(escrow, buyer, supplier, ops) -> Callable[..., Deal]:
    """Create a deal (by the supplier unless `by` says otherwise) from `terms`."""

    def create(
        terms: list[Milestone], by=None, arbiter: int | None = None, policy: Policy = NO_POLICY
    ) -> Deal:
        tx = deals.create_deal(
            escrow,
            buyer,
            supplier,
            ops.arbiter if arbiter is None else arbiter,
            terms,
            policy,
            by=by,
        )
        return Deal(deals.deal_id(tx), terms)

    return create


@pytest.fixture
def active_deal(escrow, stable, buyer, ops, create_deal) -> Deal:
    """A funded 3-milestone deal: inspector alone; inspector + carrier 2-of-2; customs alone."""
    deal = create_deal(
        milestones(
            [100 * USD, 200 * USD, 300 * USD],
            [(ops.inspector,), (ops.inspector, ops.carrier), (ops.customs,)],
            [1, 2, 1],
        )
    )
    fund_fully(escrow, stable, buyer, deal.id)
    return deal


@pytest.fixture(scope="module")
def euro(deployer):
    """A second token (18 decimals), for a second escrow beside `escrow`."""
    return TestEuro.deploy({"from": deployer})


@pytest.fixture(scope="module")
def escrow_eur(euro, deployer):
    return deploy_escrow(euro, deployer)


@pytest.fixture(scope="module")
def ops_eur(escrow_eur, inspector, carrier, customs, arbiter) -> Operators:
    return register_operators(escrow_eur, inspector, carrier, customs, arbiter)


@pytest.fixture(scope="module", params=list(HOSTILE_TOKENS), ids=list(HOSTILE_TOKENS))
def any_token(request, deployer):
    """Each of the tokens the escrow must survive, deployed fresh."""
    return HOSTILE_TOKENS[request.param].deploy({"from": deployer})


@pytest.fixture(scope="module")
def any_escrow(any_token, deployer):
    return deploy_escrow(any_token, deployer)


@pytest.fixture(scope="module")
def any_ops(any_escrow, inspector, carrier, customs, arbiter) -> Operators:
    return register_operators(any_escrow, inspector, carrier, customs, arbiter)


@pytest.fixture(scope="session")
def ipfs_node():
    """A fresh js-ipfs node (tools/ipfs-node.sh) in a temp repo on free ports, offline; yields
    its API URL (http://127.0.0.1:<port>) and is stopped, its repo removed, at the end."""
    try:
        with start_ipfs_node() as url:
            yield url
    except IpfsNodeError as exc:
        pytest.fail(str(exc), pytrace=False)
