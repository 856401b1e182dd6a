"""Benchmark of the retraction sweep at the scale of the literature.

    python bench/retraction_sweep.py                       # a temporary SQLite database
    python bench/retraction_sweep.py --database-url postgres://postgres@127.0.0.1:5432/psychly_sweep_bench
    python bench/retraction_sweep.py --references 100000   # a smaller library, for a quick look

Builds a library of 1,000,000 references (bulk-created) and 40 articles published through the workflow, 30 of
them citing a reference that today's notices name; starts a stand-in Crossref on 127.0.0.1 serving 20,000
editorial updates indexed today (cursor pages of 1,000) of which 500 name our references; then runs
``manage.py watch_retractions`` as cron would, in its own process, and reports the Crossref requests it made,
its wall time and its peak memory (getrusage of the child). It fails unless every live article citing a noticed
reference is in the re-review queue, no other is, and each notice was recorded once. The PostgreSQL database
named is dropped and created again. Writes bench/results/retraction_sweep.md (or the file --output names).
"""

import argparse
import datetime
import os
import platform
import random
import resource
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))

TARGETS = {"requests": 30, "seconds": 60.0, "mib": 300.0}
NOTICES_OF_THE_DAY = 20_000
OURS = 500
ROWS = 1000
AFFECTED_ARTICLES, CONTROL_ARTICLES = 30, 10


def _environment(database_url):
    env = dict(os.environ)
    env.update({
        "DJANGO_SETTINGS_MODULE": "psychly.settings", "DATABASE_URL": database_url, "PSYCHLY_READ_DOT_ENV": "0",
        "DEBUG": "0", "SECRET_KEY": secrets.token_urlsafe(64), "ALLOWED_HOSTS": "127.0.0.1",
        "CROSSREF_MAILTO": "", "CACHE_URL": "locmemcache://", "EMAIL_URL": "dummymail://",
    })
    env.pop("REDIS_URL", None)
    return env


def _fresh_postgres(url):
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


def _insert_library(count):
    """INSERT the references in batches through the database cursor: bulk_create's per-object work would take
    longer than the sweep itself at a million rows. Every column gets what the model would store."""
    from django.db import connection, transaction
    from django.utils import timezone

    from references.models import MetadataSource, PeerReviewStatus, Reference

    template = Reference(doi="x", title="x", year=2000, container_title="Journal of Studies",
                         work_type="journal-article", peer_review_status=PeerReviewStatus.PEER_REVIEWED,
                         metadata_source=MetadataSource.CROSSREF, created_at=timezone.now(),
                         updated_at=timezone.now())
    fields = [f for f in Reference._meta.local_concrete_fields if not f.primary_key]
    base = [f.get_db_prep_save(getattr(template, f.attname), connection) for f in fields]
    at = {f.attname: i for i, f in enumerate(fields)}
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {Reference._meta.db_table} ({columns}) VALUES ({marks})"
    def rows(start, stop):
        for n in range(start, stop):
            row = list(base)
            row[at["doi"]], row[at["title"]], row[at["year"]] = (
                f"10.5555/lib.{n}", f"Study {n} of a common disorder", 2000 + n % 25)
            yield row

    chunk = 50_000
    for start in range(0, count, chunk):
        stop = min(start + chunk, count)
        with transaction.atomic(), connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # COPY: row-by-row INSERTs run at about 1,500 rows a second here.
                with cursor.cursor.copy(f"COPY {Reference._meta.db_table} ({columns}) FROM STDIN") as copy:
                    for row in rows(start, stop):
                        copy.write_row(row)
            else:
                cursor.executemany(sql, list(rows(start, stop)))


