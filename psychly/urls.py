from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from articles.publishing import feeds, sitemaps, views
from articles.publishing.cache import cached_public_page, lists_scope, page_number
from articles.review import views as review_views
from psychly import views as site_views

admin.site.site_header = "Psychly Editorial"
admin.site.site_title = "Psychly Editorial"
admin.site.index_title = "Editorial desk"

# Refusals are logged (psychly/auth_logging.py) before Django's 403 page.
handler403 = "psychly.auth_logging.permission_denied"

urlpatterns = [
    path("healthz", site_views.healthz, name="healthz"),
    # Before the admin's own URLs: reviewers land on their queue after signing in.
    path("admin/login/", review_views.admin_login, name="admin-login"),
    path("admin/", admin.site.urls),
    path("review/", include("articles.review.urls")),
    path("feed/", cached_public_page(lists_scope)(feeds.latest), name="feed"),
    path("sitemap.xml", cached_public_page(lists_scope, params={"p": page_number})(sitemaps.sitemap),
         name="sitemap"),
    path("robots.txt", views.robots_txt, name="robots"),
    path("", include("articles.urls")),
]

# The benchmark's baseline (bench/run.py), served only when BENCH_BARE_VIEW=1.
if settings.BENCH_BARE_VIEW:
    urlpatterns.insert(0, path("bench/bare", site_views.bare, name="bench-bare"))
