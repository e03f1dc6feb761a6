"""Build the real Kubernetes programs of the ``cluster`` bench from the Go module proxy.

Every program is a Go module: ``go build`` fetches its source through the module proxy
(GOPROXY) and compiles it with the installed Go. Nothing is cloned and nothing built is kept in
the checkout: the module cache, the build cache, the generated wrapper modules and the binaries
live in the bench cache (``EDGEOPS_BENCH_CACHE``, default ``/var/cache/edgeops-k8s-network``),
the binaries keyed by version, so only the first run on a machine pays for the build.

``k8s.io/kubernetes`` and ``go.etcd.io/etcd/server/v3`` cannot be ``go install``-ed: their
go.mod files replace sibling modules with local paths. Each is built from a generated wrapper
module that requires it and pins those siblings to their published versions instead.

    python3 tests/cluster/build.py            # build what is missing, print where it is
    python3 tests/cluster/build.py --check    # exit 3 and say what is missing, build nothing
"""

import argparse
import contextlib
import fcntl
import json
import os
import pwd
import re
import shutil
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
VERSIONS_FILE = os.path.join(HERE, "versions.env")
CACHE_ENV = "EDGEOPS_BENCH_CACHE"
DEFAULT_CACHE = "/var/cache/edgeops-k8s-network"

KUBE_BINARIES = ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl")
# One builder at a time writes into a cache (make test's cluster suite, a `make cluster-build`
# in another shell, another clone): the others wait on this lock file, then find it built.
LOCK_NAME = ".build.lock"
LOCK_POLL = 2.0  # seconds between tries while another build holds the lock
LOCK_NOTE = 60.0  # seconds between "still waiting" lines

# Exit codes the bench shares with its callers (make, the pytest fixture).
EXIT_UNAVAILABLE = 3  # no Go, no proxy, or (with --check) not built yet: the suite skips


class BenchError(Exception):
    """A reason the bench cannot go on, said in one line."""


class Unavailable(BenchError):
    """The bench cannot be built or started on this machine (no Go, no proxy)."""


class SourceUnavailable(Unavailable):
    """A program's source can be had from no registry this machine reaches (the Tigera
    operator's api module): no install step fixes it, so even CI skips what needs it."""


def read_versions(path=VERSIONS_FILE):
    """The pinned versions as a dict, from KEY=VALUE lines (# comments and blanks ignored)."""
    versions = {}
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            key, sep, value = line.partition("=")
            if not sep or not re.fullmatch(r"[A-Z][A-Z0-9_]*", key.strip()):
                raise BenchError("%s:%d: not KEY=VALUE: %r" % (path, number, line))
            versions[key.strip()] = value.strip()
    return versions


def cache_dir():
    """The bench cache: $EDGEOPS_BENCH_CACHE, else /var/cache/..., else ~/.cache/... of the real home.

    The Makefile points HOME into the clone, so the fallback asks the password database for the
    user's home rather than trusting $HOME.
    """
    explicit = os.environ.get(CACHE_ENV)
    if explicit:
        return os.path.abspath(explicit)
    parent = os.path.dirname(DEFAULT_CACHE)
    if os.access(DEFAULT_CACHE, os.W_OK) or (not os.path.exists(DEFAULT_CACHE) and os.access(parent, os.W_OK)):
        return DEFAULT_CACHE
    home = pwd.getpwuid(os.getuid()).pw_dir
    return os.path.join(home, ".cache", "edgeops-k8s-network")


def bin_dir(cache, name, version):
    return os.path.join(cache, "bin", "%s-%s" % (name, version))


def binary_paths(versions, cache=None):
    """Where each program lives in the cache for the pinned versions (built or not)."""
    cache = cache or cache_dir()
    kube = bin_dir(cache, "kubernetes", versions["KUBERNETES_VERSION"])
    paths = {name: os.path.join(kube, name) for name in KUBE_BINARIES}
    paths["etcd"] = os.path.join(bin_dir(cache, "etcd", versions["ETCD_VERSION"]), "etcd")
    kwok = bin_dir(cache, "kwok", versions["KWOK_VERSION"])
    paths["kwok"] = os.path.join(kwok, "kwok")
    paths["kwokctl"] = os.path.join(kwok, "kwokctl")
    for component in COMPONENTS:
        paths[component.name] = component.path(cache, versions)
    return paths


