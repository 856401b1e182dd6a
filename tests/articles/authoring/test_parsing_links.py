"""Links, unclosed markers and abbreviations in the shared citation reader (articles.authoring.parsing)."""

import pytest
from hypothesis import given, settings as hypothesis_settings, strategies as st

from articles.authoring.parsing import MarkerError, extract_markers, parse_paragraph

SENTENCE = "Ketamine lifts mood within a day"


@pytest.mark.parametrize("link,doi", [
    ("https://doi.org/10.1038/s41586-020-2012-7", "10.1038/s41586-020-2012-7"),
    ("http://dx.doi.org/10.1000/XYZ.", "10.1000/xyz"),
    ("doi.org/10.1000/abc", "10.1000/abc"),
    ("dx.doi.org/10.1000/abc", "10.1000/abc"),
    ("https://journals.plos.org/plosone/article?id=10.1371/journal.pone.0123456", "10.1371/journal.pone.0123456"),
    ("https://onlinelibrary.wiley.com/doi/full/10.1002/jcpp.13000", "10.1002/jcpp.13000"),
])
def test_a_link_with_a_doi_in_brackets_cites_that_doi(link, doi):
    text, markers = extract_markers(f"{SENTENCE} [{link}].")
    assert (text, markers.dois, markers.urls) == (f"{SENTENCE}.", [doi], [])


def test_pubmed_and_pmc_links_cite_their_pmid_and_pmcid():
    text, markers = extract_markers(
        f"{SENTENCE} [https://pubmed.ncbi.nlm.nih.gov/12345678/] "
        "[https://www.ncbi.nlm.nih.gov/pmc/articles/PMC123456/]."
    )
    assert (text, markers.pmids, markers.pmcids, markers.dois) == (f"{SENTENCE}.", ["12345678"], ["PMC123456"], [])


def test_a_publisher_link_without_a_doi_is_a_url_citation():
    text, markers = extract_markers(f"{SENTENCE} [https://www.nature.com/articles/s41586-020-2012-7].")
    assert (text, markers.urls, markers.dois) == (f"{SENTENCE}.", ["https://www.nature.com/articles/s41586-020-2012-7"],
                                                   [])


def test_a_doi_org_link_without_a_doi_is_named():
    with pytest.raises(MarkerError, match=r"\[https://doi.org/banana\] is not a citation marker"):
        extract_markers(f"{SENTENCE} [https://doi.org/banana].")


def test_a_link_cites_from_the_sentence_it_ends():
    [first, second] = parse_paragraph(
        f"{SENTENCE} [https://doi.org/10.1000/a]. Sleep improves too [https://pubmed.ncbi.nlm.nih.gov/959840/]."
    )
    assert (first.text, first.dois, first.has_markers) == (f"{SENTENCE}.", ("10.1000/a",), True)
    assert (second.text, second.pmids) == ("Sleep improves too.", ("959840",))


def test_pmid_without_the_at_sign_is_read():
    assert extract_markers(f"{SENTENCE} [pmid:959840].")[1].pmids == ["959840"]


@pytest.mark.parametrize("typed", [
    "[doi:10.1000/xyz", "[@doi:10.1000/xyz", "[pmid:123", "[@pmid:123", "[https://doi.org/10.1000/xyz",
])
def test_an_unclosed_marker_is_named_beside_its_sentence(typed):
    with pytest.raises(MarkerError) as raised:
        extract_markers(f"{SENTENCE} {typed}. Then more words")
    message = str(raised.value)
    assert "unclosed citation marker" in message and typed in message and SENTENCE in message


def test_an_unclosed_marker_before_another_marker_is_named():
    with pytest.raises(MarkerError, match="unclosed citation marker"):
        extract_markers(f"{SENTENCE} [doi:10.1000/xyz [2].")


def test_brackets_that_are_not_markers_stay_words():
    text, markers = extract_markers("In the [1960s] the drug [sic] was new.")
    assert text == "In the [1960s] the drug [sic] was new." and not markers.dois


ABBREVIATIONS = ["approx.", "ca.", "cf.", "vs.", "e.g.", "i.e.", "et al.", "Fig.", "No.", "resp.", "incl.", "min.",
                 "max.", "wk.", "wks.", "mo.", "yr.", "yrs.", "Dr.", "Prof.", "St.", "mg.", "ml.", "kg.", "hrs.",
                 "Suppl.", "Eq.", "SD."]


@pytest.mark.parametrize("abbreviation", ABBREVIATIONS)
def test_an_abbreviation_before_a_number_does_not_end_the_sentence(abbreviation):
    claims = parse_paragraph(f"Sleep rose by {abbreviation} 20 minutes a night [1]. Mood improved [2].")
    assert [(c.text, c.numbers) for c in claims] == [
        (f"Sleep rose by {abbreviation} 20 minutes a night.", (1,)), ("Mood improved.", (2,)),
    ]


