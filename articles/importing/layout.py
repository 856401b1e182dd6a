"""How an article's text is laid out: the file's lines, headings, hard wrapping, Markdown, sign-offs and boilerplate.

Nothing here knows about references or citations beyond telling a line that
carries a link or identifier from prose.
"""

import re
from dataclasses import dataclass

from articles.importing.errors import ImportFailed
from references.doi import InvalidDOI, find_doi

INTRODUCTION = "Introduction"
MAX_TITLE_WORDS = 25
MAX_HEADING_WORDS = 15
MAX_HEADING_CHARS = 150
# A heading may end in "?" ("What is ketamine?"); these end a sentence or a list lead-in.
NON_HEADING_ENDINGS = ".,;:!"
# A line ending in a word, a comma, a dash or an opening bracket stops mid-sentence.
MID_SENTENCE_END = re.compile(r"[\w,(\-–—]$")
HYPHEN_BREAK = re.compile(r"[^\W\d_]-$")
# "[1]." at the start of a line is a citation marker wrapped onto it, not a list item "[1] Author...".
WRAPPED_MARKER = re.compile(r"\[[\d\s,–-]+\][.,;:!?)]")
# In a wrapped block, a heading is a line clearly shorter than the block's longest.
HEADING_SHARE_OF_WIDTH = 0.6
# Acronyms (CBT, ADHD, PTSD) are shorter: a line in capitals with a word this long is a heading.
UPPERCASE_HEADING_WORD = 5


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
ANY_MARKER = re.compile(r"\[\s*(?:\d|@?doi:|@pmid:|\^)", re.IGNORECASE)
# PubMed identifiers in a reference line: "PMID: 959840", "PMCID: PMC2614320", a PubMed or PMC link.
# Not "[@pmid:959840]": that is a citation marker in the body, not a reference entry.
PMID_IN_TEXT = re.compile(r"(?<!@)\bPMID\s*+:?\s*+(\d{1,9})\b", re.IGNORECASE)
PMCID_IN_TEXT = re.compile(r"\b(PMC\d{1,9})\b", re.IGNORECASE)
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


@dataclass
class Line:
    number: int
    text: str


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


def _is_uppercase_heading(text):
    """A short line in capitals ("WHAT THE RESEARCH SAYS", "TREATMENT OPTIONS:"), a heading whatever its place.

    A line of acronyms alone ("CBT, DBT AND ACT.") is not one: a heading in capitals has a word
    of five letters or more, and ends without a sentence's punctuation (a colon may end it).
    """
    if len(text) > MAX_HEADING_CHARS or text[-1] in ".,;!?" or not text.isupper():
        return False
    words = re.findall(r"[^\W\d_]+", text)
    return (
        len(text.split()) <= MAX_HEADING_WORDS
        and any(len(word) >= UPPERCASE_HEADING_WORD for word in words)
        and not ANY_MARKER.search(text) and not LIST_ITEM.match(text) and not _has_link(text)
    )


def _is_heading_like(text):
    if _is_uppercase_heading(text):
        return True
    return (
        len(text) <= MAX_HEADING_CHARS
        and len(text.split()) <= MAX_HEADING_WORDS
        and text[-1] not in NON_HEADING_ENDINGS
        and not ANY_MARKER.search(text)
        and not LIST_ITEM.match(text)
    )


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
    return bool(text) and (
        _markdown_heading(text) is not None or bool(REFERENCES_HEADING.match(text)) or _is_uppercase_heading(text)
    )


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
