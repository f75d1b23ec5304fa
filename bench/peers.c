/* peers.c - part 4, the peers: Mosquitto 2 (MQTT QoS 1, persistence on) and
 * NATS JetStream (a file-backed stream), measured the way Liandong is: the
 * same number of publishers, each waiting for its acknowledgement (PUBACK,
 * PubAck) before the next publish, the same payload, one consumer receiving
 * (and, for JetStream, acknowledging) every message. The bench starts each
 * server itself on a free loopback port with its store in a temporary
 * directory and stops it by pid. A server binary that is not installed is
 * reported as such, not as an error.
 *
 * Neither server fsyncs before acknowledging: Mosquitto keeps messages in
 * memory and writes its persistence file every autosave_interval (1800 s by
 * default) and at shutdown; the JetStream file store writes each message to
 * the OS (no fsync) and syncs in the background every couple of minutes.
 * Liandong commits (fsync) before every Ack. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <mosquitto.h>
#include <nats/nats.h>

#include "bench.h"
#include "brokerkit.h"
#include "load.h"

#define PEER_TOPIC "liandong/bench"
#define NATS_STREAM "BENCH"
#define NATS_SUBJECT "bench.msgs"
#define ASYNC_WINDOW 256
#define ACK_TIMEOUT_MS 30000

/* ---- servers ---------------------------------------------------------- */

typedef struct peer_srv {
    char bin[512]; /* the server program */
    char dir[256];
    char log[300];
    pid_t pid;
    int port;
} peer_srv;

/* Servers still running, stopped at exit if the bench dies on the way. */
static peer_srv *running[2];

static void srv_stop(peer_srv *s)
{
    int st;
    if (s->pid > 0)
        ldbk_stop(&s->pid, SIGTERM, 10000, &st);
    for (int k = 0; k < 2; k++)
        if (running[k] == s)
            running[k] = NULL;
}

static void srv_fini(peer_srv *s)
{
    srv_stop(s);
    if (s->dir[0]) {
        if (ldbk_remove_dir(s->dir) != 0)
            fprintf(stderr, "liandong-bench: could not remove %s\n", s->dir);
        s->dir[0] = 0;
    }
}

static void stop_all_at_exit(void)
{
    for (int k = 0; k < 2; k++)
        if (running[k])
            srv_fini(running[k]);
}

/* The program in PATH (or in the sbin directories, where Debian installs
 * both servers and which a user's PATH often lacks). */
static int find_bin(const char *name, char *out, size_t len)
{
    const char *env = getenv("PATH");
    char path[4096];
    snprintf(path, sizeof path, "%s:/usr/sbin:/usr/local/sbin:/sbin", env ? env : "");
    for (char *save = NULL, *d = strtok_r(path, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
        if (!*d)
            continue;
        snprintf(out, len, "%s/%s", d, name);
        if (access(out, X_OK) == 0)
            return 1;
    }
    return 0;
}

/* The first line of `cmd` matching "version", the version number only. */
static void bin_version(const char *cmd, char *out, size_t len)
{
    out[0] = 0;
    FILE *p = popen(cmd, "r");
    if (!p)
        return;
    char line[256];
    while (fgets(line, sizeof line, p)) {
        char *v = strstr(line, "version ");
        v = v ? v + 8 : strstr(line, ": v");
        if (v && !out[0]) {
            v += v[0] == ':' ? 3 : 0;
            v[strcspn(v, " \r\n")] = 0;
            snprintf(out, len, "%s", v);
        }
    }
    pclose(p);
}

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t al = sizeof a;
    int port = -1;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &al) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

static int port_open(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return 0;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    close(fd);
    return ok;
}

/* The end of the server's log, for an error message. */
static void log_tail(const peer_srv *s, char *out, size_t len)
{
    out[0] = 0;
    FILE *f = fopen(s->log, "r");
    if (!f)
        return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        size_t k = strlen(line);
        if (line[0] == '\n' || !len)
            continue;
        k = k < len ? k : len - 1;
        memcpy(out, line, k);
        out[k] = 0;
    }
    fclose(f);
    out[strcspn(out, "\r\n")] = 0;
}

