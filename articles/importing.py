"""Turn one of Psychly's plain-text articles into a draft, and report what lacks support.

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
  paragraph. ``# Heading`` (Markdown) is always a heading.
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
  ``[1, 3]``, ``[2-4]``, ``[6]–[11]``, ``[^8]``, superscripts (articles.parsing
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

The report (``ImportReport.as_dict()``, printed by ``import_article --json``)::

    {
      "dry_run": bool,            # true: nothing was saved
      "replaced": bool,           # true: an existing draft's sections were replaced
      "article": {"id": int | null, "title": str, "slug": str, "status": str,
                  "summary": str, "topics": [str], "authors": [str]},
      "sections": [{"number": int, "heading": str, "line": int | null,
                    "claims": [{"number": int, "line": int, "text": str,
                                "context": bool,
                                "sources": [{"reference": int | null,
                                             "doi": str | null, "url": str}]}]}],
      "unsupported_claims": [{"section": str, "claim": int, "line": int, "text": str}],
      "context": [{"section": str, "claim": int, "line": int, "text": str}],
      "left_out": [{"line": int, "text": str, "reason": str}],
      "references": [{"number": int | null, "line": int, "doi": str | null, "url": str,
                      "title": str, "status": "added" | "already present",
                      "metadata": "crossref" | "citation_line" | "manual" | "file",
                      "needs_check": bool, "peer_review": str, "retraction": str,
                      "cited_by": int}],
      "blockers": [{"code": str, "message": str, "section": str | null,
                    "claim": int | null, "excerpt": str}],
      "warnings": [str]
    }

Claims are numbered from 1 through the whole article, as the publish gate numbers them.
"""

import json
import re
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.text import slugify

from articles import attribution
from articles.gate import publish_blockers
from articles.models import Article, Citation, Claim, Section, Status, Topic
from articles.parsing import MarkerError, ParsedClaim, TextTooLong, TooManyClaims, parse_paragraph
from references import pubmed
from references.crossref import CrossrefError
from references.doi import InvalidDOI, find_doi, normalise_doi
from references.services import add_reference_by_doi, add_reference_by_pmid, add_reference_by_url

INTRODUCTION = "Introduction"
MAX_TITLE_WORDS = 25
MAX_HEADING_WORDS = 15
MAX_HEADING_CHARS = 150
# A heading may end in "?" ("What is ketamine?"); these end a sentence or a list lead-in.
NON_HEADING_ENDINGS = ".,;:!"
# A group author in APA's author place: a short name in title case with one of these words.
ORGANISATION_WORDS = {
    "Administration", "Agency", "Association", "Board", "Centre", "Center", "Centers", "College", "Commission",
    "Council", "Department", "Federation", "Foundation", "Institute", "Institutes", "Ministry", "Network", "Office",
    "Organisation", "Organization", "Service", "Services", "Society", "Trust", "University", "NHS", "NICE", "WHO",
}
NAME_CONNECTORS = {"of", "for", "and", "the", "on", "in", "&", "to"}
MAX_ORGANISATION_WORDS = 10
# A line ending in a word, a comma, a dash or an opening bracket stops mid-sentence.
MID_SENTENCE_END = re.compile(r"[\w,(\-–—]$")
HYPHEN_BREAK = re.compile(r"[^\W\d_]-$")
# "[1]." at the start of a line is a citation marker wrapped onto it, not a list item "[1] Author...".
WRAPPED_MARKER = re.compile(r"\[[\d\s,–-]+\][.,;:!?)]")
# In a wrapped block, a heading is a line clearly shorter than the block's longest.
HEADING_SHARE_OF_WIDTH = 0.6
# Rows per INSERT when saving claims and citations.
BATCH_SIZE = 500


class ImportFailed(ValueError):
    """The file cannot be imported; ``line`` (1-based) says where, when one line is at fault."""

    def __init__(self, message, line=None):
        super().__init__(message)
        self.message = message
        self.line = line

    def __str__(self):
        return f"line {self.line}: {self.message}" if self.line else self.message


# --- Reading the file -------------------------------------------------------


def decode_text(data):
    """The file's text; refuses empty, binary and non-UTF-8 input with the line at fault."""
    if isinstance(data, bytes):
        if b"\x00" in data:
            line = data[: data.index(b"\x00")].count(b"\n") + 1
            raise ImportFailed("this is a binary file, not plain text (it contains a NUL byte)", line)
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            line = data[: error.start].count(b"\n") + 1
            raise ImportFailed(
                f"the file is not UTF-8 text (byte 0x{data[error.start]:02x} cannot be read); "
                "save it as UTF-8 and try again",
                line,
            ) from None
    else:
        text = data.removeprefix("\ufeff")
        if "\x00" in text:
            raise ImportFailed("this is a binary file, not plain text (it contains a NUL byte)",
                               text[: text.index("\x00")].count("\n") + 1)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    for number, line in enumerate(text.split("\n"), start=1):
        bad = re.search(r"[\x01-\x08\x0b\x0e-\x1f\x7f]", line)
        if bad:
            raise ImportFailed(
                f"control character U+{ord(bad.group()):04X} in the text: is this a binary file?", number
            )
    if not text.strip():
        raise ImportFailed("the file is empty")
    return text


# --- Recognising the parts of an article -------------------------------------

