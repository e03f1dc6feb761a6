"""Small release files and their checksum table, shared by the release_manifests and site_bundle tests.

The bytes stand in for the upstream files; the tables pin them by sha256 exactly as
plugins/module_utils/releases.py pins the real ones, so a test changes one byte to
see a refusal.
"""

import hashlib

import yaml

CALICO = b"kind: CustomResourceDefinition\n"
OPERATOR = yaml.safe_dump({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "tigera-operator"},
                           "spec": {"template": {"spec": {"containers": [
                               {"name": "op", "image": "quay.io/tigera/operator:v1.42.3"}]}}}}).encode()
METALLB = b"kind: Namespace\n"


def sha(data):
    return hashlib.sha256(data).hexdigest()


TABLES = {
    "calico": {"v3.32.1": {"files": {"operator-crds.yaml": sha(CALICO), "tigera-operator.yaml": sha(OPERATOR)},
                           "images": {"tigera-operator.yaml": ["quay.io/calico/typha:v3.32.1"]}}},
    "metallb": {"v0.16.1": {"files": {"metallb-native.yaml": sha(METALLB)}}},
}


def releases(calico_dir="", metallb_dir="", calico_version="v3.32.1", metallb_sha=""):
    """The `releases` option the roles pass: Calico by version from the table, MetalLB by a given sha256."""
    return [
        {"component": "calico", "version": calico_version, "dir": calico_dir, "table": TABLES["calico"],
         "base_url": "https://example.invalid/calico",
         "files": [{"name": "operator-crds.yaml", "variable": "calico_operator_crds_sha256"},
                   {"name": "tigera-operator.yaml", "variable": "calico_tigera_operator_sha256"}]},
        {"component": "metallb", "version": "v0.16.1", "dir": metallb_dir, "table": TABLES["metallb"],
         "files": [{"name": "metallb-native.yaml", "sha256": metallb_sha, "variable": "metallb_manifest_sha256",
                    "url": "https://example.invalid/metallb/metallb-native.yaml"}]},
    ]
