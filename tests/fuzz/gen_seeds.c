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
