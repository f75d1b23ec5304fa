/* Unit tests: the plans plugin's plan file parser (every refusal names the
 * file, the line and the reason), its config block, and the three example
 * plans of the gazette. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "liandong/error.h"
#include "liandong/plugin.h"
#include "plan.h"
#include "text.h"

#ifndef LD_SOURCE_DIR
#error "LD_SOURCE_DIR must name the source tree"
#endif

/* ---- a fake roster and a warning collector -------------------------------- */

static const char *const small_roster[] = {"mdj.zf.bgs", "mdj.zf.dcs", "mdj.gxj", "mdj.fgw",
                                           "mdj.kjj",    "mdj.xq.zf",  NULL};

static int small_lookup(void *arg, const char *id, unsigned *roles)
{
    (void)arg;
    for (size_t i = 0; small_roster[i]; i++) {
        if (strcmp(small_roster[i], id) == 0) {
            *roles = i == 0 ? LD_ROLE_COORDINATOR : LD_ROLE_DEPARTMENT;
            return LD_OK;
        }
    }
    return LD_ERR_NOT_FOUND;
}

typedef struct warnings {
    char text[8][512];
    int n;
} warnings;

static void collect(void *arg, const char *msg)
{
    warnings *w = arg;
    if (w->n < 8)
        snprintf(w->text[w->n], sizeof w->text[0], "%s", msg);
    w->n++;
}

static warnings warned;

static int warned_about(const char *text)
{
    for (int i = 0; i < warned.n && i < 8; i++)
        if (strstr(warned.text[i], text))
            return 1;
    return 0;
}

static int parse(const char *yaml, ldp_plan **out, char *err, size_t errlen)
{
    memset(&warned, 0, sizeof warned);
    ldp_parse_opts o = {
        .file_name = "t.yaml", .roster = small_lookup, .warn = collect, .warn_arg = &warned};
    return ldp_plan_parse(&o, yaml, strlen(yaml), out, err, errlen);
}

/* The plan must be refused with a message containing want (which should
 * hold "t.yaml:LINE:" and the reason). */
static void refused(const char *yaml, const char *want)
{
    ldp_plan *p = NULL;
    char err[512] = "";
    int rc = parse(yaml, &p, err, sizeof err);
    if (rc != LD_ERR_FORMAT)
        fail_msg("expected a refusal containing '%s', got rc %d (%s)", want, rc, err);
    assert_null(p);
    if (!strstr(err, want))
        fail_msg("error '%s' does not contain '%s'", err, want);
}

#define HEAD                                                                                       \
    "plan:\n"                                                                                      \
    "  id: ir-2022\n"                                                                              \
    "  title: \"牡丹江市加快产业振兴实施方案\"\n"                                    \
    "  coordinators: [mdj.zf.bgs]\n"                                                               \
    "tasks:\n"
/* HEAD is lines 1-5; the first task starts on line 6. */
#define TASK(id)                                                                                   \
    "  - id: " id "\n"                                                                             \
    "    title: \"拓展数字经济发展新优势\"\n"                                           \
    "    lead: [mdj.gxj]\n"                                                                        \
    "    due: \"2025-12-31\"\n"

/* ---- a valid plan ---------------------------------------------------------- */

