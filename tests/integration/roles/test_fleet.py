# Copyright: contributors to edgeops.k8s_network
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A fleet in one run: examples/fleet (two single-node sites and a two-node cluster).

validate.yml, render.yml and bringup.yml take the hosts that share k8s_network_cluster as one
cluster: each cluster is checked once with its own settings and node count, rendered into its
own bundle, and a bad site stops only itself. Two clusters writing one folder, or applied
through one kubeconfig and context, are refused before anything is written or sent.
"""

import json
import os
import shutil
import subprocess
import sys

import pytest
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", ".."))
from emulator.fixtures import ansible_env, emulated_api_factory, parse_recap, run_playbook  # noqa: E402,F401 pylint: disable=unused-import

REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
EXAMPLE = os.path.join(REPO, "examples", "fleet")
# No release manifests at hand (downloads are off in tests): the bundle says so in README.md.
FILES = ["20-calico.yaml", "40-metallb.yaml", "50-coredns.yaml", "90-verify.yaml", "README.md", "images.txt",
         "kustomization.yaml"]
SITES = ["site_depot_3", "site_store_17", "site_store_42"]


def fleet_inventory(tmp_path, **site_changes):
    """A copy of examples/fleet whose bundles go under tmp_path, with some sites' vars changed."""
    inventory = tmp_path / "fleet"
    shutil.copytree(EXAMPLE, str(inventory))
    common = inventory / "group_vars" / "all.yml"
    data = yaml.safe_load(common.read_text())
    data["k8s_network_bundle_dir"] = str(tmp_path / "bundles") + "/{{ k8s_network_cluster }}"
    data["k8s_network_manifest_download"] = False  # tests send traffic to loopback only
    common.write_text(yaml.safe_dump(data))
    for site, changes in site_changes.items():
        path = inventory / "group_vars" / (site + ".yml")
        site_vars = yaml.safe_load(path.read_text())
        site_vars.update(changes)
        path.write_text(yaml.safe_dump(site_vars))
    return str(inventory)


def run(tmp_path, playbook, inventory, *args):
    env = dict(ansible_env(str(tmp_path)), ANSIBLE_FORKS="8")
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", inventory,
               os.path.join(REPO, "playbooks", playbook)] + list(args)
    proc = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=600, check=False)
    return proc.returncode, parse_recap(proc.stdout), proc.stdout + proc.stderr


def bundle(tmp_path, site):
    folder = tmp_path / "bundles" / site
    return sorted(os.listdir(str(folder))) if folder.is_dir() else []


def objects(tmp_path, site, name):
    text = (tmp_path / "bundles" / site / name).read_text()
    return [o for o in yaml.safe_load_all(text) if o]


def test_each_cluster_is_rendered_once_with_its_own_settings(tmp_path):
    rc, recap, output = run(tmp_path, "render.yml", fleet_inventory(tmp_path))
    assert rc == 0, output
    assert sorted(os.listdir(str(tmp_path / "bundles"))) == SITES
    for site in SITES:
        assert bundle(tmp_path, site) == FILES

    pools = dict((site, [pool["cidr"] for o in objects(tmp_path, site, "20-calico.yaml") if o["kind"] == "Installation"
                         for pool in o["spec"]["calicoNetwork"]["ipPools"]])
                 for site in SITES)
    assert pools == {"site_depot_3": ["172.27.0.0/16"], "site_store_17": ["172.27.0.0/16"],
                     "site_store_42": ["10.244.0.0/16"]}
    addresses = dict((site, [o["spec"]["addresses"] for o in objects(tmp_path, site, "40-metallb.yaml")
                             if o["kind"] == "IPAddressPool"]) for site in SITES)
    assert addresses == {"site_depot_3": [["10.3.0.200-10.3.0.231"]],
                         "site_store_17": [["192.168.17.100-192.168.17.119"]],
                         "site_store_42": [["192.168.42.100-192.168.42.109"]]}
    corefile = dict((site, objects(tmp_path, site, "50-coredns.yaml")[0]["data"]["Corefile"]) for site in SITES)
    assert "forward . 192.168.42.2 192.168.42.3" in corefile["site_store_42"]
    assert "forward . 10.3.0.53" in corefile["site_depot_3"]

    # The two-node cluster is rendered on its leader only; its second node renders nothing.
    assert recap["depot-3-ase-b"]["changed"] == 0 and recap["depot-3-ase-b"]["failed"] == 0
    # Each leader writes its bundle in one task (site_bundle, every file of it); no other node writes.
    assert all(recap[leader]["changed"] == 1 for leader in ("depot-3-ase-a", "store-17-ase", "store-42-ase"))


