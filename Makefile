# consent-ledger — `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help
CARGO ?= cargo
PYTHON ?= python3
VENV ?= $(CURDIR)/.venv
PREFIX ?= /usr/local
export CARGO_TERM_COLOR ?= never

.PHONY: help demo test test-rust test-c test-py test-browser test-postgres header header-check abi-snapshot lint bench bench-compare bench-latency bench-downstream fuzz soak install develop wheel clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

demo: ## Play the seeds' scenario on a fresh ledger (the README's main job)
	$(CARGO) build --release -p consent-cli
	bash examples/ljmu/demo.sh target/release/consent

TEST_PARTS := lint test-rust header-check test-c test-py test-browser test-postgres

test: ## Every test: lint, Rust, C, Python, the browser and PostgreSQL (each part timed)
	@start=$$(date +%s); for part in $(TEST_PARTS); do \
		t=$$(date +%s); $(MAKE) --no-print-directory $$part || exit 1; \
		echo "== make $$part: $$(( $$(date +%s) - t )) s"; \
	done; echo "make test: all suites passed in $$(( $$(date +%s) - start )) s"

test-rust: ## Rust unit, property, integration and CLI tests
	$(CARGO) test --workspace --release

test-postgres: ## Rust, C and Python suites on a throwaway PostgreSQL cluster (installs Debian's postgresql if missing; CONSENT_TEST_PG_URL: use that server; Python: the wheel test-py built)
	CARGO="$(CARGO)" VENV="$(VENV)" bash tools/tests/pg-cluster.sh run -- bash tools/tests/postgres.sh

test-browser: ## The receipt verifier page and the DPO's report in headless Chromium (installs Debian's chromium if missing)
	CARGO="$(CARGO)" bash tools/tests/browser.sh

test-c: ## C example and C tests (valgrind), header as C++, symbols, ABI snapshot, install (also into /usr/local in a mount namespace)
	bash consent-ffi/tests/run.sh

# Made again (in place) when the pinned tools change, so an existing venv gets them too.
$(VENV)/bin/activate: consent-py/requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r consent-py/requirements-dev.txt
	touch $@

test-py: $(VENV)/bin/activate ## Build and check the published wheel (tag, auditwheel, licences, stripped), install it into a local venv, run pytest + stubtest
	VENV=$(VENV) bash consent-py/tests/run.sh

header: ## Regenerate consent-ffi/include/consent.h with cbindgen
	bash consent-ffi/tests/header.sh write

header-check: ## Fail when the checked-in header differs from a fresh cbindgen run
	bash consent-ffi/tests/header.sh check

abi-snapshot: ## Record libconsent's ABI (consent-ffi/tests/abi/libconsent.abi) after a deliberate change; make test-c compares with it
	$(CARGO) build --release -p consent-ffi
	bash consent-ffi/tests/abi.sh write

lint: ## rustfmt, clippy -D warnings, rustdoc -D warnings, `cargo package` of the crates.io crates without a warning
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	RUSTDOCFLAGS=-Dwarnings $(CARGO) doc --workspace --no-deps --lib
	CARGO="$(CARGO)" PYTHON="$(PYTHON)" bash tools/tests/package.sh

bench: ## Criterion benchmarks (10k, 100k, 1M events; CONSENT_BENCH_10M=1 adds 10M)
	$(CARGO) bench -p consent-benches

bench-compare: ## One run: ledger vs plain SQLite vs a Python sqlite3 script, from Rust, C and Python
	bash benches/compare.sh

bench-latency: ## Withdrawal latency during a long import (CONSENT_LATENCY_ROWS, default 200000; LATENCY_RUNS)
	$(CARGO) build --release -p consent-cli -p consent-benches
	$(CARGO) run --release -p consent-benches --bin lock_latency -- $(LATENCY_RUNS)

bench-downstream: ## A downstream's feed, acknowledgement and deadlines on large ledgers (SIZES, default 100000 1000000)
	$(CARGO) run --release -p consent-benches --bin downstream_latency -- $(SIZES)

fuzz: ## cargo-fuzz (nightly): canonical decoder, parsers, import rows; FUZZ_SECONDS each (default 60)
	bash fuzz/fuzz.sh

soak: ## The reliability suite with hundreds of crash rounds and large tamper/fuzz counts
	bash reliability/soak.sh

install: ## Build and install, stripped, libconsent (versioned .so and links, sealed .a), consent.h, consent.pc and the `consent` CLI under PREFIX (STRIP=true: keep debug info)
	bash consent-ffi/tests/install.sh "$(PREFIX)"

develop: $(VENV)/bin/activate ## Install the Python package into the local venv, editable
	$(VENV)/bin/maturin develop --release -m consent-py/Cargo.toml

wheel: $(VENV)/bin/activate ## The Python wheel to publish, in target/wheels (abi3, manylinux_2_17, stripped; checked)
	VENV=$(VENV) bash consent-py/tests/wheel.sh target/wheels

clean: ## Remove build output and the venv
	$(CARGO) clean
	rm -rf $(VENV)