static void test_valid_plan(void **state)
{
    (void)state;
    const char *yaml =
        "# comment\n"
        "plan:\n"
        "  id: ir-2022\n"
        "  doc_number: \"牡政发〔2022〕21号\"\n"
        "  title: \"牡丹江市加快产业振兴实施方案（2022-2026年）\"\n"
        "  coordinators: [mdj.zf.bgs]\n"
        "  supervision: [mdj.zf.dcs]\n"
        "tasks:\n"
        "  - id: ir-2.1.1\n"
        "    title: \"拓展数字经济发展新优势\"\n"
        "    lead:\n"
        "      - mdj.gxj\n"
        "    support: [mdj.fgw, mdj.kjj, mdj.gxj]\n"
        "    due: \"2025-12-31\"\n"
        "    report_every: month\n"
        "    targets:\n"
        "      - {year: 2025, text: \"数字经济核心增加值占 GDP 比重达到 10% 以上\"}\n"
        "      - {year: null, text: \"构建 6 大数字产品制造产业链条\"}\n"
        "      - {text: \"没有年份\"}\n"
        "  - id: ir-3.4\n"
        "    title: 推进园区提档升级\n"
        "    lead: [mdj.zf.bgs]\n"
        "    support: []\n"
        "    due: 2026-12-31\n";
    ldp_plan *p;
    char err[512] = "";
    assert_int_equal(parse(yaml, &p, err, sizeof err), LD_OK);
    assert_int_equal(warned.n, 0);
    assert_string_equal(p->id, "ir-2022");
    assert_string_equal(p->doc_number, "牡政发〔2022〕21号");
    assert_string_equal(p->title, "牡丹江市加快产业振兴实施方案（2022-2026年）");
    assert_int_equal(p->coordinators.n, 1);
    assert_string_equal(p->coordinators.v[0], "mdj.zf.bgs");
    assert_int_equal(p->supervision.n, 1);
    assert_int_equal(p->line, 3);
    assert_int_equal(p->n_tasks, 2);
    ldp_task *t = &p->tasks[0];
    assert_string_equal(t->id, "ir-2.1.1");
    assert_int_equal(t->line, 9);
    assert_int_equal(t->lead.n, 1);
    assert_int_equal(t->support.n, 3); /* a lead may also be listed as support */
    assert_string_equal(t->support.v[1], "mdj.kjj");
    assert_string_equal(t->due, "2025-12-31");
    assert_string_equal(t->report_every, "month");
    assert_int_equal(t->n_targets, 3);
    assert_int_equal(t->targets[0].year, 2025);
    assert_string_equal(t->targets[0].text, "数字经济核心增加值占 GDP 比重达到 10% 以上");
    assert_int_equal(t->targets[1].year, 0);
    assert_int_equal(t->targets[2].year, 0);
    t = &p->tasks[1];
    assert_string_equal(t->title, "推进园区提档升级");
    assert_string_equal(t->lead.v[0], "mdj.zf.bgs");
    assert_int_equal(t->support.n, 0);
    assert_string_equal(t->due, "2026-12-31");
    assert_string_equal(t->report_every, "quarter"); /* the default */
    assert_int_equal(t->n_targets, 0);
    ldp_plan_destroy(&p);
    assert_null(p);
    ldp_plan_destroy(&p); /* NULL is fine */
}

static void test_report_default_option(void **state)
{
    (void)state;
    ldp_parse_opts o = {.file_name = "t.yaml", .report_default = "year"};
    const char *yaml = HEAD TASK("a");
    ldp_plan *p;
    char err[256];
    assert_int_equal(ldp_plan_parse(&o, yaml, strlen(yaml), &p, err, sizeof err), LD_OK);
    assert_string_equal(p->tasks[0].report_every, "year");
    ldp_plan_destroy(&p);
}

static void test_empty_task_list(void **state)
{
    (void)state;
    ldp_plan *p;
    char err[256];
    assert_int_equal(parse(HEAD "  []\n", &p, err, sizeof err), LD_OK);
    assert_int_equal(p->n_tasks, 0);
    ldp_plan_destroy(&p);
}

static void test_unknown_fields_warn(void **state)
{
    (void)state;
    const char *yaml = "plan:\n"
                       "  id: p\n"
                       "  title: x\n"
                       "  owner: someone\n"
                       "  coordinators: [mdj.zf.bgs]\n"
                       "tasks:\n"
                       "  - id: a\n"
                       "    title: t\n"
                       "    lead: [mdj.gxj]\n"
                       "    due: \"2025-12-31\"\n"
                       "    budget: {amount: 3}\n"
                       "    targets: [{year: 2025, text: x, unit: \"%\"}]\n"
                       "extra: 1\n";
    ldp_plan *p;
    char err[256];
    assert_int_equal(parse(yaml, &p, err, sizeof err), LD_OK);
    assert_int_equal(warned.n, 4);
    assert_true(warned_about("t.yaml:4: plan: unknown field \"owner\" ignored"));
    assert_true(warned_about("t.yaml:11: task a: unknown field \"budget\" ignored"));
    assert_true(warned_about("t.yaml:12: task a: target 1: unknown field \"unit\" ignored"));
    assert_true(warned_about("t.yaml:13: file: unknown field \"extra\" ignored"));
    assert_int_equal(p->n_tasks, 1);
    ldp_plan_destroy(&p);
}

