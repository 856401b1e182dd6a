"""What the review desk's matcher reads: an abstract as labelled sentences, a text as the terms it compares.

Abstracts come from PubMed (Reference.abstract: paragraphs separated by blank lines, structured ones as
"Label: text") or, failing that, from Crossref's work message (JATS markup, <jats:title> for a section's label).
Tokens are lower-cased words without stop words, stemmed by Snowball (PyStemmer), with figures ("40%", "0·84",
"forty-eight", "1,250") and drug names kept whole. Every input is capped (ABSTRACT_MAX_CHARS, MAX_SENTENCES,
CLAIM_MAX_CHARS, MAX_TOKENS) so that a huge or hostile record costs no more than a long real abstract.
"""

import re
from dataclasses import dataclass
from functools import lru_cache
from html.parser import HTMLParser

import pysbd
import Stemmer


# PubMed's longest abstracts run to about 5,000 characters; Crossref allows 20,000 (references.crossref).
ABSTRACT_MAX_CHARS = 8_000
MAX_SENTENCES = 60
CLAIM_MAX_CHARS = 1_500
# Tokens read from one sentence or one claim: a sentence longer than this is a table pasted in, not prose.
MAX_TOKENS = 200
# pysbd's time grows with the square of its input, so a paragraph is read a window at a time.
WINDOW_CHARS = 1_500

# The labels of structured abstracts (PubMed's NLM categories and what journals print), read at the start of
# a paragraph or of a sentence when a colon follows.
SECTION_LABELS = (
    "background", "backgrounds", "introduction", "context", "rationale", "purpose", "purposes", "aim", "aims",
    "aims and objectives", "objective", "objectives", "goal", "goals", "hypothesis", "importance",
    "method", "methods", "methodology", "materials and methods", "methods and materials", "methods and findings",
    "design", "study design", "setting", "settings", "design, setting, and participants", "participants",
    "patients", "subjects", "population", "sample", "intervention", "interventions", "exposure", "exposures",
    "measures", "measurements", "main outcome measures", "main outcomes and measures", "outcome measures",
    "outcomes", "data sources", "study selection", "data extraction", "data extraction and synthesis",
    "data synthesis", "data collection", "data analysis", "analysis", "analyses", "search methods",
    "selection criteria", "eligibility criteria", "inclusion criteria", "procedure", "procedures", "eligibility",
    "review methods",
    "results", "result", "findings", "main results", "key findings", "outcome",
    "discussion", "conclusion", "conclusions", "conclusions and relevance", "interpretation",
    "implications", "clinical implications", "practical implications", "significance", "limitations",
    "authors' conclusions", "summary", "trial registration", "registration", "funding", "level of evidence",
)
_LABEL_ALTERNATION = "|".join(re.escape(label) for label in sorted(SECTION_LABELS, key=len, reverse=True))
# A label opening a paragraph or following a sentence's end: "Results: The mean effect...". Only known labels
# are read, so "Note: ..." or "Ratio: 2:1" inside a sentence stays text.
LABEL = re.compile(rf"(?:^|(?<=[.!?)\]])\s+)({_LABEL_ALTERNATION})\s*:\s+", re.IGNORECASE)

