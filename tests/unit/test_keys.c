/* Unit tests: key files, roles, ids, UTF-8, times and the roster (ld_keys). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "ldk/keys.h"
#include "liandong/error.h"

#define GXJ_NAME "牡丹江市工业和信息化局"

static char tmpdir[64];

/* ---- helpers --------------------------------------------------------------- */

static int setup(void **state)
{
    (void)state;
    if (sodium_init() < 0)
        return -1;
    strcpy(tmpdir, "/tmp/ldk-test-XXXXXX");
    return mkdtemp(tmpdir) != NULL ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static char *path_of(const char *name)
{
    static char buf[4][256];
    static int next;
    char *p = buf[next++ % 4];
    snprintf(p, sizeof buf[0], "%s/%s", tmpdir, name);
    return p;
}

static void write_text(const char *path, const char *text, mode_t mode)
{
    unlink(path);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(path, mode), 0);
}

/* Whole file as a malloc'd string. */
static char *read_text(const char *path)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char *buf = calloc(1, 65536);
    assert_non_null(buf);
    size_t n = fread(buf, 1, 65535, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static ldk_identity *gen(const char *id, const char *name, unsigned roles)
{
    ldk_identity *ident = NULL;
    char err[LDK_ERR_MAX] = "";
    int rc = ldk_identity_generate(id, name, roles, &ident, err, sizeof err);
    if (rc != LD_OK)
        fail_msg("generate %s: %s", id, err);
    return ident;
}

static void b64(char *out, size_t outlen, const uint8_t *bin, size_t len)
{
    sodium_bin2base64(out, outlen, bin, len, sodium_base64_VARIANT_ORIGINAL);
}

/* Expect loading path to fail with code and a message containing each of
 * the NULL-terminated substrings. */
static void expect_load_error(const char *path, int code, ...)
{
    ldk_identity *ident = (ldk_identity *)1;
    char err[LDK_ERR_MAX] = "";
    int rc = ldk_identity_load(path, &ident, err, sizeof err);
    if (rc != code)
        fail_msg("%s: expected %s, got %s (%s)", path, ld_strerror(code), ld_strerror(rc), err);
    assert_null(ident);
    va_list ap;
    va_start(ap, code);
    for (const char *s = va_arg(ap, const char *); s != NULL; s = va_arg(ap, const char *))
        if (strstr(err, s) == NULL)
            fail_msg("message \"%s\" lacks \"%s\"", err, s);
    va_end(ap);
}

/* ---- key files ---------------------------------------------------------- */

static void test_generate_save_load_roundtrip(void **state)
{
    (void)state;
    ldk_identity *g = gen("mdj.gxj", GXJ_NAME, LDK_ROLE_DEPARTMENT | LDK_ROLE_COORDINATOR);
    assert_non_null(g->sign_secret);
    assert_non_null(g->curve_secret);

    /* key_id is hex of BLAKE2b-64 of sign_public. */
    uint8_t h[8];
    char hex[17];
    crypto_generichash(h, sizeof h, g->sign_public, sizeof g->sign_public, NULL, 0);
    sodium_bin2hex(hex, sizeof hex, h, sizeof h);
    assert_string_equal(g->key_id, hex);

    char err[LDK_ERR_MAX] = "";
    mode_t old = umask(0); /* the modes must not depend on the umask */
    int rc1 = ldk_identity_save_secret(g, path_of("gxj.secret"), err, sizeof err);
    umask(077);
    int rc2 = ldk_identity_save_public(g, path_of("gxj.pub"), err, sizeof err);
    umask(old);
    assert_int_equal(rc1, LD_OK);
    assert_int_equal(rc2, LD_OK);
    struct stat st;
    assert_int_equal(stat(path_of("gxj.secret"), &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    assert_int_equal(stat(path_of("gxj.pub"), &st), 0);
    assert_int_equal(st.st_mode & 07777, 0644);

    ldk_identity *s = NULL;
    assert_int_equal(ldk_identity_load_secret(path_of("gxj.secret"), &s, err, sizeof err), LD_OK);
    assert_string_equal(s->id, "mdj.gxj");
    assert_int_equal(strlen(s->name), strlen(GXJ_NAME));
    assert_memory_equal(s->name, GXJ_NAME, strlen(GXJ_NAME) + 1);
    assert_int_equal(s->roles, LDK_ROLE_DEPARTMENT | LDK_ROLE_COORDINATOR);
    assert_string_equal(s->key_id, g->key_id);
    assert_memory_equal(s->sign_public, g->sign_public, LDK_SIGN_PUBLIC_BYTES);
    assert_string_equal(s->curve_public, g->curve_public);
    assert_non_null(s->sign_secret);
    assert_memory_equal(s->sign_secret, g->sign_secret, LDK_SIGN_SECRET_BYTES);
    assert_string_equal(s->curve_secret, g->curve_secret);

    ldk_identity *p = NULL;
    assert_int_equal(ldk_identity_load(path_of("gxj.pub"), &p, err, sizeof err), LD_OK);
    assert_null(p->sign_secret);
    assert_null(p->curve_secret);
    assert_memory_equal(p->name, GXJ_NAME, strlen(GXJ_NAME) + 1);
    assert_string_equal(p->key_id, g->key_id);
    assert_string_equal(p->curve_public, g->curve_public);

    /* A loaded secret key still signs for its public key. */
    uint8_t sig[crypto_sign_BYTES];
    crypto_sign_detached(sig, NULL, (const uint8_t *)"x", 1, s->sign_secret);
    assert_int_equal(crypto_sign_verify_detached(sig, (const uint8_t *)"x", 1, p->sign_public), 0);

    /* The name is in the file as the same UTF-8 bytes. */
    char *text = read_text(path_of("gxj.pub"));
    assert_non_null(strstr(text, "\nname = " GXJ_NAME "\n"));
    free(text);

    ldk_identity_destroy(&g);
    ldk_identity_destroy(&s);
    ldk_identity_destroy(&p);
    assert_null(g);
    ldk_identity_destroy(&g); /* NULL is fine */
    ldk_identity_destroy(NULL);
}

static void test_pub_has_no_secrets(void **state)
{
    (void)state;
    ldk_identity *g = gen("mdj.pub", "Public", LDK_ROLE_AUDITOR);
    char err[LDK_ERR_MAX];
    assert_int_equal(ldk_identity_save_public(g, path_of("p.pub"), err, sizeof err), LD_OK);
    assert_int_equal(ldk_identity_save_secret(g, path_of("p.secret"), err, sizeof err), LD_OK);

    char secret_b64[LDK_SIGN_SECRET_BYTES * 2];
    b64(secret_b64, sizeof secret_b64, g->sign_secret, LDK_SIGN_SECRET_BYTES);
    char *pub = read_text(path_of("p.pub"));
    assert_null(strstr(pub, "secret ="));
    assert_null(strstr(pub, "sign_secret"));
    assert_null(strstr(pub, "curve_secret"));
    assert_null(strstr(pub, secret_b64));
    assert_null(strstr(pub, g->curve_secret));
    assert_non_null(strstr(pub, g->curve_public));
    assert_true(pub[0] == '#'); /* starts with a comment saying what it is */
    free(pub);

    char *sec = read_text(path_of("p.secret"));
    assert_non_null(strstr(sec, secret_b64));
    assert_non_null(strstr(sec, g->curve_secret));
    free(sec);

    /* A .pub is not a secret file. */
    ldk_identity *x = NULL;
    assert_int_equal(ldk_identity_load_secret(path_of("p.pub"), &x, err, sizeof err),
                     LD_ERR_FORMAT);
    assert_null(x);
    assert_non_null(strstr(err, "not a secret key file"));

    /* Saving a secret file needs secrets. */
    assert_int_equal(ldk_identity_load(path_of("p.pub"), &x, err, sizeof err), LD_OK);
    assert_int_equal(ldk_identity_save_secret(x, path_of("p2.secret"), err, sizeof err),
                     LD_ERR_INVALID);
    assert_int_equal(access(path_of("p2.secret"), F_OK), -1);
    ldk_identity_destroy(&x);
    ldk_identity_destroy(&g);
}

static void test_save_refuses_existing(void **state)
{
    (void)state;
    ldk_identity *a = gen("mdj.a", "A", LDK_ROLE_DEPARTMENT);
    ldk_identity *b = gen("mdj.b", "B", LDK_ROLE_DEPARTMENT);
    char err[LDK_ERR_MAX];
    assert_int_equal(ldk_identity_save_secret(a, path_of("x.secret"), err, sizeof err), LD_OK);
    char *before = read_text(path_of("x.secret"));
    assert_int_equal(ldk_identity_save_secret(b, path_of("x.secret"), err, sizeof err),
                     LD_ERR_EXISTS);
    assert_int_equal(ldk_identity_save_public(b, path_of("x.secret"), err, sizeof err),
                     LD_ERR_EXISTS);
    char *after = read_text(path_of("x.secret"));
    assert_string_equal(before, after);
    free(before);
    free(after);
    ldk_identity_destroy(&a);
    ldk_identity_destroy(&b);
}

static void test_secret_mode(void **state)
{
    (void)state;
    ldk_identity *g = gen("mdj.mode", "Mode", LDK_ROLE_DEPARTMENT);
    char err[LDK_ERR_MAX];
    const char *sec = path_of("mode.secret");
    assert_int_equal(ldk_identity_save_secret(g, sec, err, sizeof err), LD_OK);

    assert_int_equal(chmod(sec, 0644), 0);
    expect_load_error(sec, LD_ERR_PERMISSION, sec, "mode 0644", "chmod 600", NULL);
    ldk_identity *x = (ldk_identity *)1;
    assert_int_equal(ldk_identity_load_secret(sec, &x, err, sizeof err), LD_ERR_PERMISSION);
    assert_null(x);
    assert_int_equal(chmod(sec, 0640), 0);
    expect_load_error(sec, LD_ERR_PERMISSION, "mode 0640", NULL);
    assert_int_equal(chmod(sec, 0604), 0);
    expect_load_error(sec, LD_ERR_PERMISSION, "mode 0604", NULL);
    assert_int_equal(chmod(sec, 0610), 0);
    expect_load_error(sec, LD_ERR_PERMISSION, "mode 0610", NULL);

    assert_int_equal(chmod(sec, 0600), 0);
    assert_int_equal(ldk_identity_load_secret(sec, &x, err, sizeof err), LD_OK);
    ldk_identity_destroy(&x);
    assert_int_equal(chmod(sec, 0400), 0);
    assert_int_equal(ldk_identity_load(sec, &x, err, sizeof err), LD_OK);
    assert_non_null(x->sign_secret);
    ldk_identity_destroy(&x);

    /* The mode is checked before the content: a broken secret file that
     * others can read is still a permission error. */
    write_text(path_of("bad.secret"), "sign_secret = nonsense\n", 0644);
    expect_load_error(path_of("bad.secret"), LD_ERR_PERMISSION, NULL);

    /* A public file may be world-readable. */
    assert_int_equal(ldk_identity_save_public(g, path_of("mode.pub"), err, sizeof err), LD_OK);
    assert_int_equal(ldk_identity_load(path_of("mode.pub"), &x, err, sizeof err), LD_OK);
    ldk_identity_destroy(&x);
    ldk_identity_destroy(&g);
}

/* The text of a valid secret file for mdj.t, one field per line:
 * line 1 comment, 2 id, 3 name, 4 roles, 5 key_id, 6 sign_public,
 * 7 curve_public, 8 sign_secret, 9 curve_secret. Fields can be overridden. */
struct fields {
    const char *id, *name, *roles, *key_id, *sign_public, *curve_public, *sign_secret,
        *curve_secret, *extra;
};

static ldk_identity *base_ident;
static char base_sp[64], base_ss[128];

static void compose(char *out, size_t len, const struct fields *o)
{
    if (base_ident == NULL) {
        base_ident = gen("mdj.t", "测试", LDK_ROLE_DEPARTMENT);
        b64(base_sp, sizeof base_sp, base_ident->sign_public, LDK_SIGN_PUBLIC_BYTES);
        b64(base_ss, sizeof base_ss, base_ident->sign_secret, LDK_SIGN_SECRET_BYTES);
    }
#define F(name, dflt) (o->name ? o->name : (dflt))
    char lines[9][256];
    snprintf(lines[0], sizeof lines[0], "# test key file");
    snprintf(lines[1], sizeof lines[1], "id = %s", F(id, "mdj.t"));
    snprintf(lines[2], sizeof lines[2], "name = %s", F(name, "测试"));
    snprintf(lines[3], sizeof lines[3], "roles = %s", F(roles, "department"));
    snprintf(lines[4], sizeof lines[4], "key_id = %s", F(key_id, base_ident->key_id));
    snprintf(lines[5], sizeof lines[5], "sign_public = %s", F(sign_public, base_sp));
    snprintf(lines[6], sizeof lines[6], "curve_public = %s",
             F(curve_public, base_ident->curve_public));
    snprintf(lines[7], sizeof lines[7], "sign_secret = %s", F(sign_secret, base_ss));
    snprintf(lines[8], sizeof lines[8], "curve_secret = %s",
             F(curve_secret, base_ident->curve_secret));
#undef F
    out[0] = '\0';
    for (int i = 0; i < 9; i++) {
        if (strcmp(lines[i] + strlen(lines[i]) - 5, "= DEL") == 0)
            continue; /* "DEL" drops the line */
        strncat(out, lines[i], len - strlen(out) - 1);
        strncat(out, "\n", len - strlen(out) - 1);
    }
    if (o->extra)
        strncat(out, o->extra, len - strlen(out) - 1);
}

static void expect_fields_error(const struct fields *o, int code, const char *where,
                                const char *what)
{
    char text[4096];
    compose(text, sizeof text, o);
    const char *p = path_of("case.secret");
    write_text(p, text, 0600);
    char loc[300];
    snprintf(loc, sizeof loc, "%s%s", p, where);
    expect_load_error(p, code, loc, what, NULL);
}

static void test_compose_is_valid(void **state)
{
    (void)state;
    char text[4096], err[LDK_ERR_MAX] = "";
    struct fields o = {0};
    compose(text, sizeof text, &o);
    write_text(path_of("ok.secret"), text, 0600);
    ldk_identity *x = NULL;
    assert_int_equal(ldk_identity_load(path_of("ok.secret"), &x, err, sizeof err), LD_OK);
    assert_string_equal(x->name, "测试");
    ldk_identity_destroy(&x);

    /* CRLF line ends, a byte order mark, blank lines, indented comments and
     * extra blanks around keys and values are fine. */
    char crlf[8192] = "\xEF\xBB\xBF";
    size_t n = strlen(crlf);
    for (const char *s = text; *s; s++) {
        if (*s == '\n')
            crlf[n++] = '\r';
        crlf[n++] = *s;
    }
    strcpy(crlf + n, "\r\n   \r\n\t# indented comment\r\n");
    write_text(path_of("crlf.secret"), crlf, 0600);
    assert_int_equal(ldk_identity_load(path_of("crlf.secret"), &x, err, sizeof err), LD_OK);
    assert_string_equal(x->name, "测试");
    assert_string_equal(x->curve_secret, base_ident->curve_secret);
    ldk_identity_destroy(&x);
    o.id = "mdj.t  \t";
    o.name = "  测试";
    compose(text, sizeof text, &o);
    write_text(path_of("blank.secret"), text, 0600);
    assert_int_equal(ldk_identity_load(path_of("blank.secret"), &x, err, sizeof err), LD_OK);
    assert_string_equal(x->id, "mdj.t");
    assert_string_equal(x->name, "测试");
    ldk_identity_destroy(&x);
}

static void test_malformed_key_files(void **state)
{
    (void)state;
    ldk_identity *other = gen("mdj.other", "Other", LDK_ROLE_DEPARTMENT);
    char other_ss[128], other_sp[64], short_b64[64], bad_seed[128];
    b64(other_ss, sizeof other_ss, other->sign_secret, LDK_SIGN_SECRET_BYTES);
    b64(other_sp, sizeof other_sp, other->sign_public, LDK_SIGN_PUBLIC_BYTES);
    b64(short_b64, sizeof short_b64, other->sign_public, 31);
    struct fields base = {0};
    char text[4096];
    compose(text, sizeof text, &base); /* creates base_ident */
    /* Damage the seed half of the secret key only; its public half still
     * equals sign_public. */
    uint8_t sk[LDK_SIGN_SECRET_BYTES];
    memcpy(sk, base_ident->sign_secret, sizeof sk);
    sk[3] ^= 1;
    b64(bad_seed, sizeof bad_seed, sk, sizeof sk);
    /* Non-canonical base64: stray low bits in the last character. */
    static const char alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char stray[64];
    strcpy(stray, base_sp);
    stray[42] = alpha[(strchr(alpha, stray[42]) - alpha) ^ 1];

    struct {
        struct fields o;
        int code;
        const char *where, *what;
    } cases[] = {
        {{.roles = "department\ncolour = red"}, LD_ERR_FORMAT, ":5:", "unknown key \"colour\""},
        {{.extra = "just some words\n"}, LD_ERR_FORMAT, ":10:", "expected `key = value`"},
        {{.extra = "[key]\n"}, LD_ERR_FORMAT, ":10:", "section"},
        {{.extra = "id = mdj.t\n"}, LD_ERR_FORMAT, ":10:", "duplicate id"},
        {{.curve_public = "DEL"}, LD_ERR_FORMAT, ": missing field curve_public", ""},
        {{.name = "DEL"}, LD_ERR_FORMAT, ": missing field name", ""},
        {{.key_id = "DEL"}, LD_ERR_FORMAT, ": missing field key_id", ""},
        {{.id = "Mdj.T"}, LD_ERR_FORMAT, ":2:", "invalid id"},
        {{.name = "\xc0\xaf"}, LD_ERR_FORMAT, ":3:", "UTF-8"},
        {{.name = "\xed\xa0\x80"}, LD_ERR_FORMAT, ":3:", "UTF-8"},
        {{.name = "a\x01z"}, LD_ERR_FORMAT, ":3:", "control"},
        {{.name = "牡丹江\xe5\xb8"}, LD_ERR_FORMAT, ":3:", "UTF-8"},
        {{.roles = "department,boss"}, LD_ERR_FORMAT, ":4:", "unknown role \"boss\""},
        {{.sign_public = "not*base64!"}, LD_ERR_FORMAT, ":6:", "sign_public"},
        {{.sign_public = short_b64}, LD_ERR_FORMAT, ":6:", "sign_public"},
        {{.sign_public = stray}, LD_ERR_FORMAT, ":6:", "sign_public"},
        {{.key_id = "0000000000000000"}, LD_ERR_FORMAT, ":5:", "key_id does not match"},
        {{.sign_public = other_sp}, LD_ERR_FORMAT, ":5:", "key_id does not match"},
        {{.curve_public = "short"}, LD_ERR_FORMAT, ":7:", "curve_public"},
        {{.sign_secret = "AAAA"}, LD_ERR_FORMAT, ":8:", "sign_secret"},
        {{.sign_secret = other_ss}, LD_ERR_FORMAT, ":8:", "sign_secret does not match"},
        {{.sign_secret = bad_seed}, LD_ERR_FORMAT, ":8:", "sign_secret does not match"},
        {{.curve_secret = other->curve_secret},
         LD_ERR_FORMAT,
         ":9:",
         "curve_secret does not match"},
        {{.curve_secret = "~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~"},
         LD_ERR_FORMAT,
         ":9:",
         "curve_secret"},
        {{.curve_secret = "DEL"}, LD_ERR_FORMAT, ": has sign_secret but no curve_secret", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        expect_fields_error(&cases[i].o, cases[i].code, cases[i].where, cases[i].what);

    /* Messages never carry secrets. */
    struct fields o = {.sign_secret = other_ss};
    compose(text, sizeof text, &o);
    write_text(path_of("leak.secret"), text, 0600);
    ldk_identity *x;
    char err[LDK_ERR_MAX];
    assert_int_equal(ldk_identity_load(path_of("leak.secret"), &x, err, sizeof err), LD_ERR_FORMAT);
    assert_null(strstr(err, other_ss));
    assert_null(strstr(err, base_ss));

    /* A NUL byte in the file. */
    FILE *f = fopen(path_of("nul.pub"), "w");
    assert_non_null(f);
    fwrite("id = a\0b\n", 1, 9, f);
    fclose(f);
    expect_load_error(path_of("nul.pub"), LD_ERR_FORMAT, ":1:", "NUL", NULL);

    /* Missing file. */
    expect_load_error(path_of("absent.pub"), LD_ERR_NOT_FOUND, "absent.pub", NULL);

    sodium_memzero(sk, sizeof sk);
    ldk_identity_destroy(&other);
}

static void test_generate_rejects(void **state)
{
    (void)state;
    ldk_identity *x = (ldk_identity *)1;
    char err[LDK_ERR_MAX] = "";
    assert_int_equal(ldk_identity_generate("Bad", "n", 0, &x, err, sizeof err), LD_ERR_INVALID);
    assert_null(x);
    assert_non_null(strstr(err, "invalid id"));
    assert_int_equal(ldk_identity_generate("ok", "a\nb", 0, &x, err, sizeof err), LD_ERR_INVALID);
    assert_int_equal(ldk_identity_generate("ok", "\xff", 0, &x, err, sizeof err), LD_ERR_INVALID);
    assert_int_equal(ldk_identity_generate("ok", " lead", 0, &x, err, sizeof err), LD_ERR_INVALID);
    assert_int_equal(ldk_identity_generate("ok", "n", 1u << 7, &x, err, sizeof err),
                     LD_ERR_INVALID);
    char longname[LDK_NAME_MAX + 2];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    assert_int_equal(ldk_identity_generate("ok", longname, 0, &x, err, sizeof err), LD_ERR_INVALID);
    longname[LDK_NAME_MAX] = '\0';
    assert_int_equal(ldk_identity_generate("ok", longname, 0, &x, err, sizeof err), LD_OK);
    ldk_identity_destroy(&x);
    /* An empty name and no roles are allowed (the broker has none). */
    assert_int_equal(ldk_identity_generate("broker", "", 0, &x, err, sizeof err), LD_OK);
    assert_int_equal(ldk_identity_save_public(x, path_of("broker.pub"), err, sizeof err), LD_OK);
    ldk_identity *y = NULL;
    assert_int_equal(ldk_identity_load(path_of("broker.pub"), &y, err, sizeof err), LD_OK);
    assert_string_equal(y->name, "");
    assert_int_equal(y->roles, 0);
    ldk_identity_destroy(&x);
    ldk_identity_destroy(&y);
}

/* ---- roles, ids, UTF-8, times -------------------------------------------- */

static void test_roles(void **state)
{
    (void)state;
    unsigned m = 99;
    char err[LDK_ERR_MAX] = "", buf[128];
    assert_int_equal(ldk_roles_parse("department,coordinator", &m, err, sizeof err), LD_OK);
    assert_int_equal(m, LDK_ROLE_DEPARTMENT | LDK_ROLE_COORDINATOR);
    assert_int_equal(ldk_roles_parse(" admin , supervision ,auditor", &m, err, sizeof err), LD_OK);
    assert_int_equal(m, LDK_ROLE_ADMIN | LDK_ROLE_SUPERVISION | LDK_ROLE_AUDITOR);
    assert_int_equal(ldk_roles_parse("", &m, err, sizeof err), LD_OK);
    assert_int_equal(m, 0);
    assert_int_equal(ldk_roles_parse("department,boss", &m, err, sizeof err), LD_ERR_INVALID);
    assert_non_null(strstr(err, "boss"));
    assert_int_equal(ldk_roles_parse("Department", &m, err, sizeof err), LD_ERR_INVALID);
    assert_int_equal(ldk_roles_parse("department,,admin", &m, err, sizeof err), LD_ERR_INVALID);
    assert_int_equal(ldk_roles_parse("department,", &m, err, sizeof err), LD_ERR_INVALID);

    ldk_roles_format(LDK_ROLE_ADMIN | LDK_ROLE_DEPARTMENT, buf, sizeof buf);
    assert_string_equal(buf, "department,admin");
    ldk_roles_format(0, buf, sizeof buf);
    assert_string_equal(buf, "");
    unsigned all = LDK_ROLE_DEPARTMENT | LDK_ROLE_COORDINATOR | LDK_ROLE_SUPERVISION |
                   LDK_ROLE_AUDITOR | LDK_ROLE_ADMIN;
    ldk_roles_format(all, buf, sizeof buf);
    assert_string_equal(buf, "department,coordinator,supervision,auditor,admin");
    assert_int_equal(ldk_roles_parse(buf, &m, err, sizeof err), LD_OK);
    assert_int_equal(m, all);
    ldk_roles_format(all, buf, 15); /* too small: whole names only */
    assert_string_equal(buf, "department");
}

static void test_id_valid(void **state)
{
    (void)state;
    char max[LDK_ID_MAX + 2];
    memset(max, 'a', LDK_ID_MAX);
    max[LDK_ID_MAX] = '\0';
    const char *good[] = {"mdj.gxj", "a", "0abc", "a_b-c.d", "broker", "9", max};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        if (!ldk_id_valid(good[i]))
            fail_msg("\"%s\" should be valid", good[i]);
    assert_true(ldk_id_valid(max));
    max[LDK_ID_MAX] = 'a';
    max[LDK_ID_MAX + 1] = '\0';
    const char *bad[] = {"",    ".a",      "-a",   "_a",  "A",   "mdjGxj",
                         "a b", "mdj/gxj", "中文", "a\n", "a:b", max};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (ldk_id_valid(bad[i]))
            fail_msg("\"%s\" should be invalid", bad[i]);
    assert_false(ldk_id_valid(NULL));
}

static void test_utf8_valid(void **state)
{
    (void)state;
    const char *good[] = {
        "",         "abc",          GXJ_NAME,          "市政府督查室（专班）", "\xf0\x9f\x98\x80",
        "\xc2\xa0", "\xef\xbf\xbd", "\xf4\x8f\xbf\xbf"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        if (!ldk_utf8_valid(good[i]))
            fail_msg("good[%zu] rejected", i);
    const char *bad[] = {
        "\xc0\xaf",         /* overlong '/' */
        "\xc1\xbf",         /* overlong */
        "\xe0\x80\xaf",     /* overlong 3-byte */
        "\xf0\x80\x80\xaf", /* overlong 4-byte */
        "\xed\xa0\x80",     /* surrogate U+D800 */
        "\xed\xbf\xbf",     /* surrogate U+DFFF */
        "\xf4\x90\x80\x80", /* above U+10FFFF */
        "\x80",             /* lone continuation */
        "\xe7\x89",         /* truncated */
        "ab\xe7",           /* truncated at the end */
        "\xff",
        "a\x01",
        "tab\there",
        "line\n",
        "del\x7f",
        "\xc2\x85", /* C1 control NEL */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (ldk_utf8_valid(bad[i]))
            fail_msg("bad[%zu] accepted", i);
    assert_false(ldk_utf8_valid(NULL));
}

static void test_times(void **state)
{
    (void)state;
    int64_t t = 0;
    char buf[LDK_TIME_LEN + 1];
    assert_int_equal(ldk_time_parse("2026-11-27T03:32:25Z", &t), LD_OK);
    assert_int_equal(t, 1795750345);
    assert_int_equal(ldk_time_format(t, buf, sizeof buf), LD_OK);
    assert_string_equal(buf, "2026-11-27T03:32:25Z");
    assert_int_equal(ldk_time_parse("2024-02-29T00:00:00Z", &t), LD_OK);
    assert_int_equal(t, 1709164800);
    assert_int_equal(ldk_time_parse("1970-01-01T00:00:00Z", &t), LD_OK);
    assert_int_equal(t, 0);
    assert_int_equal(ldk_time_format(0, buf, sizeof buf), LD_OK);
    assert_string_equal(buf, "1970-01-01T00:00:00Z");
    assert_int_equal(ldk_time_format(0, buf, LDK_TIME_LEN), LD_ERR_INVALID);
    assert_int_equal(ldk_time_format(-1, buf, sizeof buf), LD_ERR_INVALID);
    assert_int_equal(ldk_time_parse("9999-12-31T23:59:59Z", &t), LD_OK);
    assert_int_equal(ldk_time_format(t, buf, sizeof buf), LD_OK);
    assert_string_equal(buf, "9999-12-31T23:59:59Z");
    assert_int_equal(ldk_time_format(t + 1, buf, sizeof buf), LD_ERR_INVALID);
    const char *bad[] = {"2025-02-29T00:00:00Z",
                         "2026-02-30T00:00:00Z",
                         "2026-13-01T00:00:00Z",
                         "2026-11-27 03:32:25Z",
                         "2026-11-27T03:32:25",
                         "2026-11-27T03:32:25+08:00",
                         "2026-11-27T24:00:00Z",
                         "2026-11-27T03:60:00Z",
                         "2026-11-27T03:32:25.5Z",
                         "2026-11-27t03:32:25z",
                         "",
                         "2026-1-27T03:32:25Z",
                         "1969-12-31T23:59:59Z"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (ldk_time_parse(bad[i], &t) != LD_ERR_FORMAT)
            fail_msg("\"%s\" accepted", bad[i]);
}

/* ---- roster -------------------------------------------------------------- */

static void test_roster_ops(void **state)
{
    (void)state;
    ldk_roster *r = NULL;
    char err[LDK_ERR_MAX] = "";
    assert_int_equal(ldk_roster_new(&r), LD_OK);
    ldk_identity *a = gen("mdj.gxj", GXJ_NAME, LDK_ROLE_DEPARTMENT);
    ldk_identity *a2 = gen("mdj.gxj", GXJ_NAME, LDK_ROLE_DEPARTMENT);
    ldk_identity *b = gen("mdj.dcs", "市政府督查室", LDK_ROLE_SUPERVISION);
    ldk_identity *c = gen("mdj.c", "C", LDK_ROLE_DEPARTMENT);

    assert_int_equal(ldk_roster_add(r, a, 100, err, sizeof err), LD_OK);
    assert_int_equal(ldk_roster_add(r, b, 200, err, sizeof err), LD_OK);
    assert_int_equal(r->count, 2);
    assert_null(r->entries[0].pub.sign_secret); /* secrets never enter the roster */
    assert_null(r->entries[0].pub.curve_secret);

    /* Same key again, another key for an id with an active key, a reused
     * CURVE key: all refused. */
    assert_int_equal(ldk_roster_add(r, a, 300, err, sizeof err), LD_ERR_EXISTS);
    assert_int_equal(ldk_roster_add(r, a2, 300, err, sizeof err), LD_ERR_EXISTS);
    assert_non_null(strstr(err, "revoke it first"));
    memcpy(c->curve_public, b->curve_public, sizeof c->curve_public);
    assert_int_equal(ldk_roster_add(r, c, 300, err, sizeof err), LD_ERR_EXISTS);
    assert_int_equal(r->count, 2);

    const ldk_roster_entry *e = ldk_roster_find_active(r, "mdj.gxj");
    assert_non_null(e);
    assert_string_equal(e->pub.key_id, a->key_id);
    assert_int_equal(e->added_at, 100);
    assert_null(ldk_roster_find_active(r, "nobody"));
    assert_ptr_equal(ldk_roster_find_curve_active(r, b->curve_public), &r->entries[1]);

    /* Revoke, then the old key is known but not active. */
    assert_int_equal(ldk_roster_revoke(r, "mdj.gxj", 400, err, sizeof err), LD_OK);
    assert_int_equal(ldk_roster_revoke(r, "mdj.gxj", 401, err, sizeof err), LD_ERR_NOT_FOUND);
    assert_int_equal(ldk_roster_revoke(r, "nobody", 401, err, sizeof err), LD_ERR_NOT_FOUND);
    assert_non_null(strstr(err, "nobody"));
    assert_null(ldk_roster_find_active(r, "mdj.gxj"));
    assert_null(ldk_roster_find_curve_active(r, a->curve_public));
    e = ldk_roster_find_any(r, "mdj.gxj");
    assert_non_null(e);
    assert_true(e->revoked);
    assert_int_equal(e->revoked_at, 400);

    /* Rotation: the new key is added and found; the old one still by key_id. */
    assert_int_equal(ldk_roster_add(r, a2, 500, err, sizeof err), LD_OK);
    assert_int_equal(ldk_roster_add(r, a, 501, err, sizeof err), LD_ERR_EXISTS); /* revoked stays */
    e = ldk_roster_find_active(r, "mdj.gxj");
    assert_non_null(e);
    assert_string_equal(e->pub.key_id, a2->key_id);
    assert_ptr_equal(ldk_roster_find_any(r, "mdj.gxj"), e);
    e = ldk_roster_find_key(r, "mdj.gxj", a->key_id);
    assert_non_null(e);
    assert_true(e->revoked);
    assert_null(ldk_roster_find_key(r, "mdj.dcs", a->key_id));
    assert_non_null(ldk_roster_find_curve_active(r, a2->curve_public));
    assert_null(ldk_roster_find_any(r, "nobody"));

    /* An identity that fails its own checks is refused. */
    ldk_identity bad = *c;
    bad.sign_secret = NULL;
    bad.curve_secret = NULL;
    memcpy(bad.curve_public, a->curve_public, sizeof bad.curve_public);
    bad.key_id[0] = bad.key_id[0] == '0' ? '1' : '0';
    assert_int_equal(ldk_roster_add(r, &bad, 600, err, sizeof err), LD_ERR_INVALID);

    ldk_roster_destroy(&r);
    assert_null(r);
    ldk_roster_destroy(&r);
    ldk_identity_destroy(&a);
    ldk_identity_destroy(&a2);
    ldk_identity_destroy(&b);
    ldk_identity_destroy(&c);
}

static void test_roster_save_load(void **state)
{
    (void)state;
    ldk_roster *r = NULL, *l = NULL;
    char err[LDK_ERR_MAX] = "";
    assert_int_equal(ldk_roster_new(&r), LD_OK);
    ldk_identity *a = gen("mdj.gxj", GXJ_NAME, LDK_ROLE_DEPARTMENT);
    ldk_identity *a2 = gen("mdj.gxj", GXJ_NAME, LDK_ROLE_DEPARTMENT | LDK_ROLE_COORDINATOR);
    ldk_identity *b = gen("broker", "", 0);
    assert_int_equal(ldk_roster_add(r, a, 1795750345, err, sizeof err), LD_OK);
    assert_int_equal(ldk_roster_revoke(r, "mdj.gxj", 1795750400, err, sizeof err), LD_OK);
    assert_int_equal(ldk_roster_add(r, a2, 1795750401, err, sizeof err), LD_OK);
    assert_int_equal(ldk_roster_add(r, b, 1709164800, err, sizeof err), LD_OK);

    const char *path = path_of("roster.conf");
    assert_int_equal(ldk_roster_save(r, path, err, sizeof err), LD_OK);
    char *text = read_text(path);
    assert_non_null(strstr(text, "[key]\nid = mdj.gxj\nname = " GXJ_NAME "\n"));
    assert_non_null(strstr(text, "added_at = 2026-11-27T03:32:25Z\n"));
    assert_non_null(strstr(text, "status = revoked\n"));
    assert_non_null(strstr(text, "revoked_at = 2026-11-27T03:33:20Z\n"));
    assert_null(strstr(text, "secret"));
    free(text);

    assert_int_equal(ldk_roster_load(path, &l, err, sizeof err), LD_OK);
    assert_int_equal(l->count, r->count);
    for (size_t i = 0; i < r->count; i++) {
        const ldk_roster_entry *x = &r->entries[i], *y = &l->entries[i];
        assert_string_equal(x->pub.id, y->pub.id);
        assert_memory_equal(x->pub.name, y->pub.name, strlen(x->pub.name) + 1);
        assert_int_equal(x->pub.roles, y->pub.roles);
        assert_string_equal(x->pub.key_id, y->pub.key_id);
        assert_memory_equal(x->pub.sign_public, y->pub.sign_public, LDK_SIGN_PUBLIC_BYTES);
        assert_string_equal(x->pub.curve_public, y->pub.curve_public);
        assert_int_equal(x->revoked, y->revoked);
        assert_int_equal(x->added_at, y->added_at);
        assert_int_equal(x->revoked_at, y->revoked_at);
        assert_null(y->pub.sign_secret);
    }
    assert_true(l->entries[0].revoked);
    assert_int_equal(l->entries[0].revoked_at, 1795750400);
    assert_false(l->entries[1].revoked);
    assert_int_equal(l->entries[2].added_at, 1709164800);

    /* Saving again replaces the file; no temporary file is left behind. */
    assert_int_equal(ldk_roster_revoke(l, "broker", 1795750500, err, sizeof err), LD_OK);
    assert_int_equal(ldk_roster_save(l, path, err, sizeof err), LD_OK);
    ldk_roster_destroy(&l);
    assert_int_equal(ldk_roster_load(path, &l, err, sizeof err), LD_OK);
    assert_null(ldk_roster_find_active(l, "broker"));
    char cmd[256];
    snprintf(cmd, sizeof cmd, "ls '%s' | grep -q tmp", tmpdir);
    assert_int_not_equal(system(cmd), 0);

    /* An empty roster saves and loads. */
    ldk_roster *empty = NULL, *e2 = NULL;
    assert_int_equal(ldk_roster_new(&empty), LD_OK);
    assert_int_equal(ldk_roster_save(empty, path_of("empty.conf"), err, sizeof err), LD_OK);
    assert_int_equal(ldk_roster_load(path_of("empty.conf"), &e2, err, sizeof err), LD_OK);
    assert_int_equal(e2->count, 0);

    ldk_roster_destroy(&empty);
    ldk_roster_destroy(&e2);
    ldk_roster_destroy(&r);
    ldk_roster_destroy(&l);
    ldk_identity_destroy(&a);
    ldk_identity_destroy(&a2);
    ldk_identity_destroy(&b);
}

static void expect_roster_error(const char *text, int code, const char *where, const char *what)
{
    const char *p = path_of("bad-roster.conf");
    write_text(p, text, 0644);
    ldk_roster *r = (ldk_roster *)1;
    char err[LDK_ERR_MAX] = "";
    int rc = ldk_roster_load(p, &r, err, sizeof err);
    if (rc != code)
        fail_msg("expected %s, got %s (%s) for:\n%s", ld_strerror(code), ld_strerror(rc), err,
                 text);
    assert_null(r);
    char loc[300];
    snprintf(loc, sizeof loc, "%s%s", p, where);
    if (strstr(err, loc) == NULL || strstr(err, what) == NULL)
        fail_msg("message \"%s\" lacks \"%s\" or \"%s\"", err, loc, what);
}

static void test_roster_malformed(void **state)
{
    (void)state;
    ldk_identity *a = gen("mdj.a", "A", LDK_ROLE_DEPARTMENT);
    ldk_identity *a2 = gen("mdj.a", "A", LDK_ROLE_DEPARTMENT);
    char sp[64], sp2[64], block[1024], block2[1024], text[4096];
    b64(sp, sizeof sp, a->sign_public, LDK_SIGN_PUBLIC_BYTES);
    b64(sp2, sizeof sp2, a2->sign_public, LDK_SIGN_PUBLIC_BYTES);
    /* Lines 2..10 of a block starting on line 2 (line 1 is a comment). */
    snprintf(block, sizeof block,
             "[key]\nid = mdj.a\nname = A\nroles = department\nkey_id = %s\n"
             "sign_public = %s\ncurve_public = %s\nstatus = active\n"
             "added_at = 2026-11-27T03:32:25Z\n",
             a->key_id, sp, a->curve_public);
    snprintf(block2, sizeof block2,
             "[key]\nid = mdj.a\nname = A\nroles = department\nkey_id = %s\n"
             "sign_public = %s\ncurve_public = %s\nstatus = active\n"
             "added_at = 2026-11-27T03:32:25Z\n",
             a2->key_id, sp2, a2->curve_public);

    ldk_roster *r = NULL;
    char err[LDK_ERR_MAX] = "";
    snprintf(text, sizeof text, "# roster\n%s", block);
    write_text(path_of("good.conf"), text, 0644);
    assert_int_equal(ldk_roster_load(path_of("good.conf"), &r, err, sizeof err), LD_OK);
    assert_int_equal(r->count, 1);
    ldk_roster_destroy(&r);

    assert_int_equal(ldk_roster_load(path_of("none.conf"), &r, err, sizeof err), LD_ERR_NOT_FOUND);
    assert_null(r);

    expect_roster_error("# roster\nid = mdj.a\n", LD_ERR_FORMAT, ":2:", "before the first [key]");
    snprintf(text, sizeof text, "# roster\n%s[keys]\n", block);
    expect_roster_error(text, LD_ERR_FORMAT, ":11:", "unknown section");
    snprintf(text, sizeof text, "# roster\n%scolour = red\n", block);
    expect_roster_error(text, LD_ERR_FORMAT, ":11:", "unknown key \"colour\"");
    snprintf(text, sizeof text, "# roster\n%srevoked_at = 2026-11-27T03:32:26Z\n", block);
    expect_roster_error(text, LD_ERR_FORMAT, ":11:", "active key has a revoked_at");

    char mod[1024];
    strcpy(mod, block);
    memcpy(strstr(mod, "status = active"), "status = paused", 15);
    snprintf(text, sizeof text, "# roster\n%s", mod);
    expect_roster_error(text, LD_ERR_FORMAT, ":9:", "status");

    /* status = revoked without revoked_at */
    snprintf(text, sizeof text,
             "# roster\n[key]\nid = mdj.a\nname = A\nroles = department\nkey_id = %s\n"
             "sign_public = %s\ncurve_public = %s\nstatus = revoked\n"
             "added_at = 2026-11-27T03:32:25Z\n",
             a->key_id, sp, a->curve_public);
    expect_roster_error(text, LD_ERR_FORMAT, ":2:", "lacks revoked_at");

    strcpy(mod, block);
    memcpy(strstr(mod, "03:32:25Z"), "03:32:25 ", 9);
    snprintf(text, sizeof text, "# roster\n%s", mod);
    expect_roster_error(text, LD_ERR_FORMAT, ":10:", "added_at");

    strcpy(mod, block);
    memcpy(strstr(mod, "key_id = ") + 9, "0000000000000000", 16);
    snprintf(text, sizeof text, "# roster\n%s", mod);
    expect_roster_error(text, LD_ERR_FORMAT, ":6:", "key_id does not match");

    /* A block without status: the message names the [key] line. */
    snprintf(text, sizeof text,
             "# roster\n%s\n[key]\nid = mdj.b\nname = B\nroles = department\nkey_id = %s\n"
             "sign_public = %s\ncurve_public = %s\nadded_at = 2026-11-27T03:32:25Z\n",
             block, a2->key_id, sp2, a2->curve_public);
    expect_roster_error(text, LD_ERR_FORMAT, ":12:", "lacks field status");

    /* The same key twice, and two active keys for one id. */
    snprintf(text, sizeof text, "# roster\n%s\n%s", block, block);
    expect_roster_error(text, LD_ERR_FORMAT, ":12:", "the same key of mdj.a");
    snprintf(text, sizeof text, "# roster\n%s\n%s", block, block2);
    expect_roster_error(text, LD_ERR_FORMAT, ":12:", "a second active key of mdj.a");
    /* Same signing key with another CURVE key, and the reverse. */
    snprintf(text, sizeof text,
             "# roster\n%s\n[key]\nid = mdj.b\nname = B\nroles = department\nkey_id = %s\n"
             "sign_public = %s\ncurve_public = %s\nstatus = active\n"
             "added_at = 2026-11-27T03:32:25Z\n",
             block, a->key_id, sp, a2->curve_public);
    expect_roster_error(text, LD_ERR_FORMAT, ":12:", "the same key of mdj.b");
    snprintf(text, sizeof text,
             "# roster\n%s\n[key]\nid = mdj.b\nname = B\nroles = department\nkey_id = %s\n"
             "sign_public = %s\ncurve_public = %s\nstatus = active\n"
             "added_at = 2026-11-27T03:32:25Z\n",
             block, a2->key_id, sp2, a->curve_public);
    expect_roster_error(text, LD_ERR_FORMAT, ":12:", "the same CURVE key of mdj.b");

    /* ... but a revoked and an active key for one id are fine. */
    snprintf(text, sizeof text,
             "# roster\n[key]\nid = mdj.a\nname = A\nroles = department\nkey_id = %s\n"
             "sign_public = %s\ncurve_public = %s\nstatus = revoked\n"
             "added_at = 2026-11-27T03:32:25Z\nrevoked_at = 2026-11-27T04:00:00Z\n\n%s",
             a->key_id, sp, a->curve_public, block2);
    write_text(path_of("rot.conf"), text, 0644);
    assert_int_equal(ldk_roster_load(path_of("rot.conf"), &r, err, sizeof err), LD_OK);
    assert_int_equal(r->count, 2);
    assert_true(r->entries[0].revoked);
    assert_int_equal(r->entries[0].revoked_at, 1795752000);
    assert_string_equal(ldk_roster_find_active(r, "mdj.a")->pub.key_id, a2->key_id);
    ldk_roster_destroy(&r);

    ldk_identity_destroy(&a);
    ldk_identity_destroy(&a2);
}

static int cleanup_base(void **state)
{
    ldk_identity_destroy(&base_ident);
    return teardown(state);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_generate_save_load_roundtrip),
        cmocka_unit_test(test_pub_has_no_secrets),
        cmocka_unit_test(test_save_refuses_existing),
        cmocka_unit_test(test_secret_mode),
        cmocka_unit_test(test_compose_is_valid),
        cmocka_unit_test(test_malformed_key_files),
        cmocka_unit_test(test_generate_rejects),
        cmocka_unit_test(test_roles),
        cmocka_unit_test(test_id_valid),
        cmocka_unit_test(test_utf8_valid),
        cmocka_unit_test(test_times),
        cmocka_unit_test(test_roster_ops),
        cmocka_unit_test(test_roster_save_load),
        cmocka_unit_test(test_roster_malformed),
    };
    return cmocka_run_group_tests(tests, setup, cleanup_base);
}
