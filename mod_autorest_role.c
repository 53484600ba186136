/*
 * mod_autorest_role.c: who is asking. Whatever httpd authenticated (Basic
 * against a file or LDAP, a client certificate, mod_auth_openidc's bearer
 * tokens) becomes the PostgreSQL role the request runs as, so that GRANTs
 * and row-level security decide what each caller sees; and the database is
 * told of the request in PostgREST 12's request.* settings, which db.c
 * sends with the role in the statement's own round trip.
 *
 * The role is only ever a bound value (set_config('role', $8, true)); a
 * name PostgreSQL will not let the connecting role become fails the whole
 * request with 403 (db.c), never falls back to the connecting role.
 */
#include <stdlib.h>
#include <string.h>

#include <apr_base64.h>
#include <apr_fnmatch.h>
#include <apr_strings.h>
#include <http_core.h>
#include <http_protocol.h>
#include <http_ssl.h>
#include <jansson.h>

#include "mod_autorest_glue.h"

/* PostgreSQL's NAMEDATALEN - 1: a longer name is no role. */
#define MAX_ROLE_NAME 63

/* What mod_auth_openidc leaves after it verified a bearer token: the token
 * itself (its OAuth 2.0 resource-server mode). */
#define OPENIDC_TOKEN_ENV "OIDC_access_token"

static char *dump_or_empty(apr_pool_t *p, json_t *j)
{
    char *text = json_dumps(j, JSON_COMPACT);
    char *copy = apr_pstrdup(p, text ? text : "{}");

    free(text);
    return copy;
}

/* A JSON object of strings, written as it goes: PostgREST's request.*
 * settings, built for every request (a jansson object and its dump cost
 * more than the rest of a one-row read). A name or value that is not UTF-8
 * is left out, as jansson leaves it out; of a name given twice PostgreSQL
 * takes the last, as a jansson object keeps the last. */
typedef struct {
    ar_out out;
    int members;
} json_text;

static void text_open(apr_pool_t *p, json_text *t)
{
    ar_out_init(&t->out, p, 256, NULL, NULL); /* grows when a client sends more */
    ar_out_write(&t->out, "{", 1);
    t->members = 0;
}

static void text_member(json_text *t, const char *name, apr_size_t name_len,
                        const char *value)
{
    apr_size_t value_len = strlen(value);

    if (!ar_utf8_valid(name, name_len) || !ar_utf8_valid(value, value_len))
        return;
    if (t->members++)
        ar_out_write(&t->out, ",", 1);
    ar_json_write_string(&t->out, name, name_len);
    ar_out_write(&t->out, ":", 1);
    ar_json_write_string(&t->out, value, value_len);
}

static const char *text_close(json_text *t)
{
    ar_out_write(&t->out, "}", 1);
    return apr_pstrmemdup(t->out.pool, t->out.buf, t->out.len);
}

/* request.headers (lower-cased names, the Authorization header left out:
 * it carries secrets) and request.cookies, as JSON objects. */
static void headers_and_cookies(request_rec *r, ar_request_info *out)
{
    const apr_array_header_t *h = apr_table_elts(r->headers_in);
    const char *cookie = apr_table_get(r->headers_in, "Cookie");
    json_text headers, cookies;
    int i;

    text_open(r->pool, &headers);
    for (i = 0; i < h->nelts; i++) {
        const apr_table_entry_t *e = &APR_ARRAY_IDX(h, i, apr_table_entry_t);
        char *name;

        if (!e->key || !e->val || strcasecmp(e->key, "Authorization") == 0)
            continue;
        name = apr_pstrdup(r->pool, e->key);
        ap_str_tolower(name);
        text_member(&headers, name, strlen(name), e->val);
    }
    out->headers = text_close(&headers);
    text_open(r->pool, &cookies);
    if (cookie) {
        char *copy = apr_pstrdup(r->pool, cookie), *state = NULL, *pair;

        for (pair = apr_strtok(copy, ";", &state); pair; pair = apr_strtok(NULL, ";", &state)) {
            char *eq = strchr(pair, '=');
            while (*pair == ' ')
                pair++;
            if (!eq || eq <= pair)
                continue;
            text_member(&cookies, pair, (apr_size_t)(eq - pair), eq + 1);
        }
    }
    out->cookies = text_close(&cookies);
}

/* The claims of a JWT that httpd already verified: its middle part,
 * base64url-decoded. Decoding only; the signature was mod_auth_openidc's to
 * check, and it did before this request reached any handler. */
static json_t *jwt_payload(apr_pool_t *p, const char *token)
{
    const char *dot = strchr(token, '.'), *end;
    char *b64, *plain;
    apr_size_t n, i;
    int len;

    if (!dot || !(end = strchr(dot + 1, '.')))
        return NULL;
    n = (apr_size_t)(end - dot - 1);
    b64 = apr_palloc(p, n + 3);
    for (i = 0; i < n; i++) {
        char c = dot[1 + i];
        b64[i] = c == '-' ? '+' : c == '_' ? '/' : c;
    }
    while (i % 4)
        b64[i++] = '=';
    b64[i] = '\0';
    plain = apr_palloc(p, (apr_size_t)apr_base64_decode_len(b64) + 1);
    len = apr_base64_decode(plain, b64);
    return json_loadb(plain, (size_t)len, JSON_REJECT_DUPLICATES, NULL);
}

