"""Reading prose into claims and markers, and reading a whole article file (no database)."""

import textwrap
from pathlib import Path

import pytest

from articles.importing import ImportFailed, decode_text, parse_document, parse_reference_line
from articles.authoring.parsing import MarkerError, ParsedClaim, expand_numbers, parse_paragraph, parse_text, split_sentences

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "import"


def document(name):
    return parse_document(decode_text((FIXTURES / name).read_bytes()))


# --- parse_paragraph / parse_text -------------------------------------------


@pytest.mark.parametrize(
    ("sentence", "numbers"),
    [
        ("Ketamine blocks NMDA receptors [1].", (1,)),
        ("Ketamine blocks NMDA receptors [1, 3].", (1, 3)),
        ("Ketamine blocks NMDA receptors [2-4].", (2, 3, 4)),
        ("Ketamine blocks NMDA receptors [2–4].", (2, 3, 4)),
        ("Ketamine blocks NMDA receptors [2 — 3].", (2, 3)),
        ("Ketamine blocks NMDA receptors [1,3-5].", (1, 3, 4, 5)),
        ("Ketamine blocks NMDA receptors [1][2].", (1, 2)),
        ("Ketamine blocks NMDA receptors [3, 1, 3].", (3, 1)),
    ],
)
def test_markers_become_reference_numbers_and_leave_the_text(sentence, numbers):
    assert parse_paragraph(sentence) == [ParsedClaim("Ketamine blocks NMDA receptors.", numbers)]


def test_a_marker_after_the_full_stop_belongs_to_the_sentence_before():
    claims = parse_paragraph("Ketamine blocks NMDA receptors. [1] It also raises GABA. [2]")
    assert [(c.text, c.numbers) for c in claims] == [
        ("Ketamine blocks NMDA receptors.", (1,)),
        ("It also raises GABA.", (2,)),
    ]


def test_doi_markers_are_kept_as_written_for_the_importer_to_normalise():
    claims = parse_paragraph("Repeated doses help [doi:10.1007/S43440-020-00097-Z] and [1].")
    assert claims == [ParsedClaim("Repeated doses help and.", (1,), ("10.1007/S43440-020-00097-Z",))]
    assert claims[0].has_markers


@pytest.mark.parametrize(
    "paragraph",
    [
        "Different routes (e.g., oral vs. intranasal) differ [1]. A second sentence follows.",
        "Zorumski et al. showed this in rats [1]. A second sentence follows.",
        "Dr. J. R. Lee reported it in 2019 [1]. A second sentence follows.",
    ],
)
def test_abbreviations_and_initials_do_not_end_a_sentence(paragraph):
    claims = parse_paragraph(paragraph)
    assert len(claims) == 2
    assert claims[0].numbers == (1,)
    assert claims[1] == ParsedClaim("A second sentence follows.")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("4-2", "runs backwards"),
        ("0", "start at 1"),
        ("1-500", "too long"),
    ],
)
def test_impossible_numbers_are_refused(body, message):
    with pytest.raises(MarkerError, match=message):
        expand_numbers(body)


@pytest.mark.parametrize("marker", ["[1,]", "[3-]", "[2 and 4]", "[doi:]", "[1 3]", "[196s]"])
def test_a_mistyped_marker_is_refused_rather_than_kept_as_text(marker):
    with pytest.raises(MarkerError, match="is not a citation marker"):
        parse_paragraph(f"Ketamine blocks NMDA receptors {marker}.")


def test_brackets_that_are_not_markers_stay_in_the_text():
    assert parse_paragraph("The dose [sic] was low [2].") == [ParsedClaim("The dose [sic] was low.", (2,))]


@pytest.mark.parametrize("decade", ["[1960s]", "[2000s]", "[90s]"])
def test_a_bracketed_decade_is_text_not_a_mistyped_marker(decade):
    assert parse_paragraph(f"It was first used as an anaesthetic in the {decade} [1].") == [
        ParsedClaim(f"It was first used as an anaesthetic in the {decade}.", (1,))
    ]


