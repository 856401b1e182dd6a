"""import_article on real open-access writing in the layouts health writers use.

Each fixture is a rewrite of the opening paragraphs of "The Paradox of Mental Health: Over-Treatment
and Under-Recognition" (the PLOS Medicine Editors, PLOS Med 2013, doi:10.1371/journal.pmed.1001456,
CC BY) into one layout; tests/fixtures/import/README.md says which layout each is and where the text
and the references come from. Every test pins which sentence cites which work, not how many do.
"""

from pathlib import Path

import pytest

from articles.importing import ImportFailed, import_article
from articles.models import Article, Claim
from references.models import MetadataSource, Reference

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "import"

MOYNIHAN_2002 = "10.1136/bmj.324.7342.886"
WOLOSHIN = "10.1371/journal.pmed.0030170"
MOYNIHAN_2003 = "10.1136/bmj.326.7379.45"
PATEL = "10.1016/s0140-6736(07)61240-9"
KOHN = "10.1590/s0042-96862004001100011"

OPENING = ("Mental health holds an unusual place among health conditions: some of its problems are over-treated "
           "while others go unrecognised.")
RELABELLED = "Ordinary life experiences such as shyness or grief can be relabelled as illnesses that need medicine."
PROMOTED = ("Mild complaints such as restless legs or low sexual desire have been promoted as diseases in their "
            "own right.")
WIDENING = "Widening the boundaries of illness in this way enlarges the market for treatments."
NO_TREATMENT = "Most people with mental disorders in low- and middle-income countries receive no treatment at all."
GAP = "The gap between need and treatment is large for every serious mental disorder."


def links(report):
    """Every claim of the report and what it cites, in citation order (a DOI, else the link)."""
    return {claim["text"]: [source["doi"] or source["url"] for source in claim["sources"]]
            for claim in report.claims}


def saved_links():
    """The same, read back from the database: the Citation rows the import made."""
    return {claim.text: [c.reference.doi or c.reference.url for c in claim.citations.order_by("position")]
            for claim in Claim.objects.all()}


def test_plos_ranges_across_brackets_cite_every_number_in_the_range():
    report = import_article((FIXTURES / "plos-ranges.txt").read_bytes(), fetch=False)

    expected = {
        OPENING: [],
        RELABELLED: [MOYNIHAN_2002],
        PROMOTED: [WOLOSHIN, MOYNIHAN_2003],                       # [2],[3]
        WIDENING: [MOYNIHAN_2002, WOLOSHIN, MOYNIHAN_2003],        # [1]–[3], en dash
        NO_TREATMENT: [PATEL],
        GAP: [PATEL, KOHN],                                        # [4]-[5], hyphen
    }
    assert links(report) == expected
    assert saved_links() == expected
    assert [section["heading"] for section in report.sections] == ["Introduction", "Over-treatment",
                                                                   "Under-recognition"]
    assert report.warnings == []


def test_superscripts_copied_from_a_web_page_cite_and_the_boilerplate_is_left_out():
    report = import_article((FIXTURES / "web-superscript.txt").read_bytes(), fetch=False)

    assert links(report) == {
        RELABELLED: [MOYNIHAN_2002],                                # .¹
        PROMOTED: [WOLOSHIN, MOYNIHAN_2003],                       # .²˒³
        WIDENING: [MOYNIHAN_2002, WOLOSHIN, MOYNIHAN_2003],        # .¹⁻³
        # "at all⁴, and ... disorder.⁴,⁵": one sentence, a superscript after a word and one after the stop.
        "Most people with mental disorders in low- and middle-income countries receive no treatment at all, and "
        "the gap between need and treatment is large for every serious mental disorder.": [PATEL, KOHN],
    }
    assert report.left_out == [
        {"line": 3, "text": "Medically reviewed by Dr. Ana Ruiz, MD — Updated on May 7, 2013",
         "reason": "byline or review note (the site shows its own)"},
        {"line": 9, "text": "Disclaimer: This article is for informational purposes only and is not a substitute "
                            "for professional medical advice.", "reason": "disclaimer (the site prints its own)"},
        {"line": 11, "text": "— The Psychly team", "reason": "sign-off"},
    ]
    assert not Claim.objects.filter(text__icontains="reviewed").exists()