static int srv_dir(peer_srv *s, const char *name, char *err, size_t elen)
{
    const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(s->dir, sizeof s->dir, "%s/liandong-bench-%s-XXXXXX", tmp, name);
    if (!mkdtemp(s->dir)) {
        snprintf(err, elen, "mkdtemp %s: %s", s->dir, strerror(errno));
        s->dir[0] = 0;
        return -1;
    }
    snprintf(s->log, sizeof s->log, "%s/%s.log", s->dir, name);
    if ((s->port = free_port()) < 0) {
        snprintf(err, elen, "no free loopback port: %s", strerror(errno));
        return -1;
    }
    return 0;
}

/* fork/exec argv with its output in s->log; wait until it accepts
 * connections on s->port. */
static int srv_start(peer_srv *s, char *const argv[], char *err, size_t elen)
{
    static int registered;
    if (!registered) {
        atexit(stop_all_at_exit);
        registered = 1;
    }
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(err, elen, "fork: %s", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        /* Die with the bench, whatever becomes of it. */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent)
            _exit(1);
        int fd = open(s->log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        int nul = open("/dev/null", O_RDONLY);
        if (nul >= 0)
            dup2(nul, 0);
        execv(argv[0], argv);
        fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    s->pid = pid;
    running[running[0] ? 1 : 0] = s;
    for (int i = 0; i < 1000; i++) {
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            s->pid = 0;
            char tail[200];
            log_tail(s, tail, sizeof tail);
            snprintf(err, elen, "%s exited at start (%s %d)%s%s", argv[0],
                     WIFSIGNALED(st) ? "signal" : "exit status",
                     WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st), tail[0] ? ": " : "", tail);
            return -1;
        }
        if (port_open(s->port))
            return 0;
        usleep(10000);
    }
    snprintf(err, elen, "%s did not accept connections on port %d within 10 s", argv[0], s->port);
    srv_stop(s);
    return -1;
}

/* ---- common ------------------------------------------------------------ */

static void pct3(bench_lat *l, double out[3])
{
    double pc[3] = {50, 99, 99.9};
    for (int j = 0; j < 3; j++)
        out[j] = bench_lat_pct_us(l, pc[j]);
}

/* Handles opened beforehand (so that a failure is the peer's, not the
 * bench's); load_open just takes them. */
typedef struct pre_opened {
    void **h;
    int n;
} pre_opened;

static void *pre_open(void *ctx, int i)
{
    pre_opened *p = ctx;
    return i < p->n ? p->h[i] : NULL;
}

/* Warm up, saturate, then the fixed rates: the shape of bench_e2e. */
static void run_phases(const bench_opts *o, const char *name, load_senders *s, load_sink *sink,
                       const double *rates, int n_rates, peer_result *r)
{
    load_phase warm = {.phase = 0, .seconds = 0.3};
    load_run(s, &warm);
    r->published += warm.sent;
    load_phase sat = {.phase = 1, .seconds = o->seconds};
    load_run(s, &sat);
    r->published += sat.sent;
    r->msgs_per_s = (double)sat.sent / sat.elapsed_s;
    pct3(&sat.ack, r->ack_us);
    bench_note(o, "%s: %lu messages in %.2f s, %lu failed", name, sat.sent, sat.elapsed_s,
               sat.failed);
    for (int k = 0; k < n_rates && k < 2; k++) {
        load_phase p = {.phase = 2 + k, .rate = rates[k], .seconds = o->rate_seconds};
        load_run(s, &p);
        r->published += p.sent;
        lat_result *l = &r->lat[k];
        l->rate = rates[k];
        l->achieved = (double)p.sent / p.elapsed_s;
        l->reached = l->achieved >= 0.95 * rates[k];
        if (!load_sink_wait(sink, p.phase, p.sent, 30000))
            bench_note(o, "%s: not every message at %.0f/s was delivered in 30 s", name, rates[k]);
        pct3(&p.ack, l->ack_us);
        pct3(&sink->deliv[p.phase], l->deliv_us);
        bench_lat_free(&p.ack);
    }
    bench_lat_free(&warm.ack);
    bench_lat_free(&sat.ack);
}

