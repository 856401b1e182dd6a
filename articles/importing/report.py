"""What an import made, as the editor reads it (text) and as programs read it (JSON).

The report (``ImportReport.as_dict()``, printed by ``import_article --json``)::

    {
      "dry_run": bool,            # true: nothing was saved
      "replaced": bool,           # true: an existing draft's sections were replaced
      "article": {"id": int | null, "title": str, "slug": str, "status": str,
                  "summary": str, "topics": [str], "authors": [str]},
      "sections": [{"number": int, "heading": str, "line": int | null,
                    "claims": [{"number": int, "line": int, "text": str,
                                "context": bool,
                                "sources": [{"reference": int | null,
                                             "doi": str | null, "url": str}]}]}],
      "unsupported_claims": [{"section": str, "claim": int, "line": int, "text": str}],
      "context": [{"section": str, "claim": int, "line": int, "text": str}],
      "left_out": [{"line": int, "text": str, "reason": str}],
      "references": [{"number": int | null, "line": int, "doi": str | null, "url": str,
                      "title": str, "status": "added" | "already present",
                      "metadata": "crossref" | "citation_line" | "manual" | "file",
                      "needs_check": bool, "peer_review": str, "retraction": str,
                      "cited_by": int}],
      "blockers": [{"code": str, "message": str, "section": str | null,
                    "claim": int | null, "excerpt": str}],
      "warnings": [str]
    }

Claims are numbered from 1 through the whole article, as the publish gate numbers them.
"""

import json
from dataclasses import dataclass, field

from articles.importing.layout import HORIZONTAL_RULE, MARKUP_ONLY, REFERENCES_HEADING, _markdown_heading
from articles.models import Article
from references import pubmed


@dataclass
class ImportReport:
    """What an import made (or, in a dry run, would make); ``as_dict()`` is the --json output."""

    article: Article
    dry_run: bool
    replaced: bool
    sections: list[dict]
    references: list[dict]
    left_out: list[dict]
    blockers: list
    warnings: list[str]
    topics: list[str] = field(default_factory=list)
    authors: list[str] = field(default_factory=list)

    @property
    def claims(self):
        return [dict(claim, section=section["heading"]) for section in self.sections for claim in section["claims"]]

    @property
    def unsupported_claims(self):
        return [claim for claim in self.claims if not claim["context"] and not claim["sources"]]

    @property
    def context_claims(self):
        return [claim for claim in self.claims if claim["context"]]

    def as_dict(self):
        def short(claim):
            return {"section": claim["section"], "claim": claim["number"], "line": claim["line"],
                    "text": claim["text"]}

        return {
            "dry_run": self.dry_run,
            "replaced": self.replaced,
            "article": {
                "id": None if self.dry_run else self.article.pk,
                "title": self.article.title,
                "slug": self.article.slug,
                "status": self.article.status,
                "summary": self.article.summary,
                "topics": self.topics,
                "authors": self.authors,
            },
            "sections": self.sections,
            "unsupported_claims": [short(claim) for claim in self.unsupported_claims],
            "context": [short(claim) for claim in self.context_claims],
            "left_out": self.left_out,
            "references": self.references,
            "blockers": [
                {"code": b.code, "message": b.message, "section": b.section_heading, "claim": b.claim_number,
                 "excerpt": b.excerpt}
                for b in self.blockers
            ],
            "warnings": self.warnings,
        }

    def as_json(self):
        return json.dumps(self.as_dict(), indent=2, ensure_ascii=False)

    def as_text(self):
        """The report as an editor reads it in a terminal."""
        out = []
        verb = "Would import" if self.dry_run else ("Replaced the draft" if self.replaced else "Imported")
        out.append(f'{verb} "{self.article.title}" (slug {self.article.slug}, {self.article.status})'
                   + (" - dry run, nothing saved" if self.dry_run else ""))
        if self.article.summary:
            out.append(f"Summary: {self.article.summary}")
        for section in self.sections:
            out.append("")
            out.append(f"## {section['heading']}")
            for claim in section["claims"]:
                if claim["context"]:
                    tag = "context"
                elif claim["sources"]:
                    tag = ", ".join(source["doi"] or source["url"] for source in claim["sources"])
                else:
                    tag = "NO SOURCE"
                out.append(f"  {claim['number']}. {claim['text']}  [{tag}]")
        out.append("")
        out.append(f"Claims without a source ({len(self.unsupported_claims)}):")
        for claim in self.unsupported_claims:
            out.append(f"  line {claim['line']}, {claim['section']} #{claim['number']}: {claim['text']}")
        if self.context_claims:
            out.append(f"Context statements, no source needed ({len(self.context_claims)}):")
            for claim in self.context_claims:
                out.append(f"  line {claim['line']}, {claim['section']} #{claim['number']}: {claim['text']}")
        if self.left_out:
            out.append("Left out:")
            for item in self.left_out:
                out.append(f"  line {item['line']} ({item['reason']}): {item['text']}")
        out.append("")
        out.append(f"References ({len(self.references)}):")
        for ref in self.references:
            check = ", NEEDS CHECK" if ref["needs_check"] else ""
            out.append(
                f"  [{ref['number']}] {ref['doi'] or ref['url']} - {ref['status']}, metadata from "
                f"{ref['metadata']}{check}, peer review: {ref['peer_review']}, cited by {ref['cited_by']} claim(s)"
            )
            if ref["title"]:
                out.append(f"      {ref['title']}")
        out.append("")
        if self.blockers:
            out.append(f"The publish gate refuses it ({len(self.blockers)} blocker(s)):")
            out.extend(f"  - {blocker}" for blocker in self.blockers)
        else:
            out.append("The publish gate has no blockers.")
        if self.warnings:
            out.append("Warnings:")
            out.extend(f"  - {warning}" for warning in self.warnings)
        return "\n".join(out)


