"""The writing desk: an article's title, summary, byline and every section as prose, saved at once.

``read_desk`` turns the stored claims back into prose: each claim is a sentence,
its citations written ``[n]`` with the numbers of the article's reference list in
reader order, and a context statement begins with ``{context}``. ``save_desk``
reads the prose again with the shared citation reader (articles.authoring.parsing)
and rewrites the working copy in one transaction:

- numbers mean the reference list the editor was shown (``reference_order``), with
  the sources first cited by DOI, PMID or link in this same save added after it, so
  ``[5]`` can cite a DOI pasted a paragraph earlier;
- an unchanged sentence keeps its claim row (locators, context mark, pinned comments,
  history); an edited one is paired with the claim it replaces when the alignment of
  the old and new sentences and their similarity make that clear; the rest are new or
  removed;
- a marker that cannot be read (malformed, a number past the list, a DOI Crossref does
  not know) is named beside its sentence and nothing is saved (``DeskError``);
- a new source Crossref or PubMed cannot be reached for is never invented: its sentence
  is saved with the marker still in its words, so the gate blocks publication
  ("a citation marker was left in the words") and the next save retries the lookup;
  the desk offers entering the source by hand, unverified.

``check_desk`` reads the same prose without writing anything or calling Crossref, for
the statuses beside each sentence while the editor types.
"""

import difflib
import re
from dataclasses import dataclass, field

from django.db import transaction

from articles.authoring import attribution
from articles.authoring.parsing import (
    MarkerError,
    _reattach_leading_markers,
    close_gaps,
    extract_markers,
    split_sentences,
)
from articles.models import Article, Citation, Claim, Section
from articles.review import gate, workflow
from references.models import Reference

CONTEXT_MARK = "{context}"
CONTEXT_PREFIX = re.compile(r"^\s*\{\s*context\s*\}\s*", re.IGNORECASE)
# An edited sentence is the claim it replaces only when this much of it is unchanged.
SIMILARITY_THRESHOLD = 0.6
BRACKETED = re.compile(r"\s*\[[^\]]{0,300}\]")
MAX_HEADING = Section._meta.get_field("heading").max_length

STATUS_LABELS = {
    "supported": "supported",
    "no_source": "no source",
    "not_peer_reviewed": "source not peer-reviewed",
    "unverified": "unverified",
    "retracted": "retracted",
    "context": "context",
    "unresolved": "source not looked up yet",
    "new_source": "new source (looked up on save)",
    "error": "cannot be read",
}


class DeskError(ValueError):
    """Prose that cannot be saved; ``problems`` are (section heading, sentence, message), ``desk`` the reading."""

    def __init__(self, problems, desk=None):
        super().__init__(f"Nothing was saved: {len(problems)} problem(s) must be fixed first.")
        self.problems = problems
        self.desk = desk


@dataclass
class Sentence:
    text: str
    is_context: bool = False
    references: list = field(default_factory=list)
    errors: list = field(default_factory=list)
    pending: list = field(default_factory=list)  # (marker as written, why it was not looked up)
    new_sources: list = field(default_factory=list)  # markers to look up on save (check only)
    claim_id: int | None = None
    blockers: list = field(default_factory=list)
    numbers: tuple = ()
    identifiers: list = field(default_factory=list)  # (key, marker as written)

    @property
    def status(self):
        if self.errors:
            return "error"
        if self.is_context:
            return "context"
        if self.pending:
            return "unresolved"
        if self.new_sources and not self.references:
            return "new_source"
        return reference_status(self.references)

    @property
    def status_label(self):
        return STATUS_LABELS[self.status]


@dataclass
class DeskSection:
    section_id: int | None
    heading: str
    prose: str = ""
    sentences: list = field(default_factory=list)
    errors: list = field(default_factory=list)


@dataclass
class Desk:
    """The article as the desk shows it: sections with their sentences, the reference list, the blockers."""

    sections: list
    references: list  # Reference, numbered from 1 in this order
    article_blockers: list = field(default_factory=list)
    saved: bool = False

    @property
    def problems(self):
        found = []
        for section in self.sections:
            found.extend((section.heading, "", message) for message in section.errors)
            for sentence in section.sentences:
                found.extend((section.heading, sentence.text, message) for message in sentence.errors)
        return found

    @property
    def sentence_count(self):
        return sum(len(section.sentences) for section in self.sections)


