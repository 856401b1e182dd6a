"""APA 7 output, compared with reference-list entries written out by hand."""

import pytest

from references.citations import reference_csl, render_html, render_html_and_text, render_text
from references.models import Reference
from references.services import apply_work
from tests.fake_crossref import load_work

# Titles as an editor corrects them for APA (sentence case; Crossref has Title Case).
SENTENCE_CASE = {
    "10.1523/jneurosci.1547-16.2016": "Ketamine: NMDA receptors and beyond",
    "10.1159/000493425": "Ketamine’s effects on the glutamatergic and GABAergic systems: "
                         "A proteomics and metabolomics study in mice",
    "10.1176/appi.ajp.2020.20050596": "A randomized controlled trial of repeated ketamine administration "
                                      "for chronic posttraumatic stress disorder",
    "10.1007/s43440-020-00097-z": "Efficacy of single and repeated administration of ketamine in unipolar and "
                                  "bipolar depression: A meta-analysis of randomized clinical trials",
}

APA = {
    "10.1523/jneurosci.1547-16.2016":
        "Zorumski, C. F., Izumi, Y., & Mennerick, S. (2016). Ketamine: NMDA receptors and beyond. "
        "The Journal of Neuroscience, 36(44), 11158–11164. https://doi.org/10.1523/jneurosci.1547-16.2016",
    "10.1159/000493425":
        "Weckmann, K., Deery, M. J., Howard, J. A., Feret, R., Asara, J. M., Dethloff, F., Filiou, M. D., "
        "Labermaier, C., Maccarrone, G., Lilley, K. S., Mueller, M., & Turck, C. W. (2019). Ketamine’s effects on "
        "the glutamatergic and GABAergic systems: A proteomics and metabolomics study in mice. "
        "Molecular Neuropsychiatry, 5(1), 42–51. https://doi.org/10.1159/000493425",
    "10.1176/appi.ajp.2020.20050596":
        "Feder, A., Costi, S., Rutter, S. B., Collins, A. B., Govindarajulu, U., Jha, M. K., Horn, S. R., Kautz, M., "
        "Corniquel, M., Collins, K. A., Bevilacqua, L., Glasgow, A. M., Brallier, J., Pietrzak, R. H., "
        "Murrough, J. W., & Charney, D. S. (2021). A randomized controlled trial of repeated ketamine "
        "administration for chronic posttraumatic stress disorder. American Journal of Psychiatry, 178(2), "
        "193–202. https://doi.org/10.1176/appi.ajp.2020.20050596",
    "10.1007/s43440-020-00097-z":
        "Kryst, J., Kawalec, P., Mitoraj, A. M., Pilc, A., Lasoń, W., & Brzostek, T. (2020). Efficacy of single "
        "and repeated administration of ketamine in unipolar and bipolar depression: A meta-analysis of "
        "randomized clinical trials. Pharmacological Reports, 72(3), 543–562. "
        "https://doi.org/10.1007/s43440-020-00097-z",
}


def from_fixture(doi, **overrides):
    reference = apply_work(Reference(doi=doi), load_work(doi))
    reference.display_overrides = overrides
    return reference


@pytest.mark.parametrize("doi", list(APA))
def test_the_ketamine_references_in_apa_7_as_plain_text(doi):
    assert render_text(from_fixture(doi, title=SENTENCE_CASE[doi])) == APA[doi]


@pytest.mark.parametrize("doi", list(APA))
def test_the_ketamine_references_in_apa_7_as_html(doi):
    reference = from_fixture(doi, title=SENTENCE_CASE[doi])
    journal, volume = reference.container_title, reference.volume
    expected = (
        APA[doi]
        .replace("&", "&amp;")
        .replace(f"{journal}, {volume}(", f"<i>{journal}</i>, <i>{volume}</i>(")
        .replace(f"https://doi.org/{doi}", f'<a href="https://doi.org/{doi}">https://doi.org/{doi}</a>')
    )
    assert str(render_html(reference)) == expected


def test_without_an_editors_correction_the_crossref_title_is_shown():
    text = render_text(from_fixture("10.1523/jneurosci.1547-16.2016"))
    assert "(2016). Ketamine: NMDA Receptors and Beyond. The Journal of Neuroscience" in text


