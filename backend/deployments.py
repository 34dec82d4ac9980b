"""deployments/<chain id>.json: where each token's escrow lives on a chain.

One escrow instance per token, so the file maps a token symbol to its escrow:
{
  "chainId": 1337,
  "escrows": {
    "tUSD": {"escrow": "0x…", "token": "0x…", "decimals": 6, "block": 3}
  }
}
The scripts write it; the service and other clients read it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

DEPLOYMENTS_DIR = Path(__file__).resolve().parent.parent / "deployments"


@dataclass(frozen=True)
class EscrowDeployment:
    escrow: str
    token: str
    decimals: int
    block: int


def path_for(chain_id: int, directory: Path = DEPLOYMENTS_DIR) -> Path:
    return directory / f"{chain_id}.json"


def load(chain_id: int, directory: Path = DEPLOYMENTS_DIR) -> dict[str, EscrowDeployment]:
    path = path_for(chain_id, directory)
    if not path.exists():
        return {}
    data = json.loads(path.read_text())
    if data.get("chainId") != chain_id:
        raise ValueError(f"{path} is for chain {data.get('chainId')}, not {chain_id}")
    return {symbol: EscrowDeployment(**entry) for symbol, entry in data["escrows"].items()}


def record(
    chain_id: int, symbol: str, deployment: EscrowDeployment, directory: Path = DEPLOYMENTS_DIR
) -> Path:
    """Add or replace one token's escrow, keeping the others; written atomically."""
    escrows = load(chain_id, directory)
    escrows[symbol] = deployment
    path = path_for(chain_id, directory)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    body = {"chainId": chain_id, "escrows": {s: asdict(d) for s, d in sorted(escrows.items())}}
    tmp.write_text(json.dumps(body, indent=2) + "\n")
    tmp.replace(path)
    return path
