"""The editors' desk: articles, their sections, claims and citations, all in the admin.

Writing flows article -> section -> claims. The article page lists sections,
each with a paste box that turns prose into claims; a section's page lists its
claims, each citing references through an autocomplete; a claim's page holds
citation locators. Status is never edited here: WorkflowAdminMixin adds the
actions that call articles.review.workflow.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AutocompleteSelectMultiple
from django.db.models import Count, Max, Prefetch
from django.urls import reverse
from django.utils.html import format_html

from articles.importing.admin import ImportAdminMixin
from articles.authoring import attribution
from articles.authoring.desk_admin import WritingDeskAdminMixin
from articles.review import gate, workflow
from articles.review.admin import WorkflowAdminMixin
from articles.authoring.editing import PasteError, append_claims, resolve_pasted_text, set_claim_references
from articles.models import Article, Citation, Claim, Section, Status, Topic
from psychly.admin_search import BoundedSearchMixin
from references.models import Reference

PASTE_HELP = (
    "Paste prose to add it as claims at the end of this section, one claim per sentence. "
    "Cite with [1] or [1, 3] or [2-4] (numbers of this article's reference list), [doi:10.xxxx/...], "
    "[pmid:12345678] or a link in brackets ([https://doi.org/10.xxxx/...], a PubMed or publisher page)."
)


@admin.register(Topic)
class TopicAdmin(BoundedSearchMixin, admin.ModelAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}


def _next_position(queryset):
    last = queryset.aggregate(last=Max("position"))["last"]
    return 0 if last is None else last + 1


def _leave_new_position_empty(form):
    # An empty position means "last"; the model's default of 0 would put new rows first.
    if "position" not in form.fields:
        # A read-only form (a reviewer viewing the section) has no position field to relax.
        return
    form.fields["position"].required = False
    if form.instance._state.adding:
        form.fields["position"].initial = None
        form.initial.pop("position", None)


class PasteMixin(forms.Form):
    """A paste box whose markers are resolved while the form validates, so errors land on the field."""

    paste_text = forms.CharField(
        label="Paste claims", required=False, help_text=PASTE_HELP,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
    )

    def article_for_paste(self):
        raise NotImplementedError

    def clean_paste_text(self):
        text = self.cleaned_data.get("paste_text", "").strip()
        self.resolved_claims = []
        if text:
            try:
                self.resolved_claims = resolve_pasted_text(self.article_for_paste(), text)
            except PasteError as error:
                raise forms.ValidationError(str(error)) from error
        return text

    def append_pasted_claims(self, section):
        if getattr(self, "resolved_claims", None):
            return append_claims(section=section, claims=self.resolved_claims)
        return []


class SectionForm(PasteMixin, forms.ModelForm):
    class Meta:
        model = Section
        fields = ["position", "heading"]

    def __init__(self, *args, article=None, **kwargs):
        super().__init__(*args, **kwargs)
        self._article = article
        _leave_new_position_empty(self)
        if "position" in self.fields:
            self.fields["position"].help_text = "Order in the article; left empty, the section goes last."

    def article_for_paste(self):
        if self.instance.pk:
            return self.instance.article
        return self._article


class SectionInlineFormSet(forms.BaseInlineFormSet):
    def get_form_kwargs(self, index):
        kwargs = super().get_form_kwargs(index)
        kwargs["article"] = self.instance if self.instance.pk else None
        return kwargs


class SectionInline(admin.StackedInline):
    model = Section
    form = SectionForm
    formset = SectionInlineFormSet
    fields = ["position", "heading", "paste_text", "claims_link"]
    readonly_fields = ["claims_link"]
    show_change_link = True

    def get_extra(self, request, obj=None, **kwargs):
        # A new article usually needs several sections; an existing one, room for one more.
        return 3 if obj is None else 1

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(
            claim_count=Count("claims", distinct=True)
        )

    @admin.display(description="Claims")
    def claims_link(self, section):
        if not section.pk:
            return "Save the article to start adding claims."
        url = reverse("admin:articles_section_change", args=[section.pk])
        count = getattr(section, "claim_count", None)
        if count is None:
            count = section.claims.count()
        return format_html('<a href="{}">Edit the {} claim(s) of this section</a>', url, count)


def _place_new_rows_last(formset, siblings):
    """New rows saved without a position go after every existing one, in form order."""
    position = _next_position(siblings)
    for form in formset.forms:
        if form.has_changed() and form.instance._state.adding and form.cleaned_data.get("position") is None:
            form.instance.position = position
            position += 1


def _is_public(article):
    """Whether readers can open the article's page: the row-level form of Article.objects.published()."""
    return article.status == Status.PUBLISHED and article.published_at is not None and bool(article.published_revision_id)