static void test_coordinator_without_role_warns(void **state)
{
    (void)state;
    ldp_plan *p;
    char err[256];
    const char *yaml = "plan: {id: p, title: x, coordinators: [mdj.zf.bgs, mdj.gxj]}\n"
                       "tasks: []\n";
    assert_int_equal(parse(yaml, &p, err, sizeof err), LD_OK);
    assert_int_equal(warned.n, 1);
    assert_non_null(strstr(warned.text[0], "mdj.gxj lacks the coordinator role"));
    ldp_plan_destroy(&p);
}

/* ---- refusals --------------------------------------------------------------- */

static void test_missing_required_fields(void **state)
{
    (void)state;
    refused("plan:\n  title: x\n  coordinators: [mdj.zf.bgs]\ntasks: []\n",
            "t.yaml:2: plan: id is missing");
    refused("plan:\n  id: p\n  coordinators: [mdj.zf.bgs]\ntasks: []\n",
            "t.yaml:2: plan: title is missing");
    refused("plan:\n  id: p\n  title: \"\"\n  coordinators: [mdj.zf.bgs]\ntasks: []\n",
            "t.yaml:3: plan: title is empty");
    refused("plan:\n  id: p\n  title: x\ntasks: []\n",
            "t.yaml:2: plan: coordinators must list at least one principal");
    refused("plan:\n  id: p\n  title: x\n  coordinators: []\ntasks: []\n",
            "t.yaml:4: plan: coordinators must list at least one principal");
    refused("tasks: []\n", "t.yaml:1: the plan: section is missing");
    refused("plan: {id: p, title: x, coordinators: [mdj.zf.bgs]}\n",
            "t.yaml:1: the tasks: section is missing");
    refused(HEAD "  - title: x\n    lead: [mdj.gxj]\n    due: \"2025-12-31\"\n",
            "t.yaml:6: task #1: id is missing");
    refused(HEAD TASK("a") "  - id: b\n    lead: [mdj.gxj]\n    due: \"2025-12-31\"\n",
            "t.yaml:10: task b: title is missing");
    refused(HEAD "  - id: a\n    title: x\n    due: \"2025-12-31\"\n",
            "t.yaml:6: task a: lead must list at least one principal");
    refused(HEAD "  - id: a\n    title: x\n    lead: []\n    due: \"2025-12-31\"\n",
            "t.yaml:8: task a: lead must list at least one principal");
    refused(HEAD "  - id: a\n    title: x\n    lead: [mdj.gxj]\n",
            "t.yaml:6: task a: due is missing");
    refused("", "t.yaml:1: the file is empty");
}

static void test_unknown_principal(void **state)
{
    (void)state;
    refused(HEAD "  - id: a\n    title: x\n    lead: [mdj.gxj]\n    support:\n      - mdj.fgw\n"
                 "      - mdj.nobody\n    due: \"2025-12-31\"\n",
            "t.yaml:11: task a: unknown principal mdj.nobody in support (not in the broker's "
            "roster)");
    refused("plan:\n  id: p\n  title: x\n  coordinators: [mdj.zf.bgs]\n  supervision: [mdj.who]\n"
            "tasks: []\n",
            "t.yaml:5: plan: unknown principal mdj.who in supervision");
    refused(HEAD "  - id: a\n    title: x\n    lead: [MDJ.GXJ]\n    due: \"2025-12-31\"\n",
            "t.yaml:8: task a: \"MDJ.GXJ\" in lead is not a principal id");
    refused(HEAD "  - id: a\n    title: x\n    lead: [mdj.gxj, mdj.gxj]\n    due: \"2025-12-31\"\n",
            "t.yaml:8: task a: lead lists mdj.gxj twice");
}

static void test_duplicate_task_id(void **state)
{
    (void)state;
    refused(HEAD TASK("ir-2.1.1") TASK("ir-2.1.2") TASK("ir-2.1.1"),
            "t.yaml:14: task ir-2.1.1: duplicate task id (also at line 6)");
}

