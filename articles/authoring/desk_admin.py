"""The writing desk in the article admin: one page per article, saved at once (articles.authoring.desk).

Pages: ``<id>/desk/`` (GET shows, POST saves), ``<id>/desk/check/`` (POST: statuses as JSON,
nothing saved), ``<id>/desk/source/`` (POST: add a source by DOI, PMID or link, or by hand when
Crossref cannot be reached), ``<id>/desk/reply/`` (POST: answer a reviewer's comment) and
``desk/new/`` (write a new article). Every one checks the admin's permissions; reviewers may
read the desk, not save it.
"""

from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.text import slugify

from articles.authoring import attribution, desk
from articles.models import Article
from articles.review import comments, workflow
from articles.review.admin import ADMIN_VERBS

HAND_FIELDS = ("title", "authors", "year", "container_title")


def _posted(request):
    """The desk's fields from a POST: article fields, the section lists and the numbered list shown."""
    data = request.POST
    order = [pk for pk in data.get("reference_order", "").split(",") if pk.strip().isdigit()]
    sections = [
        (section_id, heading, prose)
        for section_id, heading, prose in desk.parse_sections(
            data.getlist("section_id"), data.getlist("heading"), data.getlist("prose"))
        # A section emptied of heading and prose is one the editor removed (the way to remove without script).
        if heading.strip() or prose.strip()
    ]
    fields = {"title": data.get("title", ""), "summary": data.get("summary", ""), "byline": data.get("byline", "")}
    return fields, sections, (order if "reference_order" in data else None)


def _authors(text):
    names = []
    for part in (text or "").split(";"):
        part = part.strip()
        if not part:
            continue
        family, _, given = part.partition(",")
        names.append({"family": family.strip(), "given": given.strip()} if given else {"literal": family.strip()})
    return names


