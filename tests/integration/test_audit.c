/* test_audit.c - a real broker with the plans and audit plugins: every
 * accepted and refused message (DeliveryAck included) and every envelope
 * the broker sealed (TaskAssign, Checkpoint) is in the log; the broker is
 * SIGKILLed in the middle of traffic; `liandong audit verify` passes with
 * one line afterwards; checkpoints reach the auditor and supervision;
 * AuditQuery answers auditors and refuses departments. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "audit_core.h"
#include "harness.h"

#ifndef LD_PLANS_PLUGIN
#error "LD_PLANS_PLUGIN must name the plans plugin"
#endif
#ifndef LD_AUDIT_PLUGIN
#error "LD_AUDIT_PLUGIN must name the audit plugin"
#endif
#ifndef LD_CLI_BIN
#error "LD_CLI_BIN must name the liandong CLI"
#endif

#define R(x) LIANDONG__V1__REASON_CODE__##x
#define PLAN                                                                                       \
    "plan:\n"                                                                                      \
    "  id: ir-2022\n"                                                                              \
    "  title: \"产业振兴\"\n"                                                                  \
    "  coordinators: [mdj.zf.bgs]\n"                                                               \
    "  supervision: [mdj.zf.dcs]\n"                                                                \
    "tasks:\n"                                                                                     \
    "  - id: ir-2.1.1\n"                                                                           \
    "    title: \"数字经济\"\n"                                                                \
    "    lead: [mdj.gxj]\n"                                                                        \
    "    support: [mdj.fgw]\n"                                                                     \
    "    due: \"2026-12-31\"\n"

typedef struct fixture {
    th_env env;
    ldk_identity *bgs, *dcs, *gxj, *fgw, *aud;
    char config[512];
    /* Envelope ids the broker acknowledged. */
    ldw_envelope_id acked[64];
    size_t n_acked;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    th_env_init(&f->env);
    f->bgs = th_add_identity(&f->env, "mdj.zf.bgs", "办公室",
                             LDK_ROLE_COORDINATOR | LDK_ROLE_DEPARTMENT);
    f->dcs = th_add_identity(&f->env, "mdj.zf.dcs", "督查室", LDK_ROLE_SUPERVISION);
    f->gxj = th_add_identity(&f->env, "mdj.gxj", "工信局", LDK_ROLE_DEPARTMENT);
    f->fgw = th_add_identity(&f->env, "mdj.fgw", "发改委", LDK_ROLE_DEPARTMENT);
    f->aud = th_add_identity(&f->env, "ops.audit", "审计", LDK_ROLE_AUDITOR);
    char text[2048];
    snprintf(text, sizeof text,
             "tick_ms: 100\n"
             "plugins:\n"
             "  - name: plans\n"
             "    path: %s\n"
             "  - name: audit\n"
             "    path: %s\n"
             "    config: {checkpoint_records: 4, checkpoint_seconds: 1}\n",
             LD_PLANS_PLUGIN, LD_AUDIT_PLUGIN);
    th_write_file(&f->env, "broker.yaml", text, f->config, sizeof f->config);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    th_env_fini(&f->env);
    free(f);
    return 0;
}

static void start(fixture *f)
{
    const char *extra[] = {"--config", f->config, NULL};
    th_broker_start(&f->env, extra);
}

/* Send body from a and wait for its Ack or Nack; returns that body. */
static Liandong__V1__Body *send_wait(fixture *f, th_raw *r, Liandong__V1__Body *body)
{
    ldw_envelope_id id;
    th_raw_send_body(r, r->id, r->id->id, ++r->seq, ldw_now_ms(), body, &id, NULL, NULL);
    Liandong__V1__Body *b = th_raw_recv_reply(r, 5000);
    assert_non_null(b);
    if (b->msg_case == LIANDONG__V1__BODY__MSG_ACK && f->n_acked < 64)
        f->acked[f->n_acked++] = id;
    return b;
}

