"""The reads that decide what is public and how pages load their rows."""

from django.db import models
from django.db.models import Count, Exists, OuterRef, Q


class ArticleQuerySet(models.QuerySet):
    def published(self):
        """Articles the public may read: the only road to public content."""
        return self.filter(status="published", published_at__isnull=False, published_revision__isnull=False)

    def with_unsupported_claim_count(self):
        """Annotate how many factual claims cite nothing (context statements need no source)."""
        # The models are reached through the relations, not imported: models.py imports this module.
        claim_model = self.model._meta.get_field("sections").related_model._meta.get_field("claims").related_model
        citation_model = claim_model._meta.get_field("citations").related_model
        uncited = claim_model.objects.filter(
            section__article=OuterRef("pk"), is_context=False
        ).exclude(Exists(citation_model.objects.filter(claim=OuterRef("pk"))))
        return self.annotate(
            unsupported_claim_count=models.Subquery(
                uncited.order_by().values("section__article").annotate(n=Count("pk")).values("n")[:1],
                output_field=models.IntegerField(),
            )
        )

    def search(self, text):
        return self.filter(Q(title__icontains=text) | Q(summary__icontains=text))

    def for_listing(self):
        """Published articles with what a list shows (the revision's title and summary), newest first.

        The revision's snapshot and body are deferred: a list of a hundred long
        articles loads a hundred short rows, in one query.
        """
        return (
            self.published()
            .select_related("published_revision")
            .defer(
                "published_revision__snapshot", "published_revision__body_html", "published_revision__body_text",
                "published_revision__page", "published_revision__history", "published_revision__search_vector",
            )
            .order_by("-published_revision__published_at", "-pk")
        )

    def for_page(self):
        """Published articles with what the article page reads, in one query.

        That is the article's review dates, the live revision's frozen HTML and
        page data (never the snapshot), the approver's public credit as frozen at approval, and whether
        any cited source now carries a notice (``cited_source_has_notice``), so
        the common page, whose sources have none, needs no second query.
        """
        return (
            self.published()
            .select_related("published_revision")
            .only(
                "slug", "published_at", "approved_fingerprint", "last_reviewed_at", "next_review_due",
                "review_interval_months", "approved_credit_name", "approved_credit_credentials", "published_revision",
                "published_revision__title", "published_revision__summary", "published_revision__fingerprint",
                "published_revision__published_at", "published_revision__body_html", "published_revision__page",
                "published_revision__topics", "published_revision__history",
            )
            .with_cited_source_notice()
        )

    def with_cited_source_notice(self):
        """Annotate ``cited_source_has_notice``: a source the live revision cites now carries a notice."""
        # The revision model is reached through the relation, not imported: models.py imports this module.
        revision_model = self.model._meta.get_field("published_revision").related_model
        cited = revision_model.references.through.objects.filter(
            articlerevision=OuterRef("published_revision")
        ).exclude(reference__retraction_status="none")
        return self.annotate(cited_source_has_notice=Exists(cited))
