"""tests/cluster/build.py's recipe for the Tigera operator, without building it.

No server: these check the pieces that decide what source the operator is built from (the git
tree id that pins a local copy of its api/ folder, the refusal of any other folder) against git
itself, in repositories the tests make.
"""

import os
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


OPERATOR_GOMOD = """module github.com/tigera/operator

go 1.26.3

require (
\tgithub.com/tigera/api v0.0.0-20260310182635-546021df243c
\tgithub.com/tigera/operator/api v0.0.0-20260120220012-4a3f8a7d8399
)

replace (
\tgithub.com/Azure/go-autorest => github.com/Azure/go-autorest v13.3.2+incompatible
\tgithub.com/tigera/operator/api => ./api
)
"""


class FakeGo:
    """The proxy as this project meets it: the operator module is served, its api module is
    refused (or, with serve_api, served)."""

    def __init__(self, module_dir, serve_api=False):
        self.module_dir = module_dir
        self.serve_api = serve_api
        self.lines = []

    def log(self, line):
        self.lines.append(line)

    def download_json(self, module, cwd):
        del cwd
        if module.startswith(build.OPERATOR_API_MODULE + "@"):
            if self.serve_api:
                return {"Dir": "/nonexistent"}
            raise build.Unavailable("cannot fetch %s from the Go module proxy: 403 Forbidden" % module)
        return {"Dir": str(self.module_dir)}


@pytest.fixture
def operator_module(tmp_path):
    folder = tmp_path / "mod" / "github.com" / "tigera" / "operator@v1.42.3"
    (folder / "cmd").mkdir(parents=True)
    (folder / "go.mod").write_text(OPERATOR_GOMOD)
    (folder / "cmd" / "main.go").write_text("package main\n")
    (folder / "pkg" / "render" / "istio").mkdir(parents=True)
    for path in folder.rglob("*"):
        path.chmod(0o555 if path.is_dir() else 0o444)  # as read-only as the module cache
    folder.chmod(0o555)
    return folder


def component():
    return type("Component", (), {"name": "tigera-operator"})


def test_without_the_api_module_anywhere_the_operator_is_unavailable_saying_where_to_put_it(
        operator_module, tmp_path, monkeypatch):
    monkeypatch.delenv(build.OPERATOR_API_ENV, raising=False)
    cache = tmp_path / "cache"
    with pytest.raises(build.SourceUnavailable) as refused:
        build.operator_source(FakeGo(operator_module), str(cache), component(), "v1.42.3", "0" * 40)
    message = str(refused.value)
    assert "403 Forbidden" in message
    assert str(cache / "src" / "tigera-operator-api-v1.42.3") in message
    assert build.OPERATOR_API_ENV in message


def test_a_pinned_local_api_copy_is_built_as_upstream_builds_it(operator_module, repo, tmp_path, monkeypatch):
    monkeypatch.setenv(build.OPERATOR_API_ENV, str(repo))
    go = FakeGo(operator_module)
    src = build.operator_source(go, str(tmp_path / "cache"), component(), "v1.42.3", build.git_tree_id(str(repo)))
    with open(os.path.join(src, "go.mod"), encoding="utf-8") as handle:
        assert handle.read() == OPERATOR_GOMOD  # the replace stays ./api, as in upstream's tree
    assert build.git_tree_id(os.path.join(src, "api")) == build.git_tree_id(str(repo))
    for name in build.OPERATOR_DOWNLOADED_EMBEDS:
        assert os.path.getsize(os.path.join(src, name)) == 0
    assert os.access(os.path.join(src, "go.mod"), os.W_OK)


def test_a_served_api_module_replaces_the_local_path(operator_module, tmp_path):
    src = build.operator_source(FakeGo(operator_module, serve_api=True), str(tmp_path / "cache"), component(),
                                "v1.42.3", "0" * 40)
    with open(os.path.join(src, "go.mod"), encoding="utf-8") as handle:
        text = handle.read()
    assert ("\tgithub.com/tigera/operator/api => github.com/tigera/operator/api v0.0.0-20260120220012-4a3f8a7d8399\n"
            in text)
    assert "=> ./api" not in text
    assert not os.path.exists(os.path.join(src, "api"))
