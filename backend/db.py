"""The service's database, through SQLAlchemy: an SQLite file by default, PostgreSQL in
production (docs/deploy.md). The schema's versions: backend/migrations, backend/migrate.py."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Connection,
    DateTime,
    Integer,
    String,
    UniqueConstraint,
    create_engine,
    event,
)
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    configure_mappers,
    mapped_column,
    sessionmaker,
)

from backend.escrow.statuses import IntakeStatus, MilestoneStatus


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class Evidence(Base):
    """One stored document; the same bytes are always one row (the CID is their identity)."""

    __tablename__ = "evidence"

    cid: Mapped[str] = mapped_column(String(128), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    media_type: Mapped[str] = mapped_column(String(64))
    uploader: Mapped[str] = mapped_column(String(42))
    # The deal the document was uploaded for: its escrow (checksummed) and id, or neither.
    escrow: Mapped[str | None] = mapped_column(String(42), nullable=True)
    deal_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True, index=True)
    milestone: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class UsedNonce(Base):
    """Signed-request nonces already seen, per signer: a request can never be replayed."""

    __tablename__ = "used_nonces"
    __table_args__ = (UniqueConstraint("address", "nonce"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    address: Mapped[str] = mapped_column(String(42))
    nonce: Mapped[str] = mapped_column(String(80))
    expires: Mapped[int] = mapped_column(BigInteger, index=True)  # expired ones are purged


# ---------------------------------------------------------------- the deal index
# Amounts are token base units; stored as decimal strings where they may exceed 64 bits.


class IndexerCursor(Base):
    """The next block to read, per escrow; moved in the same transaction as the events."""

    __tablename__ = "indexer_cursor"

    escrow: Mapped[str] = mapped_column(String(42), primary_key=True)
    next_block: Mapped[int] = mapped_column(BigInteger)


class ChainEvent(Base):
    """Every escrow event, once: (tx_hash, log_index) is unique, so a replay cannot double it."""

    __tablename__ = "chain_events"
    __table_args__ = (UniqueConstraint("tx_hash", "log_index"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    block: Mapped[int] = mapped_column(BigInteger, index=True)
    tx_hash: Mapped[str] = mapped_column(String(66))
    log_index: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(40))
    escrow: Mapped[str] = mapped_column(String(42))  # checksummed: the escrow that emitted it
    deal_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True, index=True)
    args: Mapped[dict] = mapped_column(JSON)


class DealRow(Base):
    """A deal, by escrow and id: each escrow numbers its deals from 1."""

    __tablename__ = "deals"

    escrow: Mapped[str] = mapped_column(String(42), primary_key=True)  # checksummed
    deal_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    buyer: Mapped[str] = mapped_column(String(42), index=True)
    supplier: Mapped[str] = mapped_column(String(42), index=True)
    arbiter: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    total: Mapped[str] = mapped_column(String(40))
    funded: Mapped[str] = mapped_column(String(40), default="0")
    released: Mapped[str] = mapped_column(String(40), default="0")
    refunded: Mapped[str] = mapped_column(String(40), default="0")
    created_block: Mapped[int] = mapped_column(BigInteger)


class MilestoneRow(Base):
    __tablename__ = "milestones"

    escrow: Mapped[str] = mapped_column(String(42), primary_key=True)  # checksummed
    deal_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    index: Mapped[int] = mapped_column(Integer, primary_key=True)
    amount: Mapped[str] = mapped_column(String(40))
    due_at: Mapped[int] = mapped_column(BigInteger)
    quorum: Mapped[int] = mapped_column(Integer)
    oracles: Mapped[list] = mapped_column(JSON)
    requirements_hash: Mapped[str] = mapped_column(String(66))
    status: Mapped[str] = mapped_column(String(16), default=MilestoneStatus.PENDING.label)


class VerdictRow(Base):
    """An oracle's attestation ("met") or rejection ("not met") of a milestone."""

    __tablename__ = "verdicts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    escrow: Mapped[str] = mapped_column(String(42))  # checksummed: the deal's escrow
    deal_id: Mapped[int] = mapped_column(BigInteger, index=True)
    index: Mapped[int] = mapped_column(Integer)
    operator_id: Mapped[int] = mapped_column(Integer)
    signer: Mapped[str] = mapped_column(String(42))
    met: Mapped[bool] = mapped_column(Boolean)
    evidence_sha256: Mapped[str] = mapped_column(String(64), index=True)
    block: Mapped[int] = mapped_column(BigInteger)
    tx_hash: Mapped[str] = mapped_column(String(66))


