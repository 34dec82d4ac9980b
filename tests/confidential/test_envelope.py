"""Documents encrypted with age: the page's module (ethers + age-encryption, in node), pyrage
and Debian's `age` read each other's files with the wallet-derived identities; bad input (a
wrong key, a truncated or tampered ciphertext) is refused in words and leaves nothing behind;
the manifest the chain anchors is the same bytes in both languages and checks both ways."""

import hashlib
import io
import os
import secrets
import subprocess

import pyrage
import pytest
from page_module import PageModuleRefused

from backend.confidential.envelope import decrypt_to_file, encrypt, encrypt_file, reencrypt
from backend.confidential.errors import ConfidentialError, DecryptionError, ManifestError
from backend.confidential.identity import derive_identity_from_key
from backend.confidential.manifest import parse_manifest
from backend.evidence.cid import cid_of, raw_cid_of_sha256

KEYS = {role: "0x" + secrets.token_hex(32) for role in ("buyer", "supplier", "arbiter", "stranger")}


@pytest.fixture(scope="module")
def ids():
    return {role: derive_identity_from_key(key) for role, key in KEYS.items()}


@pytest.fixture(scope="module")
def invoice(tmp_path_factory):
    """A document over one IPFS chunk, so its ciphertext's CID is a DAG, not a raw block."""
    path = tmp_path_factory.mktemp("docs") / "invoice.pdf"
    path.write_bytes(b"%PDF-1.7 commercial invoice " + os.urandom(300_000))
    return path


def sha256_of(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_page_encrypts_and_age_and_pyrage_decrypt(page_module, age_cli, ids, invoice, tmp_path):
    parties = [ids["buyer"].recipient, ids["supplier"].recipient, ids["arbiter"].recipient]
    sealed = page_module(
        "encrypt", recipients=parties, input=str(invoice), output=str(tmp_path / "doc.age")
    )
    ciphertext = (tmp_path / "doc.age").read_bytes()
    assert sealed["plaintextSha256"] == sha256_of(invoice)
    assert sealed["ciphertextSha256"] == hashlib.sha256(ciphertext).hexdigest()
    assert (sealed["plaintextSize"], sealed["ciphertextSize"]) == (
        invoice.stat().st_size,
        len(ciphertext),
    )

    key_file = tmp_path / "buyer.key"
    key_file.write_text(ids["buyer"].secret_key + "\n")
    out = tmp_path / "by-age.pdf"
    subprocess.run(
        [age_cli, "-d", "-i", str(key_file), "-o", str(out), str(tmp_path / "doc.age")],
        check=True,
        timeout=60,
    )
    assert out.read_bytes() == invoice.read_bytes()
    for role in ("supplier", "arbiter"):
        assert pyrage.decrypt(ciphertext, [ids[role].to_pyrage()]) == invoice.read_bytes()
    with pytest.raises(pyrage.DecryptError):
        pyrage.decrypt(ciphertext, [ids["stranger"].to_pyrage()])


def test_python_and_age_encrypt_and_the_page_decrypts(page_module, age_cli, ids, invoice, tmp_path):
    by_python = tmp_path / "python.age"
    sealed = encrypt_file(invoice, by_python, [ids["buyer"].recipient, ids["arbiter"].recipient])
    by_age = tmp_path / "age.age"
    subprocess.run(
        [age_cli, "-r", ids["buyer"].recipient, "-o", str(by_age), str(invoice)],
        check=True,
        timeout=60,
    )
    for ciphertext in (by_python, by_age):
        out = tmp_path / "page.pdf"
        opened = page_module(
            "decrypt", identities=[ids["buyer"].secret_key], input=str(ciphertext), output=str(out)
        )
        assert out.read_bytes() == invoice.read_bytes()
        assert opened == {"sha256": sha256_of(invoice), "size": invoice.stat().st_size}
    assert sealed.plaintext_sha256.hex() == sha256_of(invoice)
    assert sealed.ciphertext_cid == cid_of(by_python.read_bytes())


def bad_copies(ciphertext: bytes) -> dict[str, bytes]:
    header_end = ciphertext.index(b"\n---") + 1
    return {
        "truncated": ciphertext[:-100],
        "cut before the last chunk": ciphertext[: header_end + 70_000],
        "payload tampered": flip(ciphertext, len(ciphertext) - 50),
        "first chunk tampered": flip(ciphertext, header_end + 200),
        "recipient stanza tampered": flip(ciphertext, 30),
        "header MAC tampered": ciphertext[: header_end + 6]
        + (b"B" if ciphertext[header_end + 6 : header_end + 7] == b"A" else b"A")
        + ciphertext[header_end + 7 :],
        "cut inside the header": ciphertext[:50],
        "not age at all": b"%PDF-1.7 an invoice in the clear",
    }


def flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 1]) + data[at + 1 :]


REASONS = {
    "wrong key": "not encrypted to your key",
    "truncated": "truncated or was tampered with",
    "cut before the last chunk": "truncated or was tampered with",
    "payload tampered": "truncated or was tampered with",
    "first chunk tampered": "truncated or was tampered with",
    "recipient stanza tampered": "not encrypted to your key",  # the stanza no longer opens
    "header MAC tampered": "header was tampered with",
    "cut inside the header": "not an age-encrypted document, or cut short",
    "not age at all": "not an age-encrypted document",
}