static unsigned long sink_total(load_sink *sink)
{
    unsigned long n = 0;
    for (int i = 0; i < LOAD_MAX_PHASES; i++)
        n += atomic_load(&sink->delivered[i]);
    return n;
}

/* Wait (at most ms) until the consumer has n messages in all. */
static int wait_delivered(load_sink *sink, unsigned long n, int ms)
{
    for (int i = 0; i < ms / 10 && sink_total(sink) < n; i++)
        usleep(10000);
    return sink_total(sink) >= n;
}

static void sink_free(load_sink *sink)
{
    for (int i = 0; i < LOAD_MAX_PHASES; i++)
        bench_lat_free(&sink->deliv[i]);
}

/* The end of a peer's run: the server stopped, its directory and the
 * consumer's sink gone. */
static void peer_end(peer_srv *srv, load_sink *sink)
{
    srv_fini(srv);
    sink_free(sink);
    free(sink);
}

/* The start of a peer's run: the server program prog in PATH (r says when
 * it is not installed) and its version (`prog version_opt`), the consumer's
 * sink, a temporary directory (liandong-bench-<name>-*) and a free loopback
 * port for the server. 0 when all is there; else r says what is missing
 * and nothing is left to free. */
static int peer_begin(peer_srv *srv, const char *prog, const char *version_opt, const char *name,
                      load_sink **sink, peer_result *r)
{
    memset(srv, 0, sizeof *srv);
    if (!find_bin(prog, srv->bin, sizeof srv->bin)) {
        r->status = PEER_NOT_INSTALLED;
        snprintf(r->note, sizeof r->note, "%s not found in PATH", prog);
        return -1;
    }
    char cmd[600];
    snprintf(cmd, sizeof cmd, "'%s' %s 2>&1", srv->bin, version_opt);
    bin_version(cmd, r->version, sizeof r->version);
    if (!(*sink = calloc(1, sizeof **sink)))
        bench_die("out of memory");
    if (srv_dir(srv, name, r->note, sizeof r->note) == 0)
        return 0;
    r->status = PEER_FAILED;
    peer_end(srv, *sink);
    return -1;
}

/* ---- Mosquitto --------------------------------------------------------- */

typedef struct mq_client {
    struct mosquitto *m;
    atomic_int connected;  /* 1 accepted, -1 refused */
    atomic_int subscribed; /* subscriber: SUBACK received */
    atomic_int acked_mid;  /* publisher: mid of the last PUBACK */
    load_sink *sink;       /* subscriber */
} mq_client;

static void mq_on_connect(struct mosquitto *m, void *obj, int rc)
{
    (void)m;
    atomic_store(&((mq_client *)obj)->connected, rc == 0 ? 1 : -1);
}

static void mq_on_publish(struct mosquitto *m, void *obj, int mid)
{
    (void)m;
    atomic_store(&((mq_client *)obj)->acked_mid, mid);
}

static void mq_on_subscribe(struct mosquitto *m, void *obj, int mid, int n, const int *qos)
{
    (void)m;
    (void)mid;
    atomic_store(&((mq_client *)obj)->subscribed, n == 1 && qos[0] == 1 ? 1 : -1);
}

static void mq_on_message(struct mosquitto *m, void *obj, const struct mosquitto_message *msg)
{
    (void)m;
    load_sink_record(((mq_client *)obj)->sink, msg->payload, (size_t)msg->payloadlen);
}

static void mq_destroy(mq_client *c)
{
    if (!c)
        return;
    if (c->m) {
        mosquitto_disconnect(c->m);
        mosquitto_destroy(c->m);
    }
    free(c);
}

/* A connected client; publishers run their loop in the caller's thread
 * (mosquitto_loop), the subscriber in libmosquitto's thread. */
