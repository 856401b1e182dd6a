"""Workflow additions to the article admin: read-only status, blockers, actions, audit.

ArticleAdmin inherits WorkflowAdminMixin; every method here calls super().
Nothing here changes a status itself: buttons, confirmation pages and bulk
actions all call articles.review.workflow, which checks permissions and the gate.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from articles.review import credits, gate, workflow
from articles.models import ArticleRevision, ReviewerCreditChange, ReviewerProfile
from articles.publishing.rendering import reviewer_credit
from psychly.admin_search import BoundedSearchMixin
from references.models import PeerReviewOverride

WORKFLOW_FIELDS = ["workflow_blockers", "workflow_state", "revision_list", "audit_log"]

# Verbs editors run from the admin; reviewers approve and request changes at /review/.
ADMIN_VERBS = {
    "submit": ("Submit for review", "Send this version to reviewers."),
    "publish": ("Publish", "Freeze this approved version as a revision readers see."),
    "schedule": ("Schedule", "Publish this approved version at a set time (checked again then)."),
    "unschedule": ("Cancel the schedule", "Do not publish at the scheduled time. The approval stands: the "
                   "version can still be published or scheduled again."),
    "unpublish": ("Unpublish", "Take the article off the site. It returns only through review."),
    "withdraw": ("Return to draft", "Take the article out of review."),
    "archive": ("Archive", "Retire the article for good; a published one leaves the site."),
}
# Verbs that take a reason for the article's history.
REASON_VERBS = ("unpublish", "withdraw", "unschedule")


class WorkflowForm(forms.Form):
    reason = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Recorded in the article's history.",
    )
    at = forms.DateTimeField(
        label="Publish at", required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text="In the site's time zone.",
    )
    note = forms.CharField(
        label="Note for readers", required=False, max_length=workflow.MAX_CHANGE_NOTE,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        help_text="What changed in this version, for example “Corrected the dose in ‘How it works’.” Shown with "
                  "the date under “Corrections and updates” on the article. Leave empty for a first publication.",
    )

    def __init__(self, *args, verb, **kwargs):
        super().__init__(*args, **kwargs)
        if verb != "publish":
            del self.fields["note"]
        if verb == "schedule":
            self.fields["at"].required = True
            del self.fields["reason"]
        else:
            del self.fields["at"]
            if verb not in REASON_VERBS:
                del self.fields["reason"]


def _run(verb, article, user, data):
    kwargs = {"by": user}
    if verb == "schedule":
        kwargs["at"] = data["at"]
    if verb == "publish":
        kwargs["note"] = data.get("note", "")
    if verb in REASON_VERBS:
        kwargs["reason"] = data.get("reason", "")
    return getattr(workflow, verb)(article, **kwargs)


class WorkflowAdminMixin:
    change_form_template = "articles/admin/article_change_form.html"

    # -- read-only panels ------------------------------------------------------

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        return fields + [f for f in WORKFLOW_FIELDS if f not in fields]

    def get_fieldsets(self, request, obj=None):
        fieldsets = [
            (name, {**options, "fields": [f for f in options["fields"] if f not in WORKFLOW_FIELDS]})
            for name, options in super().get_fieldsets(request, obj)
        ]
        if obj is None:
            return fieldsets
        return [("Review and publication", {"fields": WORKFLOW_FIELDS}), *fieldsets]

    @admin.display(description="What stops publication")
    def workflow_blockers(self, article):
        report = self._gate_report(article)
        context = len(report.context_statements)
        note = format_html(
            "<p>{} claim(s), {} of them context statement(s) needing no source.</p>", report.claim_count, context
        )
        if self._is_live(article):
            return format_html(
                "{}<p><strong>Readers see this version (revision {}).</strong></p>", note,
                article.published_revision.number,
            )
        if not report.blockers:
            return format_html("{}<p><strong>Nothing: this version can be published.</strong></p>", note)
        return format_html(
            '{}<ul class="workflow-blockers">{}</ul>', note,
            format_html_join("", "<li>{}</li>", ((str(b),) for b in report.blockers)),
        )

    @admin.display(description="Review state")
    def workflow_state(self, article):
        rows = [("Status", article.get_status_display())]
        if article.approved_at:
            current = article.approved_fingerprint == self._gate_report(article).fingerprint
            rows.append((
                "Approved", f"{article.approved_at:%Y-%m-%d %H:%M} by {article.approved_by or 'a deleted user'}"
                + ("" if current else " (for an earlier version)"),
            ))
        if article.scheduled_at:
            rows.append(("Scheduled for", f"{article.scheduled_at:%Y-%m-%d %H:%M}"))
        if article.published_revision_id:
            rows.append(("Readers see", f"revision {article.published_revision.number}"))
        if article.next_review_due:
            rows.append(("Next review due", f"{article.next_review_due:%Y-%m-%d}"))
        if article.needs_rereview:
            rows.append(("Back in review", ("URGENT. " if article.urgent else "") + article.rereview_reason))
        # The review page link is at the top of the form, where who is asking is known (see change_view).
        return format_html('<dl class="workflow-state">{}</dl>', format_html_join("", "<dt>{}</dt><dd>{}</dd>", rows))

    @admin.display(description="Published revisions")
    def revision_list(self, article):
        revisions = article.revisions.select_related("published_by", "approved_by").order_by("-number")
        items = [
            (
                reverse("admin:articles_article_revision", args=[article.pk, r.number]), r.number,
                f"{r.published_at:%Y-%m-%d %H:%M}", r.published_by or "—", r.approved_by or "—",
            )
            for r in revisions
        ]
        if not items:
            return "Never published."
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "", '<li><a href="{}">Revision {}</a>, published {} by {}, approved by {}</li>', items
            ),
        )

    @admin.display(description="History")
    def audit_log(self, article):
        entries = article.audit_entries.all()[:200]
        history = format_html(
            '<table class="audit"><thead><tr><th>When</th><th>What</th><th>Who</th><th>From → to</th>'
            "<th>Comment</th></tr></thead><tbody>{}</tbody></table>",
            format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{} → {}</td><td>{}{}</td></tr>", (
                (f"{e.created_at:%Y-%m-%d %H:%M}", e.get_action_display(), e.actor_name or "the system",
                 e.get_from_status_display(), e.get_to_status_display(),
                 f"On {e.claim_label}: " if e.claim_label else "", e.comment)
                for e in entries
            )),
        ) if entries else "No history yet."
        return format_html("{}{}{}", history, self._content_change_log(article), self._override_log(article))

    def _content_change_log(self, article):
        """Who changed the words, sources and authors list, and what: whoever did since an approval is its author."""
        changes = article.content_changes.all()[:200]
        if not changes:
            return ""
        return format_html(
            '<h3 class="content-changes">Changes to the content</h3>'
            '<table class="audit content-changes"><thead><tr><th>When</th><th>Who</th><th>What changed</th>'
            "</tr></thead><tbody>{}</tbody></table>",
            format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td></tr>", (
                (f"{c.at:%Y-%m-%d %H:%M}", c.user_name or "someone unrecorded",
                 format_html_join(mark_safe("<br>"), "{}", ((line,) for line in c.description.splitlines())))
                for c in changes
            )),
        )

    def _override_log(self, article):
        """Peer-review statuses set by hand on the sources this article cites: they decide what the gate accepts."""
        overrides = (
            PeerReviewOverride.objects.filter(reference__citations__claim__section__article=article)
            .select_related("reference", "by").distinct()[:200]
        )
        if not overrides:
            return ""
        return format_html(
            '<h3 class="override-log">Peer-review status set by hand on cited sources</h3>'
            '<table class="audit override-log"><thead><tr><th>When</th><th>Source</th><th>Decision</th>'
            "<th>Who</th><th>Reason</th></tr></thead><tbody>{}</tbody></table>",
            format_html_join(
                "", '<tr><td>{}</td><td><a href="{}">{}</a></td><td>{} → {}</td><td>{}</td><td>{}</td></tr>', (
                    (f"{o.at:%Y-%m-%d %H:%M}", reverse("admin:references_reference_change", args=[o.reference_id]),
                     o.reference.doi or o.reference.title or o.reference.url, o.get_previous_status_display(),
                     o.get_status_display() if o.status
                     else f"computed status restored ({o.get_computed_status_display()})",
                     o.by or "a deleted user", o.reason)
                    for o in overrides
                ),
            ),
        )

    def _is_live(self, article):
        """Whether the working copy is exactly the published revision (so there is nothing to publish)."""
        revision = article.published_revision if article.published_revision_id else None
        return revision is not None and revision.fingerprint == self._gate_report(article).fingerprint

    def _gate_report(self, article):
        # The panels share one gate run per request.
        cached = getattr(article, "_gate_report", None)
        if cached is None:
            cached = article._gate_report = gate.check(article)
        return cached

    # -- buttons and confirmation pages -----------------------------------------

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<path:object_id>/workflow/<str:verb>/",
                self.admin_site.admin_view(self.workflow_view),
                name="%s_%s_workflow" % info,
            ),
            path(
                "<path:object_id>/revisions/<int:number>/",
                self.admin_site.admin_view(self.revision_view),
                name="%s_%s_revision" % info,
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = dict(extra_context or {})
        article = self.get_object(request, unquote(object_id))
        if article is not None:
            extra_context["workflow_buttons"] = [
                (verb, ADMIN_VERBS[verb][0],
                 reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_workflow", args=[article.pk, verb]))
                for verb in workflow.allowed_verbs(article, request.user) if verb in ADMIN_VERBS
                and not (verb in ("publish", "schedule") and self._is_live(article))
            ]
            extra_context["preview_url"] = reverse("articles:preview", args=[article.slug])
            extra_context["review_url"], extra_context["review_note"] = self._review_link(request.user, article)
        return super().change_view(request, object_id, form_url, extra_context)

    def _review_link(self, user, article):
        """The review page's address for someone who may review this article, else why they may not (url, note)."""
        if not user.has_perm("articles.review_article"):
            return "", "Reviewers approve this article on its review page; your account is not a reviewer's."
        if article.authors.filter(pk=user.pk).exists():
            return "", "You are one of this article's authors, so you cannot review it: another reviewer must."
        return reverse("review:article", args=[article.pk]), ""

    def workflow_view(self, request, object_id, verb):
        """GET shows what the verb will do (and any blockers); only POST acts."""
        if verb not in ADMIN_VERBS:
            raise Http404(f"No workflow step called {verb!r}.")
        article = self.get_object(request, unquote(object_id))
        if article is None:
            raise Http404("No such article.")
        if not self.has_view_or_change_permission(request, article) or not workflow.may(request.user, verb, article):
            raise PermissionDenied
        change_url = reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[article.pk])
        form = WorkflowForm(request.POST if request.method == "POST" else None, verb=verb)
        if request.method == "POST" and form.is_valid():
            try:
                _run(verb, article, request.user, form.cleaned_data)
            except workflow.NotPublishable as error:
                messages.error(request, f"{error.args[0]} {len(error.blockers)} problem(s) are listed below.")
            except workflow.WorkflowError as error:
                messages.error(request, str(error))
            else:
                messages.success(request, f"{ADMIN_VERBS[verb][0]}: done for “{article.title}”.")
                return HttpResponseRedirect(change_url)
        label, explanation = ADMIN_VERBS[verb]
        blockers = gate.publish_blockers(article) if verb in ("publish", "schedule") else []
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts, "original": article, "title": f"{label}: {article.title}",
            "verb": verb, "label": label, "explanation": explanation, "form": form,
            "blockers": blockers, "change_url": change_url,
        }
        return TemplateResponse(request, "articles/admin/workflow_confirm.html", context)

    def revision_view(self, request, object_id, number):
        article = self.get_object(request, unquote(object_id))
        if article is None or not self.has_view_or_change_permission(request, article):
            raise PermissionDenied
        revision = ArticleRevision.objects.filter(article=article, number=number).first()
        if revision is None:
            raise Http404("No such revision.")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts, "original": article, "revision": revision,
            "title": f"{article.title}: revision {revision.number}", "snapshot": revision.snapshot,
        }
        return TemplateResponse(request, "articles/admin/revision.html", context)

    # -- saving: an edit voids an approval ---------------------------------------

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        article = form.instance
        if change and workflow.void_stale_approval(article, by=request.user):
            messages.warning(
                request, "This edit voided the approval: the article is a draft again and needs a new review."
            )
        elif change and article.published_revision_id and article.approved_fingerprint:
            if gate.content_fingerprint(article) != article.published_revision.fingerprint:
                messages.info(
                    request,
                    f"Readers still see revision {article.published_revision.number}. "
                    "Submit this version for review to publish it.",
                )

    # -- bulk actions --------------------------------------------------------------

    def get_actions(self, request):
        actions = super().get_actions(request)
        for verb in ("submit", "publish", "unpublish", "archive"):
            if request.user.has_perm(workflow.PERMISSIONS[verb]):
                func = _bulk_action(verb)
                actions[func.__name__] = (func, func.__name__, func.short_description)
        return actions


