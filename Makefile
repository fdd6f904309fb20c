# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
# Both create the virtual environment and install the project on first use.
VENV   := .venv
PY     := $(VENV)/bin/python
PYTHON ?= python3
# Re-install whenever pyproject.toml (the one place versions are pinned) changes.
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
HOME_DIR ?= primex-home

.PHONY: install demo serve test lint bench clean

$(STAMP): pyproject.toml scripts/install-extras.sh
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check --upgrade pip
	$(PY) -m pip install -q --disable-pip-version-check -e '.[dev]'
	sh scripts/install-extras.sh $(PY)
	rm -f $(VENV)/.installed-*
	touch $@

install: $(STAMP)

demo: install
	$(VENV)/bin/primex --home $(HOME_DIR) demo

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

bench: install
	$(PY) benchmarks/run_all.py

clean:
	rm -rf $(VENV) $(HOME_DIR) $(HOME_DIR)-serve .pytest_cache .ruff_cache
