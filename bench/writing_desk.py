"""Writing-desk benchmark: open and save a 500-claim section through the admin, on SQLite.

    python bench/writing_desk.py                      # 500 claims; writes bench/results/writing_desk.md
    python bench/writing_desk.py --claims 1000 --runs 5 --out /tmp/desk.md

Through Django's test client (the real admin, templates and middleware; no network server):
GET the desk, POST it unchanged, POST it with one sentence edited, and POST the check
endpoint that the desk's script calls while the editor types. Each figure is the median of
``--runs`` runs after one warm-up. The aim is under 2 s for each.
"""

import argparse
import datetime
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
WORK = BENCH / ".work"
RESULTS = BENCH / "results"
DATABASE = WORK / "writing_desk.sqlite3"
# Only for the benchmark's throwaway database and this process: nothing is served.
BENCH_SECRET_KEY = "bench-only-secret-key-3c7a1e9b5d2f8a4c6e0b7d3f9a1c5e8b2d4f6a0c"


def setup():
    sys.path.insert(0, str(ROOT))
    os.environ["DJANGO_SETTINGS_MODULE"] = "psychly.settings"
    os.environ["PSYCHLY_READ_DOT_ENV"] = "0"
    os.environ["DATABASE_URL"] = f"sqlite:///{DATABASE}"
    os.environ.setdefault("SECRET_KEY", BENCH_SECRET_KEY)
    os.environ["CACHE_URL"] = "locmemcache://"
    os.environ["CROSSREF_API_URL"] = "http://127.0.0.1:9/"
    os.environ["ALLOWED_HOSTS"] = "testserver"
    WORK.mkdir(exist_ok=True)
    if DATABASE.exists():
        DATABASE.unlink()
    subprocess.run([sys.executable, str(ROOT / "manage.py"), "migrate", "--noinput", "--verbosity", "0"],
                   env=dict(os.environ), check=True, cwd=ROOT)
    import django
    from django.conf import settings

    django.setup()
    # The hashed-name manifest exists only after collectstatic; plain names cost the same to render.
    settings.STORAGES = {**settings.STORAGES,
                         "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}


def timed(call, runs):
    call()  # warm-up: templates compiled, pysbd loaded
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        response = call()
        samples.append(time.perf_counter() - start)
        assert response.status_code in (200, 302), response.status_code
    return statistics.median(samples)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=500)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--out", default=str(RESULTS / "writing_desk.md"))
    args = parser.parse_args()
    setup()

    from django.contrib.auth.models import Group, User
    from django.test import Client
    from django.urls import reverse

    from articles.authoring import desk
    from articles.models import Article, Citation, Claim, Section
    from references.models import MetadataSource, PeerReviewStatus, Reference

    # The migrations made the Editors group and its permissions.
    editor = User.objects.create_user("bench-editor", is_staff=True)
    editor.groups.add(Group.objects.get(name="Editors"))
    refs = [Reference.objects.create(doi=f"10.1000/bench.{n}", title=f"Study {n}", year=2020,
                                     metadata_source=MetadataSource.CROSSREF,
                                     peer_review_status=PeerReviewStatus.PEER_REVIEWED) for n in range(20)]
    article = Article.objects.create(title="Benchmark", slug="benchmark", byline="B", summary="S")
    section = Section.objects.create(article=article, heading="Results", position=0)
    claims = Claim.objects.bulk_create(
        Claim(section=section, position=n, text=f"Finding {n} of the cohort held after adjustment for age.")
        for n in range(args.claims)
    )
    Citation.objects.bulk_create(Citation(claim=c, reference=refs[n % 20], position=0) for n, c in enumerate(claims))

    client = Client()
    client.force_login(editor)
    url = reverse("admin:articles_article_desk", args=[article.pk])
    check_url = reverse("admin:articles_article_desk_check", args=[article.pk])

    def posted(edit=False):
        state = desk.read_desk(article)
        prose = state.sections[0].prose
        if edit:
            prose = prose.replace("Finding 250 of the cohort", "Finding 250 of the whole cohort", 1)
        return {"title": "Benchmark", "summary": "S", "byline": "B",
                "reference_order": ",".join(str(r.pk) for r in state.references),
                "section_id": [section.pk], "heading": ["Results"], "prose": [prose]}

    unchanged = posted()
    figures = {
        "open (GET desk)": timed(lambda: client.get(url, secure=True), args.runs),
        "save unchanged (POST)": timed(lambda: client.post(url, unchanged, secure=True), args.runs),
        "check while typing (POST check)": timed(lambda: client.post(check_url, unchanged, secure=True), args.runs),
    }
    toggle = {"edit": False}

    def save_edited():
        toggle["edit"] = not toggle["edit"]
        return client.post(url, posted(edit=toggle["edit"]), secure=True)

    figures["save with one sentence edited (POST)"] = timed(save_edited, args.runs)
    assert Claim.objects.filter(section=section).count() == args.claims

    lines = [
        "# Writing desk benchmark",
        "",
        f"{datetime.date.today()}, Python {platform.python_version()}, SQLite, {platform.machine()}, "
        f"{os.cpu_count()} CPU(s). `python bench/writing_desk.py --claims {args.claims} --runs {args.runs}`.",
        "",
        f"One section of {args.claims} claims citing 20 references, through Django's test client and the real "
        "admin. Median of the runs after a warm-up. The aim is under 2 s each.",
        "",
        "| Step | Seconds |",
        "| --- | ---: |",
        *[f"| {name} | {seconds:.2f} |" for name, seconds in figures.items()],
        "",
    ]
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
