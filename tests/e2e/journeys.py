"""Steps more than one browser journey takes."""


def edit_claim_and_resubmit(page, *, link_text, field, before, after, nth=0):
    """On an article's admin page: open a section's claims, rewrite one claim, save, and submit for review."""
    page.locator(f"text={link_text}").nth(nth).click()
    page.wait_for_selector(field)
    assert page.input_value(field) == before
    page.fill(field, after)
    page.click("input[name=_save]")
    page.wait_for_selector("a.workflow-submit")
    page.click("a.workflow-submit")
    page.click("#content form [type=submit]")
    page.wait_for_selector("ul.messagelist")