def missing_binaries(versions, cache=None):
    return sorted(name for name, path in binary_paths(versions, cache).items() if not os.access(path, os.X_OK))


def _fmt(seconds):
    seconds = int(round(seconds))
    return "%dm%02ds" % divmod(seconds, 60) if seconds >= 60 else "%ds" % seconds


class Go:
    """The go command with the bench's caches, run in a given module folder."""

    def __init__(self, cache, log=print):
        self.go = shutil.which("go")
        if not self.go:
            raise Unavailable("no Go toolchain on PATH (install Go >= 1.24 to build the cluster bench)")
        self.cache = cache
        self.log = log
        self.env = dict(os.environ)
        self.env.update(
            GOMODCACHE=os.path.join(cache, "go", "mod"),
            GOCACHE=os.path.join(cache, "go", "build"),
            GOPATH=os.path.join(cache, "go", "path"),
            CGO_ENABLED="0",
            GOFLAGS="-mod=mod -buildvcs=false",
            GOTOOLCHAIN=os.environ.get("GOTOOLCHAIN", "auto"),
        )
        self.env.pop("GOBIN", None)
        self.proxy = subprocess.run([self.go, "env", "GOPROXY"], env=self.env, text=True,
                                    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=False).stdout.strip()

    def run(self, args, cwd, capture=True):
        proc = subprocess.run(
            [self.go] + args, cwd=cwd, env=self.env, text=True,
            stdout=subprocess.PIPE if capture else None, stderr=subprocess.PIPE, check=False,
        )
        if proc.returncode:
            raise BenchError("go %s failed: %s" % (" ".join(args[:3]), last_lines(proc.stderr)))
        return proc.stdout

    def download_json(self, module, cwd):
        """`go mod download -json module@version`, with the proxy's answer as a one-line error."""
        proc = subprocess.run(
            [self.go, "mod", "download", "-json", module], cwd=cwd, env=self.env, text=True,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False,
        )
        try:
            info = json.loads(proc.stdout or "{}")
        except ValueError:
            info = {}
        if proc.returncode or info.get("Error"):
            reason = info.get("Error") or last_lines(proc.stderr)
            raise Unavailable("cannot fetch %s from the Go module proxy (%s): %s" % (module, self.proxy, reason))
        return info

    def build(self, label, packages, out, cwd, ldflags="", trimpath=True):
        """go build one main package to out, printing compiled-package progress every 20 s."""
        deps = self.run(["list", "-deps", "-f", "{{.ImportPath}}"] + packages, cwd).split()
        total = len(deps)
        args = ["build", "-v", "-o", out + ".tmp"]
        if trimpath:
            args.append("-trimpath")
        if ldflags:
            args += ["-ldflags", ldflags]
        args += packages
        start = time.monotonic()
        proc = subprocess.Popen(
            [self.go] + args, cwd=cwd, env=self.env, text=True,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        compiled = []
        errors = []

        def reader():
            for line in proc.stderr:
                line = line.rstrip("\n")
                if line in deps:
                    compiled.append(line)
                else:
                    errors.append(line)

        thread = threading.Thread(target=reader, daemon=True)
        thread.start()
        while proc.poll() is None:
            thread.join(timeout=20)
            if not thread.is_alive():  # stderr closed: only the wait for the exit is left
                proc.wait()
            elif proc.poll() is None:
                self.log("  %-24s %4d/%d of its packages compiled so far, %s"
                         % (label, len(compiled), total, _fmt(time.monotonic() - start)))
        thread.join()
        if proc.returncode:
            raise BenchError("go build %s failed: %s" % (label, " | ".join(errors[-5:])))
        os.replace(out + ".tmp", out)
        return time.monotonic() - start, len(compiled), total


def last_lines(text, count=3):
    lines = [line.strip() for line in (text or "").strip().splitlines() if line.strip()]
    return " | ".join(lines[-count:]) or "(no output)"


def _write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)


