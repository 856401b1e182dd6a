"""The one reader of citation markers that the paste box and the importer share (articles.authoring.parsing).

Forms taken from real writing: PLOS writes ranges across brackets ("[6]–[11]") and pairs as "[4],[5]";
text copied from a journal's web page keeps superscript digits ("anxiety.¹⁻³"); Markdown writes "[^8]".
"""

import pytest

from articles.authoring.parsing import MarkerError, extract_markers, normalise_markers, parse_paragraph, parse_text


def cited(text):
    return [(claim.text, claim.numbers) for claim in parse_paragraph(text)]


@pytest.mark.parametrize(
    ("sentence", "numbers"),
    [
        ("Smoking causes lung cancer [6]–[11].", (6, 7, 8, 9, 10, 11)),
        ("Smoking causes lung cancer [19]-[22].", (19, 20, 21, 22)),
        ("Smoking causes lung cancer [19] – [22].", (19, 20, 21, 22)),
        ("Smoking causes lung cancer [1]–[3], [5].", (1, 2, 3, 5)),
        ("Smoking causes lung cancer [4],[5].", (4, 5)),
        ("Smoking causes lung cancer [1-3].", (1, 2, 3)),
        ("Smoking causes lung cancer [1–3].", (1, 2, 3)),
        ("Smoking causes lung cancer [1,3-5].", (1, 3, 4, 5)),
        ("Smoking causes lung cancer.¹", (1,)),
        ("Smoking causes lung cancer.¹²", (12,)),
        ("Smoking causes lung cancer.¹⁻³", (1, 2, 3)),
        ("Smoking causes lung cancer.¹,⁴", (1, 4)),
        ("Smoking causes lung cancer.¹˒⁴", (1, 4)),
        ("Smoking causes lung cancer.²–⁴", (2, 3, 4)),
        ("Smoking causes lung cancer¹⁻³.", (1, 2, 3)),
        ("Smoking causes lung cancer (and emphysema).³", (3,)),
        ("Smoking causes lung cancer.[^8]", (8,)),
        ("Smoking causes lung cancer [^8][^9].", (8, 9)),
    ],
)
def test_every_numbered_form_cites_its_numbers(sentence, numbers):
    assert cited(sentence) == [("Smoking causes lung cancer." if "(and" not in sentence
                                else "Smoking causes lung cancer (and emphysema).", numbers)]


def test_a_superscript_after_the_full_stop_cites_the_sentence_before_not_the_next():
    assert cited("Sleep loss raises anxiety.¹ Exercise lowers it.²˒³ Diet matters less.") == [
        ("Sleep loss raises anxiety.", (1,)),
        ("Exercise lowers it.", (2, 3)),
        ("Diet matters less.", ()),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "The room measured 12 m² in all.",
        "A dose of 10⁶ cells was given.",
        "The model explained variance with R² = 0.41 overall.",
        "The test gave χ² = 4.2 on one degree of freedom.",
        "A volume of 5 cm³ was drawn.",
    ],
)
def test_powers_and_statistics_are_not_citations(text):
    assert cited(text) == [(text, ())]


def test_the_paste_box_reads_the_same_forms():
    claims = parse_text("Smoking causes cancer [1]–[3].\nQuitting helps.⁴")
    assert [(claim.text, claim.numbers) for claim in claims] == [
        ("Smoking causes cancer.", (1, 2, 3)), ("Quitting helps.", (4,)),
    ]


def test_a_range_across_brackets_that_runs_backwards_is_refused():
    with pytest.raises(MarkerError, match="runs backwards"):
        extract_markers("Smoking causes cancer [11]–[6].")


def test_a_named_footnote_the_paste_box_cannot_number_is_refused_not_dropped():
    with pytest.raises(MarkerError, match=r"\[\^smith\] is not a citation marker"):
        extract_markers("Smoking causes cancer.[^smith]")


def test_text_without_markers_is_returned_unchanged():
    text = "Scores rose from 2 to 4 [sic] in the [1960s], by 3 – 4 points."
    assert normalise_markers(text) == text


@pytest.mark.parametrize("piece", ["[1]–[2] ", "¹⁻², ", "a¹,", "[^1]", "[1],", "x²"])
def test_long_runs_of_marker_pieces_read_in_linear_time(piece):
    """100,000 pieces: a backtracking pattern would not finish; each piece is read once."""
    text = "Word " + piece * 100_000 + "end."
    normalised = normalise_markers(text)
    assert normalised.startswith("Word ") and normalised.endswith("end.")


def author_years(text):
    return [(claim.text, [(cite.names, cite.year) for cite in claim.author_years])
            for claim in parse_paragraph(text, author_year=True)]


@pytest.mark.parametrize(
    ("sentence", "text", "cites"),
    [
        ("Bans cut smoking (Fichtenberg & Glantz, 2002).", "Bans cut smoking.", [(("Fichtenberg & Glantz",), "2002")]),
        ("Youth buy easily (DiFranza et al., 2001).", "Youth buy easily.", [(("DiFranza et al.",), "2001")]),
        ("Stores were warned (Food and Drug Administration, 2015a; 2015b).", "Stores were warned.",
         [(("Food and Drug Administration",), "2015a"), (("Food and Drug Administration",), "2015b")]),
        ("It held (e.g., Lee, 2020, p. 4; Kim & Park, 2019).", "It held.",
         [(("Lee",), "2020"), (("Kim & Park",), "2019")]),
        # A narrative citation's year stays until the importer matches it to an entry (it may be prose).
        ("Smith (2019) found more.", "Smith (2019) found more.", [(("Smith",), "2019")]),
        ("In a review, Fichtenberg and Glantz (2002) agreed.", "In a review, Fichtenberg and Glantz (2002) agreed.",
         [(("Fichtenberg and Glantz", "Glantz"), "2002")]),
        ("The sample (n = 120, 2019 cohort) was small.", "The sample (n = 120, 2019 cohort) was small.", []),
        ("The 2019 report (2019) said so.", "The 2019 report (2019) said so.", []),
        ("Rates rose (from 2010 to 2019) in Wales.", "Rates rose (from 2010 to 2019) in Wales.", []),
    ],
)
def test_apa_citations_are_read_when_asked_for(sentence, text, cites):
    assert author_years(sentence) == [(text, cites)]


def test_the_paste_box_keeps_author_year_text_as_text():
    assert [claim.text for claim in parse_text("Bans cut smoking (Fichtenberg & Glantz, 2002).")] == [
        "Bans cut smoking (Fichtenberg & Glantz, 2002)."]


@pytest.mark.parametrize("piece", ["(Smith, 2019) ", "(", "Smith (2019) ", "(a, 2019"])
def test_long_runs_of_author_year_pieces_read_in_linear_time(piece):
    from articles.authoring.parsing import _Markers, _take_author_years

    text = "Word " + piece * 50_000 + "end."
    markers = _Markers()
    assert _take_author_years(text, markers).endswith("end.")


def test_a_pandoc_doi_citation_cites_the_doi():
    text, markers = extract_markers("Ketamine blocks NMDA receptors [@doi:10.1523/JNEUROSCI.1547-16.2016].")
    assert (text, markers.dois) == ("Ketamine blocks NMDA receptors.", ["10.1523/JNEUROSCI.1547-16.2016"])


def test_an_empty_pandoc_doi_citation_is_refused():
    with pytest.raises(MarkerError, match=r"\[@doi:\] is not a citation marker"):
        extract_markers("Ketamine blocks NMDA receptors [@doi:].")
