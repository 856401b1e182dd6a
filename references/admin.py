from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django_tasks import task_backends
from django_tasks_db.backend import DatabaseBackend
from django.utils.html import format_html, format_html_join

from psychly.admin_search import BoundedSearchMixin
from references import bulk, crossref, pubmed, services, tasks, watch
from references.budget import command_budget
from references.citations import render_html
from references.doi import InvalidDOI, normalise_doi
from references.models import AUTHORITY_SOURCES, MetadataSource, PeerReviewOverride, PeerReviewStatus, Reference

# PubMed's record and the evidence level, shown read-only on a reference's page.
PUBMED_READONLY = ["evidence_display", "pmid_link", "pmcid_link", "publication_types_display", "mesh_display",
                   "abstract_display", "pubmed_fetched_at"]
# Fields an editor may correct for display; the metadata itself stays as fetched.
DISPLAY_FIELDS = ["title", "container_title", "volume", "issue", "pages", "publisher"]
METADATA_FIELDS = ["title", "authors_text", "container_title", "year", "volume", "issue", "pages", "publisher",
                   "work_type"]


def authors_to_text(authors):
    lines = []
    for author in authors or []:
        if author.get("literal"):
            lines.append(author["literal"])
        else:
            lines.append(", ".join(p for p in (author.get("family", ""), author.get("given", "")) if p))
    return "\n".join(lines)


def text_to_authors(text):
    authors = []
    for line in (text or "").splitlines():
        line = line.strip()
        if not line:
            continue
        if "," in line:
            family, given = (part.strip() for part in line.split(",", 1))
            authors.append({"family": family, "given": given} if given else {"family": family})
        else:
            authors.append({"literal": line})
    return authors


