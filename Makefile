# privscan: `make demo` sets everything up and audits the bundled examples; `make test` runs the tests.
.PHONY: setup setup-dev demo test lint examples bench clean

VENV := .venv
BIN := $(VENV)/bin

setup:
	@scripts/setup.sh

setup-dev:
	@scripts/setup.sh dev

demo: setup
	$(BIN)/privscan audit examples/ --out out/demo
	@echo "reports: out/demo/report.json, out/demo/report.html"

# one pytest-xdist worker per core (at most 4: each loads its own models); a test file stays on one worker,
# so a module's fixture (a trained model) is built once
JOBS ?= $(shell n=$$(nproc 2>/dev/null || echo 1); [ $$n -gt 4 ] && n=4; echo $$n)

test: lint
	$(BIN)/pytest -q -n $(JOBS) --dist loadfile

# ruff, then mypy (its configuration, strict on io/report/engine/detectors, is in pyproject.toml)
lint: setup-dev
	$(BIN)/ruff check .
	$(BIN)/mypy

examples: setup-dev
	$(BIN)/python examples/make_examples.py

bench: setup-dev
	@for f in benchmarks/bench_*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

clean:
	rm -rf $(VENV) out .pytest_cache .ruff_cache .mypy_cache
