# Set-up is part of every target: a fresh machine needs nothing but python3.
VENV ?= .venv
PYTHON ?= python3
STAMP := $(VENV)/.installed

.PHONY: demo test lint-rules clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[test]'
	touch $(STAMP)

# analyze the seed's example (exit code 1 means "findings", which is the point here)
demo: $(STAMP)
	@$(VENV)/bin/analyze sample_dockerfiles/jupyter-kaggle/Dockerfile; rc=$$?; [ $$rc -le 1 ]

test: $(STAMP)
	$(VENV)/bin/python -m pytest -q

# regenerate the rule table in README.md from rules/
lint-rules: $(STAMP)
	$(VENV)/bin/python tools/rule_table.py --write README.md

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