static void test_bad_ids(void **state)
{
    (void)state;
    refused(HEAD TASK("IR-1"), "t.yaml:6: task #1: id \"IR-1\" is not an id");
    refused(HEAD TASK("a b"), "t.yaml:6: task #1: id \"a b\" is not an id");
    refused(HEAD TASK("\"任务一\""), "t.yaml:6: task #1: id \"任务一\" is not an id");
    refused("plan:\n  id: ir/2022\n  title: x\n  coordinators: [mdj.zf.bgs]\ntasks: []\n",
            "t.yaml:2: plan: id \"ir/2022\" is not an id");
    char yaml[512];
    snprintf(yaml, sizeof yaml, HEAD TASK("%s"),
             "a123456789a123456789a123456789a123456789a123456789a123456789abcde"); /* 65 */
    refused(yaml, "t.yaml:6: task #1: id");
}

static void bad_due(const char *due, const char *shown)
{
    char yaml[1024], want[256];
    snprintf(yaml, sizeof yaml,
             HEAD TASK("a") "  - id: ir-2.1.1\n    title: x\n    lead: [mdj.gxj]\n    due: %s\n",
             due);
    snprintf(want, sizeof want, "t.yaml:13: task ir-2.1.1: due \"%s\" is not a date (YYYY-MM-DD)",
             shown);
    refused(yaml, want);
}

static void good_due(const char *due)
{
    char yaml[1024];
    snprintf(yaml, sizeof yaml, HEAD "  - id: a\n    title: x\n    lead: [mdj.gxj]\n    due: %s\n",
             due);
    ldp_plan *p;
    char err[256];
    if (parse(yaml, &p, err, sizeof err) != LD_OK)
        fail_msg("due %s refused: %s", due, err);
    ldp_plan_destroy(&p);
}

static void test_bad_dates(void **state)
{
    (void)state;
    bad_due("\"2025-13-01\"", "2025-13-01");
    bad_due("\"2025-00-10\"", "2025-00-10");
    bad_due("\"2025-04-31\"", "2025-04-31");
    bad_due("\"2023-02-29\"", "2023-02-29"); /* not a leap year */
    bad_due("\"1900-02-29\"", "1900-02-29"); /* century, not a leap year */
    bad_due("\"2024-02-30\"", "2024-02-30");
    bad_due("\"2025-1-01\"", "2025-1-01");
    bad_due("\"2025/12/31\"", "2025/12/31");
    bad_due("\"2025-12-31T00:00\"", "2025-12-31T00:00");
    bad_due("到2025年", "到2025年");
    bad_due("\"\"", "");
    good_due("\"2024-02-29\"");
    good_due("\"2000-02-29\"");
    good_due("2025-12-31"); /* unquoted: a plain scalar, still text to us */
    refused(HEAD "  - id: a\n    title: x\n    lead: [mdj.gxj]\n    due: [2025]\n",
            "t.yaml:9: task a: due must be a text, not a list");
}

static void test_invalid_utf8(void **state)
{
    (void)state;
    /* Raw bytes: libyaml's reader refuses them; the line is still named. */
    refused(HEAD TASK("a") "  - id: b\n    title: \"\xe6\x8b\x93\xff\"\n    lead: [mdj.gxj]\n"
                           "    due: \"2025-12-31\"\n",
            "t.yaml:11: invalid UTF-8");
    refused("plan:\n  id: p\n  title: \"\xc0\xaf\"\n  coordinators: [mdj.zf.bgs]\ntasks: []\n",
            "t.yaml:3: invalid UTF-8");
    /* A truncated sequence at the very end. */
    refused(HEAD TASK("a") "# \xe6\x8b", "t.yaml:10: invalid UTF-8");
    /* An escaped NUL would cut the string short. */
    refused(HEAD
            "  - id: a\n    title: \"ab\\0cd\"\n    lead: [mdj.gxj]\n    due: \"2025-12-31\"\n",
            "t.yaml:7: task a: title contains a NUL character");
    /* An escaped surrogate is not a character. */
    refused(HEAD
            "  - id: a\n    title: \"\\ud800\"\n    lead: [mdj.gxj]\n    due: \"2025-12-31\"\n",
            "t.yaml:7:");
}

