"""A JSON-RPC proxy on 127.0.0.1 that refuses an eth_getLogs over more than `max_blocks` blocks,
as hosted providers do, and forwards everything else to its target (the test chain). It keeps
the ranges of the eth_getLogs it answered and of those it refused."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx


class RangeLimitedRpc:
    def __init__(self, target: str, max_blocks: int):
        self.target = target
        self.max_blocks = max_blocks
        self.answered: list[tuple[int, int]] = []
        self.refused: list[tuple[int, int]] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                answer = proxy._answer(request)
                body = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _answer(self, request):
        if isinstance(request, list):
            return [self._answer(one) for one in request]
        if request.get("method") == "eth_getLogs":
            query = request["params"][0]
            first, last = self._block(query["fromBlock"]), self._block(query["toBlock"])
            if last - first + 1 > self.max_blocks:
                self.refused.append((first, last))
                error = {"code": -32600, "message": f"exceeds max block range {self.max_blocks}"}
                return {"jsonrpc": "2.0", "id": request["id"], "error": error}
            self.answered.append((first, last))
        return httpx.post(self.target, json=request, timeout=30).json()

    def _block(self, tag: str) -> int:
        if tag in ("latest", "pending", "safe", "finalized"):
            number = {"jsonrpc": "2.0", "id": 0, "method": "eth_blockNumber", "params": []}
            return int(httpx.post(self.target, json=number, timeout=30).json()["result"], 16)
        return 0 if tag == "earliest" else int(tag, 16)
