"""Parsing benchmark: time per KB of every parsing path, on normal prose and on hostile shapes.

    python bench/parsing.py                    # 1 KB, 10 KB, 100 KB, 1 MB; writes bench/results/parsing.md
    python bench/parsing.py --sizes 1,10 --budget 10 --out /tmp/parsing.md
    python bench/run.py --only parsing         # the same, from the main benchmark

Each (path, shape, size) runs in a child process with a time budget (--budget seconds,
30 by default): a run over budget is reported as "> budget" and the larger sizes of that
shape are skipped, so a superlinear path shows up without stalling the run. Paths:

- split: articles.authoring.parsing.split_sentences on one paragraph;
- markers: articles.authoring.parsing.extract_markers on the input as one sentence;
- find_doi: references.doi.find_doi on free text;
- paste: articles.authoring.editing.resolve_pasted_text + append_claims into a section (SQLite), with
  PASTE_MAX_CHARS and PASTE_MAX_CLAIMS lifted, and again with their defaults ("default limits");
- import: articles.importing.import_article, fetch=False (SQLite).

A refusal (the input is over a documented limit) is reported as "refused" with the
limit's message; it is the intended answer for that size, not a failure. The figure that
matters is ms per KB: it should stay flat from 1 KB to 1 MB.
"""

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import textwrap
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
WORK = BENCH / ".work"
RESULTS = BENCH / "results"
DATABASE = WORK / "parsing.sqlite3"
# Only for the benchmark's throwaway database and this process: nothing is served.
BENCH_SECRET_KEY = "bench-only-secret-key-8d1f3a6b9c2e4f7a0b5c8d1e4f7a0b3c6d9e2f5a"

SENTENCE = (
    "Ketamine is an NMDA receptor antagonist, e.g. it blocks glutamate (Zorumski et al., 2016) in the brain "
    "[1]. Dr. Smith vs. the placebo group found no difference at 2.5 mg per kg. "
)
DOI = "10.1523/jneurosci.1547-16.2016"


