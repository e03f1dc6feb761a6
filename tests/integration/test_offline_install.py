"""docs/scenarios/air-gapped.md, section 3: the collections installed on a controller with no network.

The controller's commands are taken from the guide as written (the block after its
``offline-install`` marker) and run in a scratch folder, with no network. The connected side's
commands need the internet; what they produce is put in ``offline/`` instead: the ``ansible``
wheel that ``make venv`` downloaded (the version the guide names must be that one) and the
collection tarball from ``scripts/build.sh``. Then the installed collections must be found by
Ansible: kubernetes.core's k8s_info and this collection's modules.
"""

import os
import re
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
GUIDE = os.path.join(ROOT, "docs", "scenarios", "air-gapped.md")
MARKER = "<!-- offline-install:"
BIN = os.path.dirname(sys.executable)


def guide_blocks():
    """``(connected commands, controller commands)`` of section 3, as the guide shows them."""
    with open(GUIDE) as handle:
        text = handle.read()
    section = text.split("## 3. The collections")[1].split("\n## ")[0]
    blocks = []
    for block in re.findall(r"(?:^    \S.*\n)+", section, re.MULTILINE):
        blocks.append([line[4:] for line in block.splitlines()])
    after = section.split(MARKER)[1]
    controller = [line[4:] for line in re.search(r"(?:^    \S.*\n)+", after, re.MULTILINE).group(0).splitlines()]
    return blocks[0], controller


def bootstrap_ansible_version():
    with open(os.path.join(ROOT, "scripts", "bootstrap.sh")) as handle:
        return re.search(r'^ansible_bundle_version="([^"]+)"', handle.read(), re.MULTILINE).group(1)


def galaxy_version():
    with open(os.path.join(ROOT, "galaxy.yml")) as handle:
        return re.search(r"^version: *(\S+)", handle.read(), re.MULTILINE).group(1)


def environment(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env.update(HOME=str(tmp_path / "home"), PATH=BIN + os.pathsep + env.get("PATH", ""),
               ANSIBLE_LOCAL_TEMP=str(tmp_path / "home" / "tmp"),
               # No network: a command that tried to reach Galaxy or PyPI would fail here.
               http_proxy="http://127.0.0.1:9", https_proxy="http://127.0.0.1:9",
               HTTP_PROXY="http://127.0.0.1:9", HTTPS_PROXY="http://127.0.0.1:9", no_proxy="", NO_PROXY="")
    return env


def test_the_guide_names_the_files_the_connected_side_makes():
    connected, controller = guide_blocks()
    version = bootstrap_ansible_version()
    assert "python3 -m pip download --no-deps ansible==%s -d offline" % version in connected
    assert "scripts/build.sh offline" in connected
    assert any("offline/ansible-%s-py3-none-any.whl" % version in line for line in controller)
    assert any("offline/edgeops-k8s_network-%s.tar.gz" % galaxy_version() in line for line in controller)


def test_the_controllers_commands_install_both_collections_offline(tmp_path):
    version = bootstrap_ansible_version()
    wheel = os.path.join(ROOT, ".cache", "ansible-%s-py3-none-any.whl" % version)
    if not os.path.exists(wheel):
        if os.environ.get("CI") == "true":
            pytest.fail("%s is missing: make venv downloads it" % wheel)
        pytest.skip("%s is missing (make venv downloads it)" % wheel)
    if shutil.which("unzip") is None:
        pytest.skip("unzip is not installed (Debian package unzip), which the guide's first command uses")
    offline = tmp_path / "offline"
    offline.mkdir()
    (tmp_path / "home" / "tmp").mkdir(parents=True)
    env = environment(tmp_path)
    # What the connected side's commands leave in offline/.
    shutil.copy(wheel, str(offline))
    shutil.copy(os.path.join(ROOT, "requirements.txt"), str(offline))
    built = subprocess.run([os.path.join(ROOT, "scripts", "build.sh"), str(offline)], env=env,
                           capture_output=True, text=True, check=False)
    assert built.returncode == 0, built.stderr

    _connected, controller = guide_blocks()
    for command in controller:
        run = subprocess.run(["bash", "-euo", "pipefail", "-c", command], cwd=str(tmp_path), env=env,
                             capture_output=True, text=True, check=False, timeout=600)
        assert run.returncode == 0, "%s\n%s%s" % (command, run.stdout, run.stderr)
    assert "kubernetes.core" in run.stdout and "edgeops.k8s_network" in run.stdout, run.stdout

    installed = tmp_path / "collections" / "ansible_collections"
    assert (installed / "kubernetes" / "core" / "MANIFEST.json").is_file()
    assert (installed / "edgeops" / "k8s_network" / "MANIFEST.json").is_file()
    # Ansible finds the modules there, and nothing else of the wheel came along.
    env["ANSIBLE_COLLECTIONS_PATH"] = str(tmp_path / "collections")
    for module in ("kubernetes.core.k8s_info", "edgeops.k8s_network.cluster_network_check"):
        doc = subprocess.run([os.path.join(BIN, "ansible-doc"), "--json", module], cwd=str(tmp_path), env=env,
                             capture_output=True, text=True, check=False)
        assert doc.returncode == 0 and module in doc.stdout, doc.stderr
    assert sorted(os.listdir(str(installed))) == ["edgeops", "kubernetes"]
