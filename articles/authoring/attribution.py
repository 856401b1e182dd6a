"""Who changed an article's working copy: every change is recorded against the signed-in user who made it.

Each place that writes content (the article, section and claim admin pages, the
importer, the demo loader) takes a ``capture`` of the working copy before it
writes and calls ``record`` after, inside the same transaction, so a change is
never saved without its author. ``record`` writes one ``ContentChange`` saying
in words what changed (fields, sections, claims, sources, context marks, the
authors list) and the content fingerprint after it.

Whoever appears in these records after the previous approval counts as an author
of the next approval, whatever the authors list says (``gate.content_changers``), so
holding both roles, being a superuser or taking oneself off the authors list
does not let anyone approve words they wrote.
"""

from contextlib import contextmanager
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from articles.review import gate
from articles.models import Article, ContentChange

FIELDS = [("title", "Title"), ("summary", "Summary"), ("byline", "Byline"), ("disclosure", "Disclosure")]


@dataclass(frozen=True)
class ContentState:
    """The working copy as one user found it: enough to say later what they changed."""

    fingerprint: str = ""
    fields: dict = field(default_factory=dict)
    sections: dict = field(default_factory=dict)  # id -> heading, in reading order
    claims: dict = field(default_factory=dict)  # id -> (section id, text, is_context, sources), in reading order
    authors: dict = field(default_factory=dict)  # user id -> name


NOTHING = ContentState()


def _user_name(user):
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


def _source(citation):
    label = citation.reference.doi or citation.reference.url or f"reference {citation.reference_id}"
    return f"{label} ({citation.locator})" if citation.locator else label


def capture(article):
    """The working copy of ``article`` as stored now (``NOTHING`` for an article not saved, or gone)."""
    if article is None or article.pk is None:
        return NOTHING
    # As stored, never as some caller's instance holds it: what is saved is what gets approved.
    article = Article.objects.filter(pk=article.pk).first()
    if article is None:
        return NOTHING
    content = gate.load_content(article)
    return ContentState(
        fingerprint=gate.content_fingerprint(article, content),
        fields={name: getattr(article, name) for name, _ in FIELDS},
        sections={section.pk: section.heading for section in content.sections},
        claims={
            loaded.claim.pk: (loaded.section.pk, loaded.claim.text, loaded.claim.is_context,
                              tuple(_source(c) for c in loaded.citations))
            for loaded in content.claims
        },
        authors={user.pk: _user_name(user) for user in article.authors.order_by("pk")},
    )


def _quote(text):
    return gate.excerpt(text) if text.strip() else "(empty)"


def _describe_fields(before, after):
    for name, label in FIELDS:
        old, new = before.fields.get(name, ""), after.fields.get(name, "")
        if old != new:
            yield f"{label}: {_quote(old)} → {_quote(new)}."


def _describe_sections(before, after):
    for pk, heading in after.sections.items():
        if pk not in before.sections:
            yield f"Added section “{heading}”."
        elif before.sections[pk] != heading:
            yield f"Renamed section “{before.sections[pk]}” to “{heading}”."
    for pk, heading in before.sections.items():
        if pk not in after.sections:
            yield f"Removed section “{heading}”."


def _describe_claims(before, after):
    def heading(state, section_id):
        return state.sections.get(section_id, "a removed section")

    for pk, (section_id, text, is_context, sources) in after.claims.items():
        where = f"in “{heading(after, section_id)}”"
        if pk not in before.claims:
            kind = "context statement" if is_context else "claim"
            cites = f", citing {', '.join(sources)}" if sources else ""
            yield f"Added a {kind} {where}: {_quote(text)}{cites}."
            continue
        old_section, old_text, old_context, old_sources = before.claims[pk]
        if old_text != text:
            yield f"Edited a claim {where}: {_quote(old_text)} → {_quote(text)}."
        if old_context != is_context:
            kind = "a context statement" if is_context else "a factual claim"
            yield f"Marked {_quote(text)} {where} as {kind}."
        if old_sources != sources:
            yield (f"Changed the sources of {_quote(text)} {where}: "
                   f"{', '.join(old_sources) or 'none'} → {', '.join(sources) or 'none'}.")
        if old_section != section_id:
            yield f"Moved {_quote(text)} from “{heading(before, old_section)}” to “{heading(after, section_id)}”."
    for pk, (section_id, text, _context, _sources) in before.claims.items():
        if pk not in after.claims:
            yield f"Removed a claim from “{heading(before, section_id)}”: {_quote(text)}."


def _describe_authors(before, after):
    added = [name for pk, name in after.authors.items() if pk not in before.authors]
    removed = [name for pk, name in before.authors.items() if pk not in after.authors]
    parts = []
    if added:
        parts.append(f"added {', '.join(added)}")
    if removed:
        parts.append(f"removed {', '.join(removed)}")
    if parts:
        yield f"Authors: {'; '.join(parts)}."


def describe(before, after):
    """What changed from ``before`` to ``after``, in words, one sentence per change."""
    lines = [
        *_describe_fields(before, after), *_describe_sections(before, after),
        *_describe_claims(before, after), *_describe_authors(before, after),
    ]
    if not lines and before.fingerprint != after.fingerprint:
        # Only the order changed (positions are not part of any one row's description).
        lines.append("Reordered sections or claims.")
    return lines


@transaction.atomic
def record(article, *, by, before, at=None):
    """Record what ``by`` changed in ``article`` since ``before`` (a ``capture``); None if nothing changed."""
    after = capture(article)
    if before is None:
        before = NOTHING
    lines = describe(before, after)
    authors_changed = before.authors != after.authors
    if not lines:
        return None
    if before is NOTHING:
        lines.insert(0, "Created the article.")
    return ContentChange.objects.create(
        article=article, user=by if getattr(by, "pk", None) else None, user_name=_user_name(by),
        at=at or timezone.now(), description="\n".join(lines), authors_changed=authors_changed,
        fingerprint=after.fingerprint,
    )


@contextmanager
def recording(article, *, by):
    """Run a block that writes ``article``'s content, and record it against ``by`` afterwards."""
    before = capture(article)
    yield
    record(article, by=by, before=before)