def _build(references, rng):
    """The library and the articles; returns (DOIs the notices name, affected article ids, control ids)."""
    from django.contrib.auth.models import Group, User
    from django.core.management import call_command
    from articles.review import workflow
    from articles.models import Article, Citation, Claim, ReviewerProfile, Section
    from references.models import Reference

    call_command("migrate", verbosity=0)
    started = time.monotonic()
    _insert_library(references)
    built_seconds = time.monotonic() - started

    editor = User.objects.create_user("sweep-editor", "editor@bench.example")
    editor.groups.add(Group.objects.get(name="Editors"))
    reviewer = User.objects.create_user("sweep-reviewer", "reviewer@bench.example")
    reviewer.groups.add(Group.objects.get(name="Reviewers"))
    ReviewerProfile.objects.create(user=reviewer, display_name="Sam Okafor", credentials="MD, psychiatrist")

    noticed = rng.sample(range(references), OURS)
    noticed_set = set(noticed)
    clean = [n for n in rng.sample(range(references), 200) if n not in noticed_set]
    by_number = lambda numbers: {int(r.doi.rsplit(".", 1)[1]): r for r in  # noqa: E731
                                 Reference.objects.filter(doi__in=[f"10.5555/lib.{n}" for n in numbers])}
    cited_noticed, cited_clean = by_number(noticed[:AFFECTED_ARTICLES]), by_number(clean[:2 * CONTROL_ARTICLES
                                                                                       + AFFECTED_ARTICLES])
    clean_refs = list(cited_clean.values())
    affected, control = [], []
    for index in range(AFFECTED_ARTICLES + CONTROL_ARTICLES):
        sources = ([cited_noticed[noticed[index]]] if index < AFFECTED_ARTICLES else [clean_refs.pop()]) + [
            clean_refs.pop()]
        article = Article.objects.create(title=f"Sweep article {index}", slug=f"sweep-article-{index}",
                                         summary="What the research says.",
                                         byline="Dana Reyes, PhD, clinical psychologist")
        article.authors.set([editor])
        section = Section.objects.create(article=article, position=0, heading="What the trials found")
        for position, source in enumerate(sources):
            claim = Claim.objects.create(section=section, position=position, text=f"Finding {position} holds.")
            Citation.objects.create(claim=claim, reference=source, position=0)
        workflow.submit(article, by=editor)
        workflow.approve(article, by=reviewer)
        workflow.publish(article, by=editor)
        (affected if index < AFFECTED_ARTICLES else control).append(article.pk)
    return [f"10.5555/lib.{n}" for n in noticed], affected, control, built_seconds


def _notices(ours, rng):
    """20,000 updates of the day in Crossref's shape, ``ours`` among them; types as real deposits spell them."""
    today = datetime.date.today()
    indexed = {"date-parts": [[today.year, today.month, today.day]]}
    kinds = ["retraction", "Retraction", "retration", "correction", "expression_of_concern", "erratum",
             "new_version"]
    targets = list(ours) + [f"10.9999/elsewhere.{n}" for n in range(NOTICES_OF_THE_DAY - len(ours))]
    rng.shuffle(targets)
    items = []
    for n, target in enumerate(targets):
        # Every notice naming our references is editorial; the others include version links the sweep skips.
        kind = kinds[n % (len(kinds) - 1)] if target.startswith("10.5555/lib.") else kinds[n % len(kinds)]
        items.append({
            "DOI": f"10.9999/notice.{n}", "type": "journal-article", "indexed": indexed,
            "title": [f"Notice of {kind}: a study of things {n}"],
            "update-to": [{"DOI": target.upper() if n % 5 == 0 else target, "type": kind,
                           "label": kind.replace("_", " ").capitalize(),
                           "source": "retraction-watch" if n % 4 == 0 else "publisher",
                           "updated": indexed}],
        })
    return items


