"""Adding many references at once (pasted DOIs, reference-manager exports), one result per input."""

import json
from dataclasses import dataclass

import bibtexparser
import rispy
from django.core.exceptions import ValidationError
from django.db import transaction

from references import crossref, pubmed, services
from references.budget import budget
from references.doi import InvalidDOI, find_doi, normalise_doi
from references.metadata import CSL_TYPES
from references.models import AUTHORITY_SOURCES, MetadataSource, Reference
from references.services import add_reference_by_doi, apply_work, save_reference

FAILED = {"invalid", "not found", "Crossref unavailable", "Crossref error", "rejected", "PubMed unavailable",
          "PubMed error"}


@dataclass
class AddResult:
    line: str
    outcome: str  # added, already present, invalid, not found, Crossref unavailable, Crossref error, rejected
    detail: str = ""
    reference: Reference | None = None
    # For an imported entry: Crossref could not be asked, so its record stays as the file gave it.
    crossref_unreachable: bool = False
    # For an imported entry: the time budget ran out before Crossref checked it (Crossref itself may be fine).
    budget_spent: bool = False

    @property
    def verified(self):
        return self.reference is not None and self.reference.metadata_source in AUTHORITY_SOURCES

    @property
    def failed(self):
        return self.outcome in FAILED

    def __str__(self):
        detail = f": {self.detail}" if self.detail else ""
        return f"{self.line}\t{self.outcome}{detail}"


def _wanted(line):
    line = line.strip()
    return line and not line.startswith("#")


def add_one(line, *, by=None):
    """Add one DOI, PMID, PMCID or URL and say what happened."""
    if pubmed.looks_like_pubmed_id(line):
        return add_one_pubmed(line, by=by)
    try:
        reference, created = add_reference_by_doi(line, by=by)
    except InvalidDOI as exc:
        return AddResult(line, "invalid", str(exc))
    except crossref.WorkNotFound as exc:
        return AddResult(line, "not found", str(exc))
    except crossref.CrossrefUnavailable as exc:
        return AddResult(line, "Crossref unavailable", str(exc))
    except crossref.CrossrefError as exc:
        return AddResult(line, "Crossref error", str(exc))
    except ValidationError as exc:
        return AddResult(line, "rejected", "; ".join(exc.messages))
    if created:
        return AddResult(line, "added", str(reference), reference)
    return AddResult(line, "already present", str(reference), reference)


def add_one_pubmed(line, *, by=None):
    """Add one PMID or PMCID (or PubMed/PMC link) through PubMed and say what happened."""
    try:
        reference, created = services.add_reference_by_pmid(line, by=by)
    except pubmed.InvalidPubMedId as exc:
        return AddResult(line, "invalid", str(exc))
    except pubmed.RecordNotFound as exc:
        return AddResult(line, "not found", str(exc))
    except pubmed.PubMedUnavailable as exc:
        return AddResult(line, "PubMed unavailable", str(exc))
    except pubmed.PubMedError as exc:
        return AddResult(line, "PubMed error", str(exc))
    except ValidationError as exc:
        return AddResult(line, "rejected", "; ".join(exc.messages))
    return AddResult(line, "added" if created else "already present", str(reference), reference)


def add_many(lines, *, by=None, budget_per_line=None, budget_setting=""):
    """Add every DOI or URL in lines (blank and # lines skipped); one AddResult each.

    Crossref and PubMed calls share the caller's time budget (a web request's); ``budget_per_line`` gives
    each line its own as well (commands, which have no worker timeout but must not hang), named after
    ``budget_setting`` when a spent one is reported.
    """
    if budget_per_line is None:
        return [add_one(line.strip(), by=by) for line in lines if _wanted(line)]
    described = f"this input ({budget_per_line:g} s{', ' + budget_setting if budget_setting else ''})"
    results = []
    for line in lines:
        if _wanted(line):
            with budget(budget_per_line, description=described):
                results.append(add_one(line.strip(), by=by))
    return results


