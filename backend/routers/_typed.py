"""What the routers that keep signed messages share: the conversions of a message handed in
as JSON (its model: backend/escrow/http.py) to what eth-account hashes and to what is stored,
and the stored record as the routes return it."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, field_validator


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