static void test_report_every(void **state)
{
    (void)state;
    refused(HEAD "  - id: a\n    title: x\n    lead: [mdj.gxj]\n    due: \"2025-12-31\"\n"
                 "    report_every: weekly\n",
            "t.yaml:10: task a: report_every \"weekly\" is not one of none, month, quarter, "
            "half-year, year");
    const char *ok[] = {"none", "month", "quarter", "half-year", "year"};
    for (size_t i = 0; i < 5; i++)
        assert_true(ldp_report_every_valid(ok[i]));
    assert_false(ldp_report_every_valid("Quarter"));
    assert_false(ldp_report_every_valid(""));
    assert_false(ldp_report_every_valid(NULL));
}

static void test_wrong_shapes(void **state)
{
    (void)state;
    refused("- a\n- b\n",
            "t.yaml:1: a plan file must be a mapping with plan: and tasks:, not a list");
    refused("plan: [a, b]\ntasks: []\n", "t.yaml:1: plan must be a mapping of fields, not a list");
    refused("plan: x\ntasks: []\n", "t.yaml:1: plan must be a mapping of fields, not a text");
    refused(HEAD "  - just a line\n", "t.yaml:6: task #1 must be a mapping of fields");
    refused(HEAD TASK("a") "  - [x]\n", "t.yaml:10: task #2 must be a mapping of fields");
    refused(HEAD "  a: b\n", "t.yaml:6: tasks must be a list of tasks, not a mapping");
    refused(HEAD "  - id: a\n    title: {zh: x}\n    lead: [mdj.gxj]\n    due: \"2025-12-31\"\n",
            "t.yaml:7: task a: title must be a text, not a mapping");
    refused(HEAD "  - id: a\n    title: x\n    lead: mdj.gxj\n    due: \"2025-12-31\"\n",
            "t.yaml:8: task a: lead must be a list of principal ids like [mdj.gxj], not a text");
    refused(HEAD "  - id: a\n    title: x\n    lead: [[mdj.gxj]]\n    due: \"2025-12-31\"\n",
            "t.yaml:8: task a: lead must hold principal ids, not a list");
    refused(HEAD "  - id: a\n    title: x\n    lead: [mdj.gxj]\n    due: \"2025-12-31\"\n"
                 "    targets: {year: 2025}\n",
            "t.yaml:10: task a: targets must be a list of {year, text}, not a mapping");
    refused(HEAD "  - id: a\n    title: x\n    lead: [mdj.gxj]\n    due: \"2025-12-31\"\n"
                 "    targets: [\"到2025年\"]\n",
            "t.yaml:10: task a: target 1 must be a mapping {year, text}, not a text");
    refused(HEAD "  - id: a\n    title: x\n    title: y\n    lead: [mdj.gxj]\n"
                 "    due: \"2025-12-31\"\n",
            "t.yaml:8: task a: title is given twice (first at line 7)");
    refused("plan: {id: p, title: x, coordinators: [mdj.zf.bgs]}\ntasks: []\n---\nplan: {}\n",
            "t.yaml:4: a plan file holds one YAML document");
    refused("plan:\n  id: p\n   title: x\n", "t.yaml:3: YAML:");
    refused("plan: {id: p\ntasks: []\n", "t.yaml:");
    refused("plan: *nothing\n", "t.yaml:1: YAML aliases (*name) are not allowed");
}

static void test_target_years(void **state)
{
    (void)state;
    const char *base =
        HEAD "  - id: a\n    title: x\n    lead: [mdj.gxj]\n    due: \"2025-12-31\"\n"
             "    targets:\n      - {year: %s, text: t}\n";
    char yaml[1024];
    snprintf(yaml, sizeof yaml, base, "2025a");
    refused(yaml, "t.yaml:11: task a: target 1: target year \"2025a\" is not an integer year or "
                  "null");
    snprintf(yaml, sizeof yaml, base, "[2025]");
    refused(yaml,
            "t.yaml:11: task a: target 1: target year must be an integer or null, not a list");
    snprintf(yaml, sizeof yaml, base, "\"null\"");
    refused(yaml, "t.yaml:11: task a: target 1: target year \"null\" is not an integer year");
    snprintf(yaml, sizeof yaml, base, "2025.5");
    refused(yaml, "is not an integer year");
    snprintf(yaml, sizeof yaml, base, "-2025");
    refused(yaml, "is not an integer year");
    snprintf(yaml, sizeof yaml, base, "0");
    refused(yaml, "is not an integer year");
    refused(HEAD "  - id: a\n    title: x\n    lead: [mdj.gxj]\n    due: \"2025-12-31\"\n"
                 "    targets:\n      - {year: 2025}\n",
            "t.yaml:11: task a: target 1: text is missing");
    const char *ok[] = {"null", "~", "2025", "\"2030\""};
    for (size_t i = 0; i < 4; i++) {
        snprintf(yaml, sizeof yaml, base, ok[i]);
        ldp_plan *p;
        char err[256];
        if (parse(yaml, &p, err, sizeof err) != LD_OK)
            fail_msg("year %s refused: %s", ok[i], err);
        assert_int_equal(p->tasks[0].targets[0].year, i < 2 ? 0 : i == 2 ? 2025 : 2030);
        ldp_plan_destroy(&p);
    }
}