class ReferenceForm(forms.ModelForm):
    doi = forms.CharField(
        label="DOI", required=False, max_length=1000,
        help_text="Any form: 10.x/y, doi:10.x/y, https://doi.org/10.x/y or a publisher URL containing the DOI.",
    )
    fetch_from_crossref = forms.BooleanField(
        required=False, initial=True,
        help_text="Fill the metadata from Crossref. If Crossref is unavailable, what you typed below is saved.",
    )
    pubmed_id = forms.CharField(
        label="PMID or PMCID", required=False, max_length=200,
        help_text="PMID: 12345678, PMC1234567, or a PubMed or PMC link. Filled from PubMed when fetching is on; "
        "a work already present by its DOI gains its PubMed record instead of a second entry.",
    )
    url = forms.URLField(label="URL", required=False, max_length=1000, assume_scheme="https",
                         help_text="For a source without a DOI.")
    authors_text = forms.CharField(
        label="Authors", required=False, widget=forms.Textarea(attrs={"rows": 4}),
        help_text="One per line: “Family, Given” for a person, or an organisation's name.",
    )

    class Meta:
        model = Reference
        fields = ["doi", "url", "title", "container_title", "year", "volume", "issue", "pages", "publisher",
                  "work_type", "needs_check"]

    display_title = forms.CharField(
        label="Display title", required=False, widget=forms.TextInput(attrs={"size": 100}),
        help_text="Shown to readers instead of the metadata, e.g. the title in sentence case as APA wants.",
    )
    display_container_title = forms.CharField(label="Display journal or container", required=False)
    display_volume = forms.CharField(required=False)
    display_issue = forms.CharField(required=False)
    display_pages = forms.CharField(required=False)
    display_publisher = forms.CharField(required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.crossref_work = None
        self.crossref_error = None
        self.pubmed_record = None
        self.pubmed_error = None
        for name in DISPLAY_FIELDS:
            self.fields[f"display_{name}"].initial = self.instance.display_overrides.get(name, "")
        if self.instance.pk:
            # The DOI is the reference's identity; it is never edited, and a
            # saved reference is refreshed rather than re-fetched here.
            self.fields["authors_text"].initial = authors_to_text(self.instance.authors)
            self.fields.pop("doi", None)
            self.fields.pop("fetch_from_crossref", None)
            self.fields.pop("pubmed_id", None)

    def clean_doi(self):
        raw = self.cleaned_data.get("doi", "").strip()
        if not raw:
            return None
        try:
            doi = normalise_doi(raw)
        except InvalidDOI as exc:
            raise forms.ValidationError(str(exc)) from exc
        duplicate = Reference.objects.with_doi(doi).exclude(pk=self.instance.pk).first()
        if duplicate:
            raise forms.ValidationError(f"This DOI is already present: “{duplicate}” (id {duplicate.pk}).")
        return doi

    def clean_pubmed_id(self):
        raw = self.cleaned_data.get("pubmed_id", "").strip()
        if not raw:
            return None
        try:
            pubmed_id = pubmed.parse_pubmed_id(raw)
        except pubmed.InvalidPubMedId as exc:
            raise forms.ValidationError(str(exc)) from exc
        duplicate = Reference.objects.filter(**{pubmed_id.kind: pubmed_id.value}).first()
        if duplicate:
            raise forms.ValidationError(f"This {pubmed_id} is already present: “{duplicate}” (id {duplicate.pk}).")
        return pubmed_id

    def _clean_pubmed(self, cleaned, doi):
        """Fetch the PubMed record for a new reference; with no record, the details typed in are needed."""
        pubmed_id = cleaned.get("pubmed_id")
        if self.instance.pk or not pubmed_id or not cleaned.get("fetch_from_crossref"):
            return
        try:
            self.pubmed_record = pubmed.fetch_by_id(pubmed_id)
        except pubmed.PubMedError as exc:
            self.pubmed_error = exc
            if not cleaned.get("title") and self.crossref_work is None:
                prefix = "PubMed unavailable" if isinstance(exc, pubmed.PubMedUnavailable) else "PubMed"
                raise forms.ValidationError(
                    f"{prefix}: {exc} Enter the title and other details by hand to save it anyway."
                ) from exc
            return
        try:
            record_doi = normalise_doi(self.pubmed_record.doi) if self.pubmed_record.doi else None
        except InvalidDOI:
            record_doi = None
        if doi and record_doi and record_doi != doi:
            raise forms.ValidationError(
                f"PubMed gives {pubmed_id} the DOI {record_doi}, not {doi}: check which of the two you meant."
            )

    def clean(self):
        cleaned = super().clean()
        doi = cleaned.get("doi") or self.instance.doi
        if (not doi and not cleaned.get("url") and "doi" not in self.errors and not cleaned.get("pubmed_id")
                and "pubmed_id" not in self.errors):
            raise forms.ValidationError("Give a DOI or, for a source without one, a URL.")
        if not self.instance.pk and doi and cleaned.get("fetch_from_crossref"):
            try:
                self.crossref_work = crossref.fetch_work(doi)
            except crossref.CrossrefError as exc:
                self.crossref_error = exc
                if not cleaned.get("title"):
                    prefix = "Crossref unavailable" if isinstance(exc, crossref.CrossrefUnavailable) else "Crossref"
                    raise forms.ValidationError(
                        f"{prefix}: {exc} Enter the title and other details by hand to save it anyway."
                    ) from exc
        self._clean_pubmed(cleaned, doi)
        return cleaned


class OverrideForm(forms.Form):
    status = forms.ChoiceField(
        choices=[("", "— withdraw the override: use the computed status —"), *PeerReviewStatus.choices],
        required=False,
    )
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3, "cols": 60}), help_text="Required; reviewers see it.")

    def __init__(self, *args, reference, user, **kwargs):
        super().__init__(*args, **kwargs)
        if not services.may_raise_peer_review(reference, user):
            # Only a reviewer who did not enter it may make a source count as peer-reviewed; the rest may
            # only lower it (withdrawing an override over a computed "peer-reviewed" would raise it too).
            lowering = [(value, label) for value, label in self.fields["status"].choices
                        if value != PeerReviewStatus.PEER_REVIEWED]
            if reference.peer_review_status == PeerReviewStatus.PEER_REVIEWED and reference.override_applies:
                lowering = [(value, label) for value, label in lowering if value]
            self.fields["status"].choices = lowering
            self.fields["status"].help_text = (
                "You may lower the status only: a reviewer who did not enter this reference may raise it."
            )