# A refusal message lists this many blockers and counts the rest: one article's message stays readable.
MAX_LISTED_BLOCKERS = 5


def _refusal(reason, blockers):
    """One article's refusal as a message: the reason, then its first blockers numbered, and how many more."""
    if not blockers:
        return reason
    shown = " ".join(f"({i}) {b}" for i, b in enumerate(blockers[:MAX_LISTED_BLOCKERS], 1))
    more = len(blockers) - MAX_LISTED_BLOCKERS
    tail = f" … and {more} more (open the article to see them all)." if more > 0 else ""
    lead = reason if reason.rstrip().endswith(":") else f"{reason} What stops publication:"
    return f"{lead} {shown}{tail}"


def _bulk_action(verb):
    label = ADMIN_VERBS[verb][0]

    def action(modeladmin, request, queryset):
        done, refused = 0, []
        for article in queryset:
            try:
                getattr(workflow, verb)(article, by=request.user)
            except workflow.NotPublishable as error:
                refused.append((article.title, _refusal(error.args[0], error.blockers)))
            except workflow.WorkflowError as error:
                # A refusal for the status alone would hide what else stops publication: the gate says it too.
                blockers = gate.publish_blockers(article) if verb == "publish" else []
                refused.append((article.title, _refusal(str(error), blockers)))
            else:
                done += 1
        if done:
            modeladmin.message_user(request, f"{label}: done for {done} article(s).", messages.SUCCESS)
        for title, why in refused:
            modeladmin.message_user(request, f"{label} refused for {title}. {why}", messages.ERROR)

    action.__name__ = f"{verb}_selected"
    action.short_description = f"{label} the selected articles"
    return action