static void test_too_large(void **state)
{
    (void)state;
    size_t len = LDP_PLAN_MAX_BYTES + 1;
    char *big = malloc(len);
    assert_non_null(big);
    memset(big, '#', len);
    ldp_plan *p;
    char err[256];
    ldp_parse_opts o = {.file_name = "big.yaml"};
    assert_int_equal(ldp_plan_parse(&o, big, len, &p, err, sizeof err), LD_ERR_FORMAT);
    assert_non_null(strstr(err, "big.yaml: the file is 1048577 bytes"));
    /* Exactly the limit is read (and is only a comment here: empty). */
    big[len - 2] = '\n';
    assert_int_equal(ldp_plan_parse(&o, big, len - 1, &p, err, sizeof err), LD_ERR_FORMAT);
    assert_non_null(strstr(err, "the file is empty"));
    free(big);
}

static void test_hostile_inputs_do_not_crash(void **state)
{
    (void)state;
    const char *inputs[] = {
        "\x00\x01\x02",
        "plan: &a {id: p, title: x, coordinators: [mdj.zf.bgs]}\ntasks: [*a, *a]\n",
        "{? [a]: b}\n",
        "plan:\n  ? [x]\n  : y\ntasks: []\n",
        "plan: !!binary aGVsbG8=\ntasks: []\n",
        "plan: {id: p, title: x, coordinators: [mdj.zf.bgs]}\ntasks: [{id: a, title: x, lead: "
        "[mdj.gxj], due: \"2025-12-31\", targets: [{year: 99999, text: x}]}]\n",
        "\xef\xbb\xbfplan: {id: p, title: x, coordinators: [mdj.zf.bgs]}\ntasks: []\n",
        "\xff\xfe\x70\x00",
    };
    for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
        ldp_plan *p = NULL;
        char err[256] = "";
        int rc = parse(inputs[i], &p, err, sizeof err);
        assert_true(rc == LD_OK || rc == LD_ERR_FORMAT);
        if (rc == LD_OK)
            ldp_plan_destroy(&p);
        else
            assert_non_null(strstr(err, "t.yaml"));
    }
    /* A length-delimited buffer with a NUL inside. */
    ldp_plan *p = NULL;
    char err[256];
    assert_int_equal(ldp_plan_parse(NULL, "plan:\0x", 7, &p, err, sizeof err), LD_ERR_FORMAT);
    assert_non_null(strstr(err, "plan:1:"));
}

/* Aliases multiply a walk's work, and deep flow nesting makes libyaml's
 * scanner quadratic: both are refused up front, quickly. */
static void test_aliases_and_deep_nesting(void **state)
{
    (void)state;
    refused(HEAD "  - &t {id: a, title: x, lead: [mdj.gxj], due: \"2025-12-31\"}\n"
                 "  - *t\n",
            "t.yaml:7: YAML aliases (*name) are not allowed in plan files");
    size_t n = LDP_PLAN_MAX_BYTES;
    char *deep = malloc(n + 1);
    assert_non_null(deep);
    memset(deep, '[', n);
    deep[n] = 0;
    refused(deep, "t.yaml:1: lists and mappings are nested more than 16 deep");
    for (size_t i = 0; i + 4 <= n; i += 4)
        memcpy(deep + i, "{a: ", 4);
    refused(deep, "t.yaml:1: lists and mappings are nested more than 16 deep");
    free(deep);
}

