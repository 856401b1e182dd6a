"""The Retraction Watch dataset (the CSV Crossref publishes), checked against the whole library at once, offline.

The file is read as a stream, a batch of rows at a time: each batch's original papers are looked up in one
query, by DOI and by PubMed ID, and each match gets its notices through references.watch.apply_notices, the
same path the Crossref sweep takes (idempotent, so importing the same file twice records nothing new).
"""

import csv
import datetime
from dataclasses import dataclass, field

from references.doi import InvalidDOI, normalise_doi
from references.watch import Notice, record_notices

REQUIRED_COLUMNS = (
    "Record ID", "RetractionDate", "RetractionDOI", "OriginalPaperDOI", "OriginalPaperPubMedID", "RetractionNature",
)
# RetractionNature as the dataset spells it -> Crossref's update type.
NATURE_TYPES = {
    "retraction": "retraction",
    "correction": "correction",
    "expression of concern": "expression_of_concern",
    "reinstatement": "reinstatement",
}
BATCH_ROWS = 1000
# Problems are listed up to this many, then counted, so a broken file does not flood the terminal.
MAX_PROBLEMS = 50


class RetractionWatchFileError(ValueError):
    """The file is not the Retraction Watch CSV; the message says what is wrong."""


@dataclass
class ImportResult:
    rows: int = 0
    notices: int = 0
    references_updated: int = 0
    notices_added: int = 0
    skipped: int = 0
    problems: list = field(default_factory=list)

    def problem(self, text):
        self.skipped += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(text)

    def __str__(self):
        return (
            f"Read {self.rows:,} row(s) of Retraction Watch data: {self.notices_added:,} new notice(s) on "
            f"{self.references_updated:,} reference(s); {self.skipped:,} row(s) skipped."
        )


def _date(value):
    """'8/16/2023 0:00' (the export's form) or '2023-08-16' -> '2023-08-16'; '' when there is none."""
    text = (value or "").strip().split(" ")[0]
    for form in ("%m/%d/%Y", "%Y-%m-%d"):
        try:
            return datetime.datetime.strptime(text, form).date().isoformat()
        except ValueError:
            continue
    return ""


def _doi(value):
    text = (value or "").strip()
    if not text or text.lower() in {"unavailable", "0", "na", "n/a"}:
        return ""
    try:
        return normalise_doi(text)
    except InvalidDOI:
        return ""


def _pmid(value):
    text = (value or "").strip()
    return text if text.isdigit() and text.strip("0") else ""


def notice_from_row(row, line):
    """The Notice one row records, or a string saying why the row was skipped."""
    nature = (row.get("RetractionNature") or "").strip()
    kind = NATURE_TYPES.get(nature.lower())
    if kind is None:
        return f"line {line} (record {row.get('Record ID')}): unknown RetractionNature {nature!r}"
    target_doi, target_pmid = _doi(row.get("OriginalPaperDOI")), _pmid(row.get("OriginalPaperPubMedID"))
    if not target_doi and not target_pmid:
        return f"line {line} (record {row.get('Record ID')}): no usable OriginalPaperDOI or OriginalPaperPubMedID"
    return Notice(
        type=kind, doi=_doi(row.get("RetractionDOI")), label=nature[:1].upper() + nature[1:].lower(),
        source="retraction-watch", updated=_date(row.get("RetractionDate")),
        target_doi=target_doi, target_pmid=target_pmid,
    )


def import_rows(lines, *, batch_rows=BATCH_ROWS, progress=None):
    """Import the CSV given as an iterable of text lines (an open file); returns ImportResult.

    Raises RetractionWatchFileError when the header lacks the columns the import needs.
    """
    reader = csv.DictReader(lines)
    header = [name.strip() for name in (reader.fieldnames or [])]
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    if missing:
        raise RetractionWatchFileError(
            "This is not the Retraction Watch CSV: its first line lacks the column(s) " + ", ".join(missing) + "."
        )
    reader.fieldnames = header
    result, batch = ImportResult(), []
    for row in reader:
        result.rows += 1
        if not any((value or "").strip() for key, value in row.items() if key):
            result.problem(f"line {reader.line_num}: empty row")
            continue
        notice = notice_from_row(row, reader.line_num)
        if isinstance(notice, str):
            result.problem(notice)
            continue
        batch.append(notice)
        result.notices += 1
        if len(batch) >= batch_rows:
            _flush(batch, result, progress)
    _flush(batch, result, progress)
    return result


def _flush(batch, result, progress):
    if batch:
        updated, added = record_notices(batch)
        result.references_updated += updated
        result.notices_added += added
        if progress:
            progress(len(batch))
        batch.clear()


def import_file(path, **kwargs):
    """Import the Retraction Watch CSV at ``path``; returns ImportResult."""
    # utf-8-sig: a file saved by a spreadsheet starts with a byte-order mark, which would hide "Record ID".
    with open(path, encoding="utf-8-sig", errors="replace", newline="") as lines:
        return import_rows(lines, **kwargs)
