"""FastAPI dependencies: settings, database session, evidence store, chain."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from backend.chain import Chain
from backend.evidence.store import EvidenceStore
from backend.settings import Settings


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_db(request: Request) -> Iterator[Session]:
    with request.app.state.sessionmaker() as session:
        yield session


def get_store(request: Request) -> EvidenceStore:
    return request.app.state.store


def get_chain(request: Request) -> Chain:
    return request.app.state.chain


SettingsDep = Annotated[Settings, Depends(get_settings)]
DbDep = Annotated[Session, Depends(get_db)]
StoreDep = Annotated[EvidenceStore, Depends(get_store)]
ChainDep = Annotated[Chain, Depends(get_chain)]
