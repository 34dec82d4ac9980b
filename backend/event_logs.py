"""Escrow events decoded from raw JSON-RPC logs (eth_getLogs as the node sends it) with
eth-abi from the ABI: what web3's `process_log` gives (addresses checksummed, structs as dicts by
component name, bytes as bytes), without web3's formatting of each log, which cost the indexer
more than all its other work. Words of static elementary types (all but a few of the escrow's
arguments) are read directly; the rest goes through eth-abi."""

from __future__ import annotations

from collections.abc import Callable

from eth_abi import decode
from eth_abi.grammar import parse
from eth_utils import event_abi_to_log_topic, to_checksum_address
from eth_utils.abi import collapse_if_tuple

from backend.escrow.abi import named


class Log:
    """One decoded escrow event."""

    __slots__ = ("block", "tx_hash", "log_index", "name", "args")

    def __init__(self, block: int, tx_hash: str, log_index: int, name: str, args: dict):
        self.block, self.tx_hash, self.log_index = block, tx_hash, log_index
        self.name, self.args = name, args


def decoders(abi: list[dict]) -> dict[str, EventDecoder]:
    """Topic 0 (0x hex, as in a raw log) -> the decoder of that event of `abi`."""
    return {
        "0x" + event_abi_to_log_topic(e).hex().removeprefix("0x"): EventDecoder(e)  # type: ignore[arg-type]
        for e in abi
        if e["type"] == "event"
    }


def decode_logs(by_topic: dict[str, EventDecoder], logs: list[dict]) -> list[Log]:
    """The raw logs of known events, decoded, in order; others (and removed ones) left out."""
    out = []
    for log in logs:
        event = by_topic.get(log["topics"][0]) if log["topics"] else None
        if event is None or log.get("removed"):
            continue
        out.append(
            Log(
                block=int(log["blockNumber"], 16),
                tx_hash=log["transactionHash"],
                log_index=int(log["logIndex"], 16),
                name=event.name,
                args=event.decode(log["topics"], log["data"]),
            )
        )
    return out


class EventDecoder:
    """Decodes one event's raw log into {argument name: value} in ABI order, as web3's
    `process_log` would: addresses checksummed, structs as dicts by component name, bytes as
    bytes; an indexed dynamic value (never used by the escrow) stays its topic hash. Words of
    static elementary types (all but a few of the escrow's arguments) are read directly;
    the rest goes through eth-abi."""

    def __init__(self, abi: dict):
        self.name = abi["name"]
        self._names = [i["name"] for i in abi["inputs"]]
        self._topics = [(i["name"], _topic_reader(i)) for i in abi["inputs"] if i["indexed"]]
        self._data = [i for i in abi["inputs"] if not i["indexed"]]
        self._data_types = [collapse_if_tuple(i) for i in self._data]
        readers = [(i["name"], _word_reader(i)) for i in self._data]
        words = [(name, read) for name, read in readers if read is not None]
        self._words = words if len(words) == len(readers) else None

    def decode(self, topics: list[str], data: str) -> dict:
        values = {}
        for (name, read), topic in zip(self._topics, topics[1:], strict=True):
            values[name] = read(bytes.fromhex(topic[2:]))
        raw = bytes.fromhex(data[2:])
        if self._words is not None:
            for n, (name, read_word) in enumerate(self._words):
                values[name] = read_word(raw[32 * n : 32 * n + 32])
        else:
            for item, value in zip(self._data, decode(self._data_types, raw), strict=True):
                values[item["name"]] = named(item, value)
        return {name: values[name] for name in self._names}


_CHECKSUMS: dict[str, str] = {}


def _uint(word: bytes) -> int:
    return int.from_bytes(word, "big")


def _address(word: bytes) -> str:
    key = word[12:].hex()
    if key not in _CHECKSUMS:
        _CHECKSUMS[key] = to_checksum_address("0x" + key)
    return _CHECKSUMS[key]


def _word_reader(item: dict) -> Callable[[bytes], object] | None:
    """How to read one ABI word of this static elementary type, or None for any other type."""
    kind = item["type"]
    if kind.startswith("uint") and kind[4:].isdigit():
        return _uint
    if kind == "address":
        return _address
    if kind == "bool":
        return lambda word: word[-1] == 1
    if kind == "bytes32":
        return bytes
    return None


def _topic_reader(item: dict) -> Callable[[bytes], object]:
    read = _word_reader(item)
    if read is not None:
        return read
    kind = collapse_if_tuple(item)
    if parse(kind).is_dynamic:
        return bytes  # the topic is the value's keccak hash
    return lambda topic: named(item, decode([kind], topic)[0])


def jsonable(value):
    """An event argument as JSON: bytes as 0x hex, ints from 2^53 up as decimal strings."""
    kind = type(value)
    if kind is int:
        return str(value) if abs(value) >= 1 << 53 else value
    if kind is bytes:
        return "0x" + value.hex()
    if kind is list or kind is tuple:
        return [jsonable(v) for v in value]
    if kind is dict:
        return {k: jsonable(v) for k, v in value.items()}
    return value