def reference_status(references):
    """The status of a sentence citing ``references`` (or of one reference, as a list of one)."""
    if not references:
        return "no_source"
    if any(reference.is_retracted for reference in references):
        return "retracted"
    if any(reference.counts_as_support for reference in references):
        return "supported"
    if any(not reference.is_verified for reference in references):
        return "unverified"
    return "not_peer_reviewed"


# -- prose from claims ---------------------------------------------------------


def _marker(numbers):
    return "[" + ", ".join(str(number) for number in numbers) + "]" if numbers else ""


def sentence_prose(text, numbers, is_context):
    """One claim as the editor writes it: its markers before the closing punctuation."""
    marker = _marker(numbers)
    if marker:
        match = re.search(r"[.!?…]+[”\"’')]*$", text)
        text = f"{text[:match.start()]} {marker}{text[match.start():]}" if match else f"{text} {marker}"
    return f"{CONTEXT_MARK} {text}" if is_context else text


def read_desk(article, content=None):
    """The stored working copy as prose, with every sentence's status and the gate's blockers beside it."""
    content = content or gate.load_content(article)
    references = content.references
    numbers = {reference.pk: index for index, reference in enumerate(references, start=1)}
    by_section = {section.pk: DeskSection(section.pk, section.heading) for section in content.sections}
    for loaded in content.claims:
        cited = [citation.reference for citation in loaded.citations]
        by_section[loaded.section.pk].sentences.append(Sentence(
            text=loaded.claim.text, is_context=loaded.claim.is_context, references=cited,
            claim_id=loaded.claim.pk, numbers=tuple(numbers[r.pk] for r in cited),
        ))
    sections = list(by_section.values())
    for section in sections:
        section.prose = "\n".join(sentence_prose(s.text, s.numbers, s.is_context) for s in section.sentences)
        for sentence in section.sentences:
            marker = gate.leftover_marker(sentence.text)
            if marker and not sentence.is_context:
                sentence.pending.append((marker, "it was not looked up when the article was last saved"))
    desk = Desk(sections=sections, references=references)
    _attach_blockers(desk, gate.publish_blockers(article, content))
    return desk


def _attach_blockers(desk, blockers):
    sentences = [sentence for section in desk.sections for sentence in section.sentences]
    for blocker in blockers:
        if blocker.claim_number is not None and 0 < blocker.claim_number <= len(sentences):
            sentences[blocker.claim_number - 1].blockers.append(blocker.message)
        else:
            desk.article_blockers.append(str(blocker))


# -- reading prose ---------------------------------------------------------------


def _identifier(kind, value):
    """(key, marker as written) for a source named in a marker; raises ValueError for a bad DOI."""
    from references import pubmed
    from references.doi import find_doi, normalise_doi

    if kind == "doi":
        doi = normalise_doi(value)
        return ("doi", doi), f"[doi:{doi}]"
    if kind == "pmid":
        return ("pmid", pubmed.parse_pubmed_id(value).value), f"[@pmid:{value}]"
    if kind == "pmcid":
        return ("pmcid", pubmed.parse_pubmed_id(value).value), f"[{pubmed.pmc_url(value)}]"
    doi = find_doi(value)
    if doi:
        return ("doi", doi), f"[{value}]"
    return ("url", value), f"[{value}]"


def _read_sentence(raw):
    is_context = bool(CONTEXT_PREFIX.match(raw))
    raw = CONTEXT_PREFIX.sub("", raw)
    try:
        text, markers = extract_markers(raw)
    except MarkerError as error:
        return Sentence(text=raw.strip(), is_context=is_context, errors=[str(error)])
    sentence = Sentence(text=text, is_context=is_context, numbers=tuple(markers.numbers))
    named = [("doi", v) for v in markers.dois] + [("pmid", v) for v in markers.pmids]
    named += [("pmcid", v) for v in markers.pmcids] + [("url", v) for v in markers.urls]
    for kind, value in named:
        try:
            sentence.identifiers.append(_identifier(kind, value))
        except ValueError as error:
            sentence.errors.append(f"{value}: {error}")
    return sentence


def _read_section(section_id, heading, prose):
    section = DeskSection(section_id=section_id, heading=" ".join((heading or "").split()), prose=prose or "")
    if not section.heading:
        section.errors.append("The section needs a heading.")
    elif len(section.heading) > MAX_HEADING:
        section.errors.append(f"The heading is {len(section.heading)} characters; at most {MAX_HEADING}.")
    for paragraph in re.split(r"\r?\n", section.prose):
        for raw in _reattach_leading_markers(split_sentences(paragraph)):
            sentence = _read_sentence(raw)
            if sentence.text or sentence.errors:
                section.sentences.append(sentence)
    return section


