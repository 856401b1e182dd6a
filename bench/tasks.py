"""The benchmark's work inside Django (bench/run.py runs it with the environment of the server it measures).

    python bench/tasks.py build          -> builds the data set, prints JSON (pages to measure, gate timings)
    python bench/tasks.py count URL...   -> SQL queries per page, first request and repeated, prints JSON

The data set is published through articles.review.workflow, as editors publish: the
working copies are bulk-created (fast), then each article is submitted,
approved and published one by one, which freezes its revision and pre-renders
its body exactly as in production.
"""

import collections
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "psychly.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth.models import Group, User  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import NoReverseMatch, reverse  # noqa: E402

from articles.review import gate
from articles.review import workflow  # noqa: E402
from articles.models import Article, Citation, Claim, ReviewerProfile, Section, Topic  # noqa: E402
from django.utils import timezone  # noqa: E402
from references.choices import MetadataSource  # noqa: E402
from references.models import PeerReviewStatus, Reference  # noqa: E402

SMALL_ARTICLES = 200
SECTIONS, CLAIMS, CITATIONS = 6, 10, 2
LARGE_SECTIONS = 60
GATE_CLAIMS = 1000
REFERENCES = 400
# Distinct sources per article. Publishing renders each cited source's APA entry
# with citeproc-py (about 30 ms each here), which dominates the build time.
SMALL_SOURCES, LARGE_SOURCES = 12, 60
TOPICS = ["Anxiety", "Depression", "Sleep", "Trauma", "Addiction", "ADHD", "Eating disorders", "Psychosis"]
SEARCH_TERM = "insomnia"

WORDS = (
    "cognitive behavioural therapy reduced symptoms in adults with moderate depression compared with usual care "
    "over twelve weeks of weekly sessions delivered by trained clinicians in primary care settings"
).split()


def _sentence(n):
    start = n % len(WORDS)
    words = (WORDS[start:] + WORDS[:start])[:22]
    return f"In trial {n}, " + " ".join(words) + "."


def _users():
    editor = User.objects.create_user("bench-editor", "editor@bench.example", first_name="Dana", last_name="Reyes")
    editor.groups.add(Group.objects.get(name="Editors"))
    reviewer = User.objects.create_user("bench-reviewer", "reviewer@bench.example", first_name="Sam",
                                        last_name="Okafor")
    reviewer.groups.add(Group.objects.get(name="Reviewers"))
    ReviewerProfile.objects.create(user=reviewer, display_name="Sam Okafor", credentials="MD, psychiatrist")
    return editor, reviewer


def _references():
    return Reference.objects.bulk_create(
        Reference(
            doi=f"10.5555/bench.{n}", title=f"A randomised controlled trial of treatment {n} for common disorders",
            authors=[{"family": family, "given": given} for family, given in
                     (("Reyes", "Dana"), ("Okafor", "Sam"), ("Lindqvist", "Maja"))],
            container_title="Journal of Clinical Psychology", year=2010 + n % 15, volume=str(20 + n % 30),
            issue=str(1 + n % 4), pages=f"{100 + n}-{112 + n}", publisher="Bench Press", work_type="journal-article",
            peer_review_status=PeerReviewStatus.PEER_REVIEWED,
            # As if fetched from Crossref, as most references are: verified by their source.
            metadata_source=MetadataSource.CROSSREF, fetched_at=timezone.now(),
        )
        for n in range(REFERENCES)
    )


@transaction.atomic
def _working_copies(specs, editor, references, topics):
    """Bulk-create articles as editors leave them before review: (title, slug, sections, claims, topic, sources)."""
    articles = Article.objects.bulk_create(
        Article(title=title, slug=slug, summary=f"What the research says about {title.lower()}.",
                byline="Dana Reyes, PhD, clinical psychologist")
        for title, slug, *_ in specs
    )
    Article.authors.through.objects.bulk_create(
        Article.authors.through(article_id=a.pk, user_id=editor.pk) for a in articles
    )
    Article.topics.through.objects.bulk_create(
        Article.topics.through(article_id=a.pk, topic_id=topics[spec[4] % len(topics)].pk)
        for a, spec in zip(articles, specs)
    )
    sections = Section.objects.bulk_create(
        Section(article=a, position=s, heading=f"Section {s + 1}: what the trials found")
        for a, spec in zip(articles, specs) for s in range(spec[2])
    )
    per_section = {a.pk: spec[3] for a, spec in zip(articles, specs)}
    claims = Claim.objects.bulk_create(
        Claim(section=s, position=c, text=_sentence(s.pk * 31 + c)) for s in sections
        for c in range(per_section[s.article_id])
    )
    # Each article cites its own few sources (spec[5] of them) over and over, as real articles do.
    sources = {a.pk: spec[5] for a, spec in zip(articles, specs)}
    offsets = {a.pk: n * 13 for n, a in enumerate(articles)}
    article_of = {s.pk: s.article_id for s in sections}
    index = collections.Counter()
    citations = []
    for claim in claims:
        article_id = article_of[claim.section_id]
        n = index[article_id]
        index[article_id] += 1
        for k in range(CITATIONS):
            source = (offsets[article_id] + (n * CITATIONS + k) % sources[article_id]) % len(references)
            citations.append(Citation(claim=claim, reference=references[source], position=k, locator=f"p. {k + 3}"))
    Citation.objects.bulk_create(citations)
    return articles


