/*
 * mod_autorest_write.h: one write being run, shared by the write runner
 * (mod_autorest_write.c) and Flask-Restless's answers to writes
 * (mod_autorest_restless.c). Glue-internal.
 */
#ifndef MOD_AUTOREST_WRITE_H
#define MOD_AUTOREST_WRITE_H

#include "mod_autorest_glue.h"

typedef struct {
    context *cx;
    const ar_read_request *req;
    ar_write_plan plan;
    int fixed_columns;           /* columns= named them: other keys are ignored */
    int width;                   /* the relation's columns: room in each row */
    apr_pool_t *batch_pool;
    apr_array_header_t *batch;   /* ar_write_row */
    apr_int64_t params;          /* values the batch binds */
    int statements;              /* run so far */
    int explicit_tx;             /* an explicit transaction is (or will be) open */
    apr_int64_t affected;
    response resp;
    int key_offset;              /* where a returned row's key columns start */
    const char **location_key;   /* the first row's key values, for Location */
    int max_affected_applies;    /* Prefer: max-affected with handling=strict, on
                                  * PATCH or DELETE */
    int tells_inserted;          /* rows end with "inserted anew" (merge upserts) */
    int inserted_column;
    apr_int64_t inserted;        /* rows inserted anew, when it tells */
    int batch_needs_sql;         /* a value PostgreSQL must convert (json_populate_record) */
    int copy_open;               /* a COPY FROM STDIN is taking rows */
    int copy_columns;            /* the columns it was started with */
    apr_size_t *slot_len;        /* per column of the plan (its slot): the name's
                                  * length, and whether it is json: looked at
                                  * for every value of a bulk load */
    unsigned char *slot_json;
    int slots_known;             /* columns those arrays describe so far */
    int restless;                /* Flask-Restless 0.17's writes (below) */
    int restless_many;           /* its PATCH or DELETE of the collection */
    const char *restless_q;      /* PATCH of the collection: the body's "q" search */
} write_run;

/* Under AutoRestDialect restless (mod_autorest_restless.c): the request
 * made into the write 0.17 meant, before planning; PATCH of a collection's
 * search from its body, planned once the body is read; 0.17's words for an
 * error; and its answers. */
ar_error *ar_restless_prepare(write_run *w, ar_read_request *req, const char *type);
ar_error *ar_restless_search(write_run *w);
void ar_restless_error(const write_run *w, ar_error *e);
void ar_restless_respond(write_run *w);

#endif