def test_markdown_footnotes_form_the_reference_list_and_rules_are_not_headings():
    report = import_article((FIXTURES / "markdown-footnotes.md").read_bytes(), fetch=False)

    expected = {
        OPENING: [],
        RELABELLED: [MOYNIHAN_2002],                                # .[^1]
        PROMOTED: [WOLOSHIN, MOYNIHAN_2003],                       # .[^2][^3]
        NO_TREATMENT: [PATEL],                                     # [^patel], a named footnote
        GAP: [PATEL, KOHN],                                        # .[^patel][^kohn]
    }
    assert links(report) == expected
    assert saved_links() == expected
    article = Article.objects.get()
    assert article.title == "Over-Treatment and Under-Recognition in Mental Health"
    # "---" is no heading, and the footnote definitions are neither claims nor sections.
    assert list(article.sections.values_list("heading", flat=True)) == ["Introduction", "Over-treatment",
                                                                        "Under-recognition"]
    assert [(ref["number"], ref["line"], ref["doi"]) for ref in report.references] == [
        (1, 25, MOYNIHAN_2002), (2, 28, WOLOSHIN), (3, 30, MOYNIHAN_2003), (4, 33, PATEL), (5, 37, KOHN),
    ]
    # The continuation lines are part of the entry: the title runs across the wrap.
    assert Reference.objects.get(doi=MOYNIHAN_2002).title == (
        "Selling sickness: the pharmaceutical industry and disease mongering")
    assert Reference.objects.get(doi=MOYNIHAN_2002).container_title == "BMJ"
    assert [(item["line"], item["reason"]) for item in report.left_out] == [
        (17, "sign-off"),
        (19, "about the author (the site shows its own)"),
        (21, "about the author (the site shows its own)"),
        (23, "disclaimer (the site prints its own)"),
    ]
    assert report.warnings == []


def test_a_footnote_marker_without_a_definition_names_the_line():
    text = ("A title\n\nA claim.[^1] Another.[^missing]\n\n"
            "[^1]: Moynihan R. Selling sickness. doi:10.1136/bmj.324.7342.886\n")
    with pytest.raises(ImportFailed) as failed:
        import_article(text, fetch=False)
    assert failed.value.line == 3
    assert "[^missing] is not a citation marker" in failed.value.message
    assert Article.objects.count() == 0


def test_pmid_only_entries_are_saved_unverified_when_pubmed_cannot_be_reached(fake_ncbi, fake_crossref):
    fake_ncbi.set_mode("drop")
    report = import_article((FIXTURES / "pmid-only.txt").read_bytes())

    moynihan = "https://pubmed.ncbi.nlm.nih.gov/11950740/"
    kohn = "https://pmc.ncbi.nlm.nih.gov/articles/PMC2623050/"
    nowell = "https://pubmed.ncbi.nlm.nih.gov/959840/"
    assert links(report) == {
        RELABELLED: [moynihan],
        "Mild complaints such as restless legs have been promoted as diseases in their own right.": [WOLOSHIN],
        GAP: [kohn],
        "Tumours, like disease labels, change under the pressure put on them.": [nowell],
    }
    by_line = {ref["line"]: ref for ref in report.references}
    assert (by_line[13]["url"], by_line[13]["metadata"], by_line[13]["needs_check"]) == (
        moynihan, MetadataSource.CITATION_LINE, True)
    moynihan_reference = Reference.objects.get(pmid="11950740")
    assert moynihan_reference.doi is None
    # What the reference line said stands in for PubMed's record until an editor checks it.
    assert moynihan_reference.year == 2002
    assert moynihan_reference.title.startswith("Moynihan")
    assert "Selling sickness" in moynihan_reference.title + moynihan_reference.container_title
    assert not moynihan_reference.counts_as_support
    assert Reference.objects.get(pmcid="PMC2623050").url == kohn
    assert Reference.objects.get(pmid="959840").needs_check
    unverified = [warning for warning in report.warnings if "PubMed could not be asked" in warning]
    assert [warning.split(":")[0] for warning in unverified] == ["line 13", "line 15", "line 16"]
    assert "PMID 959840" in unverified[2] and "saved unverified" in unverified[2]


def test_a_pmid_pubmed_does_not_know_refuses_the_file_naming_the_line(fake_ncbi, fake_crossref):
    with pytest.raises(ImportFailed) as failed:
        import_article((FIXTURES / "pmid-only.txt").read_bytes())
    assert failed.value.line == 13
    assert "PubMed has no record for PMID 11950740" in failed.value.message
    assert Article.objects.count() == Reference.objects.count() == 0


