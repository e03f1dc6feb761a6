# Molecule scenarios (molecule/README.md), as the `molecule` suite of `make test`:
#   bundle      bringup.yml in bundle mode for the example sites; runs anywhere.
#   edge_nodes  nodes as network namespaces reached over SSH; needs root, skips otherwise.
#   default     a kind cluster; molecule/default/run-or-skip.sh skips it where docker, kind or
#               the node image is missing. Its playbooks get `molecule syntax` either way.
# Every scenario runs even when an earlier one fails; the target fails at the end if any did.
# HOME, ANSIBLE_* and PATH come from the Makefile, so molecule keeps its ephemeral folders
# under $(TEST_HOME)/.ansible/tmp and uses the collection in .build/collections.

TEST_SUITES += molecule

# A scenario's ephemeral folder belongs to the checkout: one bundle run per checkout at a time.
# edge_nodes uses fixed namespace names and a fixed management network: one run per machine,
# whichever checkout it comes from.
MOLECULE_BUNDLE_LOCK ?= $(BUILD)/molecule-bundle.lock
MOLECULE_EDGE_LOCK ?= $(firstword $(wildcard /run/lock) /tmp)/edgeops-molecule-edge_nodes.lock

.PHONY: molecule molecule-bundle molecule-edge_nodes molecule-default

molecule: venv os-packages
	@failed=""; \
	for scenario in bundle edge_nodes default; do \
	  start=$$(date +%s); \
	  if $(MAKE) --no-print-directory molecule-$$scenario; then result=ok; else result=FAILED; failed="$$failed $$scenario"; fi; \
	  echo "molecule/$$scenario: $$result in $$(( $$(date +%s) - start ))s"; \
	done; \
	if [ -n "$$failed" ]; then echo "molecule: failed:$$failed"; exit 1; fi

molecule-bundle: venv
	flock --timeout 1800 $(MOLECULE_BUNDLE_LOCK) molecule test -s bundle

molecule-edge_nodes: venv
	@if [ "$$(id -u)" -ne 0 ]; then \
	  echo "SKIP molecule/edge_nodes: needs root to create network namespaces"; \
	else \
	  echo "molecule test -s edge_nodes"; \
	  flock --timeout 1800 $(MOLECULE_EDGE_LOCK) molecule test -s edge_nodes; \
	fi

molecule-default: venv
	molecule syntax -s default
	molecule/default/run-or-skip.sh
