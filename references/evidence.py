"""What kind of evidence a source is, in a level reviewers can sort by and words readers understand.

PubMed's publication types and MeSH headings say it when the reference has them (indexers assign
both by hand); otherwise Crossref's work type says what little it can (a preprint, a book chapter,
a journal article), and a journal article's own title often says the rest ("a meta-analysis of
randomized trials", "in mice"): such a reading says "from its title", so nobody mistakes it for an
indexer's. An editorial notice (retraction, erratum...) is no evidence at all.
"""

import re

from references.models import EvidenceLevel

# MeSH terms that mark an observational design when PubMed gives no "Observational Study" type.
OBSERVATIONAL_MESH = {
    "Cohort Studies", "Prospective Studies", "Retrospective Studies", "Longitudinal Studies",
    "Case-Control Studies", "Cross-Sectional Studies", "Follow-Up Studies", "Cohort Analysis",
}
CLINICAL_TRIAL_TYPES = {
    "Clinical Trial", "Clinical Trial, Phase I", "Clinical Trial, Phase II", "Clinical Trial, Phase III",
    "Clinical Trial, Phase IV", "Controlled Clinical Trial", "Pragmatic Clinical Trial", "Adaptive Clinical Trial",
    "Equivalence Trial",
}
RCT_TYPES = {"Randomized Controlled Trial", "Randomized Controlled Trial, Veterinary"}
GUIDELINE_TYPES = {"Practice Guideline", "Guideline", "Consensus Development Conference"}
IN_VITRO_MESH = {
    "In Vitro Techniques", "Cells, Cultured", "Cell Line", "Cell Line, Tumor", "Cell Culture Techniques",
    "Organoids", "HEK293 Cells", "HeLa Cells", "Hep G2 Cells", "PC12 Cells", "Caco-2 Cells", "MCF-7 Cells",
    "Jurkat Cells", "THP-1 Cells", "CHO Cells", "COS Cells", "3T3 Cells",
}
# A MeSH organism heading (its part before the first comma) -> the plain words for readers.
SPECIES = {
    "Mice": "mice", "Rats": "rats", "Zebrafish": "zebrafish", "Dogs": "dogs", "Cats": "cats",
    "Swine": "pigs", "Sheep": "sheep", "Cattle": "cattle", "Horses": "horses", "Rabbits": "rabbits",
    "Guinea Pigs": "guinea pigs", "Cricetinae": "hamsters", "Mesocricetus": "hamsters", "Gerbillinae": "gerbils",
    "Macaca mulatta": "rhesus monkeys", "Macaca": "macaques", "Macaca fascicularis": "macaques",
    "Primates": "primates", "Haplorhini": "monkeys", "Callithrix": "marmosets", "Chickens": "chickens",
    "Drosophila melanogaster": "fruit flies", "Drosophila": "fruit flies",
    "Caenorhabditis elegans": "roundworms (C. elegans)", "Xenopus laevis": "frogs", "Sea Bream": "sea bream",
    "Fishes": "fish", "Oryzias": "medaka fish", "Bees": "bees", "Birds": "birds",
}
BOOK_TYPES = {"book", "monograph", "edited-book", "reference-book"}
CHAPTER_TYPES = {"book-chapter", "book-section", "book-part"}
NOTICE_WORDS = {
    "retraction": "Retraction notice, not a study",
    "partial_retraction": "Retraction notice, not a study",
    "erratum": "Correction notice, not a study",
    "correction": "Correction notice, not a study",
    "expression_of_concern": "Expression of concern, not a study",
}


def _species(mesh):
    found = []
    for term in mesh:
        name = SPECIES.get(term) or SPECIES.get(term.split(",")[0].strip())
        if name and name not in found:
            found.append(name)
    return sorted(found)


def _animal_words(kind, mesh):
    species = _species(mesh)
    where = " and ".join(species[:2]) if species else "animals"
    return {
        "meta": f"Meta-analysis of studies in {where}",
        "review": f"Review of studies in {where}",
    }.get(kind, f"Study in {where}")


def _from_pubmed(types, mesh):
    animal_only = "Animals" in mesh and "Humans" not in mesh
    in_vitro = bool(IN_VITRO_MESH & mesh)
    rct_pooled = bool(RCT_TYPES & types) or "Randomized Controlled Trials as Topic" in mesh
    if "Meta-Analysis" in types:
        if animal_only:
            return EvidenceLevel.ANIMAL, _animal_words("meta", mesh)
        return EvidenceLevel.META_ANALYSIS, (
            "Meta-analysis of randomised trials" if rct_pooled else "Meta-analysis"
        )
    if "Systematic Review" in types:
        if animal_only:
            return EvidenceLevel.ANIMAL, _animal_words("review", mesh)
        return EvidenceLevel.SYSTEMATIC_REVIEW, (
            "Systematic review of randomised trials" if rct_pooled else "Systematic review"
        )
    if GUIDELINE_TYPES & types:
        return EvidenceLevel.GUIDELINE, "Clinical practice guideline"
    if "Preprint" in types:
        return EvidenceLevel.PREPRINT, "Preprint, not peer-reviewed"
    if animal_only and not in_vitro:
        return EvidenceLevel.ANIMAL, _animal_words("review" if "Review" in types else "study", mesh)
    if RCT_TYPES & types:
        return EvidenceLevel.RANDOMISED_TRIAL, "Randomised controlled trial"
    if CLINICAL_TRIAL_TYPES & types:
        return EvidenceLevel.CLINICAL_TRIAL, "Clinical trial (not randomised)"
    if "Clinical Trial Protocol" in types:
        return EvidenceLevel.UNKNOWN, "Trial protocol, no results yet"
    if "Observational Study" in types or "Observational Study, Veterinary" in types or OBSERVATIONAL_MESH & mesh:
        return EvidenceLevel.OBSERVATIONAL, "Observational study"
    if "Case Reports" in types:
        return EvidenceLevel.CASE_REPORT, "Case report"
    if in_vitro:
        return EvidenceLevel.IN_VITRO, "Laboratory study (in vitro)"
    if "Review" in types or "Scoping Review" in types:
        return EvidenceLevel.NARRATIVE_REVIEW, "Narrative review"
    if "Journal Article" in types:
        return EvidenceLevel.PRIMARY_RESEARCH, "Research article"
    return EvidenceLevel.UNKNOWN, ""