# The example declares the depot's node count; without it, the count comes from the inventory.
UNDECLARED = {"compute_network_node_count": ""}


def test_node_count_is_per_cluster(tmp_path):
    # Three node IPs serve the two-node depot (nodes + 1) but not the four hosts of the fleet, and
    # two serve each single-node store: the play passes only if each cluster counts its own nodes.
    rc, recap, output = run(tmp_path, "validate.yml", fleet_inventory(tmp_path, site_depot_3=UNDECLARED))
    assert rc == 0, output
    assert "node_ips_too_few" not in output
    # One IP too few for the depot: only the depot's nodes fail.
    rc, recap, output = run(tmp_path, "validate.yml",
                            fleet_inventory(tmp_path / "short", site_depot_3=dict(
                                UNDECLARED, compute_network_node_ips="10.3.0.21-10.3.0.22")))
    assert rc == 2
    assert "[node_ips_too_few] compute_network_node_ips: 2 node IP(s) given; a 2-node site" in output
    assert recap["depot-3-ase-a"]["failed"] == 1 and recap["depot-3-ase-b"]["failed"] == 1
    assert "is checked on its first node, depot-3-ase-a, which failed" in " ".join(output.split())
    assert recap["store-17-ase"]["failed"] == 0 and recap["store-42-ase"]["failed"] == 0


@pytest.mark.parametrize("inventory, limit", [("two-node", "edge-a"), ("fleet", "depot-3-ase-a"), ("fleet", "depot-3-ase-b")])
def test_limit_to_part_of_a_cluster_checks_it_with_its_true_count(tmp_path, inventory, limit):
    # A 2-node site needs three node IPs, whichever of its nodes the play holds.
    if inventory == "fleet":
        args = [fleet_inventory(tmp_path, site_depot_3=dict(UNDECLARED, compute_network_node_ips="10.3.0.21-10.3.0.22"))]
    else:  # as the operator ran it
        args = [os.path.join(REPO, "examples", inventory), "-e", "compute_network_node_ips=10.20.30.21-10.20.30.22"]
    rc, recap, output = run(tmp_path, "validate.yml", *args, "--limit", limit)
    assert rc == 2
    assert "[node_ips_too_few] compute_network_node_ips: 2 node IP(s) given; a 2-node site" in output
    assert list(recap) == [limit] and recap[limit]["failed"] == 1


def test_limit_to_the_leader_renders_the_cluster_once(tmp_path):
    rc, recap, output = run(tmp_path, "render.yml", fleet_inventory(tmp_path, site_depot_3=UNDECLARED),
                            "--limit", "depot-3-ase-a")
    assert rc == 0, output
    assert sorted(os.listdir(str(tmp_path / "bundles"))) == ["site_depot_3"]
    assert bundle(tmp_path, "site_depot_3") == FILES
    assert list(recap) == ["depot-3-ase-a"] and recap["depot-3-ase-a"]["changed"] == 1  # the bundle, in one task


def test_limit_without_the_leader_refuses_its_cluster_and_writes_nothing_of_it(tmp_path):
    rc, recap, output = run(tmp_path, "render.yml", fleet_inventory(tmp_path), "--limit", "depot-3-ase-b,site_store_17")
    assert rc == 2
    flat = " ".join(output.split())
    assert ("[cluster_incomplete] k8s_network_cluster: cluster site_depot_3 is depot-3-ase-a, depot-3-ase-b; the play"
            " lacks depot-3-ase-a (left out by --limit, or failed before the check)") in flat
    assert "Run it whole: --limit depot-3-ase-a,depot-3-ase-b (or its group), or no --limit." in flat
    assert recap["depot-3-ase-b"]["failed"] == 1 and recap["store-17-ase"]["failed"] == 0
    assert sorted(os.listdir(str(tmp_path / "bundles"))) == ["site_store_17"]
    assert bundle(tmp_path, "site_store_17") == FILES


