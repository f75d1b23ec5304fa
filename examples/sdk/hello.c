/* hello.c - the smallest useful Liandong client.
 *
 * Sends one direct message, then prints (and acknowledges) what arrives in the
 * next few seconds. Uses only <liandong/liandong.h>.
 *
 *   cc hello.c $(pkg-config --cflags --libs liandong) -o hello
 *   ./hello tcp://127.0.0.1:7400 keys/mdj.gxj.secret keys/broker.pub mdj.fgw "请于周五前报送进展"
 */
#include <stdio.h>
#include <stdlib.h>

#include <liandong/liandong.h>

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: %s ENDPOINT IDENTITY.secret BROKER.pub TO TEXT\n", argv[0]);
        return 2;
    }
    ld_client_options o;
    ld_client_options_init(&o);
    o.endpoint = argv[1];
    o.identity_path = argv[2];
    o.broker_key_path = argv[3];
    o.client_name = "hello-example";

    char err[512];
    ld_client *c;
    if (ld_client_new(&o, &c, err, sizeof err) != LD_OK) {
        fprintf(stderr, "hello: %s\n", err);
        return 1;
    }
    int rc = ld_client_connect(c);
    if (rc != LD_OK) {
        fprintf(stderr, "hello: %s\n", ld_client_last_error(c));
        ld_client_destroy(&c);
        return 1;
    }
    ld_session_info s;
    ld_client_session(c, &s);
    printf("connected as %s (%s), %llu waiting\n", s.principal, s.name,
           (unsigned long long)s.mailbox_size);

    /* Returns once the broker has stored the message durably. */
    const char *to[] = {argv[4]};
    ld_ack ack;
    rc = ld_client_send_direct(c, to, 1, argv[5], NULL, 0, &ack);
    if (rc == LD_OK)
        printf("stored as seq %llu\n", (unsigned long long)ack.seq);
    else if (rc == LD_ERR_REFUSED)
        fprintf(stderr, "hello: refused: %s: %s\n", ld_reason_name(ld_client_last_reason(c)),
                ld_client_last_error(c));
    else
        fprintf(stderr, "hello: %s: %s\n", ld_strerror(rc), ld_client_last_error(c));

    /* Deliveries arrive with both signatures already checked. */
    ld_delivery *d;
    while (ld_client_recv(c, 3000, &d) == LD_OK) {
        printf("%s from %s (%s): %s\n", d->type, d->sender, d->sender_name, d->text ? d->text : "");
        ld_client_ack(c, d); /* processed: remove it from our mailbox */
        ld_delivery_destroy(&d);
    }
    ld_client_destroy(&c);
    return rc == LD_OK ? 0 : 1;
}
