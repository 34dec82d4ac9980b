# Task runner. `make test` and `make demo` set everything up on first run (a Python 3.11 venv
# from requirements.lock, node_modules from package-lock.json, the solc adapter, Debian's
# chromium for the web page tests); each set-up step runs again only when its inputs change,
# so a no-op `make setup` takes well under 2 s.
#
#   make setup | compile | test [TESTS="tests/x.py -k name"] | demo | bench | fuzz | lint | clean
#   make lock      re-resolve requirements.lock after editing pyproject.toml's dependencies
#   make lock-fuzz re-resolve requirements-fuzz.lock (schemathesis, in its own venv)

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := test
.DELETE_ON_ERROR:

PYTHON ?= python3.11
VENV := .venv
# schemathesis (the API fuzzer) cannot share .venv: it needs hypothesis >= 6.130 and brownie
# pins 6.27.3. Its own venv, from its own lock; the tests run its CLI against a live service.
FUZZ_VENV := .venv-fuzz
TESTS ?=

# Tools come from the venv and node_modules (anvil, which brownie's `development` network
# launches). No `solc` goes on PATH: py-solc-x finds the adapter in SOLCX_BINARY_PATH.
export PATH := $(CURDIR)/$(VENV)/bin:$(CURDIR)/node_modules/.bin:$(PATH)
export SOLCX_BINARY_PATH := $(CURDIR)/.solcx
unexport VIRTUAL_ENV PYTHONHOME
# brownie 1.22.2 warns "rpc.X should not be called directly" at its own internal calls. pytest
# filters them (pyproject.toml); this does the same for `brownie run` (demo, bench).
RPC_WARNING = ignore:rpc.$(1) should not be called directly:FutureWarning
export PYTHONWARNINGS := $(call RPC_WARNING,snapshot),$(call RPC_WARNING,revert),$(call RPC_WARNING,mine),$(call RPC_WARNING,sleep)

# The browser the web page tests drive (tests/web): Debian's chromium unless set.
CHROMIUM ?= /usr/bin/chromium
export CHROMIUM

# Stamps live inside what they describe, so deleting .venv, node_modules or .solcx resets them.
PY_STAMP := $(VENV)/.installed
FUZZ_STAMP := $(FUZZ_VENV)/.installed
NODE_STAMP := node_modules/.installed
SOLC_STAMP := .solcx/.installed

.PHONY: setup compile test demo bench fuzz serve lint lock lock-fuzz clean distclean

setup: $(PY_STAMP) $(FUZZ_STAMP) $(NODE_STAMP) $(SOLC_STAMP) $(CHROMIUM)

$(VENV)/bin/python:
	$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), sys.version'
	$(PYTHON) -m venv $(VENV)

$(PY_STAMP): requirements.lock pyproject.toml tools/sync-venv.sh | $(VENV)/bin/python
	tools/sync-venv.sh $(VENV)
	touch $@

# Made anew whenever its lock changes: exactly the locked versions, nothing left over.
$(FUZZ_STAMP): requirements-fuzz.lock
	rm -rf $(FUZZ_VENV)
	$(PYTHON) -m venv $(FUZZ_VENV)
	$(FUZZ_VENV)/bin/python -m pip --disable-pip-version-check install -qq --no-deps -r requirements-fuzz.lock
	$(FUZZ_VENV)/bin/python -m pip --disable-pip-version-check check
	touch $@

$(NODE_STAMP): package-lock.json package.json
	npm ci --no-audit --no-fund
	touch $@

$(SOLC_STAMP): $(NODE_STAMP) brownie-config.yaml tools/setup-solc.sh
	tools/setup-solc.sh
	touch $@

$(CHROMIUM):
	tools/install-chromium.sh

compile: setup
	brownie compile

# The whole check, as CI runs it: lint (ruff, slither), then the test suite on anvil.
test: setup lint
	brownie test $(TESTS)

demo: setup
	brownie run scripts/demo.py --silent

bench: setup
	brownie run scripts/bench.py --silent
	brownie run scripts/bench_uploads.py --silent
	brownie run scripts/bench_indexer.py --silent

# A deeper schemathesis run than the everyday one in `make test` (FUZZ_SECONDS, default 600,
# instead of 60): every route of the live service on anvil, failing on any 5xx, any answer
# the OpenAPI document does not describe.
# A new seed each time (`make test` keeps seed 12); schemathesis prints it to replay a run.
FUZZ_SECONDS ?= 600
FUZZ_SEED ?= $(shell date +%s)
fuzz: setup
	FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_SEED=$(FUZZ_SEED) brownie test tests/service/test_fuzz_api.py -s

# The evidence service on 127.0.0.1:8000 (OpenAPI at /docs), against a local anvil.
serve: setup
	brownie compile >/dev/null
	tools/serve.sh

lint: setup
	ruff check $(wildcard scripts tests backend)
	ruff format --check $(wildcard scripts tests backend)
	tools/slither.sh

lock:
	tools/lock-python.sh

lock-fuzz:
	tools/lock-fuzz.sh

clean:
	rm -rf build reports .pytest_cache .hypothesis .ruff_cache .mypy_cache schemathesis-report
	find . -name __pycache__ -type d -not -path './$(VENV)/*' -not -path './node_modules/*' -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) $(FUZZ_VENV) node_modules .solcx
