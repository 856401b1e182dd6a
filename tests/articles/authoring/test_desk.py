"""The writing desk's service: prose in, claims and citations out, identities kept, nothing half-saved."""

import pytest

from articles.authoring import desk
from articles.models import Article, Citation, Claim, ContentChange, ReviewComment, Section
from articles.review import comments
from references.models import Reference
from tests.factories import make_article, make_editor, make_reference, make_reviewer

pytestmark = pytest.mark.django_db

ZORUMSKI = "10.1523/jneurosci.1547-16.2016"  # in the fake Crossref's fixtures
WECKMANN = "10.1159/000493425"


@pytest.fixture
def editor(desk_editor):
    return desk_editor


@pytest.fixture
def article(editor, refs):
    return make_article("Sleep and memory", authors=[editor], byline="Dana Reyes, PhD", summary="What we know.",
                        sections={
                            "Basics": [
                                {"text": "Sleep consolidates memory.", "refs": [refs[0]], "locator": "p. 4"},
                                {"text": "Ask your doctor about sleep problems.", "context": True},
                            ],
                            "Trials": [{"text": "Naps improved recall in two trials.", "refs": refs}],
                        })


def sections_of(state):
    return [(s.section_id, s.heading, s.prose) for s in state.sections]


def save(article, editor, sections, **fields):
    values = {"title": article.title, "summary": article.summary, "byline": article.byline, **fields}
    return desk.save_desk(article, by=editor, sections=sections, **values)


def claims_of(article):
    return list(Claim.objects.filter(section__article=article).order_by("section__position", "position"))


def test_read_desk_writes_each_claim_with_its_numbers_and_context_mark(article):
    state = desk.read_desk(article)
    assert [s.heading for s in state.sections] == ["Basics", "Trials"]
    assert state.sections[0].prose == "Sleep consolidates memory [1].\n{context} Ask your doctor about sleep problems."
    assert state.sections[1].prose == "Naps improved recall in two trials [1, 2]."
    assert [s.status for s in state.sections[0].sentences] == ["supported", "context"]


def test_saving_unchanged_prose_keeps_every_claim_row_locator_and_comment(article, editor):
    reviewer = make_reviewer("desk-reviewer")
    first = claims_of(article)[0]
    thread = comments.open_thread(article, by=reviewer, claim=first, body="Which study?")
    before = [c.pk for c in claims_of(article)]
    save(article, editor, sections_of(desk.read_desk(article)))
    assert [c.pk for c in claims_of(article)] == before
    assert Citation.objects.get(claim=first, position=0).locator == "p. 4"
    assert ReviewComment.objects.get(pk=thread.pk).claim_id == first.pk
    assert Claim.objects.get(pk=before[1]).is_context


def test_an_edited_sentence_keeps_its_claim_and_a_new_one_is_added(article, editor):
    state = desk.read_desk(article)
    sections = sections_of(state)
    old = claims_of(article)
    sections[0] = (sections[0][0], "Basics", "Sleep strongly consolidates memory [1].\nA brand new claim here [2].\n"
                   "{context} Ask your doctor about sleep problems.")
    save(article, editor, sections)
    now = claims_of(article)
    assert now[0].pk == old[0].pk and now[0].text == "Sleep strongly consolidates memory."
    assert now[1].pk not in {c.pk for c in old} and now[1].text == "A brand new claim here."
    assert now[2].pk == old[1].pk
    assert Citation.objects.get(claim=now[0]).locator == "p. 4"


def test_a_rewritten_sentence_is_a_new_claim_and_the_old_one_goes(article, editor):
    sections = sections_of(desk.read_desk(article))
    old = claims_of(article)
    sections[1] = (sections[1][0], "Trials", "Completely different wording about caffeine [2].")
    save(article, editor, sections)
    assert not Claim.objects.filter(pk=old[2].pk).exists()
    assert claims_of(article)[-1].text == "Completely different wording about caffeine."


def test_a_number_may_cite_a_doi_pasted_in_the_same_save(article, editor, fake_crossref):
    sections = sections_of(desk.read_desk(article))
    sections[1] = (sections[1][0], "Trials", f"Ketamine acts on NMDA receptors [doi:{ZORUMSKI}].\n"
                   "The same receptor matters for learning [3].")
    save(article, editor, sections)
    new_ref = Reference.objects.get(doi=ZORUMSKI)
    last = claims_of(article)[-1]
    assert [c.reference_id for c in last.citations.all()] == [new_ref.pk]


