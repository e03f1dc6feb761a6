"""tests/cluster/build.py's recipe for the Tigera operator, without building it.

No server: these check the pieces that decide what source the operator is built from (the git
tree id that pins a local copy of its api/ folder, the refusal of any other folder) against git
itself, in repositories the tests make.
"""

import shutil
import subprocess

import pytest

import build


def git(cwd, *args):
    return subprocess.run(["git", "-C", str(cwd)] + list(args), capture_output=True, text=True, check=True).stdout.strip()


@pytest.fixture
def repo(tmp_path):
    if not shutil.which("git"):
        pytest.skip("git not installed")
    root = tmp_path / "repo"
    folder = root / "api"
    # Names whose order differs between a plain sort and git's (a folder sorts as "name/").
    for relative, text in (("go.mod", "module example.invalid/api\n"), ("a-b", "1"), ("a.c", "2"), ("a0", "3"),
                           ("a/doc.go", "package a\n"), ("v1/types.go", "package v1\n"),
                           ("v1/zz_generated.go", "package v1\n// generated\n")):
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (folder / "hack.sh").write_text("#!/bin/sh\n")
    (folder / "hack.sh").chmod(0o755)
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "-qm", "api")
    return folder


def test_the_tree_id_of_a_folder_is_the_one_git_gives(repo):
    assert build.git_tree_id(str(repo)) == git(repo.parent, "rev-parse", "HEAD:api")


def test_a_changed_byte_or_mode_changes_the_tree_id(repo):
    pinned = git(repo.parent, "rev-parse", "HEAD:api")
    (repo / "v1" / "types.go").write_text("package v1 \n")
    assert build.git_tree_id(str(repo)) != pinned
    (repo / "v1" / "types.go").write_text("package v1\n")
    assert build.git_tree_id(str(repo)) == pinned
    (repo / "hack.sh").chmod(0o644)
    assert build.git_tree_id(str(repo)) != pinned


def test_a_local_api_copy_is_taken_only_with_the_pinned_tree_id(repo, tmp_path, monkeypatch):
    pinned = git(repo.parent, "rev-parse", "HEAD:api")
    monkeypatch.setenv(build.OPERATOR_API_ENV, str(repo))
    assert build._local_api_copy(str(tmp_path / "cache"), "v1.42.3", pinned) == str(repo)  # pylint: disable=protected-access
    with pytest.raises(build.BenchError) as refused:
        build._local_api_copy(str(tmp_path / "cache"), "v1.42.3", "0" * 40)  # pylint: disable=protected-access
    assert "its git tree id is %s, versions.env pins TIGERA_OPERATOR_API_TREE=%s" % (pinned, "0" * 40) in str(refused.value)
    monkeypatch.delenv(build.OPERATOR_API_ENV)
    assert build._local_api_copy(str(tmp_path / "cache"), "v1.42.3", pinned) is None  # pylint: disable=protected-access


def test_the_pinned_tree_is_in_versions_env():
    versions = build.read_versions()
    assert versions["TIGERA_OPERATOR_VERSION"] == "v1.42.3"
    assert len(versions["TIGERA_OPERATOR_API_TREE"]) == 40
    assert build.operator_stamp("v1.42.3") == "-X 'github.com/tigera/operator/version.VERSION=v1.42.3'"