def test_a_pmid_only_entry_becomes_a_pubmed_reference_when_pubmed_answers(fake_ncbi, fake_crossref):
    """PMID 23121403 is the recorded NCBI answer in tests/fixtures/pubmed (Brighton et al. 2012, NEJM)."""
    text = (
        "Aspirin after venous thromboembolism\n\n"
        "Low-dose aspirin reduced recurrent venous thromboembolism after anticoagulation stopped [1].\n\n"
        "References\n\n"
        "1. Brighton TA, Eikelboom JW, Mann K, et al. (2012) Low-dose aspirin for preventing recurrent venous "
        "thromboembolism. N Engl J Med 367: 1979–1987. https://pubmed.ncbi.nlm.nih.gov/23121403/\n"
    )
    report = import_article(text)

    reference = Reference.objects.get(pmid="23121403")
    assert reference.metadata_source == MetadataSource.PUBMED
    assert reference.doi == "10.1056/nejmoa1210384"
    assert links(report) == {
        "Low-dose aspirin reduced recurrent venous thromboembolism after anticoagulation stopped.":
            ["10.1056/nejmoa1210384"],
    }
    assert not [warning for warning in report.warnings if "PubMed" in warning]


def _body(lines):
    from articles.importing import parse_document

    text = "A title\n\nSleep loss raises anxiety [1].\n\n" + "\n\n".join(lines) + (
        "\n\nReferences\n\n1. Moynihan R (2002) Selling sickness. BMJ 324: 886. doi:10.1136/bmj.324.7342.886\n")
    document = parse_document(text)
    claims = [claim.text for section in document.sections for p in section.paragraphs for claim in p.claims]
    return claims, [(item["text"], item["reason"]) for item in document.left_out]


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("With care, the Editorial Team", "sign-off"),
        ("With care,", "sign-off"),
        ("Warm regards, Dr. Ana Ruiz", "sign-off"),
        ("Best wishes", "sign-off"),
        ("Thanks for reading!", "sign-off"),
        ("— The Psychly team", "sign-off"),
        ("The Editorial Team", "sign-off"),
        ("From all of us at the Psychly team", "sign-off"),
        ("Disclaimer: the content of this page is general information.", "disclaimer (the site prints its own)"),
        ("This article is for informational purposes only.", "disclaimer (the site prints its own)"),
        ("The information here is not intended as a substitute for professional medical advice, diagnosis or "
         "treatment.", "disclaimer (the site prints its own)"),
        ("This content does not constitute medical advice.", "disclaimer (the site prints its own)"),
        ("Reviewed by Dr. Sam Okafor, PhD", "byline or review note (the site shows its own)"),
        ("Medically reviewed by Jane Doe, RN", "byline or review note (the site shows its own)"),
        ("Fact-checked by the Psychly desk", "byline or review note (the site shows its own)"),
        ("Last updated: March 3, 2024", "byline or review note (the site shows its own)"),
    ],
)
def test_sign_offs_and_boilerplate_at_the_end_are_left_out_not_claims(line, reason):
    claims, left_out = _body([line])
    assert claims == ["Sleep loss raises anxiety."]
    assert left_out == [(line, reason)]


def test_a_sign_off_pair_on_two_lines_is_left_out_whole():
    claims, left_out = _body(["With care,", "The Editorial Team"])
    assert claims == ["Sleep loss raises anxiety."]
    assert left_out == [("With care,", "sign-off"), ("The Editorial Team", "sign-off")]


def test_an_about_the_author_section_is_left_out_until_the_next_heading():
    claims, left_out = _body(["About the author", "Dana has written on sleep for ten years.",
                              "Sleep and mood", "Poor sleep predicts low mood a year later."])
    assert claims == ["Sleep loss raises anxiety.", "Poor sleep predicts low mood a year later."]
    assert left_out == [("About the author", "about the author (the site shows its own)"),
                        ("Dana has written on sleep for ten years.", "about the author (the site shows its own)")]


@pytest.mark.parametrize(
    "line",
    [
        "Take care of your sleep in the weeks after a loss.",
        "Best practice is to screen every patient at the first visit.",
        "Sleep is a team effort in many families.",
        "The trial was reviewed by an independent board before it began.",
        "Many families say a care team helped them most.",
    ],
)
def test_prose_that_starts_like_boilerplate_stays_a_claim(line):
    claims, left_out = _body([line])
    assert claims == ["Sleep loss raises anxiety.", line]
    assert left_out == []