# Words that carry no meaning of their own in a claim or an abstract sentence.
STOPWORDS = frozenset("""
a about above after again against all also am an and any are aren't as at be because been before being below
between both but by can could did do does doing down during each either et al etc few for from further had has
have having he her here hers herself him himself his how however i if in into is isn't it its itself just may
me might more most must my myself no nor not now of off on once only or other our ours ourselves out over own
per same she should since so some such than that the their theirs them themselves then there these they this
those through thus to too under until up upon very via was we were what when where whether which while who whom
whose why will with within without would yet you your yours yourself yourselves e.g i.e vs versus ie eg
""".split())
# Words a claim and an unrelated abstract of the field share by chance: they rank sentences but do not count
# as the claim's key terms, so sharing only them still raises the warning.
GENERIC_WORDS = frozenset("""
study studies studied research researcher researchers evidence result results finding findings find found show
shows showed shown report reports reported suggest suggests suggested suggesting indicate indicates indicated
demonstrate demonstrated conclude concluded review reviews paper article data analysis analyses analysed
analyzed examine examined investigate investigated associated association associations among across compared
comparison including include included use used using well known likely many much several various often one two
three new high higher low lower increase increased increases decrease decreased reduce reduced significant
significantly effect effects level levels rate rates people person individuals participants patients group
groups sample total number year years time times first large small may can however respectively important
role further approximately related common less greater overall based present current recent previous
ci confidence interval intervals 95% meta estimate estimates estimated main means mean appear appears
establish establishing establishes trial trials randomized randomised controlled control controls
moreover nearly almost get make made even though end ended done total numerous
""".split())
GENERIC_STEMS = frozenset(Stemmer.Stemmer("english").stemWords(sorted(GENERIC_WORDS)))

# A number (with its decimals, thousands and per cent sign) or a word; hyphenated words split, but a code
# with a digit in it (COVID-19, DSM-5, 5-HT) stays one token.
TOKEN = re.compile(
    r"\d+(?:[.,]\d+)*\s?%|\d+(?:[.,]\d+)*|[a-z]+(?:-[a-z]*\d[a-z0-9]*|\d+[a-z0-9]*)+|\d+-[a-z]+|[a-z][a-z']*[a-z]|[a-z]"
)
# Citation markers are no part of what a claim says: [12], [3-5], (Smith et al., 2015), "et al.15".
CITATION_MARKERS = re.compile(
    r"\[\s*\d+(?:\s*[,–-]\s*\d+)*\s*\]|\([^()]{0,200}?\b(?:19|20)\d\d[a-z]?\s*\)|(?<=al\.)\s?\d+(?:[,–-]\d+)*"
)
# British and American spellings meet before stemming: randomised/randomized, behaviour/behavior.
SPELLINGS = (
    (re.compile(r"(?<=[a-z]{3})is(e|ed|es|ing|ation|ations)$"), r"iz\1"),
    (re.compile(r"(?<=[a-z]{3})our(s?)$"), r"or\1"),
    (re.compile(r"ae"), "e"),
)


@dataclass(frozen=True)
class Sentence:
    text: str
    # The structured abstract's section ("Results") the sentence is in, or "".
    label: str = ""


@lru_cache(maxsize=1)
def _stemmer():
    return Stemmer.Stemmer("english")


@lru_cache(maxsize=1)
def _segmenter():
    return pysbd.Segmenter(language="en", clean=False)


NUMBER_WORDS = {
    word: value for value, word in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
        "seventeen eighteen nineteen".split())
}
TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}
# "Thirty-seven trials", "forty eight", "94 percent": the figures an abstract writes as 37, 48 and 94%.
SPELLED_NUMBER = re.compile(
    r"\b(" + "|".join(TENS) + r")(?:[- ](" + "|".join(list(NUMBER_WORDS)[1:10]) + r"))?\b"
    r"|\b(" + "|".join(list(NUMBER_WORDS)[2:]) + r")\b(?=\s+(?!percent)[a-z])",
    re.IGNORECASE,
)
PER_CENT = re.compile(r"(\d)\s*(?:per\s?cent|percent)\b", re.IGNORECASE)


def _spell_out(match):
    if match.group(1):
        return str(TENS[match.group(1).lower()] + (NUMBER_WORDS[match.group(2).lower()] if match.group(2) else 0))
    return str(NUMBER_WORDS[match.group(3).lower()])


# The Lancet prints decimals with a raised point: 0·84 is 0.84.
RAISED_DECIMAL = re.compile(r"(?<=\d)·(?=\d)")


def _numbers(text):
    """Figures written in words, with "percent" or with a raised decimal point as the digits elsewhere."""
    return PER_CENT.sub(r"\1%", SPELLED_NUMBER.sub(_spell_out, RAISED_DECIMAL.sub(".", text)))