static mq_client *mq_connect(int port, const char *id, int clean, load_sink *sink, char *err,
                             size_t elen)
{
    mq_client *c = calloc(1, sizeof *c);
    if (!c || !(c->m = mosquitto_new(id, clean, c))) {
        snprintf(err, elen, "mosquitto_new: %s", strerror(errno));
        free(c);
        return NULL;
    }
    c->sink = sink;
    atomic_store(&c->acked_mid, -1);
    mosquitto_int_option(c->m, MOSQ_OPT_TCP_NODELAY, 1);
    mosquitto_connect_callback_set(c->m, mq_on_connect);
    mosquitto_publish_callback_set(c->m, mq_on_publish);
    mosquitto_subscribe_callback_set(c->m, mq_on_subscribe);
    mosquitto_message_callback_set(c->m, mq_on_message);
    int rc = mosquitto_connect(c->m, "127.0.0.1", port, 60);
    if (rc != MOSQ_ERR_SUCCESS) {
        snprintf(err, elen, "mosquitto_connect 127.0.0.1:%d: %s", port, mosquitto_strerror(rc));
        mq_destroy(c);
        return NULL;
    }
    if (sink && (rc = mosquitto_loop_start(c->m)) != MOSQ_ERR_SUCCESS) {
        snprintf(err, elen, "mosquitto_loop_start: %s", mosquitto_strerror(rc));
        mq_destroy(c);
        return NULL;
    }
    uint64_t until = bench_now_ns() + 10000000000ull;
    while (!atomic_load(&c->connected) && bench_now_ns() < until) {
        if (sink)
            usleep(1000);
        else if ((rc = mosquitto_loop(c->m, 100, 1)) != MOSQ_ERR_SUCCESS)
            break;
    }
    if (atomic_load(&c->connected) != 1) {
        snprintf(err, elen, "%s: no CONNACK from mosquitto", id);
        if (sink)
            mosquitto_loop_stop(c->m, true);
        mq_destroy(c);
        return NULL;
    }
    return c;
}

/* One QoS 1 publish, then the loop until its PUBACK. */
static int mq_send(void *h, const uint8_t *p, size_t len)
{
    mq_client *c = h;
    int mid;
    if (mosquitto_publish(c->m, &mid, PEER_TOPIC, (int)len, p, 1, false) != MOSQ_ERR_SUCCESS)
        return -1;
    uint64_t until = bench_now_ns() + ACK_TIMEOUT_MS * 1000000ull;
    while (atomic_load(&c->acked_mid) != mid) {
        if (mosquitto_loop(c->m, 100, 1) != MOSQ_ERR_SUCCESS || bench_now_ns() > until)
            return -1;
    }
    return 0;
}

static void mq_close(void *h)
{
    mq_destroy(h);
}

