"""The HTTP forms of the escrow's structs: pydantic models derived from the declarations
(backend/escrow/structs.py) for EIP-712 messages handed in as JSON (the `message` part of what
a wallet signed with eth_signTypedData_v4): uints as JSON integers up to 2^53 - 1 or decimal
strings of any size, addresses in any case (checksummed), bytes32 as 0x hex (lowercased).
Each type's JSON schema states exactly what it takes."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated, Any

from eth_utils import to_checksum_address
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    StrictBool,
    WithJsonSchema,
    create_model,
)

from backend.escrow.statuses import Labelled
from backend.escrow.struct import REGISTRY, Sol, Struct, bits
from backend.escrow.structs import (
    Amendment,
    Attestation,
    Cancellation,
    DealOffer,
    Milestone,
    MilestoneChange,
    Policy,
)

MAX_SIGNATURE_BYTES = 4096  # ECDSA is 65; room for a multisig's EIP-1271 signature

_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
_BYTES32 = re.compile(r"0x[0-9a-fA-F]{64}")


def decimal_pattern(low: int, high: int) -> str:
    """A regular expression matching exactly the decimal strings (no sign, no leading zero)
    of the integers low..high, for low 0 or 1: so that the OpenAPI document states the range
    of a uint given as a string as exactly as `minimum`/`maximum` state it for a number."""
    digits = str(high)
    alternatives = [] if low else ["0"]
    if len(digits) > 1:
        alternatives.append(f"[1-9][0-9]{{0,{len(digits) - 2}}}")  # fewer digits than high
    for i, d in enumerate(digits):  # the same number of digits: a lower digit at position i
        lowest = 1 if i == 0 else 0
        if int(d) > lowest:
            rest = len(digits) - i - 1
            lower = f"[{lowest}-{int(d) - 1}]" if int(d) - 1 > lowest else str(lowest)
            alternatives.append(digits[:i] + lower + (f"[0-9]{{{rest}}}" if rest else ""))
    alternatives.append(digits)
    return "^(?:" + "|".join(alternatives) + ")$"


# The largest integer every JSON parser reads exactly (IEEE doubles: JavaScript, and most
# others); larger uints travel as decimal strings.
MAX_JSON_INTEGER = (1 << 53) - 1


def uint(bits: int, low: int = 0) -> Any:
    """A uint<bits> (at least `low`) given as a JSON integer up to 2^53 - 1 (`7` and `7.0`
    alike, as JSON Schema reads them) or as a decimal string of any size; parsed to an int.
    The schema states the range of both forms exactly."""
    high = (1 << bits) - 1
    high_number = min(high, MAX_JSON_INTEGER)
    pattern = decimal_pattern(low, high)
    decimal = re.compile(pattern[1:-1])  # fullmatch: `$` would let a final newline through

    def parse(value: object) -> int:
        if isinstance(value, str) and decimal.fullmatch(value):
            return int(value)
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"a uint{bits} is a JSON integer or a decimal string")
        if not low <= value <= high_number:
            raise ValueError(
                f"{value} is not a uint{bits} from {low} given as a JSON number (at most "
                f"{high_number}; a decimal string for larger values)"
            )
        return value

    schema = {
        "anyOf": [
            {"type": "integer", "minimum": low, "maximum": high_number},
            {"type": "string", "pattern": pattern},
        ]
    }
    return Annotated[int, PlainValidator(parse), WithJsonSchema(schema)]


def _hex(pattern: re.Pattern, what: str, schema_pattern: str) -> Any:
    """A 0x-hex string matching `pattern`, lowercased."""

    def parse(value: object) -> str:
        if not isinstance(value, str) or not pattern.fullmatch(value):
            raise ValueError(f"{what} must be 0x-prefixed hex")
        return value.lower()

    schema = {"type": "string", "pattern": schema_pattern}
    return Annotated[str, PlainValidator(parse), WithJsonSchema(schema)]


def _address(value: object) -> str:
    if not isinstance(value, str) or not _ADDRESS.fullmatch(value):
        raise ValueError("an address is 0x and 40 hex digits (any case)")
    return to_checksum_address(value)


Uint8, Uint16, Uint32, Uint40, Uint96, Uint256 = (uint(b) for b in (8, 16, 32, 40, 96, 256))
Bytes32 = _hex(_BYTES32, "a bytes32 (32 bytes)", "^0x[0-9a-fA-F]{64}$")
SignatureHex = _hex(
    re.compile(rf"0x(?:[0-9a-fA-F]{{2}}){{1,{MAX_SIGNATURE_BYTES}}}"),
    "the signature",
    rf"^0x(?:[0-9a-fA-F]{{2}}){{1,{MAX_SIGNATURE_BYTES}}}$",
)
Address = Annotated[
    str,
    PlainValidator(_address),
    WithJsonSchema({"type": "string", "pattern": "^0x[0-9a-fA-F]{40}$"}),
]


class WireModel(BaseModel):
    model_config = ConfigDict(extra="forbid")  # exactly the typed struct's fields

    if TYPE_CHECKING:  # the fields of a derived model (model_of) by their wire names

        def __getattr__(self, name: str) -> Any: ...


def enum_code(enum: type[Labelled], what: str) -> Any:
    """A Solidity enum's number (the field `what`), as a JSON integer or its decimal string."""
    codes = sorted(e.value for e in enum)
    spelled = [f"{e.value} ({e.label})" for e in enum]

    def parse(value: object) -> int:
        if isinstance(value, str) and value in {str(c) for c in codes}:
            value = int(value)
        if type(value) is not int or value not in codes:
            raise ValueError(f"{what} is {', '.join(spelled[:-1])} or {spelled[-1]}")
        return value

    schema = {
        "description": ", ".join(f"{e.value} {e.label}" for e in enum),
        "anyOf": [{"enum": codes}, {"enum": [str(c) for c in codes]}],
    }
    return Annotated[int, PlainValidator(parse), WithJsonSchema(schema)]


