"""Evidence levels: from PubMed's publication types and MeSH (real recorded records and hand-made type sets),
or Crossref's type; set whenever metadata is applied, and recomputed by compute_evidence_levels."""

import pytest
from django.core.management import call_command

from references import pubmed, services
from references.evidence import evidence_for
from references.models import EvidenceLevel, MetadataSource, Reference
from tests.fake_crossref import load_work
from tests.fake_ncbi import load_record


def reference_with(types=(), mesh=(), work_type="", notice_kind=""):
    return Reference(publication_types=list(types), mesh_terms=list(mesh), work_type=work_type,
                     notice_kind=notice_kind)


def from_record(pmid):
    record = pubmed.parse_efetch(load_record(pmid), pmid)
    return services.apply_pubmed_record(Reference(), record)


# Real recorded PubMed records -----------------------------------------------


def test_a_recorded_randomised_trial():
    reference = from_record("23121403")
    assert (reference.evidence_level, reference.evidence_description) == (
        EvidenceLevel.RANDOMISED_TRIAL, "Randomised controlled trial",
    )


def test_a_recorded_animal_study_names_the_species():
    reference = from_record("11748933")  # MeSH: Animals, Sea Bream; no Humans
    assert (reference.evidence_level, reference.evidence_description) == (EvidenceLevel.ANIMAL, "Study in sea bream")


def test_a_recorded_review():
    reference = from_record("12091962")
    assert (reference.evidence_level, reference.evidence_description) == (
        EvidenceLevel.NARRATIVE_REVIEW, "Narrative review",
    )


def test_a_recorded_plain_journal_article_is_research():
    reference = from_record("19129924")
    assert (reference.evidence_level, reference.evidence_description) == (
        EvidenceLevel.PRIMARY_RESEARCH, "Research article",
    )


# The rules, one case each ---------------------------------------------------------


@pytest.mark.parametrize("types, mesh, level, words", [
    (["Journal Article", "Meta-Analysis", "Randomized Controlled Trial"], ["Humans"],
     EvidenceLevel.META_ANALYSIS, "Meta-analysis of randomised trials"),
    (["Meta-Analysis", "Systematic Review"], ["Humans", "Randomized Controlled Trials as Topic"],
     EvidenceLevel.META_ANALYSIS, "Meta-analysis of randomised trials"),
    (["Meta-Analysis", "Systematic Review"], ["Humans", "Observational Studies as Topic"],
     EvidenceLevel.META_ANALYSIS, "Meta-analysis"),
    (["Systematic Review"], ["Humans"], EvidenceLevel.SYSTEMATIC_REVIEW, "Systematic review"),
    (["Practice Guideline"], ["Humans"], EvidenceLevel.GUIDELINE, "Clinical practice guideline"),
    (["Guideline"], [], EvidenceLevel.GUIDELINE, "Clinical practice guideline"),
    (["Journal Article", "Randomized Controlled Trial"], ["Humans"], EvidenceLevel.RANDOMISED_TRIAL,
     "Randomised controlled trial"),
    (["Clinical Trial, Phase II"], ["Humans"], EvidenceLevel.CLINICAL_TRIAL, "Clinical trial (not randomised)"),
    (["Controlled Clinical Trial"], ["Humans"], EvidenceLevel.CLINICAL_TRIAL, "Clinical trial (not randomised)"),
    (["Journal Article", "Multicenter Study"], ["Humans"], EvidenceLevel.PRIMARY_RESEARCH, "Research article"),
    (["Observational Study"], ["Humans"], EvidenceLevel.OBSERVATIONAL, "Observational study"),
    (["Journal Article"], ["Humans", "Prospective Studies"], EvidenceLevel.OBSERVATIONAL, "Observational study"),
    (["Journal Article"], ["Humans", "Case-Control Studies"], EvidenceLevel.OBSERVATIONAL, "Observational study"),
    (["Case Reports"], ["Humans"], EvidenceLevel.CASE_REPORT, "Case report"),
    (["Review"], ["Humans"], EvidenceLevel.NARRATIVE_REVIEW, "Narrative review"),
    (["Journal Article"], ["Animals", "Mice", "Mice, Inbred C57BL"], EvidenceLevel.ANIMAL, "Study in mice"),
    (["Journal Article"], ["Animals", "Rats", "Rats, Wistar"], EvidenceLevel.ANIMAL, "Study in rats"),
    (["Journal Article"], ["Animals", "Rats, Sprague-Dawley"], EvidenceLevel.ANIMAL, "Study in rats"),
    (["Journal Article"], ["Animals", "Mice", "Rats"], EvidenceLevel.ANIMAL, "Study in mice and rats"),
    (["Journal Article"], ["Animals", "Disease Models, Animal"], EvidenceLevel.ANIMAL, "Study in animals"),
    (["Randomized Controlled Trial, Veterinary"], ["Animals", "Dogs"], EvidenceLevel.ANIMAL, "Study in dogs"),
    (["Review"], ["Animals", "Mice"], EvidenceLevel.ANIMAL, "Review of studies in mice"),
    (["Meta-Analysis"], ["Animals", "Rats"], EvidenceLevel.ANIMAL, "Meta-analysis of studies in rats"),
    (["Journal Article", "Randomized Controlled Trial"], ["Animals", "Humans"], EvidenceLevel.RANDOMISED_TRIAL,
     "Randomised controlled trial"),
    (["Journal Article"], ["Humans", "In Vitro Techniques"], EvidenceLevel.IN_VITRO, "Laboratory study (in vitro)"),
    (["Journal Article"], ["Humans", "Cell Line, Tumor"], EvidenceLevel.IN_VITRO, "Laboratory study (in vitro)"),
    (["Journal Article"], ["Animals", "Cells, Cultured", "Mice"], EvidenceLevel.IN_VITRO,
     "Laboratory study (in vitro)"),
    (["Preprint"], [], EvidenceLevel.PREPRINT, "Preprint, not peer-reviewed"),
    (["Clinical Trial Protocol"], ["Humans"], EvidenceLevel.UNKNOWN, "Trial protocol, no results yet"),
    (["Letter"], [], EvidenceLevel.UNKNOWN, ""),
])
def test_publication_types_and_mesh(types, mesh, level, words):
    assert evidence_for(reference_with(types, mesh)) == (level, words)


