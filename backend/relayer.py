"""Posts queued attestations on chain in batches (submitAttestations) from a relayer account,
one Relayer per escrow (each sends the attestations handed in for its escrow, to it).

A batch is marked `submitted` with its transaction hash and committed BEFORE it is sent, and
settled from the receipt: items the escrow skipped (AttestationSkipped) get the decoded
reason, the others are `applied`. After a crash, submitted items are settled from their
receipt; one that never made it on chain goes back to the queue.
"""

from __future__ import annotations

from eth_account import Account
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from web3.logs import DISCARD

from backend.chain import Chain
from backend.db import AttestationIntake
from backend.escrow.sender import Sender
from backend.escrow.sender import tx_hash as hash_of
from backend.escrow.statuses import IntakeStatus
from backend.escrow.structs import SignedAttestation

BATCH = 50
RECEIPT_SECONDS = 60  # a batch not mined by then is taken as dropped: back to the queue


class Relayer:
    def __init__(self, chain: Chain, sessions: sessionmaker[Session], private_key: str):
        self.chain = chain
        self.sessions = sessions
        self.sender = Sender(
            chain.web3,
            Account.from_key(private_key),
            chain.escrow.abi,
            chain_id=chain.chain_id,
            receipt_timeout=RECEIPT_SECONDS,
        )

    def relay_once(self) -> int:
        """Settles what was submitted before, then sends one batch. Returns its size."""
        self._settle_pending()
        with self.sessions() as db:
            rows = db.scalars(
                select(AttestationIntake)
                .where(
                    AttestationIntake.escrow == self.chain.escrow_address,
                    AttestationIntake.status == IntakeStatus.QUEUED,
                )
                .order_by(AttestationIntake.id)
                .limit(BATCH)
            ).all()
            if not rows:
                return 0
            batch = [SignedAttestation.from_json(r.document).as_tuple() for r in rows]
            signed = self.sender.sign(self.chain.escrow.functions.submitAttestations(batch))
            sent = hash_of(signed)
            for row in rows:
                row.status, row.tx_hash = IntakeStatus.SUBMITTED, sent
            db.commit()  # recorded before it leaves: a crash now is settled by _settle_pending
            self.sender.send(signed)
        self._settle(sent)
        return len(rows)

    def _settle_pending(self) -> None:
        with self.sessions() as db:
            hashes = set(
                db.scalars(
                    select(AttestationIntake.tx_hash).where(
                        AttestationIntake.escrow == self.chain.escrow_address,
                        AttestationIntake.status == IntakeStatus.SUBMITTED,
                    )
                )
            )
        for tx_hash in hashes:
            if tx_hash is not None:  # a submitted row always has one
                self._settle(tx_hash)

    def _settle(self, tx_hash: str) -> None:
        try:
            receipt = self.sender.receipt(tx_hash)
        except Exception:  # no answer about it: taken as never mined, like a timeout
            receipt = None
        with self.sessions() as db, db.begin():
            rows = db.scalars(
                select(AttestationIntake).where(AttestationIntake.tx_hash == tx_hash)
            ).all()
            if receipt is None:  # never mined (dropped): back to the queue
                for row in rows:
                    row.status, row.tx_hash = IntakeStatus.QUEUED, None
                return
            if receipt["status"] != 1:
                for row in rows:
                    row.status, row.reason = IntakeStatus.FAILED, "the batch transaction reverted"
                return
            skipped = {}
            # The receipt holds every event of the batch; only AttestationSkipped is wanted here.
            skips = self.chain.escrow.events.AttestationSkipped().process_receipt(
                receipt, errors=DISCARD
            )
            for event in skips:
                a = event["args"]
                key = (a["dealId"], a["milestone"], a["signer"])
                skipped[key] = self.sender.errors.describe(a["reason"])
            for row in rows:
                reason = skipped.get((row.deal_id, row.milestone, row.signer))
                if reason:
                    row.status, row.reason = IntakeStatus.SKIPPED, reason
                else:
                    row.status, row.reason = IntakeStatus.APPLIED, None
