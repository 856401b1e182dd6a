"""Importing: a plain-text or Markdown article becomes a draft (layout, reference list, citation markup, report,
saving, and the admin's import pages).

May use articles.authoring (the citation reader, attribution), articles.review (the gate), the models and references.
"""

from articles.importing.citations import _author_year_index, _cite_author_years, _claims_of, _name_key
from articles.importing.document import ParsedDocument, ParsedParagraph, ParsedSection, parse_document
from articles.importing.errors import ImportFailed
from articles.importing.layout import (
    MARKDOWN_HEADING,
    Line,
    _has_link,
    _is_sign_off,
    _markdown_heading,
    _peel_tail,
    _unwrap,
    decode_text,
)
from articles.importing.reference_list import (
    APA_AUTHOR,
    ParsedReference,
    _apa_author_matches,
    _apa_authors,
    parse_reference_line,
    parse_references,
)
from articles.importing.report import ImportReport, line_by_line
from articles.importing.saving import find_topic, import_article

__all__ = [
    "ImportFailed",
    "ImportReport",
    "Line",
    "MARKDOWN_HEADING",
    "APA_AUTHOR",
    "ParsedDocument",
    "ParsedParagraph",
    "ParsedReference",
    "ParsedSection",
    "decode_text",
    "find_topic",
    "import_article",
    "line_by_line",
    "parse_document",
    "parse_reference_line",
    "parse_references",
]
