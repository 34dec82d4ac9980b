"""IpfsNodeStore: an EvidenceStore on a real IPFS node (js-ipfs or kubo) over its HTTP RPC API.

Talks to /api/v0 with httpx rather than ipfshttpclient 0.7.0. ipfshttpclient can do the job
(constructed directly, since its connect() rejects every current daemon version; add_bytes()
streams a generator and `opts=` passes any query option), but it is unmaintained, sits on
requests/urllib3 and makes urllib3 warn on every request ("'strict' ... will raise an error in
urllib3 v3.0"), and wraps errors in its own hierarchy. httpx (already a dependency) streams both
ways, sets a timeout per request and warns about nothing. It is not a dependency (README).

Every document is added with the project's CID settings (store.py): CIDv1, raw leaves, fixed
262,144-byte chunks, sha2-256, pinned, CID text in base32 (js-ipfs answers base58btc unless told).

Presence: a node asked for a block it lacks tries to fetch it from the network, and js-ipfs does
so forever even when offline (it ignores `offline=true`; kubo honours it and fails at once). So
every presence check is `block/stat` on the root with `offline=true` and a node-side `timeout`
(`probe_timeout`, default 2 s): an absent CID costs that long on js-ipfs, a present one answers
in milliseconds. cat() and pin() check first, then never wait on a missing root.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import httpx

from .store import NotFound, StoredObject, StoreUnavailable

CHUNKER = "size-262144"
READ_CHUNK = 1 << 20  # cat() yields 1 MiB at a time, like LocalStore
ADD_PARAMS = {
    "cid-version": "1",
    "raw-leaves": "true",
    "chunker": CHUNKER,
    "hash": "sha2-256",
    "pin": "true",
    "cid-base": "base32",
    "progress": "false",
}
_MULTIADDR = re.compile(
    r"^/(?P<proto>ip4|ip6|dns|dns4|dns6)/(?P<host>[^/]+)/tcp/(?P<port>\d+)(?:/(?P<scheme>https?))?/?$"
)


def api_base_url(api: str) -> str:
    """`http://host:port` from an API address given as a URL or as a multiaddr
    (`/ip4/127.0.0.1/tcp/5001/http`, the form IPFS configs use)."""
    m = _MULTIADDR.match(api)
    if m:
        host = f"[{m['host']}]" if m["proto"] == "ip6" else m["host"]
        return f"{m['scheme'] or 'http'}://{host}:{m['port']}"
    if not re.match(r"^https?://", api):
        raise ValueError(f"IPFS API address must be http(s)://host:port or a multiaddr: {api!r}")
    return api.rstrip("/").removesuffix("/api/v0")


def _message(response: httpx.Response) -> str:
    """The node's error text: {"Message": ...} from both js-ipfs and kubo, else the body."""
    try:
        return str(json.loads(response.text)["Message"])
    except (ValueError, KeyError, TypeError):
        return response.text.strip()[:500] or response.reason_phrase


class _Chunks(Iterator[bytes]):
    """A streamed response body, 1 MiB at a time; closes the response at the end, on close() or
    when dropped. Network failures mid-stream raise StoreUnavailable."""

    def __init__(self, store: IpfsNodeStore, response: httpx.Response, cid: str):
        self._store, self._response, self._cid = store, response, cid
        self._it = response.iter_bytes(READ_CHUNK)

    def __next__(self) -> bytes:
        try:
            with self._store._network_errors(f"cat {self._cid}"):
                chunk = next(self._it, None)
        except BaseException:
            self.close()
            raise
        if chunk is None:
            self.close()
            raise StopIteration
        return chunk

    def close(self) -> None:
        self._response.close()

    def __del__(self):
        self.close()