@pytest.mark.parametrize("work_type, level, words", [
    ("posted-content", EvidenceLevel.PREPRINT, "Preprint, not peer-reviewed"),
    ("book-chapter", EvidenceLevel.BOOK, "Book chapter"),
    ("book", EvidenceLevel.BOOK, "Book"),
    ("journal-article", EvidenceLevel.PRIMARY_RESEARCH, "Research article"),
    ("dataset", EvidenceLevel.UNKNOWN, ""),
    ("", EvidenceLevel.UNKNOWN, ""),
])
def test_crossref_type_when_there_is_no_pubmed_data(work_type, level, words):
    assert evidence_for(reference_with(work_type=work_type)) == (level, words)


def test_pubmed_data_wins_over_the_crossref_type():
    reference = reference_with(["Meta-Analysis"], ["Humans"], work_type="journal-article")
    assert evidence_for(reference)[0] == EvidenceLevel.META_ANALYSIS


@pytest.mark.parametrize("kind, words", [
    ("retraction", "Retraction notice, not a study"),
    ("erratum", "Correction notice, not a study"),
    ("expression_of_concern", "Expression of concern, not a study"),
    ("withdrawal", "Editorial notice, not a study"),
])
def test_a_notice_is_no_evidence(kind, words):
    reference = reference_with(["Journal Article", "Randomized Controlled Trial"], ["Humans"],
                               work_type="journal-article", notice_kind=kind)
    assert evidence_for(reference) == (EvidenceLevel.UNKNOWN, words)


# Set whenever metadata is applied -------------------------------------------------


@pytest.mark.django_db
def test_crossref_metadata_sets_the_level():
    reference = services.save_reference(services.apply_work(Reference(), load_work("10.1101/2020.12.01.406702")))
    reference.refresh_from_db()
    assert (reference.evidence_level, reference.evidence_description) == (
        EvidenceLevel.PREPRINT, "Preprint, not peer-reviewed",
    )


@pytest.mark.django_db
def test_a_reference_saved_by_hand_gets_its_level():
    reference = services.save_reference(Reference(
        url="https://example.org/chapter", title="A chapter", work_type="book-chapter",
        metadata_source=MetadataSource.MANUAL,
    ))
    reference.refresh_from_db()
    assert (reference.evidence_level, reference.evidence_description) == (EvidenceLevel.BOOK, "Book chapter")


