"""Articles as editors write them: sections of claims, each claim citing references."""

from django.conf import settings
from django.db import models
from django.urls import reverse

from articles.querysets import ArticleQuerySet
from references.models import Reference


class Topic(models.Model):
    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Status(models.TextChoices):
    DRAFT = "draft", "Draft"
    IN_REVIEW = "in_review", "In review"
    CHANGES_REQUESTED = "changes_requested", "Changes requested"
    APPROVED = "approved", "Approved"
    PUBLISHED = "published", "Published"
    UNPUBLISHED = "unpublished", "Unpublished"
    ARCHIVED = "archived", "Archived"


class Article(models.Model):
    title = models.CharField(max_length=300)
    slug = models.SlugField(max_length=300, unique=True)
    summary = models.TextField(blank=True, help_text="One or two sentences shown under the title and in lists.")
    topics = models.ManyToManyField(Topic, blank=True, related_name="articles")
    authors = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="authored_articles",
        help_text="The people who wrote it. None of them may approve it.",
    )
    byline = models.CharField(
        max_length=300, blank=True, help_text='Shown to readers, with credentials: "Dana Reyes, PhD, clinical psychologist".'
    )
    disclosure = models.TextField(blank=True, help_text="Conflicts of interest and funding, if any.")
    # Only articles/workflow.py changes this; the admin shows it read-only.
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT, editable=False)
    review_interval_months = models.PositiveSmallIntegerField(
        default=12, help_text="How long after a review the article is due for re-review."
    )

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    published_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = ArticleQuerySet.as_manager()

    class Meta:
        ordering = ["-updated_at", "id"]
        permissions = [
            ("review_article", "Can approve an article or request changes"),
            ("publish_article", "Can publish, schedule and unpublish an article"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(status__in=Status.values), name="article_status_valid"),
            models.CheckConstraint(condition=~models.Q(title=""), name="article_title_not_empty"),
            models.CheckConstraint(condition=~models.Q(slug=""), name="article_slug_not_empty"),
            models.CheckConstraint(
                condition=~models.Q(status=Status.PUBLISHED) | models.Q(published_at__isnull=False),
                name="article_published_has_date",
            ),
            models.CheckConstraint(
                condition=models.Q(review_interval_months__gte=1), name="article_review_interval_positive"
            ),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("articles:detail", kwargs={"slug": self.slug})


class Section(models.Model):
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="sections")
    position = models.PositiveIntegerField(default=0, db_index=True)
    heading = models.CharField(max_length=300)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(condition=~models.Q(heading=""), name="section_heading_not_empty"),
        ]

    def __str__(self):
        return self.heading


class Claim(models.Model):
    section = models.ForeignKey(Section, on_delete=models.CASCADE, related_name="claims")
    position = models.PositiveIntegerField(default=0, db_index=True)
    text = models.TextField()
    # A context statement (framing, a transition, "talk to your doctor") needs
    # no source; it is kept apart so reviewers always see what was exempted.
    is_context = models.BooleanField(
        "context statement", default=False,
        help_text="Framing or advice that makes no factual claim and needs no source. Reviewers see every one.",
    )
    references = models.ManyToManyField(Reference, through="Citation", related_name="claims")

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(condition=~models.Q(text=""), name="claim_text_not_empty"),
        ]

    def __str__(self):
        return self.text if len(self.text) <= 80 else self.text[:77] + "..."


class Citation(models.Model):
    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="citations")
    reference = models.ForeignKey(Reference, on_delete=models.PROTECT, related_name="citations")
    position = models.PositiveIntegerField(default=0)
    locator = models.CharField(
        max_length=100, blank=True, help_text='Where in the source: "p. 12", "Table 2", "Figure 3".'
    )

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["claim", "reference"], name="citation_reference_once_per_claim"),
        ]

    def __str__(self):
        return f"{self.reference} cited by claim {self.claim_id}"