MARKDOWN_HEADING = re.compile(r"^#{1,6}\s+(?P<text>.+?)\s*#*$")
MARKDOWN_HEADING_START = re.compile(r"#{1,6}\s+")


def _markdown_heading(text):
    """The text of a Markdown heading ("## Sleep ##" -> "Sleep"), or None.

    What MARKDOWN_HEADING.match(text).group("text") gives for a line (stripped, one
    line), without its lazy scan: on a long run of "#" or spaces that is quadratic.
    """
    start = MARKDOWN_HEADING_START.match(text)
    if start is None:
        return None
    rest = text[start.end():]
    if not rest:
        return None
    # The heading is the shortest non-empty start of ``rest`` followed only by spaces then "#"s.
    return rest.rstrip("#").rstrip() or rest[:1]
REFERENCES_HEADING = re.compile(
    r"^(?:#{1,6}\s*)?(?:references?|reference list|sources|bibliography|works cited|literature cited|citations"
    r"|footnotes|endnotes)"
    r"\s*:?$",
    re.IGNORECASE,
)
LIST_ITEM = re.compile(
    r"^(?:\[(?P<bracketed>\d+)\]\s*|(?P<numbered>\d+)[.)]\s+|(?P<bullet>[-*•–—])\s+)(?P<body>\S.*)$"
)
URL = re.compile(r"https?://[^\s<>\"]+", re.IGNORECASE)
DOI_TEXT = re.compile(r"(?:\binfo:doi/|\bdoi:\s*|\bdoi\s+)?\b10\.\d{4,9}/\S+", re.IGNORECASE)
ANY_MARKER = re.compile(r"\[\s*(?:\d|doi:|\^)", re.IGNORECASE)
# PubMed identifiers in a reference line: "PMID: 959840", "PMCID: PMC2614320", a PubMed or PMC link.
PMID_IN_TEXT = re.compile(r"\bPMID\s*+:?\s*+(\d{1,9})\b", re.IGNORECASE)
PMCID_IN_TEXT = re.compile(r"\b(PMC\d{1,9})\b", re.IGNORECASE)
PUBMED_LINK = re.compile(
    r"https?://(?:www\.)?(?:pubmed\.ncbi\.nlm\.nih\.gov/|ncbi\.nlm\.nih\.gov/pmc/|ncbi\.nlm\.nih\.gov/pubmed/"
    r"|pmc\.ncbi\.nlm\.nih\.gov/)",
    re.IGNORECASE,
)
# "---", "***", "___" (Markdown's horizontal rule) divide the text; they are neither headings nor prose.
HORIZONTAL_RULE = re.compile(r"(?:-[ \t]*+){3,}+|(?:\*[ \t]*+){3,}+|(?:_[ \t]*+){3,}+")
# "[^8]: Author. Title. doi:..." and its indented continuation lines: one footnote definition.
FOOTNOTE_DEFINITION = re.compile(r"\[\^(?P<label>[^\]\s]{1,40})\]:[ \t]*+(?P<body>.*)")
FOOTNOTE_REFERENCE = re.compile(r"\[\^([^\]\s]{1,40})\]")
# A line that is only markup: an image "![alt](banner.webp)", an HTML comment or a tag ("<Subscribe />").
MARKUP_ONLY = re.compile(
    r"!\[[^\]]{0,300}\]\([^()\s]{0,1000}\)|<!--.{0,1000}-->|</?[A-Za-z][\w.-]{0,60}(?:\s[^<>]{0,500})?/?>"
)
# Markdown's inline markup in prose: **strong**, __strong__, *emphasis*, and links "[text](https://...)",
# whose text is kept. A bracket that starts like a citation marker ("[1](#ref-1)") is left for the marker reader.
STRONG = re.compile(r"(\*\*|__)(?=\S)([^*_\n]{1,500}+)(?<=\S)\1")
EMPHASIS = re.compile(r"(?<![\w*])\*(?=[^\s*])([^*\n]{1,500}+)(?<=[^\s*])\*(?![\w*])")
INLINE_LINK = re.compile(r"\[(?![\d^@]|doi:)([^\[\]\n]{1,300}+)\]\((?:https?://|/|#|\.)[^()\s]{0,1000}+\)",
                         re.IGNORECASE)
