# edgeops.k8s_network: development and CI entry points.
#
#   make demo     set up, then check the example site and render its bring-up as a bundle
#   make test     set up, then run every suite that can run here (the CI job, see .ci/run)
#
# Everything installs itself from PyPI (and, as root, Debian apt); nothing comes from Galaxy.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

ROOT := $(CURDIR)
BUILD := $(ROOT)/.build
VENV := $(ROOT)/.venv
BIN := $(VENV)/bin
PYTHON ?= python3
export PYTHON

# Tools write state under $HOME (ansible-test virtual environments, ansible temp files,
# ansible-lint caches). Keep it inside the build folder so a run leaves the real home alone
# and `make clean` removes it; `make TEST_HOME=$$HOME ...` keeps the usual home instead.
TEST_HOME ?= $(BUILD)/home
export HOME := $(TEST_HOME)
export ANSIBLE_LOCAL_TMP := $(TEST_HOME)/.ansible/tmp
export ANSIBLE_REMOTE_TMP := $(TEST_HOME)/.ansible/tmp
export ANSIBLE_COLLECTIONS_PATH := $(BUILD)/collections
export PATH := $(BIN):$(PATH)
export PIP_DISABLE_PIP_VERSION_CHECK := 1

# -rs: every skipped test is listed with its reason, so a skip is never silent.
PYTEST_FLAGS ?= -p no:cacheprovider -rs -o asyncio_default_fixture_loop_scope=function
# The integration suite runs its tests in parallel (pytest-xdist): each test starts its own
# emulated API on a free port and works in its own tmp_path, and its network namespaces carry
# the worker's pid. auto is one worker per CPU; INTEGRATION_WORKERS=0 runs in one process.
INTEGRATION_WORKERS ?= auto
DEMO_INVENTORY ?= examples/single-node
# Check the site and print its compute network, then bring it up: the example site sets
# k8s_network_mode=bundle (no cluster here), so bringup renders the bundle and lists it.
DEMO_PLAYBOOKS ?= playbooks/validate.yml playbooks/bringup.yml

# Debian packages the suites need: sshd for network-namespace nodes, ping/arping for the probe,
# shellcheck so that `ansible-test sanity` checks shell scripts instead of skipping them, unzip for
# the offline install of docs/scenarios/air-gapped.md.
OS_PACKAGES ?= openssh-server iputils-ping iputils-arping shellcheck unzip

# The suites `make test` runs, in this order. A later suite adds itself from its own file,
# e.g. mk/molecule.mk holding a `molecule:` target and `TEST_SUITES += molecule`, and
# mk/runner.mk likewise for `runner`; no edit of this Makefile is needed.
TEST_SUITES := unit integration sanity lint build-check
-include $(wildcard $(ROOT)/mk/*.mk)

.PHONY: help venv os-packages test $(TEST_SUITES) unit integration sanity lint build-check demo clean

help:
	@echo "make demo         check examples/single-node, then render its bring-up as a bundle"
	@echo "make test         venv, OS packages (as root), then: $(TEST_SUITES)"
	@echo "make venv         .venv and .build/collections (idempotent)"
	@echo "make unit | integration | sanity | lint | build-check   one suite"
	@echo "make clean        remove .venv, .build, .cache and test output"

venv: $(TEST_HOME)
	@scripts/bootstrap.sh

$(TEST_HOME):
	@mkdir -p $(TEST_HOME)/.ansible/tmp

# As root, install what is missing (one apt-get update, only when something is); otherwise
# say what is missing and go on: the suites that need it skip or fail on their own.
os-packages:
	@missing=""; \
	for p in $(OS_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' "$$p" 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then \
	  echo "os-packages: not root or no apt-get; not installing:$$missing"; exit 0; \
	fi; \
	echo "os-packages: installing$$missing"; \
	export DEBIAN_FRONTEND=noninteractive; \
	apt-get update -qq; \
	apt-get install -y -qq --no-install-recommends $$missing >/dev/null

# Every suite runs even when an earlier one fails, so one CI run shows all that is red;
# the target fails at the end if any did.
test: venv os-packages
	@failed=""; summary=""; \
	for suite in $(TEST_SUITES); do \
	  echo "=== $$suite"; start=$$(date +%s); \
	  if $(MAKE) --no-print-directory $$suite; then result=ok; else result=FAILED; failed="$$failed $$suite"; fi; \
	  summary="$$summary$$(printf '%-14s %-7s %4ss' "$$suite" "$$result" "$$(( $$(date +%s) - start ))")\n"; \
	done; \
	echo "=== summary"; printf "$$summary"; \
	if [ -n "$$failed" ]; then echo "make test: failed:$$failed"; exit 1; fi

unit: venv
	pytest $(PYTEST_FLAGS) tests/unit

# Integration tests drive ansible-playbook against an emulated Kubernetes API. Until the
# folder holds a test module there is nothing to run, which is not the same as pytest's
# "no tests ran" (a failure): say so and go on.
integration: venv
	@if [ -n "$$(find tests/integration -name 'test_*.py' -o -name '*_test.py' 2>/dev/null | head -n 1)" ]; then \
	  echo "pytest $(PYTEST_FLAGS) -n $(INTEGRATION_WORKERS) tests/integration"; \
	  pytest $(PYTEST_FLAGS) -n $(INTEGRATION_WORKERS) tests/integration; \
	else \
	  echo "integration: no test modules under tests/integration yet; skipped"; \
	fi

sanity: venv
	scripts/sanity.sh

lint: venv
	ansible-lint

build-check: venv
	scripts/build-check.sh

demo: venv
	@for p in $(DEMO_PLAYBOOKS); do \
	  echo "ansible-playbook $$p -i $(DEMO_INVENTORY)"; ansible-playbook "$$p" -i $(DEMO_INVENTORY); \
	done

clean:
	rm -rf .venv .build .cache tests/output collections .pytest_cache .hypothesis .benchmarks
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