BAXTER = "10.1017/s0033291713003243"
KESSLER = "10.1002/mpr.1359"
KINDERMAN = "10.1192/bjp.bp.114.147553"
TAQUET = "10.1016/s2215-0366(21)00084-5"
SUICIDE_PREVENTION = "https://www.suicideinfo.ca/resource/depression-suicide-prevention/"
WHO_DEPRESSION = "https://www.who.int/news-room/fact-sheets/detail/depression"


def test_markdown_with_apa_author_year_citations_and_an_alphabetical_list():
    """A public Markdown health article (sahha-ai/sahha-developer-site, blog/2022-07-22/index.md), rewritten."""
    report = import_article((FIXTURES / "markdown-apa.md").read_bytes(), fetch=False)

    expected = {
        "Anxiety disorders are ranked sixth most disabling among disorders and are linked to 7% of suicide "
        "deaths.": [BAXTER],                                           # five authors written out
        "Anxiety and mood disorders are common over a lifetime in the United States.": [KESSLER],  # et al.
        "Depression affects around 280 million people worldwide.": [WHO_DEPRESSION],               # group author
        # Narrative: the name stays in the sentence, the year goes.
        "Taquet et al. found that COVID-19 survivors are at an increased risk of anxiety and mood disorders.":
            [TAQUET],
        "People with depression are far more likely to die by suicide than the general population.":
            [SUICIDE_PREVENTION],
        "These disorders can lead to social withdrawal and lower levels of adaptive coping.": [KINDERMAN, BAXTER],
        "Digital markers could one day help with early detection.": [],
    }
    assert links(report) == expected
    assert saved_links() == expected
    article = Article.objects.get()
    # The title comes from the front matter; the image, the comment and the tag are not claims.
    assert article.title == "The burden of anxiety and depressive disorders"
    assert list(article.sections.values_list("heading", flat=True)) == ["A common burden",
                                                                        "The cost to the individual"]
    assert report.warnings == []


def test_an_author_year_citation_that_matches_no_entry_names_it_and_the_line():
    # The published article cites "(Kinderman et al., 2018)" against an entry dated 2015.
    text = (FIXTURES / "markdown-apa.md").read_text().replace("Kinderman et al., 2015", "Kinderman et al., 2018")
    with pytest.raises(ImportFailed) as failed:
        import_article(text, fetch=False)
    assert failed.value.line == 18
    assert failed.value.message.startswith(
        "the citation (Kinderman et al., 2018; Baxter et al., 2014) matches no entry in the reference list "
        "(an entry by Kinderman et al. dated (2018))")
    assert Article.objects.count() == Reference.objects.count() == 0


APA_LIST = (
    "\n\nReferences\n\n"
    "Food and Drug Administration. (2015a). Warning letters to retailers. https://www.fda.gov/a\n\n"
    "Food and Drug Administration. (2015b). Tobacco compliance checks. https://www.fda.gov/b\n\n"
    "Kessler, R. C., Petukhova, M., Sampson, N. A., & Wittchen, H. U. (2012). Twelve-month and lifetime "
    "prevalence of anxiety and mood disorders. Int J Methods Psychiatr Res, 21(3), 169-184. "
    "https://doi.org/10.1002/mpr.1359\n\n"
    "Kessler, R. C., Aguilar-Gaxiola, S., Alonso, J., et al. (2012). The global burden of mental disorders. "
    "Epidemiol Psichiatr Soc, 18(1), 23-33. https://doi.org/10.1017/S1121189X00001421\n"
)


def test_year_suffixes_pick_the_entry_and_a_citation_after_a_semicolon_keeps_the_author():
    report = import_article("Tobacco sales to minors\n\nRetailers were warned repeatedly "
                            "(Food and Drug Administration, 2015a; 2015b). The FDA checked stores "
                            "(Food and Drug Administration, 2015b)." + APA_LIST, fetch=False)
    assert links(report) == {
        "Retailers were warned repeatedly.": ["https://www.fda.gov/a", "https://www.fda.gov/b"],
        "The FDA checked stores.": ["https://www.fda.gov/b"],
    }


