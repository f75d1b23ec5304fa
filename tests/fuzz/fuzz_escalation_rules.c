/* fuzz_escalation_rules.c - escalation rules (plugins/escalation/rules.c):
 * the escalation parts of a plan file (lde_plan_rules_parse), merged as the
 * plugin does (defaults, plan, task) and applied to dates with the built-in
 * calendar; and the input as a bare rules mapping (lde_rules_parse_text). */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "liandong/error.h"
#include "rules.h"

/* The due date, the warning, the ladder, reminders and extensions of r, as
 * clock.c and actions.c compute them. */
static void apply(const lde_calendar *c, const lde_rules *r)
{
    int32_t due = lde_day_from_civil(2025, 9, 30), out;
    int unv = 0, prov = 0;
    if (r->limit.unit)
        (void)lde_dur_apply(c, r, r->from, &r->limit, 1, &due, &unv, &prov);
    (void)lde_dur_back(c, r, due, &r->warn_before, &out, &unv, &prov);
    (void)lde_dur_apply(c, r, due, &r->remind_every, 1, &out, &unv, &prov);
    (void)lde_dur_apply(c, NULL, due, &r->ext_max, 0, &out, &unv, &prov);
    for (size_t i = 0; i < r->n_ladder; i++)
        (void)lde_dur_apply(c, r, due, &r->ladder[i].after, 1, &out, &unv, &prov);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static lde_calendar *cal;
    char err[512];
    if (!cal && (lde_calendar_new(&cal) != LD_OK ||
                 lde_calendar_load_builtin(cal, err, sizeof err) != LD_OK))
        abort();
    lde_plan_rules *p = NULL;
    if (lde_plan_rules_parse("fuzz.yaml", data, size, &p, err, sizeof err) == LD_OK) {
        lde_rules plan;
        lde_rules_default(&plan);
        if (p->has_section)
            lde_rules_merge(&plan, &p->r);
        apply(cal, &plan);
        for (size_t i = 0; i < p->n_tasks; i++) {
            lde_rules task = plan;
            const lde_rules *tr = lde_plan_rules_task(p, p->tasks[i].task);
            if (!tr)
                abort();
            lde_rules_merge(&task, tr);
            apply(cal, &task);
        }
        lde_plan_rules_destroy(&p);
    }
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = 0;
    lde_rules r;
    if (lde_rules_parse_text(text, &r, err, sizeof err) == LD_OK) {
        lde_rules full;
        lde_rules_default(&full);
        lde_rules_merge(&full, &r);
        apply(cal, &full);
    }
    free(text);
    return 0;
}
