/* tool.c - liandong-keys: main, and the gen, broker and show commands.
 * The roster commands are in tool_roster.c. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ldk/keys.h"
#include "tool.h"

int tool_fail(const char *fmt, ...)
{
    va_list ap;
    fputs(TOOL_NAME ": ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return TOOL_EXIT_FAIL;
}

int tool_usage(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fputs(TOOL_NAME ": ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (see '" TOOL_NAME "%s%s --help')\n", *cmd ? " " : "", cmd);
    return TOOL_EXIT_USAGE;
}

int tool_bad_option(const char *cmd, int c, char **argv)
{
    const char *arg = argv[optind - 1];
    if (c == ':')
        return tool_usage(cmd, "option %s needs a value", arg);
    if (optopt != 0 && strncmp(arg, "--", 2) != 0)
        return tool_usage(cmd, "unknown option -%c", optopt);
    return tool_usage(cmd, "unknown option %s", arg);
}

/* mkdir -p with mode 0700 for the directories it creates. */
static int make_dirs(const char *dir)
{
    char *p = strdup(dir);
    if (p == NULL)
        return tool_fail("out of memory");
    for (char *s = p + 1;; s++) {
        if (*s != '/' && *s != '\0')
            continue;
        char c = *s;
        *s = '\0';
        if (mkdir(p, 0700) != 0 && errno != EEXIST) {
            int e = errno;
            int rc = tool_fail("cannot create directory %s: %s", p, strerror(e));
            free(p);
            return rc;
        }
        *s = c;
        if (c == '\0')
            break;
    }
    free(p);
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return tool_fail("%s is not a directory", dir);
    return 0;
}

static char *join(const char *dir, const char *id, const char *ext)
{
    size_t dlen = strlen(dir);
    while (dlen > 1 && dir[dlen - 1] == '/')
        dlen--; /* "keys/" gives keys/ID.secret */
    size_t n = dlen + strlen(id) + strlen(ext) + 2;
    char *s = malloc(n);
    if (s != NULL)
        snprintf(s, n, "%.*s%s%s%s", (int)dlen, dir, strcmp(dir, "/") == 0 ? "" : "/", id, ext);
    return s;
}

/* Generate an identity and write DIR/ID.secret and DIR/ID.pub. */
static int write_pair(const char *cmd, const char *dir, const char *id, const char *name,
                      unsigned roles)
{
    char err[LDK_ERR_MAX];
    int rc = TOOL_EXIT_FAIL;
    ldk_identity *ident = NULL;
    char *sec = join(dir, id, ".secret"), *pub = join(dir, id, ".pub");
    if (sec == NULL || pub == NULL) {
        rc = tool_fail("out of memory");
        goto out;
    }
    int lrc = ldk_identity_generate(id, name, roles, &ident, err, sizeof err);
    if (lrc != LD_OK) {
        rc = lrc == LD_ERR_INVALID ? tool_usage(cmd, "%s", err) : tool_fail("%s", err);
        goto out;
    }
    struct stat st;
    const char *paths[2] = {sec, pub};
    for (int i = 0; i < 2; i++) {
        if (lstat(paths[i], &st) == 0) {
            rc = tool_fail("%s already exists; keys are never overwritten (there is no --force "
                           "on purpose: move the old files away first)",
                           paths[i]);
            goto out;
        }
    }
    if ((rc = make_dirs(dir)) != 0)
        goto out;
    if (ldk_identity_save_secret(ident, sec, err, sizeof err) != LD_OK) {
        rc = tool_fail("%s", err);
        goto out;
    }
    if (ldk_identity_save_public(ident, pub, err, sizeof err) != LD_OK) {
        unlink(sec); /* we created it just now; keep the pair together */
        rc = tool_fail("%s", err);
        goto out;
    }
    printf("secret key: %s (mode 0600; keep it private)\n", sec);
    printf("public key: %s (give it to the broker operator)\n", pub);
    printf("id:         %s\n", ident->id);
    printf("key_id:     %s\n", ident->key_id);
    rc = 0;
out:
    ldk_identity_destroy(&ident);
    free(sec);
    free(pub);
    return rc;
}

static const char gen_help[] =
    "Usage: " TOOL_NAME " gen --id ID --name NAME --role ROLE[,ROLE...] --out DIR\n"
    "\n"
    "Create a principal's keys: DIR/ID.secret (mode 0600, the Ed25519 signing key\n"
    "and the CURVE key pair) and DIR/ID.pub (the public part, for the roster).\n"
    "DIR is created (mode 0700) if missing. Existing files are never overwritten.\n"
    "\n"
    "  --id ID        principal id: 1-64 of a-z 0-9 . _ -, starting with a letter or digit\n"
    "  --name NAME    display name, UTF-8 (e.g. 牡丹江市工业和信息化局)\n"
    "  --role ROLES   comma-separated: department, coordinator, supervision, auditor, admin\n"
    "                 (may be given more than once)\n"
    "  --out DIR      directory for the two files\n"
    "  -h, --help     show this help\n";

