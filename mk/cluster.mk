# The real control plane bench (DESIGN.md section 7, CONTRIBUTING.md "The cluster bench"):
# etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubectl, kwok and kwokctl, and
# the real programs behind faked pods (CoreDNS, the MetalLB controller), built from the Go module
# proxy at the versions of tests/cluster/versions.env, cached in $(EDGEOPS_BENCH_CACHE) (default
# /var/cache/edgeops-k8s-network) by version.
#   make cluster-build                        build what is missing (the first time: many minutes)
#   make cluster-build ONLY=coredns           build one program (repeatable names, space-separated)
#   make cluster-up INVENTORY=examples/two-node   start it for a site; writes .build/cluster/cluster.env
#   make cluster-kubectl ARGS='get nodes -o wide'
#   make cluster-down                         stop every process it started, remove .build/cluster
#   make cluster                              the `cluster` suite: the bench proven, then the
#                                             bring-up tests of test_bringup_apply on the real server
#   make cluster-bringup                      only those bring-up tests (tests/cluster/test_bringup_real.py)

TEST_SUITES += cluster

INVENTORY ?= examples/two-node
PORT ?=
CLUSTER_WORKDIR ?= $(BUILD)/cluster
ARGS ?= get nodes -o wide

.PHONY: cluster cluster-build cluster-up cluster-down cluster-kubectl cluster-bringup

ONLY ?=

cluster-build: venv
	nice -n 19 python tests/cluster/build.py $(foreach name,$(ONLY),--only $(name))

cluster-up: venv
	python tests/cluster/cluster.py up --inventory $(INVENTORY) --workdir $(CLUSTER_WORKDIR) $(if $(PORT),--port $(PORT))

cluster-down:
	@if [ -x $(BIN)/python ]; then $(BIN)/python tests/cluster/cluster.py down --workdir $(CLUSTER_WORKDIR); \
	else python3 tests/cluster/cluster.py down --workdir $(CLUSTER_WORKDIR); fi

cluster-kubectl:
	@set -a; . $(CLUSTER_WORKDIR)/cluster.env; set +a; "$$KUBECTL" $(ARGS)

# Builds first (with progress) so that the build's time shows apart from the tests'; where Go or
# the proxy is missing, build.py exits 3 and the suite's fixture skips (fails with CI=true).
cluster: venv
	@rc=0; nice -n 19 python tests/cluster/build.py || rc=$$?; \
	if [ "$$rc" -ne 0 ] && [ "$$rc" -ne 3 ]; then exit "$$rc"; fi; \
	pytest $(PYTEST_FLAGS) tests/cluster

cluster-bringup: venv
	nice -n 19 python tests/cluster/build.py
	pytest $(PYTEST_FLAGS) tests/cluster/test_bringup_real.py
