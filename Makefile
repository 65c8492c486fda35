# verify: `make run` starts the service with demo data, `make test` runs the whole suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
FLASK  := $(BIN)/flask --app wsgi
HOST   ?= 127.0.0.1
PORT   ?= 5000
HEALTH ?= $(or $(VERIFY_HEALTH_ADDRESS),127.0.0.1:5001)
CORES  ?= $(shell nproc)

.PHONY: run test test-cluster test-sentinel serve bench translations clean

# pip shows what it installs as it goes: the first install takes a minute or two.
$(BIN)/python:
	@echo "make: creating $(VENV) (a virtual environment for verify's packages)"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	@echo "make: installing requirements.txt into $(VENV) (a minute or two the first time)"
	$(BIN)/pip install -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(BIN)/python
	@echo "make: installing requirements-dev.txt into $(VENV) (a few minutes the first time)"
	$(BIN)/pip install -r requirements-dev.txt
	touch $@ $(VENV)/.runtime

## run: development server on http://$(HOST):$(PORT) (default 127.0.0.1:5000), embedded store, demo data loaded if empty
run: $(VENV)/.runtime
	$(FLASK) seed-demo --if-empty --url http://$(HOST):$(PORT)
	$(FLASK) run --host $(HOST) --port $(PORT)

## test: install the dev requirements, lint (ruff) and run the whole suite
test: $(VENV)/.dev
	mkdir -p test-artifacts
	$(BIN)/ruff check .
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## test-cluster: the whole suite against a real Redis Cluster (3 primaries, 3 replicas) it starts and stops
test-cluster: $(VENV)/.dev
	mkdir -p test-artifacts
	TEST_REDIS=cluster $(BIN)/python -m pytest --junitxml=test-artifacts/junit-cluster.xml $(PYTEST_ARGS)

## test-sentinel: the whole suite against a primary, a replica and three sentinels it starts and stops
test-sentinel: $(VENV)/.dev
	mkdir -p test-artifacts
	TEST_REDIS=sentinel $(BIN)/python -m pytest --junitxml=test-artifacts/junit-sentinel.xml $(PYTEST_ARGS)

## serve: production server, granian (set REDIS_URL, VERIFY_ENV=production and the secrets first)
# granian is started by `env`, which becomes it, not by a shell (a line that begins with NAME=value
# runs under /bin/sh): make forwards a SIGTERM to its child, and sh died of it, leaving granian running.
serve: $(VENV)/.runtime
	@test -n "$$REDIS_URL" || { echo "make serve needs REDIS_URL (the embedded store is for make run)"; exit 2; }
	@$(FLASK) store-check
	env VERIFY_HEALTH_ADDRESS=$(HEALTH) $(BIN)/granian --interface wsgi --host $(HOST) --port $(PORT) --workers $(CORES) \
		--blocking-threads 1 --backlog 2048 --no-ws \
		--respawn-failed-workers --respawn-interval 1 --workers-kill-timeout 5 --factory wsgi:serve

## bench: load benchmark (not part of `make test`); needs wrk (apt-get install wrk)
bench: $(VENV)/.dev
	$(BIN)/python bench/run.py $(BENCH_ARGS)

## translations: re-extract page texts, merge them into the catalogs, compile (commit the .po and .mo)
translations: $(VENV)/.dev
	$(BIN)/pybabel extract -F babel.cfg -k _l --no-location --omit-header -o verify/translations/messages.pot .
	$(BIN)/pybabel update -i verify/translations/messages.pot -d verify/translations --no-fuzzy-matching
	$(BIN)/pybabel compile -d verify/translations

clean:
	rm -rf $(VENV) test-artifacts .pytest_cache
