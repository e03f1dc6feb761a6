# Benchmarks (tests/perf/bench.py): the check against expanding and IPSet baselines, and a
# fleet of 1/50/200 sites against a ping floor and Jinja asserts. Prints Markdown tables;
# takes several minutes. Not part of `make test`: timings are not pass/fail.
#   make bench BENCH_ARGS="--sites 1,10 --skip-check"
BENCH_ARGS ?=
.PHONY: bench

bench: venv
	python tests/perf/bench.py $(BENCH_ARGS)
