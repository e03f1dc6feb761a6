# Molecule scenarios (molecule/README.md), as the `molecule` suite of `make test`:
#   bundle      bringup.yml in bundle mode for the example sites; runs anywhere.
#   edge_nodes  nodes as network namespaces reached over SSH; needs root, skips otherwise.
#   cluster     the site on the real control plane bench (tests/cluster, DESIGN.md section 7):
#               bringup.yml in apply mode, then the site's IPPool, a LoadBalancer address and a
#               service name on the real programs. Needs root and the bench's binaries (built
#               here when missing, as the `cluster` suite does). MOLECULE_SITE_INVENTORY=<path>
#               brings up that site instead of examples/two-node.
#   default     a kind cluster; molecule/default/run-or-skip.sh skips it where docker, kind or
#               the node image is missing. Its playbooks get `molecule syntax` either way.
#               converge and verify are molecule/shared's, as for cluster.
# Every scenario runs even when an earlier one fails; the target fails at the end if any did.
# HOME, ANSIBLE_* and PATH come from the Makefile, so molecule keeps its ephemeral folders
# under $(TEST_HOME)/.ansible/tmp and uses the collection in .build/collections.

TEST_SUITES += molecule

# A scenario's ephemeral folder belongs to the checkout: one bundle run per checkout at a time.
# edge_nodes uses fixed namespace names and a fixed management network: one run per machine,
# whichever checkout it comes from.
MOLECULE_BUNDLE_LOCK ?= $(BUILD)/molecule-bundle.lock
MOLECULE_EDGE_LOCK ?= $(firstword $(wildcard /run/lock) /tmp)/edgeops-molecule-edge_nodes.lock
# The cluster scenario's bench lives in the checkout's ephemeral folder: one run per checkout.
MOLECULE_CLUSTER_LOCK ?= $(BUILD)/molecule-cluster.lock
# The site the cluster scenario brings up (an inventory path; made absolute for molecule).
MOLECULE_SITE_INVENTORY ?=

.PHONY: molecule molecule-bundle molecule-edge_nodes molecule-cluster molecule-default

molecule: venv os-packages
	@failed=""; \
	for scenario in bundle edge_nodes cluster default; do \
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

# As the `cluster` suite: build what is missing first (with progress); where Go or the module
# proxy is missing, build.py exits 3 and the scenario skips saying so (fails with CI=true).
molecule-cluster: venv
	@if [ "$$(id -u)" -ne 0 ]; then \
	  echo "SKIP molecule/cluster: needs root (the MetalLB controller's pod network, the bench's routes)"; exit 0; \
	fi; \
	rc=0; nice -n 19 python tests/cluster/build.py || rc=$$?; \
	if [ "$$rc" -eq 3 ]; then \
	  if [ "$${CI:-}" = true ]; then echo "molecule/cluster: the bench cannot be built in CI"; exit 1; fi; \
	  echo "SKIP molecule/cluster: the bench's binaries are not built and cannot be built here"; exit 0; \
	elif [ "$$rc" -ne 0 ]; then exit "$$rc"; fi; \
	$(if $(MOLECULE_SITE_INVENTORY),export MOLECULE_SITE_INVENTORY=$(abspath $(MOLECULE_SITE_INVENTORY));) \
	echo "molecule test -s cluster$(if $(MOLECULE_SITE_INVENTORY), (site $(abspath $(MOLECULE_SITE_INVENTORY))))"; \
	flock --timeout 1800 $(MOLECULE_CLUSTER_LOCK) molecule test -s cluster

molecule-default: venv
	molecule syntax -s default
	molecule/default/run-or-skip.sh