static void direct(Liandong__V1__Body *b, Liandong__V1__Direct *d, char **to, const char *text)
{
    *b = (Liandong__V1__Body)LIANDONG__V1__BODY__INIT;
    *d = (Liandong__V1__Direct)LIANDONG__V1__DIRECT__INIT;
    d->to = to;
    d->n_to = 1;
    d->text = (char *)text;
    b->msg_case = LIANDONG__V1__BODY__MSG_DIRECT;
    b->direct = d;
}

/* Run the CLI; its first output line into line. Returns the exit status. */
static int run_cli(const char *args, char *line, size_t len)
{
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "%s %s 2>&1", LD_CLI_BIN, args);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    line[0] = 0;
    if (!fgets(line, (int)len, p))
        line[0] = 0;
    char rest[4096];
    size_t more = 0;
    while (fgets(rest, sizeof rest, p))
        more++;
    int st = pclose(p);
    if (strstr(args, "verify"))
        assert_int_equal(more, 0); /* one summary line */
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

typedef struct tally {
    unsigned kinds[4];
    unsigned types_seen; /* bit per interesting type */
    const fixture *f;
    unsigned acked_found[64];
} tally;

static int on_rec(void *arg, const lda_record *r, const uint8_t *h)
{
    tally *t = arg;
    (void)h;
    t->kinds[r->kind]++;
    if (strcmp(r->type, "delivery_ack") == 0)
        t->types_seen |= 1;
    if (strcmp(r->type, "task_assign") == 0 && r->kind == LDA_KIND_EMITTED)
        t->types_seen |= 2;
    if (strcmp(r->type, "checkpoint") == 0 && r->kind == LDA_KIND_EMITTED)
        t->types_seen |= 4;
    if (r->kind == LDA_KIND_REFUSED && r->verdict == R(UNKNOWN_RECIPIENT))
        t->types_seen |= 8;
    if (r->kind == LDA_KIND_REFUSED && r->verdict == R(MALFORMED))
        t->types_seen |= 16;
    if (r->kind == LDA_KIND_REFUSED && r->verdict == R(UNAUTHORIZED) &&
        strcmp(r->type, "audit_query") == 0)
        t->types_seen |= 32;
    ldw_opened o;
    memset(&o, 0, sizeof o);
    if (r->envelope_len && ldw_envelope_open(r->envelope, r->envelope_len, &o, NULL, 0) == LD_OK)
        for (size_t i = 0; i < t->f->n_acked; i++)
            if (memcmp(o.id.bytes, t->f->acked[i].bytes, LDW_ENVELOPE_ID_BYTES) == 0)
                t->acked_found[i]++;
    ldw_opened_clear(&o);
    return 0;
}