static void run_mosquitto(const bench_opts *o, const double *rates, int n_rates, peer_result *r)
{
    peer_srv srv;
    load_sink *sink;
    if (peer_begin(&srv, "mosquitto", "-h", "mosquitto", &sink, r) != 0)
        return;
    char err[512] = "";
    mq_client *sub = NULL;
    void *pubs[64] = {0};
    int n = 0;
    char conf[400];
    snprintf(conf, sizeof conf, "%s/mosquitto.conf", srv.dir);
    FILE *f = fopen(conf, "w");
    if (!f) {
        snprintf(err, sizeof err, "%s: %s", conf, strerror(errno));
        goto fail;
    }
    /* Started as root, mosquitto would switch to the user "mosquitto", which
     * cannot write into our private directory: "user root" keeps it. Queues
     * unlimited, so that a slower subscriber loses nothing; Nagle off, as
     * ZeroMQ has it. */
    fprintf(f,
            "listener %d 127.0.0.1\n"
            "allow_anonymous true\n"
            "persistence true\n"
            "persistence_location %s/\n"
            "max_queued_messages 0\n"
            "set_tcp_nodelay true\n"
            "log_dest stderr\n"
            "log_type error\n"
            "log_type warning\n"
            "%s",
            srv.port, srv.dir, geteuid() == 0 ? "user root\n" : "");
    fclose(f);
    char *argv[] = {srv.bin, "-c", conf, NULL};
    bench_note(o, "mosquitto: %s -c %s (port %d)", srv.bin, conf, srv.port);
    if (srv_start(&srv, argv, err, sizeof err) != 0)
        goto fail;

    /* The subscriber: a persistent session (clean_session false), so
     * that mosquitto keeps (and would persist) what is queued for it. */
    if (!(sub = mq_connect(srv.port, "liandong-bench-sub", 0, sink, err, sizeof err)))
        goto fail;
    int rc = mosquitto_subscribe(sub->m, NULL, PEER_TOPIC, 1);
    for (int i = 0; rc == MOSQ_ERR_SUCCESS && i < 1000 && !atomic_load(&sub->subscribed); i++)
        usleep(10000);
    if (rc != MOSQ_ERR_SUCCESS || atomic_load(&sub->subscribed) != 1) {
        snprintf(err, sizeof err, "subscribe at QoS 1: %s",
                 rc ? mosquitto_strerror(rc) : "no SUBACK granting QoS 1");
        goto fail;
    }
    for (n = 0; n < o->clients; n++) {
        char id[32];
        snprintf(id, sizeof id, "liandong-bench-pub%02d", n);
        if (!(pubs[n] = mq_connect(srv.port, id, 1, NULL, err, sizeof err)))
            goto fail;
    }
    pre_opened pre = {pubs, n};
    load_ops ops = {pre_open, mq_send, mq_close, &pre};
    load_senders *s = load_open(&ops, n, o->payload);
    run_phases(o, "mosquitto", s, sink, rates, n_rates, r);
    load_close(&s); /* closes the publishers */
    n = 0;
    wait_delivered(sink, r->published, 10000);
    r->delivered = sink_total(sink);
    r->status = PEER_MEASURED;
    goto done;
fail:
    r->status = PEER_FAILED;
    snprintf(r->note, sizeof r->note, "%s", err);
    if (srv.pid > 0 && !err[0])
        log_tail(&srv, r->note, sizeof r->note);
done:
    for (int i = 0; i < n; i++)
        mq_destroy(pubs[i]);
    if (sub) {
        mosquitto_disconnect(sub->m);
        mosquitto_loop_stop(sub->m, false);
        mosquitto_destroy(sub->m);
        free(sub);
    }
    peer_end(&srv, sink);
}

/* ---- NATS JetStream ---------------------------------------------------- */

typedef struct js_client {
    natsConnection *nc;
    jsCtx *js;
    atomic_ulong async_err;
} js_client;

static void js_destroy(js_client *c)
{
    if (!c)
        return;
    jsCtx_Destroy(c->js);
    natsConnection_Destroy(c->nc);
    free(c);
}

static void js_on_async_err(jsCtx *js, jsPubAckErr *pae, void *closure)
{
    (void)js;
    (void)pae;
    atomic_fetch_add(&((js_client *)closure)->async_err, 1);
}

static js_client *js_connect(int port, int async_window, char *err, size_t elen)
{
    js_client *c = calloc(1, sizeof *c);
    natsOptions *no = NULL;
    char url[64];
    snprintf(url, sizeof url, "nats://127.0.0.1:%d", port);
    natsStatus st = c ? natsOptions_Create(&no) : NATS_NO_MEMORY;
    if (st == NATS_OK)
        st = natsOptions_SetURL(no, url);
    if (st == NATS_OK)
        st = natsOptions_SetAllowReconnect(no, false);
    if (st == NATS_OK)
        st = natsOptions_SetName(no, "liandong-bench");
    if (st == NATS_OK)
        st = natsConnection_Connect(&c->nc, no);
    natsOptions_Destroy(no);
    if (st == NATS_OK) {
        jsOptions jo;
        jsOptions_Init(&jo);
        jo.Wait = ACK_TIMEOUT_MS;
        if (async_window > 0) {
            jo.PublishAsync.MaxPending = async_window;
            jo.PublishAsync.ErrHandler = js_on_async_err;
            jo.PublishAsync.ErrHandlerClosure = c;
            jo.PublishAsync.StallWait = ACK_TIMEOUT_MS;
        }
        st = natsConnection_JetStream(&c->js, c->nc, &jo);
    }
    if (st != NATS_OK) {
        snprintf(err, elen, "connect %s: %s", url, natsStatus_GetText(st));
        js_destroy(c);
        return NULL;
    }
    return c;
}