# Front matter (Jekyll, Hugo, Docusaurus): "---", "key: value" lines, "---", at the top of the file.
FRONT_MATTER_TITLE = re.compile(r"title:\s*+(?P<title>.+)", re.IGNORECASE)
MAX_FRONT_MATTER_LINES = 60
YEAR = re.compile(r"\b(?:19|20)\d{2}\b")
SIGN_OFF = re.compile(r"^[-–—~]+\s*(?P<name>[^\d.;:!?\[\]()]{1,60})$")
# "At Psychly, we are committed ...": a capitalised name, then "we" (case matters: "At first, we" is prose).
PROMISE = re.compile(r"^(?:(?:Here at|At) [A-Z][\w&'’ .-]{0,40},\s+we\b|We at [A-Z])")
# A closing line: "With care, the Editorial Team", "Warm regards,", "Thanks for reading!". What may
# follow the phrase is checked to be a name (_is_signature_name), so "Take care of your sleep" is prose.
VALEDICTION = re.compile(
    r"^(?:with (?:care|love|gratitude|thanks|warmth|kindness|best wishes|warm regards)|warm(?:est)? (?:regards|wishes)"
    r"|warmly|kind(?:est)? regards|best(?: wishes| regards)?|all the best|regards|sincerely|yours(?: truly| sincerely)?"
    r"|take care|cheers|in (?:good )?health|be well|stay well|until next time|thanks for reading|thank you for reading)"
    r"[ \t]*+[,.!]?(?P<rest>.*)$",
    re.IGNORECASE,
)
TEAM_WORDS = {"team", "staff", "editors", "writers", "crew", "desk", "board"}
SIGNATURE_LEAD = re.compile(r"^(?:[-–—~]+\s*+)?(?:from\s+)?(?:all of us at\s+)?(?:the|your)\s+", re.IGNORECASE)
# Lines no article makes a claim with: the site prints its own disclaimer, byline and review note.
DISCLAIMER = re.compile(
    r"^(?:medical |health |important )?disclaimer\b"
    r"|\bfor (?:general )?(?:informational|information|educational)(?: and (?:educational|informational))? purposes\b"
    r"|\bnot (?:meant |intended )?(?:to be |as )?(?:a substitute|a replacement) for"
    r" (?:professional|medical|qualified)\b"
    r"|\b(?:does not|do not|doesn't|is not intended to) (?:constitute|provide|give|offer) (?:medical|professional)"
    r" (?:advice|diagnosis)",
    re.IGNORECASE,
)
BYLINE = re.compile(
    r"^(?:(?:medically|clinically|expert|professionally)[ -])?(?:reviewed|fact[ -]checked|edited|written|authored)"
    r"\s++by\b|^(?:last\s++)?(?:updated|reviewed|published)(?:\s++on)?:?\s++(?:\d|jan|feb|mar|apr|may|jun|jul|aug"
    r"|sep|oct|nov|dec)",
    re.IGNORECASE,
)
MAX_BYLINE_WORDS = 30
BOILERPLATE_HEADING = re.compile(
    r"^(?:about (?:the |this |our )?(?:authors?|writers?|contributors?|reviewers?|editors?|us)"
    r"|(?:the )?authors?(?:'s?|’s?)? (?:bio|biography|information|note)|meet the (?:authors?|writers?)"
    r"|(?:medical |health |important )?disclaimers?)\s*:?$",
    re.IGNORECASE,
)
DISCLAIMER_REASON = "disclaimer (the site prints its own)"
BYLINE_REASON = "byline or review note (the site shows its own)"
# Framing and "see your doctor" advice make no factual claim (the Claim model's context statements).
CONTEXT_SENTENCE = re.compile(
    r"^(?:(?:in )?this (?:article|post|guide|piece)\b|read on\b|below,? we\b|here,? we (?:will|'ll)\b)"
    r"|\b(?:talk|talking|speak|speaking|consult|consulting|check|checking)\s+(?:to|with)\s+(?:your|a)\s+"
    r"(?:doctor|physician|clinician|gp|psychiatrist|therapist|health ?care (?:provider|professional))\b",
    re.IGNORECASE,
)


@dataclass
class Line:
    number: int
    text: str


@dataclass
class ParsedReference:
    number: int
    line: int
    text: str
    doi: str | None
    url: str
    fallback: dict
    pubmed_id: str = ""  # "PMID 959840" or "PMC2614320" when the entry has no DOI
    numbered: bool = False  # the file numbered it ("1.", "[1]"); else it was numbered in order


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


def _has_link(text):
    try:
        return bool(URL.search(text) or find_doi(text) or PMID_IN_TEXT.search(text) or PMCID_IN_TEXT.search(text))
    except InvalidDOI:
        return True  # a DOI written with a lookalike character: parse_references names it


def _is_sign_off(text):
    """A dash and a name ("- The Psychly Team"), not a short bullet point ("- Keep a routine")."""
    match = SIGN_OFF.match(text)
    if not match or _has_link(text):
        return False
    words = match.group("name").split()
    capitalised = [word for word in words if word[0].isupper()]
    return 0 < len(words) <= 6 and len(capitalised) >= 0.6 * len(words)


def _is_signature_name(text):
    """A name signing off: "the Editorial Team", "Dr. Ana Ruiz", "Psychly Editorial Staff"."""
    text = text.strip().strip(",.!–—-~ ").strip()
    if not text:
        return True
    words = text.split()
    if len(words) > 7 or any(mark in text for mark in "?;:[]()") or _has_link(text):
        return False
    if words[-1].lower() in TEAM_WORDS and (SIGNATURE_LEAD.match(text) or all(w[0].isupper() for w in words)):
        return True
    return sum(1 for word in words if word[0].isupper()) >= 0.6 * len(words) and words[0][0].isupper()


def _is_valediction(text):
    match = VALEDICTION.match(text)
    return bool(match) and not ANY_MARKER.search(text) and _is_signature_name(match.group("rest"))


def _is_team_signature(text):
    """ "The Editorial Team", "— The Psychly team", "From all of us at the Psychly team"."""
    words = text.strip(".!").split()
    return (
        0 < len(words) <= 8 and words[-1].lower().strip(".!") in TEAM_WORDS and not ANY_MARKER.search(text)
        and (bool(SIGNATURE_LEAD.match(text)) or all(word[0].isupper() for word in words))
        and not _has_link(text)
    )


