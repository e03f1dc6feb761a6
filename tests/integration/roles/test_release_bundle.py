# Copyright: contributors to edgeops.k8s_network
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""render.yml bundles that install a whole site, with the real upstream release manifests.

The releases come from shared/releases (EDGEOPS_RELEASES overrides; PROVENANCE.md there), given
as calico_manifest_dir / metallb_manifest_dir as an air-gapped site would, with no checksum from
the operator: the collection's version table pins them. Every object in the bundle must parse,
and every custom resource of ours must be valid against the CRD in the bundle's own release
manifests, not only against shared/schemas.
"""

import hashlib
import json
import os
import shutil
import subprocess
import sys

import pytest
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(HERE, "..", "..", "unit"))
from emulator.fixtures import ansible_env, parse_recap  # noqa: E402
from crd_schema import RELEASES, crds_in, release_file, requires_releases, validate_against  # noqa: E402

REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
CALICO, METALLB = "v3.32.1", "v0.16.1"
OWN = ["20-calico.yaml", "40-metallb.yaml", "50-coredns.yaml", "90-verify.yaml"]
RELEASE_FILES = {
    "operator": {"10-calico-operator-crds.yaml": "operator-crds.yaml", "11-tigera-operator.yaml": "tigera-operator.yaml"},
    "manifest": {"10-calico.yaml": "calico.yaml"},
}
EXTRA = ["README.md", "images.txt", "kustomization.yaml"]

pytestmark = requires_releases


def render(tmp_path, example, *args, **extra_vars):
    settings = {"k8s_network_bundle_dir": str(tmp_path / "bundle"), "k8s_network_manifest_download": False,
                "calico_manifest_dir": os.path.join(RELEASES, "calico", CALICO),
                "metallb_manifest_dir": os.path.join(RELEASES, "metallb", METALLB)}
    settings.update(extra_vars)
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"),
               "-i", os.path.join(REPO, "examples", example), os.path.join(REPO, "playbooks", "render.yml"),
               "-e", json.dumps(settings)] + list(args)
    proc = subprocess.run(command, cwd=REPO, env=ansible_env(str(tmp_path)), capture_output=True, text=True,
                          timeout=600, check=False)
    return proc.returncode, parse_recap(proc.stdout), proc.stdout + proc.stderr


def contents(folder):
    return dict((name, (folder / name).read_bytes()) for name in sorted(os.listdir(str(folder))))


def sha256(data):
    return hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("mode", ["operator", "manifest"])
@pytest.mark.parametrize("example", ["single-node", "two-node"])
def test_bundle_installs_the_whole_site(tmp_path, example, mode):
    rc, _recap, output = render(tmp_path, example, calico_install_mode=mode)
    assert rc == 0, output
    folder = tmp_path / "bundle"
    files = contents(folder)
    releases = RELEASE_FILES[mode].copy()
    releases["30-metallb-native.yaml"] = "metallb-native.yaml"
    assert sorted(files) == sorted(list(releases) + OWN + EXTRA)

    # Operator files and MetalLB as released, byte for byte; calico.yaml customised for the site.
    for name, upstream in releases.items():
        component, version = ("metallb", METALLB) if name.startswith("30-") else ("calico", CALICO)
        with open(release_file(component, version, upstream), "rb") as handle:
            shipped = handle.read()
        assert (files[name] == shipped) == (name != "10-calico.yaml"), name

    # Every object parses; the kustomization lists the numbered files in apply order.
    objects = {}
    for name in sorted(list(releases) + OWN):
        objects[name] = [o for o in yaml.safe_load_all(files[name].decode()) if o is not None]
        assert objects[name] and all(isinstance(o, dict) and o.get("apiVersion") and o.get("kind")
                                     for o in objects[name]), name
    kustomization = yaml.safe_load(files["kustomization.yaml"])
    assert kustomization["resources"] == sorted(list(releases) + OWN)

    # Our custom resources against the CRDs of the release manifests in this very bundle.
    crds = crds_in([o for name in releases for o in objects[name]])
    checked = []
    for name in OWN:
        for obj in objects[name]:
            if "." in obj["apiVersion"].split("/")[0]:
                validate_against(obj, crds)
                checked.append(obj["kind"])
    expected = ["Installation"] if mode == "operator" else ["IPPool", "FelixConfiguration"]
    assert checked == expected + ["IPAddressPool", "L2Advertisement"]

    # images.txt: what the manifests name, and for the operator what it deploys.
    images = files["images.txt"].decode().splitlines()
    assert "quay.io/metallb/speaker:%s" % METALLB in images and "quay.io/calico/node:%s" % CALICO in images
    assert ("quay.io/calico/typha:%s" % CALICO in images) == (mode == "operator")
    assert "MISSING" not in files["README.md"].decode()

    if mode == "manifest":
        node = [o for o in objects["10-calico.yaml"] if o["kind"] == "DaemonSet"][0]
        env = dict((e["name"], e.get("value")) for e in node["spec"]["template"]["spec"]["containers"][0]["env"])
        pool = [o for o in objects["20-calico.yaml"] if o["kind"] == "IPPool"][0]["spec"]
        assert env["CALICO_IPV4POOL_CIDR"] == pool["cidr"]
        assert env["CALICO_IPV4POOL_BLOCK_SIZE"] == str(pool["blockSize"])
        assert env["IP_AUTODETECTION_METHOD"].startswith("cidr=")
        config = [o for o in objects["10-calico.yaml"] if o["kind"] == "ConfigMap"][0]
        assert config["data"]["veth_mtu"] != "0"


def test_rerender_is_byte_stable_and_diff_shows_a_version_change(tmp_path):
    rc, _recap, output = render(tmp_path, "single-node")
    assert rc == 0, output
    first = contents(tmp_path / "bundle")
    rc, recap, output = render(tmp_path, "single-node")
    assert rc == 0, output
    assert recap["edge-1"]["changed"] == 0, output
    assert contents(tmp_path / "bundle") == first

    older = os.path.join(RELEASES, "metallb", "v0.14.9")
    rc, _recap, output = render(tmp_path, "single-node", "--check", "--diff",
                                metallb_version="v0.14.9", metallb_manifest_dir=older)
    assert rc == 0, output
    with open(os.path.join(older, "metallb-native.yaml"), "rb") as handle:
        assert "+sha256 %s" % sha256(handle.read()) in output
    assert "+quay.io/metallb/speaker:v0.14.9" in output
    assert "-quay.io/metallb/speaker:%s" % METALLB in output
    assert contents(tmp_path / "bundle") == first  # check mode wrote nothing


def test_a_corrupted_copy_is_refused_and_nothing_is_written(tmp_path):
    spoiled = tmp_path / "calico"
    shutil.copytree(os.path.join(RELEASES, "calico", CALICO), str(spoiled))
    with open(str(spoiled / "tigera-operator.yaml"), "a") as handle:
        handle.write("# one more line\n")
    rc, _recap, output = render(tmp_path, "two-node", calico_manifest_dir=str(spoiled))
    assert rc != 0
    assert "[manifest_checksum_mismatch] calico_tigera_operator_sha256: %s" % (spoiled / "tigera-operator.yaml") \
        in output
    assert not (tmp_path / "bundle").exists()


def test_without_the_release_files_the_bundle_says_what_is_missing(tmp_path):
    # compute_network_block_size (the AWX survey's "Calico block size") is also the pool's.
    rc, _recap, output = render(tmp_path, "single-node", calico_manifest_dir="", metallb_manifest_dir="",
                                compute_network_block_size=24)
    assert rc == 0, output
    installation = yaml.safe_load((tmp_path / "bundle" / "20-calico.yaml").read_text())
    assert [p["blockSize"] for p in installation["spec"]["calicoNetwork"]["ipPools"]] == [24]
    assert sorted(os.listdir(str(tmp_path / "bundle"))) == sorted(OWN + EXTRA)
    readme = (tmp_path / "bundle" / "README.md").read_text()
    for name, upstream, component, version in (
            ("10-calico-operator-crds.yaml", "operator-crds.yaml", "calico", CALICO),
            ("11-tigera-operator.yaml", "tigera-operator.yaml", "calico", CALICO),
            ("30-metallb-native.yaml", "metallb-native.yaml", "metallb", METALLB)):
        with open(release_file(component, version, upstream), "rb") as handle:
            pin = sha256(handle.read())
        assert "`%s`: " % name in readme and pin in readme
        assert "%s: https://raw.githubusercontent.com/" % name in output and pin in output
    assert "MISSING" in readme and "MISSING" in output
