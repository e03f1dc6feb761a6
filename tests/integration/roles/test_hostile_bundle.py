# Copyright: contributors to edgeops.k8s_network
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""render.yml against hostile settings and hostile bundle folders (issue 14).

A refusal, wherever it comes from (a later role's argument, a renderer, an unsafe bundle file),
comes with its code before the first file is written: the bundle is left as it was, byte for
byte; nothing is read through a link that leaves the folder, and a FIFO never blocks the run.
"""

import json
import os
import shutil
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
from emulator.fixtures import ansible_env, parse_recap  # noqa: E402
from test_waits import compute_network  # noqa: E402

REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
EXAMPLE = os.path.join(REPO, "examples", "single-node")
FILES = ["20-calico.yaml", "40-metallb.yaml", "50-coredns.yaml", "90-verify.yaml"]
SECRET = "controller-secret-7d1e"


def render(tmp_path, bundle, *args, timeout=300):
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", EXAMPLE,
               os.path.join(REPO, "playbooks", "render.yml"), "-e", "k8s_network_bundle_dir=%s" % bundle,
               # Tests send traffic to loopback only: no release manifest is downloaded.
               "-e", "k8s_network_manifest_download=false"] + list(args)
    proc = subprocess.run(command, cwd=REPO, env=ansible_env(str(tmp_path / "scratch")), capture_output=True,
                          text=True, timeout=timeout, check=False)
    return proc.returncode, parse_recap(proc.stdout), proc.stdout + proc.stderr


def snapshot(folder):
    """Every entry of the folder: name -> (link target or None, bytes or None)."""
    result = {}
    for name in sorted(os.listdir(str(folder))):
        path = os.path.join(str(folder), name)
        link = os.readlink(path) if os.path.islink(path) else None
        data = open(path, "rb").read() if os.path.isfile(path) and not link else None
        result[name] = (link, data)
    return result


@pytest.fixture(scope="module")
def good_bundle(tmp_path_factory):
    """A bundle from an earlier, successful run, to be left as it was by every failing run."""
    tmp_path = tmp_path_factory.mktemp("good")
    rc, _recap, text = render(tmp_path, tmp_path / "bundle")
    assert rc == 0, text
    assert set(FILES) <= set(os.listdir(str(tmp_path / "bundle")))
    return tmp_path / "bundle"


@pytest.mark.parametrize("extra, code", [
    ("metallb_apply_retries=abc", "[role_argument_invalid] argument 'metallb_apply_retries'"),
    ("verify_web_port=abc", "[role_argument_invalid] argument 'verify_web_port'"),
    ("coredns_ready_timeout=later", "[role_argument_invalid] argument 'coredns_ready_timeout'"),
    ('{"verify_namespace": "edgeops-verify\\n---\\napiVersion: v1\\nkind: ConfigMap"}',
     "[verify_namespace_invalid] namespace"),
    ('{"metallb_namespace": "metallb-system\\n"}', "[metallb_namespace_invalid] namespace"),
    ('{"coredns_configmap_name": "core dns:\\n- a"}', "[coredns_name_invalid] configmap_name"),
], ids=["metallb_retries", "verify_port", "coredns_timeout", "verify_namespace_injection", "metallb_namespace_newline",
        "coredns_configmap_name"])
def test_a_later_refusal_leaves_the_bundle_as_it_was(tmp_path, good_bundle, extra, code):
    bundle = tmp_path / "bundle"
    shutil.copytree(str(good_bundle), str(bundle))
    # Each run changes Calico's file, so a partial run would show in 20-calico.yaml.
    before = snapshot(bundle)
    rc, recap, text = render(tmp_path, bundle, "-e", "calico_block_size=27", "-e", extra)
    assert rc == 2, text[-3000:]
    assert code in text, text[-3000:]
    assert "Traceback" not in text
    assert snapshot(bundle) == before
    assert recap["edge-1"]["changed"] == 0


def test_an_empty_folder_stays_empty(tmp_path):
    rc, _recap, text = render(tmp_path, tmp_path / "bundle", "-e", "metallb_apply_retries=abc")
    assert rc == 2 and "[role_argument_invalid]" in text
    assert not (tmp_path / "bundle").exists()


@pytest.mark.parametrize("name", FILES)
def test_a_link_out_of_the_folder_is_refused_and_nothing_is_read(tmp_path, good_bundle, name):
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET)
    bundle = tmp_path / "bundle"
    shutil.copytree(str(good_bundle), str(bundle))
    os.unlink(str(bundle / name))
    os.symlink(str(secret), str(bundle / name))
    before = snapshot(bundle)
    rc, _recap, text = render(tmp_path, bundle, "--diff", "-vvv", "-e", "calico_block_size=27")
    assert rc == 2, text[-3000:]
    assert "[dest_symlink_escapes] dest: %s" % (bundle / name) in text
    assert SECRET not in text
    assert snapshot(bundle) == before
    assert secret.read_text() == SECRET


@pytest.mark.parametrize("name", ["40-metallb.yaml", "90-verify.yaml"])
def test_a_fifo_is_refused_without_blocking(tmp_path, name):
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    os.mkfifo(str(bundle / "pipe"))
    os.symlink("pipe", str(bundle / name))
    rc, _recap, text = render(tmp_path, bundle, timeout=120)
    assert rc == 2
    assert "[dest_not_regular_file] dest: %s is a named pipe (FIFO)" % (bundle / "pipe") in text
    assert sorted(os.listdir(str(bundle))) == sorted(["pipe", name])


def test_a_link_inside_the_folder_is_written_through(tmp_path, good_bundle):
    bundle = tmp_path / "bundle"
    shutil.copytree(str(good_bundle), str(bundle))
    os.rename(str(bundle / "20-calico.yaml"), str(bundle / "calico.yaml"))
    os.symlink("calico.yaml", str(bundle / "20-calico.yaml"))
    rc, recap, text = render(tmp_path, bundle, "-e", "calico_block_size=27")
    assert rc == 0, text[-3000:]
    assert recap["edge-1"]["changed"] == 1
    assert os.readlink(str(bundle / "20-calico.yaml")) == "calico.yaml"
    assert "blockSize: 27" in (bundle / "calico.yaml").read_text()


def test_a_bundle_with_bgp_passwords_says_it_holds_no_secret(tmp_path):
    password = "Tcp-Md5-Secret-5521"
    peers = ('{"metallb_protocol": "bgp", "compute_network_bgp_peers": [{"peer_address": "192.168.10.1", '
             '"peer_asn": 64512, "my_asn": 64513}], "metallb_bgp_peers": [{"name": "tor-a", '
             '"peer_address": "192.168.10.1", "peer_asn": 64512, "my_asn": 64513, "password": "%s"}]}' % password)
    rc, _recap, text = render(tmp_path, tmp_path / "bundle", "-e", peers, "--diff", "-vvv")
    assert rc == 0, text[-3000:]
    # The result callback folds long lines wherever their words fall.
    assert ("40-metallb.yaml: The MetalLB objects refer to the BGP password Secret(s) metallb-system/metallb-bgp-tor-a,"
            " which they do NOT contain" in " ".join(text.split()))
    assert (tmp_path / "bundle" / "40-metallb.yaml").read_text().startswith("# This file does NOT contain the Secrets")
    assert password not in text
    for name in os.listdir(str(tmp_path / "bundle")):
        assert password not in (tmp_path / "bundle" / name).read_text()


ROLE_ALONE = """---
- name: Write the MetalLB role's bundle file on its own
  hosts: localhost
  gather_facts: false
  roles:
    - role: edgeops.k8s_network.metallb
"""


def test_the_metallb_role_on_its_own_names_the_secrets_its_bundle_file_lacks(tmp_path):
    password = "Tcp-Md5-Secret-9042"
    network = dict(compute_network(), bgp_peers=[{"peer_address": "192.168.10.1", "peer_asn": 64512, "my_asn": 64513}])
    extra = {"compute_network": network, "k8s_network_mode": "bundle", "k8s_network_bundle_dir": str(tmp_path / "bundle"),
             "metallb_protocol": "bgp",
             "metallb_bgp_peers": [{"name": "tor-a", "peer_address": "192.168.10.1", "peer_asn": 64512,
                                    "my_asn": 64513, "password": password}]}
    (tmp_path / "extra.json").write_text(json.dumps(extra))
    (tmp_path / "role.yml").write_text(ROLE_ALONE)
    (tmp_path / "bundle").mkdir()
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,",
               "-c", "local", str(tmp_path / "role.yml"), "-e", "@%s" % (tmp_path / "extra.json")]
    proc = subprocess.run(command, cwd=REPO, env=ansible_env(str(tmp_path / "scratch")), capture_output=True,
                          text=True, timeout=300, check=False)
    text = proc.stdout + proc.stderr
    assert proc.returncode == 0, text[-3000:]
    # The same sentence as bringup.yml's summary: both print metallb_config's secrets_summary.
    assert ("40-metallb.yaml: The MetalLB objects refer to the BGP password Secret(s) metallb-system/metallb-bgp-tor-a,"
            " which they do NOT contain" in " ".join(text.split()))
    assert (tmp_path / "bundle" / "40-metallb.yaml").read_text().startswith("# This file does NOT contain the Secrets")
    assert password not in text
    assert password not in (tmp_path / "bundle" / "40-metallb.yaml").read_text()