def _normalise_token(token):
    if token[0].isdigit():
        # 89,037 and 89037 are one figure; "40 %" and "40%" one share.
        token = token.replace(" ", "")
        return re.sub(r"(?<=\d),(?=\d{3}\b)", "", token)
    for pattern, replacement in SPELLINGS:
        token = pattern.sub(replacement, token)
    return token


def _words(text):
    """The lower-cased tokens of ``text`` that are not stop words, each with its stem, at most MAX_TOKENS."""
    words = []
    for match in TOKEN.finditer(_numbers(text).lower()):
        token = _normalise_token(match.group().strip("'"))
        if token in STOPWORDS or (len(token) < 2 and not token.isdigit()):
            continue
        words.append(token)
        if len(words) >= MAX_TOKENS:
            break
    stems = _stemmer().stemWords([w if w.isalpha() else "" for w in words])
    return [(word, stem or word) for word, stem in zip(words, stems)]


def tokenize(text):
    """The stems BM25 compares: lower-cased, stop words dropped, numbers and drug names kept whole."""
    return [stem for _, stem in _words(text)]


def claim_text(text):
    """The claim without its citation markers, capped at CLAIM_MAX_CHARS."""
    return CITATION_MARKERS.sub(" ", text[:CLAIM_MAX_CHARS])


def key_terms(text):
    """The claim's key terms as (word as written, stem), in order, each once: what an abstract should share."""
    terms, seen = [], set()
    for word, stem in _words(claim_text(text)):
        if stem in seen or word in GENERIC_WORDS or stem in GENERIC_STEMS:
            continue
        # A bare small number ("12-month", "3 years") is too common to say what a claim is about.
        if word.isdigit() and len(word) < 3:
            continue
        seen.add(stem)
        terms.append((word, stem))
    return terms