def _go_directives(gomod_text):
    """The go and godebug lines of a go.mod: the wrapper keeps them so the build behaves as upstream's."""
    keep = []
    for line in gomod_text.splitlines():
        if re.match(r"^(go|godebug)\s", line):
            keep.append(line)
    return keep


def _local_replacements(gomod_text, prefix):
    """Modules under prefix that a go.mod replaces with a local path (=> ./... or ../...)."""
    found = []
    for match in re.finditer(r"^[ \t]*(?:replace[ \t]+)?([^\s()]+)(?:[ \t]+\S+)?[ \t]+=>[ \t]+(\.\.?/\S*)", gomod_text, re.M):
        module = match.group(1)
        if module.startswith(prefix):
            found.append(module)
    return found


def wrapper_kubernetes(go, cache, version):
    """The wrapper module for k8s.io/kubernetes at version; returns its folder."""
    src = os.path.join(cache, "src", "kubernetes-" + version)
    os.makedirs(src, exist_ok=True)
    info = go.download_json("k8s.io/kubernetes@" + version, src)
    with open(info["GoMod"], encoding="utf-8") as handle:
        upstream = handle.read()
    staging = _local_replacements(upstream, "k8s.io/")
    if not staging:
        raise BenchError("k8s.io/kubernetes %s: no staging replacements found in its go.mod" % version)
    # Staging modules are published as v0.<minor>.<patch> for Kubernetes v1.<minor>.<patch>.
    staging_version = "v0." + version.split(".", 1)[1]
    lines = ["// Generated by tests/cluster/build.py from k8s.io/kubernetes %s's go.mod; not edited by hand." % version,
             "module edgeops.local/bench/kubernetes", ""]
    lines += _go_directives(upstream)
    lines += ["", "require k8s.io/kubernetes " + version, "", "replace ("]
    lines += ["\t%s => %s %s" % (module, module, staging_version) for module in staging]
    lines += [")", ""]
    _write(os.path.join(src, "go.mod"), "\n".join(lines))
    go.log("  wrapper module: k8s.io/kubernetes %s with %d staging modules at %s"
           % (version, len(staging), staging_version))
    # -mod=mod (Go.env) fills go.sum as modules resolve; the checksum database verifies each.
    go.run(["list", "-m", "all"], src)
    return src


def wrapper_etcd(go, cache, version):
    """The wrapper module for go.etcd.io/etcd/server/v3 at version; returns its folder."""
    src = os.path.join(cache, "src", "etcd-" + version)
    os.makedirs(src, exist_ok=True)
    info = go.download_json("go.etcd.io/etcd/server/v3@" + version, src)
    with open(info["GoMod"], encoding="utf-8") as handle:
        upstream = handle.read()
    siblings = _local_replacements(upstream, "go.etcd.io/etcd/")
    lines = ["// Generated by tests/cluster/build.py from go.etcd.io/etcd/server/v3 %s's go.mod; not edited by hand." % version,
             "module edgeops.local/bench/etcd", ""]
    lines += [line for line in _go_directives(upstream) if line.startswith("go ")]
    lines += ["", "require go.etcd.io/etcd/server/v3 " + version, "", "replace ("]
    lines += ["\t%s => %s %s" % (module, module, version) for module in siblings]
    lines += [")", ""]
    _write(os.path.join(src, "go.mod"), "\n".join(lines))
    go.run(["list", "-m", "all"], src)
    return src


