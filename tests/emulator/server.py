# Copyright: (c) 2025, edgeops.k8s_network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""An emulated Kubernetes API for tests. THIS IS A TEST DOUBLE, NOT KUBERNETES.

It keeps objects in memory and answers the HTTP calls that kubernetes.core (``k8s``,
``k8s_info``) and ``kubectl --validate=false`` make, so that a test can run a playbook and
then read what the API received (the journal) and what it holds (``/_emulator/objects``).
It proves the collection's logic (order of requests, guards, waits, idempotence); it proves
nothing about how a real cluster, its controllers, admission or networking behave.

It is a small subclass of ``kmock.KubernetesEmulator`` (PyPI ``kmock``), which provides the
HTTP server, request parsing, discovery endpoints and watch streams. This module adds what
kmock 0.8 lacks: kinds and label/field selectors on lists, PUT, server-side apply that creates
(with managedFields per field manager), 201 on create, server-set metadata (``uid``,
``creationTimestamp``, ``generation``, ``resourceVersion`` bumped only on a real change), a
correct core ``groupVersion`` in discovery, a journal, and a control API for tests.

Run it in its own process::

    python tests/emulator/server.py --port 0 --ready-file F --journal FILE \
        [--resources OBJECTS.yaml] [--auto-ready [KINDS]] [--journal-reads] [--crds-required]

See tests/emulator/README.md.
"""

import argparse
import asyncio
import base64
import copy
import datetime
import json
import os
import re
import signal
import sys
import uuid

import aiohttp.test_utils
import aiohttp.web
import aiohttp.web_request
import aiohttp.web_runner
import aiohttp.web_server
import attrs
import jsonpatch
import kmock
import kmock._internal.parsing
import yaml

# Whole release manifests go through here; Calico's operator CRDs exceed aiohttp's 1 MiB default.
MAX_BODY = 64 * 1024 * 1024

# (apiVersion, kind, plural, namespaced). Every kind has a status subresource except those
# listed in NO_STATUS; only kinds outside the core group carry metadata.generation.
BUILTIN_KINDS = [
    ("v1", "Namespace", "namespaces", False),
    ("v1", "Node", "nodes", False),
    ("v1", "ConfigMap", "configmaps", True),
    ("v1", "Secret", "secrets", True),
    ("v1", "Service", "services", True),
    ("v1", "Endpoints", "endpoints", True),
    ("v1", "Pod", "pods", True),
    ("v1", "ServiceAccount", "serviceaccounts", True),
    ("v1", "Event", "events", True),
    ("apps/v1", "Deployment", "deployments", True),
    ("apps/v1", "DaemonSet", "daemonsets", True),
    ("apps/v1", "StatefulSet", "statefulsets", True),
    ("batch/v1", "Job", "jobs", True),
    ("policy/v1", "PodDisruptionBudget", "poddisruptionbudgets", True),
    ("rbac.authorization.k8s.io/v1", "Role", "roles", True),
    ("rbac.authorization.k8s.io/v1", "RoleBinding", "rolebindings", True),
    ("rbac.authorization.k8s.io/v1", "ClusterRole", "clusterroles", False),
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "clusterrolebindings", False),
    ("apiextensions.k8s.io/v1", "CustomResourceDefinition", "customresourcedefinitions", False),
    ("admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration",
     "validatingwebhookconfigurations", False),
    ("admissionregistration.k8s.io/v1", "MutatingWebhookConfiguration",
     "mutatingwebhookconfigurations", False),
]
# The custom kinds the collection renders. Served from the start unless --crds-required, in
# which case they appear only once their CRD exists and is Established, as on a real cluster.
CUSTOM_KINDS = [
    ("metallb.io/v1beta1", "IPAddressPool", "ipaddresspools", True),
    ("metallb.io/v1beta1", "L2Advertisement", "l2advertisements", True),
    ("metallb.io/v1beta1", "BGPAdvertisement", "bgpadvertisements", True),
    ("metallb.io/v1beta2", "BGPPeer", "bgppeers", True),
    ("crd.projectcalico.org/v1", "IPPool", "ippools", False),
    ("crd.projectcalico.org/v1", "FelixConfiguration", "felixconfigurations", False),
    ("operator.tigera.io/v1", "Installation", "installations", False),
]
NO_STATUS = {"Event", "ConfigMap", "Secret", "ServiceAccount", "Endpoints", "Role", "RoleBinding",
             "ClusterRole", "ClusterRoleBinding", "ValidatingWebhookConfiguration",
             "MutatingWebhookConfiguration"}
READY_KINDS = {"Deployment", "DaemonSet", "StatefulSet", "CustomResourceDefinition",
               "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"}
PRESET_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
# A syntactically valid stand-in for the CA bundle a webhook's cert controller injects.
DUMMY_CA_BUNDLE = base64.b64encode(
    b"-----BEGIN CERTIFICATE-----\nZW11bGF0b3I=\n-----END CERTIFICATE-----\n").decode()
SHORT_NAMES = {"Namespace": ["ns"], "Node": ["no"], "ConfigMap": ["cm"], "Service": ["svc"],
               "Endpoints": ["ep"], "Pod": ["po"], "ServiceAccount": ["sa"],
               "Event": ["ev"], "Deployment": ["deploy"], "DaemonSet": ["ds"], "StatefulSet": ["sts"],
               "CustomResourceDefinition": ["crd", "crds"]}
SERVER_SET = ("uid", "creationTimestamp", "resourceVersion", "generation", "managedFields")
WRITE_VERBS = ("create", "update", "patch", "apply", "delete", "deletecollection")


@attrs.frozen
class Kind:
    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool

    @property
    def api_version(self):
        return "%s/%s" % (self.group, self.version) if self.group else self.version

    @property
    def resource(self):
        return kmock.resource(self.group, self.version, self.plural)

    @property
    def has_status(self):
        return self.kind not in NO_STATUS

    @property
    def has_generation(self):
        return self.group != ""

    @property
    def custom(self):
        return self.group not in BUILTIN_GROUPS


def make_kind(api_version, kind, plural, namespaced):
    group, version = api_version.rpartition("/")[::2]
    return Kind(group, version, kind, plural, namespaced)


BUILTIN = [make_kind(*spec) for spec in BUILTIN_KINDS]
BUILTIN_GROUPS = {kind.group for kind in BUILTIN}
NAMESPACE, NODE, CRD = (next(k for k in BUILTIN if k.kind == name)
                        for name in ("Namespace", "Node", "CustomResourceDefinition"))


class ApiError(kmock.KubernetesError):
    """An error answered as a Kubernetes Status object."""


_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_QUALIFIED_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")


def bad_key(key):
    """Why an annotation or label key is not a qualified name ([prefix/]name), or None.

    The API server refuses such keys (422) on every object and on pod templates; kubectl and
    the Python client send them unchecked."""
    prefix, slash, name = str(key).rpartition("/")
    if slash and (len(prefix) > 253 or not _DNS_SUBDOMAIN.match(prefix)):
        return "prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric " \
               "characters, '-' or '.', and must start and end with an alphanumeric character"
    if len(name) > 63 or not _QUALIFIED_NAME.match(name):
        return "name part must consist of alphanumeric characters, '-', '_' or '.', and must start " \
               "and end with an alphanumeric character (at most 63 characters)"
    return None


def check_metadata_keys(kind, obj):
    """422 Invalid, as the API answers, for a bad key in metadata or spec.template.metadata."""
    template = ((obj.get("spec") or {}).get("template") or {}) if isinstance(obj.get("spec"), dict) else {}
    places = [("metadata", obj.get("metadata") or {})]
    if isinstance(template, dict) and isinstance(template.get("metadata"), dict):
        places.append(("spec.template", template["metadata"]))
    for where, meta in places:
        for field in ("annotations", "labels"):
            for key in meta.get(field) or {}:
                reason = bad_key(key)
                if reason:
                    group = kind.api_version.split("/")[0] if "/" in kind.api_version else ""
                    raise api_error(422, "Invalid", '%s%s "%s" is invalid: %s.%s: Invalid value: "%s": %s' % (
                        kind.kind, "." + group if group else "", (obj.get("metadata") or {}).get("name"),
                        where if where != "metadata" else "metadata", field, key, reason))


def api_error(code, reason, message, **details):
    return ApiError(status=code, reason=reason, message=message, details=details)


def now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def version_priority(version):
    """Sort key that puts GA before beta before alpha, newest first, as Kubernetes does."""
    match = re.fullmatch(r"v(\d+)(?:(alpha|beta)(\d+))?", version)
    if not match:
        return (3, version)
    major, stage, minor = match.groups()
    return ({None: 0, "beta": 1, "alpha": 2}[stage], -int(major), -int(minor or 0))


# ------------------------------------------------------------------------- kmock path fix

_kmock_parse_path = kmock._internal.parsing.parse_path


def parse_path(path):
    """kmock 0.8 reads /api/v1/namespaces[/NAME] as a namespace prefix (and fails on the bare
    collection), so Namespace objects could not be listed, created or read. Resource paths
    are parsed here; discovery and non-API paths are left to kmock."""
    parts = path.strip("/").split("/")
    if parts[0] == "api" and len(parts) >= 2:
        group, version, rest = "", parts[1], parts[2:]
    elif parts[0] == "apis" and len(parts) >= 4:
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        return _kmock_parse_path(path)
    namespace = None
    namespace_subresource = rest[:1] == ["namespaces"] and len(rest) == 3 and \
        rest[2] in ("status", "finalize")
    if rest[:1] == ["namespaces"] and len(rest) >= 3 and not namespace_subresource:
        namespace, rest = rest[1], rest[2:]
    return kmock._internal.parsing.ParsedPath(
        group=group, version=version, plural=rest[0] if rest else None, namespace=namespace,
        name=rest[1] if len(rest) > 1 else None, subresource="/".join(rest[2:]) or None)


kmock._internal.parsing.parse_path = parse_path


# ---------------------------------------------------------------------------------- patches

def merge_patch(target, patch):
    """RFC 7386 JSON merge patch: null deletes, objects merge, anything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


