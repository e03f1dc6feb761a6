"""CoreDNS rendering: kubeadm default, every validation rule both ways, merge keeps what it does not manage."""

import difflib
import glob
import io
import os

import kubernetes_validate
import pytest
import yaml

from ansible_collections.edgeops.k8s_network.plugins.module_utils import coredns, manifest_file
from ansible_collections.edgeops.k8s_network.plugins.module_utils import corefile as cf

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "fixtures", "corefiles")
CORPUS = sorted(glob.glob(os.path.join(FIXTURES, "*.Corefile")))
ROOT_TAIL = "    forward . 10.0.0.2\n    cache 30\n    loop\n    reload\n}\n"


def read(name):
    path = name if os.path.isabs(name) else os.path.join(FIXTURES, name)
    with io.open(path, encoding="utf-8", newline="") as handle:
        return handle.read()


def domain_of(path):
    return "edge.local" if "edge-local" in path else "cluster.local"


def codes(findings, severity=None):
    return sorted({f["code"] for f in findings if severity is None or f["severity"] == severity})


def check(text, cluster_domain="cluster.local"):
    return codes(coredns.validate_text(text, cluster_domain), "error")


def root(*lines, **kwargs):
    """A minimal valid root server block with extra directive lines."""
    body = "".join("    %s\n" % line for line in lines)
    k8s = kwargs.get("kubernetes", "    kubernetes cluster.local in-addr.arpa ip6.arpa\n")
    return ".:53 {\n    errors\n" + k8s + body + ROOT_TAIL


# ---------------------------------------------------------------- kubeadm default


def test_kubeadm_default_is_the_current_kubeadm_text():
    assert coredns.kubeadm_default() == read("kubeadm-current.Corefile")
    assert coredns.kubeadm_default("edge.local") == read("kubeadm-edge-local.Corefile")


@pytest.mark.parametrize("version,fixture", [
    # Read at the kubeadm release tags (cmd/kubeadm/app/phases/addons/dns/manifests.go): the same
    # text from v1.21.0 to v1.31.14, then the cache block keeping the cluster domain out from v1.32.0.
    ("v1.21.0", "kubeadm-1.21.Corefile"), ("1.29", "kubeadm-1.21.Corefile"), ("v1.31.14", "kubeadm-1.21.Corefile"),
    ("v1.32.0", "kubeadm-current.Corefile"), ("v1.34.4", "kubeadm-current.Corefile"),
    ("v1.37.2", "kubeadm-current.Corefile"), (None, "kubeadm-current.Corefile"),
])
def test_kubeadm_default_of_each_release(version, fixture):
    parsed, findings = coredns.parse_kubernetes_version(version)
    assert findings == []
    assert coredns.kubeadm_default("cluster.local", parsed) == read(fixture)
    # The bundle's base, when no live Corefile is given, is that release's default.
    text, findings = coredns.render(None, kubernetes_version=version)
    assert findings == [] and text == read(fixture)


def test_kubernetes_version_changes_the_merged_cache_lines():
    older, _unused = coredns.render(None, forwarders=["10.0.0.2"], kubernetes_version="v1.30.2")
    newer, _unused = coredns.render(None, forwarders=["10.0.0.2"], kubernetes_version="v1.33.1")
    assert "    cache 30\n    loop\n" in older and "disable success" not in older
    assert "       disable success cluster.local\n       disable denial cluster.local\n" in newer
    # A live Corefile is the base whatever the version: the version only names kubeadm's default.
    live = read("kubeadm-1.21.Corefile")
    merged, _unused = coredns.merge(live, forwarders=["10.0.0.2"], kubernetes_version="v1.33.1")
    assert "disable success" not in merged


@pytest.mark.parametrize("value,code", [("v1.20.15", "coredns_kubernetes_version_unsupported"),
                                        ("one.thirty", "coredns_kubernetes_version_invalid")])
def test_kubernetes_version_refused(value, code):
    text, findings = coredns.render(None, kubernetes_version=value)
    assert text is None
    assert [(f["code"], f["field"]) for f in findings] == [(code, "kubernetes_version")]


