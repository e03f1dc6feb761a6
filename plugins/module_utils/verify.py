# -*- coding: utf-8 -*-
# Copyright: contributors to edgeops.k8s_network
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The verify app as data: a web front end and a database back end, several pods each.

Built as objects and dumped, never templated as text, so no setting can add a line or an object
to the manifest; every setting is checked for what it becomes first.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

from ansible.module_utils.six import integer_types, string_types

from ansible_collections.edgeops.k8s_network.plugins.module_utils import ipranges, k8s_names, manifest_file
from ansible_collections.edgeops.k8s_network.plugins.module_utils.findings import errors_of, finding

PART_OF = "edgeops-verify"
MANAGED_BY = "edgeops.k8s_network"
LB_ANNOTATION = "metallb.universe.tf/loadBalancerIPs"
DEFAULTS = {
    "namespace": "edgeops-verify",
    "db_image": "docker.io/library/redis:7-alpine",
    "db_replicas": 2,
    "db_port": 6379,
    "db_probe_send": "PING\\r\\nQUIT\\r\\n",
    "db_probe_expect": "+PONG",
    "web_image": "docker.io/library/nginx:1.27-alpine",
    "web_replicas": 2,
    "web_port": 80,
    "web_load_balancer_ip": "",
}
# How many pods one tier may ask for: enough for any edge site, and a typo (20000) is caught.
MAX_REPLICAS = 100
# An image reference: [registry[:port]/]path[:tag][@digest] (distribution/reference grammar).
_IMAGE = re.compile(
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*(?::[0-9]+)?/)?"
    r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*"
    r"(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?\Z")
# The probe goes into `sh -c "printf '<send>' | nc ..."` in a pod: printable ASCII that cannot
# leave the single quotes or the double quotes around them.
_PROBE_SEND = re.compile(r"[ !#%&()*+,\-./0-9:;<=>?@A-Z\[\\\]^_a-z{|}~]{1,256}\Z")
_PROBE_EXPECT = re.compile(r"[ -~]{1,256}\Z")


def address_ok(value):
    """One IP address, as a string without control characters."""
    if k8s_names.control_problem(value):
        return False
    try:
        ipranges.parse_address(value)
    except ipranges.AddressError:
        return False
    return True


def _int_problem(value, low, high):
    if isinstance(value, bool) or not isinstance(value, integer_types):
        return "%r is not a whole number" % (value,)
    if not low <= value <= high:
        return "%d is not between %d and %d" % (value, low, high)
    return None


def check(settings, field_prefix=""):
    """Findings for the verify settings (DEFAULTS keys) and the compute network they use."""
    found = []

    def error(code, key, message):
        found.append(finding(code, field_prefix + key, message))

    problem = k8s_names.label_problem(settings["namespace"], "namespace name")
    if problem:
        error("verify_namespace_invalid", "namespace", problem)
    for key in ("db_image", "web_image"):
        value = settings[key]
        problem = k8s_names.control_problem(value)
        if problem or not _IMAGE.match(value) or len(value) > 4096:
            error("verify_image_invalid", key, problem or "%r is not an image reference "
                  "([registry/]name[:tag][@digest])" % (value,))
    for key in ("db_port", "web_port"):
        problem = _int_problem(settings[key], 1, 65535)
        if problem:
            error("verify_port_invalid", key, problem)
    if settings["db_port"] == settings["web_port"] and not found:
        error("verify_port_invalid", "web_port", "the front end listens on both ports: %d cannot be both the HTTP "
              "port and the back end's port" % settings["web_port"])
    for key in ("db_replicas", "web_replicas"):
        problem = _int_problem(settings[key], 1, MAX_REPLICAS)
        if problem:
            error("verify_replicas_invalid", key, problem)
    send, expect = settings["db_probe_send"], settings["db_probe_expect"]
    if not isinstance(send, string_types) or not _PROBE_SEND.match(send):
        error("verify_probe_invalid", "db_probe_send", "%r must be 1-256 printable ASCII characters without quotes, "
              "'$' or '`' (it is sent with printf inside a shell command)" % (send,))
    if not isinstance(expect, string_types) or not _PROBE_EXPECT.match(expect):
        error("verify_probe_invalid", "db_probe_expect", "%r must be 1-256 printable ASCII characters" % (expect,))
    ip = settings["web_load_balancer_ip"]
    if ip:
        if not address_ok(ip):
            error("verify_load_balancer_ip_invalid", "web_load_balancer_ip", "%r is not an IP address" % (ip,))
    return found


def network_problems(compute_network):
    """Findings for the two values of the compute network the app is built from."""
    found = []
    network = compute_network if isinstance(compute_network, dict) else {}
    domain = network.get("cluster_domain", "cluster.local")
    problem = k8s_names.dns_name_problem(domain) if isinstance(domain, string_types) else "not a string"
    if problem:
        found.append(finding("cluster_domain_invalid", "compute_network.cluster_domain", problem))
    dns_ip = network.get("cluster_dns_ip")
    if not address_ok(dns_ip):
        found.append(finding("invalid_address", "compute_network.cluster_dns_ip",
                             "%r is not an IP address (run compute_network_check first)" % (dns_ip,)))
    return found


def _labels(tier):
    return {
        "app.kubernetes.io/name": tier,
        "app.kubernetes.io/part-of": PART_OF,
        "app.kubernetes.io/managed-by": MANAGED_BY,
    }


def _metadata(name, namespace, tier):
    return {"name": name, "namespace": namespace, "labels": _labels(tier)}


