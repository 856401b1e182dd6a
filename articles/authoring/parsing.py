"""Split editors' prose into claims and read their citation markers.

Shared by the admin's paste box and the importer. A marker is ``[1]``,
``[1, 3]``, ``[2-4]``, ``[2–4]``, ``[6]–[11]`` (a range across two brackets),
``[^8]`` (a Markdown footnote) or superscript digits after a word or closing
punctuation (``sleep.¹⁻³``, ``risk¹˒⁴``): numbers in the article's reference
list; or ``[doi:10.1000/xyz]`` / Pandoc's ``[@doi:10.1000/xyz]`` (a DOI, in any
form references.doi accepts); or Pandoc's and Manubot's ``[@pmid:959840]`` (a
PubMed record); or a link in brackets: ``[https://doi.org/10.1000/xyz]`` or a publisher's
URL with a DOI in it (a DOI), ``[https://pubmed.ncbi.nlm.nih.gov/959840/]`` (a PMID),
``[https://www.ncbi.nlm.nih.gov/pmc/articles/PMC123456/]`` (a PMCID), any other web
page (a URL citation).
"""

import re
from dataclasses import dataclass, field
from functools import lru_cache

import pysbd
from django.conf import settings
from pysbd.lang.english import English

from references import pubmed
from references.doi import InvalidDOI, find_doi


class MarkerError(ValueError):
    """A bracketed marker that cannot be read as citations."""


class TextTooLong(ValueError):
    """Text over one of the parsing limits; the message names the limit and its setting."""


class TooManyClaims(TextTooLong):
    """More claims than the caller allows (``limit``); the caller names its own setting."""

    def __init__(self, limit):
        super().__init__(f"the text makes more than {limit:,} claims")
        self.limit = limit


@dataclass(frozen=True)
class AuthorYear:
    """An APA citation: "(Fichtenberg & Glantz, 2002)" or narrative "Smith et al. (2019)".

    ``names`` are the ways the author part may be read, longest first (a narrative citation
    cannot tell where the name starts: "As Smith et al." or "Smith et al."); ``year`` keeps its
    suffix ("2015a"), or is "n.d.".
    """

    names: tuple[str, ...]
    year: str
    text: str
    # A narrative citation's "(2019)" stays in the sentence until it is matched to an entry
    # (articles.importing.citations): "the UK (2019)" that names no entry is prose, not an error.
    narrative: bool = False
    written: str = ""


@dataclass(frozen=True)
class ParsedClaim:
    text: str
    numbers: tuple[int, ...] = ()
    dois: tuple[str, ...] = ()
    author_years: tuple[AuthorYear, ...] = ()
    pmids: tuple[str, ...] = ()
    pmcids: tuple[str, ...] = ()
    urls: tuple[str, ...] = ()

    @property
    def has_markers(self):
        return bool(self.numbers or self.dois or self.author_years or self.pmids or self.pmcids or self.urls)


@dataclass
class _Markers:
    numbers: list[int] = field(default_factory=list)
    dois: list[str] = field(default_factory=list)
    author_years: list[AuthorYear] = field(default_factory=list)
    pmids: list[str] = field(default_factory=list)
    pmcids: list[str] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)


# --- APA author-year citations ------------------------------------------------
# A parenthesis holds no other parenthesis, and the bound keeps each one's scan short: every
# "(" is read up to the next bracket only, so the text is read once.
PARENTHESIS = re.compile(r"(?<!\s)\s*+\(([^()]{1,400}+)\)")
CITATION_YEAR = re.compile(r"(?:(?:19|20)\d{2}[a-z]?+|n\.\s?d\.(?:-[a-z])?+)")
CITATION_PAGE = re.compile(r"(?:pp?|paras?|chap|ch)\.\s*+\S", re.IGNORECASE)
CITATION_LEAD = re.compile(r"^(?:e\.g\.,?|i\.e\.,?|see also|see|cf\.|for example,|for a review, see)\s++",
                           re.IGNORECASE)
MAX_NAME_WORDS = 12
NARRATIVE_LOOKBACK = 200  # characters before "(2019)" searched for the name it follows
# Words a name is written with besides capitalised ones: "Food and Drug Administration", "Smith et al.".
NAME_JOINERS = {"and", "&", "et", "al.", "al", "of", "for", "the", "on", "in", "de", "van", "von", "der", "du", "la"}


