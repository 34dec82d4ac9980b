"""How an escrow struct is declared once and written in every form: a frozen dataclass whose
fields carry their Solidity type and wire name (`sol`), from which `Struct` derives the ABI
tuple, the EIP-712 message and type list, and the ABI components a test compares with the
compiled interface (backend/escrow/http.py derives the HTTP models from the same fields).

Python keeps snake_case names and its own conveniences (a milestone's oracles as 1..3 ids);
`encode` turns such a value into its wire form. The fields are declared in Solidity's order:
that order IS the ABI tuple and the EIP-712 type."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, ClassVar

from backend.escrow import eip712
from backend.escrow.statuses import Labelled

ZERO_ADDRESS = "0x" + "00" * 20
_ARRAY = re.compile(r"^(?P<base>[A-Za-z0-9]+)(?P<dims>(?:\[\d*\])*)$")


@dataclass(frozen=True)
class Sol:
    """A field's Solidity side: its type (`solidity`) as EIP-712 writes it (a struct by its
    EIP-712 or ABI name: `Milestone[]`), its name on the wire, and what the HTTP form adds."""

    solidity: str
    name: str
    encode: Callable[[Any], Any] | None = None  # the Python value -> the wire value
    low: int = 0  # the least value the HTTP form takes (uints)
    enum: type[Labelled] | None = None  # a Solidity enum (a uint8 on the wire)
    doc: str | None = None  # the HTTP form's description
    max_items: int | None = None  # the HTTP form's bound on a dynamic array

    @property
    def base(self) -> str:
        return _split(self.solidity)[0]

    @property
    def dims(self) -> str:
        return _split(self.solidity)[1]


def sol(type_: str, name: str, default: Any = dataclasses.MISSING, **extra: Any) -> Any:
    """A dataclass field with its Solidity type and wire name (see `Sol`)."""
    return dataclasses.field(default=default, metadata={"sol": Sol(type_, name, **extra)})


def _split(type_: str) -> tuple[str, str]:
    match = _ARRAY.match(type_)
    if match is None:
        raise ValueError(f"not a Solidity type: {type_}")
    return match["base"], match["dims"]


# Every declared struct by the name other structs' fields give it (EIP-712's, else the ABI's).
REGISTRY: dict[str, type[Struct]] = {}


class Struct:
    """Base of the escrow's structs (frozen dataclasses with `sol` fields). EIP712: the
    struct's EIP-712 type name (None: not signed); ABI: its name in IEscrowTypes (None: not in
    the ABI)."""

    EIP712: ClassVar[str | None] = None
    ABI: ClassVar[str | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        name = cls.EIP712 or cls.ABI
        if name is not None:
            REGISTRY[name] = cls

    @classmethod
    def sol_fields(cls) -> list[tuple[str, Sol]]:
        """(Python name, Solidity side) of each field on the wire, in Solidity's order."""
        return [
            (f.name, f.metadata["sol"])
            for f in dataclasses.fields(cls)  # type: ignore[arg-type]
            if "sol" in f.metadata
        ]

    def as_tuple(self) -> tuple:
        """The ABI form, as web3 / brownie take it for a struct argument."""
        return tuple(_wire(s, getattr(self, name), abi=True) for name, s in self.sol_fields())

    def as_typed(self) -> dict:
        """The EIP-712 form: {wire name: value} as eth-account hashes it."""
        return {s.name: _wire(s, getattr(self, name), abi=False) for name, s in self.sol_fields()}

    def typed_message(self, domain: dict) -> dict:
        """The full EIP-712 message of this struct in `domain`."""
        return eip712.full_message(type(self).eip712_types(), domain, self.as_typed())

    @classmethod
    def eip712_types(cls) -> dict[str, list[dict]]:
        """This struct's EIP-712 type first, then the types it refers to, by name."""
        if cls.EIP712 is None:
            raise TypeError(f"{cls.__name__} is not signed (no EIP-712 type)")
        refers: dict[str, list[dict]] = {}
        for _, s in cls.sol_fields():
            if s.base in REGISTRY:
                refers.update(REGISTRY[s.base].eip712_types())
        own = [{"name": s.name, "type": s.solidity} for _, s in cls.sol_fields()]
        return {cls.EIP712: own, **dict(sorted(refers.items()))}

    @classmethod
    def abi_components(cls) -> list[dict]:
        """The struct's components as the ABI lists them (without `internalType`)."""
        out = []
        for _, s in cls.sol_fields():
            if s.base in REGISTRY:
                nested = REGISTRY[s.base].abi_components()
                out.append({"name": s.name, "type": "tuple" + s.dims, "components": nested})
            else:
                out.append({"name": s.name, "type": s.solidity})
        return out

    @classmethod
    def zero(cls, abi: bool) -> tuple | dict:
        """The all-zero value of the struct (what a signer signs for terms left out)."""
        values = [(s.name, _zero(s.base, s.dims, abi)) for _, s in cls.sol_fields()]
        return tuple(v for _, v in values) if abi else dict(values)


def _wire(s: Sol, value: Any, abi: bool) -> Any:
    if s.encode is not None:
        value = s.encode(value)
    nested = REGISTRY.get(s.base)
    if nested is not None:
        if s.dims:
            return [_struct(nested, v, abi) for v in value]
        return _struct(nested, value, abi)
    if isinstance(value, IntEnum):
        return int(value)
    return list(value) if s.dims and isinstance(value, tuple) else value


def _struct(cls: type[Struct], value: Struct | None, abi: bool) -> Any:
    if value is None:  # a struct left out: its zero value
        return cls.zero(abi)
    return value.as_tuple() if abi else value.as_typed()


def _zero(base: str, dims: str, abi: bool) -> Any:
    if dims:
        size = dims[dims.rindex("[") + 1 : -1]
        inner = dims[: dims.rindex("[")]
        return [_zero(base, inner, abi) for _ in range(int(size or 0))]
    if base in REGISTRY:
        return REGISTRY[base].zero(abi)
    if base == "address":
        return ZERO_ADDRESS
    if base == "bool":
        return False
    if base.startswith("bytes") and base[5:].isdigit():
        return bytes(int(base[5:]))
    if base in ("bytes", "string"):
        return b"" if base == "bytes" else ""
    return 0  # uintN / intN


def bits(type_: str) -> int:
    """The width of a uintN."""
    if not (type_.startswith("uint") and type_[4:].isdigit()):
        raise ValueError(f"{type_} is not a uintN")
    return int(type_[4:])
