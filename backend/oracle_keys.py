"""The oracle CLI's keys: encrypted JSON keystores, and the one-line error it reports."""

from __future__ import annotations

import getpass
import json
import os
from pathlib import Path

from eth_account import Account

BROWNIE_ACCOUNTS = Path.home() / ".brownie" / "accounts"


class CliError(Exception):
    """A problem to report in one line, with exit status 2."""


def load_key(args):
    """The key of --keystore or --account, decrypted with the password."""
    if args.account:
        path = BROWNIE_ACCOUNTS / f"{args.account}.json"
    elif args.keystore:
        path = Path(args.keystore)
    else:
        raise CliError("give --keystore FILE or --account NAME")
    try:
        keystore = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise CliError(f"cannot read keystore {path}: {exc}") from exc
    if args.password_file:
        password = Path(args.password_file).read_text().rstrip("\n")
    else:
        password = os.environ.get("ESCROW_KEYSTORE_PASSWORD")
        if password is None:
            password = getpass.getpass(f"password for {path.name}: ")
    try:
        return Account.from_key(Account.decrypt(keystore, password))
    except ValueError as exc:
        raise CliError(f"cannot decrypt {path}: wrong password or damaged keystore") from exc