def test_kubeadm_default_passes_every_rule():
    assert coredns.validate_text(coredns.kubeadm_default("edge.local"), "edge.local") == []


@pytest.mark.parametrize("path", CORPUS, ids=os.path.basename)
def test_corpus_has_no_errors(path):
    findings = coredns.validate_text(read(path), domain_of(path))
    assert codes(findings, "error") == []
    legacy = "1.13" in path
    assert (codes(findings, "warning") == ["corefile_legacy_directive"]) is legacy


# ---------------------------------------------------------------- each rule, failing and passing


def test_unbalanced_braces():
    assert check(".:53 {\n    errors\n    kubernetes cluster.local\n") == ["corefile_unbalanced_braces"]
    assert check(".:53 {\n    kubernetes cluster.local\n}\n}\n") == ["corefile_unbalanced_braces"]
    assert check(root()) == []


def test_syntax_error_is_coded():
    assert check(".:53 { errors }\n") == ["corefile_syntax"]


def test_duplicate_server():
    assert check(root() + root()) == ["corefile_duplicate_server"]
    assert check(root() + ".:5353 {\n    whoami\n}\n") == []


@pytest.mark.parametrize("first, second", [
    ("example.org", "example.org:53"),
    ("Example.ORG.", "dns://example.org"),
    ("10.20.0.0/16", "20.10.in-addr.arpa"),
    ("tls://a.example", "tls://a.example:853"),
])
def test_duplicate_server_sees_through_spelling(first, second):
    text = root() + "%s {\n    whoami\n}\n%s {\n    whoami\n}\n" % (first, second)
    assert check(text) == ["corefile_duplicate_server"]


def test_duplicate_server_inside_one_block_and_bind_exception():
    assert check(root() + "a.example a.example:53 {\n    whoami\n}\n") == ["corefile_duplicate_server"]
    bound = "a.example {\n    bind 10.0.0.1\n    whoami\n}\na.example {\n    bind 10.0.0.2\n    whoami\n}\n"
    assert check(root() + bound) == []


def test_too_many_upstreams():
    sixteen = " ".join("10.0.%d.1" % i for i in range(16))
    fifteen = " ".join("10.0.%d.1" % i for i in range(15))
    assert check(root().replace("forward . 10.0.0.2", "forward . " + sixteen)) == ["forward_too_many_upstreams"]
    assert check(root().replace("forward . 10.0.0.2", "forward . " + fifteen)) == []


@pytest.mark.parametrize("upstream", ["127.0.0.53", "127.1.2.3:5353", "[::1]:53", "::1", "dns://127.0.0.1",
                                      "tls://[::1]", "::ffff:127.0.0.1", "0.0.0.0"])
def test_loopback_upstream(upstream):
    assert check(root().replace("forward . 10.0.0.2", "forward . 10.0.0.3 " + upstream)) == ["dns_server_loopback"]


@pytest.mark.parametrize("upstream", ["10.0.0.3", "10.0.0.3:5353", "[2001:db8::53]:53", "2001:db8::53",
                                      "tls://9.9.9.9", "dns://10.0.0.3:53", "/etc/resolv.conf", "{$UPSTREAM}"])
def test_valid_upstreams(upstream):
    assert check(root().replace("forward . 10.0.0.2", "forward . " + upstream)) == []


def test_loopback_in_legacy_proxy_and_in_a_snippet():
    assert check(root("proxy example.org 127.0.0.1")) == ["dns_server_loopback"]
    snippet = "(up) {\n    forward site.example 127.0.0.53\n}\n"
    assert check(snippet + root("import up")) == ["dns_server_loopback"]
    assert check("(up) {\n    forward site.example 10.9.9.9\n}\n" + root("import up")) == []


@pytest.mark.parametrize("upstream", ["localhost", "grpc://10.0.0.3", "10.0.0.3:99999", "10.1", "[::1",
                                      "[2001:db8::1]x"])
def test_invalid_upstream(upstream):
    assert check(root().replace("forward . 10.0.0.2", "forward . " + upstream)) == ["forward_invalid_upstream"]


