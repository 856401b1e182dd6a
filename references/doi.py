"""DOIs as people paste them: normalised to the one lower-cased form the database keys on."""

import re
import unicodedata
from urllib.parse import unquote, urlsplit

# Crossref's recommended pattern for modern DOIs, and the one that also covers
# old Wiley DOIs with their angle brackets and semicolons. ASCII only: without
# re.ASCII, \d takes full-width digits and [a-z] with IGNORECASE takes the long s
# (U+017F) and the Kelvin sign, so a lookalike would pass for another DOI.
MODERN_DOI = re.compile(r"^10\.\d{4,9}/[-._;()/:a-z0-9]+$", re.IGNORECASE | re.ASCII)
WILEY_DOI = re.compile(r"^10\.1002/\S+$", re.IGNORECASE | re.ASCII)

# A DOI inside a publisher URL or free text. Narrower than WILEY_DOI so that
# surrounding prose and query strings are left behind.
DOI_IN_TEXT = re.compile(r"10\.\d{4,9}/[-._;()/:a-z0-9<>\[\]]+", re.IGNORECASE | re.ASCII)

# Anything that could be meant as a DOI, in any script: where lookalikes are looked for.
LOOSE_DOI = re.compile(r"10\.[^\s/]{4,9}/\S*")

PREFIXES = re.compile(r"^(?:doi\s*:\s*|info:doi/|urn:doi:)", re.IGNORECASE)
RESOLVER_HOSTS = {"doi.org", "dx.doi.org", "www.doi.org"}
TRAILING_PUNCTUATION = ".,;"


class InvalidDOI(ValueError):
    """The text is not a DOI; the message says what is wrong with it."""


def _strip_trailing(doi):
    return doi.rstrip(TRAILING_PUNCTUATION)


def _character(ch):
    name = unicodedata.name(ch, "") or {"Cc": "a control character"}.get(unicodedata.category(ch), "unnamed")
    return f"U+{ord(ch):04X} {name}"


def _lookalike(ch, position, shown):
    return InvalidDOI(
        f"{shown} is not a DOI: it contains {_character(ch)} at position {position}, which is not an "
        "ASCII character; a DOI is plain ASCII, and this one may look like another DOI or hide "
        "characters. Retype it."
    )


def _refuse_non_ascii(doi, original):
    """A DOI is ASCII: full-width digits, zero-width and bidi characters, the long s... are refused by name."""
    if doi.isascii():
        return
    ch = next(c for c in doi if not c.isascii())
    original = str(original)
    index = original.find(ch)
    position = index + 1 if index >= 0 else doi.index(ch) + 1
    raise _lookalike(ch, position, repr(original.strip()))


def _suspicious(ch):
    """A non-ASCII character that can sit inside a DOI unseen or pass for an ASCII one."""
    if ch.isascii() or ch.isspace():
        return False
    category = unicodedata.category(ch)
    if category[0] in "CLNM":  # format (zero-width, bidi), control, letters, digits, marks
        return True
    folded = unicodedata.normalize("NFKC", ch)
    return folded != ch and folded.isascii()  # full-width solidus, full stop, ...


def _candidate(text):
    """The DOI part of pasted text, before validation."""
    text = text.strip().strip("<>\"'").strip()
    text = PREFIXES.sub("", text).strip()
    if re.match(r"^https?://", text, re.IGNORECASE) or re.match(r"^(?:dx\.)?doi\.org/", text, re.IGNORECASE):
        if not text.lower().startswith("http"):
            text = "https://" + text
        parts = urlsplit(text)
        if parts.hostname in RESOLVER_HOSTS:
            # Everything after the host is the DOI, including an encoded # or ?.
            raw = text.split(parts.netloc, 1)[1].lstrip("/")
            return _strip_trailing(unquote(raw).strip())
        where = unquote(parts.path + ("?" + parts.query if parts.query else ""))
        _refuse_lookalikes(where, text)
        found = DOI_IN_TEXT.search(where)
        if not found:
            raise InvalidDOI(f"No DOI found in the URL {text!r}: it contains nothing of the form 10.NNNN/suffix.")
        return _strip_trailing(found.group(0))
    return _strip_trailing(unquote(text).strip())