# Reference-manager exports. Each entry becomes Reference field values; a
# DOI is normalised so the same work already present is found, not duplicated.

RIS_TYPES = {"JOUR": "journal-article", "JFULL": "journal-article", "BOOK": "book", "CHAP": "book-chapter",
             "CONF": "proceedings-article", "CPAPER": "proceedings-article", "RPRT": "report",
             "THES": "dissertation", "DATA": "dataset", "ELEC": "", "GEN": ""}
BIBTEX_TYPES = {"article": "journal-article", "book": "book", "inbook": "book-chapter",
                "incollection": "book-chapter", "inproceedings": "proceedings-article",
                "conference": "proceedings-article", "techreport": "report", "phdthesis": "dissertation",
                "mastersthesis": "dissertation"}
CSL_TO_CROSSREF = {csl: crossref_type for crossref_type, csl in reversed(list(CSL_TYPES.items()))}


class ImportFormatError(ValueError):
    """The file is not a CSL-JSON, RIS or BibTeX export we can read."""


def _person(text):
    text = text.strip()
    if text.startswith("{") and text.endswith("}"):
        # BibTeX's way of saying "an organisation, do not split this name".
        return {"literal": text[1:-1].strip()}
    text = text.strip("{}")
    if "," in text:
        family, given = (part.strip() for part in text.split(",", 1))
        return {"family": family, "given": given} if given else {"family": family}
    parts = text.rsplit(" ", 1)
    if len(parts) == 2:
        return {"family": parts[1], "given": parts[0]}
    return {"literal": text}


def _year(text):
    digits = "".join(ch for ch in str(text or "")[:4] if ch.isdigit())
    return int(digits) if len(digits) == 4 else None


def entries_from_csl_json(text):
    data = json.loads(text)
    items = data if isinstance(data, list) else [data]
    entries = []
    for item in items:
        if not isinstance(item, dict):
            raise ImportFormatError("A CSL-JSON file must hold an object or a list of objects.")
        authors = []
        for person in item.get("author") or []:
            if person.get("family"):
                authors.append({k: person[k] for k in ("family", "given") if person.get(k)})
            elif person.get("literal"):
                authors.append({"literal": person["literal"]})
        parts = (item.get("issued") or {}).get("date-parts") or [[None]]
        entries.append({
            "doi": item.get("DOI", ""), "url": item.get("URL", ""), "title": item.get("title", ""),
            "authors": authors, "container_title": item.get("container-title", ""),
            "year": parts[0][0] if parts and parts[0] else None, "volume": str(item.get("volume", "")),
            "issue": str(item.get("issue", "")), "pages": str(item.get("page", "")),
            "publisher": item.get("publisher", ""),
            "work_type": CSL_TO_CROSSREF.get(item.get("type", ""), item.get("type", "")), "csl": item,
        })
    return entries


def entries_from_ris(text):
    entries = []
    for item in rispy.loads(text):
        authors = [_person(a) for a in item.get("authors") or item.get("first_authors") or []]
        pages = "-".join(p for p in (item.get("start_page", ""), item.get("end_page", "")) if p)
        entries.append({
            "doi": item.get("doi", ""), "url": (item.get("urls") or [""])[0],
            "title": item.get("title") or item.get("primary_title", ""), "authors": authors,
            "container_title": item.get("journal_name") or item.get("secondary_title", ""),
            "year": _year(item.get("year") or item.get("publication_year") or item.get("date")),
            "volume": item.get("volume", ""), "issue": item.get("number", ""), "pages": pages,
            "publisher": item.get("publisher", ""), "work_type": RIS_TYPES.get(item.get("type_of_reference"), ""),
        })
    return entries


