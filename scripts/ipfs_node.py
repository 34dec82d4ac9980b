"""A fresh IPFS node for a script or a test (tools/ipfs-node.sh: a js-ipfs node, offline, in a
temporary repository on free ports), stopped and removed when done."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from scripts.local_chain import free_ports

IPFS_NODE_SH = Path(__file__).resolve().parents[1] / "tools" / "ipfs-node.sh"


class IpfsNodeError(RuntimeError):
    """The node did not start; the message has what the start script printed."""


@contextmanager
def ipfs_node() -> Iterator[str]:
    """Starts a node; yields its API URL (http://127.0.0.1:<port>)."""
    repo = Path(tempfile.mkdtemp(prefix="ipfs-node-"))
    api_port, gateway_port = free_ports(2)
    try:
        started = subprocess.run(
            [str(IPFS_NODE_SH), "start", str(repo), str(api_port), str(gateway_port)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        if started.returncode != 0:
            raise IpfsNodeError(f"could not start the IPFS node:\n{started.stderr}")
        yield f"http://127.0.0.1:{api_port}"
    finally:
        subprocess.run([str(IPFS_NODE_SH), "stop", str(repo)], check=False, timeout=60)
        shutil.rmtree(repo, ignore_errors=True)