static int cmd_gen(int argc, char **argv)
{
    static const struct option opts[] = {
        {"id", required_argument, NULL, 'i'},   {"name", required_argument, NULL, 'n'},
        {"role", required_argument, NULL, 'r'}, {"out", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},       {NULL, 0, NULL, 0},
    };
    const char *id = NULL, *name = NULL, *out = NULL;
    unsigned roles = 0;
    int have_role = 0, c;
    char err[LDK_ERR_MAX];
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'i': id = optarg; break;
        case 'n': name = optarg; break;
        case 'o': out = optarg; break;
        case 'r': {
            unsigned m;
            if (ldk_roles_parse(optarg, &m, err, sizeof err) != LD_OK)
                return tool_usage("gen", "--role: %s", err);
            roles |= m;
            have_role = 1;
            break;
        }
        case 'h': fputs(gen_help, stdout); return 0;
        default: return tool_bad_option("gen", c, argv);
        }
    }
    if (optind < argc)
        return tool_usage("gen", "unexpected argument '%s'", argv[optind]);
    if (id == NULL || name == NULL || !have_role || out == NULL)
        return tool_usage("gen", "missing %s",
                          id == NULL     ? "--id"
                          : name == NULL ? "--name"
                          : !have_role   ? "--role"
                                         : "--out");
    if (!ldk_id_valid(id))
        return tool_usage("gen",
                          "invalid --id '%s': use 1 to 64 of a-z 0-9 . _ -, starting with a "
                          "letter or digit",
                          id);
    if (roles == 0)
        return tool_usage("gen", "--role needs at least one role");
    return write_pair("gen", out, id, name, roles);
}

static const char broker_help[] =
    "Usage: " TOOL_NAME " broker --out DIR [--id ID] [--name NAME]\n"
    "\n"
    "Create the broker's keys: DIR/ID.secret (mode 0600) and DIR/ID.pub. The\n"
    "broker signs the messages it originates with this key, and clients use its\n"
    "CURVE public key (from the .pub file) to connect. Existing files are never\n"
    "overwritten.\n"
    "\n"
    "  --out DIR      directory for the two files (created, mode 0700, if missing)\n"
    "  --id ID        the broker's id (default: broker)\n"
    "  --name NAME    display name (default: Liandong broker)\n"
    "  -h, --help     show this help\n";

static int cmd_broker(int argc, char **argv)
{
    static const struct option opts[] = {
        {"out", required_argument, NULL, 'o'},
        {"id", required_argument, NULL, 'i'},
        {"name", required_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *id = "broker", *name = "Liandong broker", *out = NULL;
    int c;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'o': out = optarg; break;
        case 'i': id = optarg; break;
        case 'n': name = optarg; break;
        case 'h': fputs(broker_help, stdout); return 0;
        default: return tool_bad_option("broker", c, argv);
        }
    }
    if (optind < argc)
        return tool_usage("broker", "unexpected argument '%s'", argv[optind]);
    if (out == NULL)
        return tool_usage("broker", "missing --out");
    if (!ldk_id_valid(id))
        return tool_usage("broker",
                          "invalid --id '%s': use 1 to 64 of a-z 0-9 . _ -, starting "
                          "with a letter or digit",
                          id);
    return write_pair("broker", out, id, name, 0);
}

static const char show_help[] =
    "Usage: " TOOL_NAME " show FILE\n"
    "\n"
    "Check a key file (.secret or .pub) and print its public fields. Secrets are\n"
    "never printed.\n"
    "\n"
    "  -h, --help     show this help\n";

static int cmd_show(int argc, char **argv)
{
    static const struct option opts[] = {
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        if (c == 'h') {
            fputs(show_help, stdout);
            return 0;
        }
        return tool_bad_option("show", c, argv);
    }
    if (optind >= argc)
        return tool_usage("show", "missing FILE");
    if (optind + 1 < argc)
        return tool_usage("show", "unexpected argument '%s'", argv[optind + 1]);
    const char *path = argv[optind];
    char err[LDK_ERR_MAX], roles[128];
    ldk_identity *ident;
    if (ldk_identity_load(path, &ident, err, sizeof err) != LD_OK)
        return tool_fail("%s", err);
    ldk_roles_format(ident->roles, roles, sizeof roles);
    char sp[LDK_SIGN_PUBLIC_B64_LEN + 1];
    ldk_sign_public_format(ident->sign_public, sp, sizeof sp);
    printf("file:         %s\n", path);
    printf("kind:         %s\n", ident->sign_secret != NULL
                                     ? "secret key file (secrets are not shown)"
                                     : "public key file");
    printf("id:           %s\n", ident->id);
    printf("name:         %s\n", ident->name);
    printf("roles:        %s\n", *roles ? roles : "(none)");
    printf("key_id:       %s\n", ident->key_id);
    printf("sign_public:  %s\n", sp);
    printf("curve_public: %s\n", ident->curve_public);
    ldk_identity_destroy(&ident);
    return 0;
}

static const char main_help[] =
    "Usage: " TOOL_NAME " COMMAND [OPTIONS]\n"
    "\n"
    "Keys and the roster of Liandong principals.\n"
    "\n"
    "Commands:\n"
    "  gen --id ID --name NAME --role ROLE[,ROLE] --out DIR   create a principal's keys\n"
    "  broker --out DIR [--id ID]                             create the broker's keys\n"
    "  roster add --roster FILE --pub ID.pub                  admit a public key\n"
    "  roster revoke --roster FILE --id ID                    revoke the active key of ID\n"
    "  roster list --roster FILE [--json]                     list the roster\n"
    "  show FILE                                              print a key file's public fields\n"
    "\n"
    "Each command takes --help. Exit status: 0 success, 1 failure, 2 usage error.\n"
    "See docs/keys.md.\n";

int main(int argc, char **argv)
{
    opterr = 0; /* we print our own one-line messages */
    if (argc < 2)
        return tool_usage("", "missing command");
    const char *cmd = argv[1];
    if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
        fputs(main_help, stdout);
        return 0;
    }
    if (strcmp(cmd, "gen") == 0)
        return cmd_gen(argc - 1, argv + 1);
    if (strcmp(cmd, "broker") == 0)
        return cmd_broker(argc - 1, argv + 1);
    if (strcmp(cmd, "roster") == 0)
        return tool_roster(argc - 1, argv + 1);
    if (strcmp(cmd, "show") == 0)
        return cmd_show(argc - 1, argv + 1);
    return tool_usage("", "unknown command '%s'", cmd);
}
