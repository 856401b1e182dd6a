"""Services for writing an article's working copy: pasted prose becomes claims."""

from dataclasses import dataclass

from django.db import transaction
from django.db.models import Max

from articles import gate
from articles.models import Citation, Claim
from articles.parsing import parse_text
from references.models import Reference


class PasteError(ValueError):
    """Pasted text whose markers cannot be turned into citations."""


@dataclass
class ResolvedClaim:
    text: str
    references: list


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
            f"[doi:{raw_doi}] is not among the references yet and Crossref could not supply it ({error}). "
            "Add the reference by hand under References, then paste again."
        ) from error
    return reference


def resolve_pasted_text(article, text):
    """Parse pasted prose and resolve its markers against the article; raises PasteError naming the marker."""
    from articles.parsing import MarkerError

    try:
        parsed = parse_text(text)
    except MarkerError as error:
        raise PasteError(str(error)) from error
    # Numbers as readers see them: the gate's order of first citation, which publication freezes.
    numbered = gate.load_content(article).references if article is not None and article.pk else []
    resolved = []
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
            references.append(_reference_for_doi(raw_doi))
        unique = list(dict.fromkeys(references))
        resolved.append(ResolvedClaim(text=claim.text, references=unique))
    return resolved


@transaction.atomic
def append_claims(*, section, claims):
    """Add resolved claims at the end of a section, citations in marker order."""
    last = section.claims.aggregate(last=Max("position"))["last"]
    position = 0 if last is None else last + 1
    created = []
    for resolved in claims:
        claim = Claim.objects.create(section=section, position=position, text=resolved.text)
        Citation.objects.bulk_create(
            Citation(claim=claim, reference=reference, position=index)
            for index, reference in enumerate(resolved.references)
        )
        created.append(claim)
        position += 1
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