def test_limit_without_the_leader_sends_nothing_to_the_cluster(tmp_path, emulated_api_factory):
    api = emulated_api_factory()
    result = run_playbook(api, os.path.join(REPO, "playbooks", "bringup.yml"), "-i", fleet_inventory(tmp_path),
                          "--limit", "depot-3-ase-b", "-e", "k8s_network_mode=apply", scratch=str(tmp_path))
    assert result.rc == 2, result
    assert "[cluster_incomplete] k8s_network_cluster: cluster site_depot_3" in result.stdout
    assert api.journal() == []


@pytest.mark.parametrize("count, node_ips, expected", [
    (1, "10.3.0.21-10.3.0.23", "[node_count_mismatch] compute_network_node_count: 1 node(s) declared for cluster"
                               " site_depot_3, but the inventory has 2: depot-3-ase-a, depot-3-ase-b."),
    (3, "10.3.0.21-10.3.0.24", "[cluster_incomplete] compute_network_node_count: cluster site_depot_3 has 3 nodes, but"
                               " this inventory holds only 2 of them (depot-3-ase-a, depot-3-ase-b)"),
])
def test_a_declared_node_count_is_checked_against_the_inventory(tmp_path, count, node_ips, expected):
    inventory = fleet_inventory(tmp_path, site_depot_3={"compute_network_node_count": count,
                                                        "compute_network_node_ips": node_ips})
    # The same refusal as above, which stops the cluster before anything is written.
    rc, recap, output = run(tmp_path, "validate.yml", inventory)
    assert rc == 2
    assert expected in " ".join(output.split())
    assert recap["depot-3-ase-a"]["failed"] == 1 and recap["depot-3-ase-b"]["failed"] == 1
    assert recap["store-17-ase"]["failed"] == 0 and recap["store-42-ase"]["failed"] == 0


def test_a_bad_site_stops_only_itself(tmp_path):
    inventory = fleet_inventory(tmp_path, site_store_42={"compute_network_pod_cidr": "172.28.0.0/16"})
    rc, recap, output = run(tmp_path, "render.yml", inventory)
    assert rc == 2
    assert "[cidr_overlap] compute_network_pod_cidr" in output
    assert recap["store-42-ase"]["failed"] == 1
    assert bundle(tmp_path, "site_store_42") == []
    assert bundle(tmp_path, "site_store_17") == FILES and bundle(tmp_path, "site_depot_3") == FILES


def test_a_node_that_disagrees_with_its_cluster_stops_the_cluster(tmp_path):
    inventory = fleet_inventory(tmp_path)
    os.makedirs(os.path.join(inventory, "host_vars"))
    with open(os.path.join(inventory, "host_vars", "depot-3-ase-b.yml"), "w") as handle:
        yaml.safe_dump({"compute_network_mtu": 9000, "compute_network_node_ips": "10.3.0.21-10.3.0.29"}, handle)
    rc, recap, output = run(tmp_path, "render.yml", inventory)
    assert rc == 2
    flat = " ".join(output.split())
    assert "[cluster_settings_differ] compute_network_node_ips: depot-3-ase-b set another value than depot-3-ase-a" in flat
    assert "[cluster_settings_differ] compute_network_mtu: depot-3-ase-b" in flat
    assert "[cluster_settings_differ] compute_network_subnet" not in flat
    assert recap["depot-3-ase-a"]["failed"] == 1 and recap["depot-3-ase-b"]["failed"] == 1
    assert bundle(tmp_path, "site_depot_3") == []
    assert bundle(tmp_path, "site_store_17") == FILES and bundle(tmp_path, "site_store_42") == FILES


