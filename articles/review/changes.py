"""What changed in an article's claims since a version someone read: a reviewer's last review, or the live revision.

A version is a small JSON snapshot of the claims (``content_snapshot``); the review page compares the working
copy with one and marks each claim as unchanged, edited (word-level ``<ins>``/``<del>``), added, or removed.
Claims are matched by id first (a claim edited in place keeps its id) and then, for the rest, by how alike
their words are, so a claim deleted and typed again still reads as one edit. Words are diffed with the
standard library's difflib.SequenceMatcher over word tokens.
"""

import difflib
import re
from dataclasses import dataclass, field

from django.utils.html import escape
from django.utils.safestring import mark_safe

# Two unmatched claims this alike (SequenceMatcher ratio over words) count as one claim edited.
SIMILAR_ENOUGH = 0.5
# Words, runs of white space, and single punctuation marks: what a reader sees change.
TOKEN = re.compile(r"\s+|\w+(?:['’]\w+)*|[^\w\s]")


def content_snapshot(content):
    """The claims of a loaded working copy (gate.load_content) as JSON: sections, ids, words, sources, context."""
    return {
        "sections": [
            {
                "heading": section.heading,
                "claims": [
                    {
                        "id": loaded.claim.pk,
                        "number": loaded.number,
                        "text": loaded.claim.text,
                        "is_context": loaded.claim.is_context,
                        "references": [c.reference_id for c in loaded.citations],
                    }
                    for loaded in content.claims if loaded.section is section
                ],
            }
            for section in content.sections
        ]
    }


def revision_snapshot(revision):
    """A published revision's claims in the shape of ``content_snapshot`` (revisions keep no claim ids)."""
    ids = {ref["number"]: ref.get("id") for ref in revision.snapshot.get("references", [])}
    return {
        "sections": [
            {
                "heading": section["heading"],
                "claims": [
                    {
                        "id": None,
                        "number": claim.get("number"),
                        "text": claim["text"],
                        "is_context": claim.get("is_context", False),
                        "references": [ids.get(c["reference"]) for c in claim.get("citations", [])],
                    }
                    for claim in section["claims"]
                ],
            }
            for section in revision.snapshot.get("sections", [])
        ]
    }


def _tokens(text):
    return TOKEN.findall(text or "")


def word_diff(old, new):
    """``new`` as HTML with the words removed from ``old`` in <del> and the words added in <ins>; all text escaped."""
    a, b = _tokens(old), _tokens(new)
    parts = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            parts.append(escape("".join(a[i1:i2])))
            continue
        if op in ("delete", "replace"):
            parts.append(f"<del>{escape(''.join(a[i1:i2]))}</del>")
        if op in ("insert", "replace"):
            parts.append(f"<ins>{escape(''.join(b[j1:j2]))}</ins>")
    return mark_safe("".join(parts))


def _similarity(old, new):
    matcher = difflib.SequenceMatcher(None, _tokens(old), _tokens(new), autojunk=False)
    # quick_ratio is an upper bound: most pairs are ruled out without the full comparison.
    if matcher.quick_ratio() < SIMILAR_ENOUGH:
        return 0.0
    return matcher.ratio()


@dataclass
class ClaimChange:
    """How one claim differs from the version compared with."""

    kind: str  # "same", "edited", "added" or "removed"
    text: str
    html: str = ""
    old_text: str = ""
    heading: str = ""
    sources_changed: bool = False
    context_changed: bool = False

    @property
    def changed(self):
        return self.kind != "same"


@dataclass
class Comparison:
    """The working copy against one earlier version: a ClaimChange per current claim id, and the removed claims."""

    label: str
    by_claim: dict = field(default_factory=dict)
    removed: list = field(default_factory=list)

    @property
    def edited(self):
        return [c for c in self.by_claim.values() if c.kind == "edited"]

    @property
    def added(self):
        return [c for c in self.by_claim.values() if c.kind == "added"]

    @property
    def change_count(self):
        return sum(1 for c in self.by_claim.values() if c.changed) + len(self.removed)


def _old_claims(snapshot):
    for section in snapshot.get("sections", []):
        for claim in section.get("claims", []):
            yield section["heading"], claim


def compare(snapshot, content, *, label):
    """The working copy ``content`` (gate.load_content) against ``snapshot`` (content_ or revision_snapshot)."""
    old = list(_old_claims(snapshot))
    current = list(content.claims)
    pairs = {}
    old_by_id = {claim["id"]: index for index, (_, claim) in enumerate(old) if claim.get("id") is not None}
    used = set()
    for loaded in current:
        index = old_by_id.get(loaded.claim.pk)
        if index is not None:
            pairs[loaded.claim.pk] = index
            used.add(index)
    # The rest, by likeness of words, best pairs first; an exact match of words always wins.
    candidates = []
    for loaded in current:
        if loaded.claim.pk in pairs:
            continue
        for index, (_, claim) in enumerate(old):
            if index in used:
                continue
            score = 2.0 if claim["text"] == loaded.claim.text else _similarity(claim["text"], loaded.claim.text)
            if score >= SIMILAR_ENOUGH:
                candidates.append((-score, index, loaded.claim.pk))
    for _, index, claim_id in sorted(candidates):
        if index in used or claim_id in pairs:
            continue
        pairs[claim_id] = index
        used.add(index)

    comparison = Comparison(label=label)
    for loaded in current:
        claim = loaded.claim
        references = [c.reference_id for c in loaded.citations]
        index = pairs.get(claim.pk)
        if index is None:
            comparison.by_claim[claim.pk] = ClaimChange(
                kind="added", text=claim.text, html=mark_safe(f"<ins>{escape(claim.text)}</ins>"),
                heading=loaded.section.heading,
            )
            continue
        heading, before = old[index]
        sources_changed = sorted(filter(None, before.get("references", []))) != sorted(references)
        context_changed = bool(before.get("is_context")) != claim.is_context
        if before["text"] == claim.text and not sources_changed and not context_changed:
            comparison.by_claim[claim.pk] = ClaimChange(kind="same", text=claim.text, heading=loaded.section.heading)
        else:
            comparison.by_claim[claim.pk] = ClaimChange(
                kind="edited", text=claim.text, html=word_diff(before["text"], claim.text), old_text=before["text"],
                heading=loaded.section.heading, sources_changed=sources_changed, context_changed=context_changed,
            )
    for index, (heading, claim) in enumerate(old):
        if index not in used:
            comparison.removed.append(ClaimChange(
                kind="removed", text=claim["text"], html=mark_safe(f"<del>{escape(claim['text'])}</del>"),
                heading=heading,
            ))
    return comparison
