"""The reads that decide what is public and how pages load their rows."""

from django.db import models
from django.db.models import Count, Exists, OuterRef, Q


class ArticleQuerySet(models.QuerySet):
    def published(self):
        """Articles the public may read: the only road to public content."""
        return self.filter(status="published", published_at__isnull=False, published_revision__isnull=False)

    def with_unsupported_claim_count(self):
        """Annotate how many factual claims cite nothing (context statements need no source)."""
        from articles.models import Claim, Citation

        uncited = Claim.objects.filter(
            section__article=OuterRef("pk"), is_context=False
        ).exclude(Exists(Citation.objects.filter(claim=OuterRef("pk"))))
        return self.annotate(
            unsupported_claim_count=models.Subquery(
                uncited.order_by().values("section__article").annotate(n=Count("pk")).values("n")[:1],
                output_field=models.IntegerField(),
            )
        )

    def search(self, text):
        return self.filter(Q(title__icontains=text) | Q(summary__icontains=text))
