"""A large document for the page tests, made in the browser (50 MB over playwright's pipe
would cost more than the test), and what the page's JavaScript heap does while it works.

The document is 64 KiB chunks of one xorshift32 block (seeded), each chunk's first four bytes
its number: the page builds it as a File of Blob parts, Python knows its sha256 without
holding it. The heap is read over the DevTools protocol (Runtime.getHeapUsage) while the page
works: the page's memory is flat when it stays far below the document's size."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field

CHUNK = 65536

# Puts a File of `size` bytes into the file input `selector` of the page.
MAKE_FILE = """([selector, size, seed, name, chunk]) => {
  const block = new Uint8Array(chunk);
  const view = new DataView(block.buffer);
  let x = seed >>> 0;
  for (let i = 0; i < block.length; i += 4) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    view.setUint32(i, x, true);
  }
  const parts = [];
  for (let at = 0, n = 0; at < size; at += block.length, n++) {
    view.setUint32(0, n, true);
    parts.push(new Blob([block.subarray(0, Math.min(block.length, size - at))]));
  }
  const files = new DataTransfer();
  files.items.add(new File(parts, name, { type: "application/pdf" }));
  const input = document.querySelector(selector);
  input.files = files.files;
  input.dispatchEvent(new Event("change", { bubbles: true }));
}"""


def document_sha256(size: int, seed: int) -> str:
    """The sha256 of the document MAKE_FILE makes."""
    block = bytearray(CHUNK)
    x = seed
    for i in range(0, CHUNK, 4):
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        block[i : i + 4] = x.to_bytes(4, "little")
    digest = hashlib.sha256()
    for n, at in enumerate(range(0, size, CHUNK)):
        block[0:4] = n.to_bytes(4, "little")
        digest.update(block[: min(CHUNK, size - at)])
    return digest.hexdigest()


def put_file(page, selector: str, size: int, seed: int, name: str) -> None:
    page.evaluate(MAKE_FILE, [selector, size, seed, name, CHUNK])


@dataclass
class Watched:
    """What the page did while a step ran: its heap's peak above the baseline (bytes), each
    value its progress bars took (with the step's name), and how long it took."""

    baseline: int
    peak: int = 0
    progress: list[tuple[str, float]] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def growth(self) -> int:
        return self.peak - self.baseline

    def moved(self, step: str) -> set[float]:
        return {value for name, value in self.progress if name == step}


# Every value a progress bar of the page takes (HTMLProgressElement.value sets the attribute).
OBSERVE = """() => {
  window.__progress = [];
  new MutationObserver((changes) => {
    for (const change of changes) {
      const bar = change.target;
      const step = document.getElementById(bar.getAttribute("aria-labelledby"))?.textContent;
      window.__progress.push([step, bar.value]);
    }
  }).observe(document.body, { subtree: true, attributes: true, attributeFilter: ["value"] });
}"""


def heap(cdp) -> int:
    """What the page holds now: its JS heap and its ArrayBuffers' backing stores (where the
    bytes of a document would be), after a garbage collection: V8 lets tens of megabytes of
    dead ArrayBuffers wait for one, which says nothing of what the page keeps."""
    cdp.send("HeapProfiler.collectGarbage")
    usage = cdp.send("Runtime.getHeapUsage")
    return usage["usedSize"] + usage["backingStorageSize"]


def watch(page, start, finished, timeout: float = 120.0) -> Watched:
    """Runs `start()` (a click), reading the heap every 100 ms until `finished()` is true; the
    page records its progress bars' values meanwhile."""
    cdp = page.context.new_cdp_session(page)
    page.evaluate(OBSERVE)
    watched = Watched(baseline=heap(cdp))
    began = time.monotonic()
    start()
    while not finished():
        if time.monotonic() - began > timeout:
            raise AssertionError(f"not finished after {timeout} s")
        watched.peak = max(watched.peak, heap(cdp))
        time.sleep(0.1)
    watched.seconds = time.monotonic() - began
    watched.peak = max(watched.peak, heap(cdp))
    watched.progress = [tuple(change) for change in page.evaluate("window.__progress")]
    cdp.detach()
    return watched
