/* config.h - broker configuration: defaults, YAML file, command line. */
#ifndef LDB_CONFIG_H
#define LDB_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "log.h"

#define LDB_DEFAULT_LISTEN "tcp://127.0.0.1:7400"
#define LDB_DEFAULT_MAX_MESSAGE (1024 * 1024)
#define LDB_DEFAULT_SKEW_S 300
#define LDB_DEFAULT_MAP_MB 1024
#define LDB_DEFAULT_BATCH 256
#define LDB_DEFAULT_TICK_MS 1000
#define LDB_DEFAULT_DEDUP_DAYS 30
#define LDB_DEFAULT_HEARTBEAT_MS 10000
#define LDB_HEARTBEAT_MIN_MS 100
#define LDB_HEARTBEAT_MAX_MS 600000

/* One plugin to load. */
typedef struct ldb_plugin_conf {
    char *name;        /* as configured */
    char *path;        /* shared object; NULL: <plugin_dir>/<name>.so */
    char *config_yaml; /* the plugin's config block as a YAML document, or "" */
} ldb_plugin_conf;

typedef struct ldb_config {
    char *listen;               /* ZeroMQ endpoint to bind */
    char *data_dir;             /* LMDB environment directory */
    char *roster;               /* roster file */
    char *key;                  /* broker .secret file */
    char *ready_file;           /* written with the bound endpoint once serving */
    size_t max_message;         /* bytes; larger frames get TOO_LARGE */
    int64_t skew_ms;            /* allowed |sent_at - now| */
    size_t map_size;            /* LMDB map size, bytes */
    int simulated;              /* 1: business clock moves only on ClockAdvance */
    int64_t simulated_start_ms; /* start of the simulated clock (first run only) */
    unsigned batch_max;         /* messages per write transaction at most */
    unsigned verify_threads;    /* threads verifying and sealing; 0: one per core */
    unsigned tick_ms;           /* plugin on_tick period */
    unsigned dedup_days;        /* forget accepted envelope ids after; 0: never */
    unsigned heartbeat_ms;      /* ping connections; probe silent ones with deliveries out */
    char *plugin_dir;           /* where plugins named without a path are */
    ldb_plugin_conf *plugins;
    size_t n_plugins;
    enum ldb_log_level log_level;
} ldb_config;

/* Defaults (heap strings). */
void ldb_config_init(ldb_config *c);
void ldb_config_clear(ldb_config *c);

/* Add a plugin to load (e.g. from --plugin PATH). Returns 0 or -1. */
int ldb_config_add_plugin(ldb_config *c, const char *name, const char *path,
                          const char *config_yaml);

/* Read a YAML config file over the current values. Returns 0, or -1 with a
 * sentence in err naming the file, line and cause. */
int ldb_config_load(ldb_config *c, const char *path, char *err, size_t errlen);

/* Check that everything needed is set. Returns 0 or -1 with a sentence. */
int ldb_config_check(const ldb_config *c, char *err, size_t errlen);

/* Parse "2022-07-01", "2022-07-01T09:00:00Z", "2022-07-01T09:00:00+08:00"
 * into Unix ms. Returns 0 or -1. */
int ldb_parse_time(const char *s, int64_t *ms);

#endif
