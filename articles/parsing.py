"""Split editors' prose into claims and read their citation markers.

Shared by the admin's paste box and the importer. A marker is ``[1]``,
``[1, 3]``, ``[2-4]``, ``[2–4]`` (numbers in the article's reference list) or
``[doi:10.1000/xyz]`` (a DOI, in any form references.doi accepts).
"""

import re
from dataclasses import dataclass, field
from functools import lru_cache

import pysbd
from django.conf import settings


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
class ParsedClaim:
    text: str
    numbers: tuple[int, ...] = ()
    dois: tuple[str, ...] = ()

    @property
    def has_markers(self):
        return bool(self.numbers or self.dois)


@dataclass
class _Markers:
    numbers: list[int] = field(default_factory=list)
    dois: list[str] = field(default_factory=list)


# Every pattern here runs in time linear in the sentence: a leading whitespace run is only
# tried from its first character ((?<!\s)), quantifiers that cannot give anything back
# useful are possessive, and a DOI stops at the next bracket of either kind, so "[doi:"
# repeated does not rescan the rest of the text from every bracket.
# [1], [1, 3], [2-4], [2–4], [1,3-5]: digits, commas, ranges with - – —.
NUMBER_MARKER = re.compile(
    r"(?<!\s)\s*+\[(\d++(?:\s*+[-–—]\s*+\d++)?+(?:\s*+[,;]\s*+\d++(?:\s*+[-–—]\s*+\d++)?+)*+)\]"
)
# [doi:10.1000/xyz]; the DOI runs to the closing bracket.
DOI_MARKER = re.compile(r"(?<!\s)\s*+\[\s*+doi:\s*+([^\[\]\s]++)\s*+\]", re.IGNORECASE)
# What is left that still looks like a citation ("[1,]", "[3-]", "[2 and 4]", "[doi:]")
# is a typo, and silently keeping it as text would drop the citation. A decade in
# brackets ("[1960s]", an editor's insertion in a quotation) is text.
MALFORMED_MARKER = re.compile(r"\[\s*(?!\d{1,3}0s\])(?:\d[^\]]*|doi:[^\]]*)\]", re.IGNORECASE)
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


def extract_markers(sentence):
    """Return the sentence without its markers, and the markers it carried."""
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

    text = DOI_MARKER.sub(take_doi, sentence)
    text = NUMBER_MARKER.sub(take_numbers, text)
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
    text = GAP_BEFORE_PUNCTUATION.sub(r"\1", text)
    return re.sub(r"\s{2,}", " ", text).strip(), markers


@lru_cache(maxsize=1)
def _segmenter():
    return pysbd.Segmenter(language="en", clean=False)


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
    paragraph = re.sub(r"\s+", " ", paragraph).strip()
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


def parse_paragraph(paragraph, *, max_claims=None):
    """Claims of a paragraph, each with the reference numbers and DOIs it cites.

    Raises TooManyClaims once there are more than ``max_claims``.
    """
    claims = []
    # A claim is a sentence, or two joined by a marker pysbd put at the next one's start.
    limit = None if max_claims is None else 2 * max_claims + 1
    for sentence in _reattach_leading_markers(split_sentences(paragraph, max_sentences=limit)):
        text, markers = extract_markers(sentence)
        if not text:
            continue
        claims.append(ParsedClaim(text=text, numbers=tuple(markers.numbers), dois=tuple(markers.dois)))
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
