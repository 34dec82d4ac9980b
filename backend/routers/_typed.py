"""Pydantic types for EIP-712 messages handed in as JSON (the `message` part of what a wallet
signed with eth_signTypedData_v4), shared by the routers that keep signed messages: uints as
JSON integers or decimal strings, addresses in any case (checksummed), bytes32 as 0x hex
(lowercased); and the conversions to what eth-account hashes and to what is stored."""

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

_DECIMAL = re.compile(r"[0-9]{1,78}")
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
_BYTES32 = re.compile(r"0x[0-9a-fA-F]{64}")
_HEX = re.compile(r"0x(?:[0-9a-fA-F]{2})+")


def _uint(bits: int):
    """A uint<bits> given as a JSON integer or a decimal string; parsed to an int."""

    def parse(value: object) -> int:
        if isinstance(value, str) and _DECIMAL.fullmatch(value):
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"a uint{bits} is a JSON integer or a decimal string")
        if not 0 <= value < 1 << bits:
            raise ValueError(f"{value} does not fit a uint{bits}")
        return value

    schema = {"anyOf": [{"type": "integer"}, {"type": "string", "pattern": "^[0-9]+$"}]}
    return Annotated[int, PlainValidator(parse), WithJsonSchema(schema)]


def _hex(pattern: re.Pattern, what: str, max_chars: int):
    """A 0x-hex string matching `pattern`, lowercased."""

    def parse(value: object) -> str:
        if not isinstance(value, str) or len(value) > max_chars or not pattern.fullmatch(value):
            raise ValueError(f"{what} must be 0x-prefixed hex")
        return value.lower()

    return Annotated[str, PlainValidator(parse), WithJsonSchema({"type": "string"})]


def _address(value: object) -> str:
    if not isinstance(value, str) or not _ADDRESS.fullmatch(value):
        raise ValueError("an address is 0x and 40 hex digits (any case)")
    return to_checksum_address(value)


Uint8, Uint16, Uint32, Uint40, Uint96, Uint256 = (_uint(b) for b in (8, 16, 32, 40, 96, 256))
Bytes32 = _hex(_BYTES32, "a bytes32 (32 bytes)", 66)
SignatureHex = _hex(_HEX, "the signature", 2 + 2 * MAX_SIGNATURE_BYTES)
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