# --------------------------------------------------------------------------- the Tigera operator
# github.com/tigera/operator's go.mod replaces its nested module github.com/tigera/operator/api
# with ./api, and a module's zip never holds a nested module, so the operator cannot be built as
# published. It is built from a copy of its module source in which that replace names the api
# module's published version, fetched through the Go module proxy; where the proxy does not serve
# it (this project's proxy answers 403 for every version of github.com/tigera/operator/api), from
# a local copy of the api/ folder of the operator's tagged tree, accepted only if its git tree id is
# the one pinned in versions.env (TIGERA_OPERATOR_API_TREE, `git rev-parse <tag>:api`): exactly
# what upstream's own build compiles, as its replace points at ./api of the same tree.
OPERATOR_MODULE = "github.com/tigera/operator"
OPERATOR_API_MODULE = OPERATOR_MODULE + "/api"
OPERATOR_API_ENV = "EDGEOPS_TIGERA_OPERATOR_API"
# Files the operator embeds (go:embed) that its Makefile downloads before building and that are
# therefore in neither its git tree nor its module: the Istio Helm charts. The bench builds with
# empty files in their place; only the operator's Istio feature reads them (it then fails to load
# the chart), and the bench never creates an Istio resource.
OPERATOR_DOWNLOADED_EMBEDS = ("pkg/render/istio/base.tgz", "pkg/render/istio/istiod.tgz",
                              "pkg/render/istio/cni.tgz", "pkg/render/istio/ztunnel.tgz")


def git_tree_id(path):
    """The git tree id of a folder as `git rev-parse <commit>:<folder>` gives it for a checkout:
    files 100644 or 100755 (executable), symlinks 120000, folders 40000, git's entry order."""
    import hashlib  # pylint: disable=import-outside-toplevel

    def obj(kind, data):
        return hashlib.sha1(b"%s %d\0" % (kind, len(data)) + data).digest()

    entries = []
    for name in os.listdir(path):
        full = os.path.join(path, name)
        raw = name.encode()
        if os.path.islink(full):
            entries.append((raw, b"120000", obj(b"blob", os.readlink(full).encode())))
        elif os.path.isdir(full):
            entries.append((raw + b"/", b"40000", bytes.fromhex(git_tree_id(full))))
        else:
            with open(full, "rb") as handle:
                data = handle.read()
            mode = b"100755" if os.stat(full).st_mode & 0o100 else b"100644"
            entries.append((raw, mode, obj(b"blob", data)))
    body = b"".join(b"%s %s\0%s" % (mode, key.rstrip(b"/"), digest) for key, mode, digest in sorted(entries))
    return obj(b"tree", body).hex()


def _required_version(gomod_text, module):
    match = re.search(r"^[ \t]*(?:require[ \t]+)?%s[ \t]+(v\S+)" % re.escape(module), gomod_text, re.M)
    return match.group(1) if match else None


def _local_api_copy(cache, version, pinned_tree):
    """The local api/ folder for the operator at version, checked against the pinned tree id."""
    candidates = [os.environ[OPERATOR_API_ENV]] if os.environ.get(OPERATOR_API_ENV) else []
    candidates.append(os.path.join(cache, "src", "tigera-operator-api-" + version))
    for folder in candidates:
        if not os.path.isfile(os.path.join(folder, "go.mod")):
            continue
        found = git_tree_id(folder)
        if pinned_tree and found != pinned_tree:
            raise BenchError("%s is not the api/ folder of %s %s: its git tree id is %s, versions.env pins "
                             "TIGERA_OPERATOR_API_TREE=%s" % (folder, OPERATOR_MODULE, version, found, pinned_tree))
        return folder
    return None