def test_two_clusters_in_one_folder_are_refused_before_writing(tmp_path):
    shared = str(tmp_path / "bundles" / "all")
    rc, _recap, output = run(tmp_path, "render.yml", fleet_inventory(tmp_path), "-e", "k8s_network_bundle_dir=" + shared)
    assert rc == 2
    assert "[bundle_dir_shared] k8s_network_bundle_dir" in output
    assert not os.path.exists(shared)


def test_a_leader_without_a_folder_is_left_out_of_the_shared_folder_message(tmp_path):
    shared = str(tmp_path / "bundles" / "all")
    inventory = fleet_inventory(tmp_path, site_store_17={"k8s_network_bundle_dir": ""},
                                site_store_42={"k8s_network_bundle_dir": shared},
                                site_depot_3={"k8s_network_bundle_dir": shared})
    rc, _recap, output = run(tmp_path, "render.yml", inventory)
    assert rc == 2
    flat = " ".join(output.split())
    assert "[bundle_dir_shared] k8s_network_bundle_dir" in flat
    message = flat[flat.index("[bundle_dir_shared]"):]
    assert "'depot-3-ase-a': '%s'" % shared in message and "'store-42-ase': '%s'" % shared in message
    assert "store-17-ase" not in message.split("}", maxsplit=1)[0]
    assert not os.path.exists(shared)
    assert [bundle(tmp_path, site) for site in SITES] == [[], [], []]


def test_two_clusters_behind_one_api_are_refused_before_sending(tmp_path, emulated_api_factory):
    api = emulated_api_factory()
    # The job's one credential (K8S_AUTH_KUBECONFIG) would reach the same API for every site.
    result = run_playbook(api, os.path.join(REPO, "playbooks", "bringup.yml"), "-i", fleet_inventory(tmp_path),
                          "-e", "k8s_network_mode=apply", scratch=str(tmp_path))
    assert result.rc == 2, result
    assert "[cluster_target_shared] k8s_network_kubeconfig" in result.stdout
    assert api.journal() == []


def test_a_shared_inline_kubeconfig_is_refused_without_showing_it(tmp_path):
    kubeconfig = {"apiVersion": "v1", "kind": "Config", "users": [{"name": "edge", "user": {"token": "s3cret-token-9"}}]}
    rc, _recap, output = run(tmp_path, "validate.yml", fleet_inventory(tmp_path), "-e", "k8s_network_mode=apply",
                             "-e", json.dumps({"k8s_network_kubeconfig": kubeconfig}))
    assert rc == 2
    assert "[cluster_target_shared] k8s_network_kubeconfig" in output
    assert "s3cret-token-9" not in output


def test_each_cluster_with_its_own_context_passes(tmp_path):
    inventory = fleet_inventory(tmp_path, **dict((site, {"k8s_network_context": site}) for site in SITES))
    rc, _recap, output = run(tmp_path, "validate.yml", inventory, "-e", "k8s_network_mode=apply")
    assert rc == 0, output
    assert "cluster_target_shared" not in output


@pytest.mark.parametrize("playbook", ["validate.yml", "render.yml"])
def test_one_cluster_by_default(tmp_path, playbook):
    # Without k8s_network_cluster every host of the play is a node of one cluster, as before.
    # The fleet's sites disagree on their settings, so that one cluster is refused, by name,
    # instead of being checked with the first host's settings only.
    inventory = fleet_inventory(tmp_path)
    common = os.path.join(inventory, "group_vars", "all.yml")
    with open(common) as handle:
        data = yaml.safe_load(handle)
    del data["k8s_network_cluster"]
    data["k8s_network_bundle_dir"] = str(tmp_path / "bundles" / "one")
    with open(common, "w") as handle:
        yaml.safe_dump(data, handle)
    rc, recap, output = run(tmp_path, playbook, inventory)
    assert rc == 2
    flat = " ".join(output.split())
    # Its leader is its first node by name.
    assert ("[cluster_settings_differ] compute_network_node_ips: store-17-ase, store-42-ase set another"
            " value than depot-3-ase-a") in flat
    assert all(recap[host]["failed"] == 1 for host in recap)
    assert bundle(tmp_path, "one") == []
