"""The service's database (SQLite file by default, through SQLAlchemy)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    DateTime,
    Integer,
    String,
    UniqueConstraint,
    create_engine,
    event,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker


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
    expires: Mapped[int] = mapped_column(BigInteger)


def make_sessionmaker(url: str) -> sessionmaker[Session]:
    engine = create_engine(
        url, connect_args={"check_same_thread": False} if "sqlite" in url else {}
    )
    if url.startswith("sqlite"):

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(conn, _record):  # durable and concurrent enough for one service
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA foreign_keys=ON")

    Base.metadata.create_all(engine)
    return sessionmaker(engine, expire_on_commit=False)
