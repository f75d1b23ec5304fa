/* gen_seeds.c - writes the generated seeds of tests/fuzz/corpus/: signed
 * envelopes and bodies of several message types, and key files. Run by
 * hand (tests/fuzz/run.sh --seeds); the output is committed.
 * Usage: fuzz_gen_seeds CORPUS_DIR */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ldk/keys.h"
#include "ldw/envelope.h"

static void put(const char *dir, const char *sub, const char *name, const void *buf, size_t len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, sub);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/%s/%s", dir, sub, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(buf, 1, len, f) != len)
        exit(1);
    fclose(f);
}

static void seal(const char *dir, const char *name, const Liandong__V1__Body *b, const uint8_t *sk)
{
    ldw_header_fields h = {
        .sender = "mdj.gxj", .key_id = "0011223344556677", .seq = 42, .sent_at_ms = 1656637200000};
    uint8_t *env;
    size_t len;
    if (ldw_envelope_seal_body(&h, b, sk, &env, &len, NULL) != LD_OK)
        exit(1);
    put(dir, "envelope", name, env, len);
    free(env);
    size_t n = liandong__v1__body__get_packed_size(b);
    uint8_t *buf = malloc(n + 1);
    liandong__v1__body__pack(b, buf);
    put(dir, "body", name, buf, n);
    put(dir, "body_info", name, buf, n);
    free(buf);
}