def _link(reference):
    """Where the reference can be read: its URL, else its PubMed page (a reference known by PMID alone)."""
    if reference.url or not reference.pmid:
        return reference.url
    return pubmed.pubmed_url(reference.pmid)


def _reference_row(parsed, reference, created, cited_by):
    return {
        "number": parsed.number if parsed else None,
        "line": parsed.line if parsed else None,
        "doi": reference.doi,
        "url": _link(reference),
        "title": reference.plain_title,
        "status": "added" if created else "already present",
        "metadata": reference.metadata_source,
        "needs_check": reference.needs_check,
        "peer_review": reference.effective_peer_review_status,
        "retraction": reference.retraction_status,
        "cited_by": cited_by,
    }


def _sources(claim):
    if claim["context"]:
        return "context, needs no source"
    cited = [f"[{s['reference']}]" if s["reference"] else (s["doi"] or s["url"]) for s in claim["sources"]]
    return "cites " + ", ".join(cited) if cited else "NO SOURCE"


def line_by_line(text, report):
    """Each line of the file with what the import made of it, from the report (``as_dict()``) alone.

    Rows are {"line", "text", "role", "understood"}; a role names the title, a heading, the claims of
    a paragraph and what they cite, a reference entry, what was left out and why, or says the line was
    not understood. A line joined to the one above (hard wrapping, a footnote's indented continuation)
    shares that line's role.
    """
    roles = {}
    for section in report["sections"]:
        if section["line"]:
            roles[section["line"]] = (f"heading: {section['heading']}", True)
        by_line = {}
        for claim in section["claims"]:
            by_line.setdefault(claim["line"], []).append(claim)
        for number, claims in by_line.items():
            roles[number] = ("; ".join(f"claim {c['number']} ({_sources(c)})" for c in claims), True)
    for ref in report["references"]:
        if ref["line"]:
            link = ref["doi"] or ref["url"]
            roles.setdefault(ref["line"], (f"reference {ref['number']}: {link}", True))
    for item in report["left_out"]:
        roles[item["line"]] = (f"left out: {item['reason']}", True)

    rows = []
    raw_lines = text.replace("\r\n", "\n").replace("\r", "\n").removeprefix("\ufeff").split("\n")
    title = report["article"]["title"]
    title_seen = False
    front_matter = bool(raw_lines) and raw_lines[0].strip() == "---"
    previous = None  # the role of the line above, which an unmarked line continues
    for number, raw in enumerate(raw_lines, start=1):
        stripped = raw.strip()
        if not stripped:
            following = raw_lines[number] if number < len(raw_lines) else ""
            if following[:1] not in (" ", "\t"):
                previous = None  # a blank line ends a paragraph; an indented line after it continues a footnote
            continue
        if front_matter:
            role, understood = ("front matter" + (": the title" if title in stripped else ""), True)
            front_matter = not (stripped == "---" and number > 1)
            title_seen = title_seen or title in stripped
        elif number in roles:
            role, understood = roles[number]
        elif not title_seen and title.startswith((_markdown_heading(stripped) or stripped).strip()):
            role, understood = ("title", True)
        elif REFERENCES_HEADING.match(stripped):
            role, understood = ("heading of the reference list", True)
        elif HORIZONTAL_RULE.fullmatch(stripped) or MARKUP_ONLY.fullmatch(stripped):
            role, understood = ("left out: markup (a rule, an image, an HTML tag or comment)", True)
        elif previous is not None:
            role, understood = (f"continues line {previous[0]}: {previous[1]}", previous[2])
        else:
            role, understood = ("not understood: not part of the article as imported", False)
        if role == "title":
            title_seen = True
        if number in roles or previous is None:
            previous = (number, role, understood)
        rows.append({"line": number, "text": raw, "role": role, "understood": understood})
    return rows