def test_forward_without_upstream():
    assert check(root().replace("forward . 10.0.0.2", "forward .")) == ["forward_no_upstream"]


def test_hosts_without_fallthrough_in_the_root_zone():
    assert check(root("hosts {", "    10.0.0.9 plc.site.example", "}")) == ["hosts_without_fallthrough"]
    assert check(root("hosts /etc/hosts")) == ["hosts_without_fallthrough"]
    assert check(root("hosts {", "    10.0.0.9 plc.site.example", "    fallthrough", "}")) == []
    assert check(root("hosts /etc/hosts {", "    fallthrough .", "}")) == []


def test_hosts_fallthrough_must_cover_what_it_answers_for():
    limited = root("hosts {", "    10.0.0.9 plc.site.example", "    fallthrough site.example", "}")
    assert check(limited) == ["hosts_without_fallthrough"]


def test_hosts_limited_to_other_zones_or_outside_the_root_zone_needs_no_fallthrough():
    assert check(root("hosts /etc/site.hosts site.example")) == []
    assert check(root() + "site.example {\n    hosts {\n        10.0.0.9 plc.site.example\n    }\n}\n") == []


def test_hosts_zone_that_covers_the_cluster_domain_needs_fallthrough():
    assert check(root("hosts /etc/site.hosts local")) == ["hosts_without_fallthrough"]
    assert check(root("hosts /etc/site.hosts svc.cluster.local")) == ["hosts_without_fallthrough"]


def test_hosts_without_fallthrough_through_a_snippet():
    snippet = "(names) {\n    hosts {\n        10.0.0.9 plc.site.example\n    }\n}\n"
    assert check(snippet + root("import names")) == ["hosts_without_fallthrough"]


def test_hosts_entry_after_fallthrough():
    bad = root("hosts {", "    fallthrough", "    10.0.0.9 plc.site.example", "}")
    assert check(bad) == ["hosts_entry_after_fallthrough"]
    assert check(root("hosts {", "    10.0.0.9 plc.site.example", "    ttl 60", "    fallthrough", "}")) == []


def test_unknown_directive():
    assert check(root("forwardd . 1.1.1.1")) == ["corefile_unknown_directive"]
    assert check(root("log", "rewrite name exact a.example b.example")) == []


def test_legacy_directive_is_a_warning():
    findings = coredns.validate_text(root("proxy example.org 10.0.0.9"))
    assert [(f["code"], f["severity"]) for f in findings] == [("corefile_legacy_directive", "warning")]


def test_directive_repeated():
    assert check(root("cache 60")) == ["corefile_directive_repeated"]
    assert check(root("hosts {", "    fallthrough", "}", "hosts /etc/hosts {", "    fallthrough", "}")) == [
        "corefile_directive_repeated"]
    assert check(root("log", "log")) == []


def test_invalid_server_address():
    assert check(root() + "foo://a.example {\n    whoami\n}\n") == ["corefile_invalid_address"]
    assert check(root() + "a.example:http {\n    whoami\n}\n") == ["corefile_invalid_address"]
    assert check(root() + "a.example:70000 {\n    whoami\n}\n") == ["corefile_invalid_address"]
    assert check(root() + "a.example:1053 {\n    whoami\n}\n") == []


def test_cluster_domain_not_served():
    assert check(coredns.kubeadm_default("cluster.local"), "edge.local") == ["cluster_domain_not_served"]
    assert check(coredns.kubeadm_default("edge.local"), "edge.local") == []
    assert check(root(kubernetes=""), "cluster.local") == ["cluster_domain_not_served"]
    assert check("example.org {\n    whoami\n}\n") == ["cluster_domain_not_served"]


def test_cluster_domain_taken_by_a_longer_zone():
    hijack = root() + "cluster.local:53 {\n    forward . 10.9.9.9\n}\n"
    assert check(hijack) == ["cluster_domain_not_served"]
    served = root() + "cluster.local:53 {\n    kubernetes\n}\n"
    assert check(served) == []


