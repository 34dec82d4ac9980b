"""Domain errors as HTTP statuses, in one place: the routes raise what went wrong, these
handlers answer it. Everything else a route refuses is an HTTPException with its status."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from backend.auth import AuthError
from backend.escrow.errors import ChainUnavailable, UnknownDeal, UnknownEscrow
from backend.evidence.store import StoreUnavailable


def install(app: FastAPI) -> None:
    app.add_exception_handler(ChainUnavailable, _unavailable)
    app.add_exception_handler(StoreUnavailable, _store_unavailable)
    app.add_exception_handler(AuthError, _unauthorized)
    app.add_exception_handler(UnknownDeal, _unknown)
    app.add_exception_handler(UnknownEscrow, _unknown)


async def _unavailable(_request: Request, exc: Exception) -> JSONResponse:
    """The chain RPC is down, hangs (past ESCROW_RPC_TIMEOUT_SECONDS) or answers errors."""
    return JSONResponse({"detail": str(exc)}, status_code=503)


async def _store_unavailable(_request: Request, exc: Exception) -> JSONResponse:
    """The IPFS node is down or hangs (past ESCROW_IPFS_TIMEOUT_SECONDS)."""
    return JSONResponse({"detail": f"evidence store unavailable: {exc}"}, status_code=503)


async def _unauthorized(_request: Request, exc: Exception) -> JSONResponse:
    """A missing, malformed, expired, wrongly signed or replayed signed request."""
    return JSONResponse({"detail": str(exc)}, status_code=401)


async def _unknown(_request: Request, exc: Exception) -> JSONResponse:
    """The escrow knows no deal of the id asked about, or the service no such escrow."""
    return JSONResponse({"detail": str(exc)}, status_code=404)
