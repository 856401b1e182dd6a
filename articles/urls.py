from django.urls import path

from articles.publishing import views
from articles.review.views import article_preview

app_name = "articles"

urlpatterns = [
    path("", views.home, name="home"),
    path("search/", views.search, name="search"),
    path("topics/<slug:slug>/", views.topic_detail, name="topic"),
    path("articles/<slug:slug>/", views.article_detail, name="detail"),
    path("articles/<slug:slug>/preview/", article_preview, name="preview"),
]