def test_parse_text_reads_each_line_or_paragraph():
    claims = parse_text("First claim [1].\nSecond claim.\n\nThird claim [2]. Fourth claim.")
    assert [c.text for c in claims] == ["First claim.", "Second claim.", "Third claim.", "Fourth claim."]
    assert [c.numbers for c in claims] == [(1,), (), (2,), ()]


def test_split_sentences_ignores_blank_input_and_joins_wrapped_lines():
    assert split_sentences("  \n ") == []
    assert split_sentences("One sentence\nwrapped. Two.") == ["One sentence wrapped.", "Two."]


# --- decode_text -------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "message", "line"),
    [
        ("bad-empty.txt", "the file is empty", None),
        ("bad-blank.txt", "the file is empty", None),
        ("bad-binary.png", "binary file", 3),
        ("bad-latin1.txt", "not UTF-8", 1),
    ],
)
def test_unreadable_files_are_refused_with_the_line(name, message, line):
    with pytest.raises(ImportFailed, match=message) as caught:
        decode_text((FIXTURES / name).read_bytes())
    assert caught.value.line == line


def test_decode_text_drops_a_byte_order_mark_and_windows_line_ends():
    assert decode_text("\ufeffTitle\r\nBody.\r\n".encode()) == "Title\nBody.\n"


def test_a_control_character_is_named_with_its_line():
    with pytest.raises(ImportFailed, match="U\\+0007") as caught:
        decode_text("Title\nBody \x07 text.\n")
    assert str(caught.value).startswith("line 2:")


# --- parse_document ----------------------------------------------------------


def test_ketamine_article_structure():
    parsed = document("ketamine-therapy.txt")
    assert parsed.title == "The Science of Ketamine Therapy: How it Works and Why it's Effective"
    assert [s.heading for s in parsed.sections] == [
        "Introduction",
        "How Ketamine Works in the Brain",
        "The Role of Ketamine in the Treatment of Other Mental Health Conditions",
        "The Potential Benefits and Risks of Ketamine Therapy",
        "Current Research on Ketamine's Long-Term Effects",
        "The Future Of Ketamines Research And Development",
    ]
    assert parsed.summary.startswith("Ketamine therapy is a promising treatment")
    assert parsed.summary.endswith("discuss its potential benefits and risks.")
    assert [(r.number, r.doi) for r in parsed.references] == [
        (1, "10.1523/jneurosci.1547-16.2016"),
        (2, "10.1159/000493425"),
        (3, "10.1176/appi.ajp.2020.20050596"),
        (4, "10.1007/s43440-020-00097-z"),
    ]
    assert [(item["line"], item["reason"]) for item in parsed.left_out] == [
        (14, "publisher's statement (the site prints its own)"),
        (15, "sign-off"),
    ]
    assert parsed.warnings == []


def test_summary_and_introduction_need_a_paragraph_before_the_first_heading():
    parsed = document("unnumbered-heading.txt")
    assert parsed.summary == ""
    assert [s.heading for s in parsed.sections] == ["Why Combine Them"]


def test_markdown_headings_and_a_references_heading_with_a_colon():
    parsed = document("unnumbered-heading.txt")
    assert parsed.title == "Talking Therapies and Ketamine"
    assert [(r.number, r.doi, r.url) for r in parsed.references] == [
        (1, "10.1523/jneurosci.1547-16.2016", ""),
        (2, None, "https://www.nhs.uk/mental-health/talking-therapies-medicine-treatments/"
                  "talking-therapies-and-counselling/"),
    ]
    assert parsed.warnings == ["line 9: reference 1 is cited by no claim"]


def test_a_wrapped_reference_takes_its_doi_from_the_next_line():
    parsed = document("bracketed-wrapped.txt")
    assert [(r.number, r.line, r.doi) for r in parsed.references] == [
        (1, 5, "10.1007/s43440-020-00097-z"),
        (2, 7, "10.1176/appi.ajp.2020.20050596"),
    ]