def entries_from_bibtex(text):
    parser = bibtexparser.bparser.BibTexParser(common_strings=True)
    database = bibtexparser.loads(text, parser=parser)
    entries = []
    for item in database.entries:
        authors = [_person(a) for a in item.get("author", "").replace("\n", " ").split(" and ") if a.strip()]
        entries.append({
            "doi": item.get("doi", ""), "url": item.get("url", ""), "title": item.get("title", "").strip("{}"),
            "authors": authors, "container_title": item.get("journal") or item.get("booktitle", ""),
            "year": _year(item.get("year")), "volume": item.get("volume", ""), "issue": item.get("number", ""),
            "pages": item.get("pages", "").replace("--", "-"), "publisher": item.get("publisher", ""),
            "work_type": BIBTEX_TYPES.get(item.get("ENTRYTYPE", "").lower(), ""),
        })
    return entries


def parse_export(text, filename=""):
    """Entries (Reference field values) from a CSL-JSON, RIS or BibTeX export, by name or content."""
    name = filename.lower()
    stripped = text.lstrip()
    try:
        if name.endswith(".json") or stripped.startswith(("[", "{")):
            return entries_from_csl_json(text)
        if name.endswith(".ris") or stripped.startswith("TY  -"):
            return entries_from_ris(text)
        if name.endswith(".bib") or stripped.startswith("@"):
            return entries_from_bibtex(text)
    except ImportFormatError:
        raise
    except (ValueError, KeyError, TypeError) as exc:
        raise ImportFormatError(f"{filename or 'The file'} could not be read: {exc}") from exc
    raise ImportFormatError(
        f"{filename or 'The file'} is not CSL-JSON (.json), RIS (.ris) or BibTeX (.bib)."
    )


# Why an imported entry stays unverified when the time budget ran out before Crossref checked it.
NOT_CHECKED = "not checked with Crossref: the time budget was spent"


def _from_crossref(doi, *, by):
    """The entry's record as Crossref has it: (reference or None, why it stays unverified, Crossref unreachable,
    the time budget spent)."""
    try:
        work = crossref.fetch_work(doi)
    except crossref.BudgetSpent:
        return None, NOT_CHECKED, False, True
    except crossref.CrossrefUnavailable:
        return None, "Crossref was unreachable", True, False
    except crossref.WorkNotFound:
        return None, "Crossref does not know this DOI", False, False
    except crossref.CrossrefError as exc:
        return None, f"Crossref could not confirm it ({exc})", False, False
    reference = apply_work(Reference(doi=doi), work)
    reference.entered_by = by
    return reference, "", False, False


def import_entry(entry, *, by=None, fetch=True):
    """Save one export entry unless its DOI (or URL) is already present.

    With ``fetch``, a DOI is re-checked with Crossref and, when Crossref answers, the record is
    Crossref's (verified); otherwise it is saved as the file gave it, unverified.
    """
    fields = {k: v for k, v in entry.items() if v not in (None,)}
    label = fields.get("doi") or fields.get("url") or fields.get("title") or "(untitled entry)"
    raw_doi = fields.pop("doi", "")
    doi = None
    if raw_doi:
        try:
            doi = normalise_doi(raw_doi)
        except InvalidDOI as exc:
            return AddResult(label, "invalid", str(exc))
    elif fields.get("url"):
        try:
            doi = find_doi(fields["url"])
        except InvalidDOI as exc:  # a link whose DOI is written with a lookalike character
            return AddResult(label, "invalid", str(exc))
    if doi:
        existing = Reference.objects.with_doi(doi).first()
    elif fields.get("url"):
        existing = Reference.objects.filter(doi__isnull=True, url=fields["url"]).first()
    else:
        return AddResult(label, "rejected", "it has neither a DOI nor a URL")
    if existing:
        return AddResult(label, "already present", str(existing), existing)
    for name in ("volume", "issue", "pages"):
        fields[name] = str(fields.get(name) or "")[:50]
    fields["title"] = str(fields.get("title") or "")
    fields["container_title"] = str(fields.get("container_title") or "")[:500]
    unverified, unreachable, spent = "no DOI to check with Crossref", False, False
    if doi and fetch:
        fetched, unverified, unreachable, spent = _from_crossref(doi, by=by)
        if fetched is not None:
            # Crossref may answer with the canonical form of an aliased DOI, which may be present already.
            existing = Reference.objects.with_doi(fetched.doi).first()
            if existing:
                return AddResult(label, "already present", str(existing), existing)
            try:
                with transaction.atomic():
                    save_reference(fetched, by=by)
            except ValidationError as exc:
                return AddResult(label, "rejected", "; ".join(exc.messages))
            return AddResult(fetched.doi, "added", f"{fetched} (verified by Crossref)", fetched)
    elif doi:
        unverified = "Crossref was not asked"
    reference = Reference(doi=doi, metadata_source=MetadataSource.FILE, **fields)
    try:
        with transaction.atomic():
            save_reference(reference, by=by)
    except ValidationError as exc:
        return AddResult(label, "rejected", "; ".join(exc.messages))
    return AddResult(doi or label, "added", f"{reference} (unverified: {unverified})", reference,
                     crossref_unreachable=unreachable, budget_spent=spent)