static void test_everything_logged(void **state)
{
    fixture *f = *state;
    start(f);
    th_raw bgs, gxj, aud, dcs;
    th_raw_connect(&bgs, &f->env, f->bgs, f->bgs);
    th_body_free(th_raw_hello_send_only(&bgs));
    th_raw_connect(&gxj, &f->env, f->gxj, f->gxj);
    th_body_free(th_raw_hello(&gxj));

    /* A plan: PlanPublish accepted, TaskAssigns emitted. */
    Liandong__V1__Body b = LIANDONG__V1__BODY__INIT;
    Liandong__V1__PlanPublish p = LIANDONG__V1__PLAN_PUBLISH__INIT;
    p.file_name = "ir-2022.yaml";
    p.content.data = (uint8_t *)PLAN;
    p.content.len = strlen(PLAN);
    b.msg_case = LIANDONG__V1__BODY__MSG_PLAN_PUBLISH;
    b.plan_publish = &p;
    Liandong__V1__Body *a = send_wait(f, &bgs, &b);
    assert_int_equal(a->msg_case, LIANDONG__V1__BODY__MSG_ACK);
    th_body_free(a);

    /* Accepted and refused Directs. */
    Liandong__V1__Direct d;
    char *to_gxj[] = {"mdj.gxj"}, *to_nobody[] = {"mdj.nobody"};
    direct(&b, &d, to_gxj, "请报送进展");
    a = send_wait(f, &bgs, &b);
    assert_int_equal(a->msg_case, LIANDONG__V1__BODY__MSG_ACK);
    th_body_free(a);
    direct(&b, &d, to_nobody, "无人");
    a = send_wait(f, &bgs, &b);
    assert_int_equal(a->msg_case, LIANDONG__V1__BODY__MSG_NACK);
    assert_int_equal(a->nack->code, R(UNKNOWN_RECIPIENT));
    th_body_free(a);
    /* A frame that is no envelope. */
    th_raw_send_bytes(&bgs, "garbage", 7);
    a = th_raw_recv_reply(&bgs, 5000);
    assert_non_null(a);
    assert_int_equal(a->msg_case, LIANDONG__V1__BODY__MSG_NACK);
    th_body_free(a);

    /* gxj receives and acknowledges its deliveries (DeliveryAck). */
    for (int i = 0; i < 2; i++) {
        Liandong__V1__Body *dl = th_raw_recv(&gxj, 5000);
        assert_non_null(dl);
        if (dl->msg_case == LIANDONG__V1__BODY__MSG_DELIVERY)
            th_raw_delivery_ack(&gxj, dl->delivery->delivery_id);
        th_body_free(dl);
    }

    /* SIGKILL in the middle of traffic, then more traffic. */
    for (int i = 0; i < 20; i++) {
        direct(&b, &d, to_gxj, "burst");
        th_raw_send_body(&bgs, bgs.id, bgs.id->id, ++bgs.seq, ldw_now_ms(), &b, NULL, NULL, NULL);
    }
    usleep(20 * 1000);
    th_broker_signal_stop(&f->env, SIGKILL);
    th_raw_close(&bgs);
    th_raw_close(&gxj);
    start(f);
    th_raw_connect(&bgs, &f->env, f->bgs, f->bgs);
    Liandong__V1__Body *hr = th_raw_hello_send_only(&bgs);
    bgs.seq = hr->hello_reply->last_seq;
    th_body_free(hr);
    direct(&b, &d, to_gxj, "after the crash");
    a = send_wait(f, &bgs, &b);
    assert_int_equal(a->msg_case, LIANDONG__V1__BODY__MSG_ACK);
    th_body_free(a);

    /* Checkpoints reach the auditor and supervision, signed by the broker. */
    th_raw_connect(&aud, &f->env, f->aud, f->aud);
    th_body_free(th_raw_hello(&aud));
    th_raw_connect(&dcs, &f->env, f->dcs, f->dcs);
    th_body_free(th_raw_hello(&dcs));
    int got_cp = 0;
    for (int i = 0; i < 40 && !got_cp; i++) {
        Liandong__V1__Body *dl = th_raw_recv(&aud, 3000);
        if (!dl)
            break;
        if (dl->msg_case == LIANDONG__V1__BODY__MSG_DELIVERY) {
            ldw_opened o;
            assert_int_equal(ldw_envelope_open(dl->delivery->envelope.data,
                                               dl->delivery->envelope.len, &o, NULL, 0),
                             LD_OK);
            assert_string_equal(o.hdr->sender, f->env.broker->id);
            Liandong__V1__Body *inner = ldw_opened_body(&o);
            if (inner && inner->msg_case == LIANDONG__V1__BODY__MSG_CHECKPOINT) {
                lda_checkpoint c;
                size_t len = liandong__v1__checkpoint__get_packed_size(inner->checkpoint);
                uint8_t *buf = malloc(len);
                liandong__v1__checkpoint__pack(inner->checkpoint, buf);
                assert_int_equal(lda_checkpoint_unpack(buf, len, &c), LD_OK);
                assert_int_equal(lda_checkpoint_verify_sig(&c, f->env.broker->sign_public), LD_OK);
                assert_true(c.size > 0);
                free(buf);
                got_cp = 1;
            }
            if (inner)
                liandong__v1__body__free_unpacked(inner, NULL);
            ldw_opened_clear(&o);
            th_raw_delivery_ack(&aud, dl->delivery->delivery_id);
        }
        th_body_free(dl);
    }
    assert_true(got_cp);

    /* AuditQuery: the auditor gets records from the task index; a
     * department is refused. */
    Liandong__V1__AuditQuery q = LIANDONG__V1__AUDIT_QUERY__INIT;
    q.task = "ir-2.1.1";
    b = (Liandong__V1__Body)LIANDONG__V1__BODY__INIT;
    b.msg_case = LIANDONG__V1__BODY__MSG_AUDIT_QUERY;
    b.audit_query = &q;
    th_raw aud_tx;
    th_raw_connect(&aud_tx, &f->env, f->aud, f->aud);
    th_body_free(th_raw_hello_send_only(&aud_tx));
    a = send_wait(f, &aud_tx, &b);
    assert_int_equal(a->msg_case, LIANDONG__V1__BODY__MSG_ACK);
    Liandong__V1__Body *rb =
        liandong__v1__body__unpack(NULL, a->ack->reply.len, a->ack->reply.data);
    assert_non_null(rb);
    assert_int_equal(rb->msg_case, LIANDONG__V1__BODY__MSG_AUDIT_REPLY);
    assert_true(rb->audit_reply->n_records >= 2); /* TaskAssigns to gxj and fgw */
    for (size_t i = 0; i < rb->audit_reply->n_records; i++)
        assert_string_equal(rb->audit_reply->records[i]->task, "ir-2.1.1");
    assert_true(rb->audit_reply->log_size > 10);
    liandong__v1__body__free_unpacked(rb, NULL);
    th_body_free(a);
    th_raw gx2;
    th_raw_connect(&gx2, &f->env, f->gxj, f->gxj);
    Liandong__V1__Body *h2 = th_raw_hello_send_only(&gx2);
    gx2.seq = h2->hello_reply->last_seq;
    th_body_free(h2);
    a = send_wait(f, &gx2, &b);
    assert_int_equal(a->msg_case, LIANDONG__V1__BODY__MSG_NACK);
    assert_int_equal(a->nack->code, R(UNAUTHORIZED));
    th_body_free(a);

    /* The same over the bus through the SDK (ld_client_audit_query), as
     * `liandong audit query` without --data-dir: the auditor reads the
     * task's records, a department is refused. */
    char sec[512], qargs[4096], qline[1024];
    th_secret_path(&f->env, "ops.audit", sec, sizeof sec);
    snprintf(qargs, sizeof qargs,
             "--broker %s --identity %s --broker-key %s audit query --task ir-2.1.1 --json",
             f->env.endpoint, sec, f->env.broker_pub);
    assert_int_equal(run_cli(qargs, qline, sizeof qline), 0);
    assert_non_null(strstr(qline, "\"task\":\"ir-2.1.1\""));
    th_secret_path(&f->env, "mdj.gxj", sec, sizeof sec);
    snprintf(qargs, sizeof qargs,
             "--broker %s --identity %s --broker-key %s audit query --task ir-2.1.1",
             f->env.endpoint, sec, f->env.broker_pub);
    assert_int_equal(run_cli(qargs, qline, sizeof qline), 1);
    assert_non_null(strstr(qline, "auditor or supervision"));

    /* verify while the broker runs, then after it stopped. */
    char args[4096], line[1024];
    snprintf(args, sizeof args, "audit verify --data-dir %s --broker-key %s", f->env.data,
             f->env.broker_pub);
    int st = run_cli(args, line, sizeof line);
    assert_int_equal(st, 0);
    assert_non_null(strstr(line, "audit: OK: "));
    th_raw_close(&bgs);
    th_raw_close(&aud);
    th_raw_close(&aud_tx);
    th_raw_close(&dcs);
    th_raw_close(&gx2);
    th_broker_signal_stop(&f->env, SIGTERM);
    st = run_cli(args, line, sizeof line);
    assert_int_equal(st, 0);
    assert_non_null(strstr(line, "audit: OK: "));

    /* Every acknowledged envelope, every kind of event is there. */
    lda_store *s;
    char err[256];
    assert_int_equal(lda_store_open(f->env.data, 0, &s, err, sizeof err), LD_OK);
    tally t = {0};
    t.f = f;
    lda_query all = {0};
    assert_int_equal(lda_query_run(lda_store_kv(s), &all, on_rec, &t, NULL), LD_OK);
    lda_store_close(&s);
    assert_int_equal(t.types_seen, 63);
    assert_true(t.kinds[LDA_KIND_ACCEPTED] > 5);
    for (size_t i = 0; i < f->n_acked; i++)
        assert_int_equal(t.acked_found[i], 1);

    /* Proof of one record against a stored checkpoint, checked offline. */
    char proof[512], cpf[512];
    snprintf(proof, sizeof proof, "%s/proof.json", f->env.dir);
    snprintf(cpf, sizeof cpf, "%s/cps", f->env.dir);
    snprintf(args, sizeof args, "audit prove --data-dir %s --record 1 > %s", f->env.data, proof);
    assert_int_equal(run_cli(args, line, sizeof line), 0);
    snprintf(args, sizeof args, "audit check-proof %s --checkpoint %s --broker-key %s", proof,
             proof, f->env.broker_pub);
    assert_int_equal(run_cli(args, line, sizeof line), 0);
    assert_non_null(strstr(line, "proof: OK: record 1 "));
    (void)cpf;
}