def _publish(article, editor, reviewer):
    workflow.submit(article, by=editor)
    workflow.approve(article, by=reviewer)
    workflow.publish(article, by=editor)


def _time_gate(article):
    """Median wall time and query count of the publish gate's full check, over five runs."""
    times, queries = [], []
    for _ in range(5):
        fresh = Article.objects.get(pk=article.pk)
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            report = gate.check(fresh)
            times.append(time.perf_counter() - started)
        queries.append(len(captured))
    return {"claims": report.claim_count, "seconds": statistics.median(times), "queries": max(queries),
            "blockers": [b.code for b in report.blockers]}


def build():
    started = time.perf_counter()
    editor, reviewer = _users()
    references = _references()
    topics = Topic.objects.bulk_create(Topic(name=name, slug=name.lower().replace(" ", "-")) for name in TOPICS)
    specs = [
        (f"Small article {n}" + (f" on {SEARCH_TERM}" if n % 4 == 0 else ""), f"small-{n}", SECTIONS, CLAIMS, n,
         SMALL_SOURCES)
        for n in range(SMALL_ARTICLES)
    ]
    specs.append(("Large article", "large", LARGE_SECTIONS, CLAIMS, 0, LARGE_SOURCES))
    specs.append(("Gate article", "gate", GATE_CLAIMS // 100, 100, 1, LARGE_SOURCES))
    articles = _working_copies(specs, editor, references, topics)
    copies = time.perf_counter() - started

    publishing = time.perf_counter()
    for article in articles[:-1]:
        _publish(article, editor, reviewer)
    published = time.perf_counter() - publishing

    gate_article = articles[-1]
    workflow.submit(gate_article, by=editor)
    workflow.approve(gate_article, by=reviewer)
    gate_timing = _time_gate(gate_article)
    publish_started = time.perf_counter()
    workflow.publish(gate_article, by=editor)
    gate_timing["publish_seconds"] = time.perf_counter() - publish_started

    small = Article.objects.get(slug="small-1")
    return {
        "articles_published": Article.objects.published().count(),
        "claims": Claim.objects.count(),
        "citations": Citation.objects.count(),
        "build_seconds": time.perf_counter() - started,
        "working_copies_seconds": copies,
        "publish_seconds_each": published / (len(articles) - 1),
        "gate": gate_timing,
        "pages": _pages(small, topics[0]),
    }


def _url(name, *args, query=""):
    try:
        return reverse(name, args=args) + query
    except NoReverseMatch:
        return None  # a page this checkout does not have yet


def _pages(small, topic):
    return {
        "bare view": _url("bench-bare"),
        "small article": small.get_absolute_url(),
        "large article": Article.objects.get(slug="large").get_absolute_url(),
        "home": _url("articles:home"),
        "topic": _url("articles:topic", topic.slug),
        # One article in four carries the term: 50 of the 200 match, a page of 20 is shown.
        "search": _url("articles:search", query=f"?q={SEARCH_TERM}"),
        "feed": _url("feed"),
        "sitemap": _url("sitemap"),
    }


def count(urls):
    """Queries for each URL on its first request (cold cache) and on a repeat (warm, if a cache is configured)."""
    client = Client(HTTP_HOST="127.0.0.1")
    result = {}
    for url in urls:
        with CaptureQueriesContext(connection) as first:
            status = client.get(url).status_code
        with CaptureQueriesContext(connection) as repeat:
            client.get(url)
        result[url] = {"status": status, "first": len(first), "repeat": len(repeat),
                       "sql": [q["sql"][:300] for q in first.captured_queries]}
    return result


if __name__ == "__main__":
    command, *arguments = sys.argv[1:]
    output = build() if command == "build" else count(arguments)
    print(json.dumps(output))
