"""The section page's claim table on a phone: wider than the screen, it scrolls sideways to every column."""

import pytest

from tests.e2e.conftest import PASSWORD
from tests.factories import make_editor, make_supported_article

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_the_claim_table_scrolls_sideways_on_a_phone(open_session, browser, live_server):
    editor_user = make_editor("edna", password=PASSWORD)
    section = make_supported_article("Ketamine for depression", author=editor_user).sections.first()
    editor = open_session("editor")
    editor.context.set_default_timeout(10_000)
    page = editor.new_page()
    page.set_viewport_size({"width": 390, "height": 844})
    editor.sign_in(page, "edna")
    page.goto(editor.url(f"/admin/articles/section/{section.pk}/change/"))
    table = page.locator(".inline-group .tabular")
    assert table.evaluate("element => element.scrollWidth > element.clientWidth"), "the table is wider than the phone"
    first_row = page.locator(".inline-group .tabular tr.form-row").first
    first_row.scroll_into_view_if_needed()
    box = first_row.bounding_box()
    page.mouse.move(box["x"] + 40, box["y"] + box["height"] / 2)
    page.mouse.wheel(2000, 0)  # a sideways swipe over the table
    for _ in range(50):  # the swipe scrolls smoothly; wait for it (no wait_for_function: the CSP forbids eval)
        if table.evaluate("element => element.scrollLeft") > 0:
            break
        page.wait_for_timeout(50)
    assert table.evaluate("element => element.scrollLeft") > 0, "the swipe scrolled the table"
    delete_header = page.locator(".inline-group .tabular th", has_text="Delete?")
    header_box = delete_header.bounding_box()
    assert 0 <= header_box["x"] and header_box["x"] + header_box["width"] <= 390, "the last column came into view"
    editor.screenshot(page, "claims-scrolled")
    assert editor.csp_violations() == []
