"""Arranging data in another process's database for tests that run real servers (python -m, not collected).

    python -m tests.psychly._server_tasks create SLUG PASSWORD   -> prints {"pk": ..., "text": ...}
    python -m tests.psychly._server_tasks revise PK TEXT         -> edits the first claim, submits, approves
"""

import json
import sys

import django


def create(slug, password):
    from articles.review import workflow
    from django.contrib.auth.models import User
    from tests.factories import make_editor, make_reviewer, make_supported_article

    editor = make_editor(f"editor-{slug}")
    reviewer = make_reviewer(f"reviewer-{slug}")
    User.objects.create_superuser(f"publisher-{slug}", f"publisher-{slug}@example.org", password)
    article = make_supported_article(f"Two servers {slug}", author=editor, slug=slug)
    workflow.submit(article, by=editor)
    workflow.approve(article, by=reviewer)
    workflow.publish(article, by=editor)
    claim = article.sections.first().claims.first()
    return {"pk": article.pk, "text": claim.text}


def revise(pk, text):
    from articles.review import workflow
    from articles.models import Article, Claim
    from django.contrib.auth.models import User

    article = Article.objects.get(pk=pk)
    claim = Claim.objects.filter(section__article=article).order_by("section__position", "position").first()
    claim.text = text
    claim.save(update_fields=["text"])
    editor = article.authors.get()
    reviewer = User.objects.get(username=editor.username.replace("editor-", "reviewer-"))
    workflow.submit(article, by=editor)
    workflow.approve(article, by=reviewer)
    return {"pk": pk, "status": Article.objects.get(pk=pk).status}


if __name__ == "__main__":
    django.setup()
    command, *arguments = sys.argv[1:]
    print(json.dumps({"create": create, "revise": revise}[command](*arguments)))
