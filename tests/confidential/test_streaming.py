"""Large documents stream: encrypting (Python and the page's module) and decrypting (Python)
take memory that does not grow with the document (the issue's 50 MB documents)."""

import json
import subprocess
import sys

from backend.confidential.identity import derive_identity_from_key
from backend.settings import ROOT

SIZE = 64 * 1024 * 1024
KEY = "0x" + "42" * 32

PYTHON_RUN = """
import resource, sys
from pathlib import Path
from backend.confidential.envelope import decrypt_to_file, encrypt_file
from backend.confidential.identity import derive_identity_from_key
plain, cipher, out = map(Path, sys.argv[1:4])
identity = derive_identity_from_key(sys.argv[4])
baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
encrypt_file(plain, cipher, [identity.recipient])
with open(cipher, "rb") as src:
    decrypt_to_file(src, out, [identity])
print(baseline * 1024, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
"""


def big_document(tmp_path):
    plain = tmp_path / "scan.tiff"
    with open(plain, "wb") as f:
        f.truncate(SIZE)  # 64 MB of zeros: the cipher does not care what the bytes are
    return plain


def test_python_encrypts_and_decrypts_in_constant_memory(tmp_path):
    plain = big_document(tmp_path)
    run = subprocess.run(
        [sys.executable, "-c", PYTHON_RUN, plain, tmp_path / "c.age", tmp_path / "out", KEY],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=True,
    )
    baseline, peak = map(int, run.stdout.split())
    assert peak - baseline < 16 * 1024 * 1024, (baseline, peak)  # measured: under 1 MB
    assert (tmp_path / "out").stat().st_size == SIZE


def test_the_page_module_encrypts_in_constant_memory(tmp_path):
    plain = big_document(tmp_path)
    recipient = derive_identity_from_key(KEY).recipient
    run = subprocess.run(
        ["node", "--import", "./tests/js/vendor.mjs", "tests/js/stream_memory.mjs"]
        + [str(plain), str(tmp_path / "c.age"), recipient],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=180,
        check=True,
    )
    measured = json.loads(run.stdout)
    # measured: ~33 MB over the baseline (stream buffers, the young generation) for 50 MB
    # and 150 MB documents alike
    assert measured["peakRss"] - measured["baselineRss"] < 48 * 1024 * 1024, measured
    assert (tmp_path / "c.age").stat().st_size > SIZE
