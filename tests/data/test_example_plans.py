#!/usr/bin/env python3
"""Compare the example plan files with the seed data, task for task.

Usage: python3 tests/data/test_example_plans.py [SOURCE_DIR]

SOURCE_DIR is the top of the source tree (default: two levels above this
file). For each example plan in examples/plans/ the test loads the plan and
its seed file in data/seed/ and checks:

  * the plan header: id, doc_number and title equal the seed's; coordinators
    and supervision are the documented project choices, marked as such in a
    comment;
  * the number of tasks (28, 23, 10) and their ids, in the seed's order, with
    no duplicates;
  * per task: title (verbatim), lead and support (department ids in printed
    order), due, report_every, targets (year, text);
  * every department id used exists in data/seed/departments.yaml;
  * the file keeps to the plan format (known keys only, dates as quoted
    "YYYY-MM-DD" strings).

Rules encoded here (the same rules the example files state in their headers):

  lead   the seed's lead list. Where it is empty (the gazette names no
         牵头部门, 21号 三（四）), the plan's coordinators lead, and the task
         carries the comment LEADLESS_MARK.
  due    "Y-12-31" where Y is the latest year among the task's targets; if no
         target has a year, the latest year among its milestones; if the task
         has no year at all, the plan's fallback year (FALLBACK below).

Needs only the standard library and PyYAML (Debian: python3-yaml).
Exits 0 when everything matches, 1 with one line per mismatch otherwise.
"""

import datetime
import os
import re
import sys

try:
    import yaml
except ImportError:  # pragma: no cover - environment problem, not a mismatch
    sys.stderr.write(
        "test_example_plans: PyYAML is missing "
        "(apt-get install python3-yaml)\n")
    sys.exit(1)

LEADLESS_MARK = "# the gazette names no 牵头部门; the coordinator leads (project's choice)"
REPORT_EVERY_VALUES = {"none", "month", "quarter", "half-year", "year"}
PLAN_KEYS = {"id", "doc_number", "title", "coordinators", "supervision"}
TASK_KEYS = {"id", "title", "lead", "support", "due", "report_every", "targets"}
TARGET_KEYS = {"year", "text"}

# Where a task has no year at all, its due year. How each is derived from the
# seed, and the value it must come to (so that a change in the seed is seen):
#   period_end   the seed's plan.period.end_year (21号 2022-2026, 22号 2022-2035)
#   target_year  the latest year of the seed's plan-wide targets (the straw
#                plan states its targets for "2022 年"; its season, 2022-2023
#                年度, has no end date in the gazette)
PLANS = [
    {
        "file": "examples/plans/ir-2022.yaml",
        "seed": "data/seed/plan-industrial-revitalization.yaml",
        "id": "ir-2022",
        "tasks": 28,
        "coordinators": ["mdj.zf.bgs"],
        "supervision": ["mdj.zf.dcs"],
        "report_every": "quarter",       # 四（五）按季度通报
        "fallback": ("period_end", 2026),
    },
    {
        "file": "examples/plans/met-2022.yaml",
        "seed": "data/seed/plan-meteorology.yaml",
        "id": "met-2022",
        "tasks": 23,
        "coordinators": ["mdj.zf.bgs"],
        "supervision": ["mdj.zf.dcs"],
        "report_every": "year",          # project's choice, no cadence stated
        "fallback": ("period_end", 2035),
    },
    {
        "file": "examples/plans/straw-2022.yaml",
        "seed": "data/seed/plan-straw-2022.yaml",
        "id": "straw-2022",
        "tasks": 10,
        "coordinators": ["mdj.jgzhlygzlxhybgs"],
        "supervision": ["mdj.zf.dcs"],
        "report_every": "month",         # project's choice, no cadence stated
        "fallback": ("target_year", 2022),
    },
]


class Checker:
    def __init__(self):
        self.failures = []

    def fail(self, where, field, msg):
        self.failures.append("FAIL %s: field %s: %s" % (where, field, msg))

    def eq(self, where, field, expected, got):
        if expected != got:
            self.fail(where, field, "expected %r, got %r" % (expected, got))
            return False
        return True


def load(path):
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)


def years(items):
    return [x["year"] for x in (items or []) if x.get("year") is not None]