/* js_Publish returns once the PubAck is in. */
static int js_send(void *h, const uint8_t *p, size_t len)
{
    js_client *c = h;
    jsErrCode jerr = 0;
    return js_Publish(NULL, c->js, NATS_SUBJECT, p, (int)len, NULL, &jerr) == NATS_OK ? 0 : -1;
}

static void js_close(void *h)
{
    js_destroy(h);
}

/* The consumer: every message acknowledged (AckExplicit). */
static void js_on_msg(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    (void)nc;
    (void)sub;
    load_sink_record(closure, (const uint8_t *)natsMsg_GetData(msg),
                     (size_t)natsMsg_GetDataLength(msg));
    natsMsg_Ack(msg, NULL);
    natsMsg_Destroy(msg);
}

typedef struct async_pub {
    pthread_t t;
    js_client *c;
    size_t payload;
    double seconds;
    unsigned long sent, failed;
    int phase, i;
} async_pub;

static void *async_main(void *arg)
{
    async_pub *a = arg;
    uint8_t *buf = calloc(1, a->payload);
    if (!buf)
        bench_die("out of memory");
    uint64_t until = bench_now_ns() + (uint64_t)(a->seconds * 1e9);
    while (bench_now_ns() < until) {
        load_stamp st = {bench_now_ns(), (uint32_t)a->phase, (uint32_t)a->i};
        memcpy(buf, &st, sizeof st);
        if (js_PublishAsync(a->c->js, NATS_SUBJECT, buf, (int)a->payload, NULL) == NATS_OK)
            a->sent++;
        else
            a->failed++;
    }
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MaxWait = ACK_TIMEOUT_MS;
    if (js_PublishAsyncComplete(a->c->js, &po) != NATS_OK) {
        /* Whatever is still pending is not acknowledged. */
        natsMsgList pending;
        if (js_PublishAsyncGetPendingList(&pending, a->c->js) == NATS_OK) {
            a->failed += (unsigned long)pending.Count;
            natsMsgList_Destroy(&pending);
        }
    }
    unsigned long errs = atomic_load(&a->c->async_err);
    a->failed += errs;
    a->sent = a->sent > errs ? a->sent - errs : 0;
    free(buf);
    return NULL;
}

/* o->clients connections publishing with js_PublishAsync (at most
 * ASYNC_WINDOW unacknowledged each) for o->seconds; msg/s counted up to
 * the last PubAck. */
static int run_async(const bench_opts *o, int port, int phase, peer_result *r, char *err,
                     size_t elen)
{
    async_pub *a = calloc((size_t)o->clients, sizeof *a);
    int n = 0, ok = 1;
    if (!a)
        bench_die("out of memory");
    for (; n < o->clients; n++) {
        a[n] = (async_pub){.payload =
                               o->payload < sizeof(load_stamp) ? sizeof(load_stamp) : o->payload,
                           .seconds = o->seconds,
                           .phase = phase,
                           .i = n};
        if (!(a[n].c = js_connect(port, ASYNC_WINDOW, err, elen))) {
            ok = 0;
            break;
        }
    }
    if (ok) {
        uint64_t t0 = bench_now_ns();
        for (int i = 0; i < n; i++)
            if (pthread_create(&a[i].t, NULL, async_main, &a[i]) != 0)
                bench_die("pthread_create failed");
        unsigned long sent = 0, failed = 0;
        for (int i = 0; i < n; i++) {
            pthread_join(a[i].t, NULL);
            sent += a[i].sent;
            failed += a[i].failed;
        }
        double el = (double)(bench_now_ns() - t0) / 1e9;
        r->async_msgs_per_s = (double)sent / el;
        r->async_window = ASYNC_WINDOW;
        r->published += sent;
        bench_note(o, "nats async: %lu acknowledged in %.2f s, %lu failed", sent, el, failed);
    }
    for (int i = 0; i < n; i++)
        js_destroy(a[i].c);
    free(a);
    return ok ? 0 : -1;
}

