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


def answer_errors(question, value):
    """AWX's check of one answer (or default) against its question: a non-empty list means refused."""
    qtype = question["type"]
    if qtype in ("text", "textarea", "password"):
        return [] if isinstance(value, str) else ["not a string"]
    if qtype == "integer":
        return [] if isinstance(value, int) and not isinstance(value, bool) else ["not an integer"]
    if qtype == "float":
        return [] if isinstance(value, (int, float)) and not isinstance(value, bool) else ["not a number"]
    if qtype == "multiselect":
        if not isinstance(value, list):
            return ["not a list"]
        return ["%r is not a choice" % v for v in value if v not in choices_of(question)]
    return [] if value in choices_of(question) else ["%r is not a choice" % value]


def extra_vars(survey, answers):
    """The extra vars of a job launched through the API with these answers.

    `answers` maps variables to what the operator entered: strings for text and choice
    questions, numbers for integer and float ones, lists for multiselect ones. An answer AWX
    would refuse fails the test. A question left unanswered takes its default only when the
    default passes the same check: so an empty text default arrives as "", while an empty
    integer default, or a multiselect default (a string), leaves the variable unset.
    """
    questions = dict((q["variable"], q) for q in survey["spec"])
    unknown = set(answers) - set(questions)
    assert not unknown, "not survey questions: %s" % sorted(unknown)
    result = {}
    for variable, question in questions.items():
        if variable in answers:
            errors = answer_errors(question, answers[variable])
            assert not errors, "AWX refuses %s=%r: %s" % (variable, answers[variable], errors)
            result[variable] = answers[variable]
        elif question.get("default") is not None and not answer_errors(question, question["default"]):
            result[variable] = question["default"]
    return result