@pytest.mark.django_db
def test_the_demo_leaves_every_reference_with_a_level(monkeypatch):
    monkeypatch.setenv("DEMO_PASSWORD", "demo-pass-for-tests")
    call_command("load_demo")
    levels = dict(Reference.objects.values_list("doi", "evidence_level"))
    assert levels and EvidenceLevel.UNKNOWN not in levels.values()
    assert all(Reference.objects.values_list("evidence_description", flat=True))


# compute_evidence_levels ------------------------------------------------------------


@pytest.mark.django_db
def test_compute_evidence_levels_recomputes_every_reference_in_chunks(capsys, django_assert_max_num_queries):
    for i, work_type in enumerate(["journal-article", "book", "posted-content", "book-chapter", "dataset"]):
        services.save_reference(Reference(url=f"https://example.org/{i}", title=f"Work {i}", work_type=work_type))
    stale = Reference.objects.exclude(work_type="dataset")
    stale.update(evidence_level=EvidenceLevel.UNKNOWN, evidence_description="")
    # Five references, two a chunk: three reads, a write (and its savepoint) per changed chunk.
    with django_assert_max_num_queries(3 + 3 * 3):
        call_command("compute_evidence_levels", "--chunk-size", "2")
    assert "Checked 5 reference(s): 4 evidence level(s) changed." in capsys.readouterr().out
    assert dict(Reference.objects.values_list("work_type", "evidence_level")) == {
        "journal-article": EvidenceLevel.PRIMARY_RESEARCH, "book": EvidenceLevel.BOOK,
        "posted-content": EvidenceLevel.PREPRINT, "book-chapter": EvidenceLevel.BOOK,
        "dataset": EvidenceLevel.UNKNOWN,
    }
    call_command("compute_evidence_levels")
    assert "5 reference(s): 0 evidence level(s) changed." in capsys.readouterr().out


@pytest.mark.parametrize("title, level, words", [
    ("Efficacy of ketamine in unipolar and bipolar depression: a meta-analysis of randomized clinical trials",
     EvidenceLevel.META_ANALYSIS, "Meta-analysis of randomised trials (from its title)"),
    ("Exercise for depression: a systematic review", EvidenceLevel.SYSTEMATIC_REVIEW,
     "Systematic review (from its title)"),
    ("A Randomized Controlled Trial of Repeated Ketamine Administration for Chronic PTSD",
     EvidenceLevel.RANDOMISED_TRIAL, "Randomised controlled trial (from its title)"),
    ("Methylphenidate Exposure Induces Dopamine Neuron Loss in the Basal Ganglia of Mice",
     EvidenceLevel.ANIMAL, "Study in mice (from its title)"),
    ("Stress responses in rats: a meta-analysis", EvidenceLevel.ANIMAL,
     "Meta-analysis of studies in rats (from its title)"),
    ("Ketamine toxicity in a human neuronal cell line", EvidenceLevel.IN_VITRO,
     "Laboratory study (in vitro) (from its title)"),
    ("Serotonin syndrome after tramadol: a case report", EvidenceLevel.CASE_REPORT, "Case report (from its title)"),
    # A species named beside people is no animal-only study; a title that names no design says nothing.
    ("From mice to patients: translating ketamine research", EvidenceLevel.PRIMARY_RESEARCH, "Research article"),
    ("Ketamine: NMDA Receptors and Beyond", EvidenceLevel.PRIMARY_RESEARCH, "Research article"),
])
def test_a_journal_articles_title_gives_its_design_when_pubmed_has_not_indexed_it(title, level, words):
    reference = Reference(url="https://example.org/w", title=title, work_type="journal-article")
    assert evidence_for(reference) == (level, words)


def test_pubmed_indexing_wins_over_the_title():
    reference = Reference(url="https://example.org/w", title="A study in mice", work_type="journal-article",
                          publication_types=["Journal Article", "Randomized Controlled Trial"], mesh_terms=["Humans"])
    assert evidence_for(reference) == (EvidenceLevel.RANDOMISED_TRIAL, "Randomised controlled trial")
