from django.urls import path

from articles.review import views as review_views

app_name = "review"

urlpatterns = [
    path("", review_views.queue, name="queue"),
    path("<int:pk>/", review_views.review_article, name="article"),
    path("<int:pk>/approve/", review_views.approve, name="approve"),
    path("<int:pk>/request-changes/", review_views.request_changes, name="request_changes"),
    path("<int:pk>/comments/", review_views.open_comment, name="open_comment"),
    path("<int:pk>/comments/reply/", review_views.reply_comment, name="reply_comment"),
    path("<int:pk>/comments/resolve/", review_views.resolve_comment, name="resolve_comment"),
    path("<int:pk>/heartbeat/", review_views.heartbeat, name="heartbeat"),
]