def _pod_template(tier, container):
    # Preferred, not required: a one-node site must still run every replica.
    spread = {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{
        "weight": 100,
        "podAffinityTerm": {"topologyKey": "kubernetes.io/hostname",
                            "labelSelector": {"matchLabels": {"app.kubernetes.io/name": tier}}},
    }]}}
    container = dict(container,
                     resources={"requests": {"cpu": "10m", "memory": "16Mi"}, "limits": {"memory": "64Mi"}},
                     securityContext={"allowPrivilegeEscalation": False})
    return {"metadata": {"labels": _labels(tier)}, "spec": {"affinity": spread, "containers": [container]}}


def _deployment(name, namespace, replicas, container, volumes=None):
    template = _pod_template(name, container)
    if volumes:
        template["spec"]["volumes"] = volumes
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _metadata(name, namespace, name),
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app.kubernetes.io/name": name}},
                 "template": template},
    }


def _service(name, namespace, kind, port_name, port, annotations=None):
    metadata = _metadata(name, namespace, name)
    if annotations:
        metadata["annotations"] = annotations
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": metadata,
        "spec": {"type": kind, "selector": {"app.kubernetes.io/name": name},
                 "ports": [{"name": port_name, "port": port, "targetPort": port_name}]},
    }


def nginx_conf(web_port, db_port, db_fqdn, resolver):
    """The front end: answers HTTP, and proxies db_port to the back end found by name per connection
    through the cluster DNS at the address the compute network gives it: a working proxy proves both."""
    return "\n".join([
        "events {",
        "  worker_connections 64;",
        "}",
        "http {",
        "  access_log off;",
        "  server {",
        "    listen %d;" % web_port,
        "    location / {",
        "      default_type text/plain;",
        '      return 200 "edgeops-verify web $hostname\\n";',
        "    }",
        "  }",
        "}",
        "stream {",
        "  resolver %s valid=10s;" % resolver,
        "  map $server_port $verify_db {",
        "    default %s:%d;" % (db_fqdn, db_port),
        "  }",
        "  server {",
        "    listen %d;" % db_port,
        "    proxy_pass $verify_db;",
        "  }",
        "}",
        "",
    ])


def objects(settings, compute_network):
    """The app's objects in apply order: namespace, back end, then the front end that needs it.

    Call only when check() and network_problems() found nothing.
    """
    ns = settings["namespace"]
    domain = compute_network.get("cluster_domain", "cluster.local").rstrip(".")
    resolver = str(ipranges.parse_address(compute_network["cluster_dns_ip"]))
    if ":" in resolver:
        resolver = "[%s]" % resolver
    db_port, web_port = settings["db_port"], settings["web_port"]
    db_container = {
        "name": "db",
        "image": settings["db_image"],
        "ports": [{"name": "db", "containerPort": db_port}],
        "readinessProbe": {"tcpSocket": {"port": "db"}, "periodSeconds": 5},
    }
    web_container = {
        "name": "web",
        "image": settings["web_image"],
        "ports": [{"name": "http", "containerPort": web_port}],
        "readinessProbe": {"httpGet": {"path": "/", "port": "http"}, "periodSeconds": 5},
        "volumeMounts": [{"name": "config", "mountPath": "/etc/nginx/nginx.conf", "subPath": "nginx.conf",
                          "readOnly": True}],
    }
    annotations = None
    if settings["web_load_balancer_ip"]:
        annotations = {LB_ANNOTATION: str(ipranges.parse_address(settings["web_load_balancer_ip"]))}
    config = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": _metadata("verify-web", ns, "verify-web"),
        "data": {"nginx.conf": nginx_conf(web_port, db_port, "verify-db.%s.svc.%s" % (ns, domain), resolver)},
    }
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns, "labels": _labels("verify")}},
        _deployment("verify-db", ns, settings["db_replicas"], db_container),
        _service("verify-db", ns, "ClusterIP", "db", db_port),
        config,
        _deployment("verify-web", ns, settings["web_replicas"], web_container,
                    volumes=[{"name": "config", "configMap": {"name": "verify-web"}}]),
        _service("verify-web", ns, "LoadBalancer", "http", web_port, annotations),
    ]


def config_run(params, files, show_diff):
    """One run of verify_config from its validated options: ``(result, findings)``.

    ``files`` writes ``dest`` (see manifest_file.write_text); the module and its action plugin
    both come through here.
    """
    compute_network = params.get("compute_network")
    dns_ip = params.get("cluster_dns_ip")
    dns_findings = []
    if dns_ip and not address_ok(dns_ip):
        dns_findings.append(finding("invalid_address", "cluster_dns_ip", "%r is not an IP address" % (dns_ip,)))
    elif dns_ip and isinstance(compute_network, dict):
        # The live kube-dns Service's address (apply mode) over the one the settings give.
        compute_network = dict(compute_network, cluster_dns_ip=dns_ip)
    resources, findings = render(params, compute_network)
    if dns_findings:
        resources, findings = [], findings + dns_findings
    result = dict(changed=False, resources=resources)
    if not errors_of(findings):
        result["cluster_dns_ip"] = str(ipranges.parse_address(compute_network["cluster_dns_ip"]))
    dest = params.get("dest")
    if dest and not errors_of(findings):
        changed, diff = manifest_file.write_or_refuse(files, dest, manifest_file.dump_resources(resources), findings)
        result["changed"] = changed
        if diff and show_diff:
            result["diff"] = diff
        result["dest"] = os.path.abspath(dest)
    return result, findings


def render(settings, compute_network):
    """``(resources, findings)``: every problem at once, objects only when there is none."""
    merged = dict(DEFAULTS)
    merged.update(dict((k, v) for k, v in (settings or {}).items() if k in DEFAULTS and v is not None))
    found = check(merged) + network_problems(compute_network)
    if found:
        return [], found
    return objects(merged, compute_network), found