def fallback_year(seed, how):
    if how == "period_end":
        return seed["plan"]["period"]["end_year"]
    if how == "target_year":
        return max(years(seed.get("targets")))
    raise ValueError(how)


def expected_due(seed_task, fallback):
    ys = years(seed_task.get("targets"))
    if not ys:
        ys = years(seed_task.get("milestones"))
    return "%04d-12-31" % (max(ys) if ys else fallback)


def task_block(text, task_id):
    """The raw text of one task item, from its '- id:' line to the next."""
    m = re.search(r"^\s*- id: %s\s*$" % re.escape(task_id), text, re.M)
    if not m:
        return ""
    nxt = re.search(r"^\s*- id: ", text[m.end():], re.M)
    return text[m.start(): m.end() + nxt.start()] if nxt else text[m.start():]


def check_ids(ck, where, field, value, departments):
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        ck.fail(where, field, "expected a list of department ids, got %r" % (value,))
        return
    for v in value:
        if v not in departments:
            ck.fail(where, field, "department id %r is not in data/seed/departments.yaml" % v)
    if len(set(value)) != len(value):
        ck.fail(where, field, "duplicate department id in %r" % (value,))


def check_plan(ck, src, spec, departments):
    path = os.path.join(src, spec["file"])
    seed_path = os.path.join(src, spec["seed"])
    name = spec["file"]
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        doc = yaml.safe_load(text)
    except (OSError, yaml.YAMLError) as e:
        ck.fail(name, "(file)", "cannot load: %s" % e)
        return
    seed = load(seed_path)
    if not isinstance(doc, dict) or set(doc) != {"plan", "tasks"}:
        ck.fail(name, "(top level)", "expected exactly the keys plan and tasks, got %r"
                % (sorted(doc) if isinstance(doc, dict) else doc,))
        return

    # ---- header comment: source and project choices are stated -----------
    seed_file = os.path.basename(spec["seed"])
    for needle in ("data/seed/" + seed_file, seed["plan"]["doc_number"],
                   "牡丹江市人民政府公报 2022 第6期", "PROJECT CHOICE"):
        if needle not in text:
            ck.fail(name, "(comments)", "the file does not mention %r" % needle)

    # ---- plan header ------------------------------------------------------
    plan = doc["plan"]
    pid = plan.get("id") if isinstance(plan, dict) else None
    where = "%s: plan %s" % (name, pid)
    if not isinstance(plan, dict):
        ck.fail(where, "plan", "expected a mapping")
        return
    for k in sorted(set(plan) - PLAN_KEYS):
        ck.fail(where, k, "unknown key in plan")
    for k in sorted(PLAN_KEYS - set(plan)):
        ck.fail(where, k, "missing")
    ck.eq(where, "id", spec["id"], pid)
    ck.eq(where, "id", seed["plan"]["id"], pid)
    ck.eq(where, "doc_number", seed["plan"]["doc_number"], plan.get("doc_number"))
    ck.eq(where, "title", seed["plan"]["title"], plan.get("title"))
    for field in ("coordinators", "supervision"):
        value = plan.get(field)
        check_ids(ck, where, field, value, departments)
        ck.eq(where, field, spec[field], value)
        if not value:
            ck.fail(where, field, "must name at least one department")
    coordinators = plan.get("coordinators") or []

    # ---- fallback year for tasks without any year ---------------------------
    how, documented = spec["fallback"]
    fallback = fallback_year(seed, how)
    ck.eq(where, "due (fallback year, %s)" % how, documented, fallback)

    # ---- tasks --------------------------------------------------------------
    tasks = doc["tasks"]
    if not isinstance(tasks, list):
        ck.fail(where, "tasks", "expected a list")
        return
    seed_tasks = seed["tasks"]
    ck.eq(where, "tasks (count in seed)", spec["tasks"], len(seed_tasks))
    ck.eq(where, "tasks (count)", len(seed_tasks), len(tasks))

    ids = [t.get("id") if isinstance(t, dict) else None for t in tasks]
    seen = set()
    for tid in ids:
        if tid in seen:
            ck.fail("%s: task %s" % (where, tid), "id", "duplicate task id")
        seen.add(tid)
    ck.eq(where, "tasks (ids in order)", [t["id"] for t in seed_tasks], ids)

    by_id = {}
    for t in tasks:
        if isinstance(t, dict):
            by_id.setdefault(t.get("id"), t)  # first occurrence of an id
    for st in seed_tasks:
        tid = st["id"]
        tw = "%s: task %s" % (where, tid)
        t = by_id.get(tid)
        if t is None:
            ck.fail(tw, "id", "task missing from the example plan")
            continue
        for k in sorted(set(t) - TASK_KEYS):
            ck.fail(tw, k, "unknown key in task")
        for k in sorted(TASK_KEYS - set(t)):
            ck.fail(tw, k, "missing")

        ck.eq(tw, "title", st["title"], t.get("title"))

        # lead: the seed's list; for lead-less tasks the coordinators, marked.
        if st["lead"]:
            ck.eq(tw, "lead", st["lead"], t.get("lead"))
        else:
            ck.eq(tw, "lead (no 牵头部门 printed: coordinators lead)",
                  coordinators, t.get("lead"))
            if LEADLESS_MARK not in task_block(text, tid):
                ck.fail(tw, "lead", "lead-less task lacks the comment %r" % LEADLESS_MARK)
        check_ids(ck, tw, "lead", t.get("lead"), departments)
        if not t.get("lead"):
            ck.fail(tw, "lead", "the plan format needs at least one lead department")

        ck.eq(tw, "support", st["support"], t.get("support"))
        check_ids(ck, tw, "support", t.get("support"), departments)

        due = t.get("due")
        if not isinstance(due, str):
            ck.fail(tw, "due", "expected a quoted \"YYYY-MM-DD\" string, got %r (%s)"
                    % (due, type(due).__name__))
        else:
            try:
                datetime.date.fromisoformat(due)
            except ValueError:
                ck.fail(tw, "due", "%r is not a valid YYYY-MM-DD date" % due)
            ck.eq(tw, "due", expected_due(st, fallback), due)

        rep = t.get("report_every")
        if rep not in REPORT_EVERY_VALUES:
            ck.fail(tw, "report_every", "%r is not one of %s"
                    % (rep, ", ".join(sorted(REPORT_EVERY_VALUES))))
        ck.eq(tw, "report_every", spec["report_every"], rep)

        targets = t.get("targets")
        if not isinstance(targets, list):
            ck.fail(tw, "targets", "expected a list, got %r" % (targets,))
            continue
        for i, x in enumerate(targets):
            if not isinstance(x, dict) or set(x) != TARGET_KEYS:
                ck.fail(tw, "targets[%d]" % i, "expected exactly {year, text}, got %r" % (x,))
        want = [(x.get("year"), x.get("text")) for x in st.get("targets") or []]
        got = [(x.get("year"), x.get("text")) for x in targets if isinstance(x, dict)]
        if len(want) != len(got):
            ck.fail(tw, "targets", "expected %d targets, got %d" % (len(want), len(got)))
        for i, (w, g) in enumerate(zip(want, got)):
            ck.eq(tw, "targets[%d].year" % i, w[0], g[0])
            ck.eq(tw, "targets[%d].text" % i, w[1], g[1])


def main(argv):
    if len(argv) > 2:
        sys.stderr.write("usage: %s [SOURCE_DIR]\n" % argv[0])
        return 2
    src = argv[1] if len(argv) == 2 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), os.pardir, os.pardir)
    src = os.path.abspath(src)

    deps_doc = load(os.path.join(src, "data/seed/departments.yaml"))
    departments = {d["id"] for d in deps_doc["departments"]}

    ck = Checker()
    plan_ids = set()
    for spec in PLANS:
        before = len(ck.failures)
        check_plan(ck, src, spec, departments)
        if spec["id"] in plan_ids:
            ck.fail(spec["file"], "plan.id", "duplicate plan id %r" % spec["id"])
        plan_ids.add(spec["id"])
        n = len(ck.failures) - before
        print("%s %s (%d tasks, against %s)" % ("ok  " if n == 0 else "FAIL",
              spec["file"], spec["tasks"], spec["seed"]))

    if ck.failures:
        for f in ck.failures:
            sys.stderr.write(f + "\n")
        sys.stderr.write("%d mismatch(es)\n" % len(ck.failures))
        return 1
    print("all example plans match the seed data")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
