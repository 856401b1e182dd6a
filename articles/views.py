"""Public pages. Every one starts from Article.objects.published()."""

from django.shortcuts import get_object_or_404, render

from articles.models import Article


def home(request):
    articles = Article.objects.published().order_by("-published_at")[:20]
    return render(request, "articles/home.html", {"articles": articles})


def article_detail(request, slug):
    article = get_object_or_404(Article.objects.published(), slug=slug)
    return render(request, "articles/article_detail.html", {"article": article})
