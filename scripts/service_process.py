"""The service as `make serve` runs it: uvicorn in a process of its own, configured through
ESCROW_* variables, on a free port of 127.0.0.1; a test or a benchmark stops it, or kills it.
(In a process of its own, a client does not share the service's GIL: the upload benchmark
measures the service, not itself.)"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from backend.settings import Settings
from scripts.local_chain import free_ports

ROOT = Path(__file__).resolve().parents[1]


def settings_env(settings: Settings) -> dict[str, str]:
    """The ESCROW_* variables that make Settings.from_env() give `settings` back."""
    env = {}
    for name, value in settings.model_dump().items():
        if value is None:
            continue
        if isinstance(value, tuple | list):
            value = ",".join(value)
        elif isinstance(value, bool):
            value = "1" if value else "0"
        env[f"ESCROW_{name.upper()}"] = str(value)
    return env


class LiveService:
    def __init__(
        self,
        settings: Settings,
        log: Path,
        python: list[str] | None = None,
        factory: str = "backend.main:create_app",
    ):
        """Starts the service on `settings`, its output to `log`. `python` runs it instead of
        this interpreter (e.g. ["python", "-m", "cProfile", "-o", "service.prof"]); `factory`
        another app (the benchmark's bare hop, scripts/bare_hop.py)."""
        [port] = free_ports(1)
        self.url = f"http://127.0.0.1:{port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("ESCROW_")}
        env.update(settings_env(settings))
        self._log = open(log, "ab")  # noqa: SIM115 - closed in stop()/kill()
        self.process = subprocess.Popen(
            [*(python or [sys.executable]), "-m", "uvicorn", "--factory", factory,
             "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        self._wait_until_up(log)

    def _wait_until_up(self, log: Path, timeout: float = 180) -> None:
        # A bound for a start that hangs, not a speed check: on a loaded 2-core machine two
        # replicas starting at once once took over 60 s to import and answer.
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the service exited:\n{log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.url}/openapi.json", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.kill()
        raise RuntimeError(f"the service did not start within {timeout} s")

    def kill(self) -> None:
        """SIGKILL: no shutdown, no cleanup, as a crash or an OOM kill."""
        self.process.kill()
        self.process.wait(10)
        self._log.close()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self._log.close()