int main(int argc, char **argv)
{
    if (argc != 2 || sodium_init() < 0)
        return 2;
    const char *dir = argv[1];
    uint8_t pk[32], sk[64], seed[32];
    memset(seed, 7, sizeof seed); /* the key fuzz_envelope verifies with */
    crypto_sign_seed_keypair(pk, sk, seed);

    Liandong__V1__Body b = LIANDONG__V1__BODY__INIT;
    Liandong__V1__Direct d = LIANDONG__V1__DIRECT__INIT;
    char *to[] = {"mdj.fgw", "mdj.cz"};
    d.n_to = 2;
    d.to = to;
    d.text = "请于周五前报送进展";
    d.payload.data = (uint8_t *)"\x00\x01payload";
    d.payload.len = 9;
    b.msg_case = LIANDONG__V1__BODY__MSG_DIRECT;
    b.direct = &d;
    seal(dir, "direct", &b, sk);

    Liandong__V1__Hello h = LIANDONG__V1__HELLO__INIT;
    h.client = "libliandong/0.1.0";
    h.protocol = 1;
    b.msg_case = LIANDONG__V1__BODY__MSG_HELLO;
    b.hello = &h;
    seal(dir, "hello", &b, sk);

    Liandong__V1__DeliveryAck a = LIANDONG__V1__DELIVERY_ACK__INIT;
    uint64_t ids[] = {1, 2, 300000};
    a.n_delivery_ids = 3;
    a.delivery_ids = ids;
    b.msg_case = LIANDONG__V1__BODY__MSG_DELIVERY_ACK;
    b.delivery_ack = &a;
    seal(dir, "delivery_ack", &b, sk);

    Liandong__V1__Nack nk = LIANDONG__V1__NACK__INIT;
    nk.code = 7;
    nk.text = "replay";
    nk.seq = 3;
    b.msg_case = LIANDONG__V1__BODY__MSG_NACK;
    b.nack = &nk;
    seal(dir, "nack", &b, sk);

    /* Protocol 2: answers (an Ack and that Nack) and deliveries (two). */
    uint8_t eid[16] = {0xab, 0xcd};
    Liandong__V1__Ack ack = LIANDONG__V1__ACK__INIT;
    ack.envelope_id.data = eid;
    ack.envelope_id.len = sizeof eid;
    ack.seq = 2;
    ack.clock_ms = 1656637200000;
    Liandong__V1__Answer an[2] = {LIANDONG__V1__ANSWER__INIT, LIANDONG__V1__ANSWER__INIT};
    Liandong__V1__Answer *anp[2] = {&an[0], &an[1]};
    an[0].answer_case = LIANDONG__V1__ANSWER__ANSWER_ACK;
    an[0].ack = &ack;
    an[1].answer_case = LIANDONG__V1__ANSWER__ANSWER_NACK;
    an[1].nack = &nk;
    Liandong__V1__Answers as = LIANDONG__V1__ANSWERS__INIT;
    as.n_answers = 2;
    as.answers = anp;
    b.msg_case = LIANDONG__V1__BODY__MSG_ANSWERS;
    b.answers = &as;
    seal(dir, "answers", &b, sk);

    Liandong__V1__Delivery dv[2] = {LIANDONG__V1__DELIVERY__INIT, LIANDONG__V1__DELIVERY__INIT};
    Liandong__V1__Delivery *dvp[2] = {&dv[0], &dv[1]};
    for (int i = 0; i < 2; i++) {
        dv[i].delivery_id = (uint64_t)i + 7;
        dv[i].envelope.data = (uint8_t *)"\x0a\x02\x0a\x00";
        dv[i].envelope.len = 4;
        dv[i].sender_sign_public.data = pk;
        dv[i].sender_sign_public.len = sizeof pk;
        dv[i].sender_name = "牡丹江市发展和改革委员会";
        dv[i].stored_at_ms = 1656637200000;
    }
    Liandong__V1__Deliveries ds = LIANDONG__V1__DELIVERIES__INIT;
    ds.n_deliveries = 2;
    ds.deliveries = dvp;
    b.msg_case = LIANDONG__V1__BODY__MSG_DELIVERIES;
    b.deliveries = &ds;
    seal(dir, "deliveries", &b, sk);

    Liandong__V1__ClockAdvance ca = LIANDONG__V1__CLOCK_ADVANCE__INIT;
    ca.by_ms = 86400000;
    b.msg_case = LIANDONG__V1__BODY__MSG_CLOCK_ADVANCE;
    b.clock_advance = &ca;
    seal(dir, "clock_advance", &b, sk);

    /* The plugins' bodies (plans, escalation, audit). */
    static const char plan_yaml[] = "plan:\n  id: esc-2025\n  title: \"督办测试\"\n"
                                    "  coordinators: [mdj.zf.bgs]\n  supervision: [mdj.zf.dcs]\n"
                                    "tasks:\n  - id: esc-1\n    title: \"推进数字经济\"\n"
                                    "    lead: [mdj.gxj]\n    support: [mdj.fgw]\n"
                                    "    due: \"2025-09-30\"\n";
    Liandong__V1__PlanPublish pp = LIANDONG__V1__PLAN_PUBLISH__INIT;
    pp.file_name = "esc-2025.yaml";
    pp.content.data = (uint8_t *)plan_yaml;
    pp.content.len = sizeof plan_yaml - 1;
    b.msg_case = LIANDONG__V1__BODY__MSG_PLAN_PUBLISH;
    b.plan_publish = &pp;
    seal(dir, "plan_publish", &b, sk);

    Liandong__V1__TaskAccept ta = LIANDONG__V1__TASK_ACCEPT__INIT;
    ta.plan = "esc-2025";
    ta.task = "esc-1";
    ta.note = "收到";
    b.msg_case = LIANDONG__V1__BODY__MSG_TASK_ACCEPT;
    b.task_accept = &ta;
    seal(dir, "task_accept", &b, sk);

    uint8_t digest[32] = {0x5a, 0xa5};
    ProtobufCBinaryData digests[] = {{sizeof digest, digest}};
    Liandong__V1__StatusReport sr = LIANDONG__V1__STATUS_REPORT__INIT;
    sr.plan = "esc-2025";
    sr.task = "esc-1";
    sr.state = LIANDONG__V1__TASK_STATE__TASK_IN_PROGRESS;
    sr.progress = 40;
    sr.note = "已完成调研";
    sr.n_attachment_digests = 1;
    sr.attachment_digests = digests;
    b.msg_case = LIANDONG__V1__BODY__MSG_STATUS_REPORT;
    b.status_report = &sr;
    seal(dir, "status_report", &b, sk);

    Liandong__V1__LedgerQuery lq = LIANDONG__V1__LEDGER_QUERY__INIT;
    lq.plan = "esc-2025";
    lq.dept = "mdj.gxj";
    lq.state = LIANDONG__V1__TASK_STATE__TASK_IN_PROGRESS;
    lq.overdue = 1;
    b.msg_case = LIANDONG__V1__BODY__MSG_LEDGER_QUERY;
    b.ledger_query = &lq;
    seal(dir, "ledger_query", &b, sk);

    Liandong__V1__ExtensionRequest er = LIANDONG__V1__EXTENSION_REQUEST__INIT;
    er.plan = "esc-2025";
    er.task = "esc-1";
    er.until = "2025-11-28";
    er.reason = "等待省级批复";
    b.msg_case = LIANDONG__V1__BODY__MSG_EXTENSION_REQUEST;
    b.extension_request = &er;
    seal(dir, "extension_request", &b, sk);

    Liandong__V1__ExtensionDecision ed = LIANDONG__V1__EXTENSION_DECISION__INIT;
    ed.plan = "esc-2025";
    ed.task = "esc-1";
    ed.approve = 1;
    ed.until = "2025-11-14";
    b.msg_case = LIANDONG__V1__BODY__MSG_EXTENSION_DECISION;
    b.extension_decision = &ed;
    seal(dir, "extension_decision", &b, sk);

    Liandong__V1__TaskPause tp = LIANDONG__V1__TASK_PAUSE__INIT;
    tp.plan = "esc-2025";
    tp.task = "esc-1";
    tp.reason = "司法鉴定期间";
    b.msg_case = LIANDONG__V1__BODY__MSG_TASK_PAUSE;
    b.task_pause = &tp;
    seal(dir, "task_pause", &b, sk);

    char *sl_to[] = {"mdj.gxj", "mdj.fgw"};
    Liandong__V1__SupervisionLetter sl = LIANDONG__V1__SUPERVISION_LETTER__INIT;
    sl.plan = "esc-2025";
    sl.task = "esc-1";
    sl.n_to = 2;
    sl.to = sl_to;
    sl.deadline = "2025-10-31";
    sl.text = "请于十月底前报送整改情况";
    b.msg_case = LIANDONG__V1__BODY__MSG_SUPERVISION_LETTER;
    b.supervision_letter = &sl;
    seal(dir, "supervision_letter", &b, sk);

    Liandong__V1__LetterAnswer la = LIANDONG__V1__LETTER_ANSWER__INIT;
    la.letter_id = "esc-2025/esc-1/1";
    la.text = "已整改完毕";
    b.msg_case = LIANDONG__V1__BODY__MSG_LETTER_ANSWER;
    b.letter_answer = &la;
    seal(dir, "letter_answer", &b, sk);

    Liandong__V1__AuditQuery aq = LIANDONG__V1__AUDIT_QUERY__INIT;
    aq.task = "esc-1";
    aq.dept = "mdj.gxj";
    aq.type = "status_report";
    aq.since_ms = 1656637200000;
    aq.verdict = "accepted";
    aq.limit = 50;
    b.msg_case = LIANDONG__V1__BODY__MSG_AUDIT_QUERY;
    b.audit_query = &aq;
    seal(dir, "audit_query", &b, sk);

    ldk_identity *id;
    char err[LDK_ERR_MAX], path[1024];
    if (ldk_identity_generate("mdj.gxj", "工信局", LDK_ROLE_DEPARTMENT | LDK_ROLE_COORDINATOR, &id,
                              err, sizeof err) != LD_OK)
        return 1;
    snprintf(path, sizeof path, "%s/keyfile", dir);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/keyfile/secret", dir);
    remove(path);
    ldk_identity_save_secret(id, path, err, sizeof err);
    snprintf(path, sizeof path, "%s/keyfile/pub", dir);
    remove(path);
    ldk_identity_save_public(id, path, err, sizeof err);
    ldk_roster *r;
    ldk_roster_new(&r);
    ldk_roster_add(r, id, 1656637200, err, sizeof err);
    snprintf(path, sizeof path, "%s/keyfile/roster", dir);
    remove(path);
    ldk_roster_save(r, path, err, sizeof err);
    ldk_roster_destroy(&r);
    ldk_identity_destroy(&id);
    return 0;
}
