# `make quick` sets up a fresh machine and runs the main job; `make test` runs the tests.
.PHONY: setup quick test bench bench-ci lint sheets zoo fragility

setup:
	@bash scripts/setup.sh

# The main job: the quick grid on the CPU, then its tables. results/quick/ was made with
# `make quick QUICK_OUT=results/quick`. Its runs are zoo entries, so it only evaluates: one worker
# per core, one torch thread each (GRID_WORKERS=1 for one worker on all cores).
QUICK_OUT ?= out/quick
GRID_WORKERS ?= 2
quick: setup
	.venv/bin/synthgap run grids/quick.toml --out $(QUICK_OUT) --workers $(GRID_WORKERS)
	.venv/bin/synthgap report $(QUICK_OUT)

# The three model families of the zoo on wikipedia under the paper's shifts (results/fragility/).
fragility: setup
	.venv/bin/synthgap run grids/fragility.toml --out results/fragility --workers $(GRID_WORKERS)
	.venv/bin/synthgap report results/fragility

# The model zoo (results/zoo): train the entries that are missing or stale, then list them all.
# Hours of CPU; resumable (finished entries stay). ZOO_ONLY='wikipedia-*' limits it.
ZOO_ONLY ?= *
zoo: setup
	.venv/bin/synthgap zoo build results/zoo --only '$(ZOO_ONLY)'
	.venv/bin/synthgap zoo list results/zoo

test:
	@bash scripts/setup.sh --test
	.venv/bin/python -m pytest -q

bench: setup
	.venv/bin/tox -e bench

# CI's share of the benchmarks: speed regressions judged as same-run ratios (bench/bench_ratio.py).
bench-ci: setup
	.venv/bin/python -m pytest bench/bench_ratio.py -q -o python_files='bench_*.py' \
		-o 'python_functions=bench_*' --benchmark-only --benchmark-columns=min,rounds

lint: setup
	.venv/bin/tox -e lint

# Committed contact sheets (results/sheets/README.md): synthetic seed 0 beside real images, the
# first files of a folder (look 0) or, for captcha_v2, the seeded look set of 100 (the rest of that
# folder is the report set, never looked at).
REAL ?= ../shared/data
SHEETS = wikipedia:wikipedia-sample:0 facebook:facebook-sample:0 captcha_v2:captcha_images_v2:100 \
	wikipedia_confirmedit:wikipedia-sample:0 wikipedia_confirmedit_noise:wikipedia-sample:0 \
	facebook_look:facebook-sample:0
sheets: setup
	@for spec in $(SHEETS); do \
		style=$${spec%%:*}; rest=$${spec#*:}; real=$(REAL)/$${rest%%:*}; look=$${rest#*:}; \
		.venv/bin/synthgap sheet --style $$style --real $$real --look $$look --seed 0 -n 8 \
			--out results/sheets/$$style.png && \
		.venv/bin/synthgap sheet --style $$style --elastic --real $$real --look $$look --seed 0 -n 8 \
			--out results/sheets/$$style-elastic.png || exit 1; \
	done
