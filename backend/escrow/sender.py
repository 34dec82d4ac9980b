"""Sends transactions to the escrow from a local key: gas estimated (a revert there is the
escrow's refusal, named by its custom error), the account's pending nonce, the chain id,
signed locally, then the receipt waited for within a bound. The relayer and escrow-oracle
send through it."""

from __future__ import annotations

from typing import Any

from eth_account.datastructures import SignedTransaction
from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress, HexStr
from web3 import Web3
from web3.exceptions import ContractLogicError, TimeExhausted
from web3.types import TxReceipt

from backend.escrow.abi import ErrorNames

GAS_MARGIN = 5  # a fifth more than the estimate: state may move between estimate and block


class Refused(Exception):
    """The escrow refused the call (it reverted when its gas was estimated): the message names
    the custom error. Nothing was sent."""


class Sender:
    def __init__(
        self,
        web3: Web3,
        account: LocalAccount,
        abi: list[dict],
        chain_id: int | None = None,
        receipt_timeout: float = 120,
    ):
        self.web3 = web3
        self.account = account
        self.errors = ErrorNames(abi)
        self._chain_id = chain_id
        self.receipt_timeout = receipt_timeout

    @property
    def address(self) -> ChecksumAddress:
        return self.account.address

    @property
    def chain_id(self) -> int:
        if self._chain_id is None:
            self._chain_id = self.web3.eth.chain_id
        return self._chain_id

    def sign(self, call: Any) -> SignedTransaction:
        """`call` (a web3 contract function with its arguments) as a signed transaction, not
        sent: its hash can be recorded first. Raises Refused when the escrow would revert."""
        try:
            gas = call.estimate_gas({"from": self.address})
        except ContractLogicError as exc:
            raise Refused(self.errors.of_exception(exc)) from exc
        tx = call.build_transaction(
            {
                "from": self.address,
                "nonce": self.web3.eth.get_transaction_count(self.address, "pending"),
                "gas": gas + gas // GAS_MARGIN,
                "chainId": self.chain_id,
            }
        )
        return self.account.sign_transaction(tx)

    def send(self, signed: SignedTransaction) -> str:
        """Hands the signed transaction to the node; its hash as 0x hex."""
        self.web3.eth.send_raw_transaction(signed.raw_transaction)
        return tx_hash(signed)

    def receipt(self, tx_hash: str, timeout: float | None = None) -> TxReceipt | None:
        """The transaction's receipt once mined, or None when it is not within `timeout`."""
        wait = self.receipt_timeout if timeout is None else timeout
        try:
            return self.web3.eth.wait_for_transaction_receipt(HexStr(tx_hash), timeout=wait)
        except TimeExhausted:
            return None

    def transact(self, call: Any) -> TxReceipt:
        """Sign, send and wait: the receipt (its `status` 0 if it reverted when mined)."""
        sent = self.send(self.sign(call))
        receipt = self.receipt(sent)
        if receipt is None:
            raise TimeoutError(f"transaction {sent} not mined within {self.receipt_timeout:g} s")
        return receipt


def tx_hash(signed: SignedTransaction) -> str:
    return "0x" + bytes(signed.hash).hex()
