/*
 * mod_bench_floor: the least any module behind httpd and mod_dbd must do for
 * one read, so that bench/run can say how far mod_autorest is from it.
 *
 * Per request it takes a pooled connection from mod_dbd, runs one prepared
 * statement through libpq (the row's key, when the statement has $1, is the
 * last path segment), reads every value of the result, and answers with the
 * bytes of a file read once per child into memory: the bytes mod_autorest
 * sends for that statement. No parsing, no planning, no encoding. The file is
 * read at the first request, not at start-up, because bench/run writes it from
 * mod_autorest's own answer after httpd has started.
 *
 *     <Location /floor/l4>
 *         SetHandler bench-floor
 *         BenchFloor l4 "SELECT * FROM t WHERE id = $1" /path/to/row.json
 *     </Location>
 *
 * It is a measuring stick, not part of the product: bench/run builds it.
 */
#include <stdlib.h>
#include <string.h>
#include <libpq-fe.h>
#include "httpd.h"
#include "http_config.h"
#include "http_protocol.h"
#include "apr_strings.h"
#include "apr_file_io.h"
#include "apr_dbd.h"
#include "apr_atomic.h"
#include "mod_dbd.h"

module AP_MODULE_DECLARE_DATA bench_floor_module;

typedef struct {
    char *bytes;
    apr_size_t len;
} floor_body;

typedef struct {
    const char *name;           /* the prepared statement's name */
    const char *sql;
    int has_param;
    const char *file;
    void *body;                 /* floor_body *, set once per child */
} floor_conf;

static void *create_dir(apr_pool_t *p, char *dir)
{
    (void)dir;
    return apr_pcalloc(p, sizeof(floor_conf));
}

static const char *set_floor(cmd_parms *cmd, void *mconf, const char *name,
                             const char *sql, const char *file)
{
    floor_conf *c = mconf;

    c->name = apr_pstrcat(cmd->pool, "bench_floor_", name, NULL);
    c->sql = sql;
    c->has_param = strstr(sql, "$1") != NULL;
    c->file = file;
    return NULL;
}

/* The body, read on first use. Threads that race each read it; the first
 * published copy wins and the others free theirs. */
static const floor_body *body_of(floor_conf *c, apr_pool_t *p)
{
    floor_body *b = c->body;
    apr_file_t *f;
    apr_finfo_t fi;

    if (b)
        return b;
    if (apr_file_open(&f, c->file, APR_FOPEN_READ, 0, p) != APR_SUCCESS)
        return NULL;
    if (apr_file_info_get(&fi, APR_FINFO_SIZE, f) != APR_SUCCESS
        || (b = malloc(sizeof(*b))) == NULL
        || (b->bytes = malloc((apr_size_t)fi.size + 1)) == NULL
        || apr_file_read_full(f, b->bytes, (apr_size_t)fi.size, &b->len) != APR_SUCCESS) {
        if (b)
            free(b->bytes);
        free(b);
        apr_file_close(f);
        return NULL;
    }
    apr_file_close(f);
    if (apr_atomic_casptr((volatile void **)&c->body, b, NULL) != NULL) {
        free(b->bytes);
        free(b);
    }
    return c->body;
}

/* A connection remembers in mod_dbd's own map that it has our statement. */
static int prepared_on(ap_dbd_t *dbd, PGconn *pg, const floor_conf *c)
{
    PGresult *res;
    int ok;

    if (apr_hash_get(dbd->prepared, c->name, APR_HASH_KEY_STRING))
        return 1;
    res = PQprepare(pg, c->name, c->sql, 0, NULL);
    ok = PQresultStatus(res) == PGRES_COMMAND_OK;
    PQclear(res);
    if (ok)
        apr_hash_set(dbd->prepared, c->name, APR_HASH_KEY_STRING, (void *)1);
    return ok;
}

static int floor_handler(request_rec *r)
{
    floor_conf *c;
    ap_dbd_t *dbd;
    PGconn *pg;
    PGresult *res;
    const floor_body *body;
    const char *key;
    apr_size_t seen = 0;
    int rows, cols, i, j;

    if (!r->handler || strcmp(r->handler, "bench-floor") != 0)
        return DECLINED;
    c = ap_get_module_config(r->per_dir_config, &bench_floor_module);
    if (!c->sql || (body = body_of(c, r->pool)) == NULL)
        return HTTP_INTERNAL_SERVER_ERROR;
    if ((dbd = ap_dbd_acquire(r)) == NULL)
        return HTTP_SERVICE_UNAVAILABLE;
    pg = apr_dbd_native_handle(dbd->driver, dbd->handle);
    if (!prepared_on(dbd, pg, c))
        return HTTP_INTERNAL_SERVER_ERROR;
    key = strrchr(r->uri, '/');
    key = key ? key + 1 : "";
    res = PQexecPrepared(pg, c->name, c->has_param, c->has_param ? &key : NULL,
                         NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        PQclear(res);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    /* Touch every value, as any encoder must. */
    rows = PQntuples(res);
    cols = PQnfields(res);
    for (i = 0; i < rows; i++)
        for (j = 0; j < cols; j++)
            seen += (apr_size_t)PQgetlength(res, i, j);
    PQclear(res);
    apr_table_setn(r->notes, "bench-floor-bytes", apr_psprintf(r->pool, "%" APR_SIZE_T_FMT, seen));
    if (rows == 0)
        return HTTP_NOT_FOUND;
    ap_set_content_type(r, "application/json");
    ap_set_content_length(r, (apr_off_t)body->len);
    ap_rwrite(body->bytes, (int)body->len, r);
    return OK;
}

static const command_rec floor_cmds[] = {
    AP_INIT_TAKE3("BenchFloor", set_floor, NULL, ACCESS_CONF,
                  "statement name, SQL ($1 = the last path segment), file holding the body to send"),
    {NULL}
};

static void register_hooks(apr_pool_t *p)
{
    (void)p;
    ap_hook_handler(floor_handler, NULL, NULL, APR_HOOK_MIDDLE);
}

AP_DECLARE_MODULE(bench_floor) = {
    STANDARD20_MODULE_STUFF, create_dir, NULL, NULL, NULL, floor_cmds, register_hooks, 0
};
