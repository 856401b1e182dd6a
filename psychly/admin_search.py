"""Admin search with a bounded query: each word of ``q`` becomes a LIKE over every search field, so a
query of thousands of words is a statement the database refuses or takes minutes over."""

from django.conf import settings
from django.contrib import messages


class BoundedSearchMixin:
    """Refuses (with a message on the list page) a search longer than ADMIN_SEARCH_MAX_CHARS."""

    def get_search_results(self, request, queryset, search_term):
        limit = settings.ADMIN_SEARCH_MAX_CHARS
        if len(search_term) > limit:
            match = getattr(request, "resolver_match", None)
            if match is not None and match.url_name and match.url_name.endswith("_changelist"):
                messages.error(
                    request,
                    f"The search is {len(search_term):,} characters long; a search may be at most {limit:,} "
                    "(the setting ADMIN_SEARCH_MAX_CHARS). Search for a few words instead.",
                )
            return queryset.none(), False
        return super().get_search_results(request, queryset, search_term)