def test_cluster_domain_in_an_imported_file_is_not_judged():
    assert check(".:53 {\n    import /etc/coredns/custom/*.override\n" + ROOT_TAIL) == []


def test_snippet_import_cycle():
    assert check("(a) {\n    import a\n}\n" + root("import a")) == ["corefile_syntax"]


# ---------------------------------------------------------------- inputs


@pytest.mark.parametrize("kwargs, code, field", [
    ({"forwarders": ["127.0.0.53"]}, "dns_server_loopback", "forwarders"),
    ({"forwarders": "10.0.0.1, localhost"}, "forward_invalid_upstream", "forwarders"),
    ({"forwarders": ["10.0.%d.1" % i for i in range(16)]}, "forward_too_many_upstreams", "forwarders"),
    ({"stub_domains": {"site.example": "::1"}}, "dns_server_loopback", "stub_domains.site.example"),
    ({"stub_domains": {"site.example": []}}, "forward_no_upstream", "stub_domains.site.example"),
    ({"stub_domains": {"bad zone!": ["10.0.0.1"]}}, "stub_domain_invalid", "stub_domains.bad zone!"),
    ({"stub_domains": {".": ["10.0.0.1"]}}, "stub_domain_invalid", "stub_domains.."),
    ({"stub_domains": {"svc.cluster.local": ["10.0.0.1"]}}, "stub_domain_invalid",
     "stub_domains.svc.cluster.local"),
    ({"stub_domains": ["site.example"]}, "stub_domain_invalid", "stub_domains"),
    ({"hosts": [{"ip": "10.0.0.300", "names": ["a.example"]}]}, "hosts_entry_invalid", "hosts[0]"),
    ({"hosts": [{"ip": "10.0.0.3", "names": []}]}, "hosts_entry_invalid", "hosts[0]"),
    ({"hosts": [{"ip": "10.0.0.3", "names": "bad_name!"}]}, "hosts_entry_invalid", "hosts[0]"),
    ({"hosts": ["10.0.0.3 a.example"]}, "hosts_entry_invalid", "hosts[0]"),
    ({"cluster_domain": "Cluster.Local"}, "cluster_domain_invalid", "cluster_domain"),
    ({"cluster_domain": "cluster..local"}, "cluster_domain_invalid", "cluster_domain"),
])
def test_bad_inputs_are_refused_with_their_field(kwargs, code, field):
    text, findings = coredns.render(**kwargs)
    assert text is None
    assert [(f["code"], f["field"]) for f in findings] == [(code, field)]


def test_good_inputs_in_every_accepted_form():
    text, findings = coredns.render(forwarders="10.0.0.1,10.0.0.2", stub_domains={
        "Site.Example.": "10.20.0.53, 10.20.0.54", "10.20.0.0/16": ["10.20.0.53"]},
        hosts=[{"ip": "10.20.1.10", "names": "plc-01.site.example, plc.site.example"},
               {"ip": "2001:db8::10", "names": ["hmi.site.example"]}])
    assert findings == []
    assert "forward . 10.0.0.1 10.0.0.2 {" in text
    # The names lie in the stub zone, so they are answered in its block (and kept in the root's,
    # where their PTR records are asked).
    assert ("\nsite.example:53 {\n    errors\n    cache 30\n    # managed by edgeops.k8s_network\n"
            "    hosts /dev/null {\n        10.20.1.10 plc-01.site.example plc.site.example\n"
            "        2001:db8::10 hmi.site.example\n        fallthrough\n    }\n"
            "    forward . 10.20.0.53 10.20.0.54\n}\n") in text
    assert "\n10.20.0.0/16:53 {\n    errors\n    cache 30\n    forward . 10.20.0.53\n}\n" in text
    assert "       10.20.1.10 plc-01.site.example plc.site.example\n" in text
    assert "       2001:db8::10 hmi.site.example\n" in text


# ---------------------------------------------------------------- merge

SETTINGS = dict(forwarders=["192.168.10.2", "192.168.10.3"],
                stub_domains={"plant.example": ["10.30.0.53"]},
                hosts=[{"ip": "10.20.1.10", "names": ["plc-01.site.example"]}])