def _known_references(keys):
    """{key: Reference} for the sources already stored, in one query per kind of identifier."""
    found = {}
    for kind in ("doi", "pmid", "pmcid", "url"):
        values = [value for key_kind, value in keys if key_kind == kind]
        if not values:
            continue
        lookup = {f"{kind}__in": values}
        if kind == "url":
            lookup["doi__isnull"] = True
        for reference in Reference.objects.filter(**lookup):
            found[(kind, getattr(reference, kind))] = reference
    return found


def _look_up(key, by):
    """Fetch a new source from its authority: (Reference, None), (None, why unreachable); raises DeskLookupError."""
    from references import crossref, pubmed
    from references.services import add_reference_by_doi, add_reference_by_pmid, add_reference_by_url

    kind, value = key
    try:
        if kind == "doi":
            return add_reference_by_doi(value, by=by)[0], None
        if kind in ("pmid", "pmcid"):
            return add_reference_by_pmid(value if kind == "pmcid" else f"PMID {value}", by=by)[0], None
        return add_reference_by_url(value, by=by)[0], None
    except crossref.WorkNotFound as error:
        raise _LookupFailed(f"Crossref has no work with this DOI ({error}). Check it.") from error
    except pubmed.RecordNotFound as error:
        raise _LookupFailed(f"PubMed has no record of it ({error}). Check the number.") from error
    except crossref.CrossrefError as error:
        return None, f"Crossref could not be reached ({str(error).rstrip('. ')})"
    except pubmed.PubMedError as error:
        return None, f"PubMed could not be reached ({str(error).rstrip('. ')})"


class _LookupFailed(Exception):
    pass


def _basis(article, reference_order, content):
    """The numbered list the editor was shown: the posted order, or the list as stored now."""
    if reference_order is None:
        return list(content.references) if content is not None else []
    ids = [int(pk) for pk in reference_order]
    stored = Reference.objects.in_bulk(ids)
    return [stored[pk] for pk in ids if pk in stored]


def _read(article, *, sections, reference_order=None, content=None, lookup=False, by=None):
    desk = Desk(sections=[_read_section(*section) for section in sections], references=[])
    sentences = [sentence for section in desk.sections for sentence in section.sentences]
    keys = list(dict.fromkeys(key for s in sentences for key, _ in s.identifiers))
    known = _known_references(keys)
    unreachable = {}
    failed = {}
    if lookup:
        for key in keys:
            if key in known:
                continue
            try:
                reference, why = _look_up(key, by)
            except _LookupFailed as error:
                failed[key] = str(error)
                continue
            if reference is None:
                unreachable[key] = why
            else:
                known[key] = reference
    numbered = _basis(article, reference_order, content)
    seen = {reference.pk for reference in numbered}
    for sentence in sentences:
        for key, _written in sentence.identifiers:
            reference = known.get(key)
            if reference is not None and reference.pk not in seen:
                seen.add(reference.pk)
                numbered.append(reference)
    desk.references = numbered
    for sentence in sentences:
        cited = []
        for number in sentence.numbers:
            if 1 <= number <= len(numbered):
                cited.append(numbered[number - 1])
            else:
                sentence.errors.append(
                    f"[{number}] points at no reference: the list has {len(numbered)}. "
                    "Cite a new source with [doi:10.xxxx/...] or add it under “Add a source”."
                )
        for key, written in sentence.identifiers:
            if key in known:
                cited.append(known[key])
            elif key in failed:
                sentence.errors.append(f"{written}: {failed[key]}")
            elif key in unreachable:
                sentence.pending.append((written, unreachable[key]))
            else:
                sentence.new_sources.append(written)
        sentence.references = list({reference.pk: reference for reference in cited}.values())
    return desk


def _stored_text(sentence):
    """The words to store: a marker whose source could not be fetched stays in them, for the gate and a retry."""
    if not sentence.pending:
        return sentence.text
    return _with_marker(sentence.text, " ".join(written for written, _ in sentence.pending))


def _with_marker(text, marker):
    match = re.search(r"[.!?…]+[”\"’')]*$", text)
    return f"{text[:match.start()]} {marker}{text[match.start():]}" if match else f"{text} {marker}"


# -- matching sentences to claims ---------------------------------------------------


