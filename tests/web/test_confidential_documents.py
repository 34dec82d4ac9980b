"""Confidential documents on the page, in real Chromium against the service and anvil: keys
published from the page, a document encrypted in the page to the deal's readers (each binding
verified there), read by the parties and the arbiter in their own pages, shown to a stranger
as encrypted to named parties; an oracle works a milestone from its desk with encrypted
evidence, and the buyer decrypts it and checks it against the chain."""

from __future__ import annotations

import hashlib

import brownie
import pyrage
import pytest
from helpers import USD, key_consent, new_account
from large_document import document_sha256, put_file, watch
from playwright.sync_api import expect
from test_desk import desk_item
from test_pages import STATUS, indexed, milestone, open_deal, wait_for

from backend.confidential import client as conf
from backend.confidential.client import Signer, publish_key
from backend.confidential.identity import derive_identity_from_key

INVOICE = b"Commercial invoice 2026-118: 1,200 controllers at 14.50 USD, consignee ACME GmbH\n"
REPORT = b"Inspection report: 600 units, AQL 1.0 passed, lot sealed 4711\n"
MANIFEST_TYPE = "application/vnd.milestone-escrow.manifest+json"


def publish_from_page(open_page, account):
    """The account publishes its key from its deals page: derived and signed in the wallet."""
    page = open_page(account, "#/")
    expect(page.locator("#key-status")).to_contain_text("Not published")
    page.click("#publish-key")
    expect(page.locator("#key-status")).to_contain_text("Published", timeout=20_000)
    return page


def publish_with_key(service, escrow, account):
    signer = Signer(account.private_key, brownie.chain.id, escrow.address)
    publish_key(service.http, signer, derive_identity_from_key(account.private_key))


def open_document(page, index: int):
    item = milestone(page, index).locator("li.document.confidential").first
    item.locator("button.open").click()
    return item.locator(".check")


def short(address: str) -> str:
    """An address as the page shortens it."""
    return f"{address[:6]}…{address[-4:]}"


def opened_bytes(page, check) -> bytes:
    """What the user saves from the link to the decrypted document."""
    with page.expect_download() as download:
        check.locator("a.opened").click()
    with open(download.value.path(), "rb") as saved:
        return saved.read()


def test_a_supplier_encrypts_an_invoice_the_parties_and_arbiter_read_it_a_stranger_cannot(
    open_page, service, screenshot, escrow, stable, buyer, supplier, arbiter, ops, create_deal
):
    deal = open_deal(escrow, stable, buyer, create_deal, ops)
    seller_home = publish_from_page(open_page, supplier)
    binding = service.http.get(f"/keys/{supplier.address}").json()
    assert binding["recipient"] == derive_identity_from_key(supplier.private_key).recipient
    for account in (buyer, arbiter):
        publish_with_key(service, escrow, account)

    seller = seller_home
    seller.goto(f"{service.url}/app/#/deal/{deal.id}")
    form = seller.locator("#add-document-0")
    form.locator("[name=file]").set_input_files(
        {"name": "invoice.pdf", "mimeType": "application/pdf", "buffer": INVOICE}
    )
    expect(form.locator("[name=encrypt]")).to_be_checked()  # encrypted unless told otherwise
    form.locator("button[type=submit]").click()
    stored = seller.locator(".notice.ok", has_text="Document stored")
    expect(stored).to_contain_text("Encrypted to 3 readers.", timeout=30_000)
    # The deal's oracles have no key: named, not silently left out.
    expect(stored).to_contain_text(f"Not encrypted to the oracle #{ops.inspector}")

    # The service holds ciphertext only, which the buyer's derived key opens (pyrage).
    docs = service.http.get(f"/deals/{deal.id}/documents").json()
    types = sorted(d["media_type"] for d in docs)
    assert types == ["application/age-encryption", MANIFEST_TYPE]
    cipher = next(d for d in docs if d["media_type"] == "application/age-encryption")
    stored = service.http.get(f"/evidence/{cipher['cid']}").content
    assert INVOICE not in stored
    buyer_id = derive_identity_from_key(buyer.private_key)
    assert pyrage.decrypt(stored, [buyer_id.to_pyrage()]) == INVOICE
    manifest = next(d for d in docs if d["media_type"] == MANIFEST_TYPE)
    copies = service.http.get(f"/evidence/{manifest['cid']}/copies").json()
    assert {r["account"] for r in copies[0]["readers"]} == {
        buyer.address,
        supplier.address,
        arbiter.address,
    }

    # The buyer and the arbiter open it in their pages: decrypted there, checked, the invoice.
    for reader in (buyer, arbiter):
        page = open_page(reader, f"#/deal/{deal.id}")
        check = open_document(page, 0)
        expect(check).to_contain_text("✓ decrypted here", timeout=30_000)
        assert opened_bytes(page, check) == INVOICE
        assert page.errors == []
    screenshot(page, "confidential-arbiter")

    # Ciphertext altered in storage or on the way: refused against the manifest, nothing shown.
    tampered = stored[:-20] + bytes([stored[-20] ^ 1]) + stored[-19:]
    page.route(f"**/evidence/{cipher['cid']}", lambda route: route.fulfill(body=tampered))
    check = open_document(page, 0)
    expect(check).to_have_class("check bad", timeout=30_000)
    expect(check).to_contain_text("is not the attested one")
    expect(check.locator("a.opened")).to_have_count(0)

    # A stranger sees that it is encrypted, and to whom; no plaintext, no ciphertext.
    stranger = open_page(new_account(), f"#/deal/{deal.id}")
    check = open_document(stranger, 0)
    expect(check).to_have_class("check locked", timeout=30_000)
    for role in ("buyer", "supplier", "arbiter"):
        expect(check).to_contain_text(role)
    expect(check.locator("a.opened")).to_have_count(0)
    assert "controllers" not in stranger.content()
    assert stranger.errors == [] and seller.errors == []