def test_a_sign_off_inside_a_bulleted_list_is_left_out():
    parsed = document("bulleted-star.txt")
    assert parsed.left_out == [{"line": 5, "text": "- Best wishes, The Psychly Team", "reason": "sign-off"}]
    assert [r.doi for r in parsed.references] == ["10.1007/s43440-020-00097-z"]


def _shape(parsed):
    """What an import makes of a document: title, summary, sections of paragraphs of claims, references."""
    return {
        "title": parsed.title, "summary": parsed.summary,
        "sections": [(s.heading, [[(c.text, c.numbers, c.dois) for c in p.claims] for p in s.paragraphs])
                     for s in parsed.sections],
        "references": [(r.number, r.doi) for r in parsed.references],
        "left_out": [item["text"] for item in parsed.left_out],
    }


@pytest.mark.parametrize("width", [50, 60, 72, 80, 100])
def test_the_seed_hard_wrapped_with_blank_lines_reads_as_the_seed(width):
    original = decode_text((FIXTURES / "ketamine-therapy.txt").read_bytes())
    wrapped = "\n\n".join(textwrap.fill(line, width) for line in original.splitlines() if line.strip())
    assert wrapped.count("\n") > 2 * original.count("\n"), "the text really is wrapped"
    assert _shape(parse_document(wrapped)) == _shape(parse_document(original))


def test_a_hard_wrapped_file_reads_as_its_paragraphs():
    parsed = document("hard-wrapped.txt")
    assert parsed.title == "Ketamine and Talking Therapies: What a Single Infusion Can and Cannot Do"
    assert parsed.summary == (
        "Ketamine may open a short window in which psychotherapy works better. "
        "In one trial the benefit lasted for weeks."
    )
    sections = {s.heading: [[c.text for c in p.claims] for p in s.paragraphs] for s in parsed.sections}
    assert list(sections) == ["Introduction", "Why it might help", "What remains unknown"]
    assert sections["Why it might help"] == [[
        "Ketamine blocks NMDA receptors and, within hours, new synaptic connections form in the prefrontal cortex.",
        "The effect on PTSD was measured after two weeks of treatment.",
    ]]
    # A heading inside a block, after a finished sentence, still starts a section; the list lead-in and
    # each wrapped bullet stay paragraphs of their own.
    assert sections["What remains unknown"] == [
        ["Nobody knows yet how long the window stays open, or whether it closes faster in older patients."],
        ["Before you start:"],
        ["Ask how many sessions are planned and who will be with you during each one."],
        ["Keep a list of your current medication."],
    ]
    assert [(r.number, r.line, r.doi) for r in parsed.references] == [
        (1, 23, "10.1523/jneurosci.1547-16.2016"),
        (2, 27, "10.1176/appi.ajp.2020.20050596"),
    ]
    assert parsed.warnings == []


def test_without_blank_lines_only_a_sentence_carried_on_in_lower_case_is_joined():
    parsed = parse_document(
        "Title\n"
        "Ketamine blocks NMDA receptors and, within hours,\n"
        "new connections form.\n"
        "A paragraph missing its full stop\n"
        "A Heading After It\n"
        "Its paragraph.\n"
    )
    assert [[c.text for p in s.paragraphs for c in p.claims] for s in parsed.sections] == [
        ["Ketamine blocks NMDA receptors and, within hours, new connections form.",
         "A paragraph missing its full stop"],
        ["Its paragraph."],
    ]
    assert [s.heading for s in parsed.sections] == ["Introduction", "A Heading After It"]


def test_a_wrapped_paragraph_is_reported_at_its_first_line():
    with pytest.raises(ImportFailed, match="points at no reference") as caught:
        parse_document("Title\n\nA first line that runs on\nto a marker [7].\n\nReferences\n"
                       "1. Someone (2020). https://doi.org/10.1000/x\n")
    assert caught.value.line == 3