/* ---- text helpers ------------------------------------------------------------ */

static void test_text_helpers(void **state)
{
    (void)state;
    assert_true(ldp_utf8_valid("牡丹江", strlen("牡丹江")));
    assert_false(ldp_utf8_valid("\xe7\x89", 2));
    assert_false(ldp_utf8_valid("\xed\xa0\x80", 3)); /* surrogate */
    assert_false(ldp_utf8_valid("\xc0\xaf", 2));     /* overlong */
    assert_false(ldp_utf8_valid("\xf4\x90\x80\x80", 4));
    assert_false(ldp_utf8_valid("a\0b", 3));
    assert_true(ldp_id_valid("mdj.xq.zf"));
    assert_true(ldp_id_valid("ir-2.1.1"));
    assert_false(ldp_id_valid(""));
    assert_false(ldp_id_valid(NULL));
    assert_false(ldp_id_valid("Mdj"));
    char d[LDP_DATE_BYTES];
    ldp_date_china(0, d);
    assert_string_equal(d, "1970-01-01");
    ldp_date_china(1767196799999LL, d); /* 2025-12-31T15:59:59.999Z */
    assert_string_equal(d, "2025-12-31");
    ldp_date_china(1767196800000LL, d); /* 2025-12-31T16:00:00Z = 2026-01-01 00:00 +08 */
    assert_string_equal(d, "2026-01-01");
    ldp_date_china(951782400000LL, d); /* 2000-02-29T00:00Z */
    assert_string_equal(d, "2000-02-29");
    ldp_date_china(-28800001LL, d); /* 1969-12-31T15:59:59.999Z */
    assert_string_equal(d, "1969-12-31");
    char qb[32];
    ldp_quote("ab\x01\xff"
              "c",
              64, qb, sizeof qb);
    assert_string_equal(qb, "ab??c");
    ldp_quote("牡丹江市工业和信息化局", 7, qb, sizeof qb);
    assert_string_equal(qb, "牡丹...");
}

/* ---- config --------------------------------------------------------------- */

static void test_config(void **state)
{
    (void)state;
    ldp_config c;
    char err[256] = "";
    assert_int_equal(ldp_config_parse("", &c, err, sizeof err), LD_OK);
    assert_int_equal(c.n_plans, 0);
    assert_string_equal(c.report_default, "quarter");
    ldp_config_clear(&c);
    assert_int_equal(ldp_config_parse("  plans:\n    - a.yaml\n    - /x/b.yaml\n"
                                      "  report_default: month\n",
                                      &c, err, sizeof err),
                     LD_OK);
    assert_int_equal(c.n_plans, 2);
    assert_string_equal(c.plans[1], "/x/b.yaml");
    assert_string_equal(c.report_default, "month");
    ldp_config_clear(&c);
    assert_int_equal(ldp_config_parse("{plans: [a.yaml], plan: x}", &c, err, sizeof err),
                     LD_ERR_FORMAT);
    assert_non_null(strstr(err, "unknown setting 'plan'"));
    assert_int_equal(ldp_config_parse("{report_default: weekly}", &c, err, sizeof err),
                     LD_ERR_FORMAT);
    assert_non_null(strstr(err, "report_default"));
    assert_int_equal(ldp_config_parse("{plans: a.yaml}", &c, err, sizeof err), LD_ERR_FORMAT);
    assert_non_null(strstr(err, "plans must be a list"));
    assert_int_equal(ldp_config_parse("plans: [a", &c, err, sizeof err), LD_ERR_FORMAT);
    assert_non_null(strstr(err, "not valid YAML"));
}

/* ---- the example plans ------------------------------------------------------ */

static char **seed_ids;
static size_t n_seed_ids;

/* The department ids of data/seed/departments.yaml ("  - id: X" lines). */
static void load_seed_ids(void)
{
    if (seed_ids)
        return;
    FILE *f = fopen(LD_SOURCE_DIR "/data/seed/departments.yaml", "r");
    assert_non_null(f);
    char line[512];
    while (fgets(line, sizeof line, f)) {
        char id[128];
        if (sscanf(line, " - id: %127s", id) == 1) {
            seed_ids = realloc(seed_ids, (n_seed_ids + 1) * sizeof *seed_ids);
            seed_ids[n_seed_ids++] = strdup(id);
        }
    }
    fclose(f);
    assert_true(n_seed_ids > 50);
}

