"""Articles as editors write them: sections of claims, each claim citing references."""

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.urls import reverse

from articles.querysets import ArticleQuerySet
from references.models import AppendOnly, Reference


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

    # Workflow state below is written only by articles/workflow.py (hence
    # editable=False): the admin form can neither approve nor publish.
    approved_fingerprint = models.CharField(
        max_length=64, blank=True, editable=False,
        help_text="The content fingerprint the reviewer approved; any edit changes the content's fingerprint.",
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    approved_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The reviewer's public credit as it stood at approval: readers see this, never the profile as it is now.
    approved_credit_name = models.CharField(max_length=200, blank=True, editable=False)
    approved_credit_credentials = models.CharField(max_length=300, blank=True, editable=False)
    approved_changes_since = models.DateTimeField(
        null=True, blank=True, editable=False,
        help_text="The previous approval's time: whoever changed the content after it is an author of this "
                  "approval (empty when there was none, so every change counts).",
    )
    review_requested_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="When the article last joined the review queue."
    )
    last_reviewed_at = models.DateTimeField(null=True, blank=True, editable=False)
    next_review_due = models.DateTimeField(null=True, blank=True, editable=False)
    needs_rereview = models.BooleanField(
        default=False, editable=False,
        help_text="A published article back in the review queue: new edits, or a cited source changed.",
    )
    rereview_reason = models.TextField(blank=True, editable=False)
    rereview_flagged_at = models.DateTimeField(
        null=True, blank=True, editable=False,
        help_text="When a cited source's change last flagged it: only an approval given after this may be published.",
    )
    urgent = models.BooleanField(
        default=False, editable=False, help_text="A published claim lost its only supporting source."
    )
    scheduled_at = models.DateTimeField(null=True, blank=True, editable=False)
    scheduled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    published_revision = models.ForeignKey(
        "ArticleRevision", null=True, blank=True, on_delete=models.PROTECT, related_name="+", editable=False,
        help_text="What readers see; editing the article never changes it.",
    )

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


class ReviewerProfile(models.Model):
    """How a reviewer is credited to readers: "Reviewed by Sam Okafor, MD, psychiatrist"."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reviewer_profile")
    display_name = models.CharField(max_length=200, help_text="The name readers see.")
    credentials = models.CharField(
        max_length=300, help_text='Degrees and role shown to readers, e.g. "MD, consultant psychiatrist".'
    )

    class Meta:
        permissions = [
            ("change_any_reviewer_credit", "Can change any reviewer's public name and credentials"),
        ]
        constraints = [
            models.CheckConstraint(condition=~models.Q(display_name=""), name="reviewer_profile_name_not_empty"),
            models.CheckConstraint(condition=~models.Q(credentials=""), name="reviewer_profile_credentials_not_empty"),
        ]

    def __str__(self):
        return self.credit

    @property
    def credit(self):
        return f"{self.display_name}, {self.credentials}"


class ArticleRevision(models.Model):
    """A published version, frozen: readers see exactly what was approved, whatever happens to the working copy."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=300)
    fingerprint = models.CharField(max_length=64)
    # Sections, claims, citations and each reference as rendered at publication.
    snapshot = models.JSONField()
    # Filled from the snapshot when the revision is frozen (articles.publishing.rendering.frozen_fields):
    # what full-text search reads, and the whole article rendered once instead of on every request
    # (with placeholders for what is decided per request: review credits and notices on sources).
    summary = models.TextField(blank=True, default="")
    body_text = models.TextField(blank=True, default="")
    body_html = models.TextField(blank=True, default="")
    # Also frozen, so the page needs no query for them: every version so far
    # ({number, published_at, reviewer}) and the topics ({name, slug}) at publication.
    history = models.JSONField(default=list, blank=True)
    topics = models.JSONField(default=list, blank=True)
    # What a page request needs besides body_html (sources' ids and statuses at publication, JSON-LD parts),
    # so the public page never loads the whole snapshot.
    page = models.JSONField(default=dict, blank=True)
    # The references the snapshot cites, so a retraction can find the live pages it affects.
    references = models.ManyToManyField(Reference, blank=True, related_name="+")
    # Title (weight A), summary (B) and body text (C) as a tsvector, filled when the revision is frozen,
    # on PostgreSQL only (a GIN index serves search); elsewhere search reads the text columns.
    search_vector = SearchVectorField(null=True, editable=False)
    # Title (A) and summary (B) alone, filled with search_vector: what results are ranked by. A few hundred
    # bytes, so ranking reads no article's body however long it is.
    rank_vector = SearchVectorField(null=True, editable=False)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    published_at = models.DateTimeField()

    class Meta:
        ordering = ["article", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["article", "number"], name="revision_number_unique_per_article"),
        ]

    def __str__(self):
        return f"{self.title} (revision {self.number})"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("A published revision is frozen and cannot be changed.")
        super().save(*args, **kwargs)


