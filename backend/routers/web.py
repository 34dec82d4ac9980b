"""The web page for deal parties (web/): static files, the ethers bundle from node_modules, and
what the page needs to know about this deployment (chain, escrow, ABI, typed-data types).

The page signs and sends with the user's own wallet (EIP-1193, window.ethereum); it reads the
chain through `rpc_url` of /app/config.json and the deal index, evidence and proposals of this
service. Nothing here holds a key.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field

from backend import typed_data
from backend.chain import load_abi
from backend.escrow.statuses import ChangeAction, DealStatus, MilestoneStatus
from backend.escrow.structs import MAX_BPS, MAX_ORACLES, UINT96_MAX
from backend.routers import escrows
from backend.routers._common import UNAVAILABLE, Route, errors
from backend.routers.escrows import EscrowOut
from backend.settings import ROOT

WEB_DIR = ROOT / "web"
ETHERS_BUNDLE = ROOT / "node_modules" / "ethers" / "dist" / "ethers.min.js"
# age-encryption with its imports in one ES module (web/js/confidential.js), built by make setup
AGE_BUNDLE = ROOT / "build" / "vendor" / "age.js"

router = APIRouter(tags=["web page"], route_class=Route)


@router.get("/", include_in_schema=False)
def home() -> RedirectResponse:
    return RedirectResponse("/app/")


class TypedField(BaseModel):
    name: str
    type: str


# What the page signs: the escrow's EIP-712 types by primary type, and the token's Permit.
SIGNED_TYPES = {
    primary: {name: [TypedField(**field) for field in fields] for name, fields in types.items()}
    for primary, types in {
        **typed_data.ESCROW_TYPES,
        "Permit": {"Permit": typed_data.PERMIT_TYPE},
    }.items()
}


class Domain(BaseModel):
    name: str
    version: str


class Statuses(BaseModel):
    """The escrow's enums by number: `deal[n]` names DealStatus n, `milestone[n]` MilestoneStatus n
    (the names /deals uses)."""

    deal: list[str]
    milestone: list[str]


class Limits(BaseModel):
    """What the escrow accepts, for the page to check a form before anything is signed."""

    max_milestones: int = Field(description="milestones per deal (the escrow's MAX_MILESTONES)")
    max_oracles: int = Field(description="oracles a milestone names (its uint32[3] slots)")
    max_bps: int = Field(description="basis points of the whole: a retention is at most this")
    max_amount: str = Field(description="a milestone's largest amount (uint96), decimal")
    max_uint32: int = Field(description="the largest operator id and policy period (seconds)")
    default_ruling_period: int = Field(
        description="seconds the arbiter has when the policy names none (DEFAULT_RULING_PERIOD)"
    )


class PageConfig(BaseModel):
    chain_id: int
    escrow: str = Field(description="the default escrow (the first of `escrows`)")
    escrows: list[EscrowOut] = Field(description="every escrow served, one per token")
    rpc_url: str = Field(description="the RPC the page reads the chain through")
    max_upload_bytes: int
    domain: Domain = Field(description="the escrow's EIP-712 domain, without chain and address")
    types: dict[str, dict[str, list[TypedField]]] = Field(
        description="EIP-712 types by primary type (docs/typed-data.md), and the token's Permit"
    )
    statuses: Statuses
    change_actions: list[str] = Field(description="a change order's actions by number")
    limits: Limits


def _names(enum) -> list[str]:
    return [member.name.title() for member in sorted(enum)]


# The escrow's vocabulary as the page (and tests/js/rules.test.mjs) reads it.
STATUSES = Statuses(deal=_names(DealStatus), milestone=_names(MilestoneStatus))
CHANGE_ACTIONS = [action.name.lower() for action in sorted(ChangeAction)]


@router.get("/app/config.json", responses=errors({503: UNAVAILABLE}))
def config(request: Request) -> PageConfig:
    """The deployment the page works with: chain id, the escrows (one per token: address,
    token, symbol, decimals; the default first), the RPC URL it reads
    through, the EIP-712 types it signs (the same lists docs/typed-data.md documents), and the
    escrow's vocabulary: its statuses and change actions by number, and its limits."""
    settings = request.app.state.settings
    chain = request.app.state.chain
    return PageConfig(
        chain_id=chain.chain_id,
        escrow=chain.escrow_address,
        escrows=escrows.listed(request),
        rpc_url=settings.public_rpc_url or settings.rpc_url,
        max_upload_bytes=settings.max_upload_bytes,
        domain=Domain(name=typed_data.ESCROW_DOMAIN_NAME, version=typed_data.ESCROW_DOMAIN_VERSION),
        types=SIGNED_TYPES,
        statuses=STATUSES,
        change_actions=CHANGE_ACTIONS,
        limits=Limits(
            max_milestones=chain.max_milestones,
            max_oracles=MAX_ORACLES,
            max_bps=MAX_BPS,
            max_amount=str(UINT96_MAX),
            max_uint32=(1 << 32) - 1,
            default_ruling_period=chain.constant("DEFAULT_RULING_PERIOD"),
        ),
    )


@router.get(
    "/app/abi.json", responses=errors({503: "the build artifact is missing (`make compile`)"})
)
def abi() -> list[dict]:
    """The escrow's ABI (IEscrow: both halves at one address)."""
    try:
        return load_abi()
    except FileNotFoundError as exc:
        raise HTTPException(503, str(exc)) from exc


@router.get("/app/vendor/ethers.js", include_in_schema=False)
def ethers_bundle() -> FileResponse:
    if not ETHERS_BUNDLE.exists():
        raise HTTPException(503, "node_modules/ethers is missing: run `make setup`")
    return FileResponse(ETHERS_BUNDLE, media_type="text/javascript")


@router.get("/app/vendor/age.js", include_in_schema=False)
def age_bundle() -> FileResponse:
    if not AGE_BUNDLE.exists():
        raise HTTPException(503, "build/vendor/age.js is missing: run `make setup`")
    return FileResponse(AGE_BUNDLE, media_type="text/javascript")


class Pages(StaticFiles):
    """web/ with a Content-Security-Policy: scripts, styles and fetches from this service
    only, plus the chain RPC the page reads through; no inline script, no framing."""

    def __init__(self, rpc_url: str):
        super().__init__(directory=WEB_DIR, html=True)
        rpc = urlsplit(rpc_url)
        self.headers = {
            "Content-Security-Policy": (
                "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                f"connect-src 'self' {rpc.scheme}://{rpc.netloc}; frame-ancestors 'none'; "
                "base-uri 'none'; form-action 'none'"
            ),
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        }

    async def get_response(self, path: str, scope):
        response = await super().get_response(path, scope)
        response.headers.update(self.headers)
        return response


def mount_pages(app) -> None:
    """The page itself, after the routes above (they take precedence under /app)."""
    settings = app.state.settings
    app.mount("/app", Pages(settings.public_rpc_url or settings.rpc_url), name="app")