class OperatorRow(Base):
    """An operator of the escrow's registry (an oracle or an arbiter), from its events: who
    administers it and what it calls itself. Its keys are OperatorKeyRow."""

    __tablename__ = "operators"

    escrow: Mapped[str] = mapped_column(String(42), primary_key=True)
    operator_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    admin: Mapped[str] = mapped_column(String(42))
    name: Mapped[str] = mapped_column(String)
    metadata_uri: Mapped[str] = mapped_column(String)
    registered_block: Mapped[int] = mapped_column(BigInteger)


class OperatorKeyRow(Base):
    """A signing key of an operator: added once, revoked at most once (a key serves one
    operator for its whole life, so the key alone is the row's identity in an escrow)."""

    __tablename__ = "operator_keys"

    escrow: Mapped[str] = mapped_column(String(42), primary_key=True)
    key: Mapped[str] = mapped_column(String(42), primary_key=True)  # checksummed
    operator_id: Mapped[int] = mapped_column(Integer, index=True)
    added_block: Mapped[int] = mapped_column(BigInteger)
    revoked_block: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class AttestationIntake(Base):
    """A signed attestation handed to the service, and what became of it on chain:
    queued -> submitted (tx_hash) -> applied | skipped (reason) | failed (reason). One per
    (digest, signer): the EIP-712 digest does not cover the signer, and the oracles of a
    2-of-2 milestone sign the very same facts."""

    __tablename__ = "attestation_intake"
    # Named as revision 0002 names it (PostgreSQL's own name for it), so that a new SQLite
    # database, made from these models, carries the name a later revision would drop it by.
    __table_args__ = (
        UniqueConstraint("digest", "signer", name="attestation_intake_digest_signer_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    digest: Mapped[str] = mapped_column(String(66), index=True)  # EIP-712 digest
    escrow: Mapped[str] = mapped_column(String(42))  # checksummed: the deal's escrow
    deal_id: Mapped[int] = mapped_column(BigInteger, index=True)
    milestone: Mapped[int] = mapped_column(Integer)
    signer: Mapped[str] = mapped_column(String(42))
    met: Mapped[bool] = mapped_column(Boolean)
    evidence_sha256: Mapped[str] = mapped_column(String(64))
    document: Mapped[str] = mapped_column(String)  # the JSON as received
    status: Mapped[str] = mapped_column(String(16), default=IntakeStatus.QUEUED.value, index=True)
    reason: Mapped[str | None] = mapped_column(String, nullable=True)
    tx_hash: Mapped[str | None] = mapped_column(String(66), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Proposal(Base):
    """A change order or cancellation one party of a deal signed (EIP-712 `Amendment` /
    `Cancellation`), kept for the other party to apply on chain (`amend` /
    `cancelByAgreement`). Whether it still applies is read from the chain, never stored."""

    __tablename__ = "proposals"
    __table_args__ = (UniqueConstraint("digest", "signer"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    escrow: Mapped[str] = mapped_column(String(42))  # checksummed: the deal's escrow
    deal_id: Mapped[int] = mapped_column(BigInteger, index=True)
    kind: Mapped[str] = mapped_column(String(16))  # amendment | cancellation
    signer: Mapped[str] = mapped_column(String(42))  # checksummed: the buyer or the supplier
    message: Mapped[dict] = mapped_column(JSON)  # uints as decimal strings, bytes32 lowercase
    signature: Mapped[str] = mapped_column(String)  # 0x hex; any length for EIP-1271 signers
    digest: Mapped[str] = mapped_column(String(66), index=True)  # EIP-712 digest, 0x hex
    deal_version: Mapped[int] = mapped_column(Integer)
    deadline: Mapped[str] = mapped_column(String(78))  # a uint256, as a decimal string
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Offer(Base):
    """A deal offered by its supplier (EIP-712 `DealOffer`), kept for the buyer to accept on
    chain (`acceptOffer`). Whether it is still open is read from the chain, never stored."""

    __tablename__ = "offers"
    __table_args__ = (UniqueConstraint("digest", "supplier"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    escrow: Mapped[str] = mapped_column(String(42))  # checksummed: whose domain it is signed in
    supplier: Mapped[str] = mapped_column(String(42), index=True)  # checksummed: the signer
    buyer: Mapped[str] = mapped_column(String(42), index=True)  # checksummed
    nonce: Mapped[str] = mapped_column(String(78))  # a uint256, as a decimal string
    deadline: Mapped[str] = mapped_column(String(78))  # a uint256, as a decimal string
    total: Mapped[str] = mapped_column(String(40))  # sum of the milestone amounts
    offer: Mapped[dict] = mapped_column(JSON)  # uints as decimal strings, bytes32 lowercase
    signature: Mapped[str] = mapped_column(String)  # 0x hex; any length for EIP-1271 signers
    digest: Mapped[str] = mapped_column(String(66), index=True)  # EIP-712 digest, 0x hex
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


# ---------------------------------------------------------------- confidential evidence
# docs/confidential.md; created by revision 0003.


class KeyBinding(Base):
    """An account's newest published age recipient, kept as the signed document it came in,
    so that clients verify it again rather than trust this service."""

    __tablename__ = "key_bindings"

    account: Mapped[str] = mapped_column(String(42), primary_key=True)  # checksummed
    recipient: Mapped[str] = mapped_column(String(100))
    generation: Mapped[int] = mapped_column(BigInteger)
    issued_at: Mapped[str] = mapped_column(String(20))  # a uint64, as a decimal string
    document: Mapped[dict] = mapped_column(JSON)  # the binding document, as signed
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class EvidenceCopy(Base):
    """One ciphertext of the document a stored manifest describes: the anchored one (the
    manifest's own) or a later reader's copy of the same plaintext. One per ciphertext."""

    __tablename__ = "evidence_copies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    manifest_cid: Mapped[str] = mapped_column(String(128), index=True)
    ciphertext_cid: Mapped[str] = mapped_column(String(128), unique=True)
    uploader: Mapped[str] = mapped_column(String(42))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class CopyReader(Base):
    """A reader a copy was encrypted to, as its uploader stated it (an age file does not name
    its recipients, so the service cannot check this)."""

    __tablename__ = "evidence_copy_readers"
    __table_args__ = (UniqueConstraint("copy_id", "account"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    copy_id: Mapped[int] = mapped_column(Integer, index=True)
    account: Mapped[str] = mapped_column(String(42), index=True)  # checksummed
    recipient: Mapped[str] = mapped_column(String(100))


# ---------------------------------------------------------------- the database


def make_sessionmaker(url: str, escrow: str | None = None) -> sessionmaker[Session]:
    """Sessions on `url`, whose schema is the code's: an embedded SQLite file is upgraded to
    it, any other database must be already (backend/migrate.py says how). `escrow`: the one
    escrow a service was configured with (ESCROW_ESCROW_ADDRESS), whose rows an embedded
    database from before several escrows holds (revision 0004)."""
    from backend import migrate  # it reads the models' metadata through the migrations

    sqlite = url.startswith("sqlite")
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False} if sqlite else {},
        pool_pre_ping=not sqlite,  # a server restarted or a connection dropped: a new one
    )
    if sqlite:

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(conn, _record):  # durable and concurrent enough for one service
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA foreign_keys=ON")

    migrate.ensure_current(engine, escrow, Base.metadata)
    configure_mappers()  # now, rather than in the first request that queries
    return sessionmaker(engine, expire_on_commit=False)


def connect(sessions: sessionmaker[Session]) -> Connection:
    """A bare connection of `sessions`' engine (commit as you go: the caller commits), for an
    upload's few one-row statements, which a Session's unit of work only slows down."""
    return sessions.kw["bind"].connect()