class IpfsNodeStore:
    """EvidenceStore on an IPFS node's HTTP RPC API at `api_url` (http://host:port or a
    multiaddr). `timeout`: seconds to connect, and to wait for any single read or write of a
    request; `probe_timeout`: how long the node may look for a block before it counts as absent
    (see the module doc)."""

    def __init__(self, api_url: str, timeout: float = 30, probe_timeout: float = 2.0):
        self.api_url = api_base_url(api_url)
        self.timeout = timeout
        self.probe_timeout = probe_timeout
        self._client = httpx.Client(
            base_url=f"{self.api_url}/api/v0/",
            timeout=httpx.Timeout(timeout),
            trust_env=False,  # a local node: no proxy from the environment
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> IpfsNodeStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"IpfsNodeStore({self.api_url!r})"

    # -- plumbing ---------------------------------------------------------------------------

    @contextmanager
    def _network_errors(self, action: str, wait: float | None = None):
        """httpx's network failures (refused, reset, timed out...) as StoreUnavailable."""
        try:
            yield
        except httpx.TimeoutException as e:
            waited = wait or self.timeout
            raise StoreUnavailable(
                f"IPFS node at {self.api_url}: {action}: no answer within {waited:g} s "
                f"({type(e).__name__})"
            ) from e
        except httpx.TransportError as e:
            raise StoreUnavailable(
                f"IPFS node at {self.api_url} unreachable: {action}: {type(e).__name__}: {e}"
            ) from e

    def _post(self, command: str, action: str, params: dict[str, str], wait: float | None = None):
        """POST /api/v0/<command>?<params>; `wait` replaces the client's read timeout."""
        timeout = httpx.Timeout(self.timeout, read=wait) if wait else httpx.USE_CLIENT_DEFAULT
        with self._network_errors(action, wait):
            return self._client.post(command, params=params, timeout=timeout)

    def _failed(self, action: str, response: httpx.Response) -> Exception:
        if response.status_code == 400:  # js-ipfs: "Invalid request query input" (a bad CID)
            return ValueError(f"IPFS node at {self.api_url} rejects {action}: {_message(response)}")
        return StoreUnavailable(
            f"IPFS node at {self.api_url}: {action} failed: HTTP {response.status_code}: "
            f"{_message(response)}"
        )

    # -- EvidenceStore ------------------------------------------------------------------------

    def add(self, chunks: Iterable[bytes]) -> StoredObject:
        """Stream the document to /api/v0/add as one multipart file (chunked transfer encoding,
        nothing buffered here), computing its sha256 and size on the way."""
        sha, size = hashlib.sha256(), 0
        boundary = secrets.token_hex(16)

        def body() -> Iterator[bytes]:
            nonlocal size
            # js-ipfs needs a Content-Type on the part.
            yield (
                f"--{boundary}\r\n"
                'Content-Disposition: form-data; name="file"; filename="evidence"\r\n'
                "Content-Type: application/octet-stream\r\n\r\n"
            ).encode()
            for chunk in chunks:
                if chunk:  # an empty chunk would read as the end of a chunked body
                    chunk = bytes(chunk)
                    sha.update(chunk)
                    size += len(chunk)
                    yield chunk
            yield f"\r\n--{boundary}--\r\n".encode()

        with self._network_errors("add"):
            response = self._client.post(
                "add",
                params=ADD_PARAMS,
                content=body(),
                headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
            )
        if response.status_code != 200:
            raise self._failed("add", response)
        # NDJSON, one object per added entry: {"Name": "evidence", "Hash": "bafy...", "Size": ...}
        entries = [json.loads(line) for line in response.text.splitlines() if line.strip()]
        hashes = [e["Hash"] for e in entries if "Hash" in e]
        if len(hashes) != 1:
            raise StoreUnavailable(f"IPFS node at {self.api_url}: unexpected add answer {entries}")
        cid = hashes[0]
        if not cid.startswith("b"):
            raise StoreUnavailable(
                f"IPFS node at {self.api_url} ignored cid-base=base32 and answered {cid}"
            )
        return StoredObject(cid=cid, size=size, sha256=sha.digest())

    def has(self, cid: str) -> bool:
        """Whether the node holds the document's root block (pinned or not). ValueError for a
        malformed CID."""
        params = {
            "arg": cid,
            "offline": "true",  # kubo: answer from the local blockstore only
            "timeout": f"{int(self.probe_timeout * 1000)}ms",  # js-ipfs: stop looking after this
        }
        # The node's own timeout answers first.
        response = self._post("block/stat", f"has {cid}", params, self.probe_timeout + self.timeout)
        if response.status_code == 200:
            return True
        message = _message(response)
        if response.status_code == 500 and re.search(
            r"timed out|not found|could not find", message, re.IGNORECASE
        ):
            return False
        raise self._failed(f"has {cid}", response)

    def cat(self, cid: str) -> Iterator[bytes]:
        """Checks presence and opens the stream at once (so NotFound, ValueError and
        StoreUnavailable raise here, before any byte), then yields 1 MiB chunks."""
        if not self.has(cid):
            raise NotFound(cid)
        with self._network_errors(f"cat {cid}"):
            request = self._client.build_request("POST", "cat", params={"arg": cid})
            response = self._client.send(request, stream=True)
        if response.status_code != 200:
            response.read()
            response.close()
            raise self._failed(f"cat {cid}", response)
        return _Chunks(self, response, cid)

    def pin(self, cid: str) -> None:
        """Pin recursively; NotFound when the node does not hold the document."""
        if not self.has(cid):
            raise NotFound(cid)
        response = self._post("pin/add", f"pin {cid}", {"arg": cid, "recursive": "true"})
        if response.status_code != 200:
            raise self._failed(f"pin {cid}", response)

    def unpin(self, cid: str) -> None:
        """Remove the recursive pin; NotFound when it is not pinned. The blocks stay on the node
        until its garbage collector runs."""
        response = self._post("pin/rm", f"unpin {cid}", {"arg": cid, "recursive": "true"})
        if response.status_code == 200:
            return
        if response.status_code == 500 and "not pinned" in _message(response):
            raise NotFound(cid)
        raise self._failed(f"unpin {cid}", response)

    def is_pinned(self, cid: str) -> bool:
        """Whether `cid` itself is pinned recursively (as add() and pin() do)."""
        response = self._post("pin/ls", f"pin ls {cid}", {"arg": cid, "type": "recursive"})
        if response.status_code == 200:
            return True
        if response.status_code == 500 and "not pinned" in _message(response):
            return False
        raise self._failed(f"pin ls {cid}", response)
