"""Abstract matching: how often the sentence marked beside a claim is the one a person picked.

    python bench/abstract_matching.py            # prints the figures, writes bench/results/abstract_matching.md
    python bench/abstract_matching.py --out /tmp/abstract_matching.md
    python bench/abstract_matching.py --json     # the figures as JSON on stdout as well

Runs articles.review.evidence_match.match_abstract over the real claim-abstract pairs in
tests/fixtures/evidence/claim_abstract_pairs.json (how they were gathered: the README beside them):

- cited pairs: a claim and the abstract of the work it cites, with the sentence of the abstract a
  person picked as its support. Reported: the top-ranked sentence was that one (top 1), it was one of
  the two best (top 2), and it was among the sentences the review page marks.
- mismatched pairs: real claims paired on purpose with real abstracts of other works. Reported: how
  many raise the "check that this source discusses the claim" warning (hits), and how many cited pairs
  raise it wrongly (false alarms).

No database and no network: the matcher works on text alone.
"""

import argparse
import datetime
import json
import os
import platform
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"
PAIRS = ROOT / "tests" / "fixtures" / "evidence" / "claim_abstract_pairs.json"
# Only for loading the settings in this process: nothing is served or stored.
BENCH_SECRET_KEY = "bench-only-secret-key-2b7e5c9a1d4f8e3b6a0c5d9e2f7a1b4c8d3e6f0a"


def setup_django():
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "psychly.settings")
    os.environ.setdefault("PSYCHLY_READ_DOT_ENV", "0")
    os.environ.setdefault("SECRET_KEY", BENCH_SECRET_KEY)
    import django

    django.setup()


def load_pairs(path=PAIRS):
    """The pairs from the fixture file: (cited pairs, mismatched pairs)."""
    pairs = json.loads(Path(path).read_text())["pairs"]
    return [p for p in pairs if p["kind"] == "cited"], [p for p in pairs if p["kind"] == "mismatched"]


def evaluate(cited, mismatched):
    """The figures for the pairs, and one row per cited pair for the report."""
    from articles.review.evidence_match import match_abstract

    rows, top1, top2, marked, false_alarms = [], 0, 0, 0, 0
    started = time.perf_counter()
    for pair in cited:
        evidence = match_abstract(pair["claim"], None, abstract=pair["cited"]["abstract"])
        texts = [sentence.text for sentence in evidence.sentences]
        # The picked sentence as the splitter cut it: it may carry a label prefix the splitter removed.
        picked = next((i for i, text in enumerate(texts) if text == pair["supporting_sentence"]), None)
        if picked is None:
            raise SystemExit(f"{pair['id']}: the picked sentence is not one of the abstract's sentences as split.")
        rank = evidence.ranking.index(picked) + 1
        top1 += rank == 1
        top2 += rank <= 2
        marked += picked in evidence.highlighted
        false_alarms += not evidence.discusses_claim
        rows.append((pair["id"], rank, len(texts), picked in evidence.highlighted, evidence.discusses_claim,
                     ", ".join(evidence.shared_terms)))
    hits, mismatch_rows = 0, []
    for pair in mismatched:
        evidence = match_abstract(pair["claim"], None, abstract=pair["cited"]["abstract"])
        hits += not evidence.discusses_claim
        mismatch_rows.append((pair["id"], not evidence.discusses_claim, ", ".join(evidence.shared_terms)))
    elapsed = time.perf_counter() - started
    figures = {
        "cited_pairs": len(cited), "top1": top1, "top2": top2, "marked": marked,
        "false_alarms": false_alarms, "mismatched_pairs": len(mismatched), "warning_hits": hits,
        "seconds": round(elapsed, 3),
    }
    return figures, rows, mismatch_rows


def report(figures, rows, mismatch_rows):
    n = figures["cited_pairs"]
    lines = [
        "# Abstract matching",
        "",
        f"Run {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC on {platform.platform()}, "
        f"Python {platform.python_version()}, by `python bench/abstract_matching.py`.",
        "",
        "Pairs: `tests/fixtures/evidence/claim_abstract_pairs.json` (real claims and abstracts; how they were "
        "gathered is in the README beside it).",
        "",
        f"- Top sentence was the one a person picked in **{figures['top1']} of {n}** pairs; "
        f"in the top 2 in **{figures['top2']} of {n}**.",
        f"- The picked sentence was among those the review page marks in {figures['marked']} of {n}.",
        f"- Warning \"check that this source discusses the claim\": raised on **{figures['warning_hits']} of "
        f"{figures['mismatched_pairs']}** mismatched pairs (hits); wrongly raised on **{figures['false_alarms']} "
        f"of {n}** cited pairs (false alarms).",
        f"- Time for all {n + figures['mismatched_pairs']} pairs: {figures['seconds']} s.",
        "",
        "## Cited pairs",
        "",
        "| pair | rank of the picked sentence | sentences | marked | discusses | shared key terms |",
        "|---|---:|---:|---|---|---|",
    ]
    for pid, rank, count, is_marked, discusses, shared in rows:
        lines.append(f"| {pid} | {rank} | {count} | {'yes' if is_marked else 'no'} | "
                     f"{'yes' if discusses else 'NO'} | {shared} |")
    lines += ["", "## Mismatched pairs (constructed mis-citations)", "",
              "| pair | warning raised | shared key terms |", "|---|---|---|"]
    for pid, warned, shared in mismatch_rows:
        lines.append(f"| {pid} | {'yes' if warned else 'no'} | {shared or '—'} |")
    lines += ["", "The warning looks only at shared key terms, so a mis-citation within the same topic "
              "(a depression claim citing another depression abstract) passes it; it catches a source "
              "from another subject, not a wrong study of the same one.", ""]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=str(RESULTS / "abstract_matching.md"))
    parser.add_argument("--pairs", default=str(PAIRS))
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    arguments = parser.parse_args()
    setup_django()
    cited, mismatched = load_pairs(arguments.pairs)
    figures, rows, mismatch_rows = evaluate(cited, mismatched)
    text = report(figures, rows, mismatch_rows)
    Path(arguments.out).parent.mkdir(parents=True, exist_ok=True)
    Path(arguments.out).write_text(text)
    n = figures["cited_pairs"]
    print(f"Top sentence was the one a person picked in {figures['top1']} of {n} pairs "
          f"(top 2: {figures['top2']} of {n}).")
    print(f"Warning: {figures['warning_hits']} of {figures['mismatched_pairs']} mismatched pairs flagged; "
          f"{figures['false_alarms']} false alarms on {n} cited pairs. Wrote {arguments.out}")
    if arguments.json:
        print(json.dumps(figures))


if __name__ == "__main__":
    main()
