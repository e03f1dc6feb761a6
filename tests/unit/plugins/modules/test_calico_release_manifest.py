"""calico_config customises calico.yaml itself in manifest mode: env beats FelixConfiguration."""

import json

import pytest
import yaml
from ansible.module_utils.testing import patch_module_args

from ansible_collections.edgeops.k8s_network.plugins.modules import calico_config

RELEASE = [
    {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "calico-config", "namespace": "kube-system"},
     "data": {"veth_mtu": "0", "calico_backend": "bird"}},
    {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "calico-node", "namespace": "kube-system"},
     "spec": {"template": {"spec": {"containers": [
         {"name": "calico-node", "env": [{"name": "IP", "value": "autodetect"},
                                         {"name": "IP_AUTODETECTION_METHOD", "value": "first-found"}]}]}}}},
    {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "calico-node", "namespace": "kube-system"}},
]
NETWORK = {"pod_cidr": "172.27.0.0/16", "subnet": "192.168.10.0/24", "mtu": 1500, "service_cidr": "172.28.0.0/16"}


def run(capsys, **args):
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            calico_config.main()
    return json.loads(capsys.readouterr().out)


def test_release_manifest_gets_site_mtu_and_autodetection(capsys, tmp_path):
    path = tmp_path / "calico.yaml"
    path.write_text(yaml.safe_dump_all(RELEASE))
    result = run(capsys, install_mode="manifest", compute_network=NETWORK, encapsulation="VXLANCrossSubnet",
                 release_manifest=str(path))
    assert not result.get("failed"), result.get("msg")
    config, daemonset, account = result["release_resources"]
    assert config["data"] == {"veth_mtu": "1450", "calico_backend": "bird"}
    env = daemonset["spec"]["template"]["spec"]["containers"][0]["env"]
    # The method replaces first-found in place; calico-node's own default pool becomes the site's.
    assert env == [{"name": "IP", "value": "autodetect"},
                   {"name": "IP_AUTODETECTION_METHOD", "value": "cidr=192.168.10.0/24"},
                   {"name": "CALICO_IPV4POOL_CIDR", "value": "172.27.0.0/16"},
                   {"name": "CALICO_IPV4POOL_BLOCK_SIZE", "value": "26"},
                   {"name": "CALICO_IPV4POOL_IPIP", "value": "Never"},
                   {"name": "CALICO_IPV4POOL_VXLAN", "value": "CrossSubnet"},
                   {"name": "CALICO_IPV4POOL_NAT_OUTGOING", "value": "true"}]
    assert account == RELEASE[2]


def test_pool_of_another_name_means_no_default_pool(capsys, tmp_path):
    """calico-node would create default-ipv4-ippool beside the site's pool: it creates none."""
    path = tmp_path / "calico.yaml"
    path.write_text(yaml.safe_dump_all(RELEASE))
    result = run(capsys, install_mode="manifest", compute_network=dict(NETWORK, block_size=24),
                 pool_name="site-pool", release_manifest=str(path))
    assert not result.get("failed"), result.get("msg")
    env = result["release_resources"][1]["spec"]["template"]["spec"]["containers"][0]["env"]
    names = [item["name"] for item in env]
    assert {"name": "NO_DEFAULT_POOLS", "value": "true"} in env
    assert "CALICO_IPV4POOL_CIDR" not in names
    assert result["pool"]["block_size"] == 24  # compute_network's block size, the one setting


def test_unreadable_release_manifest_is_a_coded_error(capsys, tmp_path):
    path = tmp_path / "calico.yaml"
    path.write_text("a: [unclosed\n")
    result = run(capsys, install_mode="manifest", compute_network=NETWORK, release_manifest=str(path))
    assert result["failed"] is True
    assert result["msg"].startswith("[calico_release_manifest_unreadable] release_manifest:")
