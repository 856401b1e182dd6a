"""Citation markup in the body: markers read by articles.authoring.parsing, APA author-year citations matched to the list."""

import dataclasses
import re

from django.conf import settings

from articles.importing.errors import ImportFailed
from articles.authoring.parsing import MarkerError, TextTooLong, TooManyClaims, close_gaps, parse_paragraph


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
    text, cited = claim.text, []
    for cite in claim.author_years:
        year = cite.year.replace(" ", "").lower()
        found = []
        for name in cite.names:  # longest reading first: "As Smith et al." before "Smith et al."
            key = _name_key(name)
            found = [number for number, entry_year, keys in index if entry_year == year and key in keys]
            if found:
                break
        if not found and cite.narrative:
            # "the UK (2019)", "DSM-5 (2013)": a capitalised word before a year that names no entry is prose.
            continue
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
        cited.append(cite)
        if cite.narrative and cite.written in text:
            text = close_gaps(text.replace(cite.written, "", 1))
    return dataclasses.replace(claim, text=text, numbers=tuple(numbers), author_years=tuple(cited))
