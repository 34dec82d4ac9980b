"""Two replicas of the service (real processes, scripts/service_process.py) on one PostgreSQL
database and one IPFS node: exactly one follows the chain (the lease, backend/lease.py); when it
is killed the other takes over within a bound, and the index matches the chain with no
duplicate and no gap; a signed request spent on one replica is refused by the other."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import brownie
import httpx
import pytest
from helpers import USD, milestones
from service_helpers import signed_headers, upload
from sqlalchemy import create_engine, select, text

from backend.db import ChainEvent
from backend.lease import APPLICATION_NAME, LEASE_KEY
from backend.settings import Settings
from scripts.service_process import LiveService

INTERVAL = 0.5  # each replica's indexer round, and so its tries for the lease
TAKEOVER_BOUND = 10.0  # seconds: a few rounds, on a busy 2-core machine
PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n" + b"survey " * 300


@pytest.fixture
def replicas(request, postgres, postgres_template, ipfs_node, escrow, tmp_path):
    with postgres.database(template=postgres_template) as url:
        start = brownie.chain.height
        settings = Settings(
            rpc_url=brownie.web3.provider.endpoint_uri,
            escrow_address=escrow.address,
            database_url=url,
            ipfs_api_url=ipfs_node,
            run_indexer=True,
            indexer_confirmations=0,
            indexer_start_block=start,
            indexer_interval_seconds=INTERVAL,
        )
        started: list[LiveService] = []

        def start_replica(name: str) -> None:
            replica = settings.model_copy(update={"data_dir": tmp_path / name})
            started.append(LiveService(replica, tmp_path / f"{name}.log"))

        try:
            with ThreadPoolExecutor(2) as pool:  # both start at once: half the wait
                list(pool.map(start_replica, ("a", "b")))
            engine = create_engine(url)
            yield started, engine, start
            engine.dispose()
        finally:
            for service in started:
                if service.process.poll() is None:
                    service.stop()


def _holders(engine) -> list[int]:
    """The process ids holding the lease, as the server sees its sessions."""
    with engine.connect() as conn:
        names = conn.scalars(
            text(
                "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a USING (pid)"
                " WHERE l.locktype = 'advisory' AND l.granted"
                " AND (l.classid::bigint << 32 | l.objid::bigint) = :key"
            ),
            {"key": LEASE_KEY},
        ).all()
    return [int(n.removeprefix(APPLICATION_NAME + " ")) for n in names]


def _wait_for_holder(engine, among: list[LiveService], timeout: float) -> LiveService:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        holders = _holders(engine)
        assert len(holders) <= 1, f"two holders: {holders}"
        found = [s for s in among if s.process.pid in holders]
        if found:
            return found[0]
        time.sleep(0.05)
    raise AssertionError(f"no replica took the lease within {timeout} s")


def _chain_events(escrow, start: int) -> list[tuple]:
    logs = brownie.web3.eth.get_logs(
        {"address": escrow.address, "fromBlock": start, "toBlock": brownie.chain.height}
    )
    return sorted(
        (lg["blockNumber"], lg["logIndex"], "0x" + bytes(lg["transactionHash"]).hex())
        for lg in logs
    )


def _wait_for_index(engine, escrow, start: int, timeout: float = 30) -> list[tuple]:
    """The stored events once they are the chain's (sorted; a duplicate would show twice)."""
    deadline = time.monotonic() + timeout
    while True:
        with engine.connect() as conn:
            rows = conn.execute(select(ChainEvent.block, ChainEvent.log_index, ChainEvent.tx_hash))
            stored = sorted(tuple(r) for r in rows)
        expected = _chain_events(escrow, start)
        if stored == expected or time.monotonic() > deadline:
            return stored
        time.sleep(0.1)


def _deals(create_deal, ops, n: int) -> None:
    for _ in range(n):
        create_deal(milestones([5 * USD], [(ops.inspector,)]))


def test_one_replica_indexes_and_the_other_takes_over_when_it_dies(
    replicas, escrow, ops, create_deal
):
    services, engine, start = replicas
    holder = _wait_for_holder(engine, services, timeout=TAKEOVER_BOUND)
    [other] = [s for s in services if s is not holder]
    _deals(create_deal, ops, 3)
    assert _wait_for_index(engine, escrow, start) == _chain_events(escrow, start)

    holder.kill()
    killed = time.monotonic()
    _deals(create_deal, ops, 3)  # while nobody indexes
    assert _wait_for_holder(engine, [other], timeout=TAKEOVER_BOUND) is other
    takeover = time.monotonic() - killed
    stored = _wait_for_index(engine, escrow, start)
    print(f"\nlease taken over {takeover:.2f} s after its holder was killed")
    assert stored == _chain_events(escrow, start)
    assert len(stored) == len(set(stored)) >= 6
    # The survivor serves what it indexed after the takeover.
    deals = httpx.get(f"{other.url}/deals", timeout=10)
    assert deals.status_code == 200 and len(deals.json()) == 6


def test_a_nonce_spent_on_one_replica_is_refused_on_the_other(
    replicas, escrow, supplier, ops, create_deal
):
    (a, b), engine, _ = replicas
    deal = create_deal(milestones([5 * USD], [(ops.inspector,)]))
    headers = signed_headers(supplier, escrow, PDF, deal.id)
    with (
        httpx.Client(base_url=a.url, timeout=30) as to_a,
        httpx.Client(base_url=b.url, timeout=30) as to_b,
    ):
        first = upload(to_a, supplier, escrow, PDF, deal=deal.id, headers=headers)
        assert first.status_code == 201, first.text
        again = upload(to_b, supplier, escrow, PDF, deal=deal.id, headers=headers)
    assert again.status_code == 401
    assert "nonce already used" in again.json()["detail"]
