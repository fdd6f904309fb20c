# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
# Both create the virtual environment and install the project on first use.
VENV   := .venv
PY     := $(VENV)/bin/python
PYTHON ?= python3
# Re-install whenever pyproject.toml (the one place versions are pinned) changes. The extras
# synth (SDV) and spark (PySpark) come from scripts/install-extras.sh.
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
HOME_DIR ?= primex-home

.PHONY: install demo demo-networked demo-service serve test fuzz lint bench clean

$(STAMP): pyproject.toml scripts/install-extras.sh
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check --upgrade pip
	$(PY) -m pip install -q --disable-pip-version-check -e '.[dev]'
	sh scripts/install-extras.sh $(PY)
	rm -f $(VENV)/.installed-*
	touch $@

install: $(STAMP)

# The whole flow in one home (every example request, the dashboard), then the three parties
# as three homes and three processes on localhost: the BCSS linkage service, the SPP service
# and the committee's remote witness, on two example requests (examples/networked/: one table,
# one microdata, both linked at the BCSS); it prints where each key lives.
demo: install
	$(VENV)/bin/primex --home $(HOME_DIR) demo
	$(VENV)/bin/primex --home $(HOME_DIR)-net demo --networked --persons 4000 \
		--examples examples/networked

# Only the three parties, on every example request (no dashboard: docs/statistician.md).
demo-networked: install
	$(VENV)/bin/primex --home $(HOME_DIR)-net demo --networked

# One request end to end THROUGH `primex serve` on localhost: each person acts with the remote
# CLI (`--server URL`, every call signed with their key), the service runs the jobs.
demo-service: install
	$(VENV)/bin/python -m primex.service.demo_flow $(HOME_DIR)-service

# The service on 127.0.0.1 with the embedded database, demo accounts and a demo OpenID
# Provider (tests/oidc, pinned by its package-lock; needs Node.js); prints how to log in.
serve: install
	cd tests/oidc && npm ci --no-audit --no-fund --loglevel=error
	$(VENV)/bin/primex --home $(HOME_DIR)-serve serve demo --oidc-provider tests/oidc/provider.js

lint: install
	$(VENV)/bin/ruff check primex tests benchmarks

test: install
	sh scripts/test-system-deps.sh
	$(VENV)/bin/ruff check primex tests benchmarks
	$(VENV)/bin/pytest -n 2 -q

# Property-based exploration on purpose: random seeds and many more examples than `make test`
# (which runs the same properties derandomised). The spec loader and validator properties run
# 50 000 examples each (over 100 000 for the loader and for the validator); every other
# property 20x its test-suite count. Hypothesis prints any failing example with its blob.
fuzz: install
	PRIMEX_HYPOTHESIS_PROFILE=fuzz PRIMEX_FUZZ_MIN=50000 $(VENV)/bin/pytest -n 2 -q \
		-p no:cacheprovider --hypothesis-show-statistics tests/test_requests_fuzz.py
	PRIMEX_HYPOTHESIS_PROFILE=fuzz PRIMEX_FUZZ_FACTOR=20 PRIMEX_FUZZ_MIN=200 $(VENV)/bin/pytest \
		-n 2 -q -p no:cacheprovider --hypothesis-show-statistics \
		--ignore=tests/test_requests_fuzz.py

bench: install
	$(PY) benchmarks/run_all.py

clean:
	rm -rf $(VENV) $(HOME_DIR) $(HOME_DIR)-serve $(HOME_DIR)-service $(HOME_DIR)-net $(HOME_DIR)-net-bcss \
		$(HOME_DIR)-net-committee .pytest_cache .ruff_cache
