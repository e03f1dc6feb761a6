"""The renderers' and bundle_file's action plugins: the module's answers, written the module's way.

Each input runs through the module as Ansible runs it on a host and through the action plugin
as the controller runs it. Both must give the same result (objects, findings, failure and
message, warnings, changed, diff) and, with ``dest``, the same file with the same mode, in
check mode and with --diff too. Where the action cannot stand in for the module (a file on
another host, become, file options only AnsibleModule applies) it must run the module.
"""

import json
import os
import stat
import sys

import pytest

from ansible_collections.edgeops.k8s_network.plugins.action import bundle_file as bundle_file_action
from ansible_collections.edgeops.k8s_network.plugins.action import calico_config as calico_action
from ansible_collections.edgeops.k8s_network.plugins.action import coredns_config as coredns_action
from ansible_collections.edgeops.k8s_network.plugins.action import metallb_config as metallb_action
from ansible_collections.edgeops.k8s_network.plugins.module_utils import ipranges
from ansible_collections.edgeops.k8s_network.plugins.modules import bundle_file, calico_config, coredns_config
from ansible_collections.edgeops.k8s_network.plugins.modules import metallb_config

from unittest.mock import MagicMock

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import two_paths  # noqa: E402  (tests/unit is not a package)

NETWORK = {
    "subnet": "192.168.10.0/24", "gateway": "192.168.10.1", "pod_cidr": "172.27.0.0/16",
    "service_cidr": "172.28.0.0/16", "mtu": 1500, "encapsulation": "IPIPCrossSubnet", "pod_mtu": 1480,
    "block_size": 26, "cluster_domain": "edge.local", "dns_servers": ["192.168.10.2", "192.168.10.3"],
    "cluster_dns_ip": "172.28.0.10",
    "node_ips": {"ranges": ["192.168.10.11-192.168.10.12"]},
    "external_service_ips": {"ranges": ["192.168.10.100-192.168.10.119"]},
}
LIVE_POOL = [{
    "apiVersion": "operator.tigera.io/v1", "kind": "Installation", "metadata": {"name": "default"},
    "spec": {"calicoNetwork": {"ipPools": [{"name": "default-ipv4-ippool", "cidr": "10.244.0.0/16", "blockSize": 26,
                                            "encapsulation": "IPIP", "natOutgoing": "Enabled",
                                            "nodeSelector": "all()"}]}},
}]
PASSWORD = "Tcp-Md5-Secret-7731"
LIVE_COREFILE = ".:53 {\n    errors\n    kubernetes cluster.local in-addr.arpa ip6.arpa {\n       pods insecure\n" \
                "       fallthrough in-addr.arpa ip6.arpa\n    }\n    forward . /etc/resolv.conf\n    cache 30\n" \
                "    loop\n    reload\n}\n"

RENDERERS = {"calico_config": (calico_config, calico_action), "metallb_config": (metallb_config, metallb_action),
             "coredns_config": (coredns_config, coredns_action), "bundle_file": (bundle_file, bundle_file_action)}