class WritingDeskAdminMixin:
    desk_template = "articles/admin/desk.html"

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        wrap = self.admin_site.admin_view
        return [
            path("desk/new/", wrap(self.desk_new_view), name="%s_%s_desk_new" % info),
            path("<path:object_id>/desk/", wrap(self.desk_view), name="%s_%s_desk" % info),
            path("<path:object_id>/desk/check/", wrap(self.desk_check_view), name="%s_%s_desk_check" % info),
            path("<path:object_id>/desk/source/", wrap(self.desk_source_view), name="%s_%s_desk_source" % info),
            path("<path:object_id>/desk/reply/", wrap(self.desk_reply_view), name="%s_%s_desk_reply" % info),
            *super().get_urls(),
        ]

    # -- helpers --------------------------------------------------------------------

    def _desk_article(self, request, object_id, *, change):
        article = self.get_object(request, unquote(object_id))
        if article is None:
            raise Http404("No such article.")
        allowed = self.has_change_permission(request, article) if change else \
            self.has_view_or_change_permission(request, article)
        if not allowed:
            raise PermissionDenied
        return article

    def _desk_url(self, article, name="desk"):
        return reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_{name}", args=[article.pk])

    def _label_references(self, state):
        from references.citations import render_html

        for reference in state.references:
            reference.apa_html = render_html(reference)
            reference.desk_status = desk.reference_status([reference])
            reference.desk_status_label = desk.STATUS_LABELS[reference.desk_status]

    def _attach_threads(self, article, state):
        self._label_references(state)
        pinned, orphaned = comments.threads_by_claim(article)
        for section in state.sections:
            for sentence in section.sentences:
                sentence.threads = pinned.get(sentence.claim_id, [])
        return orphaned

    def _desk_context(self, request, article, state, fields, *, problems=()):
        orphaned = self._attach_threads(article, state) if article.pk else []
        if not article.pk:
            self._label_references(state)
        buttons = []
        if article.pk:
            buttons = [
                (verb, ADMIN_VERBS[verb][0],
                 reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_workflow", args=[article.pk, verb]))
                for verb in workflow.allowed_verbs(article, request.user) if verb in ADMIN_VERBS
            ]
        can_change = self.has_change_permission(request, article if article.pk else None) if article.pk \
            else self.has_add_permission(request)
        return {
            **self.admin_site.each_context(request),
            "opts": self.opts, "original": article if article.pk else None,
            "title": f"Write: {article.title}" if article.pk else "Write a new article",
            "desk": state, "fields": fields, "problems": problems, "orphaned_threads": orphaned,
            "workflow_buttons": buttons, "can_change": can_change,
            "reference_order": ",".join(str(reference.pk) for reference in state.references),
            "check_url": self._desk_url(article, "desk_check") if article.pk else "",
            "source_url": self._desk_url(article, "desk_source") if article.pk else "",
            "reply_url": self._desk_url(article, "desk_reply") if article.pk else "",
            "change_url": self._desk_url(article, "change") if article.pk else "",
            "preview_url": reverse("articles:preview", args=[article.slug]) if article.pk else "",
            "status_labels": desk.STATUS_LABELS,
        }

    def _render_desk(self, request, article, state, fields, *, problems=(), status=200):
        context = self._desk_context(request, article, state, fields, problems=problems)
        return TemplateResponse(request, self.desk_template, context, status=status)

    # -- pages ---------------------------------------------------------------------------

    def desk_view(self, request, object_id):
        """GET: the article as prose with the evidence beside it; POST: save it all at once."""
        article = self._desk_article(request, object_id, change=request.method == "POST")
        if request.method != "POST":
            fields = {"title": article.title, "summary": article.summary, "byline": article.byline}
            return self._render_desk(request, article, desk.read_desk(article), fields)
        fields, sections, order = _posted(request)
        try:
            state = desk.save_desk(article, by=request.user, sections=sections, reference_order=order, **fields)
        except desk.DeskError as error:
            messages.error(request, str(error))
            return self._render_desk(request, article, error.desk or desk.read_desk(article), fields,
                                     problems=error.problems, status=400)
        pending = sum(1 for section in state.sections for sentence in section.sentences if sentence.pending)
        messages.success(request, f"Saved “{' '.join(fields['title'].split())}”: "
                                  f"{state.sentence_count} sentence(s) in {len(state.sections)} section(s).")
        if pending:
            messages.warning(request, f"{pending} sentence(s) cite a source that could not be looked up; "
                                      "they are marked below. Save again to retry, or add the source by hand.")
            article.refresh_from_db()
            return self._render_desk(request, article, state, fields)
        return HttpResponseRedirect(self._desk_url(article))

    def desk_new_view(self, request):
        """A new article written on the desk: created with its first sections in one save."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        empty = desk.Desk(sections=[], references=[])
        if request.method != "POST":
            return self._render_desk(request, Article(title=""), empty, {"title": "", "summary": "", "byline": ""})
        fields, sections, order = _posted(request)
        title = " ".join(fields["title"].split())
        if not title:
            messages.error(request, "The title is empty: an article needs a title.")
            return self._render_desk(request, Article(title=""), empty, fields, status=400)
        try:
            with transaction.atomic():
                article = Article(title=title, slug=self._free_slug(title))
                article.full_clean(exclude=["authors", "topics"])
                article.save()
                article.authors.add(request.user)
                attribution.record(article, by=request.user, before=attribution.NOTHING)
                desk.save_desk(article, by=request.user, sections=sections, reference_order=order, **fields)
        except ValidationError as error:
            messages.error(request, "; ".join(error.messages))
            return self._render_desk(request, Article(title=""), empty, fields, status=400)
        except desk.DeskError as error:
            messages.error(request, str(error))
            return self._render_desk(request, Article(title=""), error.desk or empty, fields,
                                     problems=error.problems, status=400)
        messages.success(request, f"Created “{article.title}”.")
        return HttpResponseRedirect(self._desk_url(article))

    def _free_slug(self, title):
        base = slugify(title)[:280] or "article"
        slug, number = base, 1
        while Article.objects.filter(slug=slug).exists():
            number += 1
            slug = f"{base}-{number}"
        return slug

    def desk_check_view(self, request, object_id):
        """POST: the posted prose read without saving; statuses and blockers as JSON for the desk's script."""
        if request.method != "POST":
            return JsonResponse({"error": "POST the desk's fields."}, status=405)
        article = self._desk_article(request, object_id, change=True)
        fields, sections, order = _posted(request)
        state = desk.check_desk(article, sections=sections, reference_order=order, **fields)
        self._attach_threads(article, state)
        context = {"desk": state, "can_change": True, "reply_url": self._desk_url(article, "desk_reply")}
        return JsonResponse({
            "sections": [
                {"heading": section.heading, "statuses": [s.status for s in section.sentences],
                 "html": render_to_string("articles/admin/desk_evidence.html", {**context, "section": section},
                                          request=request)}
                for section in state.sections
            ],
            "references_html": render_to_string("articles/admin/desk_references.html", context, request=request),
            "article_blockers": state.article_blockers,
            "problems": [f"{heading}: {sentence} {message}".strip() for heading, sentence, message in state.problems],
        })

    def desk_source_view(self, request, object_id):
        """POST: add a source by DOI, PMID or link; when its authority is unreachable, by hand (unverified)."""
        from references import crossref, pubmed
        from references.doi import InvalidDOI
        from references.services import add_reference_by_doi, add_reference_by_pmid, add_reference_by_url

        if request.method != "POST":
            return JsonResponse({"error": "POST a DOI, PMID or link."}, status=405)
        article = self._desk_article(request, object_id, change=True)
        raw = " ".join(request.POST.get("identifier", "").split())
        by_hand = request.POST.get("by_hand") == "1"
        fallback = None
        if by_hand:
            fallback = {"title": request.POST.get("title", "").strip(), "authors": _authors(request.POST.get("authors")),
                        "container_title": request.POST.get("container_title", "").strip()}
            year = request.POST.get("year", "").strip()
            if year.isdigit():
                fallback["year"] = int(year)
            if not fallback["title"]:
                return self._source_answer(request, article, ok=False, status=400,
                                           message="Give at least the title to enter a source by hand.", hand=True)
        try:
            if not raw:
                raise ValueError("Give a DOI, a PMID or a link.")
            if raw.lower().startswith(("http://", "https://")):
                reference, created = add_reference_by_url(raw, fallback=fallback, by=request.user)
            elif raw.lower().replace(" ", "").startswith(("pmid", "pmc")) or raw.isdigit():
                reference, created = add_reference_by_pmid(raw, fallback=fallback, by=request.user)
            else:
                reference, created = add_reference_by_doi(raw, fallback=fallback, by=request.user)
        except (crossref.WorkNotFound, pubmed.RecordNotFound) as error:
            return self._source_answer(request, article, ok=False, status=400,
                                       message=f"No record of {raw}: {error} Check it.")
        except (crossref.CrossrefError, pubmed.PubMedError) as error:
            return self._source_answer(
                request, article, ok=False, status=503, hand=True,
                message=f"{raw} could not be looked up ({str(error).rstrip('. ')}). Enter it by hand below: it "
                        "stays unverified, and cannot support a claim, until a reviewer verifies it or it is fetched.",
            )
        except (InvalidDOI, pubmed.InvalidPubMedId, ValidationError, ValueError) as error:
            message = "; ".join(error.messages) if isinstance(error, ValidationError) else str(error)
            return self._source_answer(request, article, ok=False, status=400, message=message)
        marker = f"[doi:{reference.doi}]" if reference.doi else (
            f"[@pmid:{reference.pmid}]" if reference.pmid else f"[{reference.url}]")
        verb = "Added" if created else "Found"
        note = "" if reference.counts_as_support else " It does not count as support yet (unverified or not peer-reviewed)."
        return self._source_answer(request, article, ok=True, marker=marker,
                                   message=f"{verb} {reference.title or marker}. Cite it with {marker}.{note}")

    def _source_answer(self, request, article, *, ok, message, status=200, marker="", hand=False):
        if "application/json" in request.headers.get("Accept", ""):
            return JsonResponse({"ok": ok, "message": message, "marker": marker, "by_hand": hand}, status=status)
        (messages.success if ok else messages.error)(request, message)
        return HttpResponseRedirect(self._desk_url(article) + ("?by_hand=1" if hand else ""))

    def desk_reply_view(self, request, object_id):
        """POST: the editor's answer to a reviewer's comment, from beside the sentence it is pinned to."""
        if request.method != "POST":
            raise Http404("POST a reply.")
        article = self._desk_article(request, object_id, change=False)
        thread = request.POST.get("thread", "")
        try:
            comments.reply(article, by=request.user, thread_id=int(thread) if thread.isdigit() else 0,
                           body=request.POST.get("body", ""))
        except comments.CommentError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, "Reply saved.")
        return HttpResponseRedirect(self._desk_url(article))

