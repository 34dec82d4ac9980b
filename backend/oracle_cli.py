"""escrow-oracle: sign, verify and submit milestone attestations.

    escrow-oracle sign   --keystore key.json --escrow 0x… --chain-id 1 --deal 7 --milestone 2
                         --met --evidence report.pdf [--valid-for 7d] [--out att.json]
    escrow-oracle sign   … --rpc http://… --submit          (sign, then post it on chain)
    escrow-oracle verify att.json                           (offline: no node needed)
    escrow-oracle submit att.json --rpc http://… --keystore relayer.json
    escrow-oracle keys publish --service http://… --keystore key.json
    escrow-oracle inbox  --service http://… --keystore key.json
    escrow-oracle upload --service http://… --keystore key.json --deal 7 report.pdf
    escrow-oracle fetch  --service http://… --keystore key.json --deal 7
                         --evidence-hash 0x… --out report.pdf

Keys are encrypted JSON keystores (brownie's ~/.brownie/accounts/<name>.json: use
--account <name>, or geth / web3 keystores with --keystore). The password comes from
--password-file, else ESCROW_KEYSTORE_PASSWORD, else a prompt. Exit status: 0 done, 1 refused
(bad attestation, reverted transaction), 2 usage or environment error (RPC down, bad key).
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from pathlib import Path

from eth_utils import to_checksum_address

from backend import oracle_desk
from backend.attestations import sign, verify
from backend.confidential.errors import ConfidentialError
from backend.escrow.abi import load_abi, view
from backend.escrow.structs import Attestation, SignedAttestation
from backend.oracle_keys import CliError, load_key


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return args.run(args)
    except CliError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except ConfidentialError as exc:  # a refusal: a wrong key, a tampered document, the service
        print(f"error: {exc}", file=sys.stderr)
        return 1


# ---------------------------------------------------------------- commands


def cmd_sign(args) -> int:
    key = load_key(args)
    web3 = _web3(args.rpc) if args.rpc else None
    chain_id = (
        args.chain_id if args.chain_id is not None else _need(web3, "--chain-id").eth.chain_id
    )
    escrow = to_checksum_address(args.escrow)
    version = args.deal_version
    if version is None:
        deal = view(_escrow(_need(web3, "--deal-version"), escrow), "getDeal", args.deal)
        version = deal["version"]
    attestation = Attestation(
        chain_id=chain_id,
        escrow=escrow,
        deal_id=args.deal,
        milestone=args.milestone,
        deal_version=version,
        met=args.met,
        evidence_hash=_evidence_hash(args),
        deadline=args.deadline or int(time.time()) + _duration(args.valid_for),
    )
    signed = sign(attestation, key.key)
    text = signed.to_json()
    if args.out:
        Path(args.out).write_text(text + "\n")
        print(f"wrote {args.out} (signer {signed.signer})", file=sys.stderr)
    elif not args.submit:
        print(text)
    if args.submit:
        return _submit(_need(web3, "--submit"), signed, key)
    return 0


def cmd_verify(args) -> int:
    text = sys.stdin.read() if args.file == "-" else Path(args.file).read_text()
    try:
        signed = SignedAttestation.from_json(text)
    except ValueError as exc:
        print(f"INVALID  {exc}")
        return 1
    result = verify(signed, now=args.now)
    a = signed.attestation
    verdict = "met" if a.met else "NOT met"
    print(f"deal {a.deal_id} milestone {a.milestone} (version {a.deal_version}): {verdict}")
    print(f"evidence sha256 0x{a.evidence_hash.hex()}")
    print(f"escrow {a.escrow} on chain {a.chain_id}; digest 0x{result.digest.hex()}")
    if result.ok:
        print(f"VALID    signed by {signed.signer}")
        return 0
    for problem in result.problems:
        print(f"INVALID  {problem}")
    return 1


def cmd_submit(args) -> int:
    signed = SignedAttestation.from_json(Path(args.file).read_text())
    return _submit(_web3(args.rpc), signed, load_key(args))


# ---------------------------------------------------------------- chain


def _submit(web3, signed: SignedAttestation, relayer) -> int:
    from backend.escrow.sender import Refused, Sender  # web3 with it: only to submit

    a = signed.attestation
    if web3.eth.chain_id != a.chain_id:
        raise CliError(f"RPC is chain {web3.eth.chain_id}, the attestation is for {a.chain_id}")
    escrow = _escrow(web3, a.escrow)
    sender = Sender(web3, relayer, escrow.abi, chain_id=a.chain_id)
    try:
        receipt = sender.transact(escrow.functions.submitAttestation(signed.as_tuple()))
    except Refused as exc:
        print(f"REFUSED  {exc}")
        return 1
    status = "SUBMITTED" if receipt["status"] == 1 else "REVERTED"
    print(f"{status} tx 0x{bytes(receipt['transactionHash']).hex()} block {receipt['blockNumber']}")
    print(f"gas used {receipt['gasUsed']}")
    return 0 if receipt["status"] == 1 else 1


def _web3(url: str):
    from web3 import Web3

    web3 = Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": 30}))
    try:
        web3.eth.get_block_number()
    except Exception as exc:
        raise CliError(f"cannot reach the RPC at {url}: {exc.__class__.__name__}") from exc
    return web3


def _escrow(web3, address: str):
    try:
        abi = load_abi()
    except FileNotFoundError as exc:
        raise CliError(str(exc)) from exc
    return web3.eth.contract(address=to_checksum_address(address), abi=abi)


# ---------------------------------------------------------------- inputs


def _evidence_hash(args) -> bytes:
    if args.evidence:
        digest = hashlib.sha256()
        with open(args.evidence, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
        return digest.digest()
    raw = bytes.fromhex(args.evidence_hash.removeprefix("0x"))
    if len(raw) != 32:
        raise CliError("--evidence-hash must be 32 bytes of hex (a sha256)")
    return raw


def _duration(text: str) -> int:
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    if text[-1] in units:
        return int(text[:-1]) * units[text[-1]]
    return int(text)


def _need(web3, flag: str):
    if web3 is None:
        raise CliError(f"give {flag}, or --rpc so that it can be read from the chain")
    return web3


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="escrow-oracle", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(required=True)

    def key_options(p):
        p.add_argument("--keystore", help="encrypted JSON keystore file")
        p.add_argument("--account", help="name of a brownie keystore account")
        p.add_argument("--password-file", help="file holding the keystore password")

    s = sub.add_parser("sign", help="sign an attestation (and optionally submit it)")
    key_options(s)
    s.add_argument("--escrow", required=True, help="escrow address (the EIP-712 domain)")
    s.add_argument("--chain-id", type=int, help="chain id (read from --rpc when omitted)")
    s.add_argument("--rpc", help="JSON-RPC URL, to read chain id / deal version or submit")
    s.add_argument("--deal", type=int, required=True)
    s.add_argument("--milestone", type=int, required=True, help="milestone index, from 0")
    s.add_argument("--deal-version", type=int, help="deal version (read from --rpc if omitted)")
    verdict = s.add_mutually_exclusive_group(required=True)
    verdict.add_argument("--met", dest="met", action="store_true")
    verdict.add_argument("--not-met", dest="met", action="store_false")
    evidence = s.add_mutually_exclusive_group(required=True)
    evidence.add_argument("--evidence", help="evidence document: its sha256 is signed")
    evidence.add_argument("--evidence-hash", help="sha256 of the evidence, as hex")
    s.add_argument("--valid-for", default="7d", help="how long it may be submitted (7d, 12h)")
    s.add_argument("--deadline", type=int, help="unix deadline (instead of --valid-for)")
    s.add_argument("--out", help="write the JSON here instead of stdout")
    s.add_argument("--submit", action="store_true", help="post it on chain with the same key")
    s.set_defaults(run=cmd_sign)

    v = sub.add_parser("verify", help="check a signed attestation offline")
    v.add_argument("file", help="attestation JSON file, or - for stdin")
    v.add_argument("--now", type=int, help="unix time to check the deadline against")
    v.set_defaults(run=cmd_verify)

    u = sub.add_parser("submit", help="post a signed attestation on chain (as a relayer)")
    key_options(u)
    u.add_argument("file")
    u.add_argument("--rpc", required=True)
    u.set_defaults(run=cmd_submit)
    oracle_desk.add_commands(sub, key_options)
    return parser


if __name__ == "__main__":
    sys.exit(main())
