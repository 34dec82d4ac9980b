"""Deal routes by escrow: each is served at `/escrows/{escrow}/deals/{id}...` (canonical), and
at the older `/deals/{id}...` for the default escrow, marked deprecated in the OpenAPI document,
so that clients from before several escrows keep working. One endpoint function serves both:
the alias is the same function with its `chain: EscrowDep` parameter read as the default
escrow instead of the path's."""

from __future__ import annotations

import functools
import inspect
import typing
from collections.abc import Callable

from fastapi import APIRouter

from backend.deps import ChainDep, EscrowDep

CANONICAL = "/escrows/{escrow}"


def escrow_routers(prefix: str, **kw) -> tuple[APIRouter, APIRouter]:
    """The canonical router (`/escrows/{escrow}<prefix>`) and its deprecated alias (`prefix`)."""
    return APIRouter(prefix=CANONICAL + prefix, **kw), APIRouter(prefix=prefix, **kw)


def route(routers: tuple[APIRouter, APIRouter], method: str, path: str, **kw) -> Callable:
    """A decorator: the endpoint on both routers (its `chain` parameter an EscrowDep)."""
    canonical, alias = routers

    def register(endpoint: Callable) -> Callable:
        canonical.api_route(path, methods=[method], **kw)(endpoint)
        alias.api_route(path, methods=[method], deprecated=True, **kw)(_on_default(endpoint))
        return endpoint

    return register


def _on_default(endpoint: Callable) -> Callable:
    hints = typing.get_type_hints(endpoint, include_extras=True)
    signature = inspect.signature(endpoint)
    assert hints.get("chain") == EscrowDep, f"{endpoint.__name__} takes no `chain: EscrowDep`"
    parameters = [
        p.replace(annotation=ChainDep if p.name == "chain" else hints[p.name])
        for p in signature.parameters.values()
    ]
    if inspect.iscoroutinefunction(endpoint):

        @functools.wraps(endpoint)
        async def alias(*args, **kwargs):
            return await endpoint(*args, **kwargs)
    else:

        @functools.wraps(endpoint)
        def alias(*args, **kwargs):
            return endpoint(*args, **kwargs)

    alias.__signature__ = signature.replace(  # type: ignore[attr-defined]  # what FastAPI reads
        parameters=parameters, return_annotation=hints.get("return", signature.return_annotation)
    )
    return alias
