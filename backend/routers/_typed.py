"""Pydantic types for EIP-712 messages handed in as JSON (the `message` part of what a wallet
signed with eth_signTypedData_v4), shared by the routers that keep signed messages: uints as
JSON integers up to 2^53 - 1 or decimal strings of any size, addresses in any case
(checksummed), bytes32 as 0x hex (lowercased); and the conversions to what eth-account hashes
and to what is stored. Each type's JSON schema states exactly what it takes."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated

from eth_utils import to_checksum_address
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    WithJsonSchema,
    field_validator,
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


def _uint(bits: int, low: int = 0):
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


def _hex(pattern: re.Pattern, what: str, schema_pattern: str):
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


Uint8, Uint16, Uint32, Uint40, Uint96, Uint256 = (_uint(b) for b in (8, 16, 32, 40, 96, 256))
DealVersion = _uint(16, low=1)  # versions start at 1
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


class Struct(BaseModel):
    model_config = ConfigDict(extra="forbid")  # exactly the typed struct's fields


class MilestoneIn(Struct):
    amount: Uint96
    dueAt: Uint40
    quorum: Uint8
    oracles: Annotated[list[Uint32], Field(min_length=3, max_length=3)]
    requirementsHash: Bytes32


def typed(message: BaseModel) -> dict:
    """The message as eth-account hashes it: ints, addresses as checksummed strings, and
    bytes32 as bytes (the only other strings)."""

    def convert(value):
        if isinstance(value, dict):
            return {k: convert(v) for k, v in value.items()}
        if isinstance(value, list):
            return [convert(v) for v in value]
        if isinstance(value, str) and len(value) == 66:  # a bytes32
            return bytes.fromhex(value[2:])
        return value

    return convert(message.model_dump())


def normalised(value):
    """Every uint as a decimal string (JavaScript numbers stop at 2^53); hex stays hex."""
    if isinstance(value, dict):
        return {k: normalised(v) for k, v in value.items()}
    if isinstance(value, list):
        return [normalised(v) for v in value]
    if isinstance(value, int):
        return str(value)
    return value


class StoredOut(BaseModel):
    """A stored signed message as the routes return it: the row's columns, plus the `status`
    worked out from the chain at the time of the request."""

    created_at: datetime

    @field_validator("created_at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        # SQLite keeps no offset; the service writes UTC
        return value if value.tzinfo else value.replace(tzinfo=UTC)

    @classmethod
    def of(cls, row, status: str):
        columns = {name: getattr(row, name) for name in cls.model_fields if name != "status"}
        return cls.model_validate({**columns, "status": status})
