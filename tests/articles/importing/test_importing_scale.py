"""The importer on long and hostile files: the same article, in a bounded number of queries and linear time.

Speed is shown by the benchmark (bench/parsing.py); these tests check the answer on files large
enough that the previous importer took minutes (figures in each docstring, 2-core machine).
"""

import random
import textwrap

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from articles.importing import MARKDOWN_HEADING, ImportFailed, _markdown_heading, import_article
from articles.models import Citation, Claim
from articles.authoring.parsing import parse_paragraph

pytestmark = pytest.mark.django_db

DOI = "10.1523/jneurosci.1547-16.2016"
REFERENCES = f"References\n1. Zorumski, C. F. (2016). Ketamine. The Journal, 36(44), 1-2. https://doi.org/{DOI}\n"


def article(claims, title="Sleep and Mood at Scale"):
    lines = [f"Sleep loss number {n} worsens mood in adults [1]." for n in range(1, claims + 1)]
    return f"{title}\n" + "\n".join(lines) + "\n" + REFERENCES


def queries_to_import(text):
    with CaptureQueriesContext(connection) as queries:
        report = import_article(text, fetch=False)
    return report, len(queries)


def test_ten_thousand_claims_import_in_a_few_queries_per_thousand_claims():
    """A 10,000-claim file took 251 s: two queries per claim and a quadratic join of the lines."""
    _small, small_queries = queries_to_import(article(100, title="Sleep and Mood, Short"))
    report, queries = queries_to_import(article(10_000))
    # Inserts and reads go in batches (the database's limit on parameters): not one per claim.
    assert queries <= small_queries + 10 * 10
    assert len(report.claims) == 10_000
    assert Claim.objects.filter(section__article=report.article).count() == 10_000
    assert Citation.objects.filter(claim__section__article=report.article).count() == 10_000
    claims = list(Claim.objects.filter(section__article=report.article).order_by("position"))
    assert [c.position for c in claims] == list(range(1, 10_001))
    assert claims[-1].text == "Sleep loss number 10000 worsens mood in adults."
    assert report.references[0]["cited_by"] == 10_000


def test_a_paragraph_hard_wrapped_over_five_thousand_lines_is_one_paragraph():
    """Joining wrapped lines copied the paragraph for every line (and searched it whole): over 30 s at 100 KB."""
    unit = "Ketamine blocks NMDA receptors, e.g. in the cortex [1]. Dr. Smith found no change at 2.5 mg. "
    paragraph = unit * 3500
    text = "A Wrapped Article\n\n" + "\n".join(textwrap.wrap(paragraph, 70)) + "\n\n" + REFERENCES
    report = import_article(text, fetch=False)
    expected = [claim.text for claim in parse_paragraph(paragraph)]
    assert [claim["text"] for claim in report.claims] == expected
    assert len(expected) == 7000
    assert {claim["line"] for claim in report.claims} == {3}


def test_markdown_headings_are_read_as_the_pattern_reads_them():
    r = random.Random(3)
    for _ in range(50_000):
        text = "".join(r.choice("##  \tab") for _ in range(r.randint(1, 12))).strip()
        if text:
            match = MARKDOWN_HEADING.match(text)
            assert _markdown_heading(text) == (match.group("text") if match else None), repr(text)


def test_a_heading_with_a_hundred_thousand_hashes_imports():
    """The heading pattern's lazy scan was quadratic on a run of "#": 1.6 s at 10 KB, over 30 s at 100 KB."""
    text = f"A Title\n## Sleep {'#' * 100_000} x\nSleep loss worsens mood [1].\n" + REFERENCES
    report = import_article(text, fetch=False)
    [section] = report.sections
    assert section["heading"] == ("Sleep " + "#" * 100_000 + " x")[:300]
    assert [claim["text"] for claim in section["claims"]] == ["Sleep loss worsens mood."]


def test_a_sentence_over_the_limit_is_refused_naming_its_line_and_the_setting(settings):
    settings.PARSE_MAX_SENTENCE_CHARS = 2000
    text = "A Title\nA fine first claim [1].\n" + "word " * 10_000 + "\n" + REFERENCES
    with pytest.raises(ImportFailed, match="PARSE_MAX_SENTENCE_CHARS") as raised:
        import_article(text, fetch=False)
    assert raised.value.line == 3
    assert not Claim.objects.exists()


def test_a_file_over_the_claim_limit_is_refused_without_reading_it_all(settings):
    """One paragraph of "1. " x 300,000 is 300,000 claims; pysbd's cost per sentence made it minutes."""
    settings.IMPORT_MAX_CLAIMS = 1000
    text = "A Title\nA first claim [1].\n" + "1. " * 300_000 + "\n" + REFERENCES
    with pytest.raises(ImportFailed, match=r"more than 1,000 claims.*IMPORT_MAX_CLAIMS") as raised:
        import_article(text, fetch=False)
    assert raised.value.line == 3
    assert not Claim.objects.exists()


def test_apa_authors_are_found_as_the_pattern_finds_them():
    from articles.importing import APA_AUTHOR, _apa_author_matches

    r = random.Random(2)
    pieces = ["Smith", " ", ",", ", ", "J.", "A.", "-", "&", "(", ")", "x", "Jo.", "K"]
    for _ in range(50_000):
        text = "".join(r.choice(pieces) for _ in range(r.randint(0, 12)))
        expected = [(m.start(), m.end(), m.group("family"), m.group("given")) for m in APA_AUTHOR.finditer(text)]
        assert _apa_author_matches(text) == expected, repr(text)


@pytest.mark.parametrize(("entry", "refused"), [
    ("Smith " * 20_000 + "(2020). Title. Journal, 1, 2.", False),    # the lazy author scan: about 200 s before
    ("(2020," * 20_000, False),                                       # a year never closed
    # Read as a 100 KB journal name, which the reference's field refuses, naming the line.
    ("Smith, J. (2020). Title. Journal" + ", 1 (" * 20_000, True),    # an issue never closed
    ("Smith J. Title here. " + "2020 " * 20_000, True),               # a Vancouver year with no ";"
], ids=["no comma", "unclosed year", "unclosed issue", "no semicolon"])
def test_a_reference_entry_of_a_hundred_kilobytes_is_read(entry, refused):
    text = f"A Title\nSleep loss worsens mood [1].\nReferences\n1. {entry} https://doi.org/{DOI}\n"
    if refused:
        with pytest.raises(ImportFailed, match="at most 500 characters") as raised:
            import_article(text, fetch=False)
        assert raised.value.line == 4
        return
    report = import_article(text, fetch=False)
    [reference] = report.references
    assert reference["doi"] == DOI and reference["cited_by"] == 1