def _core(text):
    """A claim's words without any marker left in them, for comparing an old claim with a new sentence."""
    return close_gaps(BRACKETED.sub("", text)) if "[" in text else text


def match_claims(old_texts, new_texts):
    """{new index: old index}: identical sentences in order, then moved ones, then clear edits."""
    matcher = difflib.SequenceMatcher(None, old_texts, new_texts, autojunk=False)
    pairs = {}
    replaced = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            pairs.update({j1 + k: i1 + k for k in range(i2 - i1)})
        elif tag == "replace":
            replaced.append((range(i1, i2), range(j1, j2)))
    taken = set(pairs.values())
    # A sentence moved elsewhere (another paragraph or section) is still the same claim.
    free_old = {}
    for index, text in enumerate(old_texts):
        if index not in taken:
            free_old.setdefault(text, []).append(index)
    for index, text in enumerate(new_texts):
        if index not in pairs and free_old.get(text):
            pairs[index] = free_old[text].pop(0)
            taken.add(pairs[index])
    # An edited sentence replaces the old one at its place in the alignment, in order, when similar enough.
    for old_range, new_range in replaced:
        start = old_range.start
        for j in new_range:
            if j in pairs:
                continue
            for i in range(start, old_range.stop):
                if i in taken:
                    continue
                ratio = difflib.SequenceMatcher(None, old_texts[i], new_texts[j], autojunk=False).ratio()
                if ratio >= SIMILARITY_THRESHOLD:
                    pairs[j] = i
                    taken.add(i)
                    start = i + 1
                    break
    return pairs


def _match(desk, content):
    old = content.claims if content is not None else []
    sentences = [sentence for section in desk.sections for sentence in section.sentences]
    pairs = match_claims([_core(loaded.claim.text) for loaded in old], [s.text for s in sentences])
    for new_index, old_index in pairs.items():
        sentences[new_index].claim_id = old[old_index].claim.pk
    return {loaded.claim.pk: loaded for loaded in old}


# -- the gate on unsaved prose --------------------------------------------------------


def _gate_blockers(article, desk):
    """The gate's content blockers for the prose as read, on unsaved rows (nothing is written)."""
    content = gate.ArticleContent(article=article, sections=[])
    number = 0
    for section in desk.sections:
        row = Section(article=article, heading=section.heading)
        content.sections.append(row)
        for sentence in section.sentences:
            number += 1
            claim = Claim(section=row, text=_stored_text(sentence) or "(empty)", is_context=sentence.is_context)
            citations = [Citation(claim=claim, reference=reference) for reference in sentence.references]
            content.claims.append(gate.LoadedClaim(claim, number, row, citations))
    return [
        blocker for blocker in gate.content_blockers(content)
        # A source to be looked up on save is not yet "no source".
        if not (blocker.code == "uncited_claim" and _sentence_at(desk, blocker.claim_number).new_sources)
    ]


def _sentence_at(desk, number):
    sentences = [sentence for section in desk.sections for sentence in section.sentences]
    return sentences[number - 1]


def _with_fields(article, title, summary, byline):
    draft = Article(pk=article.pk, title=title, summary=summary, byline=byline, disclosure=article.disclosure)
    return draft


def check_desk(article, *, title, summary, byline, sections, reference_order=None):
    """Read the posted prose without saving or calling any authority: statuses, blockers, the reference list."""
    content = gate.load_content(article)
    desk = _read(article, sections=sections, reference_order=reference_order, content=content)
    _match(desk, content)
    _attach_blockers(desk, _gate_blockers(_with_fields(article, title, summary, byline), desk))
    return desk


# -- saving ------------------------------------------------------------------------------


def _field_problems(title, summary, byline):
    problems = []
    if not (title or "").strip():
        problems.append(("", "", "The title is empty: an article needs a title."))
    for name, value in (("title", title), ("byline", byline)):
        limit = Article._meta.get_field(name).max_length
        if value and len(value) > limit:
            problems.append(("", "", f"The {name} is {len(value):,} characters; at most {limit:,}."))
    return problems