# What a journal article's title says of its design, for records with no PubMed indexing. Each pattern is a
# plain alternation of words, so matching stays linear in the title's length.
TITLE_META_ANALYSIS = re.compile(r"\bmeta-?analy(?:sis|ses|tic)\b", re.IGNORECASE)
TITLE_SYSTEMATIC_REVIEW = re.compile(r"\bsystematic(?:ally)? review", re.IGNORECASE)
TITLE_RANDOMISED = re.compile(r"\brandomi[sz]ed\b", re.IGNORECASE)
TITLE_TRIAL = re.compile(r"\btrials?\b", re.IGNORECASE)
TITLE_IN_VITRO = re.compile(r"\bin vitro\b|\bcell lines?\b|\bcultured (?:\w+ )?cells\b", re.IGNORECASE)
TITLE_CASE_REPORT = re.compile(r"\bcase report\b", re.IGNORECASE)
TITLE_HUMANS = re.compile(r"\b(?:patients?|humans?|people|adults?|children|adolescents|women|men|participants)\b",
                          re.IGNORECASE)
TITLE_SPECIES = {
    "mice": "mice", "mouse": "mice", "murine": "mice", "rats": "rats", "rat": "rats", "rodents": "rodents",
    "rodent": "rodents", "zebrafish": "zebrafish", "primates": "primates", "monkeys": "monkeys",
    "macaques": "macaques", "drosophila": "fruit flies", "piglets": "pigs", "pigs": "pigs",
}
TITLE_ANIMAL = re.compile(r"\b(" + "|".join(sorted(TITLE_SPECIES, key=len, reverse=True)) + r")\b", re.IGNORECASE)
FROM_TITLE = " (from its title)"


def _from_title(title):
    """What a journal article's title says of its design, or None when it says nothing."""
    species = sorted({TITLE_SPECIES[m.lower()] for m in TITLE_ANIMAL.findall(title)})
    animal_only = bool(species) and not TITLE_HUMANS.search(title)
    where = " and ".join(species[:2])
    randomised_trials = bool(TITLE_RANDOMISED.search(title) and TITLE_TRIAL.search(title))
    if TITLE_META_ANALYSIS.search(title):
        if animal_only:
            return EvidenceLevel.ANIMAL, f"Meta-analysis of studies in {where}"
        return EvidenceLevel.META_ANALYSIS, "Meta-analysis of randomised trials" if randomised_trials else "Meta-analysis"
    if TITLE_SYSTEMATIC_REVIEW.search(title):
        if animal_only:
            return EvidenceLevel.ANIMAL, f"Review of studies in {where}"
        return EvidenceLevel.SYSTEMATIC_REVIEW, (
            "Systematic review of randomised trials" if randomised_trials else "Systematic review"
        )
    if animal_only:
        return EvidenceLevel.ANIMAL, f"Study in {where}"
    if randomised_trials:
        return EvidenceLevel.RANDOMISED_TRIAL, "Randomised controlled trial"
    if TITLE_IN_VITRO.search(title):
        return EvidenceLevel.IN_VITRO, "Laboratory study (in vitro)"
    if TITLE_CASE_REPORT.search(title):
        return EvidenceLevel.CASE_REPORT, "Case report"
    return None


def _from_crossref(work_type, title=""):
    if work_type == "posted-content":
        return EvidenceLevel.PREPRINT, "Preprint, not peer-reviewed"
    if work_type in CHAPTER_TYPES:
        return EvidenceLevel.BOOK, "Book chapter"
    if work_type in BOOK_TYPES:
        return EvidenceLevel.BOOK, "Book"
    if work_type == "journal-article":
        from_title = _from_title(title or "")
        if from_title:
            return from_title[0], from_title[1] + FROM_TITLE
        return EvidenceLevel.PRIMARY_RESEARCH, "Research article"
    return EvidenceLevel.UNKNOWN, ""


def evidence_for(reference):
    """(EvidenceLevel, plain words for readers) for a reference, from its PubMed data or its Crossref type."""
    if reference.notice_kind:
        return EvidenceLevel.UNKNOWN, NOTICE_WORDS.get(reference.notice_kind, "Editorial notice, not a study")
    types = set(reference.publication_types or [])
    if types:
        return _from_pubmed(types, set(reference.mesh_terms or []))
    return _from_crossref(reference.work_type, reference.title)


def apply_evidence(reference):
    """Set the reference's evidence_level and evidence_description (unsaved); returns whether they changed."""
    level, description = evidence_for(reference)
    changed = (reference.evidence_level, reference.evidence_description) != (level, description)
    reference.evidence_level, reference.evidence_description = level, description
    return changed
