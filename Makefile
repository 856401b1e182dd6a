# The two commands: `make run` and `make test`. Everything else supports them.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test install install-test env migrate demo clean serve serve-varnish bench bench-sweep

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# Reinstall when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

# A development .env (DEBUG on, a fresh key), written only when none exists.
.env:
	@$(PYTHON) -c "import secrets; print('DEBUG=1'); print('SECRET_KEY=' + secrets.token_urlsafe(64)); print('ALLOWED_HOSTS=127.0.0.1,localhost')" > .env
	@echo "Wrote a development .env (DEBUG on, generated SECRET_KEY)."

env: .env

migrate: install .env
	$(PY) manage.py migrate --noinput

demo: migrate
	$(PY) manage.py load_demo

run: demo
	@echo "Serving Psychly Editorial at http://$(HOST):$(PORT)/ (admin: http://$(HOST):$(PORT)/admin/)"
	$(PY) manage.py db_worker --verbosity 0 & worker=$$!; trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(PY) manage.py runserver $(HOST):$(PORT)

# Production mode on this machine: gunicorn (psychly/gunicorn.conf.py), DEBUG off, WhiteNoise serving
# hashed, compressed static files. It speaks plain HTTP on 127.0.0.1 only, so this command alone turns the
# HTTPS redirect and Secure-only cookies off; the settings' defaults keep them on everywhere else.
# SECRET_KEY, DATABASE_URL, REDIS_URL, CONN_MAX_AGE and the rest come from the environment or .env.
serve: migrate
	DEBUG=0 $(PY) manage.py collectstatic --noinput --verbosity 0
	DEBUG=0 $(PY) manage.py bound_cache_memory
	@echo "Serving Psychly (production mode) at http://127.0.0.1:$(PORT)/ -- health: http://127.0.0.1:$(PORT)/healthz"
# One task worker (refreshes, mail, scheduled publishing queued by the admin) beside gunicorn, stopped with it.
	DEBUG=0 $(PY) manage.py db_worker --verbosity 0 & worker=$$!; trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	DEBUG=0 SECURE_SSL_REDIRECT=0 SECURE_COOKIES=0 CONN_MAX_AGE=$${CONN_MAX_AGE:-60} \
		GUNICORN_BIND=127.0.0.1:$(PORT) $(VENV)/bin/gunicorn -c psychly/gunicorn.conf.py psychly.wsgi

# Production mode with Varnish in front (psychly/varnish/psychly.vcl): Varnish on 127.0.0.1:$(VARNISH_PORT), the app
# (make serve) behind it on $(PORT), purged by the app on every change. Needs Debian's varnish and varnish-modules.
VARNISH_PORT ?= 6081
serve-varnish:
	@command -v varnishd >/dev/null || { echo "Varnish is missing: apt-get install varnish varnish-modules"; exit 1; }
	@mkdir -p .varnish && chmod 755 .varnish && sed 's/.port = "8000";/.port = "$(PORT)";/' psychly/varnish/psychly.vcl > .varnish/psychly.vcl
	varnishd -n $(CURDIR)/.varnish/state -a 127.0.0.1:$(VARNISH_PORT) -f $(CURDIR)/.varnish/psychly.vcl -s malloc,256m -T 127.0.0.1:0
	@echo "Varnish at http://127.0.0.1:$(VARNISH_PORT)/ in front of the app at :$(PORT) (stop it with: pkill -f $(CURDIR)/.varnish)"
	FRONTEND_CACHE_VARNISH_URLS=http://127.0.0.1:$(VARNISH_PORT) $(MAKE) serve

# The benchmark (bench/README.md): SQLite and PostgreSQL, or only the database DATABASE_URL names.
# Installs wrk from Debian's packages when it is missing. Writes bench/results/latest.md, and parsing.md from
# bench/parsing.py (BENCH_ARGS="--only parsing" runs that alone, without wrk or a server).
bench: install
	@command -v wrk >/dev/null || { echo "Installing wrk"; SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get install -y wrk || { $$SUDO apt-get update && $$SUDO apt-get install -y wrk; }; }
	$(PY) bench/run.py $(BENCH_ARGS)
	$(PY) bench/abstract_matching.py
	$(PY) bench/retraction_sweep.py $(SWEEP_ARGS)
	$(PY) bench/writing_desk.py

# The retraction sweep at scale (bench/retraction_sweep.py): 1,000,000 references in a temporary SQLite
# database, 20,000 notices of the day from a stand-in Crossref. Writes bench/results/retraction_sweep.md.
bench-sweep: install
	$(PY) bench/retraction_sweep.py $(SWEEP_ARGS)

# The browser journeys (tests/e2e) drive /usr/bin/chromium; without it they are skipped, and said so.
test: install-test
	@[ -x "$${PSYCHLY_CHROMIUM:-/usr/bin/chromium}" ] || echo "NOTE: no Chromium at $${PSYCHLY_CHROMIUM:-/usr/bin/chromium}: the browser journeys in tests/e2e will be SKIPPED (apt-get install chromium; .ci/run does)."
	$(VENV)/bin/lint-imports --no-cache
	$(PY) -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles .pytest_cache