def operator_source(go, cache, component, version, pinned_tree=None):
    """A writable copy of the operator's module source at version, ready to build; returns its folder."""
    src = os.path.join(cache, "src", "%s-%s" % (component.name, version))
    info = go.download_json("%s@%s" % (OPERATOR_MODULE, version), cache)
    shutil.rmtree(src, ignore_errors=True)
    shutil.copytree(info["Dir"], src)
    for root, dirs, files in os.walk(src):  # the module cache is read-only
        for name in dirs + files:
            os.chmod(os.path.join(root, name), 0o755 if name in dirs else 0o644)
    os.chmod(src, 0o755)
    with open(os.path.join(src, "go.mod"), encoding="utf-8") as handle:
        gomod = handle.read()
    if _local_replacements(gomod, OPERATOR_MODULE + "/") != [OPERATOR_API_MODULE]:
        raise BenchError("%s %s: expected exactly one local replacement (%s) in its go.mod, found %s"
                         % (OPERATOR_MODULE, version, OPERATOR_API_MODULE,
                            _local_replacements(gomod, OPERATOR_MODULE + "/") or "none"))
    required = _required_version(gomod, OPERATOR_API_MODULE)
    published, refusal = None, None
    try:
        published = go.download_json("%s@%s" % (OPERATOR_API_MODULE, required), src)
    except Unavailable as err:
        refusal = str(err)
    if published:
        gomod = re.sub(r"^([ \t]*(?:replace[ \t]+)?%s[ \t]+=>[ \t]+)\./api[ \t]*$" % re.escape(OPERATOR_API_MODULE),
                       r"\g<1>%s %s" % (OPERATOR_API_MODULE, required), gomod, flags=re.M)
        _write(os.path.join(src, "go.mod"), gomod)
        go.log("  %s %s: replace => %s %s (Go module proxy)" % (OPERATOR_MODULE, version, OPERATOR_API_MODULE, required))
    else:
        local = _local_api_copy(cache, version, pinned_tree)
        if not local:
            raise SourceUnavailable(
                "%s; no local copy of the api/ folder of tigera/operator %s either (put it at %s, or name it "
                "with %s): the bench runs without the Tigera operator"
                % (refusal, version, os.path.join(cache, "src", "tigera-operator-api-" + version), OPERATOR_API_ENV))
        shutil.copytree(local, os.path.join(src, "api"))
        go.log("  %s %s: ./api from %s (git tree %s; the proxy does not serve %s)"
               % (OPERATOR_MODULE, version, local, pinned_tree or "not pinned", OPERATOR_API_MODULE))
    for name in OPERATOR_DOWNLOADED_EMBEDS:
        path = os.path.join(src, name)
        if not os.path.exists(path):
            _write(path, "")
    # No `go list -m all` here: the operator's module graph names modules the proxy does not serve
    # (monis.app/mlog) that no package of ./cmd imports; the build resolves only what it imports.
    return src


def operator_stamp(version):
    """-X flags as the operator's Makefile stamps its build: version.VERSION is `git describe
    --tags` of the tree, which at a release tag is the tag itself (plus -s -w as it links)."""
    return "-X '%s/version.VERSION=%s'" % (OPERATOR_MODULE, version)


def operator_path(versions, cache=None):
    """Where the operator of the pinned version lives in the cache (built or not)."""
    cache = cache or cache_dir()
    version = versions["TIGERA_OPERATOR_VERSION"]
    return os.path.join(bin_dir(cache, "tigera-operator", version), "tigera-operator")


def build_operator(versions, cache=None, log=print):
    """Build the Tigera operator of the pinned version if missing; returns its path. Raises
    Unavailable, saying why, where its api module can be had from neither the proxy nor a copy."""
    cache = cache or cache_dir()
    out = operator_path(versions, cache)
    if os.access(out, os.X_OK):
        return out
    with build_lock(cache, log):  # one builder per cache: the source copy is rebuilt in place
        if not os.access(out, os.X_OK):
            _build_operator(versions, cache, log, out)
    return out


def _build_operator(versions, cache, log, out):
    go = Go(cache, log)
    log("bench build: tigera-operator %s into %s (Go module proxy %s)"
        % (versions["TIGERA_OPERATOR_VERSION"], cache, go.proxy))
    next(c for c in COMPONENTS if c.name == "tigera-operator").build(go, cache, versions, out)


# --------------------------------------------------------------------------- components
# The real programs behind pods kwok fakes (DESIGN.md section 7): each is built at the version of
# its release manifest into bin/<name>-<version>/<name>, and run by tests/cluster/components.py.


