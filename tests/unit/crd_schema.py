"""Validate rendered custom resources against the real upstream CRDs.

The CRDs live outside the project, in ``../shared/schemas/upstream`` (override with
``EDGEOPS_UPSTREAM_SCHEMAS``). Every object node gets ``additionalProperties: false``
injected, as the API server prunes or rejects unknown fields, so that a misspelt field
fails here instead of vanishing on the cluster.
"""

import copy
import glob
import os

import jsonschema
import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _find_shared(variable, *parts):
    """``$variable``, else ``shared/<parts>`` beside the checkout or an ancestor of it."""
    if os.environ.get(variable):
        return os.environ[variable]
    beside = os.path.join(os.path.dirname(ROOT), "shared", *parts)
    folder = os.path.dirname(ROOT)
    while True:
        candidate = os.path.join(folder, "shared", *parts)
        if os.path.isdir(candidate):
            return candidate
        if os.path.dirname(folder) == folder:
            # Not found: name the usual place, so the skip reason says where to put it.
            return beside
        folder = os.path.dirname(folder)


def _find_upstream():
    """``EDGEOPS_UPSTREAM_SCHEMAS``, else ``shared/schemas/upstream`` beside the checkout or an ancestor."""
    return _find_shared("EDGEOPS_UPSTREAM_SCHEMAS", "schemas", "upstream")


UPSTREAM = _find_upstream()
# The real upstream release manifests and checksums.yml (PROVENANCE.md there says what they are).
RELEASES = _find_shared("EDGEOPS_RELEASES", "releases")

# (group, kind) -> project folder and version used for validation by default
DEFAULT_RELEASES = {
    "metallb.io": "metallb/v0.16.1",
    "crd.projectcalico.org": "calico/v3.32.1",
    "operator.tigera.io": "tigera-operator/v1.42.3",
}

_cache = {}


def upstream_available():
    return os.path.isdir(UPSTREAM)


requires_upstream = pytest.mark.skipif(
    not upstream_available(), reason="upstream CRD schemas not found at %s" % UPSTREAM
)


requires_releases = pytest.mark.skipif(
    not os.path.isdir(RELEASES), reason="upstream release manifests not found at %s (set EDGEOPS_RELEASES)" % RELEASES
)


def release_file(component, version, name):
    """Path of a real release manifest under RELEASES (which may not exist)."""
    return os.path.join(RELEASES, component, version, name)


def _closed(schema):
    """Copy of ``schema`` with additionalProperties: false on every object with properties."""
    schema = copy.deepcopy(schema)

    def walk(node):
        if isinstance(node, dict):
            if node.get("type") == "object" and "properties" in node and "additionalProperties" not in node \
                    and not node.get("x-kubernetes-preserve-unknown-fields"):
                node["additionalProperties"] = False
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    return schema


def crd_schema(group, kind, version, release=None):
    release = release or DEFAULT_RELEASES[group]
    key = (group, kind, version, release)
    if key not in _cache:
        found = None
        for path in glob.glob(os.path.join(UPSTREAM, release, "*.yaml")):
            with open(path) as handle:
                crd = yaml.safe_load(handle)
            if crd.get("kind") != "CustomResourceDefinition":
                continue
            if crd["spec"]["group"] == group and crd["spec"]["names"]["kind"] == kind:
                for served in crd["spec"]["versions"]:
                    if served["name"] == version:
                        found = served["schema"]["openAPIV3Schema"]
        if found is None:
            raise LookupError("no CRD for %s/%s %s in %s" % (group, version, kind, release))
        _cache[key] = _closed(found)
    return _cache[key]


def validate_custom_resource(obj, release=None):
    """Raise ``jsonschema.ValidationError`` when ``obj`` breaks its CRD's schema."""
    group, version = obj["apiVersion"].split("/", 1)
    schema = crd_schema(group, obj["kind"], version, release)
    jsonschema.Draft7Validator(schema).validate(obj)


def crds_in(objects):
    """The closed schemas of the CRDs among ``objects``: ``{(group, version, kind): schema}``."""
    found = {}
    for obj in objects:
        if not isinstance(obj, dict) or obj.get("kind") != "CustomResourceDefinition":
            continue
        spec = obj["spec"]
        for served in spec["versions"]:
            found[(spec["group"], served["name"], spec["names"]["kind"])] = _closed(served["schema"]["openAPIV3Schema"])
    return found


def validate_against(obj, crds):
    """Raise ``LookupError`` when ``crds`` lacks the object's CRD, ``ValidationError`` when it breaks it."""
    group, version = obj["apiVersion"].split("/", 1)
    key = (group, version, obj["kind"])
    if key not in crds:
        raise LookupError("no CRD for %s/%s %s" % (group, version, obj["kind"]))
    jsonschema.Draft7Validator(crds[key]).validate(obj)
