/* tool_roster.c - liandong-keys roster add | revoke | list. */
#define _GNU_SOURCE /* wcswidth */
#include <getopt.h>
#include <langinfo.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <wchar.h>

#include <jansson.h>

#include "ldk/keys.h"
#include "tool.h"

static const char roster_help[] =
    "Usage: " TOOL_NAME " roster add --roster FILE --pub ID.pub\n"
    "       " TOOL_NAME " roster revoke --roster FILE --id ID\n"
    "       " TOOL_NAME " roster list --roster FILE [--json]\n"
    "\n"
    "Edit the roster, the list of keys the broker admits. Changes are saved\n"
    "atomically; send SIGHUP to the broker to make it reload the roster.\n"
    "Each subcommand takes --help.\n";

static const char add_help[] =
    "Usage: " TOOL_NAME " roster add --roster FILE --pub ID.pub\n"
    "\n"
    "Add the public key file ID.pub as an active key. FILE is created if missing.\n"
    "Refused if the key is already listed or ID already has an active key\n"
    "(revoke that one first).\n"
    "\n"
    "  --roster FILE  the roster file\n"
    "  --pub FILE     a public key file made by '" TOOL_NAME " gen' (never a .secret)\n"
    "  -h, --help     show this help\n";

static const char revoke_help[] =
    "Usage: " TOOL_NAME " roster revoke --roster FILE --id ID\n"
    "\n"
    "Revoke the active key of ID. It stays listed as revoked, so that old\n"
    "signatures can still be attributed; the broker refuses it after a reload.\n"
    "\n"
    "  --roster FILE  the roster file\n"
    "  --id ID        the principal whose key to revoke\n"
    "  -h, --help     show this help\n";

static const char list_help[] =
    "Usage: " TOOL_NAME " roster list --roster FILE [--json]\n"
    "\n"
    "List the roster: id, name, roles, key_id, status and when the key was added.\n"
    "\n"
    "  --roster FILE  the roster file\n"
    "  --json         print one JSON document: {\"roster\": [...]} with all public fields\n"
    "  -h, --help     show this help\n";

/* Parse the options of a roster subcommand. Returns -1 to go on, else an
 * exit status. */
static int parse_opts(const char *cmd, const char *help, int argc, char **argv, const char **roster,
                      const char **arg, const char *argname, int *json)
{
    static const struct option opts[] = {
        {"roster", required_argument, NULL, 'r'}, {"pub", required_argument, NULL, 'p'},
        {"id", required_argument, NULL, 'i'},     {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'r': *roster = optarg; break;
        case 'p':
        case 'i':
            if (argname == NULL || strcmp(argname, c == 'p' ? "--pub" : "--id") != 0)
                return tool_usage(cmd, "%s does not take %s", cmd, c == 'p' ? "--pub" : "--id");
            *arg = optarg;
            break;
        case 'j':
            if (json == NULL)
                return tool_usage(cmd, "%s does not take --json", cmd);
            *json = 1;
            break;
        case 'h': fputs(help, stdout); return 0;
        default: return tool_bad_option(cmd, c, argv);
        }
    }
    if (optind < argc)
        return tool_usage(cmd, "unexpected argument '%s'", argv[optind]);
    if (*roster == NULL)
        return tool_usage(cmd, "missing --roster");
    if (argname != NULL && *arg == NULL)
        return tool_usage(cmd, "missing %s", argname);
    return -1;
}

static int cmd_add(int argc, char **argv)
{
    const char *roster = NULL, *pub = NULL;
    int rc = parse_opts("roster add", add_help, argc, argv, &roster, &pub, "--pub", NULL);
    if (rc >= 0)
        return rc;
    char err[LDK_ERR_MAX];
    ldk_identity *ident = NULL;
    ldk_roster *r = NULL;
    if (ldk_identity_load(pub, &ident, err, sizeof err) != LD_OK)
        return tool_fail("%s", err);
    if (ident->sign_secret != NULL) {
        ldk_identity_destroy(&ident);
        return tool_fail("%s is a secret key file; add its .pub file instead (secret files "
                         "never leave their owner)",
                         pub);
    }
    int lrc = ldk_roster_load(roster, &r, err, sizeof err);
    if (lrc == LD_ERR_NOT_FOUND)
        lrc = ldk_roster_new(&r);
    if (lrc != LD_OK) {
        rc = tool_fail("%s", lrc == LD_ERR_NOMEM ? "out of memory" : err);
        goto out;
    }
    if (ldk_roster_add(r, ident, (int64_t)time(NULL), err, sizeof err) != LD_OK ||
        ldk_roster_save(r, roster, err, sizeof err) != LD_OK) {
        rc = tool_fail("%s", err);
        goto out;
    }
    printf("added %s (key_id %s) to %s; send SIGHUP to the broker to apply\n", ident->id,
           ident->key_id, roster);
    rc = 0;
out:
    ldk_roster_destroy(&r);
    ldk_identity_destroy(&ident);
    return rc;
}

