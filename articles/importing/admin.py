"""The importer in the admin: upload or paste a plain-text article.

ArticleAdmin inherits ImportAdminMixin; every method here calls super().
"Preview" runs the import as a dry run and shows the report; "Import" runs it
for real and opens the new draft. Both need the add_article permission.
"""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from articles.importing import ImportFailed, decode_text, import_article, line_by_line
from articles.models import Topic

MAX_UPLOAD_BYTES = 2 * 1024 * 1024


class ImportForm(forms.Form):
    file = forms.FileField(
        label="Text file", required=False,
        help_text="A UTF-8 text or Markdown file (.txt, .md): title on the first line, headings, paragraphs, "
        "the reference list (or footnote definitions) last.",
    )
    text = forms.CharField(
        label="Or paste the article", required=False, strip=False,
        widget=forms.Textarea(attrs={"rows": 18, "cols": 100}),
    )
    topic = forms.ModelChoiceField(queryset=Topic.objects.all(), required=False)
    replace_draft = forms.BooleanField(
        label="Replace an existing draft with the same title", required=False,
        help_text="Only a draft is ever replaced; its sections and claims are rebuilt from this text.",
    )

    def clean(self):
        cleaned = super().clean()
        upload = cleaned.get("file")
        if upload:
            if upload.size > MAX_UPLOAD_BYTES:
                raise forms.ValidationError(
                    f"The file is {upload.size:,} bytes; an article file may be at most {MAX_UPLOAD_BYTES:,}."
                )
            cleaned["data"] = upload.read()
        elif (cleaned.get("text") or "").strip():
            cleaned["data"] = cleaned["text"]
        else:
            raise forms.ValidationError("Choose a file to upload or paste the article's text.")
        return cleaned


class ImportAdminMixin:
    change_list_template = "articles/admin/import_change_list.html"
    import_template = "articles/admin/import_form.html"

    def get_urls(self):
        urls = super().get_urls()
        name = f"{self.opts.app_label}_{self.opts.model_name}_import"
        # Before the model admin's own URLs, whose "<object_id>/" would swallow "import/".
        return [path("import/", self.admin_site.admin_view(self.import_view), name=name), *urls]

    def import_view(self, request):
        """Upload or paste an article; preview the dry-run report; import it as a draft."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        report = None
        lines = []
        if request.method == "POST":
            form = ImportForm(request.POST, request.FILES)
            if form.is_valid():
                dry_run = "_import" not in request.POST
                try:
                    report = import_article(
                        form.cleaned_data["data"], author=request.user, topic=form.cleaned_data["topic"],
                        dry_run=dry_run, replace_draft=form.cleaned_data["replace_draft"],
                    )
                except ImportFailed as error:
                    form.add_error(None, str(error))
                else:
                    if not dry_run:
                        return self._imported(request, report)
                    # Carry an uploaded file's text over, so "Import" sends what was previewed.
                    data = form.data.copy()
                    data["text"] = decode_text(form.cleaned_data["data"])
                    form = ImportForm(data)
                    lines = line_by_line(data["text"], report.as_dict())
        else:
            form = ImportForm()
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Import {self.opts.verbose_name} from text",
            "form": form,
            "report": report.as_dict() if report else None,
            "report_text": report.as_text() if report else "",
            "lines": lines,
            "has_view_permission": self.has_view_permission(request),
        }
        return TemplateResponse(request, self.import_template, context)

    def _imported(self, request, report):
        article = report.article
        unsupported = len(report.unsupported_claims)
        messages.success(
            request,
            f"Imported “{article.title}” as a draft: {len(report.claims)} claim(s), {unsupported} without a source, "
            f"{len(report.references)} reference(s), {len(report.blockers)} publish blocker(s).",
        )
        url = reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[article.pk])
        return HttpResponseRedirect(url)