def import_export(text, filename="", *, by=None):
    """Import every entry of a reference-manager export; one AddResult each. Raises ImportFormatError.

    Each DOI is re-checked with Crossref; once Crossref proves unreachable, or the time budget is spent,
    the rest are not tried (each try would wait for its timeout, or could not be made) and stay
    unverified too.
    """
    results, reachable, spent = [], True, False
    for entry in parse_export(text, filename):
        result = import_entry(entry, by=by, fetch=reachable and not spent)
        if result.crossref_unreachable:
            reachable = False
        elif result.budget_spent:
            spent = True
        elif (spent or not reachable) and result.outcome == "added" and not result.verified and \
                "Crossref was not asked" in result.detail:
            if spent:
                result.budget_spent = True
                result.detail = result.detail.replace("Crossref was not asked", NOT_CHECKED)
            else:
                result.crossref_unreachable = True
                result.detail = result.detail.replace("Crossref was not asked", "Crossref was unreachable")
        results.append(result)
    return results


# The entries a summary names before "and N more".
SHOWN_ENTRIES = 10


def import_summary(results):
    """One sentence for the editor: how many imported records Crossref verified and how many stay unverified."""
    added = [r for r in results if r.outcome == "added"]
    verified = [r for r in added if r.verified]
    unverified = len(added) - len(verified)
    if not added:
        return "Nothing new was imported."
    not_checked = [r.line for r in added if r.budget_spent]
    if not_checked:
        shown = ", ".join(not_checked[:SHOWN_ENTRIES])
        more = f" and {len(not_checked) - SHOWN_ENTRIES} more" if len(not_checked) > SHOWN_ENTRIES else ""
        n = len(not_checked)
        return (
            f"The time budget for this import was spent before Crossref checked {n} "
            f"entr{'ies' if n != 1 else 'y'} ({shown}{more}): {'they stay' if n != 1 else 'it stays'} unverified "
            "(entered by hand) and cannot support a claim until a reviewer verifies "
            f"{'them' if n != 1 else 'it'} or {'they are' if n != 1 else 'it is'} refreshed from Crossref. "
            "To check now, select them in the reference list and choose “Refresh selected references”."
            + (f" {len(verified)} verified by Crossref before that." if verified else "")
        )
    if any(r.crossref_unreachable for r in added):
        return (
            f"Crossref was unreachable: {unverified} imported reference{'s' if unverified != 1 else ''} "
            f"{'stay' if unverified != 1 else 'stays'} unverified (entered by hand) and cannot support a claim "
            "until a reviewer verifies it or it is refreshed from Crossref."
            + (f" {len(verified)} verified by Crossref before that." if verified else "")
        )
    text = f"{len(verified)} verified by Crossref."
    if unverified:
        text += (
            f" {unverified} left unverified (no DOI, or Crossref could not confirm it): "
            "they cannot support a claim until a reviewer verifies them."
        )
    return text