class WorkflowAction(models.TextChoices):
    SUBMIT = "submit", "Submitted for review"
    REQUEST_CHANGES = "request_changes", "Changes requested"
    APPROVE = "approve", "Approved"
    PUBLISH = "publish", "Published"
    SCHEDULE = "schedule", "Scheduled"
    SCHEDULE_FAILED = "schedule_failed", "Scheduled publication failed"
    UNSCHEDULE = "unschedule", "Schedule cancelled"
    UNPUBLISH = "unpublish", "Unpublished"
    ARCHIVE = "archive", "Archived"
    WITHDRAW = "withdraw", "Returned to draft"
    APPROVAL_VOIDED = "approval_voided", "Approval voided by an edit"
    SOURCE_CHANGED = "source_changed", "Approval voided: a cited source changed"
    FLAG_REREVIEW = "flag_rereview", "Flagged for re-review"


class AuditEntry(AppendOnly):
    """One row per workflow event; append-only (rows are never changed or deleted by the application)."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="audit_entries")
    action = models.CharField(max_length=20, choices=WorkflowAction.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Kept as text so the log still reads right after a user is deleted.
    actor_name = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField()
    from_status = models.CharField(max_length=20, choices=Status.choices)
    to_status = models.CharField(max_length=20, choices=Status.choices)
    comment = models.TextField(blank=True)
    claim = models.ForeignKey(Claim, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    claim_label = models.CharField(max_length=400, blank=True, help_text="Where the comment is pinned, as text.")
    fingerprint = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "audit entries"
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(action="request_changes") | ~models.Q(comment=""),
                name="audit_request_changes_has_comment",
            ),
        ]

    def __str__(self):
        return f"{self.get_action_display()} by {self.actor_name or 'the system'} at {self.created_at:%Y-%m-%d %H:%M}"


class ContentChange(AppendOnly):
    """Who changed an article's working copy (words, sources, authors list), when, and to what fingerprint.

    Written by articles.authoring.attribution.record only. Whoever appears here after the
    previous approval counts as an author of the next one, whatever the authors list says.
    """

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="content_changes")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Kept as text so the record still reads right after a user is deleted.
    user_name = models.CharField(max_length=200, blank=True)
    at = models.DateTimeField()
    description = models.TextField(help_text="What changed, in words.")
    authors_changed = models.BooleanField(default=False)
    fingerprint = models.CharField(max_length=64, help_text="The content fingerprint after the change.")

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["article", "at"], name="content_change_article_at")]
        constraints = [
            models.CheckConstraint(condition=~models.Q(description=""), name="content_change_says_what"),
        ]

    def __str__(self):
        return f"{self.user_name or 'someone'} at {self.at:%Y-%m-%d %H:%M}: {self.description[:80]}"


class ReviewerCreditChange(AppendOnly):
    """One change to a reviewer's public credit: who made it, when, and the name and credentials before and after."""

    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="reviewer_credit_changes"
    )
    reviewer_name = models.CharField(max_length=200)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_by_name = models.CharField(max_length=200)
    at = models.DateTimeField()
    old_display_name = models.CharField(max_length=200, blank=True)
    old_credentials = models.CharField(max_length=300, blank=True)
    new_display_name = models.CharField(max_length=200)
    new_credentials = models.CharField(max_length=300)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self):
        return f"Credit of {self.reviewer_name} changed by {self.changed_by_name} at {self.at:%Y-%m-%d %H:%M}"


class CommentKind(models.TextChoices):
    COMMENT = "comment", "Comment"
    REPLY = "reply", "Reply"
    RESOLVED = "resolved", "Resolved"


