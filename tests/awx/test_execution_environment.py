# Copyright: contributors to edgeops.k8s_network
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The execution environment: examples/awx/execution-environment.yml and meta/execution-environment.yml.

Building the image needs a container engine and registries that are not reachable here, so the
tests stop where the engine would start: ``ansible-builder create`` writes the build context,
then the context's own introspection script (the one the image build runs in its builder stage)
reads the collections the galaxy stage would have installed. What the image would get is what
that script prints.
"""

import os
import shutil
import subprocess
import sys
import tarfile

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)
EE_FILE = os.path.join(ROOT, "examples", "awx", "execution-environment.yml")
COLLECTIONS = os.path.join(ROOT, ".build", "collections", "ansible_collections")


def tool(name):
    local = os.path.join(BIN, name)
    path = local if os.path.exists(local) else shutil.which(name)
    if not path:
        pytest.skip("%s is not installed (pip install -r requirements-dev.txt)" % name)
    return path


def run(args, cwd, home):
    env = dict(os.environ, HOME=str(home), ANSIBLE_LOCAL_TEMP=str(home / "tmp"))
    # As in the image build: no other collections path (ansible-galaxy would skip a collection
    # it finds installed there, e.g. the checkout linked into .build/collections).
    for name in ("ANSIBLE_CONFIG", "ANSIBLE_COLLECTIONS_PATH", "ANSIBLE_COLLECTIONS_PATHS"):
        env.pop(name, None)
    proc = subprocess.run(args, cwd=str(cwd), env=env, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, "%s failed:\n%s\n%s" % (" ".join(args), proc.stdout, proc.stderr)
    return proc.stdout


def galaxy_version():
    with open(os.path.join(ROOT, "galaxy.yml")) as handle:
        return yaml.safe_load(handle)["version"]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The collection tarball next to a copy of the EE file, and the context ansible-builder creates."""
    work = tmp_path_factory.mktemp("ee")
    home = work / "home"
    home.mkdir()
    ee_dir = work / "ee"
    ee_dir.mkdir()
    shutil.copy(EE_FILE, str(ee_dir / "execution-environment.yml"))
    run([os.path.join(ROOT, "scripts", "build.sh"), str(ee_dir)], ROOT, home)
    context = work / "context"
    out = run([tool("ansible-builder"), "create", "-f", str(ee_dir / "execution-environment.yml"),
               "-c", str(context), "--output-filename", "Containerfile"], work, home)
    tarball = ee_dir / ("edgeops-k8s_network-%s.tar.gz" % galaxy_version())
    return {"work": work, "home": home, "context": context, "tarball": tarball, "output": out}


def test_example_is_a_version_3_definition_with_both_collections():
    with open(EE_FILE) as handle:
        ee = yaml.safe_load(handle)
    assert ee["version"] == 3
    names = [c["name"] for c in ee["dependencies"]["galaxy"]["collections"]]
    assert "kubernetes.core" in names
    local = [c for c in ee["dependencies"]["galaxy"]["collections"] if c.get("type") == "file"]
    assert len(local) == 1
    # The tarball name carries the version: a release that bumps galaxy.yml must bump this too.
    assert local[0]["name"].endswith("edgeops-k8s_network-%s.tar.gz" % galaxy_version())


def test_create_writes_a_containerfile_that_installs_the_collections(built):
    containerfile = built["context"] / "Containerfile"
    assert containerfile.is_file()
    text = containerfile.read_text()
    assert "ansible-galaxy collection install" in text
    assert "introspect.py introspect" in text  # the collections' Python and bindep requirements
    assert "install-from-bindep" in text
    assert 'ARG PYCMD="/usr/bin/python3.11"' in text


def test_context_holds_the_collection_tarball_where_the_requirements_point(built):
    context_build = built["context"] / "_build"
    with open(str(context_build / "requirements.yml")) as handle:
        requirements = yaml.safe_load(handle)
    entries = dict((c["name"], c) for c in requirements["collections"])
    assert "kubernetes.core" in entries
    local = [name for name, c in entries.items() if c.get("type") == "file"]
    assert len(local) == 1
    # The galaxy stage runs `ansible-galaxy collection install -r requirements.yml` in /build,
    # where the context's _build folder is copied: the relative name must resolve there.
    assert (context_build / local[0]).is_file(), "ansible-builder warned: %s" % built["output"]
    assert (context_build / local[0]).read_bytes() == built["tarball"].read_bytes()


def test_tarball_ships_the_files_meta_execution_environment_names(built):
    with tarfile.open(str(built["tarball"])) as tar:
        names = set(m.name for m in tar.getmembers())
        meta = yaml.safe_load(tar.extractfile("meta/execution-environment.yml"))
    assert meta["dependencies"] == {"python": "requirements.txt", "system": "bindep.txt"}
    assert {"requirements.txt", "bindep.txt"} <= names


def test_build_stage_introspection_finds_the_python_and_system_requirements(built):
    """Install what the galaxy stage installs, then run the context's introspect.py on it."""
    work, home = built["work"], built["home"]
    collections = work / "usr-share-ansible-collections"
    run([tool("ansible-galaxy"), "collection", "install", "--offline", "--no-deps", "--force", "-p", str(collections),
         str(built["tarball"])], work, home)
    assert (collections / "ansible_collections" / "edgeops" / "k8s_network" / "MANIFEST.json").is_file()
    core = os.path.join(COLLECTIONS, "kubernetes", "core")
    if not os.path.isfile(os.path.join(core, "MANIFEST.json")):
        pytest.skip("kubernetes.core is not in .build/collections (make venv)")
    shutil.copytree(core, str(collections / "ansible_collections" / "kubernetes" / "core"), symlinks=True)

    pip_out, bindep_out = work / "requirements.txt", work / "bindep.txt"
    script = built["context"] / "_build" / "scripts" / "introspect.py"
    run([sys.executable, str(script), "introspect", str(collections),
         "--write-pip", str(pip_out), "--write-bindep", str(bindep_out)], work, home)

    ours = [line.split("#")[0].strip() for line in pip_out.read_text().splitlines()
            if line.endswith("# from collection edgeops.k8s_network")]
    names = sorted(line.split(">")[0].split("=")[0].lower() for line in ours)
    # PyYAML is in requirements.txt too; the build leaves it out because every EE base has it.
    assert names == ["jmespath", "kubernetes", "netaddr"]
    assert any(line.endswith("# from collection kubernetes.core") for line in pip_out.read_text().splitlines())

    system = [line for line in bindep_out.read_text().splitlines()
              if line.endswith("# from collection edgeops.k8s_network")]
    assert [line.split()[0] for line in system] == ["python3"]
    # Node-side tools never reach the EE.
    assert not any(word in bindep_out.read_text() for word in ("iputils", "arping", "iproute"))
