"""A TCP proxy on 127.0.0.1 that a fault test controls: it forwards to its target, or swallows
what it is sent and never answers (`hang`), or refuses and resets every connection (`down`),
and counts the bytes it forwarded upstream."""

from __future__ import annotations

import select
import socket
import threading
from collections.abc import Callable

FORWARD, HANG, DOWN = "forward", "hang", "down"


class TcpProxy:
    def __init__(self, target_port: int, target_host: str = "127.0.0.1"):
        self.target = (target_host, target_port)
        self.mode = FORWARD
        self.upstream_bytes = 0  # forwarded to the target so far
        self._trigger: tuple[int, Callable[[], None]] | None = None
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def forward(self) -> None:
        self.mode = FORWARD

    def when_forwarded(self, n_bytes: int, action: Callable[[], None]) -> None:
        """Runs `action` once, in the proxy's thread, as soon as `n_bytes` more have gone
        upstream: a fault injected at an exact point of a transfer."""
        self._trigger = (self.upstream_bytes + n_bytes, action)

    def hang(self) -> None:
        """From now on connections are accepted and read, and never answered; open ones too."""
        self.mode = HANG

    def down(self) -> None:
        """From now on every connection is reset at once; open ones are reset now."""
        self.mode = DOWN
        self._reset_all()

    def close(self) -> None:
        self._closed = True
        self._listener.close()
        self._reset_all()

    def _reset_all(self) -> None:
        with self._lock:
            sockets, self._sockets = self._sockets, set()
        for s in sockets:
            _reset(s)

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self.mode == DOWN:
                _reset(client)
                continue
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        upstream = None
        try:
            if self.mode == FORWARD:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            with self._lock:
                self._sockets.update(s for s in (client, upstream) if s is not None)
            self._pump(client, upstream)
        except OSError:
            pass
        finally:
            for s in (client, upstream):
                if s is not None:
                    s.close()

    def _pump(self, client: socket.socket, upstream: socket.socket | None) -> None:
        while not self._closed:
            sockets = [client] if upstream is None else [client, upstream]
            ready, _, _ = select.select(sockets, [], [], 0.1)
            if self.mode == DOWN:
                return
            for s in ready:
                data = s.recv(65536)
                if not data:
                    return
                if s is client and self.mode == FORWARD and upstream is not None:
                    upstream.sendall(data)
                    self.upstream_bytes += len(data)
                    self._fire()
                elif s is upstream and self.mode == FORWARD:
                    client.sendall(data)
                # HANG: what arrives is read and dropped; nothing goes either way

    def _fire(self) -> None:
        with self._lock:
            trigger = self._trigger
            if trigger is None or self.upstream_bytes < trigger[0]:
                return
            self._trigger = None
        trigger[1]()


def _reset(s: socket.socket) -> None:
    """Close with RST rather than FIN: the peer sees a reset connection."""
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        s.close()
    except OSError:
        pass