@admin.register(ReviewerProfile)
class ReviewerProfileAdmin(BoundedSearchMixin, admin.ModelAdmin):
    """Public credits: each reviewer edits their own, administrators any; every change is kept and shown."""

    list_display = ["user", "display_name", "credentials"]
    search_fields = ["display_name", "credentials", "user__username"]
    autocomplete_fields = ["user"]
    readonly_fields = ["credit_history"]

    def get_fields(self, request, obj=None):
        return ["user", "display_name", "credentials", *(["credit_history"] if obj else [])]

    def get_readonly_fields(self, request, obj=None):
        # The user a credit belongs to never changes; a new credit names its reviewer.
        return ["user", "credit_history"] if obj else []

    def _administers_credits(self, request):
        return request.user.is_superuser or request.user.has_perm(credits.ADMIN_PERMISSION)

    def get_autocomplete_fields(self, request):
        # A reviewer adding their own credit chooses only themselves (and may not search users).
        return super().get_autocomplete_fields(request) if self._administers_credits(request) else []

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user" and not self._administers_credits(request):
            kwargs["queryset"] = db_field.related_model.objects.filter(pk=request.user.pk)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_add_permission(self, request):
        # A reviewer without a credit may create their own; administrators anyone's.
        if self._administers_credits(request):
            return True
        user = request.user
        return user.has_perm("articles.review_article") and not ReviewerProfile.objects.filter(user=user).exists()

    def has_change_permission(self, request, obj=None):
        if obj is None:
            return super().has_change_permission(request) or ReviewerProfile.objects.filter(
                user=request.user
            ).exists()
        return credits.may_change_credit(request.user, obj.user)

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) or (obj is not None and obj.user_id == request.user.pk)

    def has_delete_permission(self, request, obj=None):
        # Approvals keep the credit they froze; removing a reviewer's credit is an administrator's decision.
        return request.user.is_active and (request.user.is_superuser or request.user.has_perm(credits.ADMIN_PERMISSION))

    def save_model(self, request, obj, form, change):
        try:
            saved = credits.set_reviewer_credit(
                reviewer=obj.user, display_name=obj.display_name, credentials=obj.credentials, by=request.user
            )
        except credits.CreditError as error:
            raise PermissionDenied(str(error)) from error
        obj.pk = saved.pk
        obj._state.adding = False

    @admin.display(description="History of this credit")
    def credit_history(self, profile):
        changes = ReviewerCreditChange.objects.filter(reviewer=profile.user_id)[:100]
        if not changes:
            return "No recorded changes."
        return format_html(
            '<table class="audit credit-history"><thead><tr><th>When</th><th>Who</th><th>Before</th><th>After</th>'
            "</tr></thead><tbody>{}</tbody></table>",
            format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", (
                (f"{c.at:%Y-%m-%d %H:%M}", c.changed_by_name,
                 reviewer_credit(c.old_display_name, c.old_credentials) or "(none)",
                 reviewer_credit(c.new_display_name, c.new_credentials))
                for c in changes
            )),
        )


@admin.register(ReviewerCreditChange)
class ReviewerCreditChangeAdmin(BoundedSearchMixin, admin.ModelAdmin):
    """Every change to every reviewer's public credit, read-only (for administrators)."""

    list_display = ["at", "reviewer_name", "changed_by_name", "old_credit", "new_credit"]
    search_fields = ["reviewer_name", "changed_by_name", "new_display_name", "old_display_name"]
    date_hierarchy = "at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="Before")
    def old_credit(self, change):
        return reviewer_credit(change.old_display_name, change.old_credentials) or "(none)"

    @admin.display(description="After")
    def new_credit(self, change):
        return reviewer_credit(change.new_display_name, change.new_credentials)