def _boilerplate_reason(text):
    """Why a body line is left out whatever its place (a disclaimer, a byline), or None."""
    if ANY_MARKER.search(text):
        return None
    if DISCLAIMER.search(text):
        return DISCLAIMER_REASON
    if BYLINE.match(text) and len(text.split()) <= MAX_BYLINE_WORDS:
        return BYLINE_REASON
    if _is_valediction(text):
        return "sign-off"
    return None


def _boilerplate_heading_reason(heading):
    if not BOILERPLATE_HEADING.match(heading.strip()):
        return None
    return DISCLAIMER_REASON if "disclaimer" in heading.lower() else "about the author (the site shows its own)"


def _is_heading_like(text):
    return (
        len(text) <= MAX_HEADING_CHARS
        and len(text.split()) <= MAX_HEADING_WORDS
        and text[-1] not in NON_HEADING_ENDINGS
        and not ANY_MARKER.search(text)
        and not LIST_ITEM.match(text)
    )


def _list_number(match):
    number = match.group("bracketed") or match.group("numbered")
    return int(number) if number else None


def _split_reference_block(lines):
    """Index in ``lines`` where the reference list starts, and whether a heading introduced it."""
    for index in range(len(lines) - 1, 0, -1):
        if REFERENCES_HEADING.match(lines[index].text):
            return index + 1, True
    start = len(lines)
    for index in range(len(lines) - 1, 0, -1):
        text = lines[index].text
        if LIST_ITEM.match(text) or _has_link(text):
            start = index
        else:
            break
    block = lines[start:]
    if not any(_has_link(line.text) for line in block):
        return len(lines), False
    # A list that ends the body ("- Sleep well") or a sign-off may run into a
    # list without a heading; entries with neither link nor year belong to the body.
    while start < len(lines) and not _has_link(lines[start].text) and not YEAR.search(lines[start].text):
        start += 1
    return start, False


def _group_entries(block):
    """Reference entries of the block: (first line, number or None, text)."""
    items = [LIST_ITEM.match(line.text) for line in block]
    is_list = any(items)
    entries = []
    for line, item in zip(block, items):
        if item:
            entries.append([line.number, _list_number(item), item.group("body")])
        elif is_list and entries:
            # A wrapped entry: the DOI or the rest of the line on a line of its own.
            entries[-1][2] = f"{entries[-1][2]} {line.text}"
        else:
            entries.append([line.number, None, line.text])
    return entries


def parse_references(block):
    """The numbered reference list, and the sign-off lines found after it."""
    entries = _group_entries(block)
    left_out = []
    # The bullet was stripped from the entry; a sign-off is recognised by its dash.
    while entries and entries[-1][1] is None and _is_sign_off(f"- {entries[-1][2]}"):
        number, _, text = entries.pop()
        left_out.append({"line": number, "text": text, "reason": "sign-off"})
    references = []
    seen = {}
    for position, (line, explicit, text) in enumerate(entries, start=1):
        number = explicit or position
        if number in seen:
            raise ImportFailed(f"reference number {number} appears twice (also on line {seen[number]})", line)
        seen[number] = line
        try:
            doi = find_doi(text)
        except InvalidDOI as error:
            raise ImportFailed(f"the reference's DOI cannot be read: {error}", line) from None
        urls = [u.rstrip(".,;") for u in URL.findall(text)]
        pubmed_id = "" if doi else _pubmed_id(text, urls, line)
        if doi:
            try:
                doi = normalise_doi(doi)
            except InvalidDOI as error:
                raise ImportFailed(f"the reference's DOI cannot be read: {error}", line) from None
        elif not urls and not pubmed_id:
            raise ImportFailed(
                f"the reference has no DOI and no link (nor a PMID or PMCID), so it cannot be checked: "
                f"{_excerpt(text)}", line
            )
        references.append(
            ParsedReference(
                number=number, line=line, text=text, doi=doi, url="" if doi or pubmed_id else urls[0],
                fallback=parse_reference_line(text), pubmed_id=pubmed_id, numbered=explicit is not None,
            )
        )
    return references, left_out


def _pubmed_id(text, urls, line):
    """The entry's PubMed identifier as add_reference_by_pmid reads it ("PMID 959840", "PMC2614320"), or ""."""
    link = next((url for url in urls if PUBMED_LINK.match(url)), None)
    found = PMID_IN_TEXT.search(text)
    raw = f"PMID: {found.group(1)}" if found else None
    if raw is None and (found := PMCID_IN_TEXT.search(text)):
        raw = found.group(1)
    raw = raw or link
    if raw is None:
        return ""
    try:
        return str(pubmed.parse_pubmed_id(raw))
    except pubmed.InvalidPubMedId as error:
        raise ImportFailed(f"the reference's PubMed identifier cannot be read: {error}", line) from None


def _excerpt(text, length=80):
    return text if len(text) <= length else text[: length - 3] + "..."


# --- Reading a reference line (used when Crossref does not answer) -----------

