"""Every contract call the model makes, one small method each, and the one-call state read.

When a contract signature changes, the method here is the one place to edit: the rules build
calls through these methods only. (`Cancellation` names both sides of the split and the
signer's agreement `nonce`, `Amendment` the `nonce`; `addOperatorKey` carries the key's
consent; see `cancellation`,
`amendment`, `register_operator`, `add_operator_key`.)
"""

from __future__ import annotations

from dataclasses import dataclass

from eth_account import Account
from eth_utils import keccak

from backend import typed_data
from backend.terms import (
    Amendment,
    Cancellation,
    Milestone,
    MilestoneChange,
    Policy,
)

from .abi import Abi
from .chain import Call, Chain


@dataclass(frozen=True)
class Key:
    """A local key: the model sends from its address (anvil impersonates any sender) and signs
    typed data with it."""

    name: str
    address: str  # lower case
    private_key: bytes

    @classmethod
    def named(cls, name: str) -> Key:
        private_key = keccak(text=f"escrow model key: {name}")
        return cls(name, Account.from_key(private_key).address.lower(), private_key)


ZERO = "0x" + "00" * 20


def _show(value, names: dict[str, str]) -> str:
    if isinstance(value, str) and value.startswith("0x") and len(value) == 42:
        return names.get(value, value[:10])
    if isinstance(value, bytes):
        return "0x" + value[:4].hex() + ("..." if len(value) > 4 else "")
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_show(v, names) for v in value) + "]"
    return str(value)


class Contract:
    """Calls to one contract, labelled for the trace with the parties' names."""

    def __init__(self, address: str, abi: Abi, names: dict[str, str]):
        self.address = address
        self.abi = abi
        self.names = names

    def _call(self, sender: str, function: str, *args) -> Call:
        shown = ", ".join(_show(a, self.names) for a in args)
        label = f"{self.names.get(sender, sender[:10])}: {function}({shown})"
        return Call(sender, self.address, self.abi.calldata(function, *args), label)


class Escrow(Contract):
    """The escrow at one address (the IEscrow ABI: both halves)."""

    def __init__(self, address: str, abi: Abi, names: dict[str, str], chain_id: int):
        super().__init__(address, abi, names)
        self.chain_id = chain_id

    # ------------------------------------------------------------ deals

    def create_deal(
        self, sender, buyer, supplier, arbiter: int, policy: Policy, terms: list[Milestone]
    ) -> Call:
        return self._call(
            sender,
            "createDeal",
            buyer,
            supplier,
            arbiter,
            policy.as_tuple(),
            [m.as_tuple() for m in terms],
        )

    def accept_deal(self, sender, deal_id: int) -> Call:
        return self._call(sender, "acceptDeal", deal_id)

    def fund(self, sender, deal_id: int, amount: int) -> Call:
        return self._call(sender, "fund", deal_id, amount)

    def cancel_deal(self, sender, deal_id: int) -> Call:
        return self._call(sender, "cancelDeal", deal_id)

    # ------------------------------------------------------------ milestones

    def attest(self, sender, deal_id: int, index: int, evidence: bytes) -> Call:
        return self._call(sender, "attest", deal_id, index, evidence)

    def reject(self, sender, deal_id: int, index: int, evidence: bytes) -> Call:
        return self._call(sender, "reject", deal_id, index, evidence)

    def refund(self, sender, deal_id: int, index: int) -> Call:
        return self._call(sender, "refund", deal_id, index)

    def release(self, sender, deal_id: int, index: int) -> Call:
        return self._call(sender, "release", deal_id, index)

    def waive_examination(self, sender, deal_id: int, index: int) -> Call:
        return self._call(sender, "waiveExamination", deal_id, index)

    def release_retention(self, sender, deal_id: int, index: int) -> Call:
        return self._call(sender, "releaseRetention", deal_id, index)

    # ------------------------------------------------------------ disputes

    def open_dispute(self, sender, deal_id: int, index: int) -> Call:
        return self._call(sender, "openDispute", deal_id, index)

    def rule(self, sender, deal_id: int, index: int, to_supplier: int) -> Call:
        return self._call(sender, "rule", deal_id, index, to_supplier)

    def settle_dispute(self, sender, deal_id: int, index: int) -> Call:
        return self._call(sender, "settleDispute", deal_id, index)

    # ------------------------------------------------------------ payouts

    def assign_payments(self, sender, deal_id: int, to: str) -> Call:
        return self._call(sender, "assignPayments", deal_id, to)

    def withdraw(self, sender, to: str) -> Call:
        return self._call(sender, "withdraw", to)

    # ------------------------------------------------------------ agreements

    def cancellation(
        self, deal_id: int, version: int, to_supplier: int, to_buyer: int, nonce: int, deadline: int
    ) -> Cancellation:
        """The Cancellation a party signs: both sides of the split and its agreement nonce."""
        return Cancellation(deal_id, version, to_supplier, to_buyer, deadline=deadline, nonce=nonce)

    def amendment(
        self,
        deal_id: int,
        version: int,
        changes: tuple[MilestoneChange, ...],
        nonce: int,
        deadline: int,
    ) -> Amendment:
        """The Amendment a party signs, over its agreement nonce."""
        return Amendment(deal_id, version, changes, deadline=deadline, nonce=nonce)

    def sign_cancellation(self, key: Key, cancellation: Cancellation) -> bytes:
        message = typed_data.cancellation_message(self.chain_id, self.address, cancellation)
        return typed_data.sign(message, key.private_key).signature

    def sign_amendment(self, key: Key, amendment: Amendment) -> bytes:
        message = typed_data.amendment_message(self.chain_id, self.address, amendment)
        return typed_data.sign(message, key.private_key).signature

    def digest(self, message: Cancellation | Amendment) -> bytes:
        """The EIP-712 digest of a cancellation or change order (what a payee consents to)."""
        if isinstance(message, Cancellation):
            full = typed_data.cancellation_message(self.chain_id, self.address, message)
        else:
            full = typed_data.amendment_message(self.chain_id, self.address, message)
        return typed_data.digest(full)

    def revoke_agreements(self, sender, deal_id: int) -> Call:
        return self._call(sender, "revokeAgreements", deal_id)

    def consent_as_payee(self, sender, deal_id: int, digest: bytes, consented: bool) -> Call:
        return self._call(sender, "consentAsPayee", deal_id, digest, consented)

    def cancel_by_agreement(self, sender, cancellation: Cancellation, signature: bytes) -> Call:
        return self._call(sender, "cancelByAgreement", cancellation.as_tuple(), signature)

    def amend(self, sender, amendment: Amendment, signature: bytes) -> Call:
        return self._call(sender, "amend", amendment.as_tuple(), signature)

    # ------------------------------------------------------------ operators

    def register_operator(self, sender, name: str, key: str) -> Call:
        """Registered by the key itself (the admin): its transaction is its consent."""
        uri = f"ipfs://{name.lower()}"
        return self._call(sender, "registerOperator", name, uri, key, 0, b"")

    def add_operator_key(self, sender, operator: int, key: Key, deadline: int) -> Call:
        """The admin `sender` adds `key`, with the key's signed consent to serve its operators."""
        message = typed_data.key_consent_message(
            self.chain_id, self.address, sender, key.address, deadline
        )
        consent = typed_data.sign(message, key.private_key).signature
        return self._call(sender, "addOperatorKey", operator, key.address, deadline, consent)

    def revoke_operator_key(self, sender, operator: int, key: str) -> Call:
        return self._call(sender, "revokeOperatorKey", operator, key)


