/*
 * bench/openapi_build.c: how long the OpenAPI document of a schema takes to
 * build, apart from HTTP (bench/run's O rows; issue 14, point 7). Reflects
 * the schemas once over libpq as the module does, then builds the document
 * of a Location serving them with every method open, N times, and prints
 * the median and the largest build time.
 *
 *   openapi_build CONNINFO SCHEMA[,SCHEMA...] [N]
 *   -> relations=R functions=F bytes=B reflect_ms=X build_ms_median=Y build_ms_max=Z
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_strings.h>
#include <apr_time.h>
#include <libpq-fe.h>

#include "ar_openapi.h"

static int by_value(const void *a, const void *b)
{
    apr_interval_time_t x = *(const apr_interval_time_t *)a, y = *(const apr_interval_time_t *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    apr_pool_t *pool, *each;
    apr_array_header_t *schemas;
    ar_schema *s;
    ar_exposure x;
    ar_openapi_options o;
    ar_error *err;
    PGconn *conn;
    apr_interval_time_t *took;
    apr_time_t t0;
    apr_size_t len = 0;
    char *list, *name, *state = NULL;
    int i, n = argc > 3 ? atoi(argv[3]) : 20;

    if (argc < 3 || n < 1) {
        fprintf(stderr, "usage: %s CONNINFO SCHEMA[,SCHEMA...] [N]\n", argv[0]);
        return 2;
    }
    apr_initialize();
    apr_pool_create(&pool, NULL);
    conn = PQconnectdb(argv[1]);
    if (PQstatus(conn) != CONNECTION_OK) {
        fprintf(stderr, "connect: %s", PQerrorMessage(conn));
        return 1;
    }
    schemas = apr_array_make(pool, 2, sizeof(const char *));
    list = apr_pstrdup(pool, argv[2]);
    for (name = apr_strtok(list, ",", &state); name; name = apr_strtok(NULL, ",", &state))
        APR_ARRAY_PUSH(schemas, const char *) = name;

    t0 = apr_time_now();
    if ((err = ar_reflect_load(conn, pool, schemas, 0, &s)) != NULL) {
        fprintf(stderr, "reflect: %s\n", err->log ? err->log : err->message);
        return 1;
    }
    printf("relations=%d functions=%d ", s->relations->nelts, s->routines ? s->routines->nelts : 0);
    printf("reflect_ms=%.1f ", (double)(apr_time_now() - t0) / 1000.0);

    memset(&x, 0, sizeof(x));
    x.schemas = schemas;
    memset(&o, 0, sizeof(o));
    o.base_url = "/api";
    o.methods = AR_METHOD_GET | AR_METHOD_POST | AR_METHOD_PATCH | AR_METHOD_PUT | AR_METHOD_DELETE;
    o.rpc = AR_RPC_ALL;
    took = apr_pcalloc(pool, sizeof(*took) * n);
    for (i = 0; i < n; i++) {
        apr_pool_create(&each, pool);
        t0 = apr_time_now();
        if (!ar_openapi_document(each, s, &x, &o, &len)) {
            fprintf(stderr, "out of memory\n");
            return 1;
        }
        took[i] = apr_time_now() - t0;
        apr_pool_destroy(each);
    }
    qsort(took, n, sizeof(*took), by_value);
    printf("bytes=%" APR_SIZE_T_FMT " build_ms_median=%.2f build_ms_max=%.2f\n", len,
           (double)took[n / 2] / 1000.0, (double)took[n - 1] / 1000.0);
    PQfinish(conn);
    apr_pool_destroy(pool);
    apr_terminate();
    return 0;
}