INPUTS = {
    "calico_config": {
        "operator": dict(compute_network=NETWORK),
        "manifest mode, VXLAN, autodetection": dict(compute_network=NETWORK, install_mode="manifest",
                                                    encapsulation="VXLAN", mtu="1400",
                                                    node_address_autodetection={"cidrs": ["192.168.10.0/24"]}),
        "errors": dict(compute_network=NETWORK, block_size=33, pod_cidr="172.27.0.1/16"),
        "drift refused": dict(compute_network=NETWORK, live=LIVE_POOL),
        "drift planned": dict(compute_network=NETWORK, live=LIVE_POOL, allow_migration=True),
        "bad choice": dict(compute_network=NETWORK, encapsulation="GRE"),
        "unknown option": dict(compute_network=NETWORK, podcidr="10.0.0.0/16"),
        "bad suboption": dict(compute_network=NETWORK, node_address_autodetection={"kubernetes": "Other"}),
    },
    "metallb_config": {
        "layer2": dict(compute_network=NETWORK),
        "bgp with a password": dict(compute_network=NETWORK, protocol="bgp", bgp_peers=[
            {"name": "tor-a", "peer_address": "192.168.10.1", "peer_asn": 64512, "my_asn": "64513",
             "password": PASSWORD}]),
        "pools overlap": dict(compute_network=NETWORK, pools=[
            {"name": "a", "addresses": ["192.168.10.100-192.168.10.110"]},
            {"name": "b", "addresses": ["192.168.10.110-192.168.10.119"]}]),
        "configmap": dict(compute_network=NETWORK, format="configmap"),
        "orphan": dict(compute_network=NETWORK, assigned=[{"namespace": "shop", "name": "web", "ip": "192.168.10.130"}]),
        "orphan allowed": dict(compute_network=NETWORK, allow_orphaned_ips=True,
                               assigned=[{"namespace": "shop", "name": "web", "ip": "192.168.10.130"}]),
        "unknown option": dict(compute_network=NETWORK, pool=[]),
    },
    "coredns_config": {
        "from the network": dict(compute_network=NETWORK),
        "merge into live": dict(compute_network=NETWORK, corefile=LIVE_COREFILE, cluster_domain="cluster.local",
                                hosts=[{"ip": "192.168.10.50", "names": ["registry.edge.local"]}]),
        "replace": dict(compute_network=NETWORK, corefile=LIVE_COREFILE, strategy="replace",
                        stub_domains={"corp.example": ["10.1.1.1"]}),
        "loopback upstream": dict(compute_network=NETWORK, forwarders="127.0.0.53"),
        "hosts entry without names": dict(compute_network=NETWORK, hosts=[{"ip": "192.168.10.50"}]),
        "unknown option": dict(compute_network=NETWORK, upstreams=["10.0.0.1"]),
    },
    "bundle_file": {
        "resources": dict(resources=[{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"},
                                      "data": {"text": "two\nlines\n"}}]),
        "content": dict(content="kind: List\n"),
        "both": dict(resources=[], content="x"),
        "neither": dict(),
    },
}
CASES = [(name, case) for name in sorted(INPUTS) for case in sorted(INPUTS[name])]
WRITES = [(name, case) for name, case in CASES if name != "bundle_file" or case in ("content", "resources")]


def _both(capsys, monkeypatch, name, args, **options):
    module, action = RENDERERS[name]
    from_module = two_paths.module_result(capsys, monkeypatch, module, args, **options)
    from_module.pop("invocation", None)
    from_action = two_paths.action_result(action, args, name, **options)
    return from_module, from_action


def _args(name, case, folder):
    args = dict(INPUTS[name][case])
    if name == "bundle_file":
        args.setdefault("dest", os.path.join(folder, "out.yaml"))
    return args


@pytest.mark.parametrize("name,case", CASES)
def test_action_answers_as_the_module_does(capsys, monkeypatch, tmp_path, name, case):
    # bundle_file in check mode: the module's write must not hide the action's (both name one dest).
    from_module, from_action = _both(capsys, monkeypatch, name, _args(name, case, str(tmp_path)),
                                     check_mode=name == "bundle_file")
    if case == "unknown option":
        option = (set(INPUTS[name][case]) - set(RENDERERS[name][0].ARGUMENT_SPEC)).pop()
        assert two_paths.unsupported_message_matches(from_module.pop("msg"), from_action.pop("msg"), name, option)
    assert from_action == from_module
    if case in ("errors", "pools overlap", "loopback upstream", "bad choice", "both", "neither", "drift refused",
                "orphan", "bad suboption", "hosts entry without names"):
        assert from_action["failed"] is True and from_action["msg"]


def _written(path):
    with open(path) as handle:
        return handle.read(), stat.S_IMODE(os.stat(path).st_mode)


def _dest_run(capsys, monkeypatch, tmp_path, name, case, **options):
    """Module and action each writing their own copy of ``dest``; results with the folders named alike."""
    results, files = [], []
    for side in ("module", "action"):
        dest = str(tmp_path / side / "sub" / "out.yaml")
        args = dict(_args(name, case, ""), dest=dest, mode="0640")
        module, action = RENDERERS[name]
        if side == "module":
            result = two_paths.module_result(capsys, monkeypatch, module, args, **options)
            result.pop("invocation", None)
        else:
            result = two_paths.action_result(action, args, name, **options)
        results.append(json.loads(json.dumps(result).replace(str(tmp_path / side), "<folder>")))
        files.append(_written(dest) if os.path.exists(dest) else None)
    return results, files


DEST_CASES = ("operator", "layer2", "merge into live", "content", "resources", "errors")


