# The two commands of the quick start: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEMO_TOPICS ?= 1000
HOST ?= 127.0.0.1
PORT ?= 8000
UPSTREAM_PORT ?= 8001

.PHONY: run test lint format check-deploy bootstrap clean bench

# (Re)install when the requirements change. The bench's few extra packages are
# installed too: its test runs in `make test`.
$(VENV)/.installed: requirements.txt requirements-dev.txt requirements-bench.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-bench.txt
	touch $@

bootstrap: $(VENV)/.installed
	$(BIN)/python manage.py migrate --verbosity 0

# Serves the app, the background task worker (`manage.py db_worker`) and the
# fake upstream beside it unless UPSTREAM_URL names another one; Ctrl-C stops all.
run: bootstrap
	$(BIN)/python manage.py seed_demo --topics $(DEMO_TOPICS) --if-empty
	@$(BIN)/python manage.py db_worker & worker=$$!; \
	trap 'kill $$worker $$upstream 2>/dev/null' EXIT INT TERM; \
	if [ -z "$$UPSTREAM_URL" ]; then \
	  $(BIN)/python manage.py runupstream --port $(UPSTREAM_PORT) & upstream=$$!; \
	  export UPSTREAM_URL=http://127.0.0.1:$(UPSTREAM_PORT); \
	fi; \
	$(BIN)/python -m project.serve --reload --host $(HOST) --port $(PORT)

test: bootstrap
	PYTHONDEVMODE=1 $(BIN)/python -W error -m pytest $(PYTEST_ARGS)

# Sync vs async against real servers: `make bench BENCH_ARGS="--quick"`.
bench: bootstrap
	$(BIN)/python manage.py bench $(BENCH_ARGS)

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python manage.py makemigrations --check --dry-run

format: $(VENV)/.installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