YEAR_IN_PARENS = re.compile(r"\((?P<year>(?:19|20)\d{2})[a-z]?(?:,[^)]*)?\)|\(n\.\s?d\.\)", re.IGNORECASE)
APA_AUTHOR = re.compile(r"(?P<family>[^,&()]+?),\s*(?P<given>(?:[A-Z][a-z]?\.(?:\s|-)?)+)")
VANCOUVER_AUTHOR = re.compile(r"^(?P<family>[^\W\d][\w'’ -]*?)\s+(?P<given>[A-Z]{1,3})$")
CONTAINER = re.compile(
    r"^(?P<container>.*?)"
    r"(?:,\s*(?P<volume>\d+)\s*(?:\((?P<issue>[^()]+)\))?)?"
    r"(?:,\s*(?P<pages>[A-Za-z]?\d+(?:\s*[-–]\s*[A-Za-z]?\d+)?))?\s*\.?$"
)
VANCOUVER_SOURCE = re.compile(
    r"(?P<year>(?:19|20)\d{2})[^;]{0,200};\s*(?P<volume>\d+)(?:\((?P<issue>[^()]+)\))?(?::\s*(?P<pages>[\w–-]+))?"
)
SENTENCE_BREAK = re.compile(r"(?<=[.?!])\s+(?=\S)")


APA_STOP = re.compile(r"[,&()]")
APA_GIVEN = re.compile(r",\s*(?P<given>(?:[A-Z][a-z]?\.(?:\s|-)?)+)")


def _apa_author_matches(text):
    """(start, end, family, given) of each APA_AUTHOR match, as finditer gives them, in one pass.

    The pattern's lazy family part rescans a long comma-free stretch from each of its
    characters (quadratic); but every start in a stretch reaches the same comma, so only
    the stretch's first start can match.
    """
    matches = []
    position = 0
    while True:
        stop = APA_STOP.search(text, position)
        if stop is None:
            return matches
        comma = stop.start()
        given = APA_GIVEN.match(text, comma) if text[comma] == "," and comma > position else None
        if given:
            matches.append((position, given.end(), text[position:comma], given.group("given")))
            position = given.end()
        else:
            position = comma + 1


def _apa_authors(text):
    text = text.strip().rstrip(",").strip()
    matches = _apa_author_matches(text)
    authors = [{"family": family.strip().lstrip("&").strip(), "given": given.strip()}
               for _start, _end, family, given in matches]
    leftover = "".join(text[a:b] for a, b in zip([0] + [end for _s, end, _f, _g in matches],
                                                  [start for start, _e, _f, _g in matches] + [len(text)]))
    if not authors or re.sub(r"(?:&|\band\b|\bet al\.?|\.\.\.|…|[,.\s])", "", leftover):
        return []
    return authors


def _organisation_author(text):
    """``text`` as a group author ("World Health Organization", "National Institute of Mental Health"), or None."""
    words = text.split()
    if not 1 <= len(words) <= MAX_ORGANISATION_WORDS or not any(w.strip(",") in ORGANISATION_WORDS for w in words):
        return None
    if any(not (word[0].isupper() or word.lower() in NAME_CONNECTORS) for word in words):
        return None  # a sentence-case title that happens to name one ("Association of ketamine use with ...")
    return {"literal": text}


def _vancouver_authors(text):
    authors = []
    for name in re.split(r",\s*", text.strip().rstrip(".")):
        if name.lower() in {"et al", "et al."}:
            continue
        match = VANCOUVER_AUTHOR.match(name.strip())
        if not match:
            return []
        authors.append({"family": match.group("family"), "given": match.group("given")})
    return authors


def _container_fields(text):
    text = text.strip().strip(".").strip()
    match = CONTAINER.match(text)
    if not match or not match.group("container"):
        return {"container_title": text} if text else {}
    fields = {"container_title": match.group("container").strip()}
    for name in ("volume", "issue", "pages"):
        if match.group(name):
            fields[name] = match.group(name).strip()
    return fields


def parse_reference_line(text):
    """Reference fields (authors, year, title, container, volume, issue, pages) read from an APA or Vancouver line."""
    rest = DOI_TEXT.sub(" ", URL.sub(" ", text))
    rest = re.sub(r"\s+", " ", rest).strip().rstrip(".").strip()
    fields = {}
    # Nothing after the last ")" can close a year's parenthesis: searching no further keeps
    # "(2020," repeated from being rescanned to the end from each one.
    year = YEAR_IN_PARENS.search(rest, 0, rest.rfind(")") + 1)
    if year:
        if year.group("year"):
            fields["year"] = int(year.group("year"))
        before = rest[: year.start()].strip().rstrip(".").strip()
        after = rest[year.end():].strip().lstrip(".").strip()
        authors = _apa_authors(before + ".") if before else []
        if not authors and before and (group := _organisation_author(before)):
            authors = [group]
        if authors:
            fields["authors"] = authors
            parts = SENTENCE_BREAK.split(after, maxsplit=1)
            fields["title"] = parts[0].rstrip(".").strip()
            if len(parts) > 1:
                fields.update(_container_fields(parts[1]))
        elif before:
            # APA moves the title into the author's place when there is no author.
            fields["title"] = before
            fields.update(_container_fields(after))
        else:
            fields["title"] = after
    else:
        parts = [part.strip() for part in re.split(r"\.\s+", rest) if part.strip()]
        authors = _vancouver_authors(parts[0]) if len(parts) >= 3 else []
        if authors:
            fields["authors"] = authors
            fields["title"] = parts[1]
            source = " ".join(parts[2:])
            match = VANCOUVER_SOURCE.search(source)
            if match:
                fields["container_title"] = source[: match.start()].strip().rstrip(".").strip()
                fields["year"] = int(match.group("year"))
                for name in ("volume", "issue", "pages"):
                    if match.group(name):
                        fields[name] = match.group(name)
            else:
                fields["container_title"] = source
        else:
            fields["title"] = rest
            found = YEAR.search(rest)
            if found:
                fields["year"] = int(found.group())
    return {key: value for key, value in fields.items() if value not in ("", None, [])}