def _is_name(text):
    words = text.split()
    return (
        0 < len(words) <= MAX_NAME_WORDS and text[0].isupper() and not any(ch.isdigit() for ch in text)
        and all(word[0].isupper() or word.lower() in NAME_JOINERS for word in words)
    )


def _parenthetical_citations(body):
    """The AuthorYears of "(A & B, 2002; C et al., 2001a, 2001b)", or None if it is not a citation."""
    found = []
    names = None
    for part in body.split(";"):
        part = CITATION_LEAD.sub("", part.strip())
        tokens = [token.strip() for token in part.split(",")]
        while tokens and CITATION_PAGE.match(tokens[-1]):
            tokens.pop()  # "p. 4": a page, not a year
        years = []
        while tokens and CITATION_YEAR.fullmatch(tokens[-1]):
            years.insert(0, tokens.pop())
        author = ", ".join(tokens).strip()
        if not years:
            return None
        if author:
            if not _is_name(author):
                return None
            names = (author,)
        elif names is None:
            return None  # "(2019)" alone is a narrative citation's year, read with the name before it
        found.extend(AuthorYear(names=names, year=year, text=f"({body})") for year in years)
    return found


def _narrative_names(before):
    """Ways to read the name that ends ``before`` ("... as Smith and Jones"), longest first."""
    words = before.split()[-MAX_NAME_WORDS:]
    taken = []
    for word in reversed(words):
        if not (word[0].isupper() or word.lower() in NAME_JOINERS) or any(ch.isdigit() for ch in word):
            break
        taken.insert(0, word.rstrip(","))
        if word.endswith(",") and len(taken) > 1:
            break
    names = [" ".join(taken[start:]) for start in range(len(taken))]
    return tuple(name for name in names if name and name.split()[0][0].isupper() and _is_name(name))


def _take_author_years(text, markers):
    """``text`` without its parenthetical author-year citations; every citation is added to ``markers``.

    A narrative citation's year stays in the text (see ``AuthorYear.written``).
    """
    out, position = [], 0
    for match in PARENTHESIS.finditer(text):
        body = match.group(1).strip()
        if not CITATION_YEAR.search(body):
            continue
        years = [token.strip() for token in body.replace(";", ",").split(",")]
        if all(CITATION_YEAR.fullmatch(year) for year in years):
            # Only years: a narrative citation, "Smith (2019)"; the name stays in the sentence.
            names = _narrative_names(text[max(position, match.start() - NARRATIVE_LOOKBACK):match.start()])
            if not names:
                continue
            cites = [
                AuthorYear(names=names, year=year, text=f"{names[0]} ({body})", narrative=True,
                           written=match.group(0))
                for year in years
            ]
            markers.author_years.extend(cites)
            continue
        cites = _parenthetical_citations(body)
        if cites is None:
            continue
        markers.author_years.extend(cites)
        out.append(text[position:match.start()])
        position = match.end()
    out.append(text[position:])
    return "".join(out)


