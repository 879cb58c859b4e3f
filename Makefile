# Two commands do everything on a fresh machine:
#   make up     install what is missing, start the local chain, deploy, serve (Ctrl-C stops)
#   make test   install what is missing, run the whole test suite against a real Anvil
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: install up test bench gas clean

install: $(VENV)/.installed node_modules/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

up: install
	$(BIN)/ipledger up

test: install
	$(BIN)/pytest

gas: install
	$(BIN)/python scripts/gas_report.py

bench: install
	$(BIN)/python scripts/bench_stamp.py
	$(BIN)/python scripts/bench_api.py
	$(BIN)/python scripts/bench_indexer.py

clean:
	rm -rf $(VENV) node_modules .cache

# Security gate (README "Security gate"): slither, slither-check-erc, forge invariants and fuzz,
# halmos, mutation check. FOUNDRY_PROFILE=deep runs the invariants and fuzz tests deeper.
.PHONY: security
security: install
	scripts/security_gate.sh
