"""The page's confidential module in real Chromium, under the page's CSP, with the age bundle
the service serves (/app/vendor/age.js): the identity derived through the injected wallet is
the one eth-account derives; a document the page encrypts opens with Debian's age and pyrage;
one Python encrypts opens in the page; a tampered one is refused and shows nothing."""

import base64
import io
import os
import shutil
import subprocess

import pyrage
from helpers import new_account

from backend.confidential.envelope import encrypt
from backend.confidential.identity import derive_identity_from_key

IN_PAGE = """async ({ recipients, ciphertexts }) => {
  const conf = await import("/app/js/confidential.js");
  const ethers = await import("/app/vendor/ethers.js");
  const signer = await new ethers.BrowserProvider(window.ethereum).getSigner();
  const identity = await conf.deriveIdentity(signer);
  const doc = new Blob(["Bill of lading 4711: 40 pallets, consignee ACME"]);
  const to = [identity.recipient, ...recipients];
  const { ciphertext, sealed } = await conf.encryptDocument(doc, to);
  const bytes = new Uint8Array(await new Response(ciphertext).arrayBuffer());
  const opened = [];
  for (const b64 of ciphertexts) {
    const data = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    try {
      const { blob, sha256 } = await conf.decryptDocument(new Blob([data]), [identity.secretKey]);
      opened.push({ text: await blob.text(), sha256 });
    } catch (error) {
      opened.push({ error: `${error.name}: ${error.message}` });
    }
  }
  let binary = "";
  bytes.forEach((b) => (binary += String.fromCharCode(b)));
  return { identity, sealed: await sealed, ciphertext: btoa(binary), opened };
}"""


def test_the_page_derives_encrypts_and_decrypts_with_age_and_pyrage(open_page, tmp_path):
    reader = new_account()
    mine = derive_identity_from_key(reader.private_key)
    other = derive_identity_from_key("0x" + os.urandom(32).hex())
    invoice = b"Commercial invoice 2026-118: 1,200 units at 14.50 USD"
    with_python = tmp_path / "python.age"
    with open(with_python, "wb") as dst:
        encrypt(io.BytesIO(invoice), dst, [mine.recipient])
    good = with_python.read_bytes()
    tampered = good[:-5] + bytes([good[-5] ^ 1]) + good[-4:]

    page = open_page(reader)
    result = page.evaluate(
        IN_PAGE,
        {
            "recipients": [other.recipient],
            "ciphertexts": [base64.b64encode(c).decode() for c in (good, tampered)],
        },
    )
    assert page.errors == []
    assert result["identity"]["recipient"] == mine.recipient
    assert result["identity"]["secretKey"] == mine.secret_key

    # what the page encrypted opens with Debian's age (the identity in a file) and pyrage
    ciphertext = base64.b64decode(result["ciphertext"])
    (tmp_path / "page.age").write_bytes(ciphertext)
    (tmp_path / "key.txt").write_text(mine.secret_key + "\n")
    age = os.environ.get("AGE") or shutil.which("age")
    by_age = subprocess.run(
        [age, "-d", "-i", str(tmp_path / "key.txt"), str(tmp_path / "page.age")],
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout
    assert by_age == b"Bill of lading 4711: 40 pallets, consignee ACME"
    assert pyrage.decrypt(ciphertext, [other.to_pyrage()]) == by_age
    assert result["sealed"]["ciphertextSize"] == len(ciphertext)

    # what Python encrypted opens in the page; the tampered copy is refused, nothing shown
    assert result["opened"][0]["text"] == invoice.decode()
    assert result["opened"][1] == {
        "error": "ConfidentialError: the ciphertext is truncated or was tampered with"
    }
