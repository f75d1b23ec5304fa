/* send.c - `liandong send --to ID[,ID...] --text TEXT [--file PATH]`. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char send_usage[] =
    "Usage: liandong [GLOBAL OPTIONS] send --to ID[,ID...] --text TEXT [--file PATH]\n"
    "\n"
    "Send a signed direct message; returns once the broker has stored it.\n"
    "Prints: sent <envelope id> seq <n> [(duplicate)]\n"
    "\n"
    "Options:\n"
    "  --to ID[,ID...]   recipients (principal ids); may be given more than once\n"
    "  --text TEXT       the message text (UTF-8)\n"
    "  --file PATH       attach the bytes of PATH as the payload ('-': standard input)\n"
    "  --help            show this help\n"
    "\n"
    "A refusal prints 'liandong: refused: REASON: text' and exits 1.\n";

typedef struct id_list {
    char **v;
    size_t n, cap;
} id_list;

static int list_add_csv(id_list *l, const char *csv)
{
    const char *p = csv;
    for (;;) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n) {
            if (l->n == l->cap) {
                size_t cap = l->cap ? l->cap * 2 : 8;
                char **v = realloc(l->v, cap * sizeof *v);
                if (!v)
                    return -1;
                l->v = v;
                l->cap = cap;
            }
            if (!(l->v[l->n] = strndup(p, n)))
                return -1;
            l->n++;
        }
        if (!e)
            return 0;
        p = e + 1;
    }
}

static void list_free(id_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
}

/* Read all of path ("-": stdin). 0, or -1 with errno set. */
static int read_all(const char *path, unsigned char **buf, size_t *len)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f)
        return -1;
    size_t cap = 0, n = 0;
    unsigned char *b = NULL;
    for (;;) {
        if (n == cap) {
            cap = cap ? cap * 2 : 65536;
            unsigned char *nb = realloc(b, cap);
            if (!nb) {
                free(b);
                if (f != stdin)
                    fclose(f);
                errno = ENOMEM;
                return -1;
            }
            b = nb;
        }
        size_t r = fread(b + n, 1, cap - n, f);
        n += r;
        if (r == 0)
            break;
    }
    int bad = ferror(f);
    if (f != stdin)
        fclose(f);
    if (bad) {
        free(b);
        errno = EIO;
        return -1;
    }
    *buf = b;
    *len = n;
    return 0;
}

int ld_cli_send(int argc, char **argv)
{
    static const struct option opts[] = {
        {"to", required_argument, NULL, 't'},
        {"text", required_argument, NULL, 'x'},
        {"file", required_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    id_list to = {0};
    const char *text = NULL, *file = NULL;
    int st = LD_CLI_OK, c;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 't':
            if (list_add_csv(&to, optarg) != 0) {
                list_free(&to);
                return ld_cli_fail("out of memory");
            }
            break;
        case 'x': text = optarg; break;
        case 'f': file = optarg; break;
        case 'h':
            list_free(&to);
            fputs(send_usage, stdout);
            return LD_CLI_OK;
        default: list_free(&to); return ld_cli_getopt_error("send", c, argv);
        }
    }
    if (optind < argc)
        st = ld_cli_usage("send", "unexpected argument '%s'", argv[optind]);
    else if (to.n == 0)
        st = ld_cli_usage("send", "no recipient: use --to ID[,ID...]");
    else if (!text && !file)
        st = ld_cli_usage("send", "nothing to send: use --text TEXT and/or --file PATH");
    if (st != LD_CLI_OK) {
        list_free(&to);
        return st;
    }

    unsigned char *payload = NULL;
    size_t payload_len = 0;
    if (file && read_all(file, &payload, &payload_len) != 0) {
        list_free(&to);
        return ld_cli_fail("cannot read %s: %s", file, strerror(errno));
    }
    ld_client *cl;
    st = ld_cli_connect(&cl, 1);
    if (st == LD_CLI_OK) {
        ld_ack ack;
        int rc = ld_client_send_direct(cl, (const char *const *)to.v, to.n, text, payload,
                                       payload_len, &ack);
        if (rc == LD_OK) {
            char hex[2 * LD_ENVELOPE_ID_BYTES + 1];
            for (int i = 0; i < LD_ENVELOPE_ID_BYTES; i++)
                snprintf(hex + 2 * i, 3, "%02x", ack.envelope_id[i]);
            printf("sent %s seq %llu%s\n", hex, (unsigned long long)ack.seq,
                   ack.duplicate ? " (duplicate)" : "");
        } else {
            st = ld_cli_client_fail(cl, rc, "send");
        }
        ld_client_destroy(&cl);
    }
    free(payload);
    list_free(&to);
    return st;
}
