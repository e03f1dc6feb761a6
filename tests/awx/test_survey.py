# Copyright: contributors to edgeops.k8s_network
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""docs/awx/bringup-survey.json against the roles, and docs/awx/create_job_template.yml.

The survey must be one AWX accepts, ask for every compute_network_* setting, and ask only for
variables some role knows, with the roles' own defaults and choices (so that a job launched
with every default behaves like a run without the survey).

No AWX runs here. The playbook is syntax-checked against the real awx.awx collection from the
`ansible` wheel in .cache/, then run against a stand-in of awx.awx: the real modules with
their real argument specs, whose API layer (module_utils/controller_api.py) is replaced by one
that validates the options, records them and stops. The test reads what each module received.
"""

import glob
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile

import pytest
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from awx_survey import ROOT, choices_of, extra_vars, load_survey, spec_errors  # noqa: E402

PLAYBOOK = os.path.join(ROOT, "docs", "awx", "create_job_template.yml")
BIN = os.path.dirname(sys.executable)

STANDIN_CONTROLLER_API = '''
# Stand-in for awx.awx's API layer in tests: validate the options with the module's own
# argument spec, record them, stop before any HTTP request.
import json
import os

from ansible.module_utils.basic import AnsibleModule


class ControllerAPIModule(AnsibleModule):
    AUTH_ARGSPEC = dict(
        controller_host=dict(), controller_username=dict(), controller_password=dict(no_log=True),
        validate_certs=dict(type="bool"), request_timeout=dict(type="float"),
        controller_oauthtoken=dict(type="raw", no_log=True), controller_config_file=dict(type="path"),
    )

    def __init__(self, argument_spec, **kwargs):
        spec = dict(self.AUTH_ARGSPEC)
        spec.update(argument_spec)
        super().__init__(argument_spec=spec, supports_check_mode=True)
        with open(os.environ["AWX_STANDIN_RECORD"], "a") as handle:
            handle.write(json.dumps({"module": self._name, "params": self.params}) + "\\n")
        self.exit_json(changed=True)
'''


def role_specs():
    """{variable: (role, option spec)} from every roles/*/meta/argument_specs.yml entry point."""
    known = {}
    for path in sorted(glob.glob(os.path.join(ROOT, "roles", "*", "meta", "argument_specs.yml"))):
        role = path.split(os.sep)[-3]
        with open(path) as handle:
            specs = yaml.safe_load(handle)["argument_specs"]
        for entry in specs.values():
            for name, option in (entry.get("options") or {}).items():
                known.setdefault(name, (role, option))
    return known


def role_defaults():
    """The roles' defaults as a run without other variables sees them: a default that follows an
    older name (`{{ calico_block_size | default(26) }}`) is that name's default, or its fallback."""
    values = {}
    for path in sorted(glob.glob(os.path.join(ROOT, "roles", "*", "defaults", "main.yml"))):
        with open(path) as handle:
            values.update(yaml.safe_load(handle) or {})
    for name, value in values.items():
        follows = re.fullmatch(r"\{\{ *(\w+) *\| *default\((\w+)\) *\}\}", str(value))
        if follows:
            values[name] = values.get(follows.group(1), yaml.safe_load(follows.group(2)))
    return values


def as_survey_value(value, qtype):
    """A role default written the way the survey spells it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ("\n" if qtype == "multiselect" else ",").join(str(v) for v in value)
    return value


@pytest.fixture(scope="module")
def survey():
    return load_survey()


def test_awx_accepts_the_survey(survey):
    assert spec_errors(survey) == []


def test_the_validator_refuses_what_awx_refuses(survey):
    """The checks above can fail: each broken copy of the survey is refused."""
    broken = json.loads(json.dumps(survey))
    broken["spec"][0]["required"] = "yes"
    assert any("required" in e for e in spec_errors(broken))
    broken = json.loads(json.dumps(survey))
    broken["spec"].append(dict(broken["spec"][0]))
    assert any("twice" in e for e in spec_errors(broken))
    broken = json.loads(json.dumps(survey))
    choice = next(q for q in broken["spec"] if q["type"] == "multiplechoice")
    choice["default"] = "sometimes"
    assert any("not among the choices" in e for e in spec_errors(broken))
    broken = json.loads(json.dumps(survey))
    number = next(q for q in broken["spec"] if q["type"] == "integer")
    number["default"] = "26"
    assert any("does not suit" in e for e in spec_errors(broken))


def test_every_survey_variable_is_known_to_a_role(survey):
    known = set(role_specs()) | set(role_defaults())
    unknown = [q["variable"] for q in survey["spec"] if q["variable"] not in known]
    assert unknown == []


def test_every_compute_network_setting_is_in_the_survey(survey):
    with open(os.path.join(ROOT, "roles", "compute_network", "meta", "argument_specs.yml")) as handle:
        options = yaml.safe_load(handle)["argument_specs"]["main"]["options"]
    wanted = set(name for name in options if name.startswith("compute_network_"))
    asked = set(q["variable"] for q in survey["spec"])
    assert sorted(wanted - asked) == []


def test_required_questions_are_the_required_settings(survey):
    specs = role_specs()
    required = sorted(q["variable"] for q in survey["spec"] if q["required"])
    assert required == sorted(v for v in (q["variable"] for q in survey["spec"]) if specs[v][1].get("required"))


def test_defaults_and_choices_are_the_roles_own(survey):
    specs, defaults = role_specs(), role_defaults()
    for question in survey["spec"]:
        variable, qtype = question["variable"], question["type"]
        option = specs[variable][1]
        role_default = defaults.get(variable, option.get("default"))
        # A question may leave out its default (AWX then sets nothing); one it gives is the role's.
        if "default" in question and role_default is not None and not option.get("required"):
            assert question["default"] == as_survey_value(role_default, qtype), variable
        if qtype in ("multiplechoice", "multiselect"):
            expected = ["true", "false"] if option["type"] == "bool" else [str(c) for c in option["choices"]]
            assert sorted(choices_of(question)) == sorted(expected), variable
        if qtype == "integer":
            assert option["type"] in ("int", "raw"), variable
        if qtype == "float":
            assert option["type"] == "float", variable
        if qtype == "multiselect":
            assert option["type"] == "list", variable


def test_extra_vars_of_a_launch_with_defaults_follow_awx(survey):
    launched = extra_vars(survey, {"compute_network_node_ips": "10.0.0.2-10.0.0.3",
                                   "compute_network_external_service_ips": "10.0.0.100"})
    assert launched["compute_network_mtu"] == ""
    assert launched["compute_network_strict"] == "false"
    assert launched["compute_network_block_size"] == 26
    assert launched["compute_network_bgp_peers"] == ""
    # Unset: an empty integer default, a multiselect default (a string, not a list).
    assert "compute_network_node_count" not in launched
    assert "compute_network_probe_methods" not in launched
    with pytest.raises(AssertionError):
        extra_vars(survey, {"compute_network_block_size": "26"})
    with pytest.raises(AssertionError):
        extra_vars(survey, {"compute_network_profile": "azure"})


# --- docs/awx/create_job_template.yml ---------------------------------------------------------

def wheel():
    found = sorted(glob.glob(os.path.join(ROOT, ".cache", "ansible-*-py3-none-any.whl")))
    return found[-1] if found else None


@pytest.fixture(scope="module")
def awx_collection(tmp_path_factory):
    """awx.awx from the `ansible` wheel, in its own collections path."""
    path = wheel()
    if not path:
        pytest.skip("no ansible wheel in .cache/ (make venv downloads it); awx.awx is not on Galaxy here")
    with zipfile.ZipFile(path) as zf:
        names = [n for n in zf.namelist() if n.startswith("ansible_collections/awx/awx/")]
        if not names:
            pytest.skip("the ansible wheel in .cache/ has no awx.awx")
        dest = tmp_path_factory.mktemp("awx-collection")
        zf.extractall(str(dest), names)
    return dest


def run_playbook(args, tmp_path, collections, extra_env=None):
    home = tmp_path / "home"
    (home / ".ansible" / "tmp").mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, HOME=str(home), ANSIBLE_COLLECTIONS_PATH=str(collections),
               ANSIBLE_LOCAL_TEMP=str(home / ".ansible" / "tmp"), ANSIBLE_REMOTE_TMP=str(home / ".ansible" / "tmp"),
               ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_INVENTORY_UNPARSED_WARNING="false",
               ANSIBLE_PYTHON_INTERPRETER=sys.executable)
    env.update(extra_env or {})
    env.pop("ANSIBLE_CONFIG", None)
    return subprocess.run([os.path.join(BIN, "ansible-playbook")] + args, cwd=str(tmp_path), env=env,
                          capture_output=True, text=True, timeout=300, check=False)


def test_playbook_passes_syntax_check_with_awx_awx(awx_collection, tmp_path):
    proc = run_playbook(["--syntax-check", PLAYBOOK], tmp_path, awx_collection)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_playbook_fails_syntax_check_without_awx_awx(tmp_path):
    """So that the check above means something: an unknown module is a syntax error."""
    empty = tmp_path / "empty"
    empty.mkdir()
    proc = run_playbook(["--syntax-check", PLAYBOOK], tmp_path, empty)
    assert proc.returncode != 0
    assert "awx.awx." in proc.stdout + proc.stderr


TOKEN = "awx-test-cluster-token-DO-NOT-LEAK-%s" % os.urandom(6).hex()
SITE_VARS = {
    "edge_site_name": "store-042",
    "edge_site_project_url": "https://git.corp.test/platform/k8s_network.git",
    "edge_site_ee_image": "registry.corp.test/edgeops-k8s-network-ee:0.1.0",
    "edge_site_api_host": "https://192.168.10.11:6443",
    "edge_site_api_token": TOKEN,
    "edge_site_nodes": [{"name": "edge-a", "address": "192.168.10.21"},
                        {"name": "edge-b", "address": "192.168.10.22"}],
    "edge_site_machine_credential": "store-042 ssh",
    "edge_site_vars": {"calico_manifest_sha256": "0" * 64, "metallb_manifest_dir": "/srv/manifests"},
}


@pytest.fixture(scope="module")
def standin(awx_collection, tmp_path_factory):
    """awx.awx with its API layer replaced by a recorder: run(site_vars) -> {proc, calls}."""
    work = tmp_path_factory.mktemp("create-job-template")
    collections = work / "collections"
    shutil.copytree(str(awx_collection), str(collections))
    (collections / "ansible_collections" / "awx" / "awx" / "plugins" / "module_utils" / "controller_api.py").write_text(
        STANDIN_CONTROLLER_API)

    def run(site_vars, name="site"):
        scratch = work / name
        scratch.mkdir()
        record = scratch / "record.jsonl"
        (scratch / "site.json").write_text(json.dumps(site_vars))
        proc = run_playbook([PLAYBOOK, "-i", "localhost,", "-e", "@site.json"], scratch, collections,
                            {"AWX_STANDIN_RECORD": str(record), "CONTROLLER_HOST": "https://awx.example.invalid"})
        calls = [json.loads(line) for line in record.read_text().splitlines()] if record.exists() else []
        return {"proc": proc, "calls": calls, "token": site_vars.get("edge_site_api_token")}
    return run


@pytest.fixture(scope="module")
def standin_run(standin):
    return standin(SITE_VARS)


def calls_of(run, module):
    return [c["params"] for c in run["calls"] if c["module"] == "awx.awx." + module]


def test_playbook_runs_against_the_stand_in(standin_run):
    proc = standin_run["proc"]
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert standin_run["token"] not in proc.stdout + proc.stderr


def test_bringup_template_carries_the_survey_and_both_credentials(standin_run, survey):
    templates = dict((t["name"], t) for t in calls_of(standin_run, "job_template"))
    bringup = templates["store-042: networking bring-up"]
    assert bringup["playbook"] == "playbooks/bringup.yml"
    assert bringup["survey_enabled"] is True
    assert bringup["survey_spec"] == survey
    assert sorted(bringup["credentials"]) == ["store-042 cluster", "store-042 ssh"]
    assert bringup["inventory"] == "store-042"
    # One job per launch: a slice holding part of a multi-node site would refuse it.
    assert bringup["job_slice_count"] == 1


def test_check_template_asks_only_for_the_compute_network(standin_run, survey):
    templates = dict((t["name"], t) for t in calls_of(standin_run, "job_template"))
    check = templates["store-042: compute network check"]
    assert check["playbook"] == "playbooks/validate.yml"
    assert spec_errors(check["survey_spec"]) == []
    asked = [q["variable"] for q in check["survey_spec"]["spec"]]
    assert asked == [q["variable"] for q in survey["spec"] if q["variable"].startswith("compute_network_")]
    assert check["credentials"] == ["store-042 ssh"]
    assert check["job_slice_count"] == 1


def test_cluster_credential_is_a_kubernetes_bearer_token(standin_run):
    (credential,) = calls_of(standin_run, "credential")
    assert credential["credential_type"] == "OpenShift or Kubernetes API Bearer Token"
    assert credential["inputs"]["host"] == "https://192.168.10.11:6443"
    assert credential["inputs"]["bearer_token"] == standin_run["token"]
    # No CA given: the EE's system CAs verify the API; nothing turns verification off silently.
    assert credential["inputs"]["verify_ssl"] is True


def test_tls_verification_is_off_only_when_asked(standin):
    run = standin(dict(SITE_VARS, edge_site_api_insecure=True), "insecure")
    assert run["proc"].returncode == 0, run["proc"].stdout + run["proc"].stderr
    (credential,) = calls_of(run, "credential")
    assert credential["inputs"]["verify_ssl"] is False


def test_the_site_s_settings_land_in_its_inventory(standin_run):
    (inventory,) = calls_of(standin_run, "inventory")
    assert inventory["name"] == "store-042"
    variables = inventory["variables"]
    variables = yaml.safe_load(variables) if isinstance(variables, str) else variables
    assert variables == SITE_VARS["edge_site_vars"]


@pytest.mark.parametrize("unset,placeholder", [
    ("edge_site_project_url", "https://example.invalid/edgeops/k8s_network.git"),
    ("edge_site_ee_image", "registry.example.invalid/edgeops-k8s-network-ee:0.1.0"),
    ("edge_site_api_host", "https://kubernetes.example.invalid:6443"),
    ("edge_site_machine_credential", ""),
    ("edge_site_nodes", []),
])
def test_a_run_with_a_placeholder_left_in_is_refused_before_anything_is_created(standin, unset, placeholder):
    run = standin(dict(SITE_VARS, **{unset: placeholder}), "placeholder-" + unset)
    assert run["proc"].returncode != 0
    output = run["proc"].stdout + run["proc"].stderr
    assert "[awx_setting_missing]" in output and unset in output
    assert run["calls"] == []
    assert TOKEN not in output


def test_every_variable_the_playbook_takes_is_named_in_its_header():
    with open(PLAYBOOK) as handle:
        text = handle.read()
    loader = type("UnsafeTagLoader", (yaml.SafeLoader,), {})
    loader.add_constructor("!unsafe", lambda load, node: load.construct_scalar(node))
    (play,) = yaml.load(text, Loader=loader)  # noqa: S506 - a safe loader that also reads !unsafe strings
    header = text.split("\n- name:", 1)[0]
    taken = [name for name in play["vars"] if name not in ("edge_site_survey", "edge_site_placeholders")]
    assert [name for name in taken if "#   %s " % name not in header] == []


def test_bgp_credential_type_injects_peers_templated_by_awx_not_ansible(standin_run):
    (ctype,) = calls_of(standin_run, "credential_type")
    fields = dict((f["id"], f) for f in ctype["inputs"]["fields"])
    assert fields["password"].get("secret") is True
    (peer,) = ctype["injectors"]["extra_vars"]["metallb_bgp_peers"]
    assert peer["password"] == "{{ password | default('') }}"
    assert peer["peer_address"] == "{{ peer_address }}"


def test_nodes_land_in_the_edge_nodes_group(standin_run):
    hosts = calls_of(standin_run, "host")
    assert [(h["name"], h["variables"]["ansible_host"]) for h in hosts] == [
        ("edge-a", "192.168.10.21"), ("edge-b", "192.168.10.22")]
    (group,) = calls_of(standin_run, "group")
    assert group["name"] == "edge_nodes" and group["hosts"] == ["edge-a", "edge-b"]
