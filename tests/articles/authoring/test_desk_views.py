"""The writing desk through the real admin: permissions, CSRF, the JSON check, saving once."""

import pytest
from django.test import Client
from django.urls import reverse

from articles.authoring import desk
from articles.models import Article, Claim, ReviewComment
from articles.review import comments
from references.models import Reference
from tests.factories import make_article, make_editor, make_reference, make_reviewer, make_user

pytestmark = pytest.mark.django_db

ZORUMSKI = "10.1523/jneurosci.1547-16.2016"


@pytest.fixture
def editor(desk_editor):
    return desk_editor


@pytest.fixture
def article(editor, refs):
    return make_article("Sleep and memory", authors=[editor], byline="Dana Reyes, PhD", summary="What we know.",
                        sections={"Basics": [{"text": "Sleep consolidates memory.", "refs": [refs[0]]},
                                             {"text": "Ask your doctor.", "context": True}],
                                  "Trials": [{"text": "Naps improved recall.", "refs": refs}]})


def logged_in(user, **kwargs):
    client = Client(**kwargs)
    client.force_login(user)
    return client


def desk_url(article, name="desk"):
    return reverse(f"admin:articles_article_{name}", args=[article.pk])


def posted(article, **changes):
    state = desk.read_desk(article)
    data = {"title": article.title, "summary": article.summary, "byline": article.byline,
            "reference_order": ",".join(str(r.pk) for r in state.references),
            "section_id": [s.section_id for s in state.sections], "heading": [s.heading for s in state.sections],
            "prose": [s.prose for s in state.sections]}
    data.update(changes)
    return data


def test_the_desk_shows_prose_statuses_references_and_workflow_buttons(editor, article):
    response = logged_in(editor).get(desk_url(article))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Sleep consolidates memory [1]." in page
    assert "{context} Ask your doctor." in page
    assert "status-supported" in page and "status-context" in page
    assert "[2]</span>" in page  # the reference list is numbered as readers see it
    assert reverse("admin:articles_article_workflow", args=[article.pk, "submit"]) in page
    assert reverse("articles:preview", args=[article.slug]) in page
    assert "<script>" not in page and " style=" not in page


def test_saving_the_desk_rewrites_the_article_at_once(editor, article):
    data = posted(article, title="Sleep, memory and naps")
    data["prose"] = [data["prose"][0], "Naps improved recall [1, 2].\nA second trial agreed [2]."]
    data["section_id"].append("")
    data["heading"].append("Added on the desk")
    data["prose"].append("{context} Sleep well.")
    response = logged_in(editor).post(desk_url(article), data)
    assert response.status_code == 302
    article.refresh_from_db()
    assert article.title == "Sleep, memory and naps"
    assert list(article.sections.values_list("heading", flat=True)) == ["Basics", "Trials", "Added on the desk"]
    assert Claim.objects.filter(section__article=article).count() == 5


def test_a_refused_save_names_the_sentence_and_saves_nothing(editor, article):
    data = posted(article, title="Changed")
    data["prose"][1] = "Naps improved recall [7]."
    response = logged_in(editor).post(desk_url(article), data)
    assert response.status_code == 400
    assert "[7] points at no reference" in response.content.decode()
    assert Article.objects.get(pk=article.pk).title == "Sleep and memory"


