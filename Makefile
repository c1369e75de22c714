# Two commands matter: `make demo` and `make test`. Everything else is a building block.
VENV   ?= .venv
PYTHON ?= python3
BIN     = $(VENV)/bin
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: install install-test browser demo test lint bench bench-pages bench-browser clean

# What the app needs; the demo installs no more (the test tools add about a quarter to the install time).
install: $(VENV)/.installed

$(VENV)/.installed: setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

# The app and the test tools (pytest, selenium, ruff...).
install-test: $(VENV)/.installed-test

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@

# Debian's Chromium and ChromeDriver for the browser tests.
browser:
	@if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then \
		$(SUDO) apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; \
	fi

demo: install
	$(BIN)/c360 demo

# Test files are spread over up to 4 worker processes (pytest-xdist), each with its own databases.
test: install-test browser
	$(BIN)/pytest -n auto --maxprocesses 4 --dist loadfile

lint: install-test
	$(BIN)/ruff check .

bench: install
	$(BIN)/python bench/etl.py

bench-pages: install
	$(BIN)/python bench/pages.py

bench-browser: install-test
	$(BIN)/python bench/browser.py

clean:
	rm -rf $(VENV) var .pytest_cache
