"""Psychly's benchmark: build a realistic site, serve it in production mode, load it with wrk.

    python bench/run.py                      # SQLite, then PostgreSQL (postgres://postgres@127.0.0.1:5432/psychly_bench)
    DATABASE_URL=postgres://... python bench/run.py   # only that database (it is dropped and rebuilt!)
    python bench/run.py --duration 8 --connections 8

For each database: a fresh database, migrated; 200 published articles (6 sections
x 10 claims x 2 citations), one large article (60 sections) and a 1,000-claim
article for timing the publish gate, built by bench/tasks.py through the
workflow service; then gunicorn with psychly/gunicorn.conf.py and 2 workers on
127.0.0.1, three times:

- "uncached": the cache backend is Django's DummyCache, so every request renders
  the page from the database (the page cache stores nothing and finds nothing);
- "cached": Redis (REDIS_URL, a dedicated database number), warmed by one request
  per page, as the production setup serves anonymous readers: each worker keeps
  the pages it served in its own memory, and Redis tells it of every invalidation;
- "Redis only": the same with PAGE_CACHE_LOCAL_MIB=0, so every hit is one round
  trip to Redis (the small and the large article only).

Each page is measured with wrk (requests/s, p50, p99), next to a bare Django view
(BENCH_BARE_VIEW=1 mounts it at /bench/bare: same project, same middleware, no
database, no template) measured on the same server in the same run; every figure
is also given as a ratio to it. SQL queries per page come from Django's test
client in the same configuration; peak memory per worker from /proc (VmHWM).
Writes bench/results/latest.md and latest.json.
"""

import argparse
import datetime
import json
import os
import platform
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
WORK = BENCH / ".work"
RESULTS = BENCH / "results"
DEFAULT_POSTGRES = "postgres://postgres@127.0.0.1:5432/psychly_bench"
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
WORKERS = 2

UNCACHED = ["bare view", "small article", "large article", "home", "topic", "search", "feed", "sitemap"]
CACHED = ["bare view", "small article", "large article", "home", "topic", "search"]
# The same cache with no page kept in process memory: every hit is one Redis round trip.
SHARED_ONLY = ["bare view", "small article", "large article"]
MODES = [("uncached", UNCACHED), ("cached", CACHED), ("Redis only", SHARED_ONLY)]

# Targets from the issue, as ratios to the bare view of the same run.
TARGETS = {
    ("uncached", "small article"): 0.3,
    ("uncached", "large article"): 0.15,
    ("uncached", "home"): 0.3,
    ("uncached", "topic"): 0.3,
    ("uncached", "search"): 0.3,
    ("uncached", "feed"): 0.3,
    ("uncached", "sitemap"): 0.3,
    ("cached", "small article"): 0.8,
}
# Limits measured next to the cached server, in the same run: Django's own bare view (startproject's
# middleware, bench/stock_django), nginx sending the cached article's bytes from a file, and Varnish
# in front of gunicorn.
LIMITS = "limits"
# Rounds of each paired comparison (ours and stock Django's bare views, Varnish and nginx).
LIMIT_ROUNDS = 5
STOCK_BARE = "stock Django bare view"
NGINX = "nginx, same article bytes"
VARNISHED = {"small article": "small article via Varnish", "home": "home via Varnish",
             "search": "search via Varnish"}
# (what, of what, at least)
LIMIT_TARGETS = [
    ("bare view", STOCK_BARE, 0.9),
    ("small article via Varnish", NGINX, 0.8),
]


def log(message):
    print(f"[bench {datetime.datetime.now():%H:%M:%S}] {message}", flush=True)


def python():
    venv = ROOT / ".venv" / "bin" / "python"
    return str(venv) if venv.exists() else sys.executable


# -- databases ---------------------------------------------------------------

