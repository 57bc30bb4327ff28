# Two commands do everything: `make demo` (the main job) and `make test` (the test suite).
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin

.PHONY: install build demo test test-quick test-full clean

$(VENV)/.installed: requirements-dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -r requirements-dev.txt
	$(BIN)/pip install -q --no-deps -e .
	touch $@

install: $(VENV)/.installed
	@command -v bwrap >/dev/null || { echo "Falta bubblewrap, que aísla cada entrega al calificar: sudo apt-get install bubblewrap"; exit 1; }

build: install  ## regenerate release/ and solutions/ from source/
	$(BIN)/course build

demo: install  ## build every lab, then autograde a perfect, a blank and a half-done submission of each
	$(BIN)/course demo

test: install  ## the whole suite: helpers, builds, sandbox, nbgrader end to end on every lab, the full profile's dry run
	$(BIN)/pytest tests -p no:cacheprovider

test-full: install  ## the full profile's dry run alone: every answer key in the Colab code path, offline, COURSE_MAX_STEPS=2
	$(BIN)/pytest tests/test_full_profile.py -p no:cacheprovider

test-quick: install  ## the fast subset, without the slow end-to-end tests
	$(BIN)/pytest tests -m "not slow" -p no:cacheprovider

clean:
	rm -rf calificaciones gradebook.db submitted autograded feedback