static int seed_lookup(void *arg, const char *id, unsigned *roles)
{
    (void)arg;
    for (size_t i = 0; i < n_seed_ids; i++) {
        if (strcmp(seed_ids[i], id) == 0) {
            *roles = LD_ROLE_DEPARTMENT | LD_ROLE_COORDINATOR;
            return LD_OK;
        }
    }
    return LD_ERR_NOT_FOUND;
}

static ldp_plan *load_example(const char *name)
{
    load_seed_ids();
    char path[512];
    snprintf(path, sizeof path, "%s/examples/plans/%s", LD_SOURCE_DIR, name);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static char buf[LDP_PLAN_MAX_BYTES];
    size_t len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    memset(&warned, 0, sizeof warned);
    ldp_parse_opts o = {
        .file_name = name, .roster = seed_lookup, .warn = collect, .warn_arg = &warned};
    ldp_plan *p;
    char err[512] = "";
    if (ldp_plan_parse(&o, buf, len, &p, err, sizeof err) != LD_OK)
        fail_msg("%s refused: %s", name, err);
    assert_int_equal(warned.n, 0);
    return p;
}

static void test_example_plans(void **state)
{
    (void)state;
    ldp_plan *p = load_example("ir-2022.yaml");
    assert_string_equal(p->id, "ir-2022");
    assert_string_equal(p->doc_number, "牡政发〔2022〕21号");
    assert_int_equal(p->n_tasks, 28);
    assert_string_equal(p->tasks[0].id, "ir-2.1.1");
    assert_string_equal(p->tasks[0].lead.v[0], "mdj.gxj");
    assert_int_equal(p->tasks[0].support.n, 15);
    assert_string_equal(p->tasks[0].support.v[14], "mdj.xq.zf");
    assert_string_equal(p->tasks[0].report_every, "quarter");
    int nulls = 0, coordinator_leads = 0;
    for (size_t i = 0; i < p->n_tasks; i++) {
        for (size_t j = 0; j < p->tasks[i].n_targets; j++)
            nulls += p->tasks[i].targets[j].year == 0;
        coordinator_leads += ldp_strv_has(&p->tasks[i].lead, "mdj.zf.bgs");
    }
    assert_true(nulls >= 5);                /* year: null targets */
    assert_int_equal(coordinator_leads, 1); /* ir-3.4 */
    ldp_plan_destroy(&p);

    p = load_example("met-2022.yaml");
    assert_int_equal(p->n_tasks, 23);
    assert_string_equal(p->tasks[0].report_every, "year");
    ldp_plan_destroy(&p);

    p = load_example("straw-2022.yaml");
    assert_int_equal(p->n_tasks, 10);
    assert_string_equal(p->coordinators.v[0], "mdj.jgzhlygzlxhybgs");
    ldp_plan_destroy(&p);

    for (size_t i = 0; i < n_seed_ids; i++)
        free(seed_ids[i]);
    free(seed_ids);
    seed_ids = NULL;
    n_seed_ids = 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_plan),
        cmocka_unit_test(test_report_default_option),
        cmocka_unit_test(test_empty_task_list),
        cmocka_unit_test(test_unknown_fields_warn),
        cmocka_unit_test(test_coordinator_without_role_warns),
        cmocka_unit_test(test_missing_required_fields),
        cmocka_unit_test(test_unknown_principal),
        cmocka_unit_test(test_duplicate_task_id),
        cmocka_unit_test(test_bad_ids),
        cmocka_unit_test(test_bad_dates),
        cmocka_unit_test(test_invalid_utf8),
        cmocka_unit_test(test_report_every),
        cmocka_unit_test(test_wrong_shapes),
        cmocka_unit_test(test_target_years),
        cmocka_unit_test(test_too_large),
        cmocka_unit_test(test_hostile_inputs_do_not_crash),
        cmocka_unit_test(test_aliases_and_deep_nesting),
        cmocka_unit_test(test_text_helpers),
        cmocka_unit_test(test_config),
        cmocka_unit_test(test_example_plans),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