@pytest.mark.parametrize("name,case", [w for w in WRITES if w[1] in DEST_CASES])
def test_dest_is_written_alike_in_check_mode_then_for_real_then_unchanged(capsys, monkeypatch, tmp_path, name, case):
    (from_module, from_action), files = _dest_run(capsys, monkeypatch, tmp_path, name, case,
                                                  check_mode=True, diff=True)
    assert from_action == from_module
    assert files == [None, None]  # check mode writes nothing, not even the folder
    assert not os.path.exists(str(tmp_path / "action" / "sub"))
    if case == "errors":
        assert from_action["failed"] and from_action["changed"] is False
        return
    assert from_action["changed"] is True and from_action["diff"]

    (from_module, from_action), files = _dest_run(capsys, monkeypatch, tmp_path, name, case, diff=True)
    assert from_action == from_module and from_action["changed"] is True
    assert files[0] == files[1] and files[1][1] == 0o640 and files[1][0]

    (from_module, from_action), files = _dest_run(capsys, monkeypatch, tmp_path, name, case)
    assert from_action == from_module
    assert from_action["changed"] is False or name == "coredns_config" and from_action["corefile_diff"]
    assert files[0] == files[1]


def test_a_mode_change_alone_is_a_change(capsys, monkeypatch, tmp_path):
    _dest_run(capsys, monkeypatch, tmp_path, "calico_config", "operator")
    for side in ("module", "action"):
        os.chmod(str(tmp_path / side / "sub" / "out.yaml"), 0o600)
    (from_module, from_action), files = _dest_run(capsys, monkeypatch, tmp_path, "calico_config", "operator")
    assert from_action == from_module and from_action["changed"] is True
    assert files[0] == files[1] and files[1][1] == 0o640


def test_an_existing_file_keeps_its_mode_when_none_is_given(tmp_path):
    dest = tmp_path / "out.yaml"
    dest.write_text("old\n")
    os.chmod(str(dest), 0o600)
    result = two_paths.action_result(bundle_file_action, {"dest": str(dest), "content": "new\n"}, "bundle_file")
    assert result["changed"] is True
    assert _written(str(dest)) == ("new\n", 0o600)
    assert [p.name for p in tmp_path.iterdir()] == ["out.yaml"]  # no temporary file left behind


def test_password_never_reaches_the_result():
    args = INPUTS["metallb_config"]["bgp with a password"]
    result = two_paths.action_result(metallb_action, args, "metallb_config")
    assert not result.get("failed")
    assert PASSWORD not in json.dumps(result)
    assert result["password_secrets"][0]["name"] == "metallb-bgp-tor-a"


def test_release_manifest_read_on_the_controller(capsys, monkeypatch, tmp_path):
    manifest = tmp_path / "calico.yaml"
    manifest.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: calico-config, namespace: kube-system}\n"
                        "data: {veth_mtu: '0'}\n")
    args = dict(compute_network=NETWORK, install_mode="manifest", release_manifest=str(manifest))
    from_module, from_action = _both(capsys, monkeypatch, "calico_config", args)
    assert from_action == from_module
    assert from_action["release_resources"][0]["data"]["veth_mtu"] == "1480"

    args["release_manifest"] = str(tmp_path / "missing.yaml")
    from_module, from_action = _both(capsys, monkeypatch, "calico_config", args)
    assert from_action == from_module
    assert from_action["msg"].startswith("[calico_release_manifest_unreadable] release_manifest:")


@pytest.mark.parametrize("options,args", [
    ({"transport": "ssh"}, {}),
    ({"become": True}, {}),
    ({}, {"mode": "u=rw,g=r"}),
    ({}, {"setype": "container_file_t"}),
    ({}, {"attributes": "+i"}),
])
def test_what_only_the_module_can_do_runs_the_module(tmp_path, options, args):
    args = dict(compute_network=NETWORK, dest=str(tmp_path / "out.yaml"), **args)
    plugin = two_paths.plugin(calico_action, args, "calico_config", **options)
    plugin._execute_module = MagicMock(return_value={"changed": True, "from": "module"})
    assert plugin.run(task_vars={}) == {"changed": True, "from": "module"}
    assert not os.path.exists(args["dest"])


def test_without_dest_the_action_renders_even_for_a_remote_host():
    plugin = two_paths.plugin(calico_action, dict(compute_network=NETWORK), "calico_config", transport="ssh")
    plugin._execute_module = MagicMock()
    result = plugin.run(task_vars={})
    assert plugin._execute_module.call_count == 0
    assert result["resources"][0]["kind"] == "Installation"


def test_controller_without_netaddr_runs_the_module(monkeypatch):
    plugin = two_paths.plugin(coredns_action, dict(compute_network=NETWORK), "coredns_config")
    plugin._execute_module = MagicMock(return_value={"failed": True, "msg": "Failed to import netaddr"})
    monkeypatch.setattr(ipranges, "HAS_NETADDR", False)
    assert plugin.run(task_vars={})["msg"] == "Failed to import netaddr"
    assert plugin._execute_module.call_count == 1
