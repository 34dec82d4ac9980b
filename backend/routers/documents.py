"""/deals/{id}/documents: the documents uploaded for a deal, so that its parties' and
operators' pages can list them before any attestation names one (the deal index knows only
the attested ones). A confidential document appears as its ciphertext and its manifest; the
records say nothing the CIDs do not, and reading stays as open as GET /evidence/{cid}."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import select

from backend.db import Evidence
from backend.deps import DbDep
from backend.routers._common import DealId, Route

router = APIRouter(prefix="/deals", tags=["deals"], route_class=Route)


class DocumentOut(BaseModel):
    cid: str
    sha256: str
    size: int
    media_type: str
    uploader: str
    milestone: int | None
    url: str
    created_at: datetime


@router.get("/{deal_id}/documents", response_model=list[DocumentOut])
def deal_documents(deal_id: DealId, db: DbDep) -> list[DocumentOut]:
    """The documents uploaded for the deal, oldest first (an unknown deal has none)."""
    rows = db.scalars(
        select(Evidence).where(Evidence.deal_id == deal_id).order_by(Evidence.created_at)
    )
    return [
        DocumentOut(
            cid=e.cid,
            sha256=e.sha256,
            size=e.size,
            media_type=e.media_type,
            uploader=e.uploader,
            milestone=e.milestone,
            url=f"/evidence/{e.cid}",
            created_at=e.created_at,
        )
        for e in rows
    ]