@admin.register(Article)
class ArticleAdmin(BoundedSearchMixin, WritingDeskAdminMixin, ImportAdminMixin, WorkflowAdminMixin, admin.ModelAdmin):
    list_display = ["title", "write_link", "status", "topic_list", "author_list", "unsupported_claims", "updated_at", "page_link"]
    list_filter = ["status", "topics", "authors"]
    search_fields = ["title", "slug", "summary", "byline"]
    prepopulated_fields = {"slug": ["title"]}
    autocomplete_fields = ["topics", "authors"]
    readonly_fields = ["status", "published_at", "created_at", "updated_at"]
    inlines = [SectionInline]
    list_per_page = 50
    fieldsets = [
        (None, {"fields": ["title", "slug", "summary", "topics"]}),
        ("Authorship", {"fields": ["authors", "byline", "disclosure"]}),
        ("Status", {"fields": ["status", "review_interval_months", "published_at", "created_at", "updated_at"]}),
    ]

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.resolver_match and request.resolver_match.url_name == "articles_article_changelist":
            queryset = queryset.with_unsupported_claim_count().prefetch_related("topics", "authors")
        return queryset

    def view_on_site(self, article):
        # The public page of a draft is a 404: "View on site" shows what exists, the working copy's preview.
        return article.get_absolute_url() if _is_public(article) else reverse("articles:preview", args=[article.slug])

    @admin.display(description="Page")
    def page_link(self, article):
        if _is_public(article):
            return format_html('<a href="{}">On the site</a>', article.get_absolute_url())
        return format_html('<a href="{}">Preview</a>', reverse("articles:preview", args=[article.slug]))

    @admin.display(description="Write")
    def write_link(self, article):
        return format_html('<a href="{}">Write</a>', reverse("admin:articles_article_desk", args=[article.pk]))

    @admin.display(description="Topics")
    def topic_list(self, article):
        return ", ".join(topic.name for topic in article.topics.all())

    @admin.display(description="Authors")
    def author_list(self, article):
        return ", ".join(user.get_full_name() or user.get_username() for user in article.authors.all())

    @admin.display(description="Claims without a source", ordering="unsupported_claim_count")
    def unsupported_claims(self, article):
        return getattr(article, "unsupported_claim_count", None) or 0

    def save_model(self, request, obj, form, change):
        # The working copy as stored before this save: save_related records what the whole form changed.
        form.content_before = attribution.capture(obj) if change else None
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # Whoever creates an article is its author unless they named others.
        if not change and not form.instance.authors.exists():
            form.instance.authors.add(request.user)
        attribution.record(form.instance, by=request.user, before=getattr(form, "content_before", None))

    def save_formset(self, request, form, formset, change):
        if formset.model is not Section:
            return super().save_formset(request, form, formset, change)
        _place_new_rows_last(formset, formset.instance.sections.all())
        super().save_formset(request, form, formset, change)
        added = 0
        for section_form in formset.forms:
            if section_form.instance.pk and section_form not in formset.deleted_forms:
                added += len(section_form.append_pasted_claims(section_form.instance))
        if added:
            messages.info(request, f"Added {added} claim(s) from pasted text.")


