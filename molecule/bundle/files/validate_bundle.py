"""Validate every object of a bundle folder against the upstream schemas.

Usage: validate_bundle.py PROJECT_DIR BUNDLE_DIR

Custom resources (Calico's operator, MetalLB) are checked against the CRDs of the release
manifests in the bundle itself (10-*.yaml, 30-*.yaml) when it holds them, else against the
upstream CRDs of shared/schemas, both closed as tests/unit/crd_schema.py closes them; everything
else against the Kubernetes API schemas of kubernetes-validate, strictly. An object that neither
knows fails. The release manifests' own objects are upstream's: they are parsed, not validated.
Files other than the numbered manifests (README.md, images.txt, kustomization.yaml) are skipped.
Prints one JSON document: for each file its objects ("apiVersion Kind namespace/name"), kinds,
the schemas that validated them, and the parsed documents; then every error. Exits 1 when
anything failed to parse or validate.
"""

import json
import os
import re
import sys

import kubernetes_validate
import yaml

KUBERNETES_VERSION = "1.33"


RELEASE_FILE = re.compile(r"^[13][0-9]-.*\.yaml$")
BUNDLE_FILE = re.compile(r"^[0-9][0-9]-.*\.yaml$")


def load_crd_schema(project_dir):
    sys.path.insert(0, os.path.join(project_dir, "tests", "unit"))
    import crd_schema  # pylint: disable=import-outside-toplevel

    if not crd_schema.upstream_available():
        # Custom resources without their CRD in the bundle then go unchecked, and the report
        # says so; core kinds still are.
        sys.stderr.write("SKIP custom resources: upstream CRD schemas not found at %s "
                         "(set EDGEOPS_UPSTREAM_SCHEMAS)\n" % crd_schema.UPSTREAM)
    return crd_schema


def validate(obj, crd_schema, bundle_crds):
    api_version = obj.get("apiVersion", "")
    group, _sep, version = api_version.partition("/") if "/" in api_version else ("", "", api_version)
    if "." in group and (group, version, obj.get("kind")) in bundle_crds:
        crd_schema.validate_against(obj, bundle_crds)
        return "crd:bundle"
    if "." in group and not crd_schema.upstream_available():
        return "unchecked"
    if group in crd_schema.DEFAULT_RELEASES:
        crd_schema.validate_custom_resource(obj)
        return "crd:" + crd_schema.DEFAULT_RELEASES[group]
    kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
    return "kubernetes:" + KUBERNETES_VERSION


def load(path):
    with open(path) as handle:
        return [doc for doc in yaml.safe_load_all(handle) if doc is not None]


def main(argv):
    project_dir, bundle_dir = argv[1], argv[2]
    crd_schema = load_crd_schema(project_dir)
    names = sorted(name for name in os.listdir(bundle_dir) if BUNDLE_FILE.match(name))
    releases = [name for name in names if RELEASE_FILE.match(name)]
    bundle_crds = crd_schema.crds_in([obj for name in releases for obj in load(os.path.join(bundle_dir, name))])
    report = {"files": {}, "errors": [], "release_files": releases,
              "custom_resources_checked": crd_schema.upstream_available() or bool(bundle_crds)}
    for name in names:
        path = os.path.join(bundle_dir, name)
        with open(path) as handle:
            try:
                documents = [doc for doc in yaml.safe_load_all(handle) if doc is not None]
            except yaml.YAMLError as error:
                report["errors"].append("%s: not YAML: %s" % (name, error))
                continue
        if name in releases:
            bad = [index + 1 for index, obj in enumerate(documents) if not isinstance(obj, dict) or "kind" not in obj]
            report["errors"].extend("%s document %d: not an object" % (name, index) for index in bad)
            report["files"][name] = {"objects": len(documents), "schemas": ["release"]}
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
                schema = validate(obj, crd_schema, bundle_crds)
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
