"""What every router shares: the error body and the error responses the OpenAPI document
lists, the ids of the service's own rows, and the route class whose 405 names every method of
its path."""

from __future__ import annotations

from collections import defaultdict
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path
from fastapi.routing import APIRoute
from pydantic import BaseModel
from starlette.types import Receive, Scope, Send

# Ids of rows the service numbers itself (SQLite and most SQL integers are signed 64-bit).
MAX_ROW_ID = (1 << 63) - 1
RowId = Annotated[int, Path(ge=0, le=MAX_ROW_ID, description="an id this service gave")]
# Deal ids are the escrow's uint256, numbered from 1; the index keeps them as 64-bit integers
# (a deal id at or above 2^63 would take more deals than any chain can hold).
DealId = Annotated[int, Path(ge=0, le=MAX_ROW_ID, description="the escrow's deal id")]

UNAVAILABLE = (
    "the chain RPC or the IPFS node is unreachable or gave no answer within its timeout "
    "(ESCROW_RPC_TIMEOUT_SECONDS / ESCROW_IPFS_TIMEOUT_SECONDS); nothing was recorded"
)


class ErrorOut(BaseModel):
    """Every refusal but 422 (whose `detail` lists the invalid fields)."""

    detail: str


def errors(described: dict[int, str]) -> dict[int | str, dict]:
    """`responses=` for a route: each status with its meaning and the error body."""
    return {code: {"model": ErrorOut, "description": text} for code, text in described.items()}


class Route(APIRoute):
    """An APIRoute whose 405 lists, in `Allow`, every method its path answers. Starlette lets
    the first route of a path answer a method none of them has, with its own methods only:
    `GET` and `POST /offers`, two routes, answered `DELETE /offers` with `Allow: POST`."""

    path_methods: frozenset[str] = frozenset()

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.methods and scope["method"] not in self.methods:
            allowed = ", ".join(sorted(self.path_methods or self.methods))
            raise HTTPException(405, "method not allowed", headers={"Allow": allowed})
        await super().handle(scope, receive, send)


def share_allowed_methods(router: APIRouter) -> None:
    """Tells each Route of `router` the methods of every route of it with the same path (each
    path of the service belongs to one router)."""
    routes = [r for r in router.routes if isinstance(r, Route)]
    methods: dict[str, set[str]] = defaultdict(set)
    for route in routes:
        methods[route.path] |= route.methods or set()
    for route in routes:
        route.path_methods = frozenset(methods[route.path])
