"""Public pages. Every one starts from Article.objects.published()."""

from django.shortcuts import get_object_or_404, render

from articles.models import Article


def home(request):
    # Titles and summaries come from the published revision: unreviewed edits never show.
    articles = Article.objects.published().select_related("published_revision").order_by("-published_at")[:20]
    return render(request, "articles/home.html", {"articles": articles})


def article_detail(request, slug):
    """The published revision, frozen at publication: later edits stay invisible until approved and published."""
    article = get_object_or_404(
        Article.objects.published().select_related("published_revision"),
        slug=slug,
    )
    return render(
        request, "articles/article_detail.html",
        {"article": article, "revision": article.published_revision, "snapshot": article.published_revision.snapshot},
    )
