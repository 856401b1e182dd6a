"""Write a parsed article as a draft, its references through references.services, all or nothing."""

import re

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.text import slugify

from articles.authoring import attribution
from articles.review.gate import publish_blockers
from articles.importing.document import parse_document
from articles.importing.errors import ImportFailed
from articles.importing.layout import decode_text
from articles.importing.reference_list import ParsedReference
from articles.importing.report import ImportReport, _link, _reference_row
from articles.models import Article, Citation, Claim, Section, Status, Topic
from references import pubmed
from references.crossref import CrossrefError
from references.doi import normalise_doi
from references.services import add_reference_by_doi, add_reference_by_pmid, add_reference_by_url

# Rows per INSERT when saving claims and citations.
BATCH_SIZE = 500
# Framing and "see your doctor" advice make no factual claim (the Claim model's context statements).
CONTEXT_SENTENCE = re.compile(
    r"^(?:(?:in )?this (?:article|post|guide|piece)\b|read on\b|below,? we\b|here,? we (?:will|'ll)\b)"
    r"|\b(?:talk|talking|speak|speaking|consult|consulting|check|checking)\s+(?:to|with)\s+(?:your|a)\s+"
    r"(?:doctor|physician|clinician|gp|psychiatrist|therapist|health ?care (?:provider|professional))\b",
    re.IGNORECASE,
)


def _save_pubmed_reference(parsed, *, fetch, by, warnings):
    try:
        # A savepoint: a record PubMed half-answered leaves nothing behind when we fall back.
        with transaction.atomic():
            return add_reference_by_pmid(parsed.pubmed_id, by=by, fetch=fetch)
    except pubmed.RecordNotFound as error:
        raise ImportFailed(f"PubMed has no record for {parsed.pubmed_id}: {error}", parsed.line) from error
    except pubmed.PubMedError as error:
        reference, created = add_reference_by_pmid(parsed.pubmed_id, by=by, fetch=False, fallback=parsed.fallback)
        warnings.append(
            f"line {parsed.line}: PubMed could not be asked about {parsed.pubmed_id} ({error}); it was saved "
            "unverified, marked needs check, for an editor to confirm against PubMed"
        )
        return reference, created


def _save_reference(parsed, *, fetch, by=None, warnings=None):
    if parsed.pubmed_id:
        return _save_pubmed_reference(parsed, fetch=fetch, by=by, warnings=warnings if warnings is not None else [])
    try:
        if parsed.doi:
            return add_reference_by_doi(parsed.doi, fetch=fetch, fallback=parsed.fallback, by=by)
        return add_reference_by_url(parsed.url, fallback=parsed.fallback, by=by)
    except (CrossrefError, ValidationError, ValueError) as error:
        raise ImportFailed(f"the reference could not be added: {_reason(error)}", parsed.line) from error


def _reason(error):
    if isinstance(error, ValidationError) and hasattr(error, "message_dict"):
        return "; ".join(f"{name}: {' '.join(messages)}" for name, messages in error.message_dict.items())
    return str(error)


def _existing_article(title, slug):
    return Article.objects.filter(Q(slug=slug) | Q(title__iexact=title)).order_by("pk").first()


def import_article(text, *, author=None, topic=None, dry_run=False, replace_draft=False, fetch=True):
    """Make a draft article from plain text (str or bytes) and report it; raises ImportFailed, saving nothing."""
    document = parse_document(decode_text(text))
    slug = slugify(document.title)[:300].strip("-")
    if not slug:
        raise ImportFailed("the title has no letters or digits to make a web address (slug) from", 1)
    try:
        with transaction.atomic():
            report = _save(document, slug=slug, author=author, topic=topic, dry_run=dry_run,
                           replace_draft=replace_draft, fetch=fetch)
            if dry_run:
                transaction.set_rollback(True)
    except IntegrityError as error:
        # Someone saved the same slug or DOI between our check and our write.
        raise ImportFailed(f"the database refused the import, nothing was saved: {error}") from error
    return report