class CitedReferencesWidget(AutocompleteSelectMultiple):
    """The references autocomplete, rendering a claim's chosen references from its prefetched citations.

    The stock widget runs one query per claim row to label the chosen options;
    a section of fifty claims would cost fifty queries.
    """

    chosen = None  # {reference id: Reference}, set per form

    def optgroups(self, name, value, attr=None):
        selected = [str(v) for v in value if str(v) not in self.choices.field.empty_values]
        if self.chosen is None or not all(int(v) in self.chosen for v in selected if v.isdigit()):
            return super().optgroups(name, value, attr)
        options = [
            self.create_option(name, pk, self.choices.field.label_from_instance(self.chosen[int(pk)]), True, index)
            for index, pk in enumerate(selected)
        ]
        return [(None, options, 0)]


def clean_claim_text(text):
    """A claim's words, spaces collapsed; refuses empty words and a citation marker typed into them."""
    text = " ".join(text.split())
    if not text:
        raise forms.ValidationError("A claim needs a statement.")
    marker = gate.leftover_marker(text)
    if marker:
        # Markers are read only where prose is pasted or imported; here one would reach readers as words.
        raise forms.ValidationError(
            f"The words contain the citation marker {marker}. Delete it and choose the source under Sources "
            "(or Citations, on a claim's own page). To cite by marker, paste the sentence into the section's "
            "paste box instead."
        )
    return text


class ClaimTextForm(forms.ModelForm):
    """The claim's own page: its words checked as on the section page."""

    class Meta:
        model = Claim
        fields = ["position", "text", "is_context"]

    def clean_text(self):
        return clean_claim_text(self.cleaned_data["text"])