def fresh_database(url):
    """Drop and recreate the benchmark's own database; return its label."""
    if url.startswith("sqlite"):
        path = Path(urllib.parse.urlsplit(url).path)
        path.unlink(missing_ok=True)
        return "SQLite"
    import psycopg

    parts = urllib.parse.urlsplit(url)
    name = parts.path.lstrip("/")
    with psycopg.connect(parts._replace(path="/postgres").geturl(), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
        version = connection.execute("SHOW server_version").fetchone()[0]
    return f"PostgreSQL {version.split()[0]}"


def postgres_reachable(url):
    try:
        import psycopg

        parts = urllib.parse.urlsplit(url)
        psycopg.connect(parts._replace(path="/postgres").geturl(), connect_timeout=3).close()
        return True
    except Exception:  # noqa: BLE001 - any failure means "not here"
        return False


def analyze(url):
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("ANALYZE")


def flush_redis():
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()


# -- processes ---------------------------------------------------------------

def base_env(database_url):
    env = {key: value for key, value in os.environ.items()
           if key not in {"CACHE_URL", "REDIS_URL", "DATABASE_REPLICA_URL", "DJANGO_SETTINGS_MODULE"}}
    env.update(
        DJANGO_SETTINGS_MODULE="psychly.settings", PSYCHLY_READ_DOT_ENV="0", DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(64), ALLOWED_HOSTS="127.0.0.1,testserver", DATABASE_URL=database_url,
        SECURE_SSL_REDIRECT="0", SECURE_COOKIES="0", CONN_MAX_AGE="600", BENCH_BARE_VIEW="1",
        EMAIL_URL="dummymail://", LOG_LEVEL="ERROR", WEB_CONCURRENCY=str(WORKERS),
    )
    env.pop("STATIC_MANIFEST", None)  # the production default: hashed, compressed files
    return env


def cache_env(env, mode):
    if mode == "uncached":
        return {**env, "CACHE_URL": "dummycache://"}
    if mode == "Redis only":
        return {**env, "REDIS_URL": REDIS_URL, "PAGE_CACHE_LOCAL_MIB": "0"}
    return {**env, "REDIS_URL": REDIS_URL}


def run(command, env, **kwargs):
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result.stdout


def wait_for(url, process, what, log_file):
    """Until ``url`` answers 200, or SystemExit naming ``what`` and its log."""
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None:
            raise SystemExit(f"{what} exited; see {log_file}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError):
            pass
        if time.monotonic() > deadline:
            stop(process)
            raise SystemExit(f"{what} did not answer in 60 s; see {log_file}")
        time.sleep(0.2)


def stop(process):
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def start_stock_django():
    """Gunicorn serving bench/stock_django with Psychly's worker settings; returns (process, base URL)."""
    port = free_port()
    log_file = WORK / "stock-django.log"
    process = subprocess.Popen(
        [str(Path(python()).parent / "gunicorn"), "--chdir", str(BENCH / "stock_django"), "-w", str(WORKERS),
         "-k", "sync", "--preload", "-b", f"127.0.0.1:{port}", "stock.wsgi"],
        cwd=ROOT, env={key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"},
        stdout=subprocess.DEVNULL, stderr=open(log_file, "w"),
    )
    base = f"http://127.0.0.1:{port}"
    wait_for(base + "/bench/bare", process, "stock Django", log_file)
    return process, base


def start_nginx(body, headers):
    """nginx sending ``body`` (the cached article's bytes) with its Content-Type, keep-alive as wrk uses it."""
    home = WORK / "nginx"
    shutil.rmtree(home, ignore_errors=True)
    (home / "logs").mkdir(parents=True)
    (home / "article.html").write_bytes(body)
    port = free_port()
    content_type = headers.get("Content-Type", "text/html; charset=utf-8")
    (home / "nginx.conf").write_text(f"""worker_processes {WORKERS};
pid {home}/nginx.pid;
error_log {home}/logs/error.log error;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    keepalive_requests 100000;
    server {{
        listen 127.0.0.1:{port};
        location = /article {{
            default_type "{content_type}";
            alias {home}/article.html;
        }}
    }}
}}
""")
    process = subprocess.Popen(["nginx", "-p", str(home), "-c", str(home / "nginx.conf"), "-g", "daemon off;"],
                               stdout=subprocess.DEVNULL, stderr=open(home / "logs" / "stderr.log", "w"))
    base = f"http://127.0.0.1:{port}"
    wait_for(base + "/article", process, "nginx", home / "logs")
    return process, base + "/article"


def varnish_vcl():
    """The project's VCL when there is one, else the benchmark's minimal one (bench/varnish.vcl)."""
    project = ROOT / "psychly" / "varnish" / "psychly.vcl"
    return project if project.exists() else BENCH / "varnish.vcl"


def start_varnish(backend_port):
    """varnishd in front of gunicorn on ``backend_port``; returns (process, base URL, the VCL used)."""
    home = WORK / "varnish"
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    source = varnish_vcl()
    text = source.read_text()
    # The backend's address: the project's VCL names 127.0.0.1:8000, the benchmark's a placeholder.
    text = re.sub(r'(\.port\s*=\s*)"[^"]*"', f'\\1"{backend_port}"', text, count=1)
    text = re.sub(r'(\.host\s*=\s*)"[^"]*"', '\\1"127.0.0.1"', text, count=1)
    (home / "bench.vcl").write_text(text)
    port = free_port()
    process = subprocess.Popen(
        ["varnishd", "-F", "-n", str(home / "state"), "-a", f"127.0.0.1:{port}", "-f", str(home / "bench.vcl"),
         "-s", "malloc,256m", "-p", f"thread_pools={WORKERS}"],
        stdout=open(home / "varnishd.log", "w"), stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    wait_for(base + "/healthz", process, "varnishd", home / "varnishd.log")
    return process, base, source.relative_to(ROOT)


def paired_rounds(first_url, second_url, *, rounds, duration, connections):
    """``rounds`` rounds of two URLs measured back to back, the order alternating from round to round, so
    neither side always runs on a machine the other has just warmed or tired; [(first, second)] by ratio."""
    pairs = []
    for number in range(rounds):
        if number % 2 == 0:
            first = wrk(first_url, duration=duration, connections=connections)
            second = wrk(second_url, duration=duration, connections=connections)
        else:
            second = wrk(second_url, duration=duration, connections=connections)
            first = wrk(first_url, duration=duration, connections=connections)
        if first["non_2xx"] or second["non_2xx"]:
            raise SystemExit(f"{first_url} or {second_url}: responses that were not 2xx/3xx")
        pairs.append((first, second))
    return sorted(pairs, key=lambda pair: pair[0]["rps"] / pair[1]["rps"])


def median_pair(pairs):
    """The round with the median ratio, and every round's figures beside it."""
    first, second = pairs[len(pairs) // 2]
    return first, second, [[a["rps"], b["rps"]] for a, b in pairs]


def measure_limits(server, pages, *, label, duration, connections):
    """Stock Django's bare view against ours, Varnish against nginx with the cached article's bytes (each in
    paired rounds, the median round standing for them), and home and search through Varnish."""
    runs = {}

    def record(name, measured, bare_rps, rounds=None):
        runs[name] = {**measured, "bare_rps": bare_rps, **({"rounds": rounds} if rounds else {})}
        log(f"{label} {LIMITS:8} {name:26} {measured['rps']:8.0f} req/s  p50 {measured['p50_ms']:6.1f} ms  "
            f"(bare view: {bare_rps:.0f} req/s)")

    stock, stock_base = start_stock_django()
    try:
        # Two bare views a few percent apart, on two cores shared with wrk: paired rounds.
        ours, theirs, rounds = median_pair(paired_rounds(
            server.base + pages["bare view"], stock_base + "/bench/bare",
            rounds=LIMIT_ROUNDS, duration=duration, connections=connections))
        record(STOCK_BARE, theirs, ours["rps"], rounds)
    finally:
        stop(stock)
    with urllib.request.urlopen(server.base + pages["small article"], timeout=30) as response:
        body, headers = response.read(), dict(response.headers)
    nginx, nginx_url = start_nginx(body, headers)
    varnish, varnish_base, vcl = start_varnish(server.port)
    try:
        for page in VARNISHED:
            urllib.request.urlopen(varnish_base + pages[page], timeout=30).read()  # into Varnish's cache
        bare = wrk(server.base + pages["bare view"], duration=max(3, duration // 2), connections=connections)
        varnished, limit, rounds = median_pair(paired_rounds(
            varnish_base + pages["small article"], nginx_url,
            rounds=LIMIT_ROUNDS, duration=duration, connections=connections))
        record(NGINX, limit, bare["rps"], rounds)
        record(VARNISHED["small article"], varnished, bare["rps"])
        for page, name in VARNISHED.items():
            if page != "small article":
                bare = wrk(server.base + pages["bare view"], duration=max(3, duration // 2), connections=connections)
                record(name, wrk(varnish_base + pages[page], duration=duration, connections=connections),
                       bare["rps"])
    finally:
        stop(varnish)
        stop(nginx)
    return runs, str(vcl)


def task(env, *arguments):
    return json.loads(run([python(), "bench/tasks.py", *arguments], env).strip().splitlines()[-1])


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    def __init__(self, env):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [str(Path(python()).parent / "gunicorn"), "-c", "psychly/gunicorn.conf.py", "psychly.wsgi"],
            cwd=ROOT, env={**env, "GUNICORN_BIND": f"127.0.0.1:{self.port}"},
            stdout=subprocess.DEVNULL, stderr=open(WORK / "gunicorn.log", "a"),
        )
        deadline = time.monotonic() + 60
        while True:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn exited; see {WORK / 'gunicorn.log'}")
            try:
                with urllib.request.urlopen(self.base + "/healthz", timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError):
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise SystemExit(f"gunicorn did not become healthy in 60 s; see {WORK / 'gunicorn.log'}")
            time.sleep(0.2)

    def get(self, path):
        with urllib.request.urlopen(self.base + path, timeout=30) as response:
            return response.status, response.read()

    def workers(self):
        pids = []
        for status in Path("/proc").glob("[0-9]*/status"):
            try:
                fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
            except OSError:
                continue
            if fields.get("PPid", "").strip() == str(self.process.pid):
                pids.append(status.parent.name)
        return pids

    def peak_memory_mib(self):
        """The largest peak resident set (VmHWM) among the workers."""
        peaks = []
        for pid in self.workers():
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peaks.append(int(line.split()[1]) / 1024)
        return max(peaks) if peaks else None

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


# -- wrk ---------------------------------------------------------------------

_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text):
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(number) * _UNITS[unit]


def wrk(url, *, duration, connections):
    output = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--timeout", "10s", "--latency", url],
        capture_output=True, text=True, check=True,
    ).stdout
    percentiles = dict(re.findall(r"^\s+(50|99)%\s+(\S+)\s*$", output, re.MULTILINE))
    if "50" not in percentiles or "Requests/sec" not in output:
        raise SystemExit(f"could not read wrk's answer for {url}:\n{output}")
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "p50_ms": _ms(percentiles["50"]),
        "p99_ms": _ms(percentiles["99"]),
        "requests": int(re.search(r"(\d+) requests in", output).group(1)),
        "non_2xx": int(errors.group(1)) if errors else 0,
        "socket_errors": sum(map(int, sockets.groups())) if sockets else 0,
    }


# -- one database --------------------------------------------------------------

def bench_database(database_url, *, duration, connections, reuse=False):
    env = base_env(database_url)
    saved = WORK / (re.sub(r"\W+", "-", database_url) + ".build.json")
    if reuse and saved.exists():
        label, built = json.loads(saved.read_text())
        log(f"{label}: reusing the data built earlier (--reuse)")
    else:
        label = fresh_database(database_url)
        log(f"{label}: migrating and collecting static files")
        run([python(), "manage.py", "migrate", "--noinput", "--verbosity", "0"], env)
        log(f"{label}: building 200 articles + a large one + a 1,000-claim one through the workflow "
            "(a few minutes)")
        built = task(env, "build")
        saved.write_text(json.dumps([label, built]))
    run([python(), "manage.py", "collectstatic", "--noinput", "--verbosity", "0"], env)
    if label.startswith("PostgreSQL"):
        # Statistics of the rows just built, as autovacuum gathers within a minute or so of a bulk load: without
        # them the planner takes every new table for empty and reads whole tables where an index serves.
        analyze(database_url)
    pages = built["pages"]
    log(f"{label}: built in {built['build_seconds']:.0f} s; gate on {built['gate']['claims']} claims: "
        f"{built['gate']['seconds'] * 1000:.0f} ms, {built['gate']['queries']} queries")

    result = {"database": label, "build": built, "runs": {}, "queries": {}, "memory_mib": {}}
    for mode, names in MODES:
        menv = cache_env(env, mode)
        if mode != "uncached":
            flush_redis()
        urls = [pages[name] for name in names if pages.get(name)]
        counted = task(menv, "count", *urls)
        result["queries"][mode] = {
            name: counted[pages[name]]["first" if mode == "uncached" else "repeat"]
            for name in names if pages.get(name)
        }
        if mode != "uncached":
            flush_redis()
        server = Server(menv)
        try:
            for name in names:
                if not pages.get(name):
                    continue
                status, body = server.get(pages[name])  # warms the cache in the cached runs
                if status != 200 or not body:
                    raise SystemExit(f"{name} ({pages[name]}) answered {status}")
            result["runs"][mode] = runs = {}
            bares = []
            for name in names:
                if name == "bare view":
                    continue
                if not pages.get(name):
                    runs[name] = None
                    continue
                # The bare view again just before each page: its ratio then compares two runs seconds apart,
                # which cancels most of what else the machine is doing.
                bare = wrk(server.base + pages["bare view"], duration=max(3, duration // 2),
                           connections=connections)
                bares.append(bare)
                measured = wrk(server.base + pages[name], duration=duration, connections=connections)
                for what, numbers in (("bare view", bare), (name, measured)):
                    if numbers["non_2xx"]:
                        raise SystemExit(f"{what}: {numbers['non_2xx']} responses were not 2xx/3xx")
                measured["bare_rps"] = bare["rps"]
                runs[name] = measured
                log(f"{label} {mode:8} {name:14} {measured['rps']:8.0f} req/s  p50 {measured['p50_ms']:6.1f} ms  "
                    f"p99 {measured['p99_ms']:6.1f} ms  (bare view just before: {bare['rps']:.0f} req/s)")
            median = sorted(bares, key=lambda run_: run_["rps"])[len(bares) // 2]
            runs["bare view"] = {**median, "bare_rps": median["rps"],
                                 "all_rps": [run_["rps"] for run_ in bares]}
            result["memory_mib"][mode] = server.peak_memory_mib()
            if mode == "cached":
                result["runs"][LIMITS], result["vcl"] = measure_limits(
                    server, pages, label=label, duration=duration, connections=connections)
        finally:
            server.stop()
    flush_redis()
    return result


# -- report ------------------------------------------------------------------

def ratio(result, mode, name):
    """Requests/s as a fraction of the bare view's, measured on the same server just before."""
    run_ = result["runs"][mode].get(name)
    return run_["rps"] / run_["bare_rps"] if run_ else None


def checks(result):
    """Each target with its measured value and whether it was met."""
    rows = []
    for (mode, name), target in TARGETS.items():
        value = ratio(result, mode, name)
        rows.append((f"{name}, {mode}: at least {target} of the bare view", value is not None and value >= target,
                     "not measured" if value is None else f"{value:.2f}"))
    limits = result["runs"].get(LIMITS, {})
    for what, of, target in LIMIT_TARGETS:
        # Our bare view as measured just before stock Django's, on the cached server.
        ours = (limits.get(of, {}).get("bare_rps") if what == "bare view" else limits.get(what, {}).get("rps"))
        theirs = limits.get(of, {}).get("rps")
        value = ours / theirs if ours and theirs else None
        rows.append((f"{what}: at least {target} of {of}", value is not None and value >= target,
                     "not measured" if value is None else f"{value:.2f} ({ours:,.0f} / {theirs:,.0f} req/s)"))
    uncached = result["queries"]["uncached"]
    public = [uncached.get(n) for n in ("home", "topic", "search", "feed", "sitemap") if uncached.get(n) is not None]
    rows.append(("home, topic, search, feed, sitemap: at most 4 SQL queries each", bool(public) and max(public) <= 4,
                 ", ".join(map(str, public)) or "not measured"))
    article_queries = [result["queries"]["uncached"].get(n) for n in ("small article", "large article")]
    article_queries = [q for q in article_queries if q is not None]
    rows.append(("article pages: at most 6 SQL queries whatever the size",
                 bool(article_queries) and max(article_queries) <= 6,
                 ", ".join(map(str, article_queries)) or "not measured"))
    cached = [result["queries"]["cached"].get(n) for n in ("small article", "large article")]
    cached = [q for q in cached if q is not None]
    rows.append(("article pages, cached: no SQL queries", bool(cached) and max(cached) == 0,
                 ", ".join(map(str, cached)) or "not measured"))
    gate = result["build"]["gate"]
    rows.append((f"publish gate on {gate['claims']} claims: under 20 queries", gate["queries"] < 20,
                 str(gate["queries"])))
    rows.append((f"publish gate on {gate['claims']} claims: under 1 s", gate["seconds"] < 1,
                 f"{gate['seconds'] * 1000:.0f} ms"))
    return rows


def markdown(results, settings):
    lines = [
        "# Benchmark results",
        "",
        f"Run {settings['when']} with `make bench` on {settings['machine']}: gunicorn with {WORKERS} sync workers "
        f"(psychly/gunicorn.conf.py, DEBUG off), wrk on the same machine "
        f"(`wrk -t2 -c{settings['connections']} -d{settings['duration']}s`), {settings['note']}.",
        "",
        "*Uncached*: the cache backend is DummyCache, so every request renders from the database. "
        "*Cached*: Redis, the page warmed by one request, each worker keeping the pages it served in its own "
        "memory (`PAGE_CACHE_LOCAL_MIB`) and learning of every invalidation from Redis: a hit is no round trip. "
        "*Redis only*: the same with `PAGE_CACHE_LOCAL_MIB=0`, so every hit is one Redis round trip. "
        "Ratios are to the bare Django view "
        "(same project and middleware, no database, no template) measured on the same server just before "
        "each page. "
        "*Limits*: next to the cached server, a stock Django project's bare view (startproject's middleware, "
        "bench/stock_django, gunicorn with the same workers), nginx sending the cached small article's bytes from "
        "a file (keep-alive, as wrk uses it) and Varnish in front of the cached server; our bare view against "
        "stock Django's, and Varnish against nginx, in paired rounds alternating which runs first, the round "
        "with the median ratio standing for them.",
        "",
    ]
    for result in results:
        build = result["build"]
        lines += [
            f"## {result['database']}",
            "",
            f"{build['articles_published']} published articles ({build['claims']:,} claims, "
            f"{build['citations']:,} citations), built through the workflow in {build['build_seconds']:.0f} s "
            f"({build['publish_seconds_each'] * 1000:.0f} ms per article to submit, approve and publish).",
            "",
            "| page | cache | requests/s | ratio to bare | p50 ms | p99 ms | SQL queries |",
            "|---|---|---:|---:|---:|---:|---:|",
        ]
        for mode in result["runs"]:
            runs = result["runs"][mode]
            for name in ["bare view", *[n for n in runs if n != "bare view"]] if "bare view" in runs else runs:
                measured = runs[name]
                if measured is None:
                    lines.append(f"| {name} | {mode} | not built | | | | |")
                    continue
                value = ratio(result, mode, name)
                queries = result["queries"].get(mode, {}).get(name, "")
                lines.append(
                    f"| {name} | {mode} | {measured['rps']:,.0f} | {value:.2f} | {measured['p50_ms']:.1f} | "
                    f"{measured['p99_ms']:.1f} | {queries} |"
                )
        lines.append("")
        for mode in [m for m in result["runs"] if m != LIMITS]:
            bare = ", ".join(f"{rps:,.0f}" for rps in result["runs"][mode]["bare view"]["all_rps"])
            lines.append(f"Bare view, {mode} server, each run just before a page: {bare} requests/s "
                         "(the table shows the median; each ratio uses the run just before its page).")
        stock = result["runs"].get(LIMITS, {}).get(STOCK_BARE)
        if stock and stock.get("rounds"):
            pairs = ", ".join(f"{ours:,.0f} / {theirs:,.0f} ({ours / theirs:.2f})" for ours, theirs in stock["rounds"])
            lines.append(f"Our bare view / stock Django's, in rounds alternating which runs first: {pairs} "
                         "requests/s (the target uses the median round).")
        limit = result["runs"].get(LIMITS, {}).get(NGINX)
        if limit and limit.get("rounds"):
            pairs = ", ".join(f"{ours:,.0f} / {theirs:,.0f} ({ours / theirs:.2f})" for ours, theirs in limit["rounds"])
            lines.append(f"The small article via Varnish / nginx sending its bytes, in rounds alternating which runs "
                         f"first: {pairs} requests/s (the target uses the median round).")
        memory = result["memory_mib"]
        gate = build["gate"]
        lines += [
            "",
            "Peak memory per worker (VmHWM): "
            + ", ".join(f"{mib or 0:.0f} MiB {mode}" for mode, mib in memory.items()) + ".",
            f"Publish gate on a {gate['claims']:,}-claim article: {gate['seconds'] * 1000:.0f} ms and "
            f"{gate['queries']} queries (median of 5 runs of `gate.check`); publishing it, which also freezes and "
            f"renders the revision, took {gate['publish_seconds']:.1f} s.",
            "",
            f"Varnish ran with `{result.get('vcl', 'no VCL')}`.",
            "",
            "| target | met | measured |",
            "|---|---|---|",
        ]
        lines += [f"| {text} | {'yes' if met else '**no**'} | {value} |" for text, met, value in checks(result)]
        lines.append("")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=int, default=int(os.environ.get("BENCH_DURATION", "6")),
                        help="seconds per wrk run (default 6)")
    parser.add_argument("--connections", type=int, default=int(os.environ.get("BENCH_CONNECTIONS", "8")))
    parser.add_argument("--database", action="append", help="database URL(s); default: DATABASE_URL, "
                        "else SQLite and PostgreSQL (postgres://postgres@127.0.0.1:5432/psychly_bench)")
    parser.add_argument("--reuse", action="store_true",
                        help="measure the data a previous run built instead of rebuilding it")
    parser.add_argument("--only", choices=["parsing", "site"],
                        help="parsing: only the parsing benchmark (bench/parsing.py); site: skip it")
    arguments = parser.parse_args()
    if arguments.only != "site":
        # Parsing time per KB, 1 KB to 1 MB, hostile inputs included: bench/results/parsing.md.
        subprocess.run([python(), str(BENCH / "parsing.py")], check=True, cwd=ROOT)
        if arguments.only == "parsing":
            return
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed: apt-get install -y wrk (make bench does it for you)")
    WORK.mkdir(exist_ok=True)
    RESULTS.mkdir(exist_ok=True)
    (WORK / "gunicorn.log").write_text("")
    databases = arguments.database or (
        [os.environ["DATABASE_URL"]] if os.environ.get("DATABASE_URL") else
        [f"sqlite:///{WORK / 'bench.sqlite3'}"]
        + ([os.environ.get("BENCH_POSTGRES_URL", DEFAULT_POSTGRES)]
           if postgres_reachable(os.environ.get("BENCH_POSTGRES_URL", DEFAULT_POSTGRES)) else [])
    )
    if len(databases) == 1 and not arguments.database and not os.environ.get("DATABASE_URL"):
        log("PostgreSQL is not reachable: benchmarking SQLite only")
    started = time.monotonic()
    results = [bench_database(url, duration=arguments.duration, connections=arguments.connections,
                              reuse=arguments.reuse)
               for url in databases]
    settings = {
        "when": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
        "machine": f"{os.cpu_count()} cores, {platform.system()} {platform.machine()}, Python "
                   f"{platform.python_version()}",
        "duration": arguments.duration, "connections": arguments.connections,
        "note": f"load average {os.getloadavg()[0]:.1f} at the end; whole run {time.monotonic() - started:.0f} s",
    }
    (RESULTS / "latest.json").write_text(json.dumps({"settings": settings, "results": results}, indent=2) + "\n")
    report = markdown(results, settings)
    (RESULTS / "latest.md").write_text(report)
    print(report)
    missed = [f"{result['database']}: {text} ({value})" for result in results
              for text, met, value in checks(result) if not met]
    if missed:
        log("targets missed: " + "; ".join(missed))


if __name__ == "__main__":
    main()