def test_numbers_count_on_the_add_section_path_too(editor, refs):
    fresh = make_article("Empty", authors=[editor], byline="B", summary="S")
    save(fresh, editor, [(None, "First", f"One claim [doi:{refs[1].doi}].\nAnother [1].")])
    claims = claims_of(fresh)
    assert [list(c.citations.values_list("reference_id", flat=True)) for c in claims] == [[refs[1].pk]] * 2


def test_a_number_past_the_list_is_named_beside_its_sentence_and_nothing_is_saved(article, editor):
    sections = sections_of(desk.read_desk(article))
    sections[0] = (sections[0][0], "Renamed", "A claim past the list [9].")
    with pytest.raises(desk.DeskError) as raised:
        save(article, editor, sections, title="Changed title")
    heading, sentence, message = raised.value.problems[0]
    assert (heading, sentence) == ("Renamed", "A claim past the list.")
    assert "[9] points at no reference: the list has 2" in message
    article.refresh_from_db()
    assert article.title == "Sleep and memory"
    assert Section.objects.filter(article=article, heading="Renamed").count() == 0
    assert len(claims_of(article)) == 3


def test_an_unreadable_marker_is_named_and_nothing_is_saved(article, editor):
    sections = sections_of(desk.read_desk(article))
    sections.append((None, "More", "Half a marker [doi:10.1000/x."))
    with pytest.raises(desk.DeskError) as raised:
        save(article, editor, sections)
    assert "unclosed citation marker" in raised.value.problems[0][2]
    assert Section.objects.filter(article=article).count() == 2


def test_a_doi_crossref_cannot_reach_is_saved_as_a_marker_the_gate_blocks_and_retried(article, editor,
                                                                                       fake_crossref):
    from articles.review import gate

    fake_crossref.set_mode("server_error")
    sections = sections_of(desk.read_desk(article))
    sections[1] = (sections[1][0], "Trials", f"Ketamine acts on NMDA receptors [doi:{ZORUMSKI}].")
    state = save(article, editor, sections)
    sentence = state.sections[1].sentences[0]
    assert sentence.status == "unresolved"
    assert "Crossref could not be reached" in sentence.pending[0][1]
    claim = claims_of(article)[-1]
    assert claim.text == f"Ketamine acts on NMDA receptors [doi:{ZORUMSKI}]."
    assert not claim.citations.exists() and not Reference.objects.filter(doi=ZORUMSKI).exists()
    assert "marker_in_text" in {b.code for b in gate.publish_blockers(article)}
    # Crossref back: the same prose, saved again, cites the source and keeps the claim row.
    fake_crossref.set_mode("normal")
    state = save(article, editor, sections_of(desk.read_desk(article)))
    again = claims_of(article)[-1]
    assert again.pk == claim.pk and again.text == "Ketamine acts on NMDA receptors."
    assert [c.reference.doi for c in again.citations.all()] == [ZORUMSKI]
    assert state.sections[1].sentences[0].status == "supported"


def test_a_doi_crossref_does_not_know_refuses_the_save(article, editor, fake_crossref):
    sections = sections_of(desk.read_desk(article))
    sections[1] = (sections[1][0], "Trials", "Something [doi:10.9999/not-there].")
    with pytest.raises(desk.DeskError) as raised:
        save(article, editor, sections)
    assert "Crossref has no work" in raised.value.problems[0][2]
    assert len(claims_of(article)) == 3


def test_context_marking_and_unmarking(article, editor):
    sections = sections_of(desk.read_desk(article))
    sections[0] = (sections[0][0], "Basics", "{context} Sleep consolidates memory [1].\n"
                   "Ask your doctor about sleep problems.")
    save(article, editor, sections)
    first, second = claims_of(article)[:2]
    assert first.is_context and not second.is_context
    change = ContentChange.objects.filter(article=article).latest("at")
    assert "as a context statement" in change.description and "as a factual claim" in change.description


def test_sections_reorder_rename_and_remove(article, editor):
    sections = sections_of(desk.read_desk(article))
    trials_claim = claims_of(article)[-1]
    save(article, editor, [(sections[1][0], "Trials, renamed", sections[1][2])])
    assert list(Section.objects.filter(article=article).values_list("heading", flat=True)) == ["Trials, renamed"]
    assert claims_of(article) == [trials_claim]
    change = ContentChange.objects.filter(article=article).latest("at")
    assert "Removed section “Basics”" in change.description
    assert "Renamed section “Trials” to “Trials, renamed”" in change.description