class VerifyForm(forms.Form):
    decision = forms.ChoiceField(choices=[
        ("verify", "Verify: I checked this source exists and its details here are right"),
        ("withdraw", "Withdraw the verification"),
    ], widget=forms.RadioSelect, initial="verify")
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Required: what you checked (e.g. “Matched the journal's page and the PDF”). Shown to reviewers.",
    )


class AddManyForm(forms.Form):
    dois = forms.CharField(
        label="DOIs, PMIDs or URLs", widget=forms.Textarea(attrs={"rows": 12, "cols": 80}),
        help_text="One per line, in any form: a DOI, PMID: 12345678, PMC1234567, or a PubMed, PMC or DOI link.",
    )


class ImportForm(forms.Form):
    file = forms.FileField(help_text="CSL-JSON (.json), RIS (.ris) or BibTeX (.bib). Works without Crossref.")


@admin.register(Reference)
class ReferenceAdmin(BoundedSearchMixin, admin.ModelAdmin):
    form = ReferenceForm
    list_display = ["__str__", "doi", "year", "work_type", "effective_status", "retraction_status", "needs_check"]
    list_filter = ["peer_review_status", "peer_review_override", "retraction_status", "work_type", "needs_check",
                   "metadata_source"]
    # The claim form's autocomplete searches these.
    search_fields = ["title", "doi", "container_title", "url", "pmid", "pmcid"]
    actions = ["refresh_selected"]
    change_list_template = "admin/references/reference/change_list.html"
    readonly_fields = ["apa_preview", "counts_as_support", "effective_status", "peer_review_status", "override_summary", "override_log",
                       "retraction_status", "notices_list", "metadata_source", "fetched_at", "status_checked_at",
                       "verification_summary", "verification_log", "entered_by", "notice_kind"]

    def get_fieldsets(self, request, obj=None):
        source = ["doi", "url"] if obj else ["doi", "pubmed_id", "fetch_from_crossref", "url"]
        fieldsets = [(None, {"fields": source})]
        fieldsets.append(("Metadata", {"fields": METADATA_FIELDS + ["needs_check"]}))
        if obj and obj.metadata_source in AUTHORITY_SOURCES:
            fieldsets[1][1]["fields"] = [
                "authors_display" if name == "authors_text" else name for name in fieldsets[1][1]["fields"]
            ]
        if obj:
            fieldsets.insert(0, ("As readers see it (APA 7)", {"fields": ["apa_preview"]}))
            fieldsets.append(("Status", {"fields": [
                "counts_as_support", "metadata_source", "entered_by", "verification_summary", "verification_log",
                "notice_kind", "effective_status", "peer_review_status", "override_summary", "override_log",
                "retraction_status", "notices_list", "fetched_at", "status_checked_at",
            ]}))
            fieldsets.append(("PubMed and evidence", {"fields": PUBMED_READONLY}))
            fieldsets.append(("Corrections for display", {"fields": [f"display_{n}" for n in DISPLAY_FIELDS]}))
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        readonly = list(self.readonly_fields) + PUBMED_READONLY
        if obj and obj.metadata_source in AUTHORITY_SOURCES:
            # Crossref's metadata is kept as fetched; editors correct it through the display fields.
            readonly += ["doi", "title", "container_title", "year", "volume", "issue", "pages", "publisher",
                         "work_type", "authors_display"]
        elif obj:
            readonly.append("doi")
        return readonly

    def save_model(self, request, obj, form, change):
        if change:
            self._save_change(request, obj, form)
            return
        overrides = dict(obj.display_overrides)
        for name in DISPLAY_FIELDS:
            if f"display_{name}" in form.cleaned_data:
                value = form.cleaned_data[f"display_{name}"].strip()
                if value:
                    overrides[name] = value
                else:
                    overrides.pop(name, None)
        obj.display_overrides = overrides
        if "authors_text" in form.cleaned_data and obj.metadata_source != MetadataSource.CROSSREF:
            obj.authors = text_to_authors(form.cleaned_data["authors_text"])
        if not change:
            if form.crossref_work is not None:
                services.apply_work(obj, form.crossref_work)
                self.message_user(request, f"Filled from Crossref: {obj.doi}.", messages.SUCCESS)
            else:
                obj.metadata_source = MetadataSource.MANUAL
                if form.crossref_error is not None:
                    label = (
                        "Crossref unavailable" if isinstance(form.crossref_error, crossref.CrossrefUnavailable)
                        else "Crossref"
                    )
                    self.message_user(
                        request, f"{label}: {form.crossref_error} Saved with the details entered by hand.",
                        messages.WARNING,
                    )
        if self._save_from_pubmed(request, obj, form):
            return
        services.save_reference(obj, by=request.user)
        if form.pubmed_record is not None:
            # Crossref filled it; PubMed's record joins the same reference.
            services.add_pubmed_record(form.pubmed_record, by=request.user)
            obj.refresh_from_db()
        if not obj.is_verified:
            self.message_user(
                request, "Entered by hand: this source is unverified and cannot support a claim until a reviewer "
                "verifies it or it is fetched from Crossref.", messages.WARNING,
            )

    def _save_change(self, request, obj, form):
        """An edit goes through the service, which announces any change readers would see."""
        fields = {}
        for name in services.EDITABLE_FIELDS:
            if name in form.cleaned_data and name in form.fields:
                fields[name] = getattr(obj, name)  # the form has put the cleaned value on the instance
        if "authors_text" in form.cleaned_data and "authors_text" in form.fields and not obj.from_authority:
            fields["authors"] = text_to_authors(form.cleaned_data["authors_text"])
        overrides = dict(Reference.objects.values_list("display_overrides", flat=True).get(pk=obj.pk))
        for name in DISPLAY_FIELDS:
            if f"display_{name}" in form.cleaned_data:
                overrides[name] = form.cleaned_data[f"display_{name}"]
        try:
            saved = services.edit_reference(obj, by=request.user, fields=fields, display_overrides=overrides)
        except services.ReferenceEditRefused as exc:
            # The form validated; the service refused what it would change. Nothing was saved.
            self.message_user(request, str(exc), messages.ERROR)
            obj.refresh_from_db()
            request._reference_edit_refused = True
            return
        obj.__dict__.update({k: v for k, v in saved.__dict__.items() if not k.startswith("_")})

    def log_change(self, request, obj, message):
        if getattr(request, "_reference_edit_refused", False):
            return None  # nothing changed, so nothing goes in the history
        return super().log_change(request, obj, message)

    def response_change(self, request, obj):
        if getattr(request, "_reference_edit_refused", False):
            # The refusal is the only message: Django's "changed successfully" would say the opposite.
            return redirect(request.path)
        return super().response_change(request, obj)

    # Read-only displays --------------------------------------------------

    @admin.display(description="Peer review (effective)")
    def effective_status(self, obj):
        label = PeerReviewStatus(obj.effective_peer_review_status).label
        if obj.peer_review_override and not obj.override_applies:
            return f"{label} (an override to peer-reviewed not made by a reviewer is ignored)"
        return f"{label} (overridden)" if obj.peer_review_override else label

    @admin.display(description="Can support a claim", boolean=True)
    def counts_as_support(self, obj):
        return obj.counts_as_support

    @admin.display(description="Authors")
    def authors_display(self, obj):
        return authors_to_text(obj.authors).replace("\n", "; ")

    @admin.display(description="APA 7")
    def apa_preview(self, obj):
        return render_html(obj)

    @admin.display(description="Editor's override")
    def override_summary(self, obj):
        link = reverse("admin:references_reference_override", args=[obj.pk])
        if not obj.peer_review_override:
            return format_html('None. <a href="{}">Override the peer-review status…</a>', link)
        return format_html(
            '{} by {} on {}: “{}”. <a href="{}">Change…</a>',
            obj.get_peer_review_override_display(), obj.peer_review_override_by or "a deleted user",
            obj.peer_review_override_at.strftime("%Y-%m-%d %H:%M") if obj.peer_review_override_at else "?",
            obj.peer_review_override_reason, link,
        )

    @admin.display(description="Override history")
    def override_log(self, obj):
        rows = obj.peer_review_overrides.select_related("by")
        if not rows:
            return "No overrides."
        return format_html("<ul>{}</ul>", format_html_join("", "<li>{}</li>", ((str(r),) for r in rows)))

    @admin.display(description="Verification")
    def verification_summary(self, obj):
        link = reverse("admin:references_reference_verify", args=[obj.pk])
        if obj.from_authority:
            return f"Verified: the record was fetched from {obj.get_metadata_source_display()}."
        if obj.verified_by_id:
            return format_html(
                'Verified by {} on {}: “{}”. <a href="{}">Withdraw…</a>', obj.verified_by,
                obj.verified_at.strftime("%Y-%m-%d %H:%M") if obj.verified_at else "?", obj.verification_reason, link,
            )
        return format_html(
            'Entered by hand — unverified: it cannot support a claim. A reviewer who did not enter it may '
            '<a href="{}">verify this source…</a>, or refresh it from Crossref.', link,
        )

    @admin.display(description="Verification history")
    def verification_log(self, obj):
        rows = obj.verifications.select_related("by")
        if not rows:
            return "No verifications."
        return format_html("<ul>{}</ul>", format_html_join("", "<li>{}</li>", ((str(r),) for r in rows)))

    @admin.display(description="Retraction and correction notices")
    def notices_list(self, obj):
        if not obj.notices:
            return "None recorded."
        def link(update):
            # PubMed's notices name the notice by PMID, and by DOI only when its citation gives one.
            if update.get("DOI"):
                return format_html('<a href="https://doi.org/{}">{}</a>', update["DOI"], update["DOI"])
            if update.get("pmid"):
                return format_html('<a href="{}">PMID {}</a>', pubmed.pubmed_url(update["pmid"]), update["pmid"])
            return "no link recorded"

        return format_html("<ul>{}</ul>", format_html_join(
            "", "<li><strong>{}</strong> ({}, {}): {}</li>",
            ((u.get("label") or u.get("type"), u.get("source", ""), u.get("updated", ""), link(u))
             for u in obj.notices),
        ))

    def _save_from_pubmed(self, request, obj, form):
        """Add a reference by PMID/PMCID; True when PubMed's record filled (or joined) it."""
        pubmed_id = form.cleaned_data.get("pubmed_id")
        if form.pubmed_record is None:
            if pubmed_id:
                # Kept by hand, unverified, until a refresh fetches it.
                setattr(obj, pubmed_id.kind, pubmed_id.value)
                if not obj.doi and not obj.url and pubmed_id.kind == "pmcid":
                    obj.url = pubmed.pmc_url(pubmed_id.value)
                if form.pubmed_error is not None:
                    label = "PubMed unavailable" if isinstance(form.pubmed_error, pubmed.PubMedUnavailable) else "PubMed"
                    self.message_user(request, f"{label}: {form.pubmed_error} Saved with the details entered by hand.",
                                      messages.WARNING)
            return False
        if form.crossref_work is not None:
            return False
        reference, created = services.add_pubmed_record(form.pubmed_record, by=request.user)
        obj.pk = reference.pk
        obj.refresh_from_db()
        if created:
            self.message_user(request, f"Filled from PubMed: PMID {reference.pmid}.", messages.SUCCESS)
        else:
            self.message_user(
                request, f"PMID {reference.pmid} is the work already present with the DOI {reference.doi}: "
                "its PubMed record was added to that reference.", messages.SUCCESS,
            )
        return True

    @admin.display(description="Evidence level")
    def evidence_display(self, obj):
        return format_html("<strong>{}</strong> ({})", obj.evidence_description or "Not known",
                           obj.get_evidence_level_display())

    @admin.display(description="PMID")
    def pmid_link(self, obj):
        if not obj.pmid:
            return "—"
        return format_html('<a href="{}" rel="noopener">{}</a>', pubmed.pubmed_url(obj.pmid), obj.pmid)

    @admin.display(description="PMCID")
    def pmcid_link(self, obj):
        if not obj.pmcid:
            return "—"
        return format_html('<a href="{}" rel="noopener">{}</a>', pubmed.pmc_url(obj.pmcid), obj.pmcid)

    @admin.display(description="Publication types (PubMed)")
    def publication_types_display(self, obj):
        return ", ".join(obj.publication_types) or "—"

    @admin.display(description="MeSH terms")
    def mesh_display(self, obj):
        return ", ".join(obj.mesh_terms) or "—"

    @admin.display(description="Abstract")
    def abstract_display(self, obj):
        if not obj.abstract:
            return "—"
        return format_html_join("", "<p>{}</p>", ((part,) for part in obj.abstract.split("\n\n")))

    # Actions ------------------------------------------------------------

    @admin.action(description="Refresh selected references from Crossref and PubMed", permissions=["change"])
    def refresh_selected(self, request, queryset):
        if settings.TASKS_IN_BACKGROUND:
            count = tasks.queue_refreshes(queryset, requested_by=request.user.pk)
            noun = "refresh" if count == 1 else "refreshes"
            self.message_user(request, f"{count} {noun} queued; each one's outcome is listed under Task results.",
                              messages.INFO)
            return
        for reference in queryset:
            result = services.refresh_reference(reference)
            level = messages.ERROR if result.error else (messages.WARNING if result.newly_retracted else messages.INFO)
            self.message_user(request, str(result), level)

    # Custom views -------------------------------------------------------

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        custom = [
            path("add-many/", self.admin_site.admin_view(self.add_many_view), name="%s_%s_add_many" % info),
            path("import/", self.admin_site.admin_view(self.import_view), name="%s_%s_import" % info),
            path("<int:object_id>/override-peer-review/", self.admin_site.admin_view(self.override_view),
                 name="%s_%s_override" % info),
            path("<int:object_id>/verify/", self.admin_site.admin_view(self.verify_view),
                 name="%s_%s_verify" % info),
            path("check-retractions/", self.admin_site.admin_view(self.check_retractions_view),
                 name="%s_%s_check_retractions" % info),
            path("refresh-oldest/", self.admin_site.admin_view(self.refresh_oldest_view),
                 name="%s_%s_refresh_oldest" % info),
        ]
        return custom + super().get_urls()

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}),
                         "can_check_references": request.user.has_perm("references.check_references")}
        return super().changelist_view(request, extra_context)

    def _start_check(self, request, task_obj, what, run_here):
        """Queue a reference check as a task (a message links to its status), or, in the foreground, run it."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not request.user.has_perm("references.check_references"):
            raise PermissionDenied
        if settings.TASKS_IN_BACKGROUND:
            result = task_obj.enqueue(requested_by=request.user.pk)
            if isinstance(task_backends[result.backend], DatabaseBackend):
                link = reverse("admin:django_tasks_database_dbtaskresult_change", args=[result.id])
                self.message_user(request, format_html(
                    '{} is queued for the task worker: <a href="{}">follow its status</a> (also under Task results).',
                    what, link), messages.INFO)
            else:
                # Another engine keeps its outcomes itself (RQ's dashboard, for one): the id finds it there.
                self.message_user(request, f"{what} is queued for the task worker as task {result.id}.", messages.INFO)
        else:
            level, line = run_here()
            self.message_user(request, line, level)
        return redirect("admin:references_reference_changelist")

    def check_retractions_view(self, request):
        def run_here():
            try:
                return messages.INFO, str(watch.run_sweep())
            except watch.SweepBusy as exc:
                return messages.INFO, f"Retraction sweep skipped: {exc}"
            except watch.SweepError as exc:
                return messages.ERROR, f"Retraction sweep failed: {exc} The next run resumes it."

        return self._start_check(request, tasks.sweep_retractions, "The check for retractions", run_here)

    def refresh_oldest_view(self, request):
        def run_here():
            from references.management.commands.refresh_references import checkable, oldest_first

            changed = failed = 0
            references = oldest_first(checkable(), settings.REFRESH_BUDGET_PER_RUN)
            for reference in references:
                Reference.objects.filter(pk=reference.pk).update(refresh_attempted_at=timezone.now())
                with command_budget("this reference"):
                    result = services.refresh_reference(reference)
                failed += bool(result.error)
                changed += bool(result.changed and not result.error)
            return (messages.ERROR if failed else messages.INFO,
                    f"Checked {len(references)} reference(s): {changed} changed, {failed} failed.")

        return self._start_check(request, tasks.refresh_due, "The refresh of the oldest sources", run_here)

    def _context(self, request, title, **extra):
        return {**self.admin_site.each_context(request), "opts": self.opts, "title": title, **extra}

    def add_many_view(self, request):
        if not self.has_add_permission(request):
            raise PermissionDenied
        results = None
        form = AddManyForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            results = bulk.add_many(form.cleaned_data["dois"].splitlines(), by=request.user)
        return TemplateResponse(request, "admin/references/reference/add_many.html", self._context(
            request, "Add references by DOI or PMID", form=form, results=results,
            failed=sum(r.failed for r in results or []),
        ))

    def import_view(self, request):
        if not self.has_add_permission(request):
            raise PermissionDenied
        results = None
        form = ImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                text = upload.read().decode("utf-8-sig")
                results = bulk.import_export(text, upload.name, by=request.user)
            except UnicodeDecodeError:
                form.add_error("file", f"{upload.name} is not UTF-8 text.")
            except bulk.ImportFormatError as exc:
                form.add_error("file", str(exc))
        if results is not None:
            unverified = any(r.outcome == "added" and not r.verified for r in results)
            self.message_user(request, bulk.import_summary(results), messages.WARNING if unverified else messages.INFO)
        return TemplateResponse(request, "admin/references/reference/import.html", self._context(
            request, "Import a reference manager's export", form=form, results=results,
            failed=sum(r.failed for r in results or []),
        ))

    def override_view(self, request, object_id):
        # Editors may lower a status; reviewers may also raise one (services.override_peer_review).
        if not (request.user.has_perm("references.override_peer_review")
                or request.user.has_perm("references.verify_reference")):
            raise PermissionDenied
        reference = get_object_or_404(Reference, pk=object_id)
        form = OverrideForm(request.POST or None, initial={"status": reference.peer_review_override},
                            reference=reference, user=request.user)
        if request.method == "POST" and form.is_valid():
            try:
                services.override_peer_review(
                    reference, status=form.cleaned_data["status"], reason=form.cleaned_data["reason"],
                    by=request.user,
                )
            except services.OverrideRefused as exc:
                form.add_error(None, str(exc))
            else:
                self.message_user(request, "Peer-review status recorded.", messages.SUCCESS)
                return redirect("admin:references_reference_change", reference.pk)
        return TemplateResponse(request, "admin/references/reference/override.html", self._context(
            request, f"Override peer-review status: {reference}", form=form, reference=reference,
            computed=PeerReviewStatus(reference.peer_review_status).label,
            log=reference.peer_review_overrides.select_related("by"),
        ))


    def verify_view(self, request, object_id):
        if not request.user.has_perm("references.verify_reference"):
            raise PermissionDenied
        reference = get_object_or_404(Reference.objects.select_related("entered_by", "verified_by"), pk=object_id)
        form = VerifyForm(request.POST or None,
                          initial={"decision": "withdraw" if reference.verified_by_id else "verify"})
        if request.method == "POST" and form.is_valid():
            decide = (services.verify_reference if form.cleaned_data["decision"] == "verify"
                      else services.withdraw_verification)
            try:
                decide(reference, by=request.user, reason=form.cleaned_data["reason"])
            except services.VerificationRefused as exc:
                form.add_error(None, str(exc))
            else:
                done = "Verified" if form.cleaned_data["decision"] == "verify" else "Verification withdrawn"
                # The admin's own History of the reference shows it too.
                self.log_change(request, reference, f"{done}: {form.cleaned_data['reason'].strip()}")
                self.message_user(request, f"{done}.", messages.SUCCESS)
                return redirect("admin:references_reference_change", reference.pk)
        return TemplateResponse(request, "admin/references/reference/verify.html", self._context(
            request, f"Verify this source: {reference}", form=form, reference=reference,
            apa=render_html(reference), log=reference.verifications.select_related("by"),
            from_authority=reference.metadata_source in AUTHORITY_SOURCES,
        ))


@admin.register(PeerReviewOverride)
class PeerReviewOverrideAdmin(admin.ModelAdmin):
    """The audit log, read-only: rows are written only by services.override_peer_review."""

    list_display = ["reference", "status", "previous_status", "by", "at", "reason"]
    list_select_related = ["reference", "by"]
    list_filter = ["status"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
