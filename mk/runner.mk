# The AWX suite, tests/awx: the execution environment (ansible-builder create), the survey and
# the job template playbook (awx.awx), and jobs run through ansible-runner as AWX runs them.
# It lives outside tests/integration so that `make integration` does not run it a second time.
TEST_SUITES += runner

.PHONY: runner awx-collection

# awx.awx is not on PyPI on its own and Galaxy is unreachable: it comes from the same `ansible`
# wheel that scripts/bootstrap.sh takes kubernetes.core from, into a collections path of its own
# so that .build/collections stays what bootstrap.sh made it.
AWX_COLLECTIONS := $(BUILD)/awx-collections
ANSIBLE_WHEEL_VERSION ?= 12.3.0

runner: venv awx-collection
	pytest $(PYTEST_FLAGS) tests/awx

awx-collection: venv
	@if [ ! -f "$(AWX_COLLECTIONS)/ansible_collections/awx/awx/MANIFEST.json" ]; then \
	  wheel="$$(ls .cache/ansible-*-py3-none-any.whl 2>/dev/null | tail -n 1)"; \
	  if [ -z "$$wheel" ]; then \
	    mkdir -p .cache; \
	    python -m pip download -q --no-deps "ansible==$(ANSIBLE_WHEEL_VERSION)" -d .cache; \
	    wheel="$$(ls .cache/ansible-*-py3-none-any.whl | tail -n 1)"; \
	  fi; \
	  echo "awx-collection: awx.awx from $$wheel"; \
	  python -c 'import sys, zipfile; zf = zipfile.ZipFile(sys.argv[1]); zf.extractall(sys.argv[2], [n for n in zf.namelist() if n.startswith("ansible_collections/awx/awx/")])' \
	    "$$wheel" "$(AWX_COLLECTIONS)"; \
	fi

# ansible-lint checks docs/awx/create_job_template.yml as a playbook: its awx.awx modules must resolve.
lint: awx-collection
lint: export ANSIBLE_COLLECTIONS_PATH := $(BUILD)/collections:$(AWX_COLLECTIONS)
