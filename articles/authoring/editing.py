"""Services for writing an article's working copy: pasted prose becomes claims."""

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Max

from articles.review import gate
from articles.models import Citation, Claim
from articles.authoring.parsing import parse_text
from references.models import Reference


class PasteError(ValueError):
    """Pasted text whose markers cannot be turned into citations."""


@dataclass
class ResolvedClaim:
    text: str
    references: list


def _clause(error):
    """An error's message without its closing full stop, to sit inside a sentence of ours."""
    return str(error).rstrip(". ")


def _reference_for_doi(raw_doi):
    from references.crossref import CrossrefError
    from references.doi import InvalidDOI
    from references.services import add_reference_by_doi

    try:
        reference, _created = add_reference_by_doi(raw_doi)
    except InvalidDOI as error:
        raise PasteError(f"[doi:{raw_doi}]: {error}") from error
    except CrossrefError as error:
        raise PasteError(
            f"[doi:{raw_doi}] is not among the references yet and Crossref could not supply it ({_clause(error)}). "
            "Add the reference by hand under References, then paste again."
        ) from error
    return reference


def _reference_for_pmid(pmid):
    from references import pubmed
    from references.services import add_reference_by_pmid

    # A PMCID comes from a PMC link and is named as it was read; a PMID as the marker form.
    shown, raw = (f"[{pmid}]", pmid) if pmid.upper().startswith("PMC") else (f"[@pmid:{pmid}]", f"PMID {pmid}")
    try:
        reference, _created = add_reference_by_pmid(raw)
    except pubmed.InvalidPubMedId as error:
        raise PasteError(f"{shown}: {error}") from error
    except pubmed.RecordNotFound as error:
        raise PasteError(f"{shown}: PubMed has no record of it ({_clause(error)}). Check the number.") from error
    except pubmed.PubMedError as error:
        raise PasteError(
            f"{shown} is not among the references yet and PubMed could not supply it ({_clause(error)}). "
            "Add the reference by hand under References, then paste again."
        ) from error
    return reference


def _reference_for_url(url):
    from django.core.exceptions import ValidationError

    from references.crossref import CrossrefError
    from references.services import add_reference_by_url

    try:
        reference, _created = add_reference_by_url(url)
    except CrossrefError as error:
        raise PasteError(
            f"[{url}] holds a DOI that is not among the references yet, and Crossref could not supply it "
            f"({_clause(error)}). Add the reference by hand under References, then paste again."
        ) from error
    except (ValidationError, ValueError) as error:
        raise PasteError(f"[{url}] could not be added as a reference: {error}") from error
    return reference


def resolve_pasted_text(article, text):
    """Parse pasted prose and resolve its markers against the article; raises PasteError naming the marker."""
    from articles.authoring.parsing import MarkerError, TextTooLong, TooManyClaims

    max_chars, max_claims = settings.PASTE_MAX_CHARS, settings.PASTE_MAX_CLAIMS
    if len(text) > max_chars:
        raise PasteError(
            f"The pasted text is {len(text):,} characters; one paste may be at most {max_chars:,} "
            "(the setting PASTE_MAX_CHARS). Paste it in parts, or use Articles → Import from text."
        )
    try:
        parsed = parse_text(text, max_claims=max_claims)
    except TooManyClaims as error:
        raise PasteError(
            f"The pasted text makes more than {max_claims:,} claims, the most one paste may make "
            "(the setting PASTE_MAX_CLAIMS). Paste it in parts, or use Articles → Import from text."
        ) from error
    except (MarkerError, TextTooLong) as error:
        raise PasteError(str(error)) from error
    # Numbers as readers see them: the gate's order of first citation, which publication freezes.
    numbered = gate.load_content(article).references if article is not None and article.pk else []
    resolved = []
    by_doi = {}  # one lookup (and at most one Crossref fetch) per DOI, however often it is cited
    by_pmid = {}  # likewise one PubMed fetch per PMID
    by_url = {}
    for claim in parsed:
        references = []
        for number in claim.numbers:
            if number > len(numbered):
                raise PasteError(
                    f"[{number}] in “{claim.text[:60]}” points at no reference: this article cites "
                    f"{len(numbered)} reference(s) so far. Use [doi:10.xxxx/...] to cite a new source."
                )
            references.append(numbered[number - 1])
        for raw_doi in claim.dois:
            if raw_doi not in by_doi:
                by_doi[raw_doi] = _reference_for_doi(raw_doi)
            references.append(by_doi[raw_doi])
        for pmid in (*claim.pmids, *claim.pmcids):
            if pmid not in by_pmid:
                by_pmid[pmid] = _reference_for_pmid(pmid)
            references.append(by_pmid[pmid])
        for url in claim.urls:
            if url not in by_url:
                by_url[url] = _reference_for_url(url)
            references.append(by_url[url])
        unique = list(dict.fromkeys(references))
        resolved.append(ResolvedClaim(text=claim.text, references=unique))
    return resolved


@transaction.atomic
def append_claims(*, section, claims):
    """Add resolved claims at the end of a section, citations in marker order."""
    last = section.claims.aggregate(last=Max("position"))["last"]
    start = 0 if last is None else last + 1
    # Two inserts however many claims: a long paste costs its length, not a query per claim.
    created = Claim.objects.bulk_create(
        Claim(section=section, position=start + offset, text=resolved.text) for offset, resolved in enumerate(claims)
    )
    Citation.objects.bulk_create(
        Citation(claim=claim, reference=reference, position=index)
        for claim, resolved in zip(created, claims)
        for index, reference in enumerate(resolved.references)
    )
    return created


@transaction.atomic
def set_claim_references(*, claim, references):
    """Make the claim cite exactly these references, in this order, keeping existing locators."""
    wanted = [reference.pk if isinstance(reference, Reference) else int(reference) for reference in references]
    wanted = list(dict.fromkeys(wanted))
    existing = {citation.reference_id: citation for citation in claim.citations.all()}
    Citation.objects.filter(claim=claim).exclude(reference_id__in=wanted).delete()
    for position, reference_id in enumerate(wanted):
        citation = existing.get(reference_id)
        if citation is None:
            Citation.objects.create(claim=claim, reference_id=reference_id, position=position)
        elif citation.position != position:
            citation.position = position
            citation.save(update_fields=["position"])