class ReviewComment(AppendOnly):
    """One message in a conversation pinned to a claim: the comment that opens it, a reply, or its resolution.

    Append-only: a thread is open until a "resolved" row joins it, and history keeps every word. The claim's
    label and words are kept as text, so a thread still reads right after its claim was rewritten or removed.
    """

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="review_comments")
    thread = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="messages",
        help_text="The comment that opened the conversation (empty on that comment itself).",
    )
    kind = models.CharField(max_length=10, choices=CommentKind.choices)
    claim = models.ForeignKey(Claim, null=True, blank=True, on_delete=models.SET_NULL, related_name="review_comments")
    claim_label = models.CharField(max_length=400, blank=True, help_text="Where the comment is pinned, as text.")
    claim_text = models.TextField(blank=True, help_text="The claim's words when the comment was written.")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    author_name = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    created_at = models.DateTimeField()
    audit_entry = models.ForeignKey(
        AuditEntry, null=True, blank=True, on_delete=models.SET_NULL, related_name="review_comments",
        help_text="The workflow event (a send-back) this comment was part of.",
    )

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["article", "thread"])]
        constraints = [
            # The opening comment has no thread; every reply and resolution belongs to one.
            models.CheckConstraint(
                condition=(models.Q(kind="comment") & models.Q(thread__isnull=True))
                | (~models.Q(kind="comment") & models.Q(thread__isnull=False)),
                name="review_comment_thread_matches_kind",
            ),
            models.CheckConstraint(
                condition=models.Q(kind="resolved") | ~models.Q(body=""), name="review_comment_has_words",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} by {self.author_name} at {self.created_at:%Y-%m-%d %H:%M}"


class ReviewedVersion(AppendOnly):
    """What a reviewer read when they approved or sent back: the claims as they stood, kept with the workflow event.

    Written by articles.review.workflow with the AuditEntry of the approval or send-back, in its transaction;
    the review page compares the working copy with this reviewer's latest one ("since you last looked").
    """

    audit_entry = models.OneToOneField(AuditEntry, on_delete=models.CASCADE, related_name="reviewed_version")
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="reviewed_versions")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField()
    # {"sections": [{"heading", "claims": [{"id", "text", "is_context", "references": [reference ids]}]}]}
    snapshot = models.JSONField()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["article", "reviewer", "created_at"], name="reviewed_version_lookup")]

    def __str__(self):
        return f"Version of {self.article_id} reviewed at {self.created_at:%Y-%m-%d %H:%M}"


class ReviewPresence(models.Model):
    """A reviewer has an article's review page open: refreshed on each view and by the page's heartbeat."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="review_presence")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    last_seen = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["article", "reviewer"], name="one_presence_per_reviewer")]

    def __str__(self):
        return f"{self.reviewer_id} on {self.article_id} at {self.last_seen:%H:%M}"


class ArticlePage(models.Model):
    """The live article page as anonymous readers see it, rendered whenever what it shows changes.

    Serving it is one narrow query and no template (articles.publishing.pages keeps it
    current). Notices on cited sources are the one part filled per request,
    into the placeholders the page keeps, because a source's status can change
    at any time; most pages have none and cost nothing for it.
    """

    article = models.OneToOneField(Article, primary_key=True, on_delete=models.CASCADE, related_name="public_page")
    # The page's UTF-8, zlib-compressed: a tenth of the bytes to read and send from the database,
    # and decompressing costs less than that saves (articles.publishing.pages.page_html reads it).
    html = models.BinaryField()
    # JSON text, decoded only when a cited source carries a notice: [{id, number, retraction_status}]
    # of each source as published, which is what articles.publishing.views.live_notices compares with.
    sources = models.TextField(default="[]")
    # The SITE_URL and SITE_NAME it was rendered with: under other settings it is rendered per request.
    site = models.CharField(max_length=500, default="")
    rendered_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"Page of {self.article_id}"


class ArticleListing(models.Model):
    """A live article as the public lists show it, rendered with its page (articles.publishing.pages).

    Narrow and indexed by date, apart from the page's large HTML, so the home, topic, search pages and the
    feed read twenty short rows in index order and join them (articles.publishing.listing): no template
    and no model per article, whatever the number of articles.
    """

    article = models.OneToOneField(Article, primary_key=True, on_delete=models.CASCADE, related_name="listing")
    # The live revision's publication time: the lists' order, newest first.
    updated_at = models.DateTimeField()
    # The <li> of the home, topic and search lists (templates/articles/_article_card.html), heading level 2.
    card = models.TextField()
    # The article's <entry> of the Atom feed (articles.publishing.feeds).
    feed_entry = models.TextField()
    # The article's <url> of sitemap.xml (articles.publishing.sitemaps).
    sitemap_entry = models.TextField()
    # The settings it was rendered with (articles.publishing.pages.site): migrate renders it again under others.
    site = models.CharField(max_length=500, default="")
    # PostgreSQL: the live revision's search_vector and rank_vector, copied when the listing is stored, so a
    # search reads this table alone (articles.publishing.search). GIN-indexed by migration 0013.
    search_vector = SearchVectorField(null=True, editable=False)
    rank_vector = SearchVectorField(null=True, editable=False)

    class Meta:
        indexes = [models.Index(fields=["-updated_at", "-article"], name="articles_listing_newest")]

    def __str__(self):
        return f"Listing of {self.article_id}"