def test_bad_ciphertexts_are_refused_in_words_and_leave_nothing(
    page_module, ids, invoice, tmp_path
):
    good = tmp_path / "doc.age"
    encrypt_file(invoice, good, [ids["buyer"].recipient])
    cases = {"wrong key": (good.read_bytes(), ids["stranger"])}
    cases |= {name: (data, ids["buyer"]) for name, data in bad_copies(good.read_bytes()).items()}
    for name, (data, identity) in cases.items():
        bad = tmp_path / f"{name}.age"
        bad.write_bytes(data)
        out = tmp_path / f"{name}.pdf"
        with open(bad, "rb") as src, pytest.raises(DecryptionError, match=REASONS[name]):
            decrypt_to_file(src, out, [identity])
        with pytest.raises(PageModuleRefused, match=REASONS[name]):
            page_module(
                "decrypt", identities=[identity.secret_key], input=str(bad), output=str(out)
            )
        assert not out.exists(), name
        assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == [], name


def test_the_manifest_is_the_same_in_both_languages_and_checks_both_ways(
    page_module, ids, invoice, tmp_path
):
    sealed = encrypt_file(invoice, tmp_path / "doc.age", [ids["buyer"].recipient])
    manifest = sealed.manifest()
    as_page = {
        "plaintextSha256": sealed.plaintext_sha256.hex(),
        "plaintextSize": sealed.plaintext_size,
        "ciphertextSha256": sealed.ciphertext_sha256.hex(),
        "ciphertextSize": sealed.ciphertext_size,
    }
    page = page_module("manifest", sealed=as_page, cid=sealed.ciphertext_cid)
    assert bytes.fromhex(page["manifest"]) == manifest.to_bytes()
    # from the chain alone: the evidence hash names the manifest's CID, the manifest the rest
    evidence_hash = manifest.evidence_hash()
    assert manifest.cid() == raw_cid_of_sha256(evidence_hash) == cid_of(manifest.to_bytes())
    assert parse_manifest(manifest.to_bytes(), evidence_hash) == manifest
    manifest.check_ciphertext(
        hashlib.sha256((tmp_path / "doc.age").read_bytes()).digest(), sealed.ciphertext_size
    )
    with pytest.raises(ManifestError, match="not the attested one"):
        manifest.check_ciphertext(hashlib.sha256(b"other").digest(), sealed.ciphertext_size)
    with pytest.raises(ManifestError, match="the chain has"):
        parse_manifest(manifest.to_bytes(), hashlib.sha256(b"other").digest())
    spaced = manifest.to_bytes().replace(b",", b", ")
    with pytest.raises(ManifestError, match="canonical"):
        parse_manifest(spaced)
    with pytest.raises(ManifestError, match="not a confidential evidence manifest"):
        parse_manifest(b"%PDF-1.7")

    # a reader decrypts against the anchored manifest; another document of the same size fails
    with open(tmp_path / "doc.age", "rb") as src:
        opened = decrypt_to_file(src, tmp_path / "out.pdf", [ids["buyer"]], expected=manifest)
    assert opened.plaintext_sha256 == manifest.plaintext_sha256
    impostor = tmp_path / "impostor.age"
    with open(impostor, "wb") as dst:
        encrypt(io.BytesIO(os.urandom(sealed.plaintext_size)), dst, [ids["buyer"].recipient])
    for decrypt in (
        lambda out: decrypt_to_file(open(impostor, "rb"), out, [ids["buyer"]], manifest),
        lambda out: page_module(
            "decrypt",
            identities=[ids["buyer"].secret_key],
            input=str(impostor),
            output=str(out),
            manifest=manifest.to_bytes().hex(),
        ),
    ):
        with pytest.raises((ManifestError, PageModuleRefused), match="not the attested one"):
            decrypt(tmp_path / "impostor.pdf")
        assert not (tmp_path / "impostor.pdf").exists()


def test_a_reader_gives_a_later_reader_a_copy_under_the_same_anchor(ids, invoice, tmp_path):
    """An operator rotates its key: the arbiter (a reader) re-encrypts to the live keys; the new
    key reads the copy and checks it against the anchor; the revoked key gets nothing new."""
    revoked, rotated = ids["supplier"], derive_identity_from_key(KEYS["supplier"], generation=1)
    original = tmp_path / "original.age"
    anchored = encrypt_file(
        invoice, original, [ids["buyer"].recipient, revoked.recipient, ids["arbiter"].recipient]
    ).manifest()
    copy = tmp_path / "copy.age"
    with open(original, "rb") as src, open(copy, "wb") as dst:
        sealed = reencrypt(
            src,
            dst,
            [ids["arbiter"]],
            [ids["buyer"].recipient, rotated.recipient, ids["arbiter"].recipient],
            anchored,
        )
    assert sealed.plaintext_sha256 == anchored.plaintext_sha256
    assert sealed.ciphertext_sha256 != anchored.ciphertext_sha256  # a new copy, same anchor
    with open(copy, "rb") as src:
        decrypt_to_file(src, tmp_path / "rotated.pdf", [rotated], expected=anchored)
    assert (tmp_path / "rotated.pdf").read_bytes() == invoice.read_bytes()
    with open(copy, "rb") as src, pytest.raises(DecryptionError, match="not encrypted to your"):
        decrypt_to_file(src, tmp_path / "revoked.pdf", [revoked])
    with open(original, "rb") as src, pytest.raises(DecryptionError):
        reencrypt(src, io.BytesIO(), [ids["stranger"]], [ids["stranger"].recipient], anchored)


def test_bad_recipients_are_refused_before_anything_is_written(ids, invoice, tmp_path):
    for recipients, reason in (
        ([], "no recipients"),
        (["age1notarecipient"], "not an age X25519 recipient"),
        ([ids["buyer"].secret_key], "not an age X25519 recipient"),
    ):
        with pytest.raises(ConfidentialError, match=reason):
            encrypt_file(invoice, tmp_path / "doc.age", recipients)
        assert not (tmp_path / "doc.age").exists()
