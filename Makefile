# Two commands matter: `make demo` and `make test`. Everything else is a building block.
VENV   ?= .venv
PYTHON ?= python3
BIN     = $(VENV)/bin
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: install install-test browser demo test lint bench bench-pages bench-browser clean

# What the app needs; the demo installs no more (the test tools add about a quarter to the install time).
install: $(VENV)/.installed

# uv resolves and fetches in parallel (about 30 s against pip's 50, bytecode compiled as pip does);
# pip is the fallback where uv cannot be installed.
$(VENV)/.installed: setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(call pip_install,-e .)
	touch $@

pip_install = ($(BIN)/python -m pip install --quiet uv && \
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python $(1)) || \
	$(BIN)/python -m pip install --quiet $(1)

# The app and the test tools (pytest, selenium, ruff...).
install-test: $(VENV)/.installed-test

$(VENV)/.installed-test: $(VENV)/.installed
	$(call pip_install,-e ".[test]")
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
