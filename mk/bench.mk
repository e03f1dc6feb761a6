# Benchmarks (tests/perf/bench.py): the check against expanding and IPSet baselines, a fleet of
# 1/50/200 sites against a ping floor and Jinja asserts (validate.yml, render.yml, bringup.yml in
# bundle mode), task runs per site, and fifteen looped checks with 1 and 1,000 ranges. Prints
# Markdown tables ending with the targets; the full run takes about 35 minutes.
# `make bench-quick` keeps what the targets need, at smaller sizes, in under three minutes.
# Not part of `make test`: timings are not pass/fail.
#   make bench BENCH_ARGS="--sites 1,10 --skip-check"
BENCH_ARGS ?=
.PHONY: bench bench-quick

bench: venv
	python tests/perf/bench.py $(BENCH_ARGS)

bench-quick: venv
	python tests/perf/bench.py --quick $(BENCH_ARGS)