def test_a_heading_needs_a_paragraph_after_it():
    parsed = parse_document("Title\nFirst heading\nSecond heading\nA paragraph follows it.\n")
    # "First heading" is followed by another heading-like line, so it is body text.
    assert [s.heading for s in parsed.sections] == ["Introduction", "Second heading"]
    assert [c.text for c in parsed.sections[0].paragraphs[0].claims] == ["First heading"]


def test_a_question_can_be_a_heading_but_a_sentence_cannot():
    parsed = parse_document("Title\nWhat is ketamine?\nAn anaesthetic.\nIt is old.\nNew ideas keep coming.\n")
    assert [s.heading for s in parsed.sections] == ["What is ketamine?"]
    assert len(parsed.sections[0].paragraphs) == 3


def test_a_markdown_heading_with_nothing_under_it_is_reported():
    parsed = parse_document("Title\nIntro text here.\n## Empty\n## Full\nBody text.\n")
    assert [s.heading for s in parsed.sections] == ["Introduction", "Full"]
    assert parsed.warnings == [
        "no reference list found: every claim is without a source",
        'line 3: the heading "Empty" has no paragraphs under it',
    ]


def test_a_body_ending_in_a_bullet_list_is_not_a_reference_list():
    parsed = parse_document("Tips for Sleep\nSleep matters.\nTry these\n- Keep a routine\n- Dim the lights\n")
    assert parsed.references == []
    assert [c.text for p in parsed.sections[-1].paragraphs for c in p.claims] == [
        "Keep a routine", "Dim the lights",
    ]


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        ((FIXTURES / "bad-no-title.txt").read_text(), "no title", 1),
        ("Title [1]\nBody [1].\n1. A, B. (2020). T. https://doi.org/10.1159/000493425\n", "no title", 1),
        ("https://example.org/x\nBody.\n", "no title", 1),
        ("Just a Title\n", "no paragraphs", 1),
        ((FIXTURES / "bad-unknown-marker.txt").read_text(), r"\[5\] points at no reference", 4),
        ((FIXTURES / "bad-reference-without-link.txt").read_text(), "no DOI and no link", 7),
        ((FIXTURES / "bad-backwards-range.txt").read_text(), "runs backwards", 2),
        ("Title\nBody [1].\nMore [1,].\n1. A. (2020). T. https://doi.org/10.1159/000493425\n",
         "not a citation marker", 3),
        ("Title\nBody [doi:10.abc/x].\n", "is not a DOI", 2),
        ("Title\nBody [1].\n"
         "1. A, B. (2020). T. https://doi.org/10.1159/000493425\n"
         "1. C, D. (2021). U. https://doi.org/10.1523/jneurosci.1547-16.2016\n", "appears twice", 4),
        ("Title\nBody [1].\nText.\n", r"\[1\] points at no reference \(the reference list has no entries\)", 2),
    ],
)
def test_bad_documents_name_the_line(text, message, line):
    with pytest.raises(ImportFailed, match=message) as caught:
        parse_document(text)
    assert caught.value.line == line
    assert str(caught.value).startswith(f"line {line}: ")


# --- parse_reference_line ----------------------------------------------------


def test_apa_line():
    fields = parse_reference_line(
        "Zorumski, C. F., Izumi, Y., & Mennerick, S. (2016). Ketamine: NMDA Receptors and Beyond. The Journal of "
        "neuroscience : the official journal of the Society for Neuroscience, 36(44), 11158–11164. "
        "https://doi.org/10.1523/JNEUROSCI.1547-16.2016"
    )
    assert fields == {
        "authors": [
            {"family": "Zorumski", "given": "C. F."},
            {"family": "Izumi", "given": "Y."},
            {"family": "Mennerick", "given": "S."},
        ],
        "year": 2016,
        "title": "Ketamine: NMDA Receptors and Beyond",
        "container_title": "The Journal of neuroscience : the official journal of the Society for Neuroscience",
        "volume": "36",
        "issue": "44",
        "pages": "11158–11164",
    }