# Every pattern here runs in time linear in the sentence: a leading whitespace run is only
# tried from its first character ((?<!\s)), quantifiers that cannot give anything back
# useful are possessive, and a DOI stops at the next bracket of either kind, so "[doi:"
# repeated does not rescan the rest of the text from every bracket.
# [1], [1, 3], [2-4], [2–4], [1,3-5]: digits, commas, ranges with - – —.
NUMBER_MARKER = re.compile(
    r"(?<!\s)\s*+\[(\d++(?:\s*+[-–—]\s*+\d++)?+(?:\s*+[,;]\s*+\d++(?:\s*+[-–—]\s*+\d++)?+)*+)\]"
)
# "[6]–[11]", "[19]-[22]" (PLOS and many journals): one range written across two brackets.
SPLIT_RANGE = re.compile(r"\[(\d++)\]\s*+([-–—])\s*+\[(\d++)\]")
# "[4],[5]" (PLOS's list of two): one marker, so the comma between them is not left in the text.
# Only whole number markers are joined; anything else is left for MALFORMED_MARKER to name.
_NUMBER_BODY = r"\d++(?:\s*+[-–—,;]\s*+\d++)*+"
ADJACENT_MARKERS = re.compile(rf"\[{_NUMBER_BODY}\](?:\s*+,\s*+\[{_NUMBER_BODY}\])++")
# [^8]: a Markdown footnote reference; a numeric label cites that number in the list.
FOOTNOTE_MARKER = re.compile(r"\[\^(\d++)\]")
# Superscript digits copied from a web page ("anxiety¹²", "sleep.¹⁻³", "risk,¹˒⁴"): a run of
# digits is one number (¹² is 12, as <sup>12</sup> was), joined by commas or dashes. Only
# after a letter or closing punctuation: after a digit (10⁶) or a unit (m², cm³) it is a
# power, and followed by "=" or another operator (R² = .4, χ²) it is statistics.
SUPERSCRIPT_DIGITS = "⁰¹²³⁴⁵⁶⁷⁸⁹"
SUPERSCRIPT_TO_DIGIT = str.maketrans(SUPERSCRIPT_DIGITS + "⁻˒", "0123456789-,")
SUPERSCRIPT_MARKER = re.compile(
    rf"(?<=[^\W\d_]|[.,;:!?)\]\"'’”])[{SUPERSCRIPT_DIGITS}]++(?:\s*+[,˒⁻–\-]\s*+[{SUPERSCRIPT_DIGITS}]++)*+"
    rf"(?!\s*+[=<>±×+*/^{SUPERSCRIPT_DIGITS}\d])"
)
POWER_UNITS = re.compile(r"(?:\b|\d)(?:[a-zA-Zμµ]|cm|mm|km|dm|ft|in|kg|nm|um|μm|µm)$")
SUPERSCRIPT_LOOKBACK = 3
# [doi:10.1000/xyz]; the DOI runs to the closing bracket.
# Pandoc and Manubot write the same citation "[@doi:10.1000/xyz]".
DOI_MARKER = re.compile(r"(?<!\s)\s*+\[\s*+@?doi:\s*+([^\[\]\s]++)\s*+\]", re.IGNORECASE)
# [@pmid:959840] (Pandoc and Manubot), or [pmid:959840]: a PubMed record, by its PMID.
PMID_MARKER = re.compile(r"(?<!\s)\s*+\[\s*+@?pmid:\s*+(\d{1,9}+)\s*+\]", re.IGNORECASE)
# A link in brackets, "[https://doi.org/10.1000/xyz]" or "[doi.org/10.1000/xyz]": a citation,
# not an aside, so it is read as one rather than left in the sentence.
URL_MARKER = re.compile(
    r"(?<!\s)\s*+\[\s*+((?:https?://|(?:dx\.)?doi\.org/|www\.)[^\[\]\s]++)\s*+\]", re.IGNORECASE
)
# An opening bracket of a DOI, PMID or link marker with no "]" before the next bracket or the
# end of the sentence: the citation would otherwise be kept silently as words.
UNCLOSED_MARKER = re.compile(
    r"\[\s*+(?:@?(?:doi|pmid|pmcid):|https?://|(?:dx\.)?doi\.org/)"
    r"[^\[\]]*+(?=\[|$)",
    re.IGNORECASE,
)
# What is left that still looks like a citation ("[1,]", "[3-]", "[2 and 4]", "[doi:]")
# is a typo, and silently keeping it as text would drop the citation. A decade in
# brackets ("[1960s]", an editor's insertion in a quotation) is text.
MALFORMED_MARKER = re.compile(r"\[\s*(?!\d{1,3}0s\])(?:\d[^\]]*|@?doi:[^\]]*|@?pmid:[^\]]*|\^[^\]]*)\]", re.IGNORECASE)
MAX_RANGE = 200


def expand_numbers(body):
    """'1, 3-5' -> [1, 3, 4, 5], refusing backwards or absurd ranges."""
    numbers = []
    for part in re.split(r"\s*[,;]\s*", body.strip()):
        bounds = re.split(r"\s*[-–—]\s*", part)
        if len(bounds) == 1:
            numbers.append(int(bounds[0]))
            continue
        start, end = int(bounds[0]), int(bounds[1])
        if end < start:
            raise MarkerError(f"the range [{part}] runs backwards")
        if end - start > MAX_RANGE:
            raise MarkerError(f"the range [{part}] is too long")
        numbers.extend(range(start, end + 1))
    if 0 in numbers:
        raise MarkerError("reference numbers start at 1, not 0")
    return numbers


GAP_BEFORE_PUNCTUATION = re.compile(r"(?<!\s)\s++([.,;:!?])")


