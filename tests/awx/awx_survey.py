# Copyright: contributors to edgeops.k8s_network
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What AWX does with a survey spec, for the tests: the checks it makes when a spec is saved,
and the extra vars it hands a job from an operator's answers.

Written from AWX's documented behaviour (api/v2/job_templates/N/survey_spec/ and the job
launch): question types, the type each default must have, choices and their defaults; at
launch, text and choice answers are strings, integer and float answers numbers, multiselect
answers lists, and a question left unanswered takes its default.
"""

import json
import os

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SURVEY_FILE = os.path.join(ROOT, "docs", "awx", "bringup-survey.json")

DEFAULT_TYPES = {
    "text": (str,), "textarea": (str,), "password": (str,), "multiplechoice": (str,), "multiselect": (str,),
    "integer": (int,), "float": (int, float),
}


def load_survey(path=SURVEY_FILE):
    with open(path) as handle:
        return json.load(handle)


def choices_of(question):
    choices = question.get("choices", [])
    if isinstance(choices, str):
        choices = [c for c in choices.splitlines() if c.strip()]
    return list(choices)


def spec_errors(survey):
    """The reasons AWX would refuse to save this survey spec (empty when it would take it)."""
    errors = []
    for field, kind in (("name", str), ("description", str), ("spec", list)):
        if not isinstance(survey.get(field), kind):
            errors.append("%s missing or not a %s" % (field, kind.__name__))
    if errors:
        return errors
    if not survey["spec"]:
        errors.append("spec has no question")
    seen = set()
    for idx, item in enumerate(survey["spec"]):
        where = "question %d" % idx
        if not isinstance(item, dict):
            errors.append("%s is not an object" % where)
            continue
        for field, kind in (("type", str), ("question_name", str), ("variable", str), ("required", bool)):
            if not isinstance(item.get(field), kind):
                errors.append("%s: %s missing or not a %s" % (where, field, kind.__name__))
        variable = item.get("variable")
        if variable in seen:
            errors.append("%s: variable %s twice" % (where, variable))
        seen.add(variable)
        qtype = item.get("type")
        if qtype not in DEFAULT_TYPES:
            errors.append("%s: type %r is not a survey type" % (where, qtype))
            continue
        default = item.get("default", "")
        if default != "" and (isinstance(default, bool) or not isinstance(default, DEFAULT_TYPES[qtype])):
            errors.append("%s: default %r does not suit type %s" % (where, default, qtype))
        for key in ("min", "max"):
            if item.get(key) is not None and not isinstance(item[key], int):
                errors.append("%s: %s is not an integer" % (where, key))
        if qtype in ("multiplechoice", "multiselect"):
            if "choices" not in item:
                errors.append("%s: %s needs choices" % (where, qtype))
                continue
            defaults = [d for d in default.splitlines() if d.strip()] if isinstance(default, str) else default
            if qtype == "multiplechoice" and len(defaults) > 1:
                errors.append("%s: a multiplechoice question has one default" % where)
            if any(d not in choices_of(item) for d in defaults):
                errors.append("%s: default %r is not among the choices" % (where, default))
    return errors


def extra_vars(survey, answers):
    """The extra vars of a job launched with these answers (a dict: variable -> answer).

    Answers are given as an operator types them (strings); a question not answered takes its
    default, an empty default included, which is the harder case for the playbooks.
    """
    unknown = set(answers) - set(q["variable"] for q in survey["spec"])
    assert not unknown, "not survey questions: %s" % sorted(unknown)
    result = {}
    for question in survey["spec"]:
        variable, qtype = question["variable"], question["type"]
        value = answers.get(variable, question.get("default", ""))
        if qtype == "multiselect":
            value = [v for v in value.splitlines() if v.strip()] if isinstance(value, str) else list(value)
        elif qtype in ("integer", "float") and value != "":
            value = int(value) if qtype == "integer" else float(value)
        else:
            value = value if isinstance(value, str) else str(value)
        result[variable] = value
    return result
