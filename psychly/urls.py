from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "Psychly Editorial"
admin.site.site_title = "Psychly Editorial"
admin.site.index_title = "Editorial desk"

# Refusals are logged (psychly/auth_logging.py) before Django's 403 page.
handler403 = "psychly.auth_logging.permission_denied"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("review/", include("articles.review_urls")),
    path("", include("articles.urls")),
]