def test_an_oracle_works_a_milestone_from_its_desk_with_encrypted_evidence(
    open_page, service, escrow, stable, buyer, supplier, inspector, arbiter, ops, create_deal
):
    deal = open_deal(escrow, stable, buyer, create_deal, ops)
    for account in (buyer, supplier, arbiter):
        publish_with_key(service, escrow, account)
    desk = open_page(inspector, "#/desk")
    desk.click("#publish-key")
    expect(desk.locator("#key-status")).to_contain_text("Published", timeout=20_000)

    item = desk_item(desk, deal.id, 0)
    item.locator("[name=file]").set_input_files(
        {"name": "report.pdf", "mimeType": "application/pdf", "buffer": REPORT}
    )
    item.locator("button[type=submit]").click()
    done = desk.locator(".notice.ok", has_text="is on chain")
    expect(done).to_contain_text("Its evidence: Encrypted to 4 readers.", timeout=60_000)

    # Paid on chain, on an evidence hash that is the manifest's, not the report's.
    assert escrow.getMilestone(deal.id, 0)["status"] == STATUS["Released"]
    wait_for(lambda: stable.balanceOf(supplier) == 600 * USD, "the payout")
    d = indexed(service, deal.id, lambda d: d["milestones"][0]["verdicts"])
    (verdict,) = d["milestones"][0]["verdicts"]
    assert verdict["evidence_sha256"] != hashlib.sha256(REPORT).hexdigest()
    manifest = service.http.get(f"/evidence/{verdict['evidence_cid']}").json()
    assert manifest["plaintext"]["sha256"] == hashlib.sha256(REPORT).hexdigest()
    asked = desk.evaluate("window.__wallet.requests")
    assert "eth_signTypedData_v4" in asked and "eth_sendTransaction" not in asked

    # The buyer checks the verdict's evidence against the chain: decrypted in its page.
    page = open_page(buyer, f"#/deal/{deal.id}")
    milestone(page, 0).locator("button.verify").click()
    check = milestone(page, 0).locator(".verdict .check")
    expect(check).to_contain_text(
        "✓ decrypted here; matches the hash anchored on chain", timeout=30_000
    )
    assert opened_bytes(page, check) == REPORT
    assert desk.errors == [] and page.errors == []


LARGE = 50 * 2**20  # an inspection report with its photos
SEED = 20261201


