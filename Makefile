# Two commands matter: `make run` (the main job on the embedded model) and `make test`.
# Both create .venv when missing and are quick when everything is already installed.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.selftaught-installed
SYSSTAMP := $(VENV)/.selftaught-sysdeps
RUN_DIR ?= runs/latest
RUN_ARGS ?=

.PHONY: setup sysdeps run test lint format bench bench-efficacy clean

setup: $(STAMP) $(SYSSTAMP)

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# llama-cpp-python compiles llama.cpp for this CPU (-march=native), but without AMX: some virtual
# machines list AMX in /proc/cpuinfo yet trap its tile instructions, and the model then died on
# its first batch with SIGILL (exit code 132). (GGML_AMX_* do nothing beside -march=native.)
# `make setup NO_AMX=` on a fresh .venv builds llama.cpp its own way.
# pip's own wheel cache ignores CMAKE_ARGS: a wheel it once built with AMX came back in CI and
# crashed the suite. So the wheel is built here, without pip's cache, into a folder named after
# the flags, and reused from there by later setups on this machine.
NO_AMX ?= -mno-amx-tile -mno-amx-int8 -mno-amx-bf16
LLAMA_VERSION := $(shell sed -n 's/.*"llama-cpp-python==\([^"]*\)".*/\1/p' pyproject.toml)
LLAMA_FLAGS_ID := $(shell echo '$(LLAMA_VERSION) $(NO_AMX)' | md5sum | cut -c1-12)
LLAMA_WHEELS ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/selftaught/llama-wheels/$(LLAMA_FLAGS_ID)
$(STAMP): pyproject.toml | $(VENV)/bin/python
	ls $(LLAMA_WHEELS)/llama_cpp_python-$(LLAMA_VERSION)-*.whl >/dev/null 2>&1 || \
		CMAKE_ARGS='-DCMAKE_C_FLAGS="$(NO_AMX)" -DCMAKE_CXX_FLAGS="$(NO_AMX)" '"$$CMAKE_ARGS" \
		$(BIN)/python -m pip wheel --quiet --no-cache-dir --no-deps \
		'llama-cpp-python==$(LLAMA_VERSION)' -w $(LLAMA_WHEELS)
	$(BIN)/python -m pip install --quiet --no-deps --force-reinstall $(LLAMA_WHEELS)/llama_cpp_python-$(LLAMA_VERSION)-*.whl
	$(BIN)/python -m pip install --quiet -e '.[embedded,ray,dev]'
	touch $@

# System packages for the sandbox layers (bubblewrap). Installed when we are root and they are missing;
# otherwise `selftaught doctor` reports the missing layer and the sandbox falls back.
$(SYSSTAMP): scripts/install-sysdeps.sh | $(VENV)/bin/python
	bash scripts/install-sysdeps.sh
	touch $@

run: setup
	$(BIN)/selftaught run --out $(RUN_DIR) $(RUN_ARGS)

lint: setup
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy src

format: setup
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

test: lint
	$(BIN)/python -m pytest

# The efficacy benchmark runs a language model for up to an hour: `make bench-efficacy`, not `bench`.
bench: setup
	for b in bench/bench_*.py; do [ $$b = bench/bench_efficacy.py ] && continue; \
		echo "== $$b"; $(BIN)/python $$b || exit 1; done

# Efficacy of improvers with the embedded model (default profile, under 40 minutes on 2 cores);
# BENCH_ARGS=--quick for a few minutes, --full for every improver (hours). See bench/bench_efficacy.py.
BENCH_ARGS ?=
bench-efficacy: setup
	PYTHONPATH=src $(BIN)/python bench/bench_efficacy.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .ruff_cache
