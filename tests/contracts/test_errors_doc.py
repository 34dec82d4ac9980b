"""docs/errors.md lists every custom error of the escrow, each with a @notice, and is current."""

from scripts import errors_doc


def test_every_error_has_a_notice():
    items = errors_doc.errors()
    assert len(items) >= 50
    assert [e["name"] for e in items if not e["notice"]] == []


def test_errors_doc_is_current():
    assert errors_doc.OUT.read_text() == errors_doc.render(errors_doc.errors()), (
        "docs/errors.md is out of date: run `python -m scripts.errors_doc`"
    )


def test_the_page_links_every_error_it_cannot_explain_to_the_doc():
    errors_js = (errors_doc.ROOT / "web" / "js" / "errors.js").read_text()
    assert "docs/errors.md#" in errors_js