def test_a_50_mb_report_is_encrypted_uploaded_and_decrypted_with_progress_in_flat_memory(
    open_page, service, escrow, stable, buyer, supplier, inspector, ops, create_deal
):
    deal = open_deal(escrow, stable, buyer, create_deal, ops)
    for account in (buyer, supplier):
        publish_with_key(service, escrow, account)
    seller = open_page(supplier, f"#/deal/{deal.id}")
    form = seller.locator("#add-document-0")
    form.locator("[name=file]").wait_for(state="attached")
    put_file(seller, "#add-document-0 [name=file]", LARGE, SEED, "inspection-report.pdf")
    stored = seller.locator(".notice.ok", has_text="Document stored")
    up = watch(seller, form.locator("button[type=submit]").click, stored.is_visible)
    expect(stored).to_contain_text("Encrypted to 2 readers.")
    print(f"encrypted and uploaded in {up.seconds:.1f} s, the heap +{up.growth / 1e6:.1f} MB")
    assert len(up.moved("Encrypting")) >= 5 and len(up.moved("Uploading")) >= 5, up.progress
    assert up.growth < 25e6, f"the page's heap grew by {up.growth / 1e6:.1f} MB"

    # The manifest names the document the page made; the inspector anchors it on chain.
    docs = service.http.get(f"/deals/{deal.id}/documents").json()
    anchor = next(d for d in docs if d["media_type"] == MANIFEST_TYPE)
    manifest = service.http.get(f"/evidence/{anchor['cid']}").json()
    assert manifest["plaintext"] == {"sha256": document_sha256(LARGE, SEED), "size": LARGE}
    escrow.attest(deal.id, 0, "0x" + anchor["sha256"], {"from": inspector})
    indexed(service, deal.id, lambda d: d["milestones"][0]["verdicts"])

    # The buyer checks it against the chain: downloaded, decrypted and hashed as one stream.
    page = open_page(buyer, f"#/deal/{deal.id}")
    check = milestone(page, 0).locator(".verdict .check")
    verify = milestone(page, 0).locator("button.verify").click
    down = watch(page, verify, lambda: "✓" in check.inner_text() or "✗" in check.inner_text())
    expect(check).to_contain_text("✓ decrypted here; matches the hash anchored on chain")
    print(f"downloaded, decrypted in {down.seconds:.1f} s, the heap +{down.growth / 1e6:.1f} MB")
    assert len(down.moved("Downloading and decrypting")) >= 5, down.progress
    assert down.growth < 25e6, f"the page's heap grew by {down.growth / 1e6:.1f} MB"
    assert hashlib.sha256(opened_bytes(page, check)).hexdigest() == document_sha256(LARGE, SEED)
    assert seller.errors == [] and page.errors == []


# Operator keys read on chain at every request, so that the rotation shows at once (the service
# reuses them for up to 15 s by default: a new key waits that long to be named a reader).
@pytest.mark.parametrize("service_settings", [{"chain_cache_seconds": 0}])
def test_a_reader_gives_a_rotated_key_access_and_the_revoked_key_gets_nothing_new(
    open_page,
    service,
    escrow,
    stable,
    buyer,
    supplier,
    inspector,
    arbiter,
    ops,
    create_deal,
    tmp_path,
):
    deal = open_deal(escrow, stable, buyer, create_deal, ops)
    for account in (buyer, supplier, arbiter, inspector):
        publish_with_key(service, escrow, account)
    document = tmp_path / "report.pdf"
    document.write_bytes(REPORT)
    signer = Signer(supplier.private_key, brownie.chain.id, escrow.address)
    readers = conf.deal_readers(service.http, deal.id, brownie.chain.id)
    manifest, first = conf.upload_confidential(service.http, signer, document, readers, deal.id, 0)
    assert inspector.address in {r["account"] for r in first["readers"]}

    # The inspection agency rotates: a new key added, the old one revoked.
    rotated = new_account()
    escrow.addOperatorKey(
        ops.inspector, rotated, *key_consent(escrow, inspector, rotated), {"from": inspector}
    )
    escrow.revokeOperatorKey(ops.inspector, inspector, {"from": inspector})
    publish_with_key(service, escrow, rotated)
    late = open_page(rotated, f"#/deal/{deal.id}")
    check = open_document(late, 0)
    expect(check).to_have_class("check locked", timeout=30_000)  # nothing for it yet

    # The buyer opens the document and gives the new key access: a copy, the anchor unchanged.
    page = open_page(buyer, f"#/deal/{deal.id}")
    check = open_document(page, 0)
    expect(check).to_contain_text("✓ decrypted here", timeout=30_000)
    give = check.locator("button", has_text="Give access to the oracle")
    expect(give).to_contain_text(short(rotated.address))
    expect(give).not_to_contain_text(short(inspector.address))
    give.click()
    expect(check).to_contain_text("is stored: they can open it now", timeout=30_000)
    copies = service.http.get(f"/evidence/{manifest.cid()}/copies").json()
    assert [c["anchored"] for c in copies] == [True, False]
    assert {r["account"] for r in copies[1]["readers"]} == {
        buyer.address,
        supplier.address,
        arbiter.address,
        rotated.address,
    }  # the revoked key is not among them
    ciphertext = service.http.get(f"/evidence/{copies[1]['ciphertext']['cid']}").content
    revoked = derive_identity_from_key(inspector.private_key).to_pyrage()
    with pytest.raises(pyrage.DecryptError):
        pyrage.decrypt(ciphertext, [revoked])

    # The new key's page reads it, checked against the manifest the chain will anchor.
    late.reload()
    check = open_document(late, 0)
    expect(check).to_contain_text("✓ decrypted here", timeout=30_000)
    assert opened_bytes(late, check) == REPORT
    expect(check.locator("button")).to_have_count(0)  # everyone current has a copy now
    assert page.errors == [] and late.errors == []
