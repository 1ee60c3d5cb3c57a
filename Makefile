# infopoint: `make run` starts the bot, `make test` runs every check. Both set up .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PO := $(wildcard locales/*/LC_MESSAGES/infopoint.po)
MO := $(PO:.po=.mo)

.PHONY: run chat test bench bench-reports bench-matrix bench-soak bench-engine bench-capacity bench-kills lint typecheck migrate migration i18n-extract i18n-update i18n-compile clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

## run: the bot on every configured messenger; a console chat when none is (SQLite in var/)
run: $(STAMP) $(MO)
	$(BIN)/python -m bot run

## chat: a console chat with the bot
chat: $(STAMP) $(MO)
	$(BIN)/python -m bot chat

## test: lint, type check, and the whole test suite (PostgreSQL tests included)
test: $(STAMP) $(MO) lint typecheck
	$(BIN)/python -m pytest

## bench: retrieval against a plain BM25 baseline (prints the table the README quotes)
bench: $(STAMP) $(MO)
	$(BIN)/python -m bench.retrieval

## bench-reports: report timings over a million generated contacts (SQLite; DB=postgres too)
bench-reports: $(STAMP)
	$(BIN)/python -m bench.reports --rows $(or $(ROWS),1000000) --db $(or $(DB),sqlite)

## bench-matrix: round-trip latency on a local Synapse, the bot against a bare echo bot
bench-matrix: $(STAMP) $(MO)
	$(BIN)/python -m bench.matrix --messages $(or $(N),200)

## bench-soak: the bot process under N messages from M people with faults, against an echo bot
## (needs PostgreSQL on 127.0.0.1:5432, which it restarts once)
bench-soak: $(STAMP) $(MO)
	$(BIN)/python -m bench.soak --messages $(or $(N),100000) --people $(or $(M),5000) --rate $(or $(RATE),100)

## bench-engine: CPU time and SQL statements per message in the dialogue engine alone
## (DB=sqlite, or PostgreSQL on 127.0.0.1:5432 by default)
bench-engine: $(STAMP) $(MO)
	$(BIN)/python -m bench.engine_cpu --db $(or $(DB),postgres)

## bench-capacity: the bot's and the echo bot's throughput, latency and CPU per message, in turns
bench-capacity: $(STAMP) $(MO)
	$(BIN)/python -m bench.capacity --rounds 3 --messages $(or $(N),4000) --paced 3000

## bench-kills: many kill -9s of the bot under steady load; messages lost and repeated per kill
## (needs PostgreSQL on 127.0.0.1:5432)
bench-kills: $(STAMP) $(MO)
	$(BIN)/python -m bench.kill_window --kills $(or $(KILLS),30) --rate $(or $(RATE),100)

lint: $(STAMP)
	$(BIN)/ruff check bot bench tests hatch_build.py db/env.py
	$(BIN)/ruff format --check bot bench tests hatch_build.py db/env.py

typecheck: $(STAMP)
	$(BIN)/mypy

## migrate: bring the database to the newest schema
migrate: $(STAMP)
	$(BIN)/python -m bot db upgrade

## migration: write a new migration from the models, e.g. make migration m="add tickets"
migration: $(STAMP)
	mkdir -p var
	$(BIN)/alembic upgrade head
	$(BIN)/alembic revision --autogenerate -m "$(m)"

## i18n-extract: collect the UI strings of bot/ into locales/infopoint.pot
i18n-extract: $(STAMP)
	$(BIN)/pybabel extract --no-location --omit-header --sort-output -o locales/infopoint.pot bot

## i18n-update: merge new strings from the template into every language's .po
i18n-update: i18n-extract
	$(BIN)/pybabel update --width 100 --ignore-obsolete -d locales -D infopoint -i locales/infopoint.pot

## i18n-compile: compile .po to .mo (also done by run, chat and test)
i18n-compile: $(MO)

%.mo: %.po $(STAMP)
	$(BIN)/pybabel compile --statistics -D infopoint -i $< -o $@

clean:
	rm -rf $(VENV) dist build .mypy_cache .pytest_cache .ruff_cache $(MO)