_SCALARS: dict[str, Any] = {
    "address": Address,
    "bytes32": Bytes32,
    "bool": StrictBool,
    "string": str,
}
_MODELS: dict[type[Struct], type[WireModel]] = {}


def model_of(struct: type[Struct], name: str | None = None) -> type[WireModel]:
    """The pydantic model of `struct`'s EIP-712 message: its wire names, in its order, each
    typed by its Solidity type (named `<Struct>In` unless `name`)."""
    if struct not in _MODELS:
        fields: dict[str, Any] = {s.name: (_field_type(s), ...) for _, s in struct.sol_fields()}
        _MODELS[struct] = create_model(  # type: ignore[call-overload]
            name or f"{struct.__name__}In", __base__=WireModel, **fields
        )
    return _MODELS[struct]


def _field_type(s: Sol) -> Any:
    base, dims = s.base, s.dims
    kind: Any
    if s.enum is not None:
        kind = enum_code(s.enum, s.name)
    elif base in REGISTRY:
        kind = model_of(REGISTRY[base])
    elif base in _SCALARS:
        kind = _SCALARS[base]
    else:
        kind = uint(bits(base), s.low)
    if dims:
        size = dims[dims.rindex("[") + 1 : -1]
        low, high = (int(size), int(size)) if size else (None, s.max_items)
        items = list[kind]  # type: ignore[valid-type]
        kind = items if high is None else Annotated[items, Field(min_length=low, max_length=high)]
    if s.doc is not None:
        kind = Annotated[kind, Field(description=s.doc)]
    return kind


if TYPE_CHECKING:  # to mypy, plain models: their fields exist once the declarations are read
    MilestoneIn = WireModel
    PolicyIn = WireModel
    DealOfferIn = WireModel
    MilestoneChangeIn = WireModel
    AmendmentIn = WireModel
    CancellationIn = WireModel
    AttestationFieldsIn = WireModel
else:
    MilestoneIn = model_of(Milestone)
    PolicyIn = model_of(Policy)
    DealOfferIn = model_of(DealOffer)
    MilestoneChangeIn = model_of(MilestoneChange)
    AmendmentIn = model_of(Amendment)
    CancellationIn = model_of(Cancellation)
    AttestationFieldsIn = model_of(Attestation, "AttestationFieldsIn")