# How server-side apply treats a list: merged item by item under its key fields, or atomic
# (replaced whole, owned as one field). Built-in kinds: by a `name` or `type` field, close to
# their strategic-merge keys. Custom kinds: as their CRD schema declares
# (x-kubernetes-list-type: map with x-kubernetes-list-map-keys), else atomic, as the API
# server does for a list the schema does not key, preserve-unknown-fields included.
BUILTIN_KEYS = object()


class ListShapes:
    """The list keys of one kind: ``keys(path)`` for the list at a FieldsV1 path."""

    def __init__(self, schema=None, builtin=True):
        self.schema = schema
        self.builtin = builtin

    def keys(self, path):
        if self.builtin or path[:1] == ("f:metadata",):
            return BUILTIN_KEYS
        node = self.schema
        for part in path:
            if not isinstance(node, dict):
                return None
            if part.startswith("f:"):
                properties = node.get("properties") or {}
                extra = node.get("additionalProperties")
                node = properties.get(part[2:], extra if isinstance(extra, dict) else None)
            elif part.startswith("k:"):
                node = node.get("items")
        if isinstance(node, dict) and node.get("x-kubernetes-list-type") == "map":
            return tuple(node.get("x-kubernetes-list-map-keys") or ()) or None
        return None


BUILTIN_SHAPES = ListShapes()


def _list_key(item, keys=BUILTIN_KEYS):
    """Key of an item in a list that server-side apply merges by key, or None."""
    if not isinstance(item, dict):
        return None
    if keys is BUILTIN_KEYS:
        for field in ("name", "type"):
            if isinstance(item.get(field), str):
                return "k:" + json.dumps({field: item[field]}, separators=(",", ":"))
        return None
    if not keys or any(field not in item for field in keys):
        return None
    return "k:" + json.dumps({field: item[field] for field in keys}, separators=(",", ":"),
                             sort_keys=True)


def _key_fields(part):
    """The {field: value} a k: path part names."""
    return json.loads(part[2:])


def _keyed(items, keys=BUILTIN_KEYS):
    """The list as {key: item} when it merges by key and every item has a distinct key, else
    None (atomic list)."""
    if keys is None or not isinstance(items, list) or not items:
        return None
    found = [_list_key(item, keys) for item in items]
    if None in found or len(set(found)) != len(found):
        return None
    return dict(zip(found, items))


def apply_merge(live, applied, shapes=BUILTIN_SHAPES, path=()):
    """Merge an applied configuration into the live object: maps and keyed lists merge."""
    if isinstance(live, dict) and isinstance(applied, dict):
        result = copy.deepcopy(live)
        for key, value in applied.items():
            result[key] = apply_merge(live.get(key), value, shapes, path + ("f:" + key,))
        return result
    keys = shapes.keys(path)
    live_items, applied_items = _keyed(live, keys), _keyed(applied, keys)
    if live_items is not None and applied_items is not None:
        merged = [apply_merge(item, applied_items.get(key), shapes, path + (key,)) if key in applied_items
                  else copy.deepcopy(item) for key, item in live_items.items()]
        merged += [copy.deepcopy(item) for key, item in applied_items.items()
                   if key not in live_items]
        return merged
    return copy.deepcopy(applied)