# --- The whole document ------------------------------------------------------


def _claims_of(line, max_claims, author_year=False):
    try:
        return parse_paragraph(line.text, max_claims=max_claims, author_year=author_year)
    except MarkerError as error:
        raise ImportFailed(f"a citation marker cannot be read: {error}", line.number) from None
    except TooManyClaims:
        limit = settings.IMPORT_MAX_CLAIMS
        raise ImportFailed(
            f"the file makes more than {limit:,} claims, the most one import may make (the setting "
            "IMPORT_MAX_CLAIMS); split it into several articles", line.number,
        ) from None
    except TextTooLong as error:
        raise ImportFailed(str(error), line.number) from None


# --- APA author-year citations, matched to an unnumbered reference list -----

REFERENCE_YEAR = re.compile(r"\(((?:19|20)\d{2}[a-z]?|n\.\s?d\.(?:-[a-z])?)[,)]", re.IGNORECASE)


def _name_key(name):
    """ "Fichtenberg & Glantz" and "Fichtenberg and Glantz" alike: lower case, "and", no punctuation."""
    name = name.replace("&", " and ").replace(",", " ").replace(".", " ").replace("’", "'").lower()
    return " ".join(name.split())


def _author_year_index(references):
    """(number, year with suffix, the name keys APA cites the entry by) for each entry."""
    index = []
    for reference in references:
        year = REFERENCE_YEAR.search(reference.text)
        authors = reference.fallback.get("authors", [])
        keys = set()
        if authors and "literal" in authors[0]:
            keys.add(_name_key(authors[0]["literal"]))
        elif authors:
            families = [_name_key(author["family"]) for author in authors]
            if len(families) == 1:
                keys.add(families[0])
            elif len(families) == 2:
                keys.add(f"{families[0]} and {families[1]}")
            else:
                keys.add(f"{families[0]} et al")
                keys.add(f"{' '.join(families[:-1])} and {families[-1]}")
        if year and keys:
            index.append((reference.number, year.group(1).replace(" ", "").lower(), keys))
    return index


def _cite_author_years(claim, index, line):
    """The claim with its APA citations turned into the numbers of the entries they name."""
    numbers = list(claim.numbers)
    for cite in claim.author_years:
        year = cite.year.replace(" ", "").lower()
        found = []
        for name in cite.names:  # longest reading first: "As Smith et al." before "Smith et al."
            key = _name_key(name)
            found = [number for number, entry_year, keys in index if entry_year == year and key in keys]
            if found:
                break
        if not found:
            raise ImportFailed(
                f"the citation {cite.text} matches no entry in the reference list (an entry by "
                f"{cite.names[-1]} dated ({cite.year})); check the spelling and the year, or add the entry",
                line,
            )
        if len(found) > 1:
            raise ImportFailed(
                f"the citation {cite.text} matches {len(found)} entries of the reference list (entries "
                f"{', '.join(str(n) for n in found)}); give their years letters, ({cite.year[:4]}a), "
                f"({cite.year[:4]}b), in the list and in the text",
                line,
            )
        if found[0] not in numbers:
            numbers.append(found[0])
    return ParsedClaim(text=claim.text, numbers=tuple(numbers), dois=claim.dois, author_years=claim.author_years)


def _unwrap(lines):
    """Lines hard-wrapped inside a paragraph or a list entry, joined back, each numbered as its first line."""
    blocks = []
    for line in lines:
        if blocks and line.number == blocks[-1][-1].number + 1:
            blocks[-1].append(line)
        else:
            blocks.append([line])
    if len(blocks) == 1:
        # No blank lines: one paragraph per line, as Psychly's own files are written; the title is the first.
        return lines[:1] + _join(
            lines[1:], lambda units, line: line.text[0].islower() and MID_SENTENCE_END.search(units[-1].tail)
        )
    title = " ".join(line.text for line in blocks[0])
    if len(blocks[0]) > 1 and not title.endswith(".") and len(title.split()) <= MAX_TITLE_WORDS:
        # A long title wrapped onto a block of its own.
        blocks[0] = [Line(blocks[0][0].number, title)]
    return [unit for block in blocks for unit in _join(block, _continues_in_block(block))]


class _Unit:
    """Lines being joined into one: the pieces are kept and joined once, so a paragraph
    hard-wrapped over thousands of lines costs its length, not its length squared."""

    def __init__(self, line):
        self.number = line.number
        self.pieces = [line.text]
        self.tail = line.text  # the last line: what the joining rules look at

    @property
    def text(self):
        return "".join(self.pieces)

    def add(self, space, text):
        self.pieces += [space, text]
        self.tail = text

    def heading_text(self):
        # A joined unit of three or more lines cannot be a heading: the first two
        # would have been one, and a heading takes nothing after it.
        return self.text if len(self.pieces) <= 3 else ""


def _join(lines, continues):
    units = []
    for line in lines:
        previous = units[-1] if units else None
        if previous is not None and not _starts_unit(previous, line) and continues(units, line):
            # A compound broken at its hyphen ("high-" / "quality") is rejoined without a space.
            space = "" if HYPHEN_BREAK.search(previous.tail[-2:]) and line.text[0].isalpha() else " "
            previous.add(space, line.text)
        else:
            units.append(_Unit(line))
    return [Line(unit.number, unit.text) for unit in units]