def _superscript_marker(match):
    before = match.string[max(0, match.start() - SUPERSCRIPT_LOOKBACK):match.start()]
    if POWER_UNITS.search(before):
        return match.group()  # m², cm³, x²: a power, not a citation
    return "[" + match.group().translate(SUPERSCRIPT_TO_DIGIT) + "]"


def normalise_markers(text):
    """Every form of numbered marker written as the bracketed one: "[6]–[11]" -> "[6–11]",
    "[4],[5]" -> "[4,5]", "[^8]" -> "[8]", "sleep.¹⁻³" -> "sleep.[1-3]". Text without markers comes back unchanged."""
    text = SPLIT_RANGE.sub(r"[\1\2\3]", text)
    text = FOOTNOTE_MARKER.sub(lambda match: f"[{match.group(1)}]", text)
    if any(digit in text for digit in SUPERSCRIPT_DIGITS):
        text = SUPERSCRIPT_MARKER.sub(_superscript_marker, text)
    if "]," in text or "] ," in text:
        text = ADJACENT_MARKERS.sub(_join_adjacent, text)
    return text


def _join_adjacent(match):
    return "[" + ",".join(re.findall(r"\[([^\]]*+)\]", match.group())) + "]"


def close_gaps(text):
    """Text with a removed marker's leftover spaces closed: "word ." -> "word.", runs of spaces -> one."""
    return re.sub(r"\s{2,}", " ", GAP_BEFORE_PUNCTUATION.sub(r"\1", text)).strip()


def _read_url_marker(url, markers):
    """Add the citation a bracketed link makes to ``markers``: a DOI, PMID, PMCID or the URL itself."""
    url = url.rstrip(".,;")
    try:
        pubmed_id = pubmed.pubmed_id_from_link(url)
    except pubmed.InvalidPubMedId as error:
        raise MarkerError(f"[{url}] is not a citation marker: {error}") from None
    if pubmed_id is not None:
        found = markers.pmids if pubmed_id.kind == "pmid" else markers.pmcids
        if pubmed_id.value not in found:
            found.append(pubmed_id.value)
        return
    try:
        doi = find_doi(url)
    except InvalidDOI as error:
        raise MarkerError(f"[{url}] is not a citation marker: {error}") from None
    if doi:
        if doi not in markers.dois:
            markers.dois.append(doi)
        return
    if re.match(r"^(?:https?://)?(?:dx\.|www\.)?doi\.org/", url, re.IGNORECASE):
        raise MarkerError(f"[{url}] is not a citation marker: the doi.org link holds no DOI (10.xxxx/...)")
    url = url if re.match(r"^https?://", url, re.IGNORECASE) else f"https://{url}"
    if url not in markers.urls:
        markers.urls.append(url)


def extract_markers(sentence, *, author_year=False):
    """Return the sentence without its markers, and the markers it carried.

    With ``author_year``, APA citations ("(Smith & Lee, 2019)", "Smith (2019)") are markers too;
    the caller matches them to its reference list. Without it they stay in the text.
    """
    markers = _Markers()
    seen_numbers, seen_dois = set(), set()

    def take_numbers(match):
        for number in expand_numbers(match.group(1)):
            if number not in seen_numbers:
                seen_numbers.add(number)
                markers.numbers.append(number)
        return ""

    def take_doi(match):
        doi = match.group(1).rstrip(".,;")
        if doi not in seen_dois:
            seen_dois.add(doi)
            markers.dois.append(doi)
        return ""

    def take_pmid(match):
        pmid = str(int(match.group(1)))
        if pmid not in markers.pmids:
            markers.pmids.append(pmid)
        return ""

    def take_url(match):
        _read_url_marker(match.group(1), markers)
        return ""

    text = DOI_MARKER.sub(take_doi, normalise_markers(sentence))
    if "[" in text and ("/" in text or "www." in text.lower()):
        text = URL_MARKER.sub(take_url, text)
    if "pmid" in text.lower():
        text = PMID_MARKER.sub(take_pmid, text)
    text = NUMBER_MARKER.sub(take_numbers, text)
    if author_year and "(" in text:
        text = _take_author_years(text, markers)
    unclosed = UNCLOSED_MARKER.search(text) if "[" in text else None
    if unclosed:
        shown = unclosed.group().strip().rstrip(".,;")
        shown = shown if len(shown) <= 80 else f"{shown[:60]}… ({len(shown):,} characters)"
        where = sentence if len(sentence) <= 80 else f"{sentence[:79]}…"
        raise MarkerError(f"{shown} in “{where}” is an unclosed citation marker: end it with “]”")
    # Only a bracket before the last "]" can open a malformed marker; searching no further
    # keeps an unclosed "[1" repeated from being rescanned to the end from each bracket.
    malformed = MALFORMED_MARKER.search(text, 0, text.rfind("]") + 1)
    if malformed:
        shown = malformed.group()
        shown = shown if len(shown) <= 80 else f"{shown[:60]}…] ({len(shown):,} characters)"
        raise MarkerError(
            f"{shown} is not a citation marker: write [1], [1, 3], [2-4] or [doi:10.xxxx/...]"
        )
    # A marker before the full stop leaves "word ." behind; close the gap.
    return close_gaps(text), markers


