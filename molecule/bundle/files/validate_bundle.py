"""Validate every object of a bundle folder against the upstream schemas.

Usage: validate_bundle.py PROJECT_DIR BUNDLE_DIR

Custom resources (Calico's operator, MetalLB) are checked against the upstream CRDs with
tests/unit/crd_schema.py, the same closed schemas the unit tests use; everything else against
the Kubernetes API schemas of kubernetes-validate, strictly. An object that neither knows fails.
Prints one JSON document: for each file its objects ("apiVersion Kind namespace/name"), kinds,
the schemas that validated them, and the parsed documents; then every error. Exits 1 when
anything failed to parse or validate.
"""

import json
import os
import sys

import kubernetes_validate
import yaml

KUBERNETES_VERSION = "1.33"


def load_crd_schema(project_dir):
    sys.path.insert(0, os.path.join(project_dir, "tests", "unit"))
    import crd_schema  # pylint: disable=import-outside-toplevel

    if not crd_schema.upstream_available():
        # Custom resources then go unchecked, and the report says so; core kinds still are.
        sys.stderr.write("SKIP custom resources: upstream CRD schemas not found at %s "
                         "(set EDGEOPS_UPSTREAM_SCHEMAS)\n" % crd_schema.UPSTREAM)
        return None
    return crd_schema


def validate(obj, crd_schema):
    group = obj.get("apiVersion", "").split("/", 1)[0] if "/" in obj.get("apiVersion", "") else ""
    if "." in group and crd_schema is None:
        return "unchecked"
    if crd_schema is not None and group in crd_schema.DEFAULT_RELEASES:
        crd_schema.validate_custom_resource(obj)
        return "crd:" + crd_schema.DEFAULT_RELEASES[group]
    kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
    return "kubernetes:" + KUBERNETES_VERSION


def main(argv):
    project_dir, bundle_dir = argv[1], argv[2]
    crd_schema = load_crd_schema(project_dir)
    report = {"files": {}, "errors": [], "custom_resources_checked": crd_schema is not None}
    for name in sorted(os.listdir(bundle_dir)):
        path = os.path.join(bundle_dir, name)
        with open(path) as handle:
            try:
                documents = [doc for doc in yaml.safe_load_all(handle) if doc is not None]
            except yaml.YAMLError as error:
                report["errors"].append("%s: not YAML: %s" % (name, error))
                continue
        entry = {"objects": [], "kinds": [], "schemas": [], "documents": documents}
        for index, obj in enumerate(documents):
            if not isinstance(obj, dict):
                report["errors"].append("%s document %d: not a mapping" % (name, index + 1))
                continue
            meta = obj.get("metadata") or {}
            label = "%s %s %s/%s" % (obj.get("apiVersion"), obj.get("kind"), meta.get("namespace") or "",
                                     meta.get("name"))
            entry["objects"].append(label)
            entry["kinds"].append(obj.get("kind"))
            try:
                schema = validate(obj, crd_schema)
            except Exception as error:  # every failure is reported, whatever raised it
                first_line = (str(error).splitlines() or [""])[0]
                report["errors"].append("%s document %d (%s): %s: %s" % (
                    name, index + 1, label, type(error).__name__, first_line))
                continue
            if schema not in entry["schemas"]:
                entry["schemas"].append(schema)
        report["files"][name] = entry
    json.dump(report, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")
    return 1 if report["errors"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