@transaction.atomic
def save_desk(article, *, by, title, summary, byline, sections, reference_order=None):
    """Rewrite the working copy from the desk's prose in one transaction; raises DeskError, saving nothing."""
    article = Article.objects.select_for_update().get(pk=article.pk)
    before = attribution.capture(article)
    content = gate.load_content(article)
    problems = _field_problems(title, summary, byline)
    section_ids = {section.pk for section in content.sections}
    for section_id, heading, _prose in sections:
        if section_id is not None and section_id not in section_ids:
            problems.append((heading, "", "This section is not part of the article (reload the page)."))
    # Look-ups run before anything is written; a reference fetched for a save that then fails
    # stays, as any fetched source does, and costs no fetch next time.
    desk = _read(article, sections=sections, reference_order=reference_order, content=content, lookup=True, by=by)
    problems += desk.problems
    if problems:
        raise DeskError(problems, desk)
    old = _match(desk, content)

    article.title, article.summary, article.byline = title.strip(), (summary or "").strip(), (byline or "").strip()
    article.save(update_fields=["title", "summary", "byline", "updated_at"])
    kept_sections = {s.section_id for s in desk.sections if s.section_id is not None}
    section_rows = []
    for position, section in enumerate(desk.sections):
        if section.section_id is None:
            row = Section.objects.create(article=article, heading=section.heading, position=position)
            section.section_id = row.pk
        else:
            row = next(s for s in content.sections if s.pk == section.section_id)
            if (row.heading, row.position) != (section.heading, position):
                row.heading, row.position = section.heading, position
                row.save(update_fields=["heading", "position"])
        section_rows.append(row)

    kept_claims = {s.claim_id for section in desk.sections for s in section.sentences if s.claim_id}
    Claim.objects.filter(section__article=article).exclude(pk__in=kept_claims).delete()
    Section.objects.filter(article=article).exclude(pk__in=kept_sections | {r.pk for r in section_rows}).delete()

    changed, created = [], []
    for row, section in zip(section_rows, desk.sections):
        for position, sentence in enumerate(section.sentences):
            text = _stored_text(sentence)
            if sentence.claim_id is None:
                created.append((Claim(section=row, position=position, text=text, is_context=sentence.is_context),
                                sentence))
                continue
            claim = old[sentence.claim_id].claim
            values = {"section_id": row.pk, "position": position, "text": text, "is_context": sentence.is_context}
            if any(getattr(claim, name) != value for name, value in values.items()):
                for name, value in values.items():
                    setattr(claim, name, value)
                changed.append(claim)
    if changed:
        Claim.objects.bulk_update(changed, ["section_id", "position", "text", "is_context"], batch_size=500)
    rows = Claim.objects.bulk_create([claim for claim, _ in created], batch_size=500)
    for claim, (_, sentence) in zip(rows, created):
        sentence.claim_id = claim.pk
    Citation.objects.bulk_create(
        [Citation(claim_id=claim.pk, reference=reference, position=index)
         for claim, (_, sentence) in zip(rows, created) for index, reference in enumerate(sentence.references)],
        batch_size=500,
    )
    _recite_kept(desk, old)

    attribution.record(article, by=by, before=before)
    workflow.void_stale_approval(article, by=by)
    saved = read_desk(article)
    saved.saved = True
    # What the save could not look up stays named beside its sentence.
    pending = {s.claim_id: s.pending for section in desk.sections for s in section.sentences if s.pending}
    for section in saved.sections:
        for sentence in section.sentences:
            if sentence.claim_id in pending:
                sentence.pending = pending[sentence.claim_id]
    return saved


def _recite_kept(desk, old):
    """Kept claims cite what their sentence now cites, keeping the locators of sources they still cite."""
    for section in desk.sections:
        for sentence in section.sentences:
            loaded = old.get(sentence.claim_id)
            if loaded is None:
                continue
            wanted = [reference.pk for reference in sentence.references]
            current = {c.reference_id: c for c in loaded.citations}
            if [c.reference_id for c in loaded.citations] == wanted and all(
                current[pk].position == index for index, pk in enumerate(wanted)
            ):
                continue
            Citation.objects.filter(claim_id=loaded.claim.pk).exclude(reference_id__in=wanted).delete()
            for position, reference_id in enumerate(wanted):
                citation = current.get(reference_id)
                if citation is None:
                    Citation.objects.create(claim_id=loaded.claim.pk, reference_id=reference_id, position=position)
                elif citation.position != position:
                    citation.position = position
                    citation.save(update_fields=["position"])


def parse_sections(ids, headings, proses):
    """The posted section lists (ids may be empty for a new section) as (id or None, heading, prose)."""
    sections = []
    for raw_id, heading, prose in zip(ids, headings, proses):
        raw_id = (raw_id or "").strip()
        sections.append((int(raw_id) if raw_id.isdigit() else None, heading, prose))
    return sections

