/*
 * reflect_catalogue.h: what reflect.c (relations) and reflect_routine.c
 * (functions) share to read pg_catalog, with the schema's hash key that
 * reflect_rules.c defines. Core-internal: not for the glue.
 */
#ifndef AR_REFLECT_CATALOGUE_H
#define AR_REFLECT_CATALOGUE_H

#include <libpq-fe.h>

#include "autorest.h"

/* A privilege check of the connecting role in a catalogue query, or true in
 * a snapshot for Locations whose requests run as roles of their own
 * (ar_reflect_load's every_privilege): there PostgreSQL checks each
 * request's role as its statement runs, and the snapshot holds everything. */
#define AR_EVERY_PRIVILEGE "autorest.every_privilege"
#define AR_PRIVILEGE(check) \
    "(coalesce(current_setting('" AR_EVERY_PRIVILEGE "', true), '') = 'on' OR " check ")"

/* The schema's hash keys: "schema" NUL "name". */
const char *ar_schema_key(apr_pool_t *p, const char *schema, const char *name,
                          apr_size_t *len);
/* One catalogue query with the schemas (a text[] literal) as $1. */
PGresult *ar_catalogue_query(PGconn *conn, const char *sql, const char *schemas);
ar_error *ar_catalogue_error(apr_pool_t *p, PGconn *conn, PGresult *res);
/* A copy of the value, NULL for SQL NULL. */
const char *ar_catalogue_text(apr_pool_t *p, PGresult *res, int row, int col);

/* The functions and procedures of the schemas the connecting role may
 * execute, into s. types: every type they use (see types_sql);
 * relations_by_oid: the reflected relations by oid (text), for results
 * that are a relation's rows. */
ar_error *ar_reflect_routines(PGconn *conn, ar_schema *s, const char *schemas,
                              apr_hash_t *types, apr_hash_t *relations_by_oid);

#endif
