/*
 * ar_openapi.h: the OpenAPI 3.1 document of what one Location serves to one
 * caller, built from a schema snapshot (openapi.c, pure: no httpd, no libpq).
 */
#ifndef AR_OPENAPI_H
#define AR_OPENAPI_H

#include "autorest.h"
#include "ar_call.h"

/* How the Location authenticates, as OpenAPI's securitySchemes name it. */
typedef enum { AR_AUTH_NONE = 0, AR_AUTH_BASIC, AR_AUTH_BEARER } ar_auth_scheme;

typedef struct {
    const char *base_url;   /* the Location's path: servers[0].url */
    const char *title;      /* info.title */
    int methods;            /* AutoRestMethods bits */
    ar_rpc_mode rpc;        /* AutoRestRPC */
    ar_auth_scheme auth;
    /* The caller's own privileges where requests switch roles:
     * "schema.relation" -> int AR_CAN_* bits; NULL: each relation's
     * writable (the connecting role's). A relation absent from a non-NULL
     * hash is written to by nobody here. */
    apr_hash_t *writable;
} ar_openapi_options;

/* The document as compact JSON text in p, or NULL when out of memory. Only
 * what x exposes: excluded relations and functions and hidden columns are
 * not named anywhere in it. */
char *ar_openapi_document(apr_pool_t *p, const ar_schema *s, const ar_exposure *x,
                          const ar_openapi_options *o, apr_size_t *len);

/* The JSON Schema of a PostgreSQL type as format_type() prints it ("integer",
 * "character varying(20)", "text[]"); labels: an enum's, or NULL. A new
 * reference the caller owns. */
struct json_t;
struct json_t *ar_openapi_type_schema(const char *type, const apr_array_header_t *labels);


#endif