static int cmd_revoke(int argc, char **argv)
{
    const char *roster = NULL, *id = NULL;
    int rc = parse_opts("roster revoke", revoke_help, argc, argv, &roster, &id, "--id", NULL);
    if (rc >= 0)
        return rc;
    char err[LDK_ERR_MAX];
    ldk_roster *r = NULL;
    if (ldk_roster_load(roster, &r, err, sizeof err) != LD_OK)
        return tool_fail("%s", err);
    const ldk_roster_entry *e = ldk_roster_find_active(r, id);
    char key_id[LDK_KEY_ID_LEN + 1] = "";
    if (e != NULL)
        memcpy(key_id, e->pub.key_id, sizeof key_id);
    if (ldk_roster_revoke(r, id, (int64_t)time(NULL), err, sizeof err) != LD_OK ||
        ldk_roster_save(r, roster, err, sizeof err) != LD_OK) {
        rc = tool_fail("%s", err);
    } else {
        printf("revoked key %s of %s in %s; send SIGHUP to the broker to apply\n", key_id, id,
               roster);
        rc = 0;
    }
    ldk_roster_destroy(&r);
    return rc;
}

/* ---- list ---------------------------------------------------------------- */

static int utf8_locale;

static void init_locale(void)
{
    /* Only the character type matters here (wcwidth); numbers and messages
     * stay in the C locale. */
    if (setlocale(LC_CTYPE, "C.UTF-8") != NULL ||
        (setlocale(LC_CTYPE, "") != NULL && strcmp(nl_langinfo(CODESET), "UTF-8") == 0))
        utf8_locale = 1;
}

/* Terminal columns taken by s: wcswidth in a UTF-8 locale, else bytes. */
static size_t display_width(const char *s)
{
    size_t bytes = strlen(s);
    if (!utf8_locale)
        return bytes;
    size_t n = mbstowcs(NULL, s, 0);
    if (n == (size_t)-1)
        return bytes;
    wchar_t *w = malloc((n + 1) * sizeof *w);
    if (w == NULL)
        return bytes;
    mbstowcs(w, s, n + 1);
    int width = wcswidth(w, n);
    free(w);
    return width < 0 ? bytes : (size_t)width;
}

enum { COL_ID, COL_NAME, COL_ROLES, COL_KEY_ID, COL_STATUS, COL_ADDED, NCOLS };

static void cells(const ldk_roster_entry *e, char roles[128], char added[LDK_TIME_LEN + 1],
                  const char *cell[NCOLS])
{
    ldk_roles_format(e->pub.roles, roles, 128);
    if (ldk_time_format(e->added_at, added, LDK_TIME_LEN + 1) != LD_OK)
        strcpy(added, "?");
    cell[COL_ID] = e->pub.id;
    cell[COL_NAME] = e->pub.name[0] ? e->pub.name : "-";
    cell[COL_ROLES] = roles[0] ? roles : "-";
    cell[COL_KEY_ID] = e->pub.key_id;
    cell[COL_STATUS] = e->revoked ? "revoked" : "active";
    cell[COL_ADDED] = added;
}

static void print_row(const char *cell[NCOLS], const size_t width[NCOLS])
{
    for (int c = 0; c < NCOLS; c++) {
        fputs(cell[c], stdout);
        if (c == NCOLS - 1)
            break;
        for (size_t w = display_width(cell[c]); w < width[c] + 2; w++)
            putchar(' ');
    }
    putchar('\n');
}

