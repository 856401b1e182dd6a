"""The verdict on every real recorded Crossref and PubMed answer in tests/fixtures, through the real code path.

Each record is loaded the way a fetch loads it (Crossref: crossref.clean_work then services.apply_work;
PubMed: pubmed.parse_efetch then services.apply_pubmed_record), saved, and judged: does it count as
support, is it a notice, what retraction status and evidence level it gets. Where each recording came
from (repository and path): tests/fixtures/crossref/README.md and tests/fixtures/pubmed/README.md.
Only unchanged recordings are listed here; the records built for the tests are judged in test_metadata.py
and test_pubmed.py.
"""

import json
from pathlib import Path

import pytest

from references import crossref, pubmed
from references.models import EvidenceLevel, MetadataSource, Reference, RetractionStatus
from references.services import apply_pubmed_record, apply_work, save_reference

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

# file -> (counts_as_support, notice_kind, retraction_status, evidence_level)
CROSSREF_VERDICTS = {
    # PLOS ONE article with a publisher correction in updated-by: corrected, still a study that counts.
    # Its title ends "... in the Basal Ganglia of Mice" and PubMed's MeSH is not stored: a study in mice.
    "work-10.1371_journal.pone.0033693.json": (True, "", RetractionStatus.CORRECTED, EvidenceLevel.ANIMAL),
    # PeerJ articles with has-review relations and markup in the title.
    "work-10.7717_peerj.14276.json": (True, "", RetractionStatus.NONE, EvidenceLevel.PRIMARY_RESEARCH),
    "work-10.7717_peerj.6049.json": (True, "", RetractionStatus.NONE, EvidenceLevel.PRIMARY_RESEARCH),
    # bioRxiv preprint (posted-content / preprint): not peer-reviewed, never support.
    "work-10.1101_2020.12.01.406702.json": (False, "", RetractionStatus.NONE, EvidenceLevel.PREPRINT),
}
PUBMED_VERDICTS = {
    # NEJM randomised controlled trial (biocommons/eutils).
    "pubmed-23121403.xml": (True, "", RetractionStatus.NONE, EvidenceLevel.RANDOMISED_TRIAL),
    # Cryobiology study in sea bream, MeSH Animals without Humans (biopython).
    "pubmed-11748933.xml": (True, "", RetractionStatus.NONE, EvidenceLevel.ANIMAL),
    # Social Justice review (biopython).
    "pubmed-12091962.xml": (True, "", RetractionStatus.NONE, EvidenceLevel.NARRATIVE_REVIEW),
    # Frontiers journal article without MeSH (internetarchive/fatcat).
    "pubmed-19129924.xml": (True, "", RetractionStatus.NONE, EvidenceLevel.PRIMARY_RESEARCH),
    # Front Horm Res 1975 journal article, MeSH Humans, no design type (metapub/metapub; real/README.md).
    "real/pubmed-1234567.xml": (True, "", RetractionStatus.NONE, EvidenceLevel.PRIMARY_RESEARCH),
}


def _verdict(reference):
    return (reference.counts_as_support, reference.notice_kind, reference.retraction_status,
            reference.evidence_level)


def _from_crossref(name):
    message = json.loads((FIXTURES / "crossref" / name).read_text(encoding="utf-8"))["message"]
    work = crossref.clean_work(message)
    reference = save_reference(apply_work(Reference(doi=work["DOI"].lower()), work))
    reference.refresh_from_db()
    return reference


def _from_pubmed(name):
    pmid = Path(name).stem.removeprefix("pubmed-")
    record = pubmed.parse_efetch((FIXTURES / "pubmed" / name).read_bytes(), pmid)
    reference = save_reference(apply_pubmed_record(Reference(), record))
    reference.refresh_from_db()
    return reference


@pytest.mark.parametrize("name", sorted(CROSSREF_VERDICTS))
def test_each_real_crossref_record_gets_its_verdict(name):
    reference = _from_crossref(name)

    assert reference.metadata_source == MetadataSource.CROSSREF and reference.is_verified
    assert _verdict(reference) == CROSSREF_VERDICTS[name]


@pytest.mark.parametrize("name", sorted(PUBMED_VERDICTS))
def test_each_real_pubmed_record_gets_its_verdict(name):
    reference = _from_pubmed(name)

    assert reference.metadata_source == MetadataSource.PUBMED and reference.is_verified
    assert _verdict(reference) == PUBMED_VERDICTS[name]


def test_every_unchanged_recording_has_a_verdict():
    """A recording added to the fixtures without a verdict here would go unjudged."""
    crossref_readme = (FIXTURES / "crossref" / "README.md").read_text(encoding="utf-8")
    recorded = crossref_readme.split("## Real recordings")[1].split("## Written for the tests")[0]
    listed = {name for name in CROSSREF_VERDICTS if name in recorded}
    assert listed == set(CROSSREF_VERDICTS)
    pubmed_dir = FIXTURES / "pubmed"
    on_disk = {str(path.relative_to(pubmed_dir)) for path in pubmed_dir.glob("**/pubmed-*.xml")}
    assert on_disk == set(PUBMED_VERDICTS)