def _explain():
    """The plan of the sweep's per-page look-up, to show it probes the lower(doi) index."""
    from references.watch import matching_references

    return matching_references([f"10.5555/lib.{n}" for n in (1, 2, 3)]).explain().replace("\n", " | ")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default="", help="PostgreSQL to use (dropped and rebuilt)")
    parser.add_argument("--references", type=int, default=1_000_000)
    parser.add_argument("--output", default=str(BENCH / "results" / "retraction_sweep.md"))
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--append", action="store_true", help="add this run's report to the output file")
    parser.add_argument("--profile", default="", help="write the sweep's cProfile statistics to this file")
    options = parser.parse_args()
    rng = random.Random(options.seed)

    workdir = tempfile.TemporaryDirectory(prefix="psychly-sweep-bench-")
    database_url = options.database_url or f"sqlite:///{workdir.name}/sweep.sqlite3"
    if database_url.startswith("postgres"):
        _fresh_postgres(database_url)
    env = _environment(database_url)
    os.environ.update(env)

    import django

    django.setup()
    from django.db import connection

    from articles.models import Article
    from references.models import Reference, RetractionSweep
    from tests.fake_crossref_lists import FakeNoticeList

    print(f"Building {options.references:,} references and {AFFECTED_ARTICLES + CONTROL_ARTICLES} live articles "
          f"({connection.vendor})...", flush=True)
    ours, affected, control, built_seconds = _build(options.references, rng)
    plan = _explain()
    connection.close()

    items = _notices(ours, rng)
    with FakeNoticeList(items) as server:
        env["CROSSREF_API_URL"] = server.url
        print(f"Sweeping {len(items):,} notices of the day from {server.url}...", flush=True)
        started = time.monotonic()
        profile = ["-m", "cProfile", "-o", options.profile] if options.profile else []
        run = subprocess.run([sys.executable, *profile, str(ROOT / "manage.py"), "watch_retractions"], env=env,
                             cwd=ROOT,
                             capture_output=True, text=True)
        seconds = time.monotonic() - started
        requests = len(server.requests)
    mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    if run.returncode != 0:
        sys.exit(f"watch_retractions failed ({run.returncode}):\n{run.stdout}\n{run.stderr}")
    summary = run.stdout.strip()

    flagged = set(Article.objects.filter(needs_rereview=True).values_list("pk", flat=True))
    urgent = Article.objects.filter(pk__in=affected, urgent=True).count()
    noticed_refs = Reference.objects.filter(doi__in=ours)
    recorded = sum(len(r.updates) for r in noticed_refs.only("updates"))
    sweep = RetractionSweep.objects.get()
    checks = {
        "every affected live article is in the re-review queue": set(affected) <= flagged,
        "no other article is": not (flagged - set(affected)),
        "each of the 500 notices recorded once": recorded == OURS and noticed_refs.count() == OURS,
        "the sweep completed and is the watermark": sweep.status == "completed",
    }
    results = {"requests": requests, "seconds": seconds, "mib": mib}
    met = {key: results[key] <= TARGETS[key] if key == "requests" else results[key] < TARGETS[key]
           for key in TARGETS}
    database = "PostgreSQL" if connection.vendor == "postgresql" else "SQLite"
    report = f"""# Retraction sweep benchmark

Run {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC on {os.cpu_count()} cores,
{platform.python_implementation()} {platform.python_version()}, {database}: `python bench/retraction_sweep.py{
    ' --database-url ' + options.database_url if options.database_url else ''}{
    ' --references ' + str(options.references) if options.references != 1_000_000 else ''}`.

Library: {options.references:,} references (bulk-created in {built_seconds:.0f} s), {AFFECTED_ARTICLES + CONTROL_ARTICLES}
articles published through the workflow, {AFFECTED_ARTICLES} of them citing a reference that today's notices name.
Stand-in Crossref on 127.0.0.1: {len(items):,} editorial updates indexed today, {OURS} naming our references
(retractions, some spelt "Retraction" or "retration", corrections, expressions of concern; some DOIs upper-case),
the rest naming works we do not hold (including new_version links, which are skipped); cursor pages of {ROWS:,}.
Measured: `manage.py watch_retractions` in its own process, as cron runs it.

| measure | result | target | met |
|---|---:|---:|---|
| Crossref requests | {requests} | at most {TARGETS['requests']} | {'yes' if met['requests'] else 'NO'} |
| wall time | {seconds:.1f} s | under {TARGETS['seconds']:.0f} s | {'yes' if met['seconds'] else 'NO'} |
| peak memory (getrusage, the sweep's process) | {mib:.0f} MiB | under {TARGETS['mib']:.0f} MiB | {'yes' if met['mib'] else 'NO'} |

Checks: {'; '.join(f"{name}: {'yes' if ok else 'NO'}" for name, ok in checks.items())}.
{len(flagged & set(affected))} of {len(affected)} affected articles flagged ({urgent} urgent: the claim citing the
retracted study had no other source; corrections and concerns flag without urgency).

The command's summary line: `{summary}`

The per-page look-up (one query per page of 1,000 notices): `{plan}`
"""
    Path(options.output).parent.mkdir(parents=True, exist_ok=True)
    output = Path(options.output)
    if options.append and output.exists():
        report = output.read_text() + "\n" + report.replace("# Retraction sweep benchmark", "## Another run", 1)
    output.write_text(report)
    print(report)
    if not all(checks.values()) or not all(met.values()):
        sys.exit("The sweep missed a check or a target (see above).")


if __name__ == "__main__":
    main()
