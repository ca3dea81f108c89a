# Lantern: `make run` starts everything, `make test` runs the tests. `make help` lists all.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Settings live in .env, read by the `lantern` command (Python, bot/core/settings.py read_dotenv):
# make never parses it (secrets are not make syntax) and exports nothing to its children.

# Rasa 3.6 needs Python 3.10: use PYTHON310 if given, else the first candidate that really
# runs 3.10 (pyenv's shims exist even when no 3.10 is selected, so each one is tried).
ifndef PYTHON310
PYTHON310 := $(shell for p in $(wildcard $(shell pyenv root 2>/dev/null)/versions/3.10*/bin/python3.10) \
	$(wildcard $(HOME)/.pyenv/versions/3.10*/bin/python3.10) python3.10 /usr/local/bin/python3.10 \
	/usr/bin/python3.10; do "$$p" -c 'import sys; assert sys.version_info[:2] == (3, 10)' >/dev/null 2>&1 \
	&& { command -v "$$p"; break; }; done)
endif
VENV := .venv
PY := $(VENV)/bin/python
LANTERN := $(VENV)/bin/lantern
STAMP := $(VENV)/.installed
# Every transitive package, pinned with hashes (made on Linux x86_64; elsewhere pyproject.toml is used).
LOCK := requirements.lock
LOCKED_PLATFORM := $(filter Linux-x86_64,$(shell uname -s)-$(shell uname -m))
PIP_TOOLS := $(VENV)-tools
FINGERPRINT = $(shell $(PYTHON310) bot/tools/fingerprint.py)
MODEL = models/lantern-$(FINGERPRINT).tar.gz
CATALOG_PO := $(wildcard locales/*/LC_MESSAGES/*.po) $(wildcard bot/staff/translations/*/LC_MESSAGES/*.po)
CATALOG_MO := $(CATALOG_PO:.po=.mo)

.PHONY: help python venv lock run test test-fast train chat lint typecheck catalogs compile-catalogs \
	lang-check bench bench-nlu bench-handoff bench-conversation bench-resources bench-soak audit staff-user import-resources clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

python:
	@if [ -z "$(PYTHON310)" ]; then \
	  echo "Lantern needs Python 3.10 (Rasa 3.6 does not run on 3.11+)."; \
	  echo "Install it, e.g. 'pyenv install 3.10' or 'apt-get install python3.10 python3.10-venv',"; \
	  echo "or point make at one: make run PYTHON310=/path/to/python3.10"; exit 1; fi

$(STAMP): pyproject.toml $(LOCK) | python
	@echo ">> Creating the Python 3.10 environment in $(VENV) (first time: about 2-4 minutes)..."
	@test -x $(PY) || $(PYTHON310) -m venv $(VENV)
ifneq (,$(LOCKED_PLATFORM))
	@$(PY) -m pip install --quiet --require-hashes --no-deps -r $(LOCK)
	@$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
else
	@echo ">> $(LOCK) was made on Linux x86_64: installing from pyproject.toml without hashes here."
	@$(PY) -m pip install --quiet --upgrade pip
	@$(PY) -m pip install --quiet -e ".[dev]"
endif
	@touch $@
	@echo ">> Environment ready."

venv: $(STAMP) ## Create the Python environment (done automatically by run/test)

lock: $(STAMP) ## Pin the tested environment with hashes into requirements.lock (after changing pyproject.toml)
	@test -x $(PIP_TOOLS)/bin/pip-compile || { $(PYTHON310) -m venv $(PIP_TOOLS) && \
		$(PIP_TOOLS)/bin/pip install --quiet pip-tools; }
	@$(PY) -m pip freeze --all --exclude-editable > $(PIP_TOOLS)/tested.txt
	@{ sed -n '1,3p' $(LOCK); echo; $(PIP_TOOLS)/bin/pip-compile --quiet --generate-hashes --allow-unsafe \
		--no-header --no-annotate --no-emit-index-url --no-emit-find-links --output-file - \
		$(PIP_TOOLS)/tested.txt; } > $(LOCK).new && mv $(LOCK).new $(LOCK)
	@echo ">> $(LOCK): $$(grep -c '==' $(LOCK)) packages pinned with hashes."

%.mo: %.po $(STAMP)
	@$(VENV)/bin/pybabel compile -i $< -o $@ >/dev/null

compile-catalogs: $(CATALOG_MO)

catalogs: $(STAMP) ## Extract the bot's, canned replies' and console's messages, update and compile every catalog
	$(VENV)/bin/pybabel extract -F babel.cfg -k 'message:1c,2' --no-default-keywords --no-location \
		--project Lantern --copyright-holder "Lantern contributors" -o locales/messages.pot .
	$(VENV)/bin/pybabel update --no-fuzzy-matching -i locales/messages.pot -d locales --ignore-obsolete
	$(VENV)/bin/pybabel extract -k 'canned:1c,2' --no-default-keywords --no-location \
		--project Lantern --copyright-holder "Lantern contributors" -o locales/canned.pot bot/staff/canned.py
	$(VENV)/bin/pybabel update --no-fuzzy-matching -i locales/canned.pot -d locales -D canned --ignore-obsolete
	$(VENV)/bin/pybabel extract -F bot/staff/babel.cfg --no-location -o bot/staff/translations/console.pot .
	$(VENV)/bin/pybabel update -i bot/staff/translations/console.pot -d bot/staff/translations -D messages --ignore-obsolete
	$(MAKE) compile-catalogs

lang-check: $(STAMP) ## Check every language: completeness, placeholders, SMS segments, NLU examples
	$(LANTERN) lang-check --report bench/results/segments.tsv

models/lantern-%.tar.gz: | $(STAMP)
	@echo ">> Training the Rasa model (data or config changed; about 1-3 minutes)..."
	@mkdir -p models
	@TF_CPP_MIN_LOG_LEVEL=3 $(VENV)/bin/rasa train --quiet --config config.yml --domain domain \
		--data intents --out models --fixed-model-name lantern-$* >/dev/null
	@find models -name 'lantern-*.tar.gz' ! -name 'lantern-$*.tar.gz' -delete
	@echo ">> Model trained: $@"

train: $(STAMP) ## Train the Rasa model when training data or config changed
	@$(MAKE) --no-print-directory $(MODEL)

run: $(STAMP) compile-catalogs train ## Start Redis (if needed), Rasa, actions and the gateway on :5000
	@$(LANTERN) run

test: $(STAMP) compile-catalogs train ## Run the whole test suite against the real stack
	$(PY) -m pytest

test-fast: $(STAMP) compile-catalogs ## Run the tests that need no trained model
	$(PY) -m pytest -m "not stack and not browser and not rasa"

chat: $(STAMP) ## Text the running gateway from the terminal, signed like Twilio
	@$(LANTERN) chat $(ARGS)

lint: $(STAMP) ## Ruff
	$(VENV)/bin/ruff check bot webhooks tests bench

typecheck: $(STAMP) ## Mypy (strict)
	$(VENV)/bin/mypy bot webhooks

bench: $(STAMP) compile-catalogs train ## Gateway vs Rasa latency and throughput -> bench/results/gateway.md
	$(PY) -m bench.gateway

bench-nlu: $(STAMP) ## NLU accuracy/macro-F1 per language, training time -> bench/results/nlu.md
	$(PY) -m bench.nlu

bench-handoff: $(STAMP) compile-catalogs train ## Risk message to console event latency -> bench/results/handoff.md
	$(PY) -m bench.handoff

bench-conversation: $(STAMP) compile-catalogs train ## Replay whole conversations per language -> bench/results/conversation.md
	$(PY) -m bench.conversation

bench-resources: $(STAMP) compile-catalogs ## Lookup latency, a number in the first reply -> bench/results/resources.md
	$(PY) -m bench.resources

bench-soak: $(STAMP) compile-catalogs train ## 2 gateways + 2 Rasa under steady load, Redis and Rasa killed -> bench/results/soak.md
	$(PY) -m bench.soak $(ARGS)

audit: $(STAMP) compile-catalogs train ## Privacy scan of Redis and logs after a scripted conversation
	$(PY) -m bench.audit

staff-user: $(STAMP) ## Create a staff account: make staff-user USER=name ROLE=staff|supervisor LANGUAGES=sw,en
	@$(LANTERN) staff-user create "$(USER)" --role "$(or $(ROLE),staff)" --languages "$(LANGUAGES)"

import-resources: $(STAMP) ## Convert a CSV directory: make import-resources CSV=file.csv OUT=directory/x.yml
	$(LANTERN) import-resources "$(CSV)" "$(OUT)"

clean: ## Remove the environment, models and compiled catalogs
	rm -rf $(VENV) models $(CATALOG_MO)
