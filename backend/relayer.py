"""Posts queued attestations on chain in batches (submitAttestations) from a relayer account.

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

from backend.attestations import SignedAttestation
from backend.chain import Chain, error_names
from backend.db import AttestationIntake

BATCH = 50


class Relayer:
    def __init__(self, chain: Chain, sessions: sessionmaker[Session], private_key: str):
        self.chain = chain
        self.sessions = sessions
        self.account = Account.from_key(private_key)
        self._errors = error_names(chain.escrow.abi)

    def relay_once(self) -> int:
        """Settles what was submitted before, then sends one batch. Returns its size."""
        self._settle_pending()
        with self.sessions() as db:
            rows = db.scalars(
                select(AttestationIntake)
                .where(AttestationIntake.status == "queued")
                .order_by(AttestationIntake.id)
                .limit(BATCH)
            ).all()
            if not rows:
                return 0
            batch = [SignedAttestation.from_json(r.document).as_tuple() for r in rows]
            web3 = self.chain.web3
            call = self.chain.escrow.functions.submitAttestations(batch)
            tx = call.build_transaction(
                {
                    "from": self.account.address,
                    "nonce": web3.eth.get_transaction_count(self.account.address, "pending"),
                    "chainId": self.chain.chain_id,
                }
            )
            signed = self.account.sign_transaction(tx)
            tx_hash = "0x" + bytes(signed.hash).hex()
            for row in rows:
                row.status, row.tx_hash = "submitted", tx_hash
            db.commit()  # recorded before it leaves: a crash now is settled by _settle_pending
            web3.eth.send_raw_transaction(signed.raw_transaction)
        self._settle(tx_hash)
        return len(rows)

    def _settle_pending(self) -> None:
        with self.sessions() as db:
            hashes = set(
                db.scalars(
                    select(AttestationIntake.tx_hash).where(AttestationIntake.status == "submitted")
                )
            )
        for tx_hash in hashes:
            self._settle(tx_hash)

    def _settle(self, tx_hash: str) -> None:
        web3 = self.chain.web3
        try:
            receipt = web3.eth.wait_for_transaction_receipt(tx_hash, timeout=60)
        except Exception:  # never mined (dropped): back to the queue
            receipt = None
        with self.sessions() as db, db.begin():
            rows = db.scalars(
                select(AttestationIntake).where(AttestationIntake.tx_hash == tx_hash)
            ).all()
            if receipt is None:
                for row in rows:
                    row.status, row.tx_hash = "queued", None
                return
            if receipt.status != 1:
                for row in rows:
                    row.status, row.reason = "failed", "the batch transaction reverted"
                return
            skipped = {}
            # The receipt holds every event of the batch; only AttestationSkipped is wanted here.
            skips = self.chain.escrow.events.AttestationSkipped().process_receipt(
                receipt, errors=DISCARD
            )
            for event in skips:
                a = event["args"]
                skipped[(a["dealId"], a["milestone"], a["signer"])] = self._reason(a["reason"])
            for row in rows:
                reason = skipped.get((row.deal_id, row.milestone, row.signer))
                row.status, row.reason = ("skipped", reason) if reason else ("applied", None)

    def _reason(self, data: bytes) -> str:
        data = bytes(data)
        return self._errors.get(data[:4].hex(), "unknown error") + f" (0x{data.hex()})"
