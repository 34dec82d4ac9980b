"""The escrow's ABI (the IEscrow build artifact): loading it, reading what a view returns by
its components' names (never by position), and naming a revert's custom error by its
selector."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from eth_utils import keccak, to_checksum_address

from backend.settings import ROOT

# The IEscrow interface: everything the escrow address answers (its extension included).
ARTIFACT = ROOT / "build" / "contracts" / "IEscrow.json"


def load_abi(artifact: Path = ARTIFACT) -> list[dict]:
    """The escrow's ABI from the build artifact (`make compile` writes it)."""
    if not artifact.exists():
        raise FileNotFoundError(f"{artifact} is missing: run `make compile`")
    return json.loads(artifact.read_text())["abi"]


def named(item: dict, value: Any) -> Any:
    """A value eth-abi (or web3's `call`) decoded for the ABI `item`, as web3's event
    processing gives it: addresses checksummed, structs as {component name: value}."""
    kind = item["type"]
    if kind == "address":
        return to_checksum_address(value)
    if kind == "tuple":
        return {c["name"]: named(c, v) for c, v in zip(item["components"], value, strict=True)}
    if kind.endswith("]"):
        inner = {**item, "type": kind[: kind.rindex("[")]}
        return [named(inner, v) for v in value]
    return value


def view(contract: Any, function: str, *args: Any) -> dict:
    """Call a view of `contract` (a web3 contract) that returns one struct: the struct by
    its component names, as the ABI names them."""
    [output] = contract.get_function_by_name(function).abi["outputs"]
    return named(output, contract.functions[function](*args).call())


class ErrorNames:
    """The custom errors of an ABI by their 4-byte selectors, to name revert data."""

    def __init__(self, abi: list[dict]):
        self.by_selector: dict[bytes, str] = {}
        for item in abi:
            if item["type"] == "error":
                types = ",".join(i["type"] for i in item["inputs"])
                self.by_selector[keccak(text=f"{item['name']}({types})")[:4]] = item["name"]

    def describe(self, data: bytes) -> str:
        """The error's name and the revert data, e.g. `DeadlinePassed (0x…)`."""
        data = bytes(data)
        return self.by_selector.get(data[:4], "unknown error") + f" (0x{data.hex()})"

    def of_exception(self, exc: Exception) -> str:
        """What a failed call or gas estimate reverted with: the custom error's name and the
        revert data when web3 handed the data over, else the exception's own text."""
        data = getattr(exc, "data", None) or (exc.args[1] if len(exc.args) > 1 else None)
        if isinstance(data, dict):
            data = data.get("data")
        if isinstance(data, str) and data.startswith("0x") and len(data) >= 10:
            name = self.by_selector.get(bytes.fromhex(data[2:10]))
            if name:
                return f"{name} (revert data {data})"
        return str(exc)