@pytest.mark.parametrize("path", CORPUS, ids=os.path.basename)
def test_merge_without_settings_changes_nothing(path):
    text = read(path)
    merged, findings = coredns.merge(text, domain_of(path))
    assert merged == text
    assert codes(findings, "error") == []


@pytest.mark.parametrize("path", CORPUS, ids=os.path.basename)
def test_merge_is_idempotent(path):
    once, findings = coredns.merge(read(path), domain_of(path), **SETTINGS)
    # A live block of its own for site.example takes plc-01.site.example from the root block.
    shadowed = ["hosts_name_shadowed"] if "\nsite.example:53 {" in read(path) else []
    assert codes(findings, "error") == shadowed
    twice, _unused = coredns.merge(once, domain_of(path), **SETTINGS)
    assert twice == once


def _managed(line):
    """Lines merge may rewrite: the root upstreams, and hosts entries that name a managed name."""
    words = line.split()
    managed_names = set(n for entry in SETTINGS["hosts"] for n in entry["names"])
    return bool(words) and (words[0] in ("forward", "proxy") and words[1:2] == ["."]
                            or bool(managed_names & set(words[1:])))


@pytest.mark.parametrize("path", CORPUS, ids=os.path.basename)
def test_merge_keeps_every_unmanaged_line_and_comment(path):
    text = read(path)
    merged, _unused = coredns.merge(text, domain_of(path), **SETTINGS)
    removed = [line for line in difflib.ndiff(text.splitlines(), merged.splitlines()) if line.startswith("- ")]
    assert all(_managed(line[2:]) for line in removed), removed
    for line in text.splitlines():
        if line.strip().startswith("#"):
            assert line in merged.splitlines()


def test_merge_into_the_kubeadm_default_exactly():
    merged, findings = coredns.merge(read("kubeadm-current.Corefile"), **SETTINGS)
    assert findings == []
    assert merged == read("kubeadm-current.Corefile").replace(
        "    prometheus :9153\n    forward . /etc/resolv.conf {",
        "    # managed by edgeops.k8s_network\n    hosts /dev/null {\n       10.20.1.10 plc-01.site.example\n"
        "       fallthrough\n    }\n    prometheus :9153\n    forward . 192.168.10.2 192.168.10.3 {"
    ) + ("\n# managed by edgeops.k8s_network\nplant.example:53 {\n    errors\n    cache 30\n"
         "    forward . 10.30.0.53\n}\n")


def test_merge_updates_a_legacy_proxy_in_place():
    merged, _unused = coredns.merge(read("kubeadm-1.13.Corefile"), forwarders=["10.0.0.2"])
    assert "    proxy . 10.0.0.2\n" in merged and "forward" not in merged


def test_merge_adds_a_forward_when_the_root_zone_has_none():
    text = ".:53 {\n    errors\n    kubernetes cluster.local\n    cache 30\n}\n"
    merged, findings = coredns.merge(text, forwarders=["10.0.0.2"])
    assert merged == ".:53 {\n    errors\n    kubernetes cluster.local\n    forward . 10.0.0.2\n    cache 30\n}\n"
    assert findings == []


def test_merge_needs_a_root_server_for_forwarders():
    text = "cluster.local:53 {\n    kubernetes\n}\n"
    merged, findings = coredns.merge(text, forwarders=["10.0.0.2"])
    assert "corefile_no_root_server" in codes(findings)
    assert coredns.merge(text)[1] == []


def test_user_stub_block_gets_new_upstreams_and_keeps_its_options():
    text = read("stub-domains.Corefile")
    merged, findings = coredns.merge(text, stub_domains={"site.example": ["10.20.0.55"]})
    assert findings == []
    assert merged == text.replace("forward . 10.20.0.53 10.20.0.54 {", "forward . 10.20.0.55 {")


def test_user_stub_block_is_never_removed():
    text = read("stub-domains.Corefile")
    assert coredns.merge(text, stub_domains={})[0] == text