def test_an_author_year_citation_matching_two_entries_asks_for_year_letters():
    with pytest.raises(ImportFailed) as failed:
        import_article("Anxiety\n\nAnxiety is common (Kessler et al., 2012)." + APA_LIST, fetch=False)
    assert failed.value.line == 3
    assert failed.value.message == (
        "the citation (Kessler et al., 2012) matches 2 entries of the reference list (entries 3, 4); give their "
        "years letters, (2012a), (2012b), in the list and in the text")


def test_a_narrative_citation_is_cited_and_its_year_leaves_the_sentence():
    report = import_article("Anxiety\n\nFood and Drug Administration (2015a) warned retailers. Sales fell."
                            + APA_LIST, fetch=False)
    assert links(report) == {"Food and Drug Administration warned retailers.": ["https://www.fda.gov/a"],
                             "Sales fell.": []}


def test_a_capitalised_word_before_a_year_that_names_no_entry_stays_prose():
    # "the UK (2019)" and "DSM-5 (2013)" read like narrative citations but name no entry: words, not errors.
    report = import_article("Anxiety\n\nRates in the UK (2019) rose, and DSM-5 (2013) changed the criteria "
                            "(Food and Drug Administration, 2015b)." + APA_LIST, fetch=False)
    assert links(report) == {
        "Rates in the UK (2019) rose, and DSM-5 (2013) changed the criteria.": ["https://www.fda.gov/b"],
    }


def test_author_year_text_stays_prose_when_the_list_is_numbered():
    report = import_article("Anxiety\n\nAnxiety is common (Kessler et al., 2012) [1].\n\nReferences\n\n"
                            "1. Kessler RC. Prevalence. 2012. https://doi.org/10.1002/mpr.1359\n", fetch=False)
    assert links(report) == {"Anxiety is common (Kessler et al., 2012).": [KESSLER]}


def test_markdown_inline_markup_is_not_part_of_a_claim():
    claims, _left_out = _body([
        "**Poor sleep** predicts *low mood* a year later, as [a cohort study](https://example.org/study) found.",
        "Scores of 2*3 and snake_case_names stay as written.",
    ])
    assert claims == ["Sleep loss raises anxiety.",
                      "Poor sleep predicts low mood a year later, as a cohort study found.",
                      "Scores of 2*3 and snake_case_names stay as written."]


def test_uppercase_headings_in_a_hard_wrapped_file_are_headings_and_every_citation_links():
    """plos-ranges.txt rewritten with headings in capitals, one ending in a colon, each directly above
    its hard-wrapped paragraph (no blank line between): see tests/fixtures/import/README.md."""
    report = import_article((FIXTURES / "uppercase-wrapped.txt").read_bytes(), fetch=False)

    expected = {
        OPENING: [],
        RELABELLED: [MOYNIHAN_2002],
        PROMOTED: [WOLOSHIN, MOYNIHAN_2003],
        WIDENING: [MOYNIHAN_2002, WOLOSHIN, MOYNIHAN_2003],
        NO_TREATMENT: [PATEL],
        GAP: [PATEL, KOHN],
    }
    assert links(report) == expected
    assert saved_links() == expected
    assert report.article.title == "OVER-TREATMENT AND UNDER-RECOGNITION IN MENTAL HEALTH"
    assert [(section["heading"], section["line"]) for section in report.sections] == [
        ("Introduction", None), ("OVER-TREATMENT: WHEN ORDINARY LIFE BECOMES AN ILLNESS", 6),
        ("UNDER-RECOGNITION", 13)]
    assert report.warnings == []


def test_a_line_of_acronyms_in_capitals_is_prose_a_line_in_capitals_with_a_word_is_a_heading():
    document = _body_document(
        "Talking therapies\n"
        "TALKING THERAPIES:\n"
        "CBT, DBT AND ACT:\n"
        "Each of these therapies has been tested in randomised trials [1].\n"
        "References\n"
        "1. Moynihan R (2003) The making of a disease. BMJ 326: 45–47. doi:10.1136/bmj.326.7379.45\n"
    )
    assert [section.heading for section in document.sections] == ["TALKING THERAPIES"]
    assert [claim.text for p in document.sections[0].paragraphs for claim in p.claims] == [
        "CBT, DBT AND ACT:", "Each of these therapies has been tested in randomised trials."]


def _body_document(text):
    from articles.importing import parse_document

    return parse_document(text)