class _JATSText(HTMLParser):
    """Crossref's JATS abstract as plain paragraphs; a <jats:title> becomes the label of what follows."""

    BLOCKS = {"p", "sec", "title", "list-item", "abstract", "break"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.paragraphs, self.current, self.label = [], [], ""

    def _local(self, tag):
        return tag.rsplit(":", 1)[-1].lower()

    def _flush(self):
        text = " ".join("".join(self.current).split())
        self.current = []
        if text:
            self.paragraphs.append(f"{self.label}: {text}" if self.label else text)
            self.label = ""

    def handle_starttag(self, tag, attrs):
        local = self._local(tag)
        if local in self.BLOCKS:
            self._flush()

    def handle_endtag(self, tag):
        local = self._local(tag)
        if local == "title":
            title = " ".join("".join(self.current).split()).rstrip(":. ")
            self.current = []
            # "Abstract" heads the whole text; it labels nothing.
            self.label = "" if title.lower() == "abstract" else title
        elif local in self.BLOCKS:
            self._flush()

    def handle_data(self, data):
        self.current.append(data)

    def text(self):
        self._flush()
        return "\n\n".join(self.paragraphs)


def abstract_of(reference):
    """The reference's abstract as plain text: PubMed's, or else the one in Crossref's work message."""
    if reference.abstract:
        return reference.abstract
    raw = reference.raw_metadata if isinstance(reference.raw_metadata, dict) else {}
    jats = raw.get("abstract")
    if not isinstance(jats, str) or not jats.strip():
        return ""
    parser = _JATSText()
    # The markup is read only up to the cap that the text will be cut to anyway (plus room for the tags).
    parser.feed(jats[: ABSTRACT_MAX_CHARS * 2])
    parser.close()
    return parser.text()


def _window_sentences(text):
    """pysbd's sentences of one paragraph, read WINDOW_CHARS at a time so the work stays linear."""
    sentences, position = [], 0
    while position < len(text) and len(sentences) < MAX_SENTENCES:
        window = text[position:position + WINDOW_CHARS]
        found = [s.strip() for s in _segmenter().segment(window) if s.strip()]
        if position + WINDOW_CHARS >= len(text) or not found:
            sentences.extend(found)
            break
        if len(found) == 1:
            # No sentence ends inside the window: what it holds is shown as one piece.
            sentences.append(window.strip())
            position += len(window)
            continue
        # The window's last sentence may be cut short: read it again at the start of the next window.
        sentences.extend(found[:-1])
        last = window.rfind(found[-1])
        if last <= 0:
            # pysbd changed that sentence's text, so where it starts is unknown: keep it as it came.
            sentences.append(found[-1])
            last = len(window)
        position += last
    return sentences


def split_abstract(text):
    """An abstract as Sentences, each with its structured-abstract label; at most MAX_SENTENCES.

    Returns (sentences, truncated): truncated is True when the text was longer than the caps allow.
    """
    truncated = len(text) > ABSTRACT_MAX_CHARS
    text = text[:ABSTRACT_MAX_CHARS]
    sentences, heading = [], ""
    for paragraph in re.split(r"\n\s*\n|\r\n\s*\r\n", text):
        paragraph = " ".join(paragraph.split())
        if not paragraph:
            continue
        if paragraph.lower().rstrip(":. ") == "abstract":
            continue
        if paragraph.lower().rstrip(":. ") in SECTION_LABELS:
            # A heading on its own line ("Results") labels the paragraph after it.
            heading = paragraph.rstrip(":. ")
            continue
        # Pieces between labels: "Background: x. Methods: y." -> [("", ""), ("Background", "x."), ("Methods", "y.")]
        pieces, label, start = [], heading, 0
        heading = ""
        for match in LABEL.finditer(paragraph):
            pieces.append((label, paragraph[start:match.start()]))
            label, start = match.group(1).strip(), match.end()
        pieces.append((label, paragraph[start:]))
        for label, piece in pieces:
            display = label[:1].upper() + label[1:].lower() if label.isupper() or label.islower() else label
            for sentence in _window_sentences(piece.strip()):
                sentences.append(Sentence(sentence, display))
                if len(sentences) >= MAX_SENTENCES:
                    return sentences, True
    return sentences, truncated


# "Food and Drug Administration (FDA)": an abbreviation defined in the abstract or the claim, so a claim that
# spells it out matches the sentences that only use the letters, and the reverse.
DEFINED_ABBREVIATION = re.compile(r"\(([A-Z][A-Za-z0-9]{1,9})\)")
ABBREVIATION_SKIP = frozenset({"and", "of", "the", "for", "in", "to", "on", "with"})
MAX_ABBREVIATIONS = 30


def abbreviations(text):
    """{abbreviation's token: the stems of its long form} for each "long form (ABBR)" in ``text``."""
    found = {}
    for match in DEFINED_ABBREVIATION.finditer(text[:ABSTRACT_MAX_CHARS]):
        letters = [c for c in match.group(1).rstrip("s") if c.isupper()]
        if len(letters) < 2 or len(found) >= MAX_ABBREVIATIONS:
            continue
        words = re.findall(r"[A-Za-z]+", text[max(0, match.start() - 150):match.start()])
        long_form, wanted = [], list(letters)
        for word in reversed(words[-(len(letters) * 2 + 2):]):
            if not wanted:
                break
            if word.lower() in ABBREVIATION_SKIP and long_form:
                continue
            if word[0].upper() != wanted[-1]:
                break
            wanted.pop()
            long_form.append(word)
        stems = frozenset(tokenize(" ".join(reversed(long_form)))) if not wanted else None
        abbreviation = tokenize(match.group(1))
        if stems and abbreviation:
            found[abbreviation[0]] = stems
    return found


def with_abbreviations(tokens, defined):
    """The tokens, with each defined abbreviation added where its long form is spelt out."""
    present = set(tokens)
    return tokens + [abbr for abbr, stems in defined.items() if abbr not in present and stems <= present]