def test_a_sentence_moved_to_another_section_keeps_its_claim(article, editor):
    sections = sections_of(desk.read_desk(article))
    first = claims_of(article)[0]
    sections[0] = (sections[0][0], "Basics", "{context} Ask your doctor about sleep problems.")
    sections[1] = (sections[1][0], "Trials", "Naps improved recall in two trials [1, 2].\nSleep consolidates memory [1].")
    save(article, editor, sections)
    moved = Claim.objects.get(pk=first.pk)
    assert moved.section.heading == "Trials" and moved.position == 1


def test_every_save_is_attributed_to_its_author(article, editor):
    sections = sections_of(desk.read_desk(article))
    save(article, editor, sections, summary="A new summary.")
    change = ContentChange.objects.filter(article=article).latest("at")
    assert change.user == editor and "Summary:" in change.description
    count = ContentChange.objects.count()
    save(article, editor, sections_of(desk.read_desk(article)), summary="A new summary.")
    assert ContentChange.objects.count() == count  # nothing changed, nothing recorded


def test_check_reads_without_saving_or_calling_crossref(article, fake_crossref):
    sections = sections_of(desk.read_desk(article))
    sections[1] = (sections[1][0], "Trials", f"New source here [doi:{ZORUMSKI}].\nNo source at all.")
    state = desk.check_desk(article, title=article.title, summary="", byline=article.byline, sections=sections)
    assert [s.status for s in state.sections[1].sentences] == ["new_source", "no_source"]
    assert state.sections[1].sentences[1].blockers == ["cites no source."]
    assert any("summary is missing" in b for b in state.article_blockers)
    assert fake_crossref.requests == [] and not Reference.objects.filter(doi=ZORUMSKI).exists()
    assert Article.objects.get(pk=article.pk).summary == "What we know."


def test_statuses_name_unverified_retracted_and_not_peer_reviewed(editor):
    from references.models import MetadataSource, PeerReviewStatus, RetractionStatus

    hand = make_reference(metadata_source=MetadataSource.MANUAL)
    retracted = make_reference(retraction=RetractionStatus.RETRACTED)
    preprint = make_reference(peer_review=PeerReviewStatus.NOT_PEER_REVIEWED)
    fresh = make_article("Statuses", authors=[editor], byline="B", summary="S")
    prose = f"One [doi:{hand.doi}].\nTwo [doi:{retracted.doi}].\nThree [doi:{preprint.doi}]."
    state = desk.check_desk(fresh, title="Statuses", summary="S", byline="B", sections=[(None, "A", prose)])
    assert [s.status for s in state.sections[0].sentences] == ["unverified", "retracted", "not_peer_reviewed"]


def test_numbers_follow_the_list_the_editor_was_shown(article, editor, refs):
    # The editor's page listed the references in this order; [1] means what it showed.
    sections = [(sections_of(desk.read_desk(article))[0][0], "Basics", "Sleep consolidates memory [1].")]
    save(article, editor, sections, reference_order=[refs[1].pk, refs[0].pk])
    assert [c.reference_id for c in claims_of(article)[0].citations.all()] == [refs[1].pk]


def test_a_section_of_600_claims_saves_and_reads_back(editor, refs):
    fresh = make_article("Long", authors=[editor], byline="B", summary="S")
    prose = "\n".join(f"Finding number {n} held in the cohort [1]." for n in range(600))
    save(fresh, editor, [(None, "Results", prose)], reference_order=[refs[0].pk])
    assert Claim.objects.filter(section__article=fresh).count() == 600
    again = desk.read_desk(fresh)
    assert again.sections[0].prose == prose


def test_matching_pairs_identical_moved_and_edited_sentences():
    old = ["Alpha is one.", "Beta is two.", "Gamma is three.", "Delta is four."]
    new = ["Alpha is one.", "Beta is two, roughly.", "Totally unrelated words entirely.", "Delta is four.",
           "Gamma is three."]
    pairs = desk.match_claims(old, new)
    assert pairs == {0: 0, 1: 1, 3: 3, 4: 2}


def test_opening_the_desk_costs_a_fixed_number_of_queries(django_assert_max_num_queries, editor, refs):
    prose = "\n".join(f"Finding number {n} held [1, 2]." for n in range(200))
    fresh = make_article("Queries", authors=[editor], byline="B", summary="S")
    save(fresh, editor, [(None, "A", prose), (None, "B", prose.replace("Finding", "Result"))],
         reference_order=[r.pk for r in refs])
    with django_assert_max_num_queries(12):
        desk.read_desk(Article.objects.get(pk=fresh.pk))
    sections = sections_of(desk.read_desk(fresh))
    with django_assert_max_num_queries(10):
        desk.check_desk(fresh, title="Q", summary="S", byline="B", sections=sections)
