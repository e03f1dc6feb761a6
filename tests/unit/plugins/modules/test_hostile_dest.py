"""Every renderer that writes ``dest`` refuses hostile files with a code, reads nothing through them,
never hangs on a FIFO, and leaves what is there as it was (issue 14, defects 1 and 5)."""

import json
import os
import stat
import threading

import pytest
import yaml
from ansible.module_utils.testing import patch_module_args

from ansible_collections.edgeops.k8s_network.plugins.modules import calico_config, coredns_config, metallb_config

NETWORK = {
    "subnet": "192.168.10.0/24",
    "gateway": "192.168.10.1",
    "node_ips": {"ranges": ["192.168.10.11-192.168.10.12"], "count": 2},
    "external_service_ips": {"ranges": ["192.168.10.100-192.168.10.119"], "count": 20},
    "pod_cidr": "172.27.0.0/16",
    "service_cidr": "172.28.0.0/16",
    "cluster_domain": "cluster.local",
    "cluster_dns_ip": "172.28.0.10",
    "dns_servers": ["192.168.10.53"],
    "mtu": 1500,
}
MODULES = {
    "calico_config": (calico_config, "20-calico.yaml"),
    "metallb_config": (metallb_config, "40-metallb.yaml"),
    "coredns_config": (coredns_config, "50-coredns.yaml"),
}
SECRET = "top-secret-token-4f1c"


def run(capsys, module, timeout=20, **args):
    """Run the module's main() in a thread, so a hang fails the test instead of blocking it."""
    outcome = {}

    def target():
        with patch_module_args(args):
            try:
                module.main()
            except SystemExit:
                outcome["done"] = True

    worker = threading.Thread(target=target, daemon=True)
    worker.start()
    worker.join(timeout)
    assert outcome.get("done"), "%s did not return within %d s" % (module.__name__, timeout)
    return json.loads(capsys.readouterr().out)


def codes(result):
    return sorted({f["code"] for f in result.get("findings", [])})


@pytest.fixture(params=sorted(MODULES))
def renderer(request):
    return MODULES[request.param]


@pytest.fixture
def secret(tmp_path):
    path = tmp_path / "elsewhere" / "secret.txt"
    path.parent.mkdir()
    path.write_text(SECRET)
    return path


@pytest.mark.parametrize("check_mode", [False, True])
def test_symlink_out_of_the_folder_is_refused_unread(capsys, tmp_path, renderer, secret, check_mode):
    module, name = renderer
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    (bundle / name).symlink_to(secret)
    result = run(capsys, module, compute_network=NETWORK, dest=str(bundle / name), _ansible_check_mode=check_mode,
                 _ansible_diff=True)
    assert result["failed"] is True
    assert codes(result) == ["dest_symlink_escapes"]
    assert SECRET not in json.dumps(result)
    assert os.path.islink(bundle / name) and secret.read_text() == SECRET


def test_symlink_inside_the_folder_is_followed(capsys, tmp_path, renderer):
    module, name = renderer
    (tmp_path / "real.yaml").write_text("old\n")
    (tmp_path / name).symlink_to("real.yaml")
    result = run(capsys, module, compute_network=NETWORK, dest=str(tmp_path / name), _ansible_diff=True)
    assert result["changed"] is True, result
    diff = result["diff"][-1] if isinstance(result["diff"], list) else result["diff"]
    assert diff["before"] == "old\n"
    assert "kind:" in (tmp_path / "real.yaml").read_text()


def test_fifo_is_refused_without_blocking(capsys, tmp_path, renderer):
    module, name = renderer
    os.mkfifo(str(tmp_path / "f"))
    (tmp_path / name).symlink_to("f")
    result = run(capsys, module, compute_network=NETWORK, dest=str(tmp_path / name), _ansible_diff=True)
    assert codes(result) == ["dest_not_regular_file"]
    assert "FIFO" in result["msg"]
    assert stat.S_ISFIFO(os.stat(str(tmp_path / "f")).st_mode)


def test_directory_is_refused(capsys, tmp_path, renderer):
    module, name = renderer
    (tmp_path / name).mkdir()
    result = run(capsys, module, compute_network=NETWORK, dest=str(tmp_path / name))
    assert codes(result) == ["dest_not_regular_file"]
    assert "directory" in result["msg"]


def test_path_under_a_regular_file_is_refused(capsys, tmp_path, renderer):
    module, name = renderer
    (tmp_path / "file").write_text("x")
    result = run(capsys, module, compute_network=NETWORK, dest=str(tmp_path / "file" / name))
    assert codes(result) == ["dest_unwritable"]
    assert (tmp_path / "file").read_text() == "x"


@pytest.mark.parametrize("check_mode", [False, True])
def test_read_only_file_system_is_refused(capsys, tmp_path, renderer, monkeypatch, check_mode):
    """A read-only mount (or a folder without write permission) answers access(W_OK) with EROFS
    (EACCES): a coded refusal, also in check mode, not Errno 30. Patched: the tests run as root."""
    module, name = renderer
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda path, mode: False if mode & os.W_OK else real_access(path, mode))
    result = run(capsys, module, compute_network=NETWORK, dest=str(tmp_path / name), _ansible_check_mode=check_mode)
    assert codes(result) == ["dest_unwritable"]
    assert "read-only" in result["msg"]
    assert not (tmp_path / name).exists()


def test_check_mode_on_a_safe_path_writes_nothing(capsys, tmp_path, renderer):
    module, name = renderer
    result = run(capsys, module, compute_network=NETWORK, dest=str(tmp_path / "new" / name), _ansible_check_mode=True)
    assert result["changed"] is True and codes(result) == []
    assert not (tmp_path / "new").exists()


def test_metallb_returns_no_diff_unless_asked(capsys, tmp_path):
    (tmp_path / "40-metallb.yaml").write_text("before\n")
    result = run(capsys, metallb_config, compute_network=NETWORK, dest=str(tmp_path / "40-metallb.yaml"))
    assert result["changed"] is True and "diff" not in result


def test_metallb_bundle_file_says_which_secrets_it_does_not_hold(capsys, tmp_path):
    dest = tmp_path / "40-metallb.yaml"
    peers = [{"name": "tor-a", "peer_address": "192.168.10.1", "peer_asn": 64512, "my_asn": 64513,
              "password": "Tcp-Md5-Secret-7731"}]
    result = run(capsys, metallb_config, compute_network=NETWORK, protocol="bgp", bgp_peers=peers, dest=str(dest))
    text = dest.read_text()
    assert text.startswith("# This file does NOT contain the Secrets")
    assert "kubectl -n metallb-system create secret generic metallb-bgp-tor-a --type=kubernetes.io/basic-auth" in text
    assert "Tcp-Md5-Secret-7731" not in text and "Tcp-Md5-Secret-7731" not in json.dumps(result)
    assert [d for d in yaml.safe_load_all(text) if d] == result["resources"]
    assert not any(r["kind"] == "Secret" for r in result["resources"])
    # Without a password there is nothing to say.
    run(capsys, metallb_config, compute_network=NETWORK, protocol="bgp", bgp_peers=[dict(peers[0], password="")],
        dest=str(dest))
    assert not dest.read_text().startswith("#")