def field_paths(value, prefix=(), shapes=BUILTIN_SHAPES):
    """Fields set in a configuration, as managedFields (FieldsV1) paths: f:<field>, k:<key>."""
    paths = set()
    if isinstance(value, dict):  # an empty map sets no field
        for key, sub in value.items():
            paths |= field_paths(sub, prefix + ("f:" + key,), shapes)
        return paths
    items = _keyed(value, shapes.keys(prefix))
    if items is not None:
        for key, item in items.items():
            paths.add(prefix + (key, "."))
            paths |= field_paths({k: v for k, v in item.items() if k not in _key_fields(key)},
                                 prefix + (key,), shapes)
        return paths
    return {prefix} if prefix else set()


def paths_to_fields(paths):
    tree = {}
    for path in sorted(paths):
        node = tree
        for part in path:
            node = node.setdefault(part, {})
    return tree


def fields_to_paths(tree, prefix=()):
    paths = set()
    for key, sub in tree.items():
        paths |= fields_to_paths(sub, prefix + (key,)) if sub else {prefix + (key,)}
    return paths


def _step(node, part):
    if part.startswith("f:") and isinstance(node, dict):
        return node.get(part[2:])
    if part.startswith("k:") and isinstance(node, list):
        return next((item for item in node if _names(item, part)), None)
    return None


def _names(item, part):
    """Whether a list item is the one a k: path part names."""
    return isinstance(item, dict) and all(item.get(k) == v for k, v in _key_fields(part).items())


def value_at(obj, path):
    for part in path:
        if part == ".":
            break
        obj = _step(obj, part)
    return obj


def remove_path(obj, path):
    """Remove the field at a FieldsV1 path, and the maps and lists it leaves empty."""
    path = path[:-1] if path[-1:] == (".",) else path
    parents = [obj]
    for part in path[:-1]:
        parents.append(_step(parents[-1], part))
        if parents[-1] is None:
            return
    for depth in range(len(path) - 1, -1, -1):
        node, part = parents[depth], path[depth]
        if isinstance(node, dict):
            node.pop(part[2:], None)
        elif isinstance(node, list):
            node[:] = [item for item in node if not _names(item, part)]
        if node or depth == 0:
            return


def dotted(path):
    return "".join("." + p[2:] if p.startswith("f:") else "[%s]" % p[2:] for p in path if p != ".")


# -------------------------------------------------------------------------------- selectors

_REQUIREMENT = re.compile(
    r"\s*(?P<neg>!)?\s*(?P<key>[A-Za-z0-9._/-]+)\s*"
    r"(?:(?P<op>==|=|!=)\s*(?P<value>[A-Za-z0-9._-]*)"
    r"|\s(?P<setop>in|notin)\s*\((?P<values>[^)]*)\))?\s*(?:,|$)")


def parse_label_selector(text):
    """Parse a label selector into (key, op, values) requirements; op in =, !=, in, notin,
    exists, !exists. Raises ApiError 400 on a syntax error."""
    requirements, pos, text = [], 0, (text or "").strip()
    while pos < len(text):
        match = _REQUIREMENT.match(text, pos)
        if not match or match.end() == pos:
            raise api_error(400, "BadRequest", "unable to parse requirement: %r" % text[pos:])
        pos = match.end()
        key = match.group("key")
        if match.group("neg"):
            requirements.append((key, "!exists", ()))
        elif match.group("setop"):
            values = tuple(v.strip() for v in match.group("values").split(",") if v.strip())
            requirements.append((key, match.group("setop"), values))
        elif match.group("op"):
            op = "!=" if match.group("op") == "!=" else "="
            requirements.append((key, op, (match.group("value"),)))
        else:
            requirements.append((key, "exists", ()))
    return requirements


def labels_match(labels, requirements):
    for key, op, values in requirements:
        present, value = key in labels, labels.get(key)
        ok = {"=": present and value in values, "in": present and value in values,
              "!=": not present or value not in values, "notin": not present or value not in values,
              "exists": present, "!exists": not present}[op]
        if not ok:
            return False
    return True


# Field selectors the API server takes beyond metadata.name and metadata.namespace, per kind.
EXTRA_FIELDS = {
    "Event": ("involvedObject.kind", "involvedObject.namespace", "involvedObject.name",
              "involvedObject.uid", "involvedObject.apiVersion", "involvedObject.resourceVersion",
              "involvedObject.fieldPath", "reason", "reportingComponent", "source", "type"),
}


def parse_field_selector(text, kind=None):
    """Parse a field selector into (path, equal, value) requirements; 400 on a field the API
    server does not index for `kind` (as it answers)."""
    known = ("metadata.name", "metadata.namespace") + EXTRA_FIELDS.get(kind, ())
    requirements = []
    for part in filter(None, (p.strip() for p in (text or "").split(","))):
        match = re.fullmatch(r"([A-Za-z.]+)\s*(==|=|!=)\s*(.*)", part)
        if not match:
            raise api_error(400, "BadRequest", "invalid field selector: %r" % part)
        field, op, value = match.groups()
        if field not in known:
            raise api_error(400, "BadRequest", '"%s" is not a known field selector: only %s' % (
                field, ", ".join('"%s"' % k for k in known)))
        requirements.append((tuple(field.split(".")), op != "!=", value))
    return requirements


def fields_match(obj, requirements):
    def at(path):
        value = obj
        for part in path:
            value = value.get(part) if isinstance(value, dict) else None
        return "" if value is None else str(value)
    return all((at(path) == value) == equal for path, equal, value in requirements)


# ---------------------------------------------------------------------------- ready states