def normalise_doi(text):
    """The lower-cased DOI in any pasted form (bare, doi:, a doi.org or publisher URL); raises InvalidDOI."""
    if text is None or not str(text).strip():
        raise InvalidDOI("Enter a DOI: the input is empty.")
    doi = _candidate(str(text))
    if not doi:
        raise InvalidDOI(f"No DOI in {text!r}: nothing follows the prefix.")
    _refuse_non_ascii(doi, text)
    if MODERN_DOI.match(doi) or WILEY_DOI.match(doi):
        return doi.lower()
    raise InvalidDOI(_explain(doi, text))


def _explain(doi, original):
    shown = repr(original.strip())
    if not doi.startswith("10."):
        return f"{shown} is not a DOI: a DOI starts with '10.' (e.g. 10.1176/appi.ajp.2020.20050596)."
    prefix, slash, suffix = doi.partition("/")
    if not slash:
        return f"{shown} is not a DOI: it has no '/' between the prefix {prefix!r} and the suffix."
    registrant = prefix[3:]
    if not re.fullmatch(r"\d{4,9}", registrant):
        return (
            f"{shown} is not a DOI: the prefix must be '10.' followed by 4 to 9 digits, "
            f"but it is {prefix!r}."
        )
    if not suffix:
        return f"{shown} is not a DOI: nothing follows the '/' after {prefix!r}."
    bad = sorted({ch for ch in suffix if not re.match(r"[-._;()/:a-z0-9]", ch, re.IGNORECASE)})
    shown_bad = " ".join(repr(ch) for ch in bad)
    return f"{shown} is not a DOI: the suffix contains characters a DOI cannot have: {shown_bad}."


def _refuse_lookalikes(text, original):
    """Raise InvalidDOI if a DOI in ``text`` is written with a lookalike character, naming it.

    The text is read folded (NFKC, zero-width and bidi characters dropped), and anything
    of the shape "10.xxxx/..." up to the next space is looked at as typed: a non-ASCII
    letter, digit, mark or invisible character in it is a lookalike (one that cuts the
    DOI short as typed, or one that folding does not turn into ASCII, such as a Cyrillic
    a or an Arabic-Indic digit).
    """
    if text.isascii():
        return
    folded, origin = [], []
    for index, ch in enumerate(text):
        piece = "" if unicodedata.category(ch) == "Cf" else unicodedata.normalize("NFKC", ch)
        folded.append(piece)
        origin.extend([index] * len(piece))
    for match in LOOSE_DOI.finditer("".join(folded)):
        for index in range(origin[match.start()], origin[match.end() - 1] + 1):
            if _suspicious(text[index]):
                # Counted in what was typed when the character appears there as such (not %-encoded).
                typed = str(original).find(text[index])
                raise _lookalike(text[index], (typed if typed >= 0 else index) + 1, repr(str(original).strip()))


def _unwrap_parentheses(candidate):
    """``candidate`` without closing parentheses it does not open ("(doi:10.x/y)"), in one pass."""
    excess = candidate.count(")") - candidate.count("(")
    while excess > 0 and candidate.endswith(")"):
        # A whole run of ")" at a time: dropping one by one is the same, but slow on ")" x 100,000.
        run = len(candidate) - len(candidate.rstrip(")"))
        drop = min(run, excess)
        candidate = _strip_trailing(candidate[: len(candidate) - drop])
        excess -= drop
    return candidate


def find_doi(text):
    """The first valid DOI inside a URL or free text, lower-cased, or None.

    Raises InvalidDOI when a DOI is written with a lookalike character (full-width
    digits, a zero-width space, a bidi control, the long s...), naming it.
    """
    if not text:
        return None
    text = unquote(text)
    _refuse_lookalikes(text, text)
    for found in DOI_IN_TEXT.finditer(text):
        # In prose a DOI is often wrapped in parentheses: "(doi:10.x/y)".
        candidate = _unwrap_parentheses(_strip_trailing(found.group(0)))
        try:
            return normalise_doi(candidate)
        except InvalidDOI:
            continue
    return None