class ClaimForm(forms.ModelForm):
    sources = forms.ModelMultipleChoiceField(
        queryset=Reference.objects.all(),
        required=False,
        widget=CitedReferencesWidget(Claim._meta.get_field("references"), admin.site),
        help_text="Search by title, DOI or journal. Order matters: the first source is cited first.",
    )

    class Meta:
        model = Claim
        fields = ["position", "text", "is_context"]
        widgets = {"text": forms.Textarea(attrs={"rows": 2, "cols": 70})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _leave_new_position_empty(self)
        if self.instance.pk:
            citations = self.instance.citations.all()
            self.initial["sources"] = [c.reference_id for c in citations]
            self.fields["sources"].widget.chosen = {c.reference_id: c.reference for c in citations}

    def clean_text(self):
        return clean_claim_text(self.cleaned_data["text"])

    def ordered_reference_ids(self):
        # The widget posts ids in the order the editor chose them; the cleaned
        # queryset has no order.
        chosen = {reference.pk for reference in self.cleaned_data.get("sources", [])}
        posted = self.data.getlist(self.add_prefix("sources")) if hasattr(self.data, "getlist") else []
        ordered = [int(value) for value in posted if value.isdigit() and int(value) in chosen]
        return ordered + sorted(chosen - set(ordered))

    def save(self, commit=True):
        claim = super().save(commit=commit)
        if commit and "sources" in self.changed_data:
            set_claim_references(claim=claim, references=self.ordered_reference_ids())
        return claim


class ClaimInline(admin.TabularInline):
    model = Claim
    form = ClaimForm
    extra = 3
    fields = ["position", "text", "is_context", "sources", "citation_details"]
    readonly_fields = ["citation_details"]

    class Media:
        css = {"all": ["css/admin.css"]}

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related(
            Prefetch("citations", queryset=Citation.objects.select_related("reference").order_by("position", "id"))
        )

    @admin.display(description="Locators")
    def citation_details(self, claim):
        if not claim.pk:
            return ""
        url = reverse("admin:articles_claim_change", args=[claim.pk])
        return format_html('<a href="{}">pages, tables…</a>', url)


def _record_and_void(request, article, before):
    """After an edit on a section's or a claim's page: attribute it to the signed-in user, then void a stale approval."""
    attribution.record(article, by=request.user, before=before)
    _void_approval_if_edited(request, article)


def _delete_recorded(request, queryset, article_of):
    """Bulk deletion from a list, each affected article's change attributed to the signed-in user."""
    rows = list(queryset)
    articles = {article.pk: article for article in map(article_of, rows)}
    before = {pk: attribution.capture(article) for pk, article in articles.items()}
    queryset.delete()
    for pk, article in articles.items():
        _record_and_void(request, article, before[pk])


def _void_approval_if_edited(request, article):
    if workflow.void_stale_approval(article, by=request.user):
        messages.warning(
            request, "This edit changed approved content: the article is back in draft and needs approval again."
        )


class HiddenFromIndexMixin:
    """Reached from the article page, not listed on the admin index."""

    def get_model_perms(self, request):
        return {}


@admin.register(Section)
class SectionAdmin(BoundedSearchMixin, HiddenFromIndexMixin, admin.ModelAdmin):
    form = SectionForm
    inlines = [ClaimInline]
    fields = ["article", "position", "heading", "paste_text"]
    autocomplete_fields = ["article"]
    list_display = ["heading", "article", "position"]
    search_fields = ["heading", "article__title"]

    def get_readonly_fields(self, request, obj=None):
        return ["article"] if obj else []

    def save_model(self, request, obj, form, change):
        form.content_before = attribution.capture(obj.article)
        if obj.position in (None, "") or (not change and form.cleaned_data.get("position") is None):
            obj.position = _next_position(Section.objects.filter(article=obj.article))
        super().save_model(request, obj, form, change)

    def save_formset(self, request, form, formset, change):
        if formset.model is Claim:
            _place_new_rows_last(formset, formset.instance.claims.all())
        super().save_formset(request, form, formset, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        added = form.append_pasted_claims(form.instance)
        if added:
            messages.info(request, f"Added {len(added)} claim(s) from pasted text.")
        _record_and_void(request, form.instance.article, form.content_before)

    def delete_model(self, request, obj):
        article = obj.article
        before = attribution.capture(article)
        super().delete_model(request, obj)
        _record_and_void(request, article, before)

    def delete_queryset(self, request, queryset):
        _delete_recorded(request, queryset.select_related("article"), lambda section: section.article)

    def response_change(self, request, obj):
        if "_continue" not in request.POST and "_addanother" not in request.POST:
            messages.success(request, f"Saved “{obj.heading}”.")
            from django.http import HttpResponseRedirect

            return HttpResponseRedirect(reverse("admin:articles_article_change", args=[obj.article_id]))
        return super().response_change(request, obj)


class CitationInline(admin.TabularInline):
    model = Citation
    extra = 1
    fields = ["position", "reference", "locator"]
    autocomplete_fields = ["reference"]


@admin.register(Claim)
class ClaimAdmin(BoundedSearchMixin, HiddenFromIndexMixin, admin.ModelAdmin):
    form = ClaimTextForm
    fields = ["section", "position", "text", "is_context"]
    readonly_fields = ["section"]
    inlines = [CitationInline]
    search_fields = ["text"]

    def has_add_permission(self, request):
        # Claims are added on their section's page.
        return False

    def save_model(self, request, obj, form, change):
        form.content_before = attribution.capture(obj.section.article)
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        _record_and_void(request, form.instance.section.article, form.content_before)

    def delete_model(self, request, obj):
        article = obj.section.article
        before = attribution.capture(article)
        super().delete_model(request, obj)
        _record_and_void(request, article, before)

    def delete_queryset(self, request, queryset):
        _delete_recorded(request, queryset.select_related("section__article"), lambda claim: claim.section.article)

    def response_change(self, request, obj):
        if "_continue" not in request.POST:
            from django.http import HttpResponseRedirect

            messages.success(request, "Saved the claim.")
            return HttpResponseRedirect(reverse("admin:articles_section_change", args=[obj.section_id]))
        return super().response_change(request, obj)