class Component:
    """A program of the bench built from one Go module at a pinned version.

    ``source(go, cache, component, version)`` prepares the module folder to build in (default: a
    wrapper module that requires ``module`` at version, as ``go install module@version`` would
    resolve it); ``stamp(info)`` gives the -X flags upstream's release build sets, from the
    proxy's record of the version (``go mod download -json``: its Info file names the tag's
    commit).
    """

    def __init__(self, name, version_key, module, package, stamp=None, source=None):
        self.name = name
        self.version_key = version_key
        self.module = module
        self.package = package
        self.stamp = stamp or (lambda info: "")
        self.source = source or wrapper_module

    def path(self, cache, versions):
        return os.path.join(bin_dir(cache, self.name, versions[self.version_key]), self.name)

    def build(self, go, cache, versions, out):
        version = versions[self.version_key]
        step = time.monotonic()
        src = self.source(go, cache, self, version)
        go.log("  modules for %s %s resolved, %s" % (self.module, version, _fmt(time.monotonic() - step)))
        info = go.download_json("%s@%s" % (self.module, version), src)
        flags = self.stamp(_origin(info))
        _build_one(go, self.name, version, [self.package], out, src, ("all=-s -w " + flags).strip())


def _origin(info):
    """The proxy's Info record of a module version: Version, Time and Origin (VCS, Hash, Ref)."""
    try:
        with open(info["Info"], encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError, KeyError):
        return {}


def _commit(record, length=7):
    return (record.get("Origin") or {}).get("Hash", "")[:length]


def wrapper_module(go, cache, component, version):
    """A module that requires component.module at version and nothing else; returns its folder.

    For modules without local replace directives this resolves as ``go install`` does, while the
    build shares the bench's caches and keeps its go.sum in the cache."""
    src = os.path.join(cache, "src", "%s-%s" % (component.name, version))
    os.makedirs(src, exist_ok=True)
    info = go.download_json("%s@%s" % (component.module, version), src)
    with open(info["GoMod"], encoding="utf-8") as handle:
        upstream = handle.read()
    if _local_replacements(upstream, ""):
        raise BenchError("%s %s replaces modules with local paths: it needs a source function of its own"
                         % (component.module, version))
    lines = ["// Generated by tests/cluster/build.py from %s %s's go.mod; not edited by hand." % (component.module, version),
             "module edgeops.local/bench/" + component.name, ""]
    lines += _go_directives(upstream)
    lines += ["", "require %s %s" % (component.module, version), ""]
    _write(os.path.join(src, "go.mod"), "\n".join(lines))
    go.run(["list", "-m", "all"], src)
    return src


def _coredns_stamp(record):
    # CoreDNS's Makefile sets only coremain.GitCommit (its release binaries show the short commit);
    # the version itself is a constant in coremain/version.go.
    commit = _commit(record)
    return "-X 'github.com/coredns/coredns/coremain.GitCommit=%s'" % commit if commit else ""


def _metallb_stamp(record):
    # MetalLB's controller Dockerfile sets internal/version's gitCommit and gitBranch (the version
    # is a constant there). The proxy's record names the tag and its commit, not a branch: the tag
    # stands in for the branch.
    commit = _commit(record)
    if not commit:
        return ""
    ref = (record.get("Origin") or {}).get("Ref", "").rpartition("/")[2] or record.get("Version", "")
    return ("-X 'go.universe.tf/metallb/internal/version.gitCommit=%s' "
            "-X 'go.universe.tf/metallb/internal/version.gitBranch=%s'" % (commit, ref))


def _operator_source(go, cache, component, version):
    return operator_source(go, cache, component, version, read_versions().get("TIGERA_OPERATOR_API_TREE"))


COMPONENTS = (
    Component("coredns", "COREDNS_VERSION", "github.com/coredns/coredns", "github.com/coredns/coredns",
              stamp=_coredns_stamp),
    Component("metallb-controller", "METALLB_VERSION", "go.universe.tf/metallb", "go.universe.tf/metallb/controller",
              stamp=_metallb_stamp),
    # Upstream's amd64 release build links with cgo and boringcrypto; the bench builds as its
    # other architectures do (CGO_ENABLED=0, no build tags).
    Component("tigera-operator", "TIGERA_OPERATOR_VERSION", OPERATOR_MODULE, OPERATOR_MODULE + "/cmd",
              stamp=lambda record: operator_stamp(record.get("Version", "")), source=_operator_source),
)


