/* Unit tests: broker configuration file and time parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"

static char path[64];

static void write_config(const char *text)
{
    snprintf(path, sizeof path, "/tmp/ld-config-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
}

static void test_full_config(void **state)
{
    (void)state;
    write_config("# broker\nlisten: tcp://127.0.0.1:7401\ndata_dir: /var/lib/ld\n"
                 "roster: /etc/ld/roster\nkey: /etc/ld/broker.secret\n"
                 "max_message_bytes: 4096\nclock_skew_seconds: 60\nmap_size_mb: 16\n"
                 "batch_max: 8\nsimulated_clock: \"2022-07-01T09:00:00+08:00\"\n"
                 "log_level: debug\nheartbeat_ms: 2500\n");
    ldb_config c;
    ldb_config_init(&c);
    char err[512];
    assert_int_equal(ldb_config_load(&c, path, err, sizeof err), 0);
    assert_string_equal(c.listen, "tcp://127.0.0.1:7401");
    assert_string_equal(c.data_dir, "/var/lib/ld");
    assert_int_equal(c.max_message, 4096);
    assert_int_equal(c.skew_ms, 60000);
    assert_int_equal(c.map_size, 16u << 20);
    assert_int_equal(c.batch_max, 8);
    assert_int_equal(c.simulated, 1);
    assert_int_equal(c.simulated_start_ms, 1656637200000LL);
    assert_int_equal(c.log_level, LDB_LOG_DEBUG);
    assert_int_equal(c.heartbeat_ms, 2500);
    assert_int_equal(ldb_config_check(&c, err, sizeof err), 0);
    ldb_config_clear(&c);
    unlink(path);
}

static void expect_error(const char *text, const char *want)
{
    write_config(text);
    ldb_config c;
    ldb_config_init(&c);
    char err[512] = "";
    assert_int_equal(ldb_config_load(&c, path, err, sizeof err), -1);
    if (!strstr(err, want))
        fail_msg("error '%s' does not contain '%s'", err, want);
    assert_non_null(strstr(err, path)); /* names the file */
    ldb_config_clear(&c);
    unlink(path);
}

static void test_errors_name_file_and_line(void **state)
{
    (void)state;
    expect_error("listen: x\nlisten_port: 5\n", ":2: unknown setting 'listen_port'");
    expect_error("max_message_bytes: 12\n", ":1: max_message_bytes must be");
    expect_error("map_size_mb: lots\n", "map_size_mb must be");
    expect_error("log_level: loud\n", "log_level must be");
    expect_error("heartbeat_ms: 50\n",
                 "heartbeat_ms must be a number from 100 to 600000, not '50'");
    expect_error("simulated_clock: tomorrow\n", "simulated_clock must be");
    expect_error("listen: [a, b]\n", "'listen' must be a single value");
    expect_error("- a\n- b\n", "must be a mapping");
    expect_error("listen: \"unterminated\n", ":");
}

static void test_plugins(void **state)
{
    (void)state;
    write_config("plugins:\n"
                 "  - plans\n"
                 "  - name: escalation\n"
                 "    path: /opt/ld/escalation.so\n"
                 "    config:\n"
                 "      calendar: cn\n"
                 "      names: [市政府督查室, 市工信局]\n"
                 "tick_ms: 250\n"
                 "plugin_dir: /usr/lib/ld\n");
    ldb_config c;
    ldb_config_init(&c);
    char err[512];
    assert_int_equal(ldb_config_load(&c, path, err, sizeof err), 0);
    assert_int_equal(c.n_plugins, 2);
    assert_string_equal(c.plugins[0].name, "plans");
    assert_null(c.plugins[0].path);
    assert_string_equal(c.plugins[0].config_yaml, "");
    assert_string_equal(c.plugins[1].name, "escalation");
    assert_string_equal(c.plugins[1].path, "/opt/ld/escalation.so");
    /* The block reaches the plugin as YAML with the Chinese text intact. */
    assert_non_null(strstr(c.plugins[1].config_yaml, "calendar: cn"));
    assert_non_null(strstr(c.plugins[1].config_yaml, "市政府督查室"));
    assert_non_null(strstr(c.plugins[1].config_yaml, "市工信局"));
    assert_int_equal(c.tick_ms, 250);
    assert_string_equal(c.plugin_dir, "/usr/lib/ld");
    ldb_config_clear(&c);
    unlink(path);
    expect_error("plugins: {name: x}\n", "plugins must be a list");
    expect_error("plugins:\n  - {path: /x.so}\n", "a plugin entry needs a name");
    expect_error("plugins:\n  - {name: x, pth: /x.so}\n", "unknown plugin setting 'pth'");
}

static void test_missing_required(void **state)
{
    (void)state;
    ldb_config c;
    ldb_config_init(&c);
    char err[256];
    assert_int_equal(ldb_config_check(&c, err, sizeof err), -1);
    assert_non_null(strstr(err, "--data-dir"));
    ldb_config_clear(&c);
}

static void test_parse_time(void **state)
{
    (void)state;
    int64_t ms;
    assert_int_equal(ldb_parse_time("2022-07-01", &ms), 0);
    assert_int_equal(ms, 1656633600000LL);
    assert_int_equal(ldb_parse_time("2022-07-01T00:00:00Z", &ms), 0);
    assert_int_equal(ms, 1656633600000LL);
    assert_int_equal(ldb_parse_time("2022-07-01T08:00:00+08:00", &ms), 0);
    assert_int_equal(ms, 1656633600000LL);
    assert_int_equal(ldb_parse_time("2022-06-30T19:00:00-05:00", &ms), 0);
    assert_int_equal(ms, 1656633600000LL);
    assert_int_equal(ldb_parse_time("2022-07-01T25:00:00Z", &ms), -1);
    assert_int_equal(ldb_parse_time("yesterday", &ms), -1);
    assert_int_equal(ldb_parse_time("2022-07-01junk", &ms), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_config), cmocka_unit_test(test_errors_name_file_and_line),
        cmocka_unit_test(test_plugins),     cmocka_unit_test(test_missing_required),
        cmocka_unit_test(test_parse_time),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
