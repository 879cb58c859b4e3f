# Two commands do everything on a fresh machine:
#   make up     install what is missing, start the local chain, deploy, serve (Ctrl-C stops)
#   make test   install what is missing, run the whole test suite against a real Anvil
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: install up test test-nodes bench gas clean wheel

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

# Two workers (or up to four on a bigger machine): the browser tests stay together in one
# (tests/web/conftest.py), the chain tests share the other; each worker has its own Anvil.
test: install
	$(BIN)/pytest -n auto --maxprocesses=4 --dist loadgroup

# The node matrix (README "Running on another EVM chain"): the chain-facing suites on Hardhat's node and Ganache.
test-nodes: install
	IPLEDGER_TEST_NODE=hardhat $(BIN)/pytest -n auto --maxprocesses=4 --dist loadgroup tests/contracts tests/ledger
	IPLEDGER_TEST_NODE=ganache $(BIN)/pytest -n auto --maxprocesses=4 --dist loadgroup tests/contracts tests/ledger

# The installable wheel (README "Installing the wheel"): compiled contracts and served npm files inside.
wheel: install
	$(BIN)/python -m pip wheel --no-deps -w dist .

gas: install
	$(BIN)/python scripts/gas_report.py

bench: install
	$(BIN)/python scripts/bench_stamp.py
	$(BIN)/python scripts/bench_api.py
	$(BIN)/python scripts/bench_indexer.py
	$(BIN)/python scripts/bench_sealing.py --dir /dev/shm

clean:
	rm -rf $(VENV) node_modules .cache build dist

# Security gate (README "Security gate"): slither, slither-check-erc, forge invariants and fuzz,
# halmos, mutation check. FOUNDRY_PROFILE=deep runs the invariants and fuzz tests deeper.
.PHONY: security
security: install
	scripts/security_gate.sh
