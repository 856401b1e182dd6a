import pytest

from articles.models import Claim, CommentKind, ReviewComment
from articles.review import comments
from tests.factories import make_editor, make_reviewer, make_supported_article, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def article(editor):
    return make_supported_article("Lithium and suicide", author=editor)


def first_claim(article):
    return Claim.objects.filter(section__article=article).order_by("section__position", "position").first()


def test_a_conversation_opens_on_a_claim_is_answered_and_resolved(article, editor, reviewer):
    claim = first_claim(article)
    opening = comments.open_thread(article, by=reviewer, claim=claim, body="Which trial is this from?")
    comments.reply(article, by=editor, thread_id=opening.pk, body="The 2013 meta-analysis; cited now.")

    [thread] = comments.threads(article)
    assert thread.is_open and thread.claim_id == claim.pk
    assert [m.body for m in thread.replies] == ["The 2013 meta-analysis; cited now."]
    assert opening.claim_text == claim.text and opening.claim_label.startswith(claim.section.heading)

    comments.resolve(article, by=reviewer, thread_id=opening.pk)
    [thread] = comments.threads(article)
    assert not thread.is_open and thread.resolution.author == reviewer
    with pytest.raises(comments.CommentError, match="resolved"):
        comments.reply(article, by=editor, thread_id=opening.pk, body="One more thing")


def test_open_conversations_come_first(article, reviewer):
    claim = first_claim(article)
    older = comments.open_thread(article, by=reviewer, claim=claim, body="First")
    newer = comments.open_thread(article, by=reviewer, claim=claim, body="Second")
    comments.resolve(article, by=reviewer, thread_id=older.pk, note="Done")
    assert [t.opening.pk for t in comments.threads(article)] == [newer.pk, older.pk]


def test_only_reviewers_open_and_resolve_and_strangers_cannot_reply(article, editor, reviewer):
    claim = first_claim(article)
    with pytest.raises(comments.CommentError, match="Only reviewers"):
        comments.open_thread(article, by=editor, claim=claim, body="Looks fine")
    opening = comments.open_thread(article, by=reviewer, claim=claim, body="Source?")
    with pytest.raises(comments.CommentError, match="Only reviewers"):
        comments.resolve(article, by=editor, thread_id=opening.pk)
    with pytest.raises(comments.CommentError, match="Only editors and reviewers"):
        comments.reply(article, by=make_user("nobody"), thread_id=opening.pk, body="Hi")
    assert ReviewComment.objects.count() == 1


def test_a_claim_of_another_article_or_an_empty_comment_is_refused(article, editor, reviewer):
    other = make_supported_article("Another article", author=make_editor("other"))
    with pytest.raises(comments.CommentError, match="not part of this article"):
        comments.open_thread(article, by=reviewer, claim=first_claim(other), body="Hm")
    with pytest.raises(comments.CommentError, match="empty"):
        comments.open_thread(article, by=reviewer, claim=first_claim(article), body="   ")
    opening = comments.open_thread(article, by=reviewer, claim=first_claim(article), body="Hm")
    with pytest.raises(comments.CommentError, match="not part of this article"):
        comments.reply(other, by=editor, thread_id=opening.pk, body="Wrong article")
    with pytest.raises(comments.CommentError, match="at most"):
        comments.reply(article, by=editor, thread_id=opening.pk, body="x" * (comments.MAX_COMMENT_CHARS + 1))


def test_a_conversation_outlives_its_claim(article, reviewer):
    claim = first_claim(article)
    opening = comments.open_thread(article, by=reviewer, claim=claim, body="Reword this")
    words = claim.text
    claim.delete()
    pinned, orphaned = comments.threads_by_claim(article)
    assert pinned == {} and [t.opening.pk for t in orphaned] == [opening.pk]
    assert orphaned[0].opening.claim_text == words


def test_messages_are_append_only_and_the_database_holds_the_shape(article, reviewer):
    opening = comments.open_thread(article, by=reviewer, claim=first_claim(article), body="Source?")
    opening.body = "rewritten"
    with pytest.raises(ValueError, match="append-only"):
        opening.save()
    from django.db import IntegrityError, transaction

    with transaction.atomic(), pytest.raises(IntegrityError):
        ReviewComment.objects.create(
            article=article, kind=CommentKind.REPLY, author_name="x", body="a reply with no thread",
            created_at=opening.created_at,
        )


def test_threads_is_one_query(article, editor, reviewer, django_assert_num_queries):
    claim = first_claim(article)
    for n in range(3):
        opening = comments.open_thread(article, by=reviewer, claim=claim, body=f"Comment {n}")
        comments.reply(article, by=editor, thread_id=opening.pk, body="Answer")
    with django_assert_num_queries(1):
        found = comments.threads(article)
        assert sum(len(t.messages) for t in found) == 3


@pytest.fixture
def editor():
    return make_editor("eddie")


@pytest.fixture
def reviewer():
    return make_reviewer("rita")