def test_the_csl_type_is_the_mapped_one_not_crossrefs():
    # Unmapped "journal-article" would render like a chapter: "In The Journal of Neuroscience (Vol. 36...".
    reference = from_fixture("10.1523/jneurosci.1547-16.2016")
    assert reference_csl(reference)["type"] == "article-journal"
    assert "In The Journal" not in render_text(reference)


def test_a_preprint_says_so():
    text = render_text(from_fixture("10.1101/2020.12.01.406702"))
    assert "[Preprint]" in text


def test_inline_markup_in_titles_is_kept_in_html_and_dropped_in_text():
    reference = from_fixture("10.7717/peerj.6049")
    assert "Ecology and life history of <i>Meta bourneti</i> (Araneae" in render_html(reference)
    assert "Ecology and life history of Meta bourneti (Araneae" in render_text(reference)


def test_every_field_is_escaped_or_sanitised():
    reference = Reference(
        doi="10.5555/x&y", work_type="journal-article", year=2020,
        title='Dangerous <script>alert("x")</script> & <i>safe</i> <a href="javascript:alert(1)">link</a>',
        authors=[{"family": "O'Brien <b onclick=alert(1)>", "given": "A."}],
        container_title="<img src=x onerror=alert(1)>Journal", volume="1", issue="2", pages="3-4",
    )
    html = str(render_html(reference))
    assert "<script" not in html and "onerror" not in html and "onclick" not in html and "javascript:" not in html
    assert "<img" not in html and 'href="javascript' not in html
    assert "<i>safe</i>" in html
    assert "&amp; <i>safe</i>" in html
    assert '<a href="https://doi.org/10.5555/x&amp;y">https://doi.org/10.5555/x&amp;y</a>' in html


def test_plain_text_has_no_markup_and_no_entities():
    reference = Reference(doi="10.5555/t", work_type="journal-article", year=2020,
                          title="Cats &amp; <i>Dogs</i>", authors=[{"family": "Smith", "given": "J."}],
                          container_title="Pets", volume="1")
    assert render_text(reference) == "Smith, J. (2020). Cats & Dogs. Pets, 1. https://doi.org/10.5555/t"


def test_a_reference_without_doi_links_its_url():
    reference = Reference(url="https://www.who.int/news-room/fact-sheets/detail/depression", title="Depression",
                          authors=[{"literal": "World Health Organization"}], year=2023, work_type="")
    html = str(render_html(reference))
    assert html.startswith("World Health Organization. (2023).")
    assert ('<a href="https://www.who.int/news-room/fact-sheets/detail/depression">'
            "https://www.who.int/news-room/fact-sheets/detail/depression</a>") in html


def test_a_reference_with_no_year_is_nd():
    reference = Reference(doi="10.5555/nd", title="Undated", authors=[{"family": "Doe", "given": "J."}],
                          work_type="journal-article", container_title="J")
    assert "(n.d.)" in render_text(reference)


@pytest.mark.django_db
def test_rendering_does_not_query_the_database(django_assert_num_queries, editor):
    reference = from_fixture("10.1176/appi.ajp.2020.20050596", title="Sentence case")
    reference.peer_review_override_by = editor
    reference.save()
    loaded = Reference.objects.get(pk=reference.pk)
    with django_assert_num_queries(0):
        render_html(loaded)
        render_text(loaded)


@pytest.mark.parametrize("doi", list(APA))
def test_html_and_text_from_one_rendering_are_the_two_renderings(doi):
    reference = from_fixture(doi, title=SENTENCE_CASE[doi])
    assert render_html_and_text(reference) == (render_html(reference), render_text(reference))


def test_html_and_text_from_one_rendering_for_escaped_markup():
    reference = Reference(doi="10.5555/x&y", work_type="journal-article", year=2020,
                          title='Cats <script>alert("x")</script> & <i>dogs</i>', container_title="J <x> & Co",
                          authors=[{"family": "O'Brien <b>", "given": "A & B"}])
    html, text = render_html_and_text(reference)
    assert (html, text) == (render_html(reference), render_text(reference))
    assert text == "O'Brien , A. & B. (2020). Cats & dogs. J & Co. https://doi.org/10.5555/x&y"