@pytest.mark.parametrize("abbreviation", ["cf.", "approx.", "Dr.", "Prof.", "Fig.", "vs."])
def test_an_abbreviation_before_a_capital_does_not_end_the_sentence(abbreviation):
    claims = parse_paragraph(f"Results differ, {abbreviation} Smith and Lee, in adults [1]. Mood improved [2].")
    assert [c.numbers for c in claims] == [(1,), (2,)]
    assert claims[0].text == f"Results differ, {abbreviation} Smith and Lee, in adults."


WORDS = st.sampled_from(["sleep", "mood", "dose", "trial", "adults", "week", "20", "3", "the", "in", "of"])


@hypothesis_settings(max_examples=150, deadline=None)
@given(
    sentences=st.lists(
        st.tuples(st.lists(WORDS, min_size=2, max_size=8), st.sampled_from(ABBREVIATIONS),
                  st.lists(WORDS, min_size=1, max_size=5), st.integers(min_value=1, max_value=40)),
        min_size=1, max_size=6,
    )
)
def test_a_marker_stays_with_its_sentence_whatever_abbreviation_it_holds(sentences):
    # "No." abbreviates only before its number ("No. 5"); before a word it is the word "no".
    paragraph = " ".join(
        f"Patients {' '.join(before)} {abbreviation} {'5 ' if abbreviation == 'No.' else ''}{' '.join(after)} "
        f"improved [{number}]."
        for before, abbreviation, after, number in sentences
    )
    claims = parse_paragraph(paragraph)
    assert [c.numbers for c in claims] == [(number,) for *_words, number in sentences]
    assert all(c.text.startswith("Patients ") and c.text.endswith(" improved.") for c in claims)


# --- the paste box and the importer resolve what the links cite -------------------------------------------------
NEJM = "Low-dose aspirin reduced recurrent venous thromboembolism after anticoagulation stopped"


@pytest.mark.django_db
def test_a_pasted_pubmed_link_cites_the_pubmed_record(fake_ncbi):
    from articles.authoring.editing import resolve_pasted_text
    from articles.models import Article
    from references.models import Reference

    article = Article.objects.create(title="Aspirin", slug="aspirin")
    [claim] = resolve_pasted_text(article, f"{NEJM} [https://pubmed.ncbi.nlm.nih.gov/23121403/].")
    assert claim.text == f"{NEJM}." and claim.references == [Reference.objects.get(pmid="23121403")]


@pytest.mark.django_db
def test_a_pasted_publisher_link_without_a_doi_cites_the_page():
    from articles.authoring.editing import resolve_pasted_text
    from articles.models import Article
    from references.models import Reference

    article = Article.objects.create(title="Aspirin", slug="aspirin")
    url = "https://www.nature.com/articles/s41586-020-2012-7"
    first, again = resolve_pasted_text(article, f"{NEJM} [{url}]. Again [{url}].")
    reference = Reference.objects.get(url=url)
    assert first.references == again.references == [reference] and reference.needs_check and reference.doi is None


@pytest.mark.django_db
def test_an_unclosed_marker_in_a_paste_is_refused_by_name():
    from articles.authoring.editing import PasteError, resolve_pasted_text
    from articles.models import Article

    article = Article.objects.create(title="Aspirin", slug="aspirin")
    with pytest.raises(PasteError, match=r"\[doi:10.1056/nejmoa1210384 in “Low-dose aspirin.*” is an unclosed citation marker"):
        resolve_pasted_text(article, f"{NEJM} [doi:10.1056/nejmoa1210384. Next sentence.")


@pytest.mark.django_db
def test_an_imported_link_cites_the_page_and_an_unclosed_marker_names_its_line(fake_crossref):
    from articles.importing import ImportFailed, import_article
    from references.models import Reference

    url = "https://www.nature.com/articles/s41586-020-2012-7"
    closing = "\n\nTalk to your doctor before you change a treatment.\n"
    report = import_article(f"Aspirin after venous thromboembolism\n\n{NEJM} [{url}]. It was safe.{closing}")
    reference = Reference.objects.get(url=url)
    claim = report.article.sections.get().claims.order_by("position").first()
    assert claim.citations.get().reference == reference
    with pytest.raises(ImportFailed, match="line 3: .*unclosed citation marker"):
        import_article(f"Another aspirin article\n\n{NEJM} [pmid:23121403. It was safe.{closing}")


@pytest.mark.django_db
def test_a_paste_refused_because_crossref_is_gone_reads_as_one_sentence(settings):
    import socket

    from articles.authoring.editing import PasteError, resolve_pasted_text
    from articles.models import Article

    with socket.socket() as probe:  # a port nothing listens on: Crossref is gone
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.CROSSREF_API_URL = f"http://127.0.0.1:{port}"
    article = Article.objects.create(title="Aspirin", slug="aspirin")
    with pytest.raises(PasteError) as raised:
        resolve_pasted_text(article, f"{NEJM} [https://doi.org/10.1056/nejmoa1210384].")
    message = str(raised.value)
    assert "Crossref could not supply it (" in message
    assert ".)." not in message and ".." not in message.replace("…", "")