def test_managed_stub_block_goes_away_with_its_zone():
    text = read("kubeadm-current.Corefile")
    added, _unused = coredns.merge(text, stub_domains={"a.example": "10.0.0.53", "b.example": "10.0.0.54"})
    assert "\na.example:53 {" in added and "\nb.example:53 {" in added
    one, _unused = coredns.merge(added, stub_domains={"b.example": "10.0.0.54"})
    assert "a.example" not in one and "\nb.example:53 {" in one
    assert coredns.merge(one, stub_domains={})[0] == text


def test_managed_hosts_block_holds_exactly_the_given_entries():
    text = read("kubeadm-current.Corefile")
    first, _unused = coredns.merge(text, hosts=[{"ip": "10.0.0.1", "names": ["a.example"]}])
    second, _unused = coredns.merge(first, hosts=[{"ip": "10.0.0.2", "names": ["b.example"]}])
    assert "10.0.0.1" not in second and "       10.0.0.2 b.example\n       fallthrough\n" in second
    assert coredns.merge(second, hosts=[])[0] == text


def test_user_hosts_block_keeps_its_file_options_and_other_entries():
    text = read("hosts-inline.Corefile")
    merged, findings = coredns.merge(text, hosts=[{"ip": "10.20.1.11", "names": ["plc.site.example"]},
                                                  {"ip": "10.20.1.30", "names": ["scada.site.example"]}])
    assert findings == []
    assert merged == text.replace(
        "        10.20.1.10 plc-01.site.example plc.site.example\n        10.20.1.20 hmi-01.site.example\n",
        "        10.20.1.10 plc-01.site.example\n        10.20.1.20 hmi-01.site.example\n"
        "        10.20.1.11 plc.site.example\n        10.20.1.30 scada.site.example\n")
    assert coredns.merge(merged, hosts=[{"ip": "10.20.1.11", "names": ["plc.site.example"]},
                                        {"ip": "10.20.1.30", "names": ["scada.site.example"]}])[0] == merged


def test_k3s_node_hosts_get_the_entries_before_their_options():
    text = read("k3s.Corefile")
    merged, findings = coredns.merge(text, forwarders="10.0.0.2", hosts=[{"ip": "10.0.0.9", "names": "a.example"}])
    assert findings == []
    assert ("    hosts /etc/coredns/NodeHosts {\n      10.0.0.9 a.example\n      ttl 60\n" in merged)
    assert "import /etc/coredns/custom/*.override\n}\nimport /etc/coredns/custom/*.server\n" in merged


def test_hosts_without_block_gets_one_with_fallthrough():
    text = root("hosts /etc/hosts # node file")
    merged, findings = coredns.merge(text, hosts=[{"ip": "10.0.0.9", "names": ["a.example"]}])
    assert findings == []
    assert "    hosts /etc/hosts {\n        10.0.0.9 a.example\n        fallthrough\n    } # node file\n" in merged


def test_merge_keeps_windows_line_ends():
    text = read("kubeadm-current.Corefile").replace("\n", "\r\n")
    merged, findings = coredns.merge(text, **SETTINGS)
    assert findings == []
    assert "\n" not in merged.replace("\r\n", "")


def test_merge_refuses_what_the_live_corefile_already_breaks():
    live = read("kubeadm-current.Corefile").replace("forward . /etc/resolv.conf", "forward . 127.0.0.53")
    text, findings = coredns.merge(live)
    assert codes(findings) == ["dns_server_loopback"]
    fixed, findings = coredns.merge(live, forwarders=["10.0.0.2"])
    assert findings == [] and "127.0.0.53" not in fixed


def test_merge_of_an_unreadable_corefile_is_a_coded_finding():
    text, findings = coredns.merge(".:53 {\n    errors\n")
    assert text is None and codes(findings) == ["corefile_unbalanced_braces"]


def test_merge_keeps_another_cluster_domain_and_says_so():
    text, findings = coredns.merge(read("kubeadm-current.Corefile"), "edge.local")
    assert codes(findings) == ["cluster_domain_not_served"]
    assert "use replace" in findings[0]["message"]


