"""Split editors' prose into claims and read their citation markers.

Shared by the admin's paste box and the importer. A marker is ``[1]``,
``[1, 3]``, ``[2-4]``, ``[2–4]`` (numbers in the article's reference list) or
``[doi:10.1000/xyz]`` (a DOI, in any form references.doi accepts).
"""

import re
from dataclasses import dataclass, field
from functools import lru_cache

import pysbd


class MarkerError(ValueError):
    """A bracketed marker that cannot be read as citations."""


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


# [1], [1, 3], [2-4], [2–4], [1,3-5]: digits, commas, ranges with - – —.
NUMBER_MARKER = re.compile(r"\s*\[(\d+(?:\s*[-–—]\s*\d+)?(?:\s*[,;]\s*\d+(?:\s*[-–—]\s*\d+)?)*)\]")
# [doi:10.1000/xyz]; the DOI runs to the closing bracket.
DOI_MARKER = re.compile(r"\s*\[\s*doi:\s*([^\]\s]+)\s*\]", re.IGNORECASE)
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


def extract_markers(sentence):
    """Return the sentence without its markers, and the markers it carried."""
    markers = _Markers()

    def take_numbers(match):
        for number in expand_numbers(match.group(1)):
            if number not in markers.numbers:
                markers.numbers.append(number)
        return ""

    def take_doi(match):
        doi = match.group(1).rstrip(".,;")
        if doi not in markers.dois:
            markers.dois.append(doi)
        return ""

    text = DOI_MARKER.sub(take_doi, sentence)
    text = NUMBER_MARKER.sub(take_numbers, text)
    malformed = MALFORMED_MARKER.search(text)
    if malformed:
        raise MarkerError(
            f"{malformed.group()} is not a citation marker: write [1], [1, 3], [2-4] or [doi:10.xxxx/...]"
        )
    # A marker before the full stop leaves "word ." behind; close the gap.
    text = re.sub(r"\s+([.,;:!?])", r"\1", text)
    return re.sub(r"\s{2,}", " ", text).strip(), markers


@lru_cache(maxsize=1)
def _segmenter():
    return pysbd.Segmenter(language="en", clean=False)


def split_sentences(paragraph):
    """Sentences of a paragraph; abbreviations (e.g., et al., vs.) and initials do not end one."""
    paragraph = re.sub(r"\s+", " ", paragraph).strip()
    if not paragraph:
        return []
    return [s.strip() for s in _segmenter().segment(paragraph) if s.strip()]


def _reattach_leading_markers(sentences):
    # pysbd may put a marker that follows the full stop ("... glutamate. [1]")
    # at the start of the next sentence; it belongs to the one before.
    fixed = []
    for sentence in sentences:
        match = re.match(r"^((?:\[[^\]]*\]\s*)+)(.*)$", sentence)
        if match and fixed:
            fixed[-1] = f"{fixed[-1]} {match.group(1).strip()}"
            sentence = match.group(2).strip()
            if not sentence:
                continue
        fixed.append(sentence)
    return fixed


def parse_paragraph(paragraph):
    """Claims of a paragraph, each with the reference numbers and DOIs it cites."""
    claims = []
    for sentence in _reattach_leading_markers(split_sentences(paragraph)):
        text, markers = extract_markers(sentence)
        if not text:
            continue
        claims.append(ParsedClaim(text=text, numbers=tuple(markers.numbers), dois=tuple(markers.dois)))
    return claims


def parse_text(text):
    """Claims of several paragraphs separated by blank lines or line breaks."""
    claims = []
    for paragraph in re.split(r"\n\s*\n|\r?\n", text):
        claims.extend(parse_paragraph(paragraph))
    return claims
