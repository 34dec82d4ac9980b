"""FastAPI dependencies: settings, database session, evidence store, chain."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Path, Request
from sqlalchemy.orm import Session, sessionmaker

from backend.chain import Chain
from backend.escrows import Escrows
from backend.evidence.store import EvidenceStore
from backend.settings import Settings

# Async on purpose: FastAPI runs a plain `def` dependency in a worker thread, a hop per
# dependency per request for what is an attribute read.


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_db(request: Request) -> AsyncIterator[Session]:
    """A session for the whole request: for routes that read the database and nothing else."""
    with request.app.state.sessionmaker() as session:
        yield session


async def get_sessions(request: Request) -> sessionmaker[Session]:
    """For routes that also wait on the chain or the IPFS node: they open a short session for
    each database step, so that no database connection is held while they wait."""
    return request.app.state.sessionmaker


async def get_store(request: Request) -> EvidenceStore:
    return request.app.state.store


async def get_escrows(request: Request) -> Escrows:
    return request.app.state.escrows


async def get_chain(request: Request) -> Chain:
    """The default escrow (ESCROW_TOKEN_SYMBOL's, or ESCROW_ESCROW_ADDRESS)."""
    return request.app.state.chain


EscrowAddress = Annotated[
    str,
    Path(
        description="the escrow's address, checksummed or lowercase (GET /escrows lists them)",
        pattern="^0x[0-9a-fA-F]{40}$",
    ),
]


def get_escrow(escrow: EscrowAddress, request: Request) -> Chain:
    """The escrow the path names, or 404 (UnknownEscrow). A plain `def`: the first call may
    read the chain id from the RPC."""
    return request.app.state.escrows.get(escrow)


SettingsDep = Annotated[Settings, Depends(get_settings)]
DbDep = Annotated[Session, Depends(get_db)]
SessionsDep = Annotated[sessionmaker[Session], Depends(get_sessions)]
StoreDep = Annotated[EvidenceStore, Depends(get_store)]
ChainDep = Annotated[Chain, Depends(get_chain)]
EscrowDep = Annotated[Chain, Depends(get_escrow)]
EscrowsDep = Annotated[Escrows, Depends(get_escrows)]
