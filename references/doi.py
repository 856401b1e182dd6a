"""DOIs as people paste them: normalised to the one lower-cased form the database keys on."""

import re
from urllib.parse import unquote, urlsplit

# Crossref's recommended pattern for modern DOIs, and the one that also covers
# old Wiley DOIs with their angle brackets and semicolons.
MODERN_DOI = re.compile(r"^10\.\d{4,9}/[-._;()/:a-z0-9]+$", re.IGNORECASE)
WILEY_DOI = re.compile(r"^10\.1002/\S+$", re.IGNORECASE)

# A DOI inside a publisher URL or free text. Narrower than WILEY_DOI so that
# surrounding prose and query strings are left behind.
DOI_IN_TEXT = re.compile(r"10\.\d{4,9}/[-._;()/:a-z0-9<>\[\]]+", re.IGNORECASE)

PREFIXES = re.compile(r"^(?:doi\s*:\s*|info:doi/|urn:doi:)", re.IGNORECASE)
RESOLVER_HOSTS = {"doi.org", "dx.doi.org", "www.doi.org"}
TRAILING_PUNCTUATION = ".,;"


class InvalidDOI(ValueError):
    """The text is not a DOI; the message says what is wrong with it."""


def _strip_trailing(doi):
    return doi.rstrip(TRAILING_PUNCTUATION)


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
        found = DOI_IN_TEXT.search(unquote(parts.path + ("?" + parts.query if parts.query else "")))
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


def find_doi(text):
    """The first valid DOI inside a URL or free text, lower-cased, or None."""
    if not text:
        return None
    for found in DOI_IN_TEXT.finditer(unquote(text)):
        candidate = _strip_trailing(found.group(0))
        # In prose a DOI is often wrapped in parentheses: "(doi:10.x/y)".
        while candidate.endswith(")") and candidate.count(")") > candidate.count("("):
            candidate = _strip_trailing(candidate[:-1])
        try:
            return normalise_doi(candidate)
        except InvalidDOI:
            continue
    return None