def test_many_sentences_post_without_the_field_limit(editor, refs, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000
    fresh = make_article("Long", authors=[editor], byline="B", summary="S")
    prose = "\n".join(f"Finding {n} held in the cohort [doi:{refs[0].doi}]." for n in range(600))
    data = {"title": "Long", "summary": "S", "byline": "B", "reference_order": "",
            "section_id": [""], "heading": ["Results"], "prose": [prose]}
    response = logged_in(editor).post(desk_url(fresh), data)
    assert response.status_code == 302
    assert Claim.objects.filter(section__article=fresh).count() == 600


def test_the_check_answers_json_and_saves_nothing(editor, article):
    data = posted(article)
    data["prose"][1] = "Naps improved recall.\nA claim with no source at all."
    response = logged_in(editor).post(desk_url(article, "desk_check"), data)
    assert response.status_code == 200
    answer = response.json()
    assert answer["sections"][1]["statuses"] == ["no_source", "no_source"]
    assert "cites no source" in answer["sections"][1]["html"]
    assert "[1]" in answer["references_html"]
    assert Claim.objects.filter(section__article=article, text="A claim with no source at all.").count() == 0


def test_the_check_costs_a_fixed_number_of_queries(editor, article, django_assert_max_num_queries):
    client = logged_in(editor)
    data = posted(article)
    data["prose"][1] = "\n".join(f"Result {n} was seen [1, 2]." for n in range(300))
    with django_assert_max_num_queries(20):
        assert client.post(desk_url(article, "desk_check"), data).status_code == 200


def test_opening_the_desk_costs_a_fixed_number_of_queries(editor, refs, django_assert_max_num_queries):
    fresh = make_article("Queries", authors=[editor], byline="B", summary="S",
                         sections={"A": [{"text": f"Claim {n} held.", "refs": refs} for n in range(300)]})
    client = logged_in(editor)
    with django_assert_max_num_queries(30):
        assert client.get(desk_url(fresh)).status_code == 200


def test_the_desk_refuses_posts_without_csrf(editor, article):
    client = logged_in(editor, enforce_csrf_checks=True)
    assert client.post(desk_url(article), posted(article)).status_code == 403
    assert client.post(desk_url(article, "desk_check"), posted(article)).status_code == 403


@pytest.mark.parametrize("who, get, save, check", [
    ("editor", 200, 302, 200),
    ("reviewer", 200, 403, 403),
    ("staff", 403, 403, 403),  # staff without the articles permissions
    ("reader", 302, 302, 302),  # not staff: the admin sends them to log in
])
def test_permission_matrix(who, get, save, check, editor, article):
    from django.contrib.auth.models import User

    user = {"editor": lambda: editor, "reviewer": lambda: make_reviewer("desk-rev"),
            "staff": lambda: make_user("desk-staff"),
            "reader": lambda: User.objects.create_user("desk-reader")}[who]()
    client = logged_in(user)
    assert client.get(desk_url(article)).status_code == get
    assert client.post(desk_url(article), posted(article, title="Hijacked")).status_code == save
    assert client.post(desk_url(article, "desk_check"), posted(article)).status_code == check
    if who != "editor":
        assert Article.objects.get(pk=article.pk).title == "Sleep and memory"


def test_a_reviewer_sees_the_desk_read_only(article):
    page = logged_in(make_reviewer("desk-rev2")).get(desk_url(article)).content.decode()
    assert 'value="Save the article"' not in page and "readonly" in page


def test_adding_a_source_by_doi_fetches_it_and_gives_its_marker(editor, article, fake_crossref):
    response = logged_in(editor).post(desk_url(article, "desk_source"), {"identifier": f"https://doi.org/{ZORUMSKI}"},
                                      HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    assert response.json()["marker"] == f"[doi:{ZORUMSKI}]"
    assert Reference.objects.filter(doi=ZORUMSKI).exists()


def test_adding_a_source_when_crossref_is_down_offers_entry_by_hand_unverified(editor, article, fake_crossref):
    fake_crossref.set_mode("server_error")
    client = logged_in(editor)
    response = client.post(desk_url(article, "desk_source"), {"identifier": ZORUMSKI}, HTTP_ACCEPT="application/json")
    assert response.status_code == 503 and response.json()["by_hand"] is True
    assert not Reference.objects.filter(doi=ZORUMSKI).exists()
    response = client.post(desk_url(article, "desk_source"), {
        "identifier": ZORUMSKI, "by_hand": "1", "title": "Ketamine: NMDA receptors and beyond",
        "authors": "Zorumski, Charles", "year": "2016", "container_title": "J Neurosci",
    }, HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    reference = Reference.objects.get(doi=ZORUMSKI)
    assert not reference.is_verified and not reference.counts_as_support
    # Cited from the desk, the sentence says so.
    data = posted(article)
    data["prose"][1] = f"Ketamine acts on NMDA receptors [doi:{ZORUMSKI}]."
    answer = client.post(desk_url(article, "desk_check"), data).json()
    assert answer["sections"][1]["statuses"] == ["unverified"]


def test_adding_a_source_without_script_redirects_with_a_message(editor, article):
    response = logged_in(editor).post(desk_url(article, "desk_source"), {"identifier": "not a doi"}, follow=True)
    assert response.redirect_chain[-1][0] == desk_url(article)
    assert "DOI" in response.content.decode()


def test_the_editor_replies_to_a_pinned_comment_from_the_desk(editor, article):
    reviewer = make_reviewer("desk-rev3")
    claim = Claim.objects.get(text="Sleep consolidates memory.")
    thread = comments.open_thread(article, by=reviewer, claim=claim, body="Which trial shows this?")
    client = logged_in(editor)
    page = client.get(desk_url(article)).content.decode()
    assert "Which trial shows this?" in page and f'form="reply-{thread.pk}"' in page
    response = client.post(desk_url(article, "desk_reply"), {"thread": thread.pk, "body": "Added the RCT."})
    assert response.status_code == 302
    assert ReviewComment.objects.filter(thread=thread, body="Added the RCT.", author=editor).exists()


def test_a_new_article_is_written_on_the_desk(editor):
    client = logged_in(editor)
    assert client.get(reverse("admin:articles_article_desk_new")).status_code == 200
    response = client.post(reverse("admin:articles_article_desk_new"), {
        "title": "Caffeine and sleep", "summary": "S", "byline": "B", "reference_order": "",
        "section_id": [""], "heading": ["Basics"], "prose": ["{context} Caffeine is common."],
    })
    article = Article.objects.get(title="Caffeine and sleep")
    assert response.status_code == 302 and response.url == desk_url(article)
    assert list(article.authors.all()) == [editor]
    assert Claim.objects.get(section__article=article).is_context


def test_a_new_article_refused_leaves_no_article(editor):
    response = logged_in(editor).post(reverse("admin:articles_article_desk_new"), {
        "title": "Half saved", "summary": "", "byline": "", "reference_order": "",
        "section_id": [""], "heading": ["Basics"], "prose": ["A claim [4]."],
    })
    assert response.status_code == 400 and not Article.objects.filter(title="Half saved").exists()


def test_the_changelist_and_change_form_link_to_the_desk(editor, article):
    client = logged_in(editor)
    assert desk_url(article) in client.get(reverse("admin:articles_article_changelist")).content.decode()
    assert desk_url(article) in client.get(reverse("admin:articles_article_change", args=[article.pk])).content.decode()