class _ScientificEnglish(English):
    """pysbd's English with the abbreviations of health writing, so "approx. 20 min" does not end a sentence."""

    class Abbreviation(English.Abbreviation):
        # pysbd keeps a full stop after one of these when a lower-case word, a digit or "(" follows.
        ABBREVIATIONS = [
            *English.Abbreviation.ABBREVIATIONS,
            "approx", "ca", "cf", "resp", "incl", "excl", "max", "wk", "wks", "yr", "yrs", "mo", "mos",
            "hrs", "mins", "sec", "secs", "wt", "ht", "vol", "vols", "suppl", "eq", "eqs", "tab", "chap",
            "ed", "eds", "sd", "se", "ci", "iqr", "mg", "mcg", "µg", "μg", "ml", "kg", "cm", "mmol",
            "h", "n.b", "fig", "figs", "no", "nos", "al",
        ]
        # These also hold before a capital ("cf. Smith", "approx. One in five", "Figs. 2").
        PREPOSITIVE_ABBREVIATIONS = [
            *English.Abbreviation.PREPOSITIVE_ABBREVIATIONS, "cf", "approx", "ca", "incl", "excl", "figs", "eq",
            "eqs", "tab", "suppl", "vol", "chap",
        ]
        NUMBER_ABBREVIATIONS = English.Abbreviation.NUMBER_ABBREVIATIONS


@lru_cache(maxsize=1)
def _segmenter():
    segmenter = pysbd.Segmenter(language="en", clean=False)
    # Segmenter takes only a language code, and reads abbreviations from the class the code
    # names; giving it a subclass extends them without changing pysbd's English for anyone else.
    segmenter.language_module = _ScientificEnglish
    return segmenter


# pysbd reads a paragraph in windows of this many characters. Its time grows with the
# square of what it is given (each sentence is searched for from the start of the text,
# and each abbreviation rewrites the whole text), so a long paragraph is read a window
# at a time: the sentences that end well before the window's end (CHUNK_MARGIN) are
# kept, and the next window starts where the first sentence not kept starts. pysbd
# decides a boundary from the few words around it, so the sentences are the ones it
# finds in the whole paragraph.
CHUNK_CHARS = 2000
CHUNK_MARGIN = 200
# How far past the end of one sentence the next may start (the whitespace between them).
SPAN_SLACK = 200


def _max_sentence_chars():
    return getattr(settings, "PARSE_MAX_SENTENCE_CHARS", 5000)


def _segments(text):
    """pysbd's sentences of ``text`` as (start, end) offsets, ends before trailing whitespace."""
    spans = []
    position = 0
    for sentence in _segmenter().processor(text).process():
        sentence = sentence.strip()
        if not sentence:
            continue
        # Each sentence is looked for just after the last one, not from the start of the
        # text as pysbd's own sentences_with_char_spans does (that is quadratic). One that
        # pysbd rewrote (a list it renumbered) is not in the text; pysbd drops it as well.
        start = text.find(sentence, position, position + len(sentence) + SPAN_SLACK)
        if start < 0:
            continue
        position = start + len(sentence)
        spans.append((start, position))
    return spans