def _starts_unit(previous, line):
    """Whether ``line`` begins something new whatever the layout.

    A Markdown heading, a list item or a reference-list heading never continues
    anything, nor does what follows a heading; a line ending in a link or DOI
    ends its entry (unnumbered references, one per line).
    """
    return (
        any(_is_heading_marker(text) for text in (previous.heading_text(), line.text))
        or bool(LIST_ITEM.match(line.text) and not WRAPPED_MARKER.match(line.text))
        or _has_link(previous.tail.rsplit(None, 1)[-1])
    )


def _is_heading_marker(text):
    return bool(text) and (_markdown_heading(text) is not None or bool(REFERENCES_HEADING.match(text)))


def _continues_in_block(block):
    if _is_heading_like(" ".join(line.text for line in block)):
        return lambda units, line: True  # a long heading wrapped onto a block of its own
    width = max(len(line.text) for line in block)

    def is_heading(line, before):
        return (
            _is_heading_like(line.text) and line is not block[-1]
            and len(line.text) < HEADING_SHARE_OF_WIDTH * width
            and (before is None or not MID_SENTENCE_END.search(before.text))
        )

    headings = {
        line.number for index, line in enumerate(block) if is_heading(line, block[index - 1] if index else None)
    }

    def continues(units, line):
        # A heading stands alone: it neither joins the line before nor takes the line after.
        return line.number not in headings and units[-1].number not in headings

    return continues


def _peel_tail(body):
    """Remove the sign-off and the publisher's promise from the end of the body."""
    left_out = []
    while body:
        text = body[-1].text
        # Only the last line can be a sign-off; the promise may come before it.
        if (not left_out and _is_sign_off(text)) or _is_valediction(text) or _is_team_signature(text):
            reason = "sign-off"
        elif PROMISE.match(text) and not ANY_MARKER.search(text):
            reason = "publisher's statement (the site prints its own)"
        elif _boilerplate_reason(text):
            reason = _boilerplate_reason(text)
        else:
            break
        line = body.pop()
        left_out.append({"line": line.number, "text": line.text, "reason": reason})
    return left_out[::-1]


def _footnote_definitions(text):
    """The file's lines without its Markdown footnote definitions, and the definitions as
    reference-list lines ("[^8]: Author..." and its indented continuation lines -> "[8] Author...")."""
    lines, definitions = [], []
    current = None
    for number, raw in enumerate(text.split("\n"), start=1):
        stripped = raw.strip()
        match = FOOTNOTE_DEFINITION.fullmatch(stripped) if stripped.startswith("[^") else None
        if match:
            current = [number, match.group("label"), [match.group("body")]]
            definitions.append(current)
            continue
        if current is not None and stripped and raw[:1] in " \t":
            current[2].append(stripped)  # a continuation line, indented (blank lines may come between)
            continue
        if stripped:
            current = None
        lines.append(Line(number, stripped))
    if not definitions:
        return lines, [], {}
    labels = [label for _number, label, _parts in definitions]
    # Numeric labels keep their numbers; otherwise ("[^smith2019]") the definitions are numbered in order.
    if all(label.isdigit() for label in labels):
        numbering = {label: int(label) for label in labels}
    else:
        numbering = {label: position for position, label in enumerate(labels, start=1)}
    # Emphasis ("*BMJ*") is Markdown's, not part of the journal's name.
    entries = [Line(number, f"[{numbering[label]}] {' '.join(part for part in parts if part).replace('*', '')}")
               for number, label, parts in definitions]
    return lines, entries, numbering


def _renumber_footnotes(line, numbering):
    if "[^" not in line.text or all(label.isdigit() and int(label) == n for label, n in numbering.items()):
        return line
    text = FOOTNOTE_REFERENCE.sub(
        lambda match: f"[^{numbering[match.group(1)]}]" if match.group(1) in numbering else match.group(), line.text
    )
    return Line(line.number, text)


def _inline_markup(text):
    """Prose without Markdown's inline markup: the words a reader sees."""
    if "*" in text or "_" in text:
        text = EMPHASIS.sub(r"\1", STRONG.sub(r"\2", text))
    if "](" in text:
        text = INLINE_LINK.sub(r"\1", text)
    return text


def _front_matter(lines):
    """The lines without a leading front matter block; its ``title:`` becomes the first line."""
    first = next((index for index, line in enumerate(lines) if line.text), None)
    if first is None or lines[first].text != "---":
        return lines
    for index in range(first + 1, min(len(lines), first + MAX_FRONT_MATTER_LINES)):
        if lines[index].text == "---":
            block = lines[first + 1:index]
            titles = [FRONT_MATTER_TITLE.fullmatch(line.text) for line in block]
            title = next((Line(line.number, match.group("title").strip().strip("\"'"))
                          for line, match in zip(block, titles) if match), None)
            return ([title] if title else []) + lines[index + 1:]
    return lines


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
        if markdown is not None or (
            _is_heading_like(line.text) and following is not None and not _is_heading_like(following.text)
        ):
            heading = (line.text if markdown is None else markdown)[:300]
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


# --- Saving ------------------------------------------------------------------


