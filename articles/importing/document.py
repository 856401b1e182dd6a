"""Read an article's text into title, sections, claims, references and what was left out; saves nothing.

The importer reads a file such as ``seeds/ketamine-therapy.txt`` and makes a
draft article: sections from its headings, claims sentence by sentence,
citations from the bracketed markers, references from the list at the end.
Nothing is saved unless the whole import succeeds; a dry run rolls back
everything, references included.

How the text is read (docs/importing.md says the same for editors):

- The first non-blank line is the title. A first line that reads like a
  paragraph (it ends with a full stop or runs past 25 words) is refused.
- A heading is a short line (at most 15 words and 150 characters) that does not
  end with ``. , ; : !`` and carries no citation marker, followed by a body
  paragraph. ``# Heading`` (Markdown) is always a heading, and so is a short
  line in capitals ("WHAT THE RESEARCH SAYS", "TREATMENT OPTIONS:") with a word
  of five letters or more (a line of acronyms alone is prose), wherever it stands.
- Paragraphs between the title and the first heading are the introduction:
  their claims go into a first section headed "Introduction", and the first of
  them, markers removed, becomes the article's summary.
- Hard-wrapped text is joined back first. In a file whose paragraphs are
  separated by blank lines, the lines of one block are one paragraph (or one
  list entry), except a short line that could be a heading standing after a
  finished sentence or at the block's start. In a file without blank lines, a
  line is joined to the one before only when that one stops mid-sentence and it
  starts in lower case.
- Markdown: ``---`` rules, image-only lines, HTML comments and tags are
  skipped; a front matter block's ``title:`` is the title; footnote
  definitions ``[^8]: ...`` (with indented continuation lines) are the
  reference list, cited by ``[^8]``.
- Every other non-blank line is a paragraph. Its sentences (pysbd, so "e.g.",
  "et al.", "vs." and initials do not end one) become claims; markers ``[1]``,
  ``[1, 3]``, ``[2-4]``, ``[6]–[11]``, ``[^8]``, superscripts (articles.authoring.parsing
  reads them all) cite the reference list's numbers and ``[doi:10.x/y]`` cites
  a DOI directly. With an unnumbered list, APA citations ("(Smith & Lee,
  2019)", "Smith (2019)") are matched to its entries by surnames, year and
  suffix.
- Disclaimers, bylines and review notes, closing lines and an "About the
  author" section are left out wherever they are, and listed in the report.
- A sentence that frames the article ("This article will explore ...") or
  sends readers to their doctor is a context statement: it needs no source and
  reviewers see it flagged. Every other sentence without a marker is a claim
  without a source, and the publish gate lists it.
- At the end of the body, a sign-off ("- The Psychly Team") and the
  publisher's promise ("At Psychly, we are committed ...") are left out: the
  site prints its own standards statement. The report lists them.
- The reference list follows a "References" (or "Sources", "Bibliography",
  "Works cited") heading, or is the run of numbered (``1.``, ``[1]``, ``1)``)
  or bulleted (``-``, ``*``, ``•``) lines, or lines carrying a DOI or link, at
  the end of the file. Bulleted and unnumbered entries are numbered in order.
  In a numbered or bulleted list, an unmarked line continues the entry above it
  (a DOI on a line of its own). Every entry needs a DOI (any form: ``10.x/y``,
  ``doi:``, ``https://doi.org/``, a publisher URL with the DOI in it), a PMID
  or PMCID (``PMID: 959840``, a PubMed or PMC link: a PubMed reference,
  saved unverified when PubMed cannot be reached) or a link.
- A reference is matched by DOI, so importing the same list twice adds each
  work once. Its metadata comes from Crossref when Crossref answers; otherwise
  from the reference line (authors, year, title, journal, volume, issue,
  pages), marked needs_check for an editor.
- The slug comes from the title. An article whose slug or title is taken is
  refused, naming the article that has it; ``replace_draft=True`` replaces the
  sections of that article instead, if it is still a draft.
"""

from dataclasses import dataclass, field

from django.conf import settings

from articles.importing.citations import _author_year_index, _cite_author_years, _claims_of
from articles.importing.errors import ImportFailed
from articles.importing.layout import (
    ANY_MARKER,
    HORIZONTAL_RULE,
    INTRODUCTION,
    LIST_ITEM,
    MARKUP_ONLY,
    MAX_TITLE_WORDS,
    REFERENCES_HEADING,
    Line,
    _boilerplate_heading_reason,
    _boilerplate_reason,
    _footnote_definitions,
    _front_matter,
    _has_link,
    _inline_markup,
    _is_heading_like,
    _is_uppercase_heading,
    _markdown_heading,
    _peel_tail,
    _renumber_footnotes,
    _unwrap,
)
from articles.importing.reference_list import ParsedReference, _split_reference_block, parse_references
from articles.authoring.parsing import ParsedClaim
from references import pubmed
from references.doi import InvalidDOI, normalise_doi


@dataclass
class ParsedParagraph:
    line: int
    claims: list[ParsedClaim]


@dataclass
class ParsedSection:
    heading: str
    line: int | None
    paragraphs: list[ParsedParagraph] = field(default_factory=list)


