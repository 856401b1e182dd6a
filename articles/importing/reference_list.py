"""The reference list: where it starts, its entries, their identifiers (DOI, PMID, PMCID, link) and fields.

``parse_reference_line`` reads an APA or Vancouver entry's authors, year, title
and journal, used when Crossref does not answer and to match APA citations.
"""

import re
from dataclasses import dataclass

from articles.importing.errors import ImportFailed
from articles.importing.layout import (
    DOI_TEXT,
    LIST_ITEM,
    PMCID_IN_TEXT,
    PMID_IN_TEXT,
    REFERENCES_HEADING,
    URL,
    YEAR,
    _has_link,
    _is_sign_off,
)
from references import pubmed
from references.doi import InvalidDOI, find_doi, normalise_doi

# A group author in APA's author place: a short name in title case with one of these words.
ORGANISATION_WORDS = {
    "Administration", "Agency", "Association", "Board", "Centre", "Center", "Centers", "College", "Commission",
    "Council", "Department", "Federation", "Foundation", "Institute", "Institutes", "Ministry", "Network", "Office",
    "Organisation", "Organization", "Service", "Services", "Society", "Trust", "University", "NHS", "NICE", "WHO",
}
NAME_CONNECTORS = {"of", "for", "and", "the", "on", "in", "&", "to"}
MAX_ORGANISATION_WORDS = 10
PUBMED_LINK = re.compile(
    r"https?://(?:www\.)?(?:pubmed\.ncbi\.nlm\.nih\.gov/|ncbi\.nlm\.nih\.gov/pmc/|ncbi\.nlm\.nih\.gov/pubmed/"
    r"|pmc\.ncbi\.nlm\.nih\.gov/)",
    re.IGNORECASE,
)


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
