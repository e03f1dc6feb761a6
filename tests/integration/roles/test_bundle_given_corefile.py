# Copyright: contributors to edgeops.k8s_network
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bundle mode with a Corefile the operator gives (docs/scenarios/gitops-bundle.md, coredns_corefile).

The given Corefile runs nowhere: it is the base of 50-coredns.yaml. A re-run with the same
values must change nothing (the pre-render that writes nothing used to report a change every
time), and --diff must not call it live. The run is playbooks/bringup.yml in bundle mode,
with the site of test_bringup_apply; the emulated API is there only because that harness
needs one, and the test checks that nothing reached it.
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
from emulator.fixtures import emulated_api_factory, run_playbook  # noqa: E402,F401 pylint: disable=unused-import
from test_bringup_apply import BRINGUP, KUBEADM_COREFILE, bringup, site  # noqa: E402,F401 pylint: disable=unused-import


def test_a_given_corefile_re_renders_without_a_change(emulated_api_factory, site, tmp_path):
    api = emulated_api_factory(auto_ready=True)
    given = KUBEADM_COREFILE.replace("    loadbalance\n", "    loadbalance\n    # kept by the merge\n")
    settings = dict(k8s_network_mode="bundle", k8s_network_bundle_dir=str(tmp_path / "bundle"),
                    coredns_corefile=given)
    first = bringup(api, site, **settings)
    assert first.rc == 0, first
    written = (tmp_path / "bundle" / "50-coredns.yaml").read_text()
    assert "# kept by the merge" in written and "forward . 192.168.10.2" in written

    again = bringup(api, site, **settings)
    assert again.rc == 0, again
    assert again.recap["edge-1"]["changed"] == 0, again
    assert (tmp_path / "bundle" / "50-coredns.yaml").read_text() == written

    shown = run_playbook(api, BRINGUP, "-i", site["inventory"], "--diff", extra_vars=dict(site["vars"], **settings),
                         scratch=site["scratch"])
    assert shown.rc == 0, shown
    assert "Corefile (live)" not in shown.stdout
    assert api.journal(verbs={"create", "update", "patch", "apply", "delete"}) == []
