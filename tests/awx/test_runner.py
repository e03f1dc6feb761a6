# Copyright: contributors to edgeops.k8s_network
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""playbooks/validate.yml and playbooks/bringup.yml run the way AWX runs a job: ansible-runner
on a private data dir with the survey answers in env/extravars, the Kubernetes credential's
K8S_AUTH_* injection in env/envvars, a credential's extra vars in a file passed with -e, the
inventory as AWX writes it (inventory/hosts, a script printing it; one slice's hosts only in a
sliced job, see awx_inventory.py) and the project in project/. The assertions read the job events
AWX would store (artifacts/<ident>/job_events/*.json), as an operator reads them in the UI.

Answers come from docs/awx/bringup-survey.json as AWX would send them: strings for text and
choice questions (so "1500", "false", comma-separated lists), defaults for the rest.

Hygiene: the runner's `command` artifact records the whole environment of the job (the
outer environment too); it is deleted after each run and never read.
"""

import glob
import json
import os
import shutil
import sys

import pytest
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import awx_inventory  # noqa: E402
from awx_survey import ROOT, extra_vars, load_survey  # noqa: E402

ansible_runner = pytest.importorskip("ansible_runner")

COLLECTIONS = os.path.join(ROOT, ".build", "collections")

# What a bundle holds when the release manifests are not at hand: our objects, and the files
# that list the images and say which release manifests are missing.
BUNDLE_FILES = ["20-calico.yaml", "40-metallb.yaml", "50-coredns.yaml", "90-verify.yaml",
                "README.md", "images.txt", "kustomization.yaml"]

SITE = {
    "compute_network_interface": "eth1",
    "compute_network_node_ips": "192.168.10.11-192.168.10.12",
    "compute_network_external_service_ips": "192.168.10.100-192.168.10.119",
    "compute_network_subnet": "192.168.10.0/24",
    "compute_network_gateway": "192.168.10.1",
    "compute_network_dns_servers": "192.168.10.2, 192.168.10.3",
    "compute_network_mtu": "1500",
    "compute_network_reserved": "192.168.10.5-192.168.10.9",
    # The nodes below are this machine, not a site: nothing to read or probe on them.
    "compute_network_gather_nodes": "false",
    "compute_network_probe": "false",
    "compute_network_strict": "false",
}


@pytest.fixture(autouse=True)
def runner_path(monkeypatch):
    # ansible-runner starts ansible-playbook from PATH, as in an execution environment.
    monkeypatch.setenv("PATH", os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))
    if not os.path.isdir(os.path.join(COLLECTIONS, "ansible_collections", "edgeops", "k8s_network")):
        pytest.skip("no .build/collections (make venv)")


class Job:
    """One job: its private data dir, its outcome and its events."""

    def __init__(self, tmp_path, playbook, answers, credential_vars=None, inventory=None, survey=True):
        self.token = "awx-test-token-DO-NOT-LEAK-%s" % os.urandom(8).hex()
        self.bundle = tmp_path / "bundle"
        self.pdd = tmp_path / "pdd"
        home = tmp_path / "home"
        (home / ".ansible" / "tmp").mkdir(parents=True)
        for folder in ("env", "inventory", "project"):
            (self.pdd / folder).mkdir(parents=True)

        answers = dict(answers)
        answers.setdefault("k8s_network_bundle_dir", str(self.bundle))
        # A job template without a survey hands the job its extra vars as they are.
        self.extravars = extra_vars(load_survey(), answers) if survey else answers
        # The job template's own extra vars: tests send nothing beyond loopback, so the release
        # manifests are not fetched, and the bundle lists them as missing (README.md).
        self.extravars = dict(self.extravars, k8s_network_manifest_download=False)
        (self.pdd / "env" / "extravars").write_text(json.dumps(self.extravars))
        (self.pdd / "env" / "envvars").write_text(json.dumps({
            # What AWX's "OpenShift or Kubernetes API Bearer Token" credential injects.
            "K8S_AUTH_HOST": "https://192.168.10.11:6443",
            "K8S_AUTH_API_KEY": self.token,
            "K8S_AUTH_VERIFY_SSL": "False",
            "ANSIBLE_COLLECTIONS_PATH": COLLECTIONS,
            "HOME": str(home),
            "ANSIBLE_LOCAL_TEMP": str(home / ".ansible" / "tmp"),
            "ANSIBLE_REMOTE_TMP": str(home / ".ansible" / "tmp"),
            "ANSIBLE_NOCOLOR": "1",
        }))
        cmdline = None
        if credential_vars is not None:
            # AWX writes a custom credential's extra vars to a file of their own under env/,
            # marked unsafe so that nothing in them is templated, and adds `-e @file`.
            path = self.pdd / "env" / "credential_extra_vars.yml"
            path.write_text(unsafe_yaml(credential_vars))
            cmdline = "-e @%s" % path
        if inventory is None:
            inventory = {"all": {"children": ["edge_nodes"]}, "edge_nodes": {"hosts": ["edge-1"]}, "_meta": {"hostvars": {
                "edge-1": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}}}}
        self.inventory = inventory
        hosts = self.pdd / "inventory" / "hosts"
        hosts.write_text(awx_inventory.script(inventory))
        hosts.chmod(0o700)
        os.symlink(os.path.join(ROOT, "playbooks"), str(self.pdd / "project" / "playbooks"))
        shutil.copy(os.path.join(ROOT, "ansible.cfg"), str(self.pdd / "project" / "ansible.cfg"))

        self.ident = "job"
        self.result = ansible_runner.run(private_data_dir=str(self.pdd), playbook=playbook, ident=self.ident,
                                         cmdline=cmdline, quiet=True, timeout=600)
        self.artifacts = self.pdd / "artifacts" / self.ident
        command = self.artifacts / "command"
        if command.exists():
            command.unlink()
        self.event_files = sorted(glob.glob(str(self.artifacts / "job_events" / "*.json")))
        self.events = []
        for path in self.event_files:
            with open(path) as handle:
                self.events.append(json.load(handle))
        self.events.sort(key=lambda e: e.get("counter", 0))

    @property
    def stdout(self):
        return "\n".join(e.get("stdout", "") for e in self.events)

    def task_events(self, event, task):
        return [e for e in self.events
                if e["event"] == event and e.get("event_data", {}).get("task") == task]

    def files_holding(self, secret):
        """Names of the files AWX would keep of the job (every event, the stdout) that hold `secret`."""
        holding = []
        for path in self.event_files + [str(self.artifacts / "stdout")]:
            if os.path.exists(path):
                with open(path) as handle:
                    if secret in handle.read():
                        holding.append(os.path.basename(path))
        return holding


def unsafe_yaml(data):
    class Unsafe(str):
        pass

    class Dumper(yaml.SafeDumper):
        pass

    Dumper.add_representer(Unsafe, lambda d, v: d.represent_scalar("!unsafe", str(v)))

    def mark(value):
        if isinstance(value, dict):
            return dict((k, mark(v)) for k, v in value.items())
        if isinstance(value, list):
            return [mark(v) for v in value]
        return Unsafe(value)

    return yaml.dump(mark(data), Dumper=Dumper)


def findings_in(job, task):
    for event in job.task_events("runner_on_ok", task) + job.task_events("runner_on_failed", task):
        return event["event_data"]["res"].get("findings")
    return None


CHECK_TASK = "Check the compute network settings of the site"


def test_validate_report_is_readable_in_the_events(tmp_path):
    answers = dict(SITE)
    # Two fixed LoadBalancer IPs need three external service IPs: a warning, not an error.
    answers["compute_network_external_service_ips"] = "192.168.10.100-192.168.10.101"
    answers["compute_network_load_balancer_ips"] = "192.168.10.100,192.168.10.101"
    job = Job(tmp_path, "playbooks/validate.yml", answers)
    assert job.result.status == "successful", job.stdout
    assert job.extravars["compute_network_mtu"] == "1500"

    findings = findings_in(job, CHECK_TASK)
    assert [(f["code"], f["severity"], f["field"]) for f in findings] == [
        ("service_ips_too_few", "warning", "compute_network_external_service_ips")]

    (shown,) = job.task_events("runner_on_ok", "Show the normalised compute network")
    network = shown["event_data"]["res"]["compute_network"]
    assert network["subnet"] == "192.168.10.0/24"
    assert network["node_ips"]["count"] == 2
    assert network["external_service_ips"]["count"] == 2
    assert network["pod_cidr"] == "172.27.0.0/16"  # the survey's default, as a string
    assert network["cluster_dns_ip"] == "172.28.0.10"
    # What the operator sees in the job output.
    assert "service_ips_too_few" in job.stdout
    assert "192.168.10.0/24" in shown["stdout"]


def test_strict_answer_turns_the_warning_into_a_failure(tmp_path):
    answers = dict(SITE, compute_network_strict="true",
                   compute_network_external_service_ips="192.168.10.100-192.168.10.101",
                   compute_network_load_balancer_ips="192.168.10.100,192.168.10.101")
    job = Job(tmp_path, "playbooks/validate.yml", answers)
    assert job.result.status == "failed"
    (failed,) = job.task_events("runner_on_failed", CHECK_TASK)
    assert [f["code"] for f in failed["event_data"]["res"]["findings"]] == ["service_ips_too_few"]


@pytest.mark.parametrize("answers, code, field", [
    ({"compute_network_pod_cidr": "10.233.0.0/16", "compute_network_service_cidr": "10.233.0.0/18"},
     "cidr_overlap", "compute_network_pod_cidr"),
    ({"compute_network_mtu": "9000"}, "mtu_out_of_range", "compute_network_mtu"),
    ({"compute_network_bgp_peers": "peer_address=192.168.10.1 peer_asn=64512 my_asn=99999999999"},
     "bgp_asn_invalid", "compute_network_bgp_peers"),
    ({"compute_network_node_ips": "192.168.10.11"}, "node_ips_too_few", "compute_network_node_ips"),
], ids=["pod-overlaps-service", "mtu-9000", "bgp-asn", "one-node-ip"])
def test_wrong_answer_fails_with_its_code(tmp_path, answers, code, field):
    job = Job(tmp_path, "playbooks/validate.yml", dict(SITE, **answers))
    assert job.result.status == "failed"
    (failed,) = job.task_events("runner_on_failed", CHECK_TASK)
    res = failed["event_data"]["res"]
    assert (code, field) in [(f["code"], f["field"]) for f in res["findings"]]
    assert "[%s]" % code in res["msg"]
    assert "[%s]" % code in failed["stdout"]


def test_wrong_answer_stops_bringup_before_anything_is_written(tmp_path):
    job = Job(tmp_path, "playbooks/bringup.yml", dict(SITE, k8s_network_mode="bundle", compute_network_mtu="9000"))
    assert job.result.status == "failed"
    assert job.task_events("runner_on_failed", CHECK_TASK)
    assert not job.bundle.exists() or not os.listdir(str(job.bundle))


def test_bundle_bringup_with_bgp_keeps_token_and_password_out_of_every_event(tmp_path):
    password = "bgp-session-DO-NOT-LEAK-%s" % os.urandom(8).hex()
    answers = dict(SITE, k8s_network_mode="bundle", metallb_protocol="bgp",
                   compute_network_encapsulation="VXLAN",
                   compute_network_bgp_peers="peer_address=192.168.10.1 peer_asn=64512 my_asn=64513",
                   coredns_forwarders="192.168.10.2")
    # As the "MetalLB BGP peer" credential type of docs/awx/create_job_template.yml injects
    # them: every value rendered to a string.
    peers = {"metallb_bgp_peers": [{"name": "tor-1", "peer_address": "192.168.10.1", "peer_asn": "64512",
                                    "my_asn": "64513", "password": password}]}
    job = Job(tmp_path, "playbooks/bringup.yml", answers, credential_vars=peers)
    assert job.result.status == "successful", job.stdout

    written = sorted(os.listdir(str(job.bundle)))
    assert written == BUNDLE_FILES
    with open(str(job.bundle / "40-metallb.yaml")) as handle:
        metallb = [d for d in yaml.safe_load_all(handle) if d]
    (peer,) = [d for d in metallb if d["kind"] == "BGPPeer"]
    assert peer["spec"]["peerASN"] == 64512 and peer["spec"]["passwordSecret"]["name"] == "metallb-bgp-tor-1"
    assert any(d["kind"] == "BGPAdvertisement" for d in metallb)
    for path in job.bundle.iterdir():
        assert password not in path.read_text(), path.name
    # The bundle's listing is in the job output.
    assert "40-metallb.yaml" in job.stdout

    assert len(job.events) > 20
    # Only file names are reported: an event holding a secret is not printed.
    assert job.files_holding(job.token) == [], "the K8S_AUTH_API_KEY value leaked"
    assert job.files_holding(password) == [], "the BGP password leaked"


def test_reading_the_nodes_keeps_the_token_out_of_the_events(tmp_path):
    """Fact gathering on a local-connection node (the EE itself, the kind example) must not
    publish the job's environment: only the network subset is gathered."""
    answers = dict(SITE, compute_network_gather_nodes="true", compute_network_interface="lo")
    job = Job(tmp_path, "playbooks/validate.yml", answers)
    assert job.task_events("runner_on_ok", "Read the compute interface of every node")
    assert job.files_holding(job.token) == [], "the K8S_AUTH_API_KEY value leaked"


def test_empty_bgp_peers_answer_is_no_peers(tmp_path):
    """An empty text answer arrives as '' (the launch form sends the fields it shows)."""
    job = Job(tmp_path, "playbooks/validate.yml", dict(SITE, compute_network_bgp_peers=""))
    assert job.result.status == "successful", job.stdout


# A fleet as one job template without a survey: examples/fleet (two single-node stores and the
# two-node depot, which declares compute_network_node_count) imported into AWX as it is.
FLEET_SITES = ["site_depot_3", "site_store_17", "site_store_42"]


def fleet_jobs(tmp_path, playbook, slice_count):
    """The jobs AWX runs for one launch with this job slice count: one per slice, each with its own
    private data dir, whose inventory holds the slice's hosts only."""
    exported = awx_inventory.export(os.path.join(ROOT, "examples", "fleet"))
    jobs = []
    for number in range(1, slice_count + 1):
        folder = tmp_path / ("slice-%d-of-%d" % (number, slice_count))
        answers = {"k8s_network_bundle_dir": str(folder / "bundles") + "/{{ k8s_network_cluster }}"}
        jobs.append(Job(folder, playbook, answers, inventory=awx_inventory.script_data(exported, number, slice_count),
                        survey=False))
    return jobs


def bundles(job):
    """{cluster: {file name: text}} of what the job wrote."""
    folder = job.pdd.parent / "bundles"
    return dict((site.name, dict((f.name, f.read_text()) for f in sorted(site.iterdir())))
                for site in sorted(folder.iterdir())) if folder.is_dir() else {}


def hosts_of(job):
    return sorted(job.inventory["_meta"]["hostvars"])


def checked_counts(job):
    """{host: the node count its cluster's check used}, for each host that checked a cluster."""
    return dict((e["event_data"]["host"], e["event_data"]["res"]["compute_network"]["node_count"])
                for e in job.task_events("runner_on_ok", CHECK_TASK))


@pytest.fixture(scope="module")
def unsliced(tmp_path_factory):
    (job,) = fleet_jobs(tmp_path_factory.mktemp("unsliced"), "playbooks/render.yml", 1)
    return job


@pytest.mark.parametrize("slice_count", [2, 3])
def test_a_sliced_fleet_renders_the_single_node_sites_as_a_whole_run_does(tmp_path, unsliced, slice_count):
    assert unsliced.result.status == "successful", unsliced.stdout
    whole = bundles(unsliced)
    assert sorted(whole) == FLEET_SITES
    assert all(sorted(files) == BUNDLE_FILES
               for files in whole.values())

    jobs = fleet_jobs(tmp_path, "playbooks/render.yml", slice_count)
    # Round-robin over the hosts by name puts the depot's two nodes in different slices.
    slices = [hosts_of(job) for job in jobs]
    assert sorted(sum(slices, [])) == ["depot-3-ase-a", "depot-3-ase-b", "store-17-ase", "store-42-ase"]
    assert [s for s in slices if "depot-3-ase-a" in s] != [s for s in slices if "depot-3-ase-b" in s]

    rendered = {}
    for job, hosts in zip(jobs, slices):
        for site, files in bundles(job).items():
            assert site not in rendered, "%s rendered by two slices" % site
            rendered[site] = files
        # A slice fails only for the depot node it holds; one holding single-node sites only passes.
        depot = [h for h in hosts if h.startswith("depot-")]
        assert job.result.status == ("failed" if depot else "successful"), job.stdout
        if depot:
            # Refused on the node the slice holds, after a check with the depot's true count.
            assert checked_counts(job)[depot[0]] == 2
            (refused,) = job.task_events("runner_on_failed", REFUSAL_TASK)
            assert refused["event_data"]["host"] == depot[0]
            msg = refused["event_data"]["res"]["msg"]
            assert msg.startswith("[cluster_incomplete] compute_network_node_count: cluster site_depot_3 has 2 nodes,"
                                  " but this inventory holds only 1 of them (%s)" % depot[0]), msg
            assert "job slice count of 1" in msg
    assert checked_counts(unsliced) == {"depot-3-ase-a": 2, "store-17-ase": 1, "store-42-ase": 1}
    # The single-node sites come out byte for byte as in the whole run; the depot nowhere.
    assert rendered == dict((site, whole[site]) for site in ("site_store_17", "site_store_42"))


REFUSAL_TASK = "Stop the nodes of a cluster whose check did not pass, or that the run holds only part of"