def _save(document, *, slug, author, topic, dry_run, replace_draft, fetch):
    existing = _existing_article(document.title, slug)
    replaced = False
    if existing is not None:
        if not replace_draft:
            raise ImportFailed(
                f'an article with this title already exists: "{existing.title}" (id {existing.pk}, '
                f"slug {existing.slug}, {existing.get_status_display().lower()}); nothing was imported",
                1,
            )
        if existing.status != Status.DRAFT:
            raise ImportFailed(
                f'"{existing.title}" (id {existing.pk}) is {existing.get_status_display().lower()}, not a draft; '
                "only a draft can be replaced by an import",
                1,
            )
        article = Article.objects.select_for_update().get(pk=existing.pk)
        before = attribution.capture(article)
        article.sections.all().delete()
        article.title, article.summary = document.title, document.summary
        article.save(update_fields=["title", "summary", "updated_at"])
        replaced = True
    else:
        before = None
        article = Article(title=document.title, slug=slug, summary=document.summary)
        article.full_clean()
        article.save()
    if author is not None:
        article.authors.add(author)
    if topic is not None:
        article.topics.add(topic)

    saved = {}
    warnings = list(document.warnings)
    for parsed in document.references:
        saved[parsed.number] = _save_reference(parsed, fetch=fetch, by=author, warnings=warnings)
    by_doi = {reference.doi: reference for reference, _ in saved.values() if reference.doi}
    extra = []  # references cited only by [doi:...] and [@pmid:...] markers
    by_pmid = {}
    by_url = {}
    cited_by = {}

    # One insert per table (in batches), not one per claim and citation: a 10,000-claim file
    # is three bulk inserts inside the import's transaction.
    section_rows = Section.objects.bulk_create(
        Section(article=article, position=section_number, heading=parsed_section.heading)
        for section_number, parsed_section in enumerate(document.sections, start=1)
    )
    sections = []
    claim_rows, claim_sources = [], []
    number = 0
    for section_number, (section, parsed_section) in enumerate(zip(section_rows, document.sections), start=1):
        claims = []
        for paragraph in parsed_section.paragraphs:
            for parsed_claim in paragraph.claims:
                number += 1
                is_context = not parsed_claim.has_markers and bool(CONTEXT_SENTENCE.search(parsed_claim.text))
                claim_rows.append(Claim(section=section, position=len(claims) + 1, text=parsed_claim.text,
                                        is_context=is_context))
                sources = []
                for number_cited in parsed_claim.numbers:
                    sources.append((number_cited, saved[number_cited][0]))
                for raw in parsed_claim.dois:
                    doi = normalise_doi(raw)
                    if doi not in by_doi:
                        try:
                            reference, created = add_reference_by_doi(doi, fetch=fetch, fallback={}, by=author)
                        except (CrossrefError, ValidationError, ValueError) as error:
                            raise ImportFailed(f"the marker [doi:{raw}] could not be added: {_reason(error)}",
                                               paragraph.line) from error
                        by_doi[doi] = reference
                        extra.append((reference, created))
                    sources.append((None, by_doi[doi]))
                pubmed_ids = [(f"PMID {pmid}", f"[@pmid:{pmid}]") for pmid in parsed_claim.pmids]
                pubmed_ids += [(pmcid, f"[{pmcid}]") for pmcid in parsed_claim.pmcids]
                for pmid, written in pubmed_ids:
                    if pmid not in by_pmid:
                        marker = ParsedReference(number=None, line=paragraph.line, text=written, doi=None,
                                                 url="", fallback={}, pubmed_id=pmid)
                        reference, created = _save_pubmed_reference(marker, fetch=fetch, by=author,
                                                                    warnings=warnings)
                        by_pmid[pmid] = reference
                        if reference.doi:
                            by_doi.setdefault(reference.doi, reference)
                        if all(reference.pk != known.pk for known, _ in saved.values()) and all(
                                reference.pk != known.pk for known, _ in extra):
                            extra.append((reference, created))
                    sources.append((None, by_pmid[pmid]))
                for url in parsed_claim.urls:
                    if url not in by_url:
                        try:
                            reference, created = add_reference_by_url(url, fallback={}, by=author)
                        except (ValidationError, ValueError) as error:
                            raise ImportFailed(f"the marker [{url}] could not be added: {_reason(error)}",
                                               paragraph.line) from error
                        by_url[url] = reference
                        if all(reference.pk != known.pk for known, _ in saved.values()) and all(
                                reference.pk != known.pk for known, _ in extra):
                            extra.append((reference, created))
                    sources.append((None, by_url[url]))
                seen = set()
                rows = []
                kept = []
                for position, (ref_number, reference) in enumerate(sources, start=1):
                    if reference.pk in seen:
                        continue
                    seen.add(reference.pk)
                    cited_by[reference.pk] = cited_by.get(reference.pk, 0) + 1
                    kept.append((position, reference))
                    rows.append({"reference": ref_number, "doi": reference.doi, "url": _link(reference)})
                claim_sources.append(kept)
                claims.append({"number": number, "line": paragraph.line, "text": parsed_claim.text,
                               "context": is_context, "sources": rows})
        sections.append({"number": section_number, "heading": parsed_section.heading,
                         "line": parsed_section.line, "claims": claims})
    Claim.objects.bulk_create(claim_rows, batch_size=BATCH_SIZE)
    Citation.objects.bulk_create(
        (Citation(claim=claim, reference=reference, position=position)
         for claim, kept in zip(claim_rows, claim_sources) for position, reference in kept),
        batch_size=BATCH_SIZE,
    )

    references = [
        _reference_row(parsed, saved[parsed.number][0], saved[parsed.number][1],
                       cited_by.get(saved[parsed.number][0].pk, 0))
        for parsed in document.references
    ]
    references += [_reference_row(None, reference, created, cited_by.get(reference.pk, 0))
                   for reference, created in extra]
    article.refresh_from_db()
    # The importing user wrote these words, whatever the authors list says later.
    attribution.record(article, by=author, before=before)
    return ImportReport(
        article=article,
        dry_run=dry_run,
        replaced=replaced,
        sections=sections,
        references=references,
        left_out=document.left_out,
        blockers=list(publish_blockers(article)),
        warnings=warnings,
        topics=[t.name for t in article.topics.all()],
        authors=[user.get_username() for user in article.authors.all()],
    )


def find_topic(name):
    """The topic called ``name`` (any case); raises ImportFailed naming the known topics."""
    topic = Topic.objects.filter(name__iexact=name.strip()).first()
    if topic is None:
        known = ", ".join(Topic.objects.values_list("name", flat=True)) or "none yet"
        raise ImportFailed(f'there is no topic called "{name}" (known topics: {known})')
    return topic