def ready_status(kind, obj, node_count):
    """The status the kind's controller would write once the object is ready."""
    spec, generation = obj.get("spec") or {}, obj["metadata"].get("generation", 1)
    stamp = obj["metadata"]["creationTimestamp"]
    if kind == "Deployment" or kind == "StatefulSet":
        replicas = spec.get("replicas", 1)
        status = {"observedGeneration": generation, "replicas": replicas,
                  "updatedReplicas": replicas, "readyReplicas": replicas,
                  "availableReplicas": replicas, "currentReplicas": replicas}
        if kind == "StatefulSet":
            status.update(currentRevision="rev-%d" % generation, updateRevision="rev-%d" % generation)
        else:
            status["conditions"] = [
                {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable",
                 "lastTransitionTime": stamp, "lastUpdateTime": stamp},
                {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable",
                 "lastTransitionTime": stamp, "lastUpdateTime": stamp}]
        return status
    if kind == "DaemonSet":
        nodes = node_count or 1
        return {"observedGeneration": generation, "desiredNumberScheduled": nodes,
                "currentNumberScheduled": nodes, "updatedNumberScheduled": nodes,
                "numberReady": nodes, "numberAvailable": nodes, "numberMisscheduled": 0}
    if kind == "CustomResourceDefinition":
        return {"acceptedNames": spec.get("names", {}), "storedVersions": [
            v["name"] for v in spec.get("versions", []) if v.get("storage")],
            "conditions": [
                {"type": "NamesAccepted", "status": "True", "reason": "NoConflicts",
                 "lastTransitionTime": stamp},
                {"type": "Established", "status": "True", "reason": "InitialNamesAccepted",
                 "lastTransitionTime": stamp}]}
    return None


def inject_ca_bundle(obj):
    """What a webhook's cert controller does: put a CA bundle into every client config."""
    for webhook in obj.get("webhooks") or []:
        config = webhook.setdefault("clientConfig", {})
        config.setdefault("caBundle", DUMMY_CA_BUNDLE)


def established(crd):
    return any(c.get("type") == "Established" and c.get("status") == "True"
               for c in (crd.get("status") or {}).get("conditions", []))


def kinds_of_crd(crd):
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    if not (spec.get("group") and names.get("plural") and names.get("kind")):
        return []
    return [Kind(spec["group"], v["name"], names["kind"], names["plural"],
                 spec.get("scope") == "Namespaced")
            for v in spec.get("versions", []) if v.get("served", True) and v.get("name")]


def same_object(a, b):
    """Equal apart from managedFields timestamps (a no-op apply must not look like a change)."""
    def strip(obj):
        obj = copy.deepcopy(obj)
        for entry in (obj or {}).get("metadata", {}).get("managedFields", []):
            entry.pop("time", None)
        return obj
    return strip(a) == strip(b)


# ------------------------------------------------------------------------------- the server