def test_replace_drops_customisations():
    text, findings = coredns.replace("edge.local", forwarders=["10.0.0.2"])
    assert findings == []
    assert text == read("kubeadm-edge-local.Corefile").replace("forward . /etc/resolv.conf", "forward . 10.0.0.2")
    live = read("rewrite.Corefile")
    replaced, _unused = coredns.render(live, "cluster.local", strategy="replace")
    assert replaced == coredns.kubeadm_default()


def test_empty_live_corefile_starts_from_the_kubeadm_default():
    assert coredns.merge("  \n", "edge.local")[0] == coredns.kubeadm_default("edge.local")
    assert coredns.merge(None)[0] == coredns.kubeadm_default()


# ---------------------------------------------------------------- objects and diff


def test_configmap_is_a_valid_core_object():
    obj = coredns.configmap(coredns.kubeadm_default(), "kube-system", "coredns")
    assert kubernetes_validate.validate(obj, "1.33", strict=True)
    assert obj["metadata"] == {"name": "coredns", "namespace": "kube-system"}
    assert obj["data"] == {"Corefile": coredns.kubeadm_default()}
    broken = dict(obj, data={"Corefile": 42})
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, "1.33", strict=True)


def test_dump_resources_writes_a_readable_block_that_loads_back():
    text = coredns.replace(forwarders=["10.0.0.2"])[0]
    dumped = manifest_file.dump_resources([coredns.configmap(text)])
    assert "  Corefile: |\n    .:53 {\n        errors\n" in dumped
    assert list(yaml.safe_load_all(dumped)) == [coredns.configmap(text)]
    crlf = text.replace("\n", "\r\n")
    assert list(yaml.safe_load_all(manifest_file.dump_resources([coredns.configmap(crlf)]))) == [coredns.configmap(crlf)]


def test_unified_diff():
    before = read("kubeadm-current.Corefile")
    after = before.replace("forward . /etc/resolv.conf", "forward . 10.0.0.2")
    diff = coredns.unified_diff(before, after)
    assert diff.startswith("--- Corefile (live)\n+++ Corefile (rendered)\n")
    assert "\n-    forward . /etc/resolv.conf {\n+    forward . 10.0.0.2 {\n" in diff
    assert coredns.unified_diff(before, before) == ""
    assert "No newline at end of file" in coredns.unified_diff("a", "b")


def test_normalize_zone():
    assert coredns.normalize_zone("Example.ORG") == "example.org."
    assert coredns.normalize_zone("10.20.0.0/16") == "20.10.in-addr.arpa."
    assert coredns.normalize_zone("2001:db8::/32") == "8.b.d.0.1.0.0.2.ip6.arpa."
    assert coredns.normalize_zone("") == "."


def test_parse_tree_reaches_the_validator():
    tree = cf.parse(root())
    assert coredns.validate(tree) == []


# ---------------------------------------------------------------- hosts names in stub zones


def test_hosts_in_a_stub_zone_are_answered_in_the_stub_block():
    # The role's own examples together: the stub site.example and the host plc-01.site.example.
    text, findings = coredns.render(None, stub_domains={"site.example": ["10.20.0.53"]},
                                    hosts=[{"ip": "10.20.1.10", "names": ["plc-01.site.example", "plc.lan"]}])
    assert findings == []
    tree = cf.parse(text)
    stub = [server for server in tree.servers if server.keys == ["site.example:53"]][0]
    entries = [item.args for item in coredns._hosts_layout(stub.block.first("hosts"))[2]]
    assert entries == [["plc-01.site.example"]]  # plc.lan is outside the zone: the root block answers it
    root_hosts = coredns._root_server(tree).block.first("hosts")
    assert [item.args for item in coredns._hosts_layout(root_hosts)[2]] == [["plc-01.site.example", "plc.lan"]]
    assert stub.block.first("hosts").block.first("fallthrough") is not None
    again, _unused = coredns.merge(text, stub_domains={"site.example": ["10.20.0.53"]},
                                   hosts=[{"ip": "10.20.1.10", "names": ["plc-01.site.example", "plc.lan"]}])
    assert again == text


