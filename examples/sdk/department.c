/* department.c - a department's system on the Liandong SDK: it receives its
 * task assignments, accepts each new one and sends a first status report.
 * Copy it and put your own work where the report is made.
 *
 *   cc department.c $(pkg-config --cflags --libs liandong) -o department
 *   ./department -e tcp://127.0.0.1:7400 -i keys/mdj.gxj.secret -k keys/broker.pub -n 2 -t 30
 *
 * -e/-i/-k default to $LIANDONG_BROKER, $LIANDONG_IDENTITY, $LIANDONG_BROKER_KEY.
 * It stops after -n assignments (0: no limit) or -t seconds (default 10);
 * exit status 0 when it handled -n assignments (or ran until -t with -n 0). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <liandong/liandong.h>

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static int failed(ld_client *c, int rc, const char *what)
{
    if (rc == LD_ERR_REFUSED)
        fprintf(stderr, "department: %s refused: %s: %s\n", what,
                ld_reason_name(ld_client_last_reason(c)), ld_client_last_error(c));
    else
        fprintf(stderr, "department: %s: %s\n", what, ld_client_last_error(c));
    return 1;
}

/* Our work on a new task: take it on, say where we stand. */
static int handle(ld_client *c, const ld_task_assign *a)
{
    int rc = ld_client_task_accept(c, a->plan, a->task, "已收到，按期推进", NULL);
    if (rc != LD_OK)
        return failed(c, rc, "accept");
    printf("accepted %s as %s: %s\n", a->task, ld_task_role_name(a->role), a->title);
    ld_status_report r = {.plan = a->plan,
                          .task = a->task,
                          .state = LD_TASK_IN_PROGRESS,
                          .progress = 10,
                          .note = "已制定工作方案，正在组织实施"};
    rc = ld_client_status_report(c, &r, NULL);
    if (rc != LD_OK)
        return failed(c, rc, "report");
    printf("reported %s in_progress 10%%\n", a->task);
    return 0;
}

int main(int argc, char **argv)
{
    ld_client_options o;
    ld_client_options_init(&o);
    o.endpoint = getenv("LIANDONG_BROKER");
    o.identity_path = getenv("LIANDONG_IDENTITY");
    o.broker_key_path = getenv("LIANDONG_BROKER_KEY");
    o.client_name = "department-example";
    int want = 0, opt;
    double seconds = 10;
    while ((opt = getopt(argc, argv, "e:i:k:n:t:")) != -1) {
        switch (opt) {
        case 'e': o.endpoint = optarg; break;
        case 'i': o.identity_path = optarg; break;
        case 'k': o.broker_key_path = optarg; break;
        case 'n': want = atoi(optarg); break;
        case 't': seconds = atof(optarg); break;
        default: goto usage;
        }
    }
    if (optind != argc || !o.endpoint || !o.identity_path || !o.broker_key_path || want < 0 ||
        seconds <= 0)
        goto usage;

    char err[512];
    ld_client *c;
    if (ld_client_new(&o, &c, err, sizeof err) != LD_OK) {
        fprintf(stderr, "department: %s\n", err);
        return 1;
    }
    if (ld_client_connect(c) != LD_OK) {
        fprintf(stderr, "department: %s\n", ld_client_last_error(c));
        ld_client_destroy(&c);
        return 1;
    }
    printf("connected as %s\n", ld_client_principal(c));
    fflush(stdout);

    int done = 0, bad = 0;
    long long deadline = now_ms() + (long long)(seconds * 1000);
    while (!bad && (want == 0 || done < want) && now_ms() < deadline) {
        ld_delivery *d;
        int rc = ld_client_recv(c, (int)(deadline - now_ms()), &d);
        if (rc == LD_ERR_TIMEOUT)
            break;
        if (rc != LD_OK) {
            bad = failed(c, rc, "receive");
            break;
        }
        /* Assignments come from the broker itself (from_broker). */
        const ld_task_assign *a = d->assign;
        if (a && d->from_broker && a->change == LD_ASSIGN_ASSIGNED) {
            bad = handle(c, a);
            done += !bad;
        }
        if (!bad)
            ld_client_ack(c, d); /* processed: it leaves our mailbox */
        ld_delivery_destroy(&d);
        fflush(stdout);
    }
    ld_client_destroy(&c);
    if (!bad && want && done < want)
        fprintf(stderr, "department: handled %d of %d assignments in %g s\n", done, want, seconds);
    return bad || (want && done < want) ? 1 : 0;

usage:
    fprintf(stderr,
            "usage: %s [-e ENDPOINT] [-i IDENTITY.secret] [-k BROKER.pub] [-n COUNT] "
            "[-t SECONDS]\n",
            argv[0]);
    return 2;
}