@attrs.define(kw_only=True)
class EmulatedApi(kmock.KubernetesEmulator):
    """kmock's in-memory Kubernetes API, extended for kubernetes.core and kubectl.

    A TEST DOUBLE: no controllers, admission, validation or garbage collection run here.
    """

    journal_path: str | None = None
    journal_reads: bool = False
    auto_ready: frozenset = frozenset()
    crds_required: bool = False
    hidden_kinds: frozenset = frozenset()
    _last_rv: int = attrs.field(default=0, init=False)
    _seq: int = attrs.field(default=0, init=False)

    def __attrs_post_init__(self):
        super().__attrs_post_init__()
        for name in PRESET_NAMESPACES:
            self.put_object({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})

    async def _render_error(self, exc):
        if isinstance(exc, kmock.KubernetesError):
            return aiohttp.web.json_response({
                "apiVersion": "v1", "kind": "Status", "metadata": {}, "status": "Failure",
                "code": exc.status, "reason": exc.reason, "message": exc.message,
                "details": exc.details or {}}, status=exc.status)
        return await super()._render_error(exc)  # a bug here: 500 with the traceback

    # -- kinds and storage

    def kinds(self):
        """Every kind served now: built-ins, the collection's custom kinds, established CRDs."""
        kinds = list(BUILTIN)
        if not self.crds_required:
            kinds += [make_kind(*spec) for spec in CUSTOM_KINDS]
        for obj in self.list_objects(CRD):
            if established(obj):
                kinds += kinds_of_crd(obj)
        unique = {}
        for kind in kinds:
            if kind.kind in self.hidden_kinds:
                continue
            unique.setdefault((kind.group, kind.version, kind.plural), kind)
        return list(unique.values())

    def kind_for(self, group, version, plural=None, kind=None):
        for candidate in self.kinds():
            if (candidate.group, candidate.version) == (group, version) and \
                    plural in (None, candidate.plural) and kind in (None, candidate.kind):
                return candidate
        return None

    def get_object(self, kind, namespace, name):
        key = (kind.resource, namespace if kind.namespaced else None, name)
        if key in self._objects and not self._objects[key].deleted:
            return copy.deepcopy(self._objects[key].raw)
        return None

    def list_objects(self, kind, namespace=None):
        found = []
        for (resource, obj_namespace, dummy), obj in self._objects.items():
            if resource == kind.resource and not obj.deleted and \
                    (namespace is None or namespace == obj_namespace):
                found.append(copy.deepcopy(obj.raw))
        return sorted(found, key=lambda o: (o["metadata"].get("namespace", ""),
                                            o["metadata"]["name"]))

    async def _store(self, kind, obj, old):
        meta = obj["metadata"]
        key = (kind.resource, meta.get("namespace"), meta["name"])
        if key in self._objects:
            self._objects[key].history.append(copy.deepcopy(obj))
        else:
            self._objects[key] = copy.deepcopy(obj)
        event = "ADDED" if old is None else "MODIFIED"
        await self._buses[kind.resource].put({"type": event, "object": copy.deepcopy(obj)})

    async def _remove(self, kind, obj):
        meta = obj["metadata"]
        self._objects[kind.resource, meta.get("namespace"), meta["name"]].delete()
        self._last_rv += 1
        await self._buses[kind.resource].put({"type": "DELETED", "object": obj})
        if kind.kind == "Namespace":  # what the namespace controller does, at once
            for other in self.kinds():
                if other.namespaced:
                    for child in self.list_objects(other, meta["name"]):
                        await self._remove(other, child)

    def put_object(self, obj):
        """Store an object as it is, status included (preloading; the control API); neither
        journaled nor checked against its namespace. A CRD without status is Established."""
        api_version, kind_name = obj.get("apiVersion", ""), obj.get("kind", "")
        group, version = api_version.rpartition("/")[::2]
        kind = self.kind_for(group, version, kind=kind_name)
        if kind is None:
            raise ValueError("unknown apiVersion/kind %s/%s" % (api_version, kind_name))
        meta = obj.get("metadata") or {}
        namespace = (meta.get("namespace") or "default") if kind.namespaced else None
        old = self.get_object(kind, namespace, meta.get("name"))
        new = self._prepare(kind, namespace, meta.get("name"), old, obj,
                            status_from_body=True, controllers=False)
        if kind.kind == "CustomResourceDefinition" and not new.get("status"):
            new["status"] = ready_status(kind.kind, new, 0)
        if old is None or not same_object(old, new):
            self._last_rv += 1
            new["metadata"]["resourceVersion"] = str(self._last_rv)
            key = (kind.resource, new["metadata"].get("namespace"), new["metadata"]["name"])
            if key in self._objects:
                self._objects[key].history.append(new)
            else:
                self._objects[key] = new
        return new

    # -- writes

    def _prepare(self, kind, namespace, name, old, body, status_from_body=False,
                 managed_fields_from_body=False, controllers=True):
        """The object as it would be stored: identity from the URL, server-set metadata
        (managedFields come from the body only after server-side apply computed them), the
        live status unless this is a status write, defaults, generation, and what the
        --auto-ready controllers would write."""
        if not isinstance(body, dict):
            raise api_error(400, "BadRequest", "the request body must be an object")
        new = copy.deepcopy(body)
        meta = new.get("metadata")
        if not isinstance(meta, dict):
            meta = new["metadata"] = {}
        if meta.get("name") not in (None, name):
            raise api_error(400, "BadRequest", "the name of the object (%s) does not match the "
                            "name on the URL (%s)" % (meta.get("name"), name))
        if kind.namespaced and meta.get("namespace") not in (None, namespace):
            raise api_error(400, "BadRequest", "the namespace of the provided object does not "
                            "match the namespace sent on the request")
        if old is not None and meta.get("resourceVersion") not in (
                None, old["metadata"]["resourceVersion"]):
            raise api_error(409, "Conflict", 'Operation cannot be fulfilled on %s "%s": the '
                            "object has been modified; please apply your changes to the latest "
                            "version and try again" % (kind.plural, name), name=name,
                            kind=kind.plural)
        new["apiVersion"], new["kind"] = kind.api_version, kind.kind
        meta["name"] = name
        if kind.namespaced:
            meta["namespace"] = namespace
        else:
            meta.pop("namespace", None)
        managed = meta.get("managedFields")
        for field in SERVER_SET:
            meta.pop(field, None)
        if old is not None:
            for field in SERVER_SET:
                if field in old["metadata"]:
                    meta[field] = copy.deepcopy(old["metadata"][field])
        else:
            meta.update(uid=str(uuid.uuid4()), creationTimestamp=now())
            if kind.has_generation:
                meta["generation"] = 1
        if managed is not None and managed_fields_from_body:
            if managed:
                meta["managedFields"] = managed
            else:  # no manager owns a field: the server keeps no managedFields
                meta.pop("managedFields", None)
        if kind.has_status and not status_from_body:
            new.pop("status", None)
            if old is not None and "status" in old:
                new["status"] = copy.deepcopy(old["status"])
        if kind.kind in ("Deployment", "StatefulSet"):
            new.setdefault("spec", {}).setdefault("replicas", 1)
        if kind.kind == "Secret" and isinstance(new.get("stringData"), dict):
            new["data"] = dict(new.get("data") or {}, **{
                key: base64.b64encode(str(value).encode()).decode()
                for key, value in new.pop("stringData").items()})
        if kind.kind == "Namespace":
            new.setdefault("spec", {"finalizers": ["kubernetes"]})
            new.setdefault("status", {"phase": "Active"})
            # The API server gives every Namespace this label, its name, on every write.
            if not isinstance(meta.get("labels"), dict):
                meta["labels"] = {}
            meta["labels"]["kubernetes.io/metadata.name"] = name
        if old is not None and kind.has_generation:
            def spec_of(obj):
                return {k: v for k, v in obj.items() if k not in ("metadata", "status")}
            if spec_of(old) != spec_of(new):
                meta["generation"] = old["metadata"].get("generation", 1) + 1
        check_metadata_keys(kind, new)
        if controllers and kind.kind in self.auto_ready:
            self._make_ready(kind, new)
        head = {"apiVersion": new.pop("apiVersion"), "kind": new.pop("kind"),
                "metadata": new.pop("metadata")}
        return dict(head, **new)

    def _make_ready(self, kind, obj):
        if kind.kind in ("ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"):
            inject_ca_bundle(obj)
            return
        nodes = len(self.list_objects(NODE))
        status = ready_status(kind.kind, obj, nodes)
        if status is not None:
            obj["status"] = dict(obj.get("status") or {}, **status)

    async def _commit(self, kind, old, new, dry_run):
        """Store `new` if it differs from `old`; returns (stored object, changed)."""
        if old is not None and same_object(old, new):
            return old, False
        if not dry_run:
            self._last_rv += 1
            new["metadata"]["resourceVersion"] = str(self._last_rv)
            await self._store(kind, new, old)
        return new, True

    def _shapes(self, kind):
        """How server-side apply treats the lists of a kind (ListShapes)."""
        if not kind.custom:
            return BUILTIN_SHAPES
        crd = self.get_object(CRD, None, "%s.%s" % (kind.plural, kind.group)) or {}
        for version in (crd.get("spec") or {}).get("versions") or []:
            if version.get("name") == kind.version:
                return ListShapes((version.get("schema") or {}).get("openAPIV3Schema"), builtin=False)
        return ListShapes(None, builtin=False)

    def _owned_fields(self, kind, obj, shapes):
        """The fields of an object a manager can own: not its identity, server-set metadata
        or (where the kind has the subresource) its status."""
        body = {key: value for key, value in copy.deepcopy(obj).items()
                if key not in ("apiVersion", "kind") and not (key == "status" and kind.has_status)}
        meta = body.get("metadata")
        if isinstance(meta, dict):
            for field in ("name", "namespace") + SERVER_SET:
                meta.pop(field, None)
        return body, field_paths(body, shapes=shapes)

    def _apply(self, kind, old, applied, manager, force):
        """Server-side apply: merge the applied configuration, remove the fields this
        manager applied before and dropped now (unless another manager owns them), refuse
        to take a field another manager owns with a different value unless forced.

        As the API server does: an object that has no managedFields (created before field
        management, or whose appliers own no field) first has its fields recorded as an
        update by "before-first-apply"; a manager left owning no field is dropped."""
        if not manager:
            raise api_error(422, "Invalid", "PatchOptions.meta.k8s.io \"\" is invalid: "
                            "fieldManager: Required value: is required for apply patch")
        shapes = self._shapes(kind)
        config, mine = self._owned_fields(kind, applied, shapes)
        live = old or {}
        entries = copy.deepcopy((live.get("metadata") or {}).get("managedFields") or [])
        if old is not None and not entries:
            dummy, before = self._owned_fields(kind, old, shapes)
            if before:
                entries = [{"manager": "before-first-apply", "operation": "Update",
                            "apiVersion": kind.api_version, "time": now(), "fieldsType": "FieldsV1",
                            "fieldsV1": paths_to_fields(before)}]
        previous = set()
        others = []
        for entry in entries:
            paths = fields_to_paths(entry.get("fieldsV1") or {})
            if entry.get("manager") == manager and entry.get("operation") == "Apply":
                previous = paths
            else:
                others.append((entry, paths))
        conflicts = [(entry, path) for entry, paths in others for path in sorted(mine & paths)
                     if path[-1] != "." and value_at(live, path) != value_at(config, path)]
        if conflicts and not force:
            causes = [{"type": "FieldManagerConflict", "field": dotted(path),
                       "message": 'conflict with "%s": %s' % (entry["manager"], dotted(path))}
                      for entry, path in conflicts]
            raise api_error(409, "Conflict", "Apply failed with %d conflict(s): %s" % (
                len(causes), "; ".join(c["message"] for c in causes)), causes=causes,
                name=old["metadata"]["name"], kind=kind.plural)
        new = apply_merge(live, config, shapes) if old is not None else config
        owned_by_others = set().union(*[paths for entry, paths in others])
        for path in sorted(previous - mine, key=len, reverse=True):
            if path not in owned_by_others:
                remove_path(new, path)
        # Forcing takes over the conflicting fields; fields applied with equal values stay shared.
        managed = []
        for entry, paths in others:
            kept = paths - {path for owner, path in conflicts if owner is entry}
            if kept != paths:
                entry["fieldsV1"] = paths_to_fields(kept)
            if kept:
                managed.append(entry)
        if mine:
            managed.append({"manager": manager, "operation": "Apply", "apiVersion": kind.api_version,
                            "time": now(), "fieldsType": "FieldsV1",
                            "fieldsV1": paths_to_fields(mine)})
        new.setdefault("metadata", {})["managedFields"] = managed
        return new

    # -- request handling

    async def _handle(self, request):
        path = request.url.path
        if path.startswith("/_emulator/"):
            return await self._control(request, path[len("/_emulator/"):])
        res = request.resource
        if res is None or res.plural is None:
            return await super()._handle(request)  # discovery, and reactions added through kmock
        kind = self.kind_for(res.group, res.version, res.plural)
        if kind is None or request.subresource not in (None, "status") or \
                (request.namespace and not kind.namespaced):
            raise api_error(404, "NotFound", "the server could not find the requested resource")
        method = request.method.value.upper()
        namespace = request.namespace if kind.namespaced else None
        if request.action == kmock.action.WATCH:
            self._journal(request, kind, "watch", 200)
            # kmock streams as application/octet-stream, which client-go refuses to decode.
            response = kmock.Response(headers={"Content-Type": "application/json"},
                                      payload=self._watch(request, kind, namespace))
            return await response(request)
        if method == "GET":
            return await self._read(request, kind, namespace)
        if method == "DELETE":
            return await self._delete(request, kind, namespace)
        if method not in ("POST", "PUT", "PATCH") or (method == "POST") != (request.name is None):
            raise api_error(405, "MethodNotAllowed", "the server does not allow this method on "
                            "the requested resource")
        return await self._write(request, kind, namespace, method)

    async def _read(self, request, kind, namespace):
        if request.name is not None:
            obj = self.get_object(kind, namespace, request.name)
            self._journal(request, kind, "get", 200 if obj else 404)
            if obj is None:
                raise self._not_found(kind, request.name)
            return aiohttp.web.json_response(obj)
        labels = parse_label_selector(request.params.get("labelSelector"))
        fields = parse_field_selector(request.params.get("fieldSelector"), kind.kind)
        items = [obj for obj in self.list_objects(kind, namespace)
                 if labels_match(obj["metadata"].get("labels") or {}, labels)
                 and fields_match(obj, fields)]
        self._journal(request, kind, "list", 200)
        return aiohttp.web.json_response({
            "apiVersion": kind.api_version, "kind": kind.kind + "List",
            "metadata": {"resourceVersion": str(self._last_rv)}, "items": items})

    async def _watch(self, request, kind, namespace):
        labels = parse_label_selector(request.params.get("labelSelector"))
        fields = parse_field_selector(request.params.get("fieldSelector"), kind.kind)

        def wanted(obj):
            meta = obj["metadata"]
            return (namespace is None or meta.get("namespace") == namespace) and \
                request.name in (None, meta["name"]) and fields_match(obj, fields) and \
                labels_match(meta.get("labels") or {}, labels)

        loop = asyncio.get_running_loop()
        deadline = loop.time() + float(request.params.get("timeoutSeconds") or 600)
        events = aiter(self._buses[kind.resource])
        yield b""  # sends the headers now, before any event
        if request.params.get("resourceVersion") in (None, "", "0"):
            for obj in self.list_objects(kind, namespace):
                if wanted(obj):
                    yield {"type": "ADDED", "object": obj}
        while True:
            try:
                event = await asyncio.wait_for(anext(events), deadline - loop.time())
            except (asyncio.TimeoutError, StopAsyncIteration):
                return
            if wanted(event["object"]):
                yield event

    async def _delete(self, request, kind, namespace):
        dry_run = "All" in request.params.get("dryRun", "")
        if request.name is None:
            labels = parse_label_selector(request.params.get("labelSelector"))
            fields = parse_field_selector(request.params.get("fieldSelector"), kind.kind)
            items = [obj for obj in self.list_objects(kind, namespace)
                     if labels_match(obj["metadata"].get("labels") or {}, labels)
                     and fields_match(obj, fields)]
            if not dry_run:
                for obj in items:
                    await self._remove(kind, obj)
            self._journal(request, kind, "deletecollection", 200, changed=bool(items))
            return aiohttp.web.json_response({"apiVersion": kind.api_version,
                                              "kind": kind.kind + "List", "items": items,
                                              "metadata": {}})
        obj = self.get_object(kind, namespace, request.name)
        self._journal(request, kind, "delete", 200 if obj else 404, changed=obj is not None)
        if obj is None:
            raise self._not_found(kind, request.name)
        if not dry_run:
            await self._remove(kind, obj)
        return aiohttp.web.json_response(obj)

    async def _write(self, request, kind, namespace, method):
        content_type = request.headers.get("Content-Type", "").split(";")[0].strip().lower()
        params = request.params
        dry_run = "All" in params.get("dryRun", "")
        body = self._body(request)
        verb = {"POST": "create", "PUT": "update"}.get(method, "patch")
        if content_type == "application/apply-patch+yaml":
            verb = "apply"
        if request.subresource == "status" and verb in ("create", "apply"):
            raise api_error(405, "MethodNotAllowed", "use PUT or PATCH on a status subresource")
        name = request.name
        if verb == "create" and isinstance(body, dict):
            meta = body.get("metadata") or {}
            name = meta.get("name")
            if not name and meta.get("generateName"):
                name = meta["generateName"] + uuid.uuid4().hex[:5]
                body["metadata"]["name"] = name
        code = 200
        try:
            if not name:
                raise api_error(422, "Invalid", "metadata.name: Required value: name or "
                                "generateName is required")
            old = self.get_object(kind, namespace, name)
            if old is None and verb != "create" and verb != "apply":
                raise self._not_found(kind, name)
            if kind.namespaced and old is None and \
                    self.get_object(NAMESPACE, None, namespace) is None:
                raise api_error(404, "NotFound", 'namespaces "%s" not found' % namespace,
                                name=namespace, kind="namespaces")
            if verb == "create":
                if old is not None:
                    raise api_error(409, "AlreadyExists", '%s "%s" already exists' % (
                        kind.plural, name), name=name, kind=kind.plural)
                new = self._prepare(kind, namespace, name, None, body)
            elif verb == "apply":
                merged = self._apply(kind, old, body, params.get("fieldManager"),
                                     params.get("force") == "true")
                new = self._prepare(kind, namespace, name, old, merged,
                                    managed_fields_from_body=True)
            else:
                new = self._patched(kind, old, body, content_type, verb, request.subresource)
                new = self._prepare(kind, namespace, name, old, new,
                                    status_from_body=request.subresource == "status")
            stored, changed = await self._commit(kind, old, new, dry_run)
            code = 201 if old is None else 200
        except kmock.KubernetesError as error:
            self._journal(request, kind, verb, error.status, name=name, body=body,
                          content_type=content_type)
            raise
        self._journal(request, kind, verb, code, name=name, body=body, changed=changed,
                      content_type=content_type)
        return aiohttp.web.json_response(stored, status=code)

    def _patched(self, kind, old, body, content_type, verb, subresource):
        """The whole object after a PUT or PATCH; on /status only its status is taken."""
        if verb == "update":
            result = body
        elif content_type == "application/json-patch+json":
            try:
                result = jsonpatch.apply_patch(old, body or [])
            except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException) as exc:
                raise api_error(422, "Invalid", "the JSON patch failed: %s" % exc)
        elif content_type == "application/merge-patch+json" or (
                content_type == "application/strategic-merge-patch+json" and not kind.custom):
            result = merge_patch(old, body)
        else:
            raise api_error(415, "UnsupportedMediaType", "the body of the request was in an "
                            "unknown format - accepted media types include: "
                            "application/json-patch+json, application/merge-patch+json, "
                            "application/apply-patch+yaml")
        if subresource == "status":
            status = result.get("status") if isinstance(result, dict) else None
            return dict(copy.deepcopy(old), status=status)
        return result

    @staticmethod
    def _body(request):
        if not request.body:
            return None
        try:
            return json.loads(request.body)
        except ValueError:
            try:
                return yaml.safe_load(request.body)
            except yaml.YAMLError as exc:
                raise api_error(400, "BadRequest", "the body is neither JSON nor YAML: %s" % exc)

    @staticmethod
    def _not_found(kind, name):
        return api_error(404, "NotFound", '%s "%s" not found' % (kind.plural, name),
                         name=name, group=kind.group, kind=kind.plural)

    def _journal(self, request, kind, verb, code, name=None, body=None, changed=None,
                 content_type=None):
        if self.journal_path is None or (verb not in WRITE_VERBS and not self.journal_reads):
            return
        self._seq += 1
        entry = {
            "seq": self._seq, "verb": verb, "method": request.method.value.upper(),
            "path": request.url.path, "apiVersion": kind.api_version, "kind": kind.kind,
            "namespace": request.namespace if kind.namespaced else None,
            "name": name or request.name, "subresource": request.subresource,
            "content_type": content_type, "field_manager": request.params.get("fieldManager"),
            "force": request.params.get("force") == "true",
            "dry_run": "All" in request.params.get("dryRun", ""),
            "query": dict(request.params), "body": body, "code": code, "changed": changed,
        }
        with open(self.journal_path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(entry, sort_keys=True) + "\n")

    # -- control API for tests (not part of Kubernetes)

    async def _control(self, request, action):
        method = request.method.value.upper()
        if method == "GET" and action == "objects":
            dump = []
            for kind in self.kinds():
                for obj in self.list_objects(kind):
                    dump.append(obj)
            return aiohttp.web.json_response(dump)
        if method == "GET" and action == "kinds":
            return aiohttp.web.json_response([attrs.asdict(k) for k in self.kinds()])
        if method != "POST" or action not in ("status", "patch", "ready", "objects"):
            raise api_error(404, "NotFound", "unknown control endpoint /_emulator/%s" % action)
        body = self._body(request) or {}
        if action == "objects":
            try:
                stored = self.put_object(body)
            except ValueError as exc:
                raise api_error(400, "BadRequest", str(exc))
            group, version = stored["apiVersion"].rpartition("/")[::2]
            resource = self.kind_for(group, version, kind=stored["kind"]).resource
            await self._buses[resource].put({"type": "MODIFIED", "object": stored})
            return aiohttp.web.json_response(stored, status=201)
        group, version = str(body.get("apiVersion", "")).rpartition("/")[::2]
        kind = self.kind_for(group, version, kind=body.get("kind"))
        if kind is None:
            raise api_error(404, "NotFound", "unknown apiVersion/kind %s/%s" % (
                body.get("apiVersion"), body.get("kind")))
        namespace = body.get("namespace") if kind.namespaced else None
        old = self.get_object(kind, namespace, body.get("name"))
        if old is None:
            raise self._not_found(kind, body.get("name"))
        if action == "status":
            new = dict(copy.deepcopy(old), status=body.get("status"))
        elif action == "patch":
            new = merge_patch(old, body.get("patch") or {})
        else:
            new = copy.deepcopy(old)
            self._make_ready(kind, new)
        # The test speaks for the controller here: --auto-ready must not overrule it.
        new = self._prepare(kind, namespace, old["metadata"]["name"], old, new,
                            status_from_body=True, controllers=False)
        stored, changed = await self._commit(kind, old, new, dry_run=False)
        return aiohttp.web.json_response(dict(stored, emulator={"changed": changed}))

    # -- discovery (kmock registers these methods as its fallback handlers)

    def _groups(self):
        groups = {}
        for kind in self.kinds():
            versions = groups.setdefault(kind.group, [])
            if kind.version not in versions:
                versions.append(kind.version)
        return {group: sorted(versions, key=version_priority) for group, versions in groups.items()}

    @staticmethod
    def _group_doc(group, versions):
        listed = [{"groupVersion": "%s/%s" % (group, v), "version": v} for v in versions]
        return {"name": group, "versions": listed, "preferredVersion": listed[0]}

    async def _serve_root(self, request):
        paths = ["/api", "/api/v1", "/apis", "/version"]
        for group, versions in self._groups().items():
            if group:
                paths += ["/apis/" + group] + ["/apis/%s/%s" % (group, v) for v in versions]
        return {"paths": sorted(paths)}

    async def _serve_server_version(self, request):
        return {"major": "1", "minor": "32", "gitVersion": "v1.32.0-edgeops.emulator",
                "gitCommit": "0" * 40, "gitTreeState": "clean", "platform": "linux/amd64",
                "buildDate": "2025-01-01T00:00:00Z", "goVersion": "go1.23", "compiler": "gc"}

    async def _serve_api(self, request):
        return {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [
            {"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}]}

    async def _serve_apis(self, request):
        return {"apiVersion": "v1", "kind": "APIGroupList", "groups": [
            self._group_doc(group, versions)
            for group, versions in sorted(self._groups().items()) if group]}

    async def _serve_group(self, request):
        group = request.resource.group
        versions = self._groups().get(group)
        if not group or not versions:
            raise api_error(404, "NotFound", "the server could not find the requested resource")
        return dict(self._group_doc(group, versions), apiVersion="v1", kind="APIGroup")

    async def _serve_version(self, request):
        group, version = request.resource.group, request.resource.version
        kinds = [k for k in self.kinds() if (k.group, k.version) == (group, version)]
        if not kinds:
            raise api_error(404, "NotFound", "the server could not find the requested resource")
        verbs = ["create", "delete", "deletecollection", "get", "list", "patch", "update",
                 "watch"]
        resources = []
        for kind in kinds:
            entry = {"name": kind.plural, "singularName": kind.kind.lower(),
                     "namespaced": kind.namespaced, "kind": kind.kind, "verbs": verbs,
                     "shortNames": SHORT_NAMES.get(kind.kind, []) if not kind.custom else []}
            resources.append(entry)
            if kind.has_status:
                resources.append({"name": kind.plural + "/status", "singularName": "",
                                  "namespaced": kind.namespaced, "kind": kind.kind,
                                  "verbs": ["get", "patch", "update"]})
        return {"apiVersion": "v1", "kind": "APIResourceList",
                "groupVersion": "%s/%s" % (group, version) if group else version,
                "resources": resources}


# ------------------------------------------------------------------------------ the process

class _LargeBodyServer(aiohttp.test_utils.RawTestServer):
    """kmock's default server class, with room for whole release manifests."""

    async def _make_runner(self, debug=True, **kwargs):
        loop = asyncio.get_running_loop()

        def make_request(message, payload, protocol, writer, task):
            return aiohttp.web_request.BaseRequest(message, payload, protocol, writer, task,
                                                   loop, client_max_size=MAX_BODY)
        server = aiohttp.web_server.Server(self._handler, loop=loop, debug=debug,
                                           request_factory=make_request, **kwargs)
        return aiohttp.web_runner.ServerRunner(server, debug=debug, **kwargs)


def load_objects(path):
    with open(path, encoding="utf-8") as handle:
        docs = [doc for doc in yaml.safe_load_all(handle) if doc]
    objects = []
    for doc in docs:
        objects += doc.get("items", []) if str(doc.get("kind", "")).endswith("List") else [doc]
    return objects


def write_kubeconfig(path, url, token="emulator-dummy-token", namespace="default"):
    """Write a kubeconfig that points at the emulated API (plain HTTP, a dummy token)."""
    config = {
        "apiVersion": "v1", "kind": "Config", "current-context": "emulator",
        "clusters": [{"name": "emulator", "cluster": {"server": url}}],
        "users": [{"name": "emulator", "user": {"token": token}}],
        "contexts": [{"name": "emulator", "context": {
            "cluster": "emulator", "user": "emulator", "namespace": namespace}}],
    }
    with open(path, "w", encoding="utf-8") as handle:
        yaml.safe_dump(config, handle, sort_keys=False)
    return path


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--ready-file", help="written with the bound port once serving")
    parser.add_argument("--journal", help="append one JSON line per API write here")
    parser.add_argument("--journal-reads", action="store_true", help="journal GETs too")
    parser.add_argument("--resources", action="append", default=[],
                        help="YAML file of objects present from the start (repeatable)")
    parser.add_argument("--auto-ready", nargs="?", const="all", default="",
                        help="act as the controllers of these kinds (comma list; default all "
                             "of %s)" % ", ".join(sorted(READY_KINDS)))
    parser.add_argument("--crds-required", action="store_true",
                        help="serve custom kinds only once their CRD is Established")
    parser.add_argument("--hide-kinds", default="",
                        help="serve neither these kinds (comma list) nor their discovery, as an "
                             "API server without their group or resource definition")
    parser.add_argument("--kubeconfig", help="also write a kubeconfig for the server here")
    return parser.parse_args(argv)


async def serve(args):
    auto = READY_KINDS if args.auto_ready == "all" else {
        k.strip() for k in args.auto_ready.split(",") if k.strip()}
    unknown = auto - READY_KINDS
    if unknown:
        raise SystemExit("--auto-ready: unknown kinds %s" % ", ".join(sorted(unknown)))
    api = EmulatedApi(journal_path=args.journal, journal_reads=args.journal_reads,
                      auto_ready=frozenset(auto), crds_required=args.crds_required,
                      hidden_kinds=frozenset(k.strip() for k in args.hide_kinds.split(",") if k.strip()))
    for path in args.resources:
        for obj in load_objects(path):
            api.put_object(obj)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    async with api, kmock.Server(api, host="127.0.0.1", port=args.port or None,
                                 server_cls=_LargeBodyServer) as server:
        url = "http://127.0.0.1:%d" % server.port
        if args.kubeconfig:
            write_kubeconfig(args.kubeconfig, url)
        if args.ready_file:
            # Written whole, then renamed: a watcher never reads half a port number.
            partial = args.ready_file + ".tmp"
            with open(partial, "w", encoding="utf-8") as handle:
                handle.write("%d\n" % server.port)
            os.replace(partial, args.ready_file)
        print("emulated Kubernetes API (test double) on %s" % url, flush=True)
        await stop.wait()


def main(argv=None):
    asyncio.run(serve(parse_args(sys.argv[1:] if argv is None else argv)))


if __name__ == "__main__":
    main()