/* request.jwt.claims: the verified token's claims, or the JSON object (or
 * JWT) in AutoRestClaims' variable; else what httpd knows, as claims, so
 * that a policy written for PostgREST (request.jwt.claims ->> 'sub', 'role')
 * works whatever authenticated the caller. */
static const char *claims_json(request_rec *r, const settings *s, const ar_request_info *info)
{
    const char *source = apr_table_get(r->subprocess_env,
                                       s->claims_env ? s->claims_env : OPENIDC_TOKEN_ENV);
    json_t *claims = NULL;
    const char *text;

    if (source && *source) {
        claims = strchr(source, '.') && *source != '{'
                     ? jwt_payload(r->pool, source)
                     : json_loads(source, JSON_REJECT_DUPLICATES, NULL);
        if (!json_is_object(claims)) {
            ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                          "the claims in %s are no JSON object (nor a JWT): ignored",
                          s->claims_env ? s->claims_env : OPENIDC_TOKEN_ENV);
            json_decref(claims);
            claims = NULL;
        }
    }
    if (!claims) {
        /* what httpd knows, written directly: this is every request's */
        json_text t;

        text_open(r->pool, &t);
        if (info->user)
            text_member(&t, "sub", 3, info->user);
        if (info->role)
            text_member(&t, "role", 4, info->role);
        return text_close(&t);
    }
    if (info->role && !json_object_get(claims, "role"))
        json_object_set_new(claims, "role", json_string(info->role));
    text = dump_or_empty(r->pool, claims);
    json_decref(claims);
    return text;
}

/* The role a name becomes: the first AutoRestRoleMap entry that matches,
 * else the name itself. */
static const char *mapped_role(const settings *s, const char *name)
{
    int i;

    for (i = 0; s->role_map && i < s->role_map->nelts; i++) {
        const role_map_entry *e = &APR_ARRAY_IDX(s->role_map, i, role_map_entry);
        if (apr_fnmatch(e->from, name, 0) == APR_SUCCESS)
            return e->to;
    }
    return name;
}

/* The name the Location's AutoRestRole takes from the request; NULL when
 * no one authenticated. */
static const char *asking_name(request_rec *r, const settings *s)
{
    const char *name = NULL;

    switch (s->role_source) {
    case ROLE_USER:
        name = r->user;
        break;
    case ROLE_ENV:
        name = apr_table_get(r->subprocess_env, s->role_arg);
        if (!name && strncmp(s->role_arg, "SSL_", 4) == 0)
            name = ap_ssl_var_lookup(r->pool, r->server, r->connection, r, s->role_arg);
        break;
    case ROLE_FIXED:
        name = r->user ? s->role_arg : NULL;
        break;
    default:
        break;
    }
    return name && *name ? name : NULL;
}

/* A keyset cursor is signed for one caller: the key is the Location's
 * secret, then the role and the user, so that a cursor is refused when
 * another caller (who may see other rows) brings it. */
static void bind_cursor_key(request_rec *r, settings *s, const ar_request_info *info)
{
    apr_size_t role_len = strlen(info->role ? info->role : "");
    apr_size_t user_len = strlen(info->user ? info->user : "");
    unsigned char *key = apr_palloc(r->pool, s->cursor_key_len + role_len + user_len + 2);

    memcpy(key, s->cursor_key, s->cursor_key_len);
    memcpy(key + s->cursor_key_len, info->role ? info->role : "", role_len + 1);
    memcpy(key + s->cursor_key_len + role_len + 1, info->user ? info->user : "", user_len + 1);
    s->cursor_key = key;
    s->cursor_key_len += role_len + user_len + 2;
}

ar_error *ar_role_request_info(request_rec *r, settings *s, ar_request_info *out)
{
    const char *name;

    memset(out, 0, sizeof(*out));
    out->method = r->method;
    out->path = r->uri;
    out->user = r->user;
    out->auth_type = r->user ? ap_auth_type(r) : NULL;
    headers_and_cookies(r, out);
    if (s->role_source != ROLE_NONE) {
        name = asking_name(r, s);
        if (name)
            out->role = s->role_source == ROLE_FIXED ? name : mapped_role(s, name);
        else if (s->anon_role) {
            out->role = s->anon_role;
            out->anonymous = 1;
        }
        else
            return ar_error_make(r->pool, AR_ERR_NO_ROLE, "this resource needs authentication",
                                 NULL, "authenticate, as this Location's AuthType asks");
        /* "none" would be SET ROLE NONE: the connecting role itself */
        if (!*out->role || strcasecmp(out->role, "none") == 0
            || strlen(out->role) > MAX_ROLE_NAME) {
            ar_error *e = ar_error_make(r->pool, AR_ERR_ROLE_REFUSED,
                                        "this request's role may not be used here", NULL, NULL);
            e->log = apr_psprintf(r->pool, "role \"%s\" refused: it can be no role",
                                  out->role);
            return e;
        }
        bind_cursor_key(r, s, out);
    }
    out->claims = claims_json(r, s, out);
    return NULL;
}

void ar_role_challenge(request_rec *r)
{
    const char *type = ap_auth_type(r), *realm = ap_auth_name(r);

    if (apr_table_get(r->err_headers_out, "WWW-Authenticate"))
        return;
    apr_table_setn(r->err_headers_out, "WWW-Authenticate",
                   type && strcasecmp(type, "Basic") == 0
                       ? apr_psprintf(r->pool, "Basic realm=\"%s\"", realm ? realm : "")
                       : "Bearer");
}