def test_a_name_goes_to_the_deepest_stub_zone():
    placed = coredns.entries_by_zone([("10.0.0.1", ["a.b.example", "c.example", "d.other"])],
                                     ["example.", "b.example."])
    assert placed == {"b.example.": [("10.0.0.1", ["a.b.example"])], "example.": [("10.0.0.1", ["c.example"])]}


def test_hosts_leave_the_stub_block_when_no_name_is_in_its_zone():
    text, _unused = coredns.render(None, stub_domains={"site.example": ["10.20.0.53"]},
                                   hosts=[{"ip": "10.20.1.10", "names": ["plc-01.site.example"]}])
    moved, findings = coredns.merge(text, stub_domains={"site.example": ["10.20.0.53"]},
                                    hosts=[{"ip": "10.20.1.10", "names": ["plc-01.lan"]}])
    assert findings == []
    stub = [server for server in cf.parse(moved).servers if server.keys == ["site.example:53"]][0]
    assert stub.block.first("hosts") is None


def test_a_user_block_for_the_zone_gets_the_entry_when_listed_as_stub():
    live = read("stub-domains.Corefile")
    hosts = [{"ip": "10.20.1.10", "names": ["plc-01.site.example"]}]
    _unused, findings = coredns.merge(live, hosts=hosts)
    shadowed = [f for f in findings if f["code"] == "hosts_name_shadowed"]
    assert len(shadowed) == 1 and "plc-01.site.example" in shadowed[0]["message"]
    merged, findings = coredns.merge(live, stub_domains={"site.example": ["10.20.0.53"]}, hosts=hosts)
    assert codes(findings, "error") == []
    stub = [server for server in cf.parse(merged).servers if "site.example:53" in server.keys][0]
    assert [item.args for item in coredns._hosts_layout(stub.block.first("hosts"))[2]] == [["plc-01.site.example"]]


@pytest.mark.parametrize("zone", ["10.in-addr.arpa", "27.172.in-addr.arpa", "5.28.172.in-addr.arpa", "in-addr.arpa",
                                  "172.28.0.0/16"])
def test_a_reverse_stub_zone_may_not_take_the_cluster_s_ptr_records(zone):
    text, findings = coredns.render(None, stub_domains={zone: ["10.20.0.53"]}, pod_cidr="172.27.0.0/16",
                                    service_cidr="172.28.0.0/16")
    if zone == "10.in-addr.arpa":
        assert findings == [] and text is not None
        return
    assert text is None
    assert [(f["code"], f["field"]) for f in findings] == [("stub_domain_reverse_overlap", "stub_domains.%s" % zone)]


@pytest.mark.parametrize("zone,cidr", [("10.in-addr.arpa.", "10.0.0.0/8"), ("in-addr.arpa.", "0.0.0.0/0"),
                                       ("1.0.168.192.in-addr.arpa.", "192.168.0.1/32"),
                                       ("8.b.d.0.1.0.0.2.ip6.arpa.", "2001:db8::/32"),
                                       ("site.example.", None), ("300.in-addr.arpa.", None)])
def test_reverse_zone_network(zone, cidr):
    network = coredns.reverse_zone_network(zone)
    assert (str(network.cidr) if network is not None else None) == cidr


def test_managed_hosts_read_no_file():
    # Without a file argument the plugin would also serve the CoreDNS container's /etc/hosts.
    text, _unused = coredns.render(None, hosts=[{"ip": "10.20.1.10", "names": ["plc.lan"]}])
    assert "    hosts /dev/null {\n       10.20.1.10 plc.lan\n" in text
    # A block written by an earlier release (no file) is brought in line; a user's file stays.
    older = text.replace("hosts /dev/null {", "hosts {")
    assert coredns.merge(older, hosts=[{"ip": "10.20.1.10", "names": ["plc.lan"]}])[0] == text
    k3s = read("k3s.Corefile")
    merged, _unused = coredns.merge(k3s, hosts=[{"ip": "10.20.1.10", "names": ["plc.lan"]}])
    assert "hosts /etc/coredns/NodeHosts {" in merged and "/dev/null" not in merged
