# Two commands do everything: `make demo` (the main job) and `make test` (the test suite).
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin

.PHONY: install build demo test test-quick test-full mutation clean

$(VENV)/.installed: requirements-dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -r requirements-dev.txt
	$(BIN)/pip install -q --no-deps -e .
	touch $@

install: $(VENV)/.installed

build: install  ## regenerate release/ and solutions/ from source/
	$(BIN)/course build

demo: install  ## build every lab, then autograde a perfect, a blank and a half-done submission of each
	$(BIN)/course demo

test: install  ## the whole suite: helpers, builds, sandbox, nbgrader end to end on every lab, the full profile's dry run
	$(BIN)/pytest tests -p no:cacheprovider --durations=25

test-full: install  ## the full profile's dry run alone: every answer key in the Colab code path, offline, COURSE_MAX_STEPS=2
	$(BIN)/pytest tests/test_full_profile.py -p no:cacheprovider

test-quick: install  ## the fast subset, without the slow end-to-end tests
	$(BIN)/pytest tests -m "not slow" -p no:cacheprovider

# Mutation testing (config: [tool.mutmut] in pyproject.toml, which names the modules left out; accepted
# survivors: mutation-survivors.md). Each mutant runs only the quick tests that reach its function; then
# a score per module. Results stay in mutants/: a second run only tries mutants without a result
# (`make clean` starts over). Each run has a cache folder of its own, filled with the real code by mutmut's
# mapping pass (so its map of tests is made again): a mutant that decodes FER-2013 wrongly must never leave
# its arrays where later tests, or yours, read them; and conftest.py removes whatever one mutant damaged there
# before the next one runs (a run prints who did).
MUTATION_JOBS ?= 2
mutation: install  ## mutation score of each module of helpers against the quick tests
	rm -rf .mutation-cache mutants/mutmut-stats.json
	XDG_CACHE_HOME=$(CURDIR)/.mutation-cache $(BIN)/mutmut run --max-children $(MUTATION_JOBS) > mutants.log 2>&1 \
		|| { tail -c 3000 mutants.log; exit 1; }
	@if [ -s .mutation-cache/mutacion-datos.log ]; then echo "Mutants that damaged the shared stand-ins (see conftest.py;"\
		"each was rebuilt after them, and only a mutant running at the same time could have read the damage):"; \
		cat .mutation-cache/mutacion-datos.log; fi
	@$(BIN)/python mutation_scores.py

clean:
	rm -rf mutants mutants.log .mutation-cache calificaciones gradebook.db submitted autograded feedback