def fill(unit, size):
    return (unit * (size // len(unit) + 1))[:size]


def article(size, *, wrapped=False):
    """A plain-text article of about ``size`` characters citing [1].

    One paragraph a line, as Psychly's own files are written; ``wrapped``: paragraphs
    hard-wrapped at 70 characters, separated by blank lines, as a text editor saves them.
    """
    head = "A Benchmark Article About Sleep\n\n" if wrapped else "A Benchmark Article About Sleep\n"
    tail = ("\n" if wrapped else "") + (
        f"References\n1. Zorumski, C. F. (2016). Ketamine. The Journal, 36(44), 1-2. https://doi.org/{DOI}\n")
    # Alternately a plain claim and one pysbd must read (an abbreviation, a parenthesis).
    claim = ("Sleep loss is common among adults and worsens mood in many studies [1].\n"
             "Poor sleep, e.g. waking early, predicts low mood (Baglioni et al., 2011) [1].")
    body_size = max(len(claim) + 1, size - len(head) - len(tail))
    if not wrapped:
        body = fill(claim + "\n", body_size).rsplit("\n", 1)[0] + "\n"
    else:
        paragraph = " ".join([claim] * 10)
        lines = textwrap.wrap(paragraph, 70)
        body = fill("\n".join(lines) + "\n\n", body_size).rsplit("\n\n", 1)[0] + "\n"
    return head + body + tail


# (path, shape) -> a function of the size in characters returning the input.
SHAPES = {
    ("split", "prose, one paragraph"): lambda n: fill(SENTENCE, n),
    ("split", "'1. ' repeated"): lambda n: fill("1. ", n),
    ("split", "no full stop"): lambda n: fill("word ", n),
    ("markers", "prose with markers"): lambda n: fill(SENTENCE, n),
    ("markers", "'[1' repeated"): lambda n: fill("[1", n),
    ("markers", "'[doi:' repeated"): lambda n: fill("[doi:", n),
    ("markers", "'[1,' repeated, closed"): lambda n: fill("[1,", n - 2) + "1]",
    ("find_doi", "prose with a DOI"): lambda n: fill("See the study. ", n - 40) + f" doi:{DOI}.",
    ("find_doi", "DOI then ')' repeated"): lambda n: DOI + ")" * (n - len(DOI)),
    ("find_doi", "'10.1000/' repeated"): lambda n: fill("10.1000/", n),
    ("paste", "prose, paragraphs"): lambda n: fill(SENTENCE.replace("e.g. ", "") + "\n", n),
    ("paste", "prose, one paragraph"): lambda n: fill(SENTENCE, n),
    ("paste", "'1. ' repeated"): lambda n: fill("1. ", n),
    ("paste", "prose, one paragraph, default limits"): lambda n: fill(SENTENCE, n),
    ("paste", "'1. ' repeated, default limits"): lambda n: fill("1. ", n),
    ("import", "article, one claim a line"): article,
    ("import", "article, wrapped paragraphs"): lambda n: article(n, wrapped=True),
    ("import", "one paragraph wrapped over every line"): lambda n: "A Title\n\n" + "\n".join(
        textwrap.wrap(fill(SENTENCE, n - 200), 70)) + "\n\nReferences\n1. https://doi.org/" + DOI + "\n",
    ("import", "'#' run in a heading"): lambda n: article(n // 2).replace(
        "\n", "\n## Sleep " + "#" * (n // 2) + " x\n", 1),
}
PATHS = ["split", "markers", "find_doi", "paste", "import"]


def child(path, shape, size):
    """Run one case in this process; print JSON with the elapsed seconds (or the refusal)."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "psychly.settings")
    os.environ["PSYCHLY_READ_DOT_ENV"] = "0"
    os.environ["DATABASE_URL"] = f"sqlite:///{DATABASE}"
    os.environ.setdefault("SECRET_KEY", BENCH_SECRET_KEY)
    os.environ["CACHE_URL"] = "locmemcache://"
    os.environ["CROSSREF_API_URL"] = "http://127.0.0.1:9/"
    if path == "paste" and not shape.endswith("default limits"):
        # The path itself, limits lifted; the "default limits" rows show what an editor gets.
        os.environ["PASTE_MAX_CHARS"] = os.environ["PASTE_MAX_CLAIMS"] = str(10**9)
    import django

    django.setup()
    # A first small run loads pysbd, compiles the patterns and opens the database, so the
    # figures are the work per input, not the start-up.
    try:
        prepare(path, SHAPES[(path, shape)](512))()
    except Exception:  # noqa: BLE001 - a refusal warms up as well
        pass
    text = SHAPES[(path, shape)](size)
    run = prepare(path, text)
    started = time.perf_counter()
    try:
        outcome = run()
        refused = None
    except Exception as error:  # noqa: BLE001 - a limit's refusal is a result to report
        outcome, refused = None, f"{type(error).__name__}: {str(error)[:160]}"
    elapsed = time.perf_counter() - started
    print(json.dumps({"seconds": elapsed, "refused": refused, "result": outcome}))


def prepare(path, text):
    """What to time for ``path``: a callable returning a short description of the result."""
    if path == "split":
        from articles.authoring.parsing import split_sentences

        return lambda: f"{len(split_sentences(text))} sentences"
    if path == "markers":
        from articles.authoring.parsing import extract_markers

        def markers():
            left, found = extract_markers(text)
            return f"{len(left)} characters left, {len(found.numbers)} numbers, {len(found.dois)} DOIs"

        return markers
    if path == "find_doi":
        from references.doi import find_doi

        return lambda: str(find_doi(text))
    from django.db import transaction

    if path == "paste":
        from articles.authoring.editing import append_claims, resolve_pasted_text
        from articles.models import Article, Citation, Claim, Section
        from references.models import Reference

        reference, _ = Reference.objects.get_or_create(doi=DOI, defaults={"title": "Ketamine"})
        article_row = Article.objects.create(title=f"Paste {time.time_ns()}", slug=f"paste-{time.time_ns()}")
        section = Section.objects.create(article=article_row, position=1, heading="One")
        first = Claim.objects.create(section=section, position=0, text="Seed claim.")
        Citation.objects.create(claim=first, reference=reference, position=0)

        def paste():
            with transaction.atomic():
                claims = append_claims(section=section, claims=resolve_pasted_text(article_row, text))
                transaction.set_rollback(True)
            return f"{len(claims)} claims"

        return paste
    if path == "import":
        from articles.importing import import_article

        def do_import():
            report = import_article(text, dry_run=True, fetch=False)
            return f"{len(report.claims)} claims"

        return do_import
    raise SystemExit(f"unknown path {path}")


def migrate():
    WORK.mkdir(exist_ok=True)
    if DATABASE.exists():
        DATABASE.unlink()
    env = dict(os.environ, PSYCHLY_READ_DOT_ENV="0", DATABASE_URL=f"sqlite:///{DATABASE}",
               SECRET_KEY=os.environ.get("SECRET_KEY", BENCH_SECRET_KEY))
    subprocess.run([sys.executable, str(ROOT / "manage.py"), "migrate", "--noinput", "--verbosity", "0"],
                   env=env, check=True, cwd=ROOT)


def measure(path, shape, size, budget):
    command = [sys.executable, __file__, "--child", path, shape, str(size)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=budget, cwd=ROOT)
    except subprocess.TimeoutExpired:
        return {"seconds": None, "over": budget}
    if done.returncode != 0:
        raise SystemExit(f"{path} / {shape} / {size}: the child failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def label(kb):
    return f"{kb // 1024} MB" if kb >= 1024 else f"{kb} KB"


def table(rows, sizes, budget):
    lines = ["| path | input | " + " | ".join(label(kb) for kb in sizes) + " | ms per KB, smallest → largest |",
             "|---|---|" + "---|" * (len(sizes) + 1)]
    for (path, shape), results in rows.items():
        cells, per_kb = [], []
        for kb in sizes:
            result = results.get(kb)
            if result is None:
                cells.append("skipped")
            elif result["seconds"] is None:
                cells.append(f"> {result['over']:.0f} s")
            elif result["refused"]:
                cells.append(f"refused ({result['seconds'] * 1000:.0f} ms)")
            else:
                cells.append(f"{result['seconds'] * 1000:,.0f} ms")
                per_kb.append(result["seconds"] * 1000 / kb)
        trend = f"{per_kb[0]:.2f} → {per_kb[-1]:.2f}" if per_kb else "-"
        lines.append(f"| {path} | {shape} | " + " | ".join(cells) + f" | {trend} |")
    refusals = sorted({r["refused"] for results in rows.values() for r in results.values() if r and r.get("refused")})
    if refusals:
        lines += ["", "Refusals (a documented limit, answered at once):", ""]
        lines += [f"- {message}" for message in refusals]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1,10,100,1024", help="input sizes in KB (default 1,10,100,1024)")
    parser.add_argument("--budget", type=float, default=30.0, help="seconds allowed per case (default 30)")
    parser.add_argument("--paths", default=",".join(PATHS), help="which paths (default: all)")
    parser.add_argument("--out", default=str(RESULTS / "parsing.md"))
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.child:
        path, shape, size = arguments.child
        child(path, shape, int(size))
        return
    sizes = [int(kb) for kb in arguments.sizes.split(",")]
    paths = arguments.paths.split(",")
    migrate()
    started = time.monotonic()
    rows = {}
    for (path, shape) in SHAPES:
        if path not in paths:
            continue
        rows[(path, shape)] = {}
        for kb in sizes:
            result = measure(path, shape, kb * 1024, arguments.budget)
            rows[(path, shape)][kb] = result
            shown = "over budget" if result["seconds"] is None else f"{result['seconds']:.3f} s"
            print(f"[parsing] {path:8} {shape:28} {label(kb):>6}: {shown} {result.get('refused') or ''}",
                  flush=True)
            if result["seconds"] is None:
                break
    report = "\n".join([
        "# Parsing benchmark",
        "",
        f"{datetime.datetime.now():%Y-%m-%d %H:%M}; {os.cpu_count()} cores, {platform.system()} "
        f"{platform.machine()}, Python {platform.python_version()}; budget {arguments.budget:.0f} s per case; "
        f"load average {os.getloadavg()[0]:.1f}; whole run {time.monotonic() - started:.0f} s.",
        "",
        table(rows, sizes, arguments.budget),
        "",
    ])
    Path(arguments.out).parent.mkdir(parents=True, exist_ok=True)
    Path(arguments.out).write_text(report)
    print(report)


if __name__ == "__main__":
    main()
