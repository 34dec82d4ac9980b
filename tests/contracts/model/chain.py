"""The chain as the model drives it: calls predicted to succeed are sent, calls predicted to fail
are only simulated (eth_call) and must fail with exactly the predicted error.

Time is exact: anvil mines one block per transaction, each one second after the last
(`anvil_setBlockTimestampInterval 1`), so the model knows every transaction's
`block.timestamp` before sending it (`now + 1`), and simulates a call at that timestamp too.
Deadline boundaries are therefore tested to the second.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from .abi import Abi, Err
from .rpc import Rpc, RpcError

# Enough for the costliest step (a cancellation paying out many milestones through a token
# whose transfer hook calls back); gas is free at a zero base fee, and a fixed limit spares
# an eth_estimateGas round trip per transaction.
GAS = 6_000_000


@dataclass(frozen=True)
class Call:
    """One contract call: `sender` sends `data` to `to`; `label` is how a trace shows it."""

    sender: str
    to: str
    data: bytes
    label: str  # "supplier: fund(1, 500)"

    @property
    def function(self) -> str:
        return self.label.partition(": ")[2].partition("(")[0]

    def tx(self) -> dict:
        return {
            "from": self.sender,
            "to": self.to,
            "data": "0x" + self.data.hex(),
            "gas": hex(GAS),
            "gasPrice": "0x0",
        }


class Chain:
    """Sends, simulates and reads on one anvil; keeps the time and a trace of the example."""

    def __init__(self, rpc: Rpc, abi: Abi):
        self.rpc = rpc
        self.abi = abi
        self.now = int(rpc.call("eth_getBlockByNumber", "latest", False)["timestamp"], 16)
        self.trace: list[str] = []  # what this example did, for a failure report
        self.changed = True  # anything sent since the model last read the state
        # How often each function was sent (and succeeded) or simulated (and refused), over
        # the whole run: shows which paths the random programs reached.
        self.succeeded: Counter[str] = Counter()
        self.refused: Counter[str] = Counter()

    # ---------------------------------------------------------------- calls

    def send(self, call: Call) -> dict:
        """Send a call the model predicts to succeed; returns its receipt. A revert fails the
        step with the error the call reverted with."""
        receipt = self.rpc.call("eth_sendTransactionSync", call.tx())
        self.now += 1
        self.changed = True
        if receipt["status"] != "0x1":
            self.trace.append(f"{call.label} -> REVERTED")
            raise AssertionError(
                f"{call.label} reverted with {self._replay(call)}; the model expected success"
            )
        self.trace.append(f"{call.label} -> ok")
        self.succeeded[call.function] += 1
        return receipt

    def fails(self, call: Call, expected: Err) -> None:
        """Simulate a call the model predicts to fail, in the next block (at `now + 1`): it
        must revert with exactly `expected`. Nothing is sent, so nothing changes."""
        got = self.simulate(call)
        self.trace.append(f"{call.label} -> refused {got}")
        self.refused[f"{call.function} {got.name if got else None}"] += 1
        if got is None:
            raise AssertionError(f"{call.label} would succeed; the model expected {expected}")
        if got != expected:
            raise AssertionError(f"{call.label} reverts with {got}; the model expected {expected}")

    def simulate(self, call: Call) -> Err | None:
        """The error `call` would revert with in the next block, or None if it would succeed."""
        try:
            self.rpc.call("eth_call", call.tx(), "latest", None, {"time": hex(self.now + 1)})
        except RpcError as e:
            if e.code != 3 or not e.data:
                return Err(f"<node error: {e.message}>")
            return self.abi.decode_error(bytes.fromhex(e.data[2:]))
        return None

    def _replay(self, call: Call) -> Err | str:
        """A reverted transaction's error: the same call simulated at the same timestamp on
        the state it ran on (a reverted transaction changes nothing)."""
        try:
            self.rpc.call("eth_call", call.tx(), "latest", None, {"time": hex(self.now)})
        except RpcError as e:
            return self.abi.decode_error(bytes.fromhex(e.data[2:])) if e.data else e.message
        return "nothing (it succeeds when simulated)"

    def view(self, to: str, data: bytes) -> bytes:
        return bytes.fromhex(self.rpc.call("eth_call", {"to": to, "data": "0x" + data.hex()})[2:])

    def deploy(self, sender: str, bytecode: str, args: bytes = b"") -> str:
        receipt = self.rpc.call(
            "eth_sendTransactionSync",
            {
                "from": sender,
                "data": bytecode + args.hex(),
                "gas": hex(25_000_000),
                "gasPrice": "0x0",
            },
        )
        self.now += 1
        if receipt["status"] != "0x1":
            raise RuntimeError(f"deployment by {sender} reverted")
        return receipt["contractAddress"].lower()

    # ---------------------------------------------------------------- time, snapshots

    def advance_to(self, timestamp: int) -> None:
        """Mine an empty block at `timestamp` (> now): the next transaction runs one second
        later."""
        if timestamp <= self.now:
            raise ValueError(f"time runs forward: {timestamp} <= {self.now}")
        self.rpc.call("evm_mine", timestamp)
        days, seconds = divmod(timestamp - self.now, 86_400)
        clock = f"{seconds // 3600:02}:{seconds // 60 % 60:02}:{seconds % 60:02}"
        self.trace.append(f"time +{days}d {clock} -> {timestamp}")
        self.now = timestamp  # (nothing the invariants read has changed)

    def snapshot(self) -> tuple[str, int]:
        return self.rpc.call("evm_snapshot"), self.now

    def revert(self, snapshot: tuple[str, int]) -> None:
        """Back to `snapshot` (anvil forgets it then: take a new one to come back again)."""
        ident, now = snapshot
        if not self.rpc.call("evm_revert", ident):
            raise RuntimeError(f"anvil has no snapshot {ident}")
        self.now = now
        self.trace = []
        self.changed = True