def kube_ldflags(go, src, version):
    """-X flags as upstream's hack/lib/version.sh stamps them (plus -s -w as its release builds)."""
    info = go.download_json("k8s.io/kubernetes@" + version, src)
    match = re.match(r"v(\d+)\.(\d+)\.", version)
    stamp = {
        "gitVersion": version,
        "gitMajor": match.group(1),
        "gitMinor": match.group(2),
        "gitTreeState": "clean",
        "buildDate": _info_time(info),
    }
    flags = []
    for key, value in stamp.items():
        for package in ("k8s.io/client-go/pkg/version", "k8s.io/component-base/version"):
            flags.append("-X '%s.%s=%s'" % (package, key, value))
    return "all=-s -w " + " ".join(flags)


def _info_time(info):
    try:
        with open(info["Info"], encoding="utf-8") as handle:
            stamp = json.load(handle).get("Time", "")
    except (OSError, ValueError, KeyError):
        stamp = ""
    return stamp.split(".")[0].rstrip("Z") + "Z" if stamp else "1970-01-01T00:00:00Z"


@contextlib.contextmanager
def build_lock(cache, log=print):
    """Hold the cache's build lock (fcntl, released when the holder exits, also when killed);
    while another process holds it, say so and wait."""
    os.makedirs(cache, exist_ok=True)
    path = os.path.join(cache, LOCK_NAME)
    with open(path, "a+", encoding="utf-8") as handle:
        started = time.monotonic()
        noted = None
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if noted is None or time.monotonic() - noted >= LOCK_NOTE:
                    handle.seek(0)
                    holder = handle.read().strip() or "another process"
                    log("bench build: waiting for the other build into %s (%s) to finish, %s so far"
                        % (cache, holder, _fmt(time.monotonic() - started)))
                    noted = time.monotonic()
                time.sleep(LOCK_POLL)
        handle.seek(0)
        handle.truncate()
        handle.write("pid %d, since %s\n" % (os.getpid(), time.strftime("%H:%M:%S")))
        handle.flush()
        try:
            yield noted is not None
        finally:
            handle.seek(0)
            handle.truncate()
            fcntl.flock(handle, fcntl.LOCK_UN)


def build(versions, cache=None, log=print, only=None):
    """Build every missing binary of the pinned versions, one builder per cache at a time;
    returns {name: path}."""
    cache = cache or cache_dir()
    paths = binary_paths(versions, cache)
    wanted = [name for name in missing_binaries(versions, cache) if not only or name in only]
    if not wanted:
        return paths
    with build_lock(cache, log) as waited:
        missing = [name for name in missing_binaries(versions, cache) if name in wanted]
        if waited and not missing:
            log("bench build: the other build built %s" % ", ".join(wanted))
        if missing:
            build_missing(versions, cache, log, missing)
    return paths


