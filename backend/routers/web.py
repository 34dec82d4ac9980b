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

from backend import typed_data
from backend.chain import load_abi
from backend.routers._common import UNAVAILABLE, Route, errors
from backend.settings import ROOT

WEB_DIR = ROOT / "web"
ETHERS_BUNDLE = ROOT / "node_modules" / "ethers" / "dist" / "ethers.min.js"
# age-encryption with its imports in one ES module (web/js/confidential.js), built by make setup
AGE_BUNDLE = ROOT / "build" / "vendor" / "age.js"

router = APIRouter(tags=["web page"], route_class=Route)


@router.get("/", include_in_schema=False)
def home() -> RedirectResponse:
    return RedirectResponse("/app/")


@router.get("/app/config.json", responses=errors({503: UNAVAILABLE}))
def config(request: Request) -> dict:
    """The deployment the page works with: chain id, escrow address, the RPC URL it reads
    through, and the EIP-712 types it signs (the same lists docs/typed-data.md documents)."""
    settings = request.app.state.settings
    chain = request.app.state.chain
    return {
        "chain_id": chain.chain_id,
        "escrow": chain.escrow_address,
        "rpc_url": settings.public_rpc_url or settings.rpc_url,
        "max_upload_bytes": settings.max_upload_bytes,
        "domain": {
            "name": typed_data.ESCROW_DOMAIN_NAME,
            "version": typed_data.ESCROW_DOMAIN_VERSION,
        },
        "types": {**typed_data.ESCROW_TYPES, "Permit": {"Permit": typed_data.PERMIT_TYPE}},
    }


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
