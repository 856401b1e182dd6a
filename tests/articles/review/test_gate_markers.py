"""articles.review.gate: a citation marker left in a claim's words blocks publication; excerpts close their quotes."""

import pytest

from articles.models import Claim
from articles.review import gate
from tests.factories import make_reference, make_supported_article

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("marker", ["[doi:10.1000/xyz]", "[3]", "[2-4]", "[^8]", "[@pmid:959840]",
                                    "[https://doi.org/10.1000/xyz]", "[doi:10.1000/xyz"])
def test_a_claim_with_a_source_and_a_marker_in_its_words_is_blocked(marker):
    article = make_supported_article()
    claim = Claim.objects.filter(section__article=article, is_context=False).order_by("pk").first()
    Claim.objects.filter(pk=claim.pk).update(text=f"Ketamine blocks NMDA receptors {marker}.")
    [blocker] = [b for b in gate.publish_blockers(article) if b.code == "marker_in_text"]
    assert blocker.claim_number == 1 and marker in blocker.message
    assert "a citation marker was left in the words" in str(blocker)
    assert "marker_in_text" in [b.code for b in gate.content_blockers(gate.load_content(article))]


def test_a_context_statement_with_a_marker_is_blocked_too():
    article = make_supported_article()
    Claim.objects.filter(section__article=article, is_context=True).update(text="Ask your doctor [1].")
    assert [b.claim_number for b in gate.publish_blockers(article) if b.code == "marker_in_text"] == [2]


def test_brackets_that_are_not_markers_do_not_block():
    article = make_supported_article(sections={"S": [
        {"text": "In the [1960s] the drug [sic] was new.", "refs": [make_reference()]},
    ]})
    assert "marker_in_text" not in [b.code for b in gate.publish_blockers(article)]


def test_an_excerpt_cut_inside_a_quotation_closes_it():
    text = ("Patients in the trial said that the drug “helped them sleep through the night without waking up "
            "at all, and they felt rested”, the authors wrote.")
    shown = gate.excerpt(text)
    inner = shown[1:-1]
    assert inner.count("“") == inner.count("”") and inner.endswith("…”")
    assert len(shown) <= gate.EXCERPT_LENGTH + 3


def test_an_excerpt_is_cut_at_a_word():
    shown = gate.excerpt("word " * 40)
    assert shown.endswith("word…”") and len(shown) <= gate.EXCERPT_LENGTH + 2


def test_a_straight_quotation_cut_short_is_closed():
    shown = gate.excerpt('He said "this drug works for everyone who tries it and nobody should ever worry about it at all"')
    assert shown[1:-1].count('"') % 2 == 0


def test_a_short_claim_is_shown_whole():
    assert gate.excerpt("Short “quoted” words.") == "“Short “quoted” words.”"