static void run_nats(const bench_opts *o, const double *rates, int n_rates, peer_result *r)
{
    peer_srv srv;
    load_sink *sink;
    if (peer_begin(&srv, "nats-server", "--version", "nats", &sink, r) != 0)
        return;
    char err[512] = "";
    js_client *admin = NULL;
    natsSubscription *sub = NULL;
    void *pubs[64] = {0};
    int n = 0;
    char port[16], store[320];
    snprintf(port, sizeof port, "%d", srv.port);
    snprintf(store, sizeof store, "%s/jetstream", srv.dir);
    char *argv[] = {srv.bin, "-js", "-a", "127.0.0.1", "-p", port, "-sd", store, NULL};
    bench_note(o, "nats: %s -js -a 127.0.0.1 -p %s -sd %s", srv.bin, port, store);
    if (srv_start(&srv, argv, err, sizeof err) != 0)
        goto fail;
    if (!(admin = js_connect(srv.port, 0, err, sizeof err)))
        goto fail;

    /* The stream, on disk; the server may need a moment for JetStream. */
    const char *subjects[] = {NATS_SUBJECT};
    jsStreamConfig sc;
    jsStreamConfig_Init(&sc);
    sc.Name = NATS_STREAM;
    sc.Subjects = subjects;
    sc.SubjectsLen = 1;
    sc.Storage = js_FileStorage;
    jsErrCode jerr = 0;
    natsStatus st = NATS_ERR;
    for (int i = 0; i < 50 && st != NATS_OK; i++) {
        jsStreamInfo *si = NULL;
        st = js_AddStream(&si, admin->js, &sc, NULL, &jerr);
        jsStreamInfo_Destroy(si);
        if (st != NATS_OK)
            usleep(100000);
    }
    if (st != NATS_OK) {
        snprintf(err, sizeof err, "js_AddStream (file storage): %s (JetStream error %d)",
                 natsStatus_GetText(st), (int)jerr);
        goto fail;
    }
    /* A durable push consumer acknowledging every message. */
    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Stream = NATS_STREAM;
    so.ManualAck = true;
    so.Config.Durable = "liandong-bench";
    so.Config.AckPolicy = js_AckExplicit;
    so.Config.DeliverPolicy = js_DeliverAll;
    st = js_Subscribe(&sub, admin->js, NATS_SUBJECT, js_on_msg, sink, NULL, &so, &jerr);
    if (st != NATS_OK) {
        snprintf(err, sizeof err, "js_Subscribe: %s (JetStream error %d)", natsStatus_GetText(st),
                 (int)jerr);
        goto fail;
    }
    for (n = 0; n < o->clients; n++)
        if (!(pubs[n] = js_connect(srv.port, 0, err, sizeof err)))
            goto fail;
    pre_opened pre = {pubs, n};
    load_ops ops = {pre_open, js_send, js_close, &pre};
    load_senders *s = load_open(&ops, n, o->payload);
    run_phases(o, "nats", s, sink, rates, n_rates, r);
    load_close(&s);
    n = 0;
    if (run_async(o, srv.port, 4, r, err, sizeof err) != 0)
        goto fail;
    /* The consumer catches up with the asynchronous burst (bounded). */
    if (!wait_delivered(sink, r->published, o->smoke ? 5000 : 30000))
        bench_note(o, "nats: the consumer is still behind the asynchronous publishers");
    r->delivered = sink_total(sink);
    r->status = PEER_MEASURED;
    goto done;
fail:
    r->status = PEER_FAILED;
    snprintf(r->note, sizeof r->note, "%s", err);
done:
    for (int i = 0; i < n; i++)
        js_destroy(pubs[i]);
    if (sub) {
        natsSubscription_Unsubscribe(sub);
        natsSubscription_Destroy(sub);
    }
    js_destroy(admin);
    peer_end(&srv, sink);
}

void bench_peers(const bench_opts *o, const double *rates, int n_rates, peers_result *r)
{
    memset(r, 0, sizeof *r);
    mosquitto_lib_init();
    bench_note(o, "peers: Mosquitto ...");
    run_mosquitto(o, rates, n_rates, &r->mosquitto);
    mosquitto_lib_cleanup();
    bench_note(o, "peers: NATS JetStream ...");
    run_nats(o, rates, n_rates, &r->nats);
    /* libnats' threads and global state, for leak checkers. */
    nats_CloseAndWait(5000);
}