@dataclass
class ParsedDocument:
    title: str
    summary: str
    sections: list[ParsedSection]
    references: list[ParsedReference]
    left_out: list[dict]
    warnings: list[str]


def parse_document(text):
    """Read an article's text into title, sections, references and what was left out; saves nothing."""
    lines, footnotes, numbering = _footnote_definitions(text)
    lines = [_renumber_footnotes(line, numbering) for line in _front_matter(lines)
             if line.text and not HORIZONTAL_RULE.fullmatch(line.text) and not MARKUP_ONLY.fullmatch(line.text)]
    if not lines:
        raise ImportFailed("the file is empty")
    lines = _unwrap(lines)

    title_line = lines[0]
    heading = _markdown_heading(title_line.text)
    title = (title_line.text if heading is None else heading).strip()
    if title.endswith(".") or len(title.split()) > MAX_TITLE_WORDS or ANY_MARKER.search(title):
        raise ImportFailed(
            "no title: the first line reads like a paragraph; put the article's title on the first line",
            title_line.number,
        )
    if len(title) > 300:
        raise ImportFailed("the title is longer than 300 characters", title_line.number)
    if REFERENCES_HEADING.match(title) or LIST_ITEM.match(title) or _has_link(title):
        raise ImportFailed("no title: the first line is not a title", title_line.number)

    start, has_heading = _split_reference_block(lines)
    block = lines[start:]
    body = lines[1 : start - 1 if has_heading else start]
    warnings = []

    references, left_after = parse_references(block + footnotes)
    left_out = _peel_tail(body) + left_after
    if not references:
        warnings.append("no reference list found: every claim is without a source")

    by_number = {reference.number: reference for reference in references}
    # An unnumbered list (APA's, alphabetical) is cited by author and year, "(Smith & Lee, 2019)".
    author_year = bool(references) and not any(reference.numbered for reference in references)
    author_index = _author_year_index(references) if author_year else []
    claim_count = 0
    sections = []
    intro = ParsedSection(heading=INTRODUCTION, line=None)
    current = intro
    summary = ""
    skipping = None  # inside "About the author" or a disclaimer section: the reason its lines are left out
    for index, line in enumerate(body):
        following = body[index + 1] if index + 1 < len(body) else None
        markdown = _markdown_heading(line.text)
        if markdown is not None or _is_uppercase_heading(line.text) or (
            _is_heading_like(line.text) and following is not None and not _is_heading_like(following.text)
        ):
            heading = (line.text if markdown is None else markdown)[:300]
            if markdown is None and _is_uppercase_heading(heading):
                heading = heading.rstrip(":").rstrip()  # "TREATMENT OPTIONS:" introduces, it is not a sentence
            reason = _boilerplate_heading_reason(heading)
            if reason:
                skipping = reason
                left_out.append({"line": line.number, "text": line.text, "reason": reason})
                continue
            # A byline ("Medically reviewed by ...") is short enough to pass for a heading.
            if markdown is not None or not _boilerplate_reason(line.text):
                skipping = None
                current = ParsedSection(heading=heading, line=line.number)
                sections.append(current)
                continue
        reason = skipping or _boilerplate_reason(line.text)
        if reason:
            left_out.append({"line": line.number, "text": line.text, "reason": reason})
            continue
        text = LIST_ITEM.match(line.text)
        paragraph_line = Line(line.number, _inline_markup(text.group("body") if text else line.text))
        claims = _claims_of(paragraph_line, settings.IMPORT_MAX_CLAIMS - claim_count, author_year=author_year)
        claim_count += len(claims)
        if not claims:
            continue
        if author_year:
            claims = [_cite_author_years(claim, author_index, line.number) for claim in claims]
        for claim in claims:
            for number in claim.numbers:
                if number not in by_number:
                    known = f"1 to {max(by_number)}" if by_number else "no entries"
                    raise ImportFailed(
                        f"the marker [{number}] points at no reference (the reference list has {known})",
                        line.number,
                    )
            for raw in claim.dois:
                try:
                    normalise_doi(raw)
                except InvalidDOI as error:
                    raise ImportFailed(f"the marker [doi:{raw}] is not a DOI: {error}", line.number) from None
            for pmid in claim.pmids:
                try:
                    pubmed.parse_pubmed_id(f"PMID {pmid}")
                except pubmed.InvalidPubMedId as error:
                    raise ImportFailed(f"the marker [@pmid:{pmid}] is not a PMID: {error}", line.number) from None
        current.paragraphs.append(ParsedParagraph(line=line.number, claims=claims))
        if current is intro and not summary:
            summary = " ".join(claim.text for claim in claims)
    if intro.paragraphs:
        sections.insert(0, intro)
    for section in sections:
        if not section.paragraphs:
            warnings.append(f'line {section.line}: the heading "{section.heading}" has no paragraphs under it')
    sections = [section for section in sections if section.paragraphs]
    left_out.sort(key=lambda item: item["line"])
    if not sections:
        raise ImportFailed("the file has a title but no paragraphs", title_line.number)
    cited = {number for section in sections for p in section.paragraphs for c in p.claims for number in c.numbers}
    for reference in references:
        if reference.number not in cited:
            warnings.append(f"line {reference.line}: reference {reference.number} is cited by no claim")
    return ParsedDocument(title, summary, sections, references, left_out, warnings)
