# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
# Both create the virtual environment and install the project on first use.
VENV   := .venv
PY     := $(VENV)/bin/python
PYTHON ?= python3
# Re-install whenever pyproject.toml (the one place versions are pinned) changes. The extras
# synth (SDV) and spark (PySpark) come from scripts/install-extras.sh.
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
HOME_DIR ?= primex-home

.PHONY: install demo test lint bench clean

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

lint: install
	$(VENV)/bin/ruff check primex tests benchmarks

test: install
	sh scripts/test-system-deps.sh
	$(VENV)/bin/ruff check primex tests benchmarks
	$(VENV)/bin/pytest -n 2 -q

bench: install
	$(PY) benchmarks/run_all.py

clean:
	rm -rf $(VENV) $(HOME_DIR) .pytest_cache .ruff_cache
