"""docs/errors.md from the NatSpec of the escrow's custom errors.

Every custom error either half of the escrow can raise (the union of MilestoneEscrow's and
EscrowExtension's ABIs) is listed with its selector and its `@notice`: when it is raised and
what the caller can do. The texts live in the interfaces (contracts/interfaces/); this only
lays them out. tests/contracts/test_errors_doc.py checks that the file is current.

    python -m scripts.errors_doc        (after `brownie compile`; rewrites docs/errors.md)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from eth_utils import keccak

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "build" / "contracts"
OUT = ROOT / "docs" / "errors.md"
HALVES = ("MilestoneEscrow", "EscrowExtension")
# Where the escrow's own errors are documented (their NatSpec is not copied into the
# implementations' artifacts).
INTERFACES = ("IEscrowTypes", "IOperatorRegistry", *HALVES)
# OpenZeppelin's errors carry a developer note only; what they mean for a caller of the escrow:
LIBRARY_NOTES = {
    "ReentrancyGuardReentrantCall": "A call re-entered the escrow while one of its token-moving "
    "calls was running (e.g. from a token's transfer hook). Refused; call again once the first "
    "call has returned.",
    "SafeERC20FailedOperation": "The token refused a transfer the escrow asked for (it reverted "
    "without a reason or returned false): a deposit without the allowance or the balance, or a "
    "withdrawal to an address the token refuses. Fix the allowance or balance, or withdraw to "
    "another address.",
    "InvalidShortString": "Only possible at deployment (OpenZeppelin's EIP712 name handling); "
    "the escrow's name and version are short constants, so a deployed escrow never raises it.",
    "StringTooLong": "Only possible at deployment, as InvalidShortString.",
}


def _signature(entry: dict) -> str:
    return f"{entry['name']}({','.join(_type(i) for i in entry['inputs'])})"


def _type(param: dict) -> str:
    kind = param["type"]
    if kind.startswith("tuple"):
        return "(" + ",".join(_type(c) for c in param["components"]) + ")" + kind[5:]
    return kind


def _artifact(name: str) -> dict:
    return json.loads((BUILD / f"{name}.json").read_text())


def errors() -> list[dict]:
    """Each error: name, signature with parameter names, selector, notice."""
    notices: dict[str, str] = {}
    for name in INTERFACES:
        for sig, docs in _artifact(name).get("natspec", {}).get("errors", {}).items():
            for doc in docs:
                if "notice" in doc:
                    notices[sig] = doc["notice"]
    found: dict[str, dict] = {}
    for name in HALVES:
        for entry in _artifact(name)["abi"]:
            if entry["type"] != "error":
                continue
            sig = _signature(entry)
            params = ", ".join(f"{_type(i)} {i['name']}".strip() for i in entry["inputs"])
            found[sig] = {
                "name": entry["name"],
                "declaration": f"{entry['name']}({params})",
                "selector": "0x" + keccak(text=sig)[:4].hex(),
                "notice": notices.get(sig) or LIBRARY_NOTES.get(entry["name"], ""),
            }
    return sorted(found.values(), key=lambda e: e["name"])


def render(items: list[dict]) -> str:
    lines = [
        "# The escrow's errors",
        "",
        "Every refusal of the escrow is one of these custom errors (never a bare revert or an",
        "arithmetic panic); nothing changes when a call reverts. Revert data is the 4-byte",
        "selector followed by the ABI-encoded arguments, so any client can name it with the",
        "escrow's ABI (ethers: `interface.parseError(data)`). Generated from the NatSpec in",
        "`contracts/interfaces/` by `python -m scripts.errors_doc`; a test keeps it current.",
        "",
        "| error | selector | when, and what to do |",
        "|---|---|---|",
    ]
    for e in items:
        notice = e["notice"].replace("|", "\\|").replace("\n", " ")
        lines.append(
            f'| <a id="{e["name"]}"></a>`{e["declaration"]}` | `{e["selector"]}` | {notice} |'
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    items = errors()
    missing = [e["name"] for e in items if not e["notice"]]
    if missing:
        sys.exit(f"errors without a @notice: {', '.join(missing)}")
    OUT.write_text(render(items))
    print(f"{OUT.relative_to(ROOT)}: {len(items)} errors")


if __name__ == "__main__":
    main()