static void list_table(const ldk_roster *r)
{
    const char *head[NCOLS] = {"id", "name", "roles", "key_id", "status", "added"};
    size_t width[NCOLS];
    for (int c = 0; c < NCOLS; c++)
        width[c] = strlen(head[c]);
    for (size_t i = 0; i < r->count; i++) {
        char roles[128], added[LDK_TIME_LEN + 1];
        const char *cell[NCOLS];
        cells(&r->entries[i], roles, added, cell);
        for (int c = 0; c < NCOLS; c++) {
            size_t w = display_width(cell[c]);
            if (w > width[c])
                width[c] = w;
        }
    }
    print_row(head, width);
    for (size_t i = 0; i < r->count; i++) {
        char roles[128], added[LDK_TIME_LEN + 1];
        const char *cell[NCOLS];
        cells(&r->entries[i], roles, added, cell);
        print_row(cell, width);
    }
}

static json_t *time_or_null(int64_t t, int present)
{
    char buf[LDK_TIME_LEN + 1];
    if (!present || ldk_time_format(t, buf, sizeof buf) != LD_OK)
        return json_null();
    return json_string(buf);
}

static json_t *entry_json(const ldk_roster_entry *e)
{
    char roles[128], sp[LDK_SIGN_PUBLIC_B64_LEN + 1];
    json_t *jroles = json_array();
    ldk_roles_format(e->pub.roles, roles, sizeof roles);
    for (char *save = NULL, *t = strtok_r(roles, ",", &save); t != NULL;
         t = strtok_r(NULL, ",", &save))
        json_array_append_new(jroles, json_string(t));
    ldk_sign_public_format(e->pub.sign_public, sp, sizeof sp);
    return json_pack("{s:s, s:s, s:o, s:s, s:s, s:o, s:o, s:s, s:s}", "id", e->pub.id, "name",
                     e->pub.name, "roles", jroles, "key_id", e->pub.key_id, "status",
                     e->revoked ? "revoked" : "active", "added_at", time_or_null(e->added_at, 1),
                     "revoked_at", time_or_null(e->revoked_at, e->revoked), "sign_public", sp,
                     "curve_public", e->pub.curve_public);
}

static int list_json(const ldk_roster *r)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < r->count; i++)
        if (json_array_append_new(arr, entry_json(&r->entries[i])) != 0) {
            json_decref(arr);
            return tool_fail("cannot build the JSON output");
        }
    json_t *root = json_pack("{s:o}", "roster", arr);
    char *text = root != NULL ? json_dumps(root, JSON_INDENT(2)) : NULL;
    json_decref(root);
    if (text == NULL)
        return tool_fail("cannot build the JSON output");
    puts(text);
    free(text);
    return 0;
}

static int cmd_list(int argc, char **argv)
{
    const char *roster = NULL;
    int json = 0;
    int rc = parse_opts("roster list", list_help, argc, argv, &roster, NULL, NULL, &json);
    if (rc >= 0)
        return rc;
    char err[LDK_ERR_MAX];
    ldk_roster *r;
    if (ldk_roster_load(roster, &r, err, sizeof err) != LD_OK)
        return tool_fail("%s", err);
    if (json) {
        rc = list_json(r);
    } else {
        init_locale();
        list_table(r);
        rc = 0;
    }
    ldk_roster_destroy(&r);
    if (rc == 0 && (fflush(stdout) != 0 || ferror(stdout)))
        rc = tool_fail("cannot write the list to standard output");
    return rc;
}

int tool_roster(int argc, char **argv)
{
    if (argc < 2)
        return tool_usage("roster", "missing subcommand add, revoke or list");
    const char *sub = argv[1];
    if (strcmp(sub, "-h") == 0 || strcmp(sub, "--help") == 0) {
        fputs(roster_help, stdout);
        return 0;
    }
    if (strcmp(sub, "add") == 0)
        return cmd_add(argc - 1, argv + 1);
    if (strcmp(sub, "revoke") == 0)
        return cmd_revoke(argc - 1, argv + 1);
    if (strcmp(sub, "list") == 0)
        return cmd_list(argc - 1, argv + 1);
    return tool_usage("roster", "unknown subcommand '%s' (use add, revoke or list)", sub);
}