def build_missing(versions, cache, log, missing):
    """Build the named binaries into the cache (the caller holds the build lock)."""
    paths = binary_paths(versions, cache)
    go = Go(cache, log)
    log("bench build: %s into %s (Go module proxy %s)"
        % (", ".join(missing), cache, go.proxy))
    started = time.monotonic()
    kube_version = versions["KUBERNETES_VERSION"]
    if any(name in KUBE_BINARIES for name in missing):
        step = time.monotonic()
        src = wrapper_kubernetes(go, cache, kube_version)
        log("  modules for k8s.io/kubernetes %s resolved, %s" % (kube_version, _fmt(time.monotonic() - step)))
        ldflags = kube_ldflags(go, src, kube_version)
        for name in KUBE_BINARIES:
            if name in missing:
                _build_one(go, name, kube_version, ["k8s.io/kubernetes/cmd/" + name], paths[name], src, ldflags)
    if "etcd" in missing:
        version = versions["ETCD_VERSION"]
        step = time.monotonic()
        src = wrapper_etcd(go, cache, version)
        log("  modules for go.etcd.io/etcd/server/v3 %s resolved, %s" % (version, _fmt(time.monotonic() - step)))
        _build_one(go, "etcd", version, ["go.etcd.io/etcd/server/v3"], paths["etcd"], src, "all=-s -w")
    kwok_missing = [name for name in ("kwok", "kwokctl") if name in missing]
    if kwok_missing:
        version = versions["KWOK_VERSION"]
        src = os.path.join(cache, "src", "kwok-" + version)
        os.makedirs(src, exist_ok=True)
        info = go.download_json("sigs.k8s.io/kwok@" + version, src)
        with open(info["GoMod"], encoding="utf-8") as handle:
            upstream = handle.read()
        # kwok has no local replacements (go install would do), but a wrapper keeps its build
        # beside the others: same caches, same stamping, go.sum in the cache.
        lines = ["// Generated by tests/cluster/build.py from sigs.k8s.io/kwok %s's go.mod; not edited by hand." % version,
                 "module edgeops.local/bench/kwok", ""]
        lines += [line for line in _go_directives(upstream) if line.startswith("go ")]
        lines += ["", "require sigs.k8s.io/kwok " + version, ""]
        _write(os.path.join(src, "go.mod"), "\n".join(lines))
        go.run(["list", "-m", "all"], src)
        # As kwok's hack/releases.sh stamps its release binaries; KubeVersion makes kwokctl
        # configure the control plane for the Kubernetes version the bench runs.
        ldflags = "all=-s -w -X 'sigs.k8s.io/kwok/pkg/consts.Version=%s' -X 'sigs.k8s.io/kwok/pkg/consts.KubeVersion=%s'" % (
            version, kube_version)
        for name in kwok_missing:
            _build_one(go, name, version, ["sigs.k8s.io/kwok/cmd/" + name], paths[name], src, ldflags)
    for component in COMPONENTS:
        if component.name in missing:
            try:
                component.build(go, cache, versions, paths[component.name])
            except SourceUnavailable as err:
                # The bench runs without it; its tests skip saying so (kube_bench.operator_binary).
                log("  %-24s not built: %s" % (component.name, err))
    log("bench build: done in %s" % _fmt(time.monotonic() - started))
    return paths


def _build_one(go, name, version, packages, out, src, ldflags):
    os.makedirs(os.path.dirname(out), exist_ok=True)
    go.log("  %-24s %s: building" % (name, version))
    seconds, compiled, total = go.build(name, packages, out, src, ldflags)
    go.log("  %-24s %s: built in %s (%d of %d packages compiled), %s"
           % (name, version, _fmt(seconds), compiled, total, out))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--check", action="store_true", help="build nothing; exit 3 if a binary is missing")
    parser.add_argument("--print-env", action="store_true", help="print KEY=PATH lines for the binaries")
    parser.add_argument("--operator", action="store_true",
                        help="the Tigera operator only: build it if missing (with --check: exit 3 if missing)")
    parser.add_argument("--only", action="append", metavar="NAME",
                        help="build only this program (repeatable), e.g. --only coredns --only metallb-controller")
    args = parser.parse_args(argv)
    try:
        versions = read_versions()
        cache = cache_dir()
        if args.operator:
            path = operator_path(versions, cache)
            if args.check and not os.access(path, os.X_OK):
                print("bench: not built yet: %s" % path)
                return EXIT_UNAVAILABLE
            print(path if args.check else build_operator(versions, cache))
            return 0
        if args.check:
            missing = missing_binaries(versions, cache)
            if missing:
                print("bench: not built yet in %s: %s" % (cache, ", ".join(missing)))
                return EXIT_UNAVAILABLE
        else:
            unknown = sorted(set(args.only or ()) - set(binary_paths(versions, cache)))
            if unknown:
                raise BenchError("no such program: %s (known: %s)"
                                 % (", ".join(unknown), ", ".join(sorted(binary_paths(versions, cache)))))
            build(versions, cache, only=args.only)
        if args.print_env:
            for name, path in sorted(binary_paths(versions, cache).items()):
                print("%s=%s" % (name.upper().replace("-", "_"), path))
    except Unavailable as err:
        print("bench: %s" % err, file=sys.stderr)
        return EXIT_UNAVAILABLE
    except BenchError as err:
        print("bench: %s" % err, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
