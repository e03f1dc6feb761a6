# Copyright: contributors to edgeops.k8s_network
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""scripts/build.sh packs what git tracks, not what else lies in the checkout.

Following docs/scenarios/gitops-bundle.md leaves a `site-bundle/` and a `Corefile` at the top of
the checkout; `ansible-galaxy collection build` on the checkout would ship them. The test copies
the tracked files (as they are now) into a fresh git repository, adds that junk untracked, and
builds there both ways.
"""

import os
import shutil
import subprocess
import sys
import tarfile

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)
JUNK = ("Corefile", "site-bundle/20-calico.yaml", "corefile-vars.yml")


def git(cwd, *args):
    return subprocess.run(["git", "-c", "user.name=test", "-c", "user.email=test@example.invalid"] + list(args),
                          cwd=cwd, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def checkout(tmp_path):
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    repo = tmp_path / "k8s_network"
    for path in git(ROOT, "ls-files", "-z").split("\0"):
        if path and os.path.lexists(os.path.join(ROOT, path)):
            (repo / path).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(os.path.join(ROOT, path), str(repo / path), follow_symlinks=False)
    git(str(repo), "init", "-q")
    git(str(repo), "add", "-A")
    git(str(repo), "commit", "-q", "-m", "tracked files")
    for junk in JUNK:
        (repo / junk).parent.mkdir(parents=True, exist_ok=True)
        (repo / junk).write_text("left here by following a guide\n")
    return repo


def members(tarball):
    with tarfile.open(tarball) as archive:
        return set(archive.getnames())


def environment(tmp_path):
    home = tmp_path / "home"
    (home / ".ansible" / "tmp").mkdir(parents=True, exist_ok=True)
    return dict(os.environ, HOME=str(home), PATH=BIN + os.pathsep + os.environ.get("PATH", ""),
                ANSIBLE_LOCAL_TEMP=str(home / ".ansible" / "tmp"))


def test_the_build_script_ships_only_tracked_files(checkout, tmp_path):
    out = tmp_path / "dist"
    proc = subprocess.run([str(checkout / "scripts" / "build.sh"), str(out)], cwd=str(checkout),
                          env=environment(tmp_path), capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    tarball = proc.stdout.strip().splitlines()[-1]
    shipped = members(tarball)
    assert "galaxy.yml" not in shipped and "MANIFEST.json" in shipped
    assert "plugins/modules/coredns_config.py" in shipped and "roles/coredns/tasks/main.yml" in shipped
    assert [junk for junk in JUNK if junk in shipped] == []


def test_a_plain_build_of_the_checkout_would_ship_the_junk(checkout, tmp_path):
    """What the script guards against: the check above means something."""
    out = tmp_path / "plain"
    subprocess.run([os.path.join(BIN, "ansible-galaxy"), "collection", "build", "--force", "--output-path", str(out),
                    str(checkout)], env=environment(tmp_path), capture_output=True, text=True, timeout=300, check=True)
    (tarball,) = [str(out / name) for name in os.listdir(str(out))]
    assert set(JUNK) <= members(tarball)