@dataclass
class ImportReport:
    """What an import made (or, in a dry run, would make); ``as_dict()`` is the --json output."""

    article: Article
    dry_run: bool
    replaced: bool
    sections: list[dict]
    references: list[dict]
    left_out: list[dict]
    blockers: list
    warnings: list[str]
    topics: list[str] = field(default_factory=list)
    authors: list[str] = field(default_factory=list)

    @property
    def claims(self):
        return [dict(claim, section=section["heading"]) for section in self.sections for claim in section["claims"]]

    @property
    def unsupported_claims(self):
        return [claim for claim in self.claims if not claim["context"] and not claim["sources"]]

    @property
    def context_claims(self):
        return [claim for claim in self.claims if claim["context"]]

    def as_dict(self):
        def short(claim):
            return {"section": claim["section"], "claim": claim["number"], "line": claim["line"],
                    "text": claim["text"]}

        return {
            "dry_run": self.dry_run,
            "replaced": self.replaced,
            "article": {
                "id": None if self.dry_run else self.article.pk,
                "title": self.article.title,
                "slug": self.article.slug,
                "status": self.article.status,
                "summary": self.article.summary,
                "topics": self.topics,
                "authors": self.authors,
            },
            "sections": self.sections,
            "unsupported_claims": [short(claim) for claim in self.unsupported_claims],
            "context": [short(claim) for claim in self.context_claims],
            "left_out": self.left_out,
            "references": self.references,
            "blockers": [
                {"code": b.code, "message": b.message, "section": b.section_heading, "claim": b.claim_number,
                 "excerpt": b.excerpt}
                for b in self.blockers
            ],
            "warnings": self.warnings,
        }

    def as_json(self):
        return json.dumps(self.as_dict(), indent=2, ensure_ascii=False)

    def as_text(self):
        """The report as an editor reads it in a terminal."""
        out = []
        verb = "Would import" if self.dry_run else ("Replaced the draft" if self.replaced else "Imported")
        out.append(f'{verb} "{self.article.title}" (slug {self.article.slug}, {self.article.status})'
                   + (" - dry run, nothing saved" if self.dry_run else ""))
        if self.article.summary:
            out.append(f"Summary: {self.article.summary}")
        for section in self.sections:
            out.append("")
            out.append(f"## {section['heading']}")
            for claim in section["claims"]:
                if claim["context"]:
                    tag = "context"
                elif claim["sources"]:
                    tag = ", ".join(source["doi"] or source["url"] for source in claim["sources"])
                else:
                    tag = "NO SOURCE"
                out.append(f"  {claim['number']}. {claim['text']}  [{tag}]")
        out.append("")
        out.append(f"Claims without a source ({len(self.unsupported_claims)}):")
        for claim in self.unsupported_claims:
            out.append(f"  line {claim['line']}, {claim['section']} #{claim['number']}: {claim['text']}")
        if self.context_claims:
            out.append(f"Context statements, no source needed ({len(self.context_claims)}):")
            for claim in self.context_claims:
                out.append(f"  line {claim['line']}, {claim['section']} #{claim['number']}: {claim['text']}")
        if self.left_out:
            out.append("Left out:")
            for item in self.left_out:
                out.append(f"  line {item['line']} ({item['reason']}): {item['text']}")
        out.append("")
        out.append(f"References ({len(self.references)}):")
        for ref in self.references:
            check = ", NEEDS CHECK" if ref["needs_check"] else ""
            out.append(
                f"  [{ref['number']}] {ref['doi'] or ref['url']} - {ref['status']}, metadata from "
                f"{ref['metadata']}{check}, peer review: {ref['peer_review']}, cited by {ref['cited_by']} claim(s)"
            )
            if ref["title"]:
                out.append(f"      {ref['title']}")
        out.append("")
        if self.blockers:
            out.append(f"The publish gate refuses it ({len(self.blockers)} blocker(s)):")
            out.extend(f"  - {blocker}" for blocker in self.blockers)
        else:
            out.append("The publish gate has no blockers.")
        if self.warnings:
            out.append("Warnings:")
            out.extend(f"  - {warning}" for warning in self.warnings)
        return "\n".join(out)


def _save_pubmed_reference(parsed, *, fetch, by, warnings):
    try:
        # A savepoint: a record PubMed half-answered leaves nothing behind when we fall back.
        with transaction.atomic():
            return add_reference_by_pmid(parsed.pubmed_id, by=by, fetch=fetch)
    except pubmed.RecordNotFound as error:
        raise ImportFailed(f"PubMed has no record for {parsed.pubmed_id}: {error}", parsed.line) from error
    except pubmed.PubMedError as error:
        reference, created = add_reference_by_pmid(parsed.pubmed_id, by=by, fetch=False)
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


def _link(reference):
    """Where the reference can be read: its URL, else its PubMed page (a reference known by PMID alone)."""
    if reference.url or not reference.pmid:
        return reference.url
    return pubmed.pubmed_url(reference.pmid)


def _reference_row(parsed, reference, created, cited_by):
    return {
        "number": parsed.number if parsed else None,
        "line": parsed.line if parsed else None,
        "doi": reference.doi,
        "url": _link(reference),
        "title": reference.title,
        "status": "added" if created else "already present",
        "metadata": reference.metadata_source,
        "needs_check": reference.needs_check,
        "peer_review": reference.effective_peer_review_status,
        "retraction": reference.retraction_status,
        "cited_by": cited_by,
    }


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
    extra = []  # references cited only by [doi:...] markers
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