def _sentence_spans(paragraph, max_sentences=None):
    spans = []
    start, length = 0, len(paragraph)
    window = CHUNK_CHARS
    while start < length:
        if length - start <= window:
            spans.extend((start + a, start + b) for a, b in _segments(paragraph[start:]))
            break
        end = paragraph.rfind(" ", start + 1, start + window)
        end = start + window if end < 0 else end
        pieces = _segments(paragraph[start:end])
        keep_before = end - start - CHUNK_MARGIN
        restart = max((a for a, _b in pieces[1:] if a <= keep_before), default=None)
        if restart is None:
            limit = _max_sentence_chars()
            if window < limit + CHUNK_MARGIN:
                window = limit + CHUNK_MARGIN
                continue
            raise TextTooLong(
                f"the sentence starting “{paragraph[start:start + 60]}…” runs on for more than {limit:,} "
                "characters without ending; break it into sentences (the limit is the setting "
                "PARSE_MAX_SENTENCE_CHARS)"
            )
        spans.extend((start + a, start + b) for a, b in pieces if a < restart)
        if max_sentences is not None and len(spans) > max_sentences:
            # pysbd's cost is per sentence as much as per character: stop reading at the limit.
            raise TooManyClaims(max_sentences)
        start += restart
        window = CHUNK_CHARS
    return spans


# Text with none of these before its last character has no boundary pysbd could find (no
# sentence punctuation, no brackets or quotes it reads as their own segment, no list item),
# so it is one sentence without asking pysbd, whose fixed cost per call (about a
# millisecond) would otherwise dominate an article written one short claim a line.
NO_BOUNDARY = re.compile(r"[^.!?()'\"\x80-\U0010FFFF]*+")


def split_sentences(paragraph, *, max_sentences=None):
    """Sentences of a paragraph; abbreviations (e.g., et al., vs.) and initials do not end one.

    Raises TextTooLong for a sentence over PARSE_MAX_SENTENCE_CHARS, and TooManyClaims once
    the paragraph has more than ``max_sentences`` sentences.
    """
    # Markers are put in their bracketed form first, so a superscript after a full stop
    # ("sleep.¹ Next") is read where "sleep.[1] Next" is: as ending the sentence before.
    paragraph = normalise_markers(re.sub(r"\s+", " ", paragraph).strip())
    if not paragraph:
        return []
    if len(paragraph) <= CHUNK_CHARS and NO_BOUNDARY.fullmatch(paragraph, 0, len(paragraph) - 1):
        return [paragraph]
    return [paragraph[a:b].strip() for a, b in _sentence_spans(paragraph, max_sentences) if paragraph[a:b].strip()]


LEADING_MARKERS = re.compile(r"^((?:\[[^\]]*+\]\s*+)++)(.*)$")


def _reattach_leading_markers(sentences):
    # pysbd may put a marker that follows the full stop ("... glutamate. [1]")
    # at the start of the next sentence; it belongs to the one before.
    fixed = []
    for sentence in sentences:
        match = LEADING_MARKERS.match(sentence)
        if match and fixed:
            fixed[-1] = f"{fixed[-1]} {match.group(1).strip()}"
            sentence = match.group(2).strip()
            if not sentence:
                continue
        fixed.append(sentence)
    return fixed


def parse_paragraph(paragraph, *, max_claims=None, author_year=False):
    """Claims of a paragraph, each with the reference numbers and DOIs it cites (and, with
    ``author_year``, the APA citations it makes).

    Raises TooManyClaims once there are more than ``max_claims``.
    """
    claims = []
    # A claim is a sentence, or two joined by a marker pysbd put at the next one's start.
    limit = None if max_claims is None else 2 * max_claims + 1
    for sentence in _reattach_leading_markers(split_sentences(paragraph, max_sentences=limit)):
        text, markers = extract_markers(sentence, author_year=author_year)
        if not text:
            continue
        claims.append(ParsedClaim(text=text, numbers=tuple(markers.numbers), dois=tuple(markers.dois),
                                  author_years=tuple(markers.author_years), pmids=tuple(markers.pmids),
                                  pmcids=tuple(markers.pmcids), urls=tuple(markers.urls)))
        if max_claims is not None and len(claims) > max_claims:
            raise TooManyClaims(max_claims)
    return claims


def parse_text(text, *, max_claims=None):
    """Claims of several paragraphs separated by blank lines or line breaks; TooManyClaims past ``max_claims``."""
    claims = []
    for paragraph in re.split(r"\n\s*\n|\r?\n", text):
        left = None if max_claims is None else max_claims - len(claims)
        claims.extend(parse_paragraph(paragraph, max_claims=left))
    return claims
