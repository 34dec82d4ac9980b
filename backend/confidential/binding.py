"""An account's published recipient: "my age recipient is age1…", signed by the account.

Anyone checks a binding without trusting whoever serves it: the EIP-712 signature recovers to
the account (ECDSA), or the account is a contract that accepts it (EIP-1271
`isValidSignature`, asked on chain). So a contract account (a multisig, a smart account)
publishes a recipient too: one its owners hold, signed the way the contract signs. The domain
names the chain, since a contract's owners are per chain; no escrow, since one recipient
serves every deal of the account. The newest binding (`issuedAt`) replaces older ones.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from eth_account import Account
from eth_account.messages import _hash_eip191_message, encode_typed_data
from eth_utils import is_address, to_checksum_address

from backend.confidential.errors import BindingError, ConfidentialError
from backend.confidential.identity import parse_recipient

FORMAT = "milestone-escrow/encryption-key@1"
BINDING_DOMAIN_NAME = "MilestoneEscrow encryption key"
BINDING_DOMAIN_VERSION = "1"
BINDING_DOMAIN_TYPE = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
]
BINDING_TYPE = [
    {"name": "account", "type": "address"},
    {"name": "recipient", "type": "string"},
    {"name": "generation", "type": "uint32"},
    {"name": "issuedAt", "type": "uint64"},
]
ERC1271_MAGIC = bytes.fromhex("1626ba7e")
ERC1271_ABI = [
    {
        "name": "isValidSignature",
        "type": "function",
        "stateMutability": "view",
        "inputs": [{"name": "hash", "type": "bytes32"}, {"name": "signature", "type": "bytes"}],
        "outputs": [{"name": "", "type": "bytes4"}],
    }
]

# (account, digest, signature) -> whether the contract at `account` accepts the signature.
ContractCheck = Callable[[str, bytes, bytes], bool]


@dataclass(frozen=True)
class Binding:
    chain_id: int
    account: str
    recipient: str
    generation: int
    issued_at: int
    signature: bytes

    def typed_data(self) -> dict:
        return binding_typed_data(
            self.chain_id, self.account, self.recipient, self.generation, self.issued_at
        )

    def digest(self) -> bytes:
        return _hash_eip191_message(encode_typed_data(full_message=self.typed_data()))

    def to_json(self) -> dict:
        """The document a client publishes (uint64 as a decimal string, for JavaScript)."""
        typed = self.typed_data()
        return {
            "format": FORMAT,
            "domain": typed["domain"],
            "binding": {**typed["message"], "issuedAt": str(self.issued_at)},
            "signature": "0x" + self.signature.hex(),
        }


def binding_typed_data(
    chain_id: int, account: str, recipient: str, generation: int, issued_at: int
) -> dict:
    """The EIP-712 message the account signs (eth_signTypedData_v4's argument)."""
    if not is_address(account):
        raise BindingError(f"{account!r} is not an address")
    parse_recipient(recipient)
    for name, value, bits in (
        ("chainId", chain_id, 256),
        ("generation", generation, 32),
        ("issuedAt", issued_at, 64),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 1 << bits:
            raise BindingError(f"{name} must be a uint{bits}")
    return {
        "types": {"EIP712Domain": BINDING_DOMAIN_TYPE, "EncryptionKey": BINDING_TYPE},
        "primaryType": "EncryptionKey",
        "domain": {
            "name": BINDING_DOMAIN_NAME,
            "version": BINDING_DOMAIN_VERSION,
            "chainId": chain_id,
        },
        "message": {
            "account": to_checksum_address(account),
            "recipient": recipient,
            "generation": generation,
            "issuedAt": issued_at,
        },
    }


def sign_binding(
    sign: Callable[[dict], bytes],
    chain_id: int,
    account: str,
    recipient: str,
    generation: int,
    issued_at: int,
) -> Binding:
    """`sign`: typed data -> signature, the account's wallet (for a contract account, however
    the contract signs: MockContractWallet takes its owner's signature of the digest)."""
    typed = binding_typed_data(chain_id, account, recipient, generation, issued_at)
    return Binding(
        chain_id,
        typed["message"]["account"],
        recipient,
        generation,
        issued_at,
        bytes(sign(typed)),
    )


def sign_binding_with_key(
    private_key: str | bytes, chain_id: int, recipient: str, generation: int, issued_at: int
) -> Binding:
    local = Account.from_key(private_key)
    return sign_binding(
        lambda typed: local.sign_message(encode_typed_data(full_message=typed)).signature,
        chain_id,
        local.address,
        recipient,
        generation,
        issued_at,
    )


def parse_binding(doc: dict) -> Binding:
    """The published JSON (Binding.to_json) as a Binding, every field in its type; the
    signature is not checked here (verify_binding)."""
    try:
        if doc["format"] != FORMAT:
            raise BindingError(f"format is {doc['format']!r}, expected {FORMAT!r}")
        domain, message = doc["domain"], doc["binding"]
        if (domain["name"], domain["version"]) != (BINDING_DOMAIN_NAME, BINDING_DOMAIN_VERSION):
            raise BindingError(
                f"domain is {domain['name']!r} version {domain['version']!r}, expected "
                f"{BINDING_DOMAIN_NAME!r} version {BINDING_DOMAIN_VERSION!r}"
            )
        issued_at = message["issuedAt"]
        if isinstance(issued_at, str) and issued_at.isascii() and issued_at.isdigit():
            issued_at = int(issued_at)
        signature = doc["signature"]
        if not (isinstance(signature, str) and signature.startswith("0x")):
            raise BindingError("signature must be 0x hex")
        typed = binding_typed_data(
            domain["chainId"],
            message["account"],
            message["recipient"],
            message["generation"],
            issued_at,
        )
        return Binding(
            typed["domain"]["chainId"],
            typed["message"]["account"],
            typed["message"]["recipient"],
            typed["message"]["generation"],
            typed["message"]["issuedAt"],
            bytes.fromhex(signature[2:]),
        )
    except BindingError:
        raise
    except ConfidentialError as exc:
        raise BindingError(str(exc)) from exc
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise BindingError(f"not an encryption key binding ({FORMAT}): {exc!r}") from exc


def verify_binding(
    doc: dict, chain_id: int, contract_check: ContractCheck | None = None
) -> Binding:
    """The binding, checked: its format, the chain, and its signature by the account, either
    ECDSA or, given `contract_check` (erc1271_check(web3)), by the contract at the account.
    Raises BindingError naming what is wrong."""
    binding = parse_binding(doc)
    if binding.chain_id != chain_id:
        raise BindingError(f"binding is for chain {binding.chain_id}, not chain {chain_id}")
    digest = binding.digest()
    recovered = None
    if len(binding.signature) == 65:
        try:
            recovered = Account._recover_hash(digest, signature=binding.signature)
        except Exception:  # eth-keys raises several types for garbage input
            recovered = None
    if recovered == binding.account:
        return binding
    if contract_check is not None and contract_check(binding.account, digest, binding.signature):
        return binding
    if recovered is None:
        raise BindingError(f"binding for {binding.account}: the signature does not recover")
    raise BindingError(
        f"binding for {binding.account} is signed by {recovered}, not by the account"
    )


def erc1271_check(web3) -> ContractCheck:
    """Asks the account, if it is a contract, whether it accepts the signature (EIP-1271:
    `isValidSignature(digest, signature)` answers 0x1626ba7e). A contract that reverts
    refuses; an account without code never accepts."""
    # web3 is needed only here (with a web3 in hand): importing it costs the oracle CLI half
    # a second on every command.
    from web3.exceptions import ContractCustomError, ContractLogicError

    def check(account: str, digest: bytes, signature: bytes) -> bool:
        account = to_checksum_address(account)
        if not web3.eth.get_code(account):
            return False
        wallet = web3.eth.contract(address=account, abi=ERC1271_ABI)
        try:
            answer = wallet.functions.isValidSignature(digest, signature).call()
        except (ContractCustomError, ContractLogicError):
            return False  # a wallet that reverts refuses; an RPC failure is raised as such
        return bytes(answer) == ERC1271_MAGIC

    return check
