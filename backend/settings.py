"""Service settings, from the environment (prefix ESCROW_), with local-development defaults.

pydantic-settings cannot be installed beside eth-brownie 1.22.2 (python-dotenv pins clash),
so this is a plain pydantic model filled from os.environ: same idea, one class, one place.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, Field

ROOT = Path(__file__).resolve().parent.parent

ALLOWED_MEDIA_TYPES = (
    "application/pdf",
    "image/png",
    "image/jpeg",
    "image/webp",
    "application/json",
    "text/plain",
    "application/age-encryption",  # a confidential document's ciphertext (docs/confidential.md)
    "application/vnd.milestone-escrow.manifest+json",  # and its manifest
)


LISTS = ("allowed_media_types", "escrows")  # comma-separated in the environment


class Settings(BaseModel):
    rpc_url: str = "http://127.0.0.1:8545"
    public_rpc_url: str | None = None  # the RPC the web page reads through (default: rpc_url)
    chain_id: int | None = None  # read from the RPC when not set
    deployments_dir: Path = ROOT / "deployments"
    # The escrows served: those of the deployments file (one per token), all of them or the
    # symbols listed here; `token_symbol`'s is the default one (what /deals/{id} addresses).
    # `escrow_address` overrides the file: that one escrow alone.
    token_symbol: str = "tUSD"
    escrows: tuple[str, ...] = ()
    escrow_address: str | None = None
    ipfs_api_url: str | None = None  # None: the embedded content-addressed store
    data_dir: Path = ROOT / "var"
    database_url: str | None = None  # default sqlite:///<data_dir>/service.db
    max_upload_bytes: int = Field(default=64 * 1024 * 1024, gt=0)
    allowed_media_types: tuple[str, ...] = ALLOWED_MEDIA_TYPES
    auth_max_validity_seconds: int = 600  # how far in the future a signed request may expire
    # How long one call to the chain RPC or the IPFS node may go unanswered before the request
    # that made it is answered 503 (docs/service.md, "Bounded waits").
    rpc_timeout_seconds: float = Field(default=5.0, gt=0)
    ipfs_timeout_seconds: float = Field(default=5.0, gt=0)
    chain_cache_seconds: float = 15.0  # how long deal parties / operator keys are reused
    run_indexer: bool = False  # follow the chain in a background thread (make serve: on)
    indexer_confirmations: int = Field(default=2, ge=0)
    indexer_start_block: int = Field(default=0, ge=0)
    indexer_interval_seconds: float = Field(default=2.0, gt=0)  # between rounds
    indexer_batch_blocks: int = Field(default=10_000, gt=0)  # blocks per eth_getLogs and commit
    relayer_private_key: str | None = None  # set: relay handed-in attestations from this key
    relay_interval_seconds: float = 3.0

    @property
    def database(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'service.db'}"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        source = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for name in cls.model_fields:
            raw = source.get(f"ESCROW_{name.upper()}")
            if raw is not None:
                values[name] = raw.split(",") if name in LISTS else raw
        return cls.model_validate(values)


@lru_cache
def get_settings() -> Settings:
    return Settings.from_env()