def test_apa_line_without_authors_has_the_title_first():
    fields = parse_reference_line(
        "A Randomized Controlled Trial of Repeated Ketamine Administration for Chronic Posttraumatic Stress "
        "Disorder. (2020). American Journal of Psychiatry. "
        "https://ajp.psychiatryonline.org/doi/full/10.1176/appi.ajp.2020.20050596"
    )
    assert fields == {
        "year": 2020,
        "title": "A Randomized Controlled Trial of Repeated Ketamine Administration for Chronic Posttraumatic "
                 "Stress Disorder",
        "container_title": "American Journal of Psychiatry",
    }


@pytest.mark.parametrize("line, author, title, container", [
    ("World Health Organization. (2023). Depressive disorder (depression). https://www.who.int/news-room/"
     "fact-sheets/detail/depression", "World Health Organization", "Depressive disorder (depression)", None),
    ("American Psychiatric Association. (2013). Diagnostic and statistical manual of mental disorders. "
     "American Psychiatric Publishing. https://doi.org/10.1176/appi.books.9780890425596",
     "American Psychiatric Association", "Diagnostic and statistical manual of mental disorders",
     "American Psychiatric Publishing"),
    ("National Health Service. (2023). Talking therapies. https://www.nhs.uk/mental-health/",
     "National Health Service", "Talking therapies", None),
])
def test_apa_line_with_a_group_author(line, author, title, container):
    fields = parse_reference_line(line)
    assert fields["authors"] == [{"literal": author}]
    assert fields["title"] == title
    assert fields.get("container_title") == container
    assert fields["year"] in (2013, 2023)


def test_a_sentence_case_title_naming_an_association_stays_a_title():
    fields = parse_reference_line("Association of ketamine use with suicide risk. (2021). JAMA Psychiatry. "
                                  "https://doi.org/10.1001/jamapsychiatry.2021.0001")
    assert "authors" not in fields
    assert fields["title"] == "Association of ketamine use with suicide risk"
    assert fields["container_title"] == "JAMA Psychiatry"


def test_vancouver_line():
    fields = parse_reference_line(
        "Zorumski CF, Izumi Y, Mennerick S. Ketamine: NMDA receptors and beyond. J Neurosci. "
        "2016;36(44):11158-64. doi:10.1523/JNEUROSCI.1547-16.2016"
    )
    assert fields == {
        "authors": [
            {"family": "Zorumski", "given": "CF"},
            {"family": "Izumi", "given": "Y"},
            {"family": "Mennerick", "given": "S"},
        ],
        "title": "Ketamine: NMDA receptors and beyond",
        "container_title": "J Neurosci",
        "year": 2016,
        "volume": "36",
        "issue": "44",
        "pages": "11158-64",
    }


def test_a_line_that_fits_no_style_becomes_the_title():
    assert parse_reference_line("Some report from 2021 https://example.org/report") == {
        "title": "Some report from 2021",
        "year": 2021,
    }


def test_a_sign_off_after_the_reference_list_is_left_out():
    parsed = parse_document(
        "Title\nKetamine blocks NMDA receptors [1].\nReferences\n"
        "- Zorumski, C. F. (2016). Ketamine. J Neurosci, 36(44), 1–2. https://doi.org/10.1523/jneurosci.1547-16.2016\n"
        "- The Psychly Team\n"
    )
    assert [r.doi for r in parsed.references] == ["10.1523/jneurosci.1547-16.2016"]
    assert parsed.left_out == [{"line": 5, "text": "The Psychly Team", "reason": "sign-off"}]


def test_closing_prose_is_not_mistaken_for_the_publishers_statement_or_a_sign_off():
    parsed = parse_document("Title\nKetamine is old.\nAt first, we knew little.\n- keep a routine\n")
    assert parsed.left_out == []
    assert [c.text for p in parsed.sections[0].paragraphs for c in p.claims] == [
        "Ketamine is old.", "At first, we knew little.", "keep a routine",
    ]