/* A full map: the audit write fails with the message, which is refused
 * STORAGE_FULL and never delivered unaudited; everything acknowledged is in
 * the log, and the log verifies. */
static void test_storage_full_never_unaudited(void **state)
{
    fixture *f = *state;
    const char *extra[] = {"--config", f->config, "--map-size-mb", "1", "--max-message-bytes",
                           "262144",   NULL};
    th_broker_start(&f->env, extra);
    th_raw gx;
    th_raw_connect(&gx, &f->env, f->gxj, f->gxj);
    th_body_free(th_raw_hello_send_only(&gx));
    Liandong__V1__Body b;
    Liandong__V1__Direct d;
    char *to[] = {"mdj.fgw"};
    direct(&b, &d, to, "附件");
    d.payload.len = 60000;
    d.payload.data = calloc(1, d.payload.len);
    int full = 0, refused_other = 0;
    for (int i = 0; i < 60 && !full; i++) {
        d.payload.data[0] = (uint8_t)i; /* a new envelope each time */
        Liandong__V1__Body *a = send_wait(f, &gx, &b);
        if (a->msg_case == LIANDONG__V1__BODY__MSG_NACK) {
            if (a->nack->code == R(STORAGE_FULL))
                full = 1;
            else
                refused_other = 1;
            gx.seq--; /* not accepted: the number is free again */
        }
        th_body_free(a);
    }
    free(d.payload.data);
    assert_true(full);
    assert_false(refused_other);
    assert_true(f->n_acked > 0);
    th_raw_close(&gx);
    th_broker_signal_stop(&f->env, SIGTERM);

    char args[4096], line[1024];
    snprintf(args, sizeof args, "audit verify --data-dir %s --broker-key %s", f->env.data,
             f->env.broker_pub);
    assert_int_equal(run_cli(args, line, sizeof line), 0);
    assert_non_null(strstr(line, "audit: OK: "));
    lda_store *s;
    char err[256];
    assert_int_equal(lda_store_open(f->env.data, 0, &s, err, sizeof err), LD_OK);
    tally t = {0};
    t.f = f;
    lda_query all = {0};
    assert_int_equal(lda_query_run(lda_store_kv(s), &all, on_rec, &t, NULL), LD_OK);
    lda_store_close(&s);
    for (size_t i = 0; i < f->n_acked; i++)
        assert_int_equal(t.acked_found[i], 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_everything_logged, setup, teardown),
        cmocka_unit_test_setup_teardown(test_storage_full_never_unaudited, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
