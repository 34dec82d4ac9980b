"""escrow-oracle's desk: the milestones awaiting the key's verdict, and the deal's documents,
encrypted (docs/confidential.md). Every command talks to the evidence service (--service);
the chain is read through the RPC the service names (/app/config.json) unless --rpc says.

    keys publish   derive the key's age identity, sign its binding, POST /keys
    inbox          milestones naming the key's operator, pending, without its verdict yet
                   (GET /operators/{id}/milestones: the service's index, not a read per deal)
    upload FILE    encrypt to the deal's readers (each binding verified here), upload the
                   ciphertext, its manifest and readers in one request, print the
                   evidenceHash to attest
    fetch          download the copy encrypted to the key, decrypt, check against the manifest
                   and say whether the chain anchors it

Each works on one of the escrows the service serves: `--escrow 0x…`, or its default one.
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
from eth_utils import to_checksum_address

from backend.confidential import client
from backend.confidential.binding import erc1271_check
from backend.confidential.identity import derive_identity_from_key
from backend.escrow.abi import load_abi
from backend.oracle_keys import CliError, load_key

CATCH_UP_SECONDS = 15  # how long `inbox` waits for the service's index to reach the chain


class Desk:
    """The service and the chain it serves, for one key."""

    def __init__(self, args):
        self.key = load_key(args)
        self.http = httpx.Client(base_url=args.service.rstrip("/"), timeout=60)
        try:
            config = self.http.get("/app/config.json").raise_for_status().json()
        except httpx.HTTPError as exc:
            raise CliError(f"cannot reach the service at {args.service}: {exc}") from exc
        self.chain_id = config["chain_id"]
        served = [to_checksum_address(e["address"]) for e in config["escrows"]]
        self.escrow_address = to_checksum_address(args.escrow or config["escrow"])
        if self.escrow_address not in served:
            raise CliError(
                f"the service serves no escrow at {self.escrow_address}: it serves "
                + ", ".join(f"{e['address']} ({e['symbol']})" for e in config["escrows"])
            )
        self.rpc = args.rpc or config["rpc_url"]
        self._web3 = None

    @property
    def web3(self):
        if self._web3 is None:
            from web3 import Web3

            web3 = Web3(Web3.HTTPProvider(self.rpc, request_kwargs={"timeout": 30}))
            try:
                web3.eth.get_block_number()
            except Exception as exc:
                raise CliError(f"cannot reach the RPC at {self.rpc}: {exc}") from exc
            self._web3 = web3
        return self._web3

    @property
    def escrow(self):
        return self.web3.eth.contract(address=self.escrow_address, abi=load_abi())

    def signer(self) -> client.Signer:
        return client.Signer(self.key.key, self.chain_id, self.escrow_address)

    def identity(self):
        return derive_identity_from_key(self.key.key)


def cmd_keys_publish(args) -> int:
    desk = Desk(args)
    identity = desk.identity()
    record = client.publish_key(desk.http, desk.signer(), identity)
    print(
        f"published {record['recipient']} for {record['account']} "
        f"(generation {record['generation']}, issued at {record['issued_at']})"
    )
    return 0


def cmd_inbox(args) -> int:
    desk = Desk(args)
    operator = desk.escrow.functions.operatorOf(desk.key.address).call()
    if not operator:
        raise CliError(f"{desk.key.address} is not a live key of any operator")
    index = _awaiting(desk, operator)
    for m in index["milestones"]:
        _show_milestone(m)
    print(
        f"{len(index['milestones'])} milestone(s) await the verdict of operator {operator} "
        f"(the service's index, through block {index['indexed_through']})"
    )
    return 0


def _awaiting(desk: Desk, operator: int) -> dict:
    """The service's answer (GET /escrows/{escrow}/operators/{id}/milestones) once its index
    has read the chain's head (less the blocks it waits to be confirmed), or after
    CATCH_UP_SECONDS."""
    until = time.monotonic() + CATCH_UP_SECONDS
    while True:
        answer = desk.http.get(
            f"/escrows/{desk.escrow_address}/operators/{operator}/milestones", params={"limit": 500}
        )
        if answer.status_code != 200:
            raise CliError(f"the service refused ({answer.status_code}): {answer.text}")
        index = answer.json()
        head = desk.web3.eth.block_number - index["confirmations"]
        through = -1 if index["indexed_through"] is None else index["indexed_through"]
        if through >= head:
            return index
        if time.monotonic() > until:
            print(
                f"warning: the service has indexed up to block {through} of {head}", file=sys.stderr
            )
            return index
        time.sleep(0.3)


def _show_milestone(m: dict) -> None:
    due = datetime.fromtimestamp(m["due_at"], UTC).strftime("%Y-%m-%d %H:%M UTC")
    print(
        f"deal {m['deal_id']} milestone {m['index']}: amount {m['amount']} (token base units), "
        f"due {due}, requirements {m['requirements_hash']}, "
        f"{m['attestations']} of {m['quorum']} attested"
    )
    for doc in m["documents"]:
        kind = {
            "application/age-encryption": "ciphertext",
            "application/vnd.milestone-escrow.manifest+json": "confidential, evidenceHash "
            f"0x{doc['sha256']}",
        }.get(doc["media_type"], doc["media_type"])
        print(f"    {doc['cid']}  {doc['size']} bytes  {kind}  by {doc['uploader']}")


def cmd_upload(args) -> int:
    desk = Desk(args)
    readers = client.deal_readers(
        desk.http, args.deal, desk.chain_id, erc1271_check(desk.web3), desk.escrow_address
    )
    for reader in readers:
        if reader.recipient is None:
            print(
                f"warning: {reader.account} ({', '.join(reader.roles)}) has published no "
                "valid key: it cannot read this document",
                file=sys.stderr,
            )
    manifest, copy = client.upload_confidential(
        desk.http, desk.signer(), Path(args.file), readers, args.deal, args.milestone
    )
    print(f"encrypted to {len(copy['readers'])} reader(s); manifest {manifest.cid()}")
    print(f"evidenceHash 0x{manifest.evidence_hash().hex()}")
    return 0


def cmd_give_access(args) -> int:
    desk = Desk(args)
    raw = _evidence_hash(args)
    readers = client.deal_readers(
        desk.http, args.deal, desk.chain_id, erc1271_check(desk.web3), desk.escrow_address
    )
    for reader in readers:
        if reader.recipient is None:
            print(f"warning: {reader.account} has published no valid key", file=sys.stderr)
    copy, new = client.give_access(
        desk.http, desk.signer(), raw, desk.identity(), readers, args.deal
    )
    if copy is None:
        print("every reader with a key has a copy already: nothing to do")
        return 0
    print(
        f"a new copy for {len(copy['readers'])} reader(s), new: "
        + ", ".join(f"{r.account} ({', '.join(r.roles)})" for r in new)
    )
    return 0


def _evidence_hash(args) -> bytes:
    raw = bytes.fromhex(args.evidence_hash.removeprefix("0x"))
    if len(raw) != 32:
        raise CliError("--evidence-hash must be 32 bytes of hex (a sha256)")
    return raw


def cmd_fetch(args) -> int:
    desk = Desk(args)
    raw = _evidence_hash(args)
    out = Path(args.out)
    manifest, opened = client.fetch_confidential(desk.http, raw, desk.identity(), out)
    print(
        f"decrypted {opened.plaintext_size} bytes to {out}: sha256 "
        f"{opened.plaintext_sha256.hex()}, the manifest's"
    )
    verdicts = _verdicts_with(desk.escrow, args.deal, raw)
    for event in verdicts:
        verdict = "met" if event["event"] == "MilestoneAttested" else "NOT met"
        print(
            f"on chain: milestone {event['args']['index']} of deal {args.deal} {verdict} by "
            f"operator {event['args']['operatorId']} with this evidenceHash"
        )
    if not verdicts:
        print(f"not attested on chain yet for deal {args.deal}: checked against its manifest")
    return 0


def _verdicts_with(escrow, deal_id: int, evidence_hash: bytes) -> list:
    found = []
    for event in (escrow.events.MilestoneAttested, escrow.events.MilestoneRejected):
        for log in event().get_logs(from_block=0, argument_filters={"dealId": deal_id}):
            if bytes(log["args"]["evidenceHash"]) == evidence_hash:
                found.append(log)
    return found


def add_commands(sub, key_options) -> None:
    def desk_options(p):
        key_options(p)
        p.add_argument("--service", required=True, help="the evidence service's URL")
        p.add_argument("--rpc", help="JSON-RPC URL (default: the one the service names)")
        p.add_argument(
            "--escrow", help="the deals' escrow, of those the service serves (default: its default)"
        )

    k = sub.add_parser("keys", help="publish the key's encryption recipient")
    keys = k.add_subparsers(required=True)
    p = keys.add_parser("publish", help="derive, sign the binding, POST /keys")
    desk_options(p)
    p.set_defaults(run=cmd_keys_publish)

    i = sub.add_parser("inbox", help="milestones awaiting this key's operator's verdict")
    desk_options(i)
    i.set_defaults(run=cmd_inbox)

    u = sub.add_parser("upload", help="encrypt a document to the deal's readers and upload it")
    desk_options(u)
    u.add_argument("--deal", type=int, required=True)
    u.add_argument("--milestone", type=int, help="milestone index, from 0")
    u.add_argument("file")
    u.set_defaults(run=cmd_upload)

    f = sub.add_parser("fetch", help="download and decrypt a confidential document")
    desk_options(f)
    f.add_argument("--deal", type=int, required=True)
    f.add_argument("--evidence-hash", required=True, help="the manifest's sha256 (on chain)")
    f.add_argument("--out", required=True, help="where the checked document is written")
    f.set_defaults(run=cmd_fetch)

    g = sub.add_parser(
        "give-access", help="a copy for the deal's readers who have none (a rotated key...)"
    )
    desk_options(g)
    g.add_argument("--deal", type=int, required=True)
    g.add_argument("--evidence-hash", required=True, help="the manifest's sha256 (on chain)")
    g.set_defaults(run=cmd_give_access)