class Token(Contract):
    """The token under test (any of the hostile set: they share these functions, and only
    the denylisting and re-entrant tokens have the last three)."""

    def mint(self, sender, to: str, amount: int) -> Call:
        return self._call(sender, "mint", to, amount)

    def approve(self, sender, spender: str, amount: int) -> Call:
        return self._call(sender, "approve", spender, amount)

    def blacklist(self, sender, account: str) -> Call:
        return self._call(sender, "blacklist", account)

    def unblacklist(self, sender, account: str) -> Call:
        return self._call(sender, "unBlacklist", account)

    def arm(self, sender, target: str, payload: bytes) -> Call:
        return self._call(sender, "arm", target, payload)


# ---------------------------------------------------------------- the one-call state read


@dataclass(frozen=True)
class MilestoneOnChain:
    amount: int
    due_at: int
    status: int
    attestations: int
    rejections: int


@dataclass(frozen=True)
class DealOnChain:
    status: int
    version: int
    total: int
    unfunded: int
    payee: str
    milestones: tuple[MilestoneOnChain, ...]


@dataclass(frozen=True)
class OnChain:
    balance: dict[str, int]
    owed: dict[str, int]
    operator_of: dict[str, int]
    deals: tuple[DealOnChain, ...]
    hook: tuple[int, int, bytes] | None  # the re-entrant token's (reentered, refused, last)


class Lens:
    """Reads everything the invariants compare in one round trip (EscrowLens, plus the
    re-entrant token's hook record in the same batch)."""

    def __init__(
        self,
        chain: Chain,
        lens: str,
        lens_abi: Abi,
        escrow: Escrow,
        token: Token,
        accounts: list[str],
        keys: list[str],
        hooked: bool,
    ):
        self.chain = chain
        self.accounts = accounts
        self.keys = keys
        data = lens_abi.calldata("read", escrow.address, token.address, accounts, keys)
        self._read = {"to": lens, "data": "0x" + data.hex()}
        self._token_abi = token.abi
        self._hook = (
            {"to": token.address, "data": "0x" + token.abi.calldata("hookStats").hex()}
            if hooked
            else None
        )

    def read(self) -> OnChain:
        if self._hook is None:
            raw, hook = self.chain.rpc.call("eth_call", self._read, "latest"), None
        else:
            raw, hook_raw = self.chain.rpc.batch(
                [("eth_call", self._read, "latest"), ("eth_call", self._hook, "latest")]
            )
            hook = self._token_abi.result("hookStats", bytes.fromhex(hook_raw[2:]))
        return self._decode(bytes.fromhex(raw[2:]), hook)

    def _decode(self, data: bytes, hook) -> OnChain:
        # ABI uint256[]: offset, length, then the words.
        count = int.from_bytes(data[32:64], "big")
        words = [int.from_bytes(data[64 + 32 * i : 96 + 32 * i], "big") for i in range(count)]
        it = iter(words)
        deal_count = next(it)
        balance, owed = {}, {}
        for account in self.accounts:
            balance[account] = next(it)
            owed[account] = next(it)
        operator_of = {key: next(it) for key in self.keys}
        deals = []
        for _ in range(deal_count):
            status, version, n, total, unfunded, payee = (next(it) for _ in range(6))
            milestones = tuple(MilestoneOnChain(*(next(it) for _ in range(5))) for _ in range(n))
            deals.append(
                DealOnChain(status, version, total, unfunded, f"0x{payee:040x}", milestones)
            )
        return OnChain(balance, owed, operator_of, tuple(deals), hook)
