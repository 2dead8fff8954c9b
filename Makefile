# Kehu: `make run` starts the CRM with demo data; `make test` runs the whole suite (SQLite, then PostgreSQL).
# Every target is safe to re-run: nothing is reinstalled unless pyproject.toml, uv.lock or assets.json changed.

PYTHON ?= python3.11
UV_VERSION := 0.13.9
UV := .tools/bin/uv
VENV := .venv
KEHU := $(VENV)/bin/kehu
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: run test setup lint messages openapi demo clean

run: setup
	$(KEHU) migrate --no-input -v0
	$(KEHU) load_regions
	$(KEHU) seed_demo
	$(KEHU) start

test: setup
	scripts/run-tests

setup: $(VENV)/.synced var/assets/.manifest-sha256 locale/.compiled

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --python $(PYTHON) --quiet
	touch $@

var/assets/.manifest-sha256: assets.json scripts/fetch_assets.py | $(VENV)/.synced
	$(VENV)/bin/python scripts/fetch_assets.py

locale/.compiled: $(wildcard locale/*/LC_MESSAGES/*.po) | $(VENV)/.synced
	$(KEHU) compilemessages --ignore=.venv --ignore=.tools -v0
	touch $@

# Developer helpers (not needed to run or test).
lint: setup
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

messages: setup
	$(KEHU) makemessages -l zh_Hans -l en --ignore=.venv --ignore=.tools --ignore=var --no-obsolete
	$(KEHU) makemessages -d djangojs -l zh_Hans -l en --ignore=.venv --ignore=.tools --ignore=var --no-obsolete
	$(KEHU) compilemessages --ignore=.venv --ignore=.tools -v0

openapi: setup
	$(KEHU) export_openapi > docs/openapi.json

clean:
	rm -rf .tools $(VENV) var locale/.compiled
