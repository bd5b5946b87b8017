# Quick start (see README): `make demo` runs tagger on a bundled sample; `make test` runs the test suite.
# Both create .venv with Python 3.11 and install tagger into it first.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
OUT    := out

.PHONY: install demo serve test test-all lint system-deps clean

$(BIN)/tagger: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# torch pinned to the CPU build (see pyproject); installed first so nothing pulls a CUDA build
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e ".[dev]"
	touch $@

install: $(BIN)/tagger

demo: install
	$(BIN)/tagger run data_samples/session_audio.mp3 -o $(OUT)/demo --note md --note html --note pdf
	$(BIN)/tagger tag data_samples/cbt_session.csv -o $(OUT)/cbt_session.jsonl
	@echo; echo "== $(OUT)/demo (first lines of the note) =="; ls $(OUT)/demo; head -n 40 $(OUT)/demo/*.note.md

# the clinician web app on http://127.0.0.1:8000/ (SQLite and files in ./tagger-data); add a user first:
#   .venv/bin/tagger users add NAME
serve: install
	$(BIN)/tagger serve

system-deps:
	bash .ci/system-deps

test: install system-deps
	$(BIN)/python -m pytest -q -n 2 --dist loadfile

test-all: install system-deps
	$(BIN)/python -m pytest -q -n 2 --dist loadfile -m ""

lint: install
	$(BIN)/ruff check tagger tests training eval

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache
