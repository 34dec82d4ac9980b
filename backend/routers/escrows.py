"""/escrows: the escrows this service serves, one per token, for clients to pick one. Every deal
is addressed by its escrow and id: /escrows/{escrow}/deals/{id}."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from backend.escrows import Served
from backend.routers._common import UNAVAILABLE, Route, errors

router = APIRouter(prefix="/escrows", tags=["escrows"], route_class=Route)


class EscrowOut(BaseModel):
    address: str = Field(description="the escrow, checksummed")
    token: str = Field(description="the ERC-20 its deals are in, checksummed")
    symbol: str = Field(description="the token's symbol, as the deployments file names it")
    decimals: int = Field(description="the token's decimals: amounts are in its base units")
    block: int = Field(description="the block it was deployed in (its history starts there)")
    default: bool = Field(description="the escrow the routes without an address mean")

    @classmethod
    def of(cls, served: Served, default: bool) -> EscrowOut:
        return cls(
            address=served.address,
            token=served.token,
            symbol=served.symbol,
            decimals=served.decimals,
            block=served.block,
            default=default,
        )


def listed(request: Request) -> list[EscrowOut]:
    served = request.app.state.escrows.served()
    return [EscrowOut.of(s, default=i == 0) for i, s in enumerate(served)]


@router.get("", response_model=list[EscrowOut], responses=errors({503: UNAVAILABLE}))
def escrows(request: Request) -> list[EscrowOut]:
    """The escrows served, the default one first: address, token, symbol, decimals,
    deployment block."""
    return listed(request)
