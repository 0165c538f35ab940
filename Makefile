# `make quick` sets up a fresh machine and runs the main job; `make test` runs the tests.
.PHONY: setup quick test bench lint

setup:
	@bash scripts/setup.sh

quick: setup
	.venv/bin/synthgap styles
	.venv/bin/synthgap sheet --style wikipedia --out out/sheets/wikipedia.png

test: setup
	.venv/bin/python -m pytest -q

bench: setup
	.venv/bin/tox -e bench

lint: setup
	.venv/bin/tox -e lint
