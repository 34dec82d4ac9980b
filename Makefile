# Task runner. `make test` and `make demo` set everything up on first run (a Python 3.11 venv
# from requirements.lock, node_modules from package-lock.json, the solc adapter, the page's age
# bundle, Debian's chromium for the web page tests, its `age` for the encryption interop
# tests and its PostgreSQL 15 server for the service's database tests); each set-up step runs
# again only when its inputs change, so a no-op `make setup` takes well under 2 s.
#
#   make setup | compile | test [TESTS="tests/x.py -k name"] | demo | bench | fuzz | lint | clean
#   make fuzz      a long campaign of the stateful model test (tests/contracts/test_stateful.py):
#                  MODEL_EXAMPLES programs of MODEL_STEPS steps per token (default 500 x 200:
#                  600,000 steps over the six tokens; `make test` runs 60 x 150); also
#                  MODEL_TOKENS=blocklist,reentrant (a subset), MODEL_SEED=n (replay a run),
#                  MODEL_SAFE_RULES=0 (leave out the rules the outside review added, to run
#                  the model against the escrow as it was before the fixes), e.g.
#                  make fuzz MODEL_EXAMPLES=2000 MODEL_TOKENS=fee-on-transfer
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
# The PostgreSQL server the service's tests start (scripts/postgres_server.py): Debian's 15.
PG_BIN ?= /usr/lib/postgresql/15/bin
export PG_BIN
# The reference age CLI, the outside check of the encryption interop tests (tests/confidential).
AGE ?= /usr/bin/age
export AGE

# Stamps live inside what they describe, so deleting .venv, node_modules or .solcx resets them.
PY_STAMP := $(VENV)/.installed
FUZZ_STAMP := $(FUZZ_VENV)/.installed
NODE_STAMP := node_modules/.installed
SOLC_STAMP := .solcx/.installed
# age-encryption and its @noble/@scure imports in one ES module, served at /app/vendor/age.js.
AGE_BUNDLE := build/vendor/age.js

.PHONY: setup compile test demo bench fuzz serve lint lock lock-fuzz clean distclean

setup: $(PY_STAMP) $(FUZZ_STAMP) $(NODE_STAMP) $(SOLC_STAMP) $(AGE_BUNDLE) $(CHROMIUM) $(AGE) \
	$(PG_BIN)/pg_ctl

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

# The page has no build step and its CSP allows no import map: one self-contained module.
$(AGE_BUNDLE): tools/vendor/age.js $(NODE_STAMP)
	esbuild $< --bundle --format=esm --minify --log-level=warning --outfile=$@

$(CHROMIUM):
	tools/install-chromium.sh

$(AGE):
	tools/install-age.sh

$(PG_BIN)/pg_ctl:
	tools/install-postgres.sh

compile: setup
	brownie compile

# The whole check, as CI runs it: lint (ruff, mypy, solhint, slither), then the suite on anvil,
# in three worker processes (pytest-xdist as brownie drives it: each worker launches its own
# anvil on the next port), a test file per worker at a time. Three on two cores: the suite
# waits on anvil, the IPFS node, the browser and the service's polling for much of its time,
# and two workers left about a third of the CPU idle. The longest files first (tests/conftest.py
# LONGEST_FIRST): xdist keeps the collection's order of files only when told not to reorder them.
# TEST_WORKERS=0: one process.
TEST_WORKERS ?= 3
test: setup lint
	brownie test $(if $(filter-out 0,$(TEST_WORKERS)),-n $(TEST_WORKERS) --dist loadfile \
	  --no-loadscope-reorder) $(TESTS)

demo: setup
	brownie run scripts/demo.py --silent

bench: setup
	brownie run scripts/bench.py --silent
	brownie run scripts/bench_uploads.py --silent
	brownie run scripts/bench_indexer.py --silent

# A night's run, in two parts (each a budget of its own, see the header):
# - the stateful model test of the escrow at a campaign's budget (MODEL_EXAMPLES x MODEL_STEPS
#   per token); it prints its throughput and what it reached per token, and a minimal failing
#   program if it finds one;
# - schemathesis over every route of the live service on anvil for FUZZ_SECONDS (default 600,
#   where `make test` runs a fixed 20 cases per operation and phase), failing on any 5xx or any answer the OpenAPI document does not
#   describe; a new seed each time (`make test` keeps seed 12), printed to replay a run.
MODEL_EXAMPLES ?= 500
MODEL_STEPS ?= 200
FUZZ_SECONDS ?= 600
FUZZ_SEED ?= $(shell date +%s)
fuzz: setup
	MODEL_EXAMPLES=$(MODEL_EXAMPLES) MODEL_STEPS=$(MODEL_STEPS) \
	  brownie test tests/contracts/test_stateful.py -s
	FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_SEED=$(FUZZ_SEED) brownie test tests/service/test_fuzz_api.py -s

# The evidence service on 127.0.0.1:8000 (OpenAPI at /docs), against a local anvil.
serve: setup
	brownie compile >/dev/null
	tools/serve.sh

# solhint (.solhint.json) keeps the few rules that catch real mistakes or keep the house style:
# security (tx.origin, unchecked send, reentrancy patterns, low-level calls), visibility,
# unused code and imports, custom errors instead of revert strings, naming (immutables and
# constants UPPER_CASE), and inline assembly or empty blocks only where a disable comment
# says why. Left out: NatSpec on every line (the interfaces carry it; implementations use
# @inheritdoc), gas hints that would change storage layouts measured by `make bench`, and
# the leading-underscore rule (it cannot tell UPPER_CASE constants from variables). Test
# doubles under contracts/test/ imitate real tokens, revert strings and all (.solhintignore).
# mypy: backend/ and scripts/ typed, brownie's dynamic contracts and accounts named as Protocols or Any at
# its boundary. tools/check_structure.py: no Python (backend/, scripts/) or JS (web/js/) file
# over 400 lines, no import cycle in backend/ or web/js/.
lint: setup
	ruff check $(wildcard scripts tests backend tools)
	ruff format --check $(wildcard scripts tests backend tools)
	mypy backend scripts
	solhint --max-warnings 0 'contracts/**/*.sol'
	@$(MAKE) --no-print-directory $(SLITHER_STAMP)
	python tools/check_structure.py

# slither compiles the escrow anew each run (a minute or more on this machine): it runs again
# only when what it reads changes (the contracts, its settings, solc and OpenZeppelin in
# package-lock.json, slither itself in requirements.lock), and a clean report leaves the stamp.
SLITHER_STAMP := build/.slither-clean
$(SLITHER_STAMP): $(shell find contracts -name '*.sol') slither.config.json tools/slither.sh \
		package-lock.json requirements.lock
	tools/slither.sh
	@mkdir -p $(@D) && touch $@

lock:
	tools/lock-python.sh

lock-fuzz:
	tools/lock-fuzz.sh

clean:
	rm -rf build reports .pytest_cache .hypothesis .ruff_cache .mypy_cache schemathesis-report
	find . -name __pycache__ -type d -not -path './$(VENV)/*' -not -path './node_modules/*' -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) $(FUZZ_VENV) node_modules .solcx
