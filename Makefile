# Every target documents itself: `make help` lists them.
.DEFAULT_GOAL := help
SHELL := /bin/bash

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

# durable-rules' C engine allocates per decision; these glibc settings keep its
# cost steady (measured: ~29 µs per decision instead of ~80 µs).
export MALLOC_MMAP_THRESHOLD_ := 16777216
export MALLOC_TRIM_THRESHOLD_ := 67108864

.PHONY: help venv run test lint format typecheck redis-server pytest test-slow data proto bench bench-overload bench-training soak profile clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[training,dev,bench]'
	@rm -f $(VENV)/.installed-* && touch $@

venv: $(STAMP) ## create .venv and install the project with all extras

run: venv ## train a model on sample data if none is registered, then serve it on localhost:50051
	$(BIN)/training bootstrap
	$(BIN)/decision serve

test: lint typecheck pytest ## lint, type-check and run the whole test suite

lint: venv ## ruff check + format check
	$(BIN)/ruff check --output-format concise .
	$(BIN)/ruff format --check .

format: venv ## apply ruff's formatting and safe fixes
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

typecheck: venv ## mypy --strict on decision/, training/ and bench/
	$(BIN)/mypy

# MovieLens 100k, as shipped inside the recbole wheel on PyPI (the real-data check; not redistributed here)
MOVIELENS := var/cache/wheels/recbole-1.2.1-py3-none-any.whl

$(MOVIELENS):
	$(BIN)/python -m pip download --quiet --disable-pip-version-check --no-deps --dest var/cache/wheels recbole==1.2.1

data: venv $(MOVIELENS) ## fetch the real public log the tests train on (MovieLens 100k inside a PyPI wheel)

redis-server: ## install Debian's redis-server if missing (the tests start their own on a free port)
	@command -v redis-server >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq redis-server >/dev/null; \
	  else echo "redis-server is missing: sudo apt-get install redis-server" >&2; exit 1; fi; }

pytest: venv redis-server data ## the test suite only
	$(BIN)/python -m pytest -q -m "not slow"

test-slow: venv ## the long soak/scale tests
	$(BIN)/python -m pytest -q -m slow

proto: venv ## regenerate decision/v1 from protos/
	$(BIN)/python scripts/generate_protos.py

bench-training: venv ## training time and peak memory at 100k and 1M events (several minutes)
	$(BIN)/python bench/training_bench.py

soak: venv ## memory over 10^6 decisions, 10^4 rule reloads, 10^3 model swaps on a real server (about 35 minutes here; writes bench/results/soak/)
	$(BIN)/python -m bench.soak $(SOAK_FLAGS)

profile: venv ## where Decide spends its time under load (py-spy; writes bench/results/profile-*)
	$(BIN)/training bootstrap
	$(BIN)/python bench/profile.py --case decide_model

bench: venv ## run the benchmark suite (about 3.5 minutes; writes bench/results/)
	$(BIN)/training bootstrap
	$(BIN)/python bench/run.py --out bench/results

bench-overload: venv ## RESOURCE_EXHAUSTED latency at 4x overload, health, recovery (writes bench/results/overload/)
	$(BIN)/training bootstrap
	$(BIN)/python bench/overload.py --out bench/results/overload

clean: ## remove the venv, caches and runtime state (var/)
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache .hypothesis
