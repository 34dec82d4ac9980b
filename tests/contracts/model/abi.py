"""Contracts from brownie's build artifacts (build/contracts/*.json): calldata by function name,
revert data decoded into the custom error it names."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from eth_abi import decode, encode
from eth_utils import keccak

BUILD = Path(__file__).resolve().parents[3] / "build" / "contracts"


def artifact(name: str) -> dict:
    path = BUILD / f"{name}.json"
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: run `brownie compile`")
    return json.loads(path.read_text())


def abi_type(param: dict) -> str:
    """The canonical type of an ABI parameter, tuples spelled out: (uint96,uint40,...)[]."""
    kind = param["type"]
    if kind.startswith("tuple"):
        inner = ",".join(abi_type(c) for c in param["components"])
        return f"({inner}){kind[len('tuple') :]}"
    return kind


def normalise(value):
    """ABI-decoded values as the model keeps them: addresses in lower case, tuples as tuples."""
    if isinstance(value, str) and value.startswith("0x"):
        return value.lower()
    if isinstance(value, list | tuple):
        return tuple(normalise(v) for v in value)
    return value


@dataclass(frozen=True)
class Err:
    """A revert: a custom error by name with its arguments, or Error(string) / Panic(uint256).
    Arguments compare as the model keeps them (ints, enums as ints, addresses lower case)."""

    name: str
    args: tuple = ()

    def __str__(self) -> str:
        return f"{self.name}({', '.join(map(str, self.args))})"


def error(name: str, *args) -> Err:
    return Err(name, tuple(normalise(a) for a in args))


class Abi:
    """Functions and errors of one or more ABIs, merged (the escrow answers IEscrow, its
    errors are declared across both halves and OpenZeppelin)."""

    def __init__(self, *abis: list[dict]):
        self._functions: dict[str, tuple[bytes, list[str], list[str]]] = {}
        self._errors: dict[bytes, tuple[str, list[str]]] = {
            keccak(text="Error(string)")[:4]: ("Error", ["string"]),
            keccak(text="Panic(uint256)")[:4]: ("Panic", ["uint256"]),
        }
        for abi in abis:
            for item in abi:
                if item["type"] not in ("function", "error"):
                    continue
                types = [abi_type(p) for p in item["inputs"]]
                selector = keccak(text=f"{item['name']}({','.join(types)})")[:4]
                if item["type"] == "error":
                    self._errors[selector] = (item["name"], types)
                else:
                    outputs = [abi_type(p) for p in item["outputs"]]
                    self._functions[item["name"]] = (selector, types, outputs)

    def calldata(self, function: str, *args) -> bytes:
        selector, types, _ = self._functions[function]
        return selector + encode(types, args)

    def result(self, function: str, data: bytes) -> tuple:
        return decode(self._functions[function][2], data)

    def decode_error(self, data: bytes) -> Err:
        """The error that revert data names; unknown data comes back as `<unknown 0x...>`."""
        known = self._errors.get(bytes(data[:4]))
        if known is None:
            return Err(f"<unknown 0x{bytes(data).hex()}>")
        name, types = known
        return error(name, *decode(types, bytes(data[4:])))
