"""Pandoc/Manubot ``[@pmid:…]`` markers: read once by articles.authoring.parsing, resolved through PubMed by the paste box
and the importer alike. PMID 23121403 is the recorded NCBI answer in tests/fixtures/pubmed (Brighton et al.
2012, NEJM, doi 10.1056/nejmoa1210384)."""

import pytest

from articles.authoring.editing import PasteError, resolve_pasted_text
from articles.importing import ImportFailed, import_article
from articles.models import Article, Citation, Section
from articles.authoring.parsing import MarkerError, extract_markers
from references.models import MetadataSource, Reference

pytestmark = pytest.mark.django_db

SENTENCE = "Low-dose aspirin reduced recurrent venous thromboembolism after anticoagulation stopped"


def test_a_pmid_marker_is_read_as_a_pubmed_citation():
    text, markers = extract_markers(f"{SENTENCE} [@pmid:23121403][@PMID: 23121403].")
    assert (text, markers.pmids, markers.numbers, markers.dois) == (f"{SENTENCE}.", ["23121403"], [], [])


def test_an_empty_or_non_numeric_pmid_marker_is_refused():
    for marker in ("[@pmid:]", "[@pmid:abc]"):
        with pytest.raises(MarkerError, match=r"\[@pmid:"):
            extract_markers(f"{SENTENCE} {marker}.")


def test_a_pasted_pmid_marker_cites_the_pubmed_record(fake_ncbi):
    article = Article.objects.create(title="Aspirin", slug="aspirin")
    resolved = resolve_pasted_text(article, f"{SENTENCE} [@pmid:23121403]. Again [@pmid:23121403].")
    reference = Reference.objects.get(pmid="23121403")
    assert reference.metadata_source == MetadataSource.PUBMED and reference.doi == "10.1056/nejmoa1210384"
    assert [claim.references for claim in resolved] == [[reference], [reference]]


def test_a_pasted_pmid_pubmed_does_not_know_is_refused_naming_the_marker(fake_ncbi):
    article = Article.objects.create(title="Aspirin", slug="aspirin")
    with pytest.raises(PasteError, match=r"\[@pmid:11950740\]: PubMed has no record"):
        resolve_pasted_text(article, f"{SENTENCE} [@pmid:11950740].")
    assert Reference.objects.count() == 0


def test_an_imported_pmid_marker_cites_the_pubmed_record(fake_ncbi, fake_crossref):
    report = import_article(f"Aspirin after venous thromboembolism\n\n{SENTENCE} [@pmid:23121403].\n")
    claim = report.sections[0]["claims"][0]
    assert (claim["text"], claim["sources"]) == (
        f"{SENTENCE}.", [{"reference": None, "doi": "10.1056/nejmoa1210384",
                          "url": "https://pubmed.ncbi.nlm.nih.gov/23121403/"}])
    assert [(row["doi"], row["metadata"], row["cited_by"]) for row in report.references] == [
        ("10.1056/nejmoa1210384", MetadataSource.PUBMED, 1)]
    section = Section.objects.get(article__slug="aspirin-after-venous-thromboembolism")
    assert list(Citation.objects.filter(claim__section=section).values_list("reference__pmid", flat=True)) == [
        "23121403"]


def test_an_imported_pmid_marker_pubmed_does_not_know_refuses_the_file_naming_the_line(fake_ncbi, fake_crossref):
    with pytest.raises(ImportFailed) as failed:
        import_article(f"Aspirin after venous thromboembolism\n\n{SENTENCE} [@pmid:11950740].\n")
    assert failed.value.line == 3 and "PubMed has no record for PMID 11950740" in failed.value.message
    assert Article.objects.count() == Reference.objects.count() == 0


def test_an_imported_pmid_marker_is_saved_unverified_when_pubmed_cannot_be_reached(fake_ncbi, fake_crossref):
    fake_ncbi.set_mode("drop")
    report = import_article(f"Aspirin after venous thromboembolism\n\n{SENTENCE} [@pmid:959840].\n")
    reference = Reference.objects.get(pmid="959840")
    assert reference.needs_check and reference.metadata_source == MetadataSource.MANUAL
    assert report.sections[0]["claims"][0]["sources"] == [
        {"reference": None, "doi": None, "url": "https://pubmed.ncbi.nlm.nih.gov/959840/"}]
    assert any(w.startswith("line 3: PubMed could not be asked about PMID 959840") for w in report.warnings)
