# The two commands of the README: `make run` and `make test`. Both create .venv when missing.
# `make bench` / `make loadtest`: the benchmarks of the README's "Performance" section.
.PHONY: run test lint format bench-data bench bench-caldav bench-forecast bench-peer loadtest scale-out

PY := .venv/bin/python

run:
	scripts/bootstrap requirements.txt
	DEBUG=$${DEBUG:-true} $(PY) manage.py migrate --noinput
	DEBUG=$${DEBUG:-true} $(PY) manage.py seed_demo
	DEBUG=$${DEBUG:-true} $(PY) manage.py runserver 127.0.0.1:8000

# One pytest worker per core (pytest-xdist; an idle worker takes tests queued for the other);
# each worker has its own test database.
test:
	scripts/bootstrap requirements-dev.txt
	$(PY) -m pytest -n auto --dist worksteal $(PYTEST_ARGS)

lint:
	scripts/bootstrap requirements-dev.txt
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/lint-imports

format:
	scripts/bootstrap requirements-dev.txt
	.venv/bin/ruff check --fix .
	.venv/bin/ruff format .

# The benchmark data: migrate and `seed_demo --scale large` into DATABASE_URL (PostgreSQL).
bench-data:
	scripts/bootstrap requirements.txt
	DEBUG=$${DEBUG:-true} $(PY) manage.py migrate --noinput
	DEBUG=$${DEBUG:-true} $(PY) manage.py seed_demo --scale large

# After `make bench-data` against the same DATABASE_URL (PostgreSQL).
bench:
	scripts/bootstrap requirements.txt
	$(PY) -m benchmarks $(BENCH_ARGS)

# The forecast at 10k / 100k / 1M open deals: one row per PostgreSQL database (each seeded
# with `seed_demo --scale xlarge [--deals N]`), e.g.
# make bench-forecast FORECAST_DATABASES="postgres://.../x10k postgres://.../x100k postgres://.../x1m"
bench-forecast:
	scripts/bootstrap requirements.txt
	$(PY) -m benchmarks.forecast $(BENCH_ARGS) $(FORECAST_DATABASES)

# A peer Django CRM (Creme CRM from PyPI, its own venv and database outside the repo) under
# the load test's wrk run, with our floor (DATABASE_URL: our `make bench-data` database).
bench-peer:
	scripts/bootstrap requirements.txt
	$(PY) -m benchmarks.peer $(BENCH_ARGS)

# One CalDAV account's sync of 1,000 and 4,000 events against a local Radicale (PostgreSQL).
bench-caldav:
	scripts/bootstrap requirements-dev.txt
	$(PY) -m benchmarks.caldav_sync $(BENCH_ARGS)

loadtest:
	scripts/bootstrap requirements.txt
	$(PY) -m benchmarks.loadtest $(LOADTEST_ARGS)

# Issue 9's proof: two app processes and a db_worker under the load test (DATABASE_URL).
scale-out:
	scripts/bootstrap requirements.txt
	$(PY) -m benchmarks.scale_out $(SCALE_OUT_ARGS)
