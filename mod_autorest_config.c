/*
 * mod_autorest_config.c: every directive, per-directory create and merge,
 * and the effective settings a request runs with. Unset values are
 * AR_UNSET (or NULL) so that a nested Location inherits what it does not
 * set, as httpd's own modules merge.
 */
#include <string.h>

#include <apr_strings.h>

#include "mod_autorest_glue.h"

void *ar_conf_create_dir(apr_pool_t *p, char *dir)
{
    dir_conf *c = apr_pcalloc(p, sizeof(*c));

    c->location = dir;
    c->max_rows = AR_UNSET;
    c->timeout = AR_UNSET;
    c->schema_max_age = AR_UNSET;
    c->dialect = AR_UNSET;
    c->methods = AR_UNSET;
    c->allow_unfiltered = AR_UNSET;
    c->tx_override = AR_UNSET;
    c->restless_allow_many = AR_UNSET;
    c->rpc = AR_UNSET;
    c->role_source = AR_UNSET;
    c->max_depth = AR_UNSET;
    c->max_filters = AR_UNSET;
    c->max_select = AR_UNSET;
    c->max_url_part = AR_UNSET;
    c->plan = AR_UNSET;
    c->aggregates = AR_UNSET;
    c->browsable = AR_UNSET;
    c->schema_notify = AR_UNSET;
    c->prepared_statements = AR_UNSET;
    c->request_settings_always = AR_UNSET;
    return c;
}

/* Exclusions and hidden columns accumulate down nested Locations: an inner
 * block can hide more, never reveal what an outer one hid. Role timeouts
 * merge the same way, the inner block's winning for a role named in both. */
static apr_hash_t *merge_sets(apr_pool_t *p, apr_hash_t *base, apr_hash_t *add)
{
    if (!base)
        return add;
    if (!add)
        return base;
    return apr_hash_overlay(p, add, base);
}

void *ar_conf_merge_dir(apr_pool_t *p, void *basev, void *addv)
{
    dir_conf *base = basev, *add = addv, *c = apr_pcalloc(p, sizeof(*c));
    const dir_conf *from;

    c->location = add->location ? add->location : base->location;
    c->schemas = add->schemas ? add->schemas : base->schemas;
    /* an overlay is made in this pool, for this request: its address is
     * no name for the set (another request's may have it later) */
    c->sets_overlaid = base->sets_overlaid || add->sets_overlaid
                       || (base->excluded && add->excluded) || (base->hidden && add->hidden);
    c->excluded = merge_sets(p, base->excluded, add->excluded);
    c->hidden = merge_sets(p, base->hidden, add->hidden);
    c->max_rows = add->max_rows != AR_UNSET ? add->max_rows : base->max_rows;
    c->timeout = add->timeout != AR_UNSET ? add->timeout : base->timeout;
    c->schema_max_age =
        add->schema_max_age != AR_UNSET ? add->schema_max_age : base->schema_max_age;
    c->dialect = add->dialect != AR_UNSET ? add->dialect : base->dialect;
    c->cursor_secret = add->cursor_secret ? add->cursor_secret : base->cursor_secret;
    c->methods = add->methods != AR_UNSET ? add->methods : base->methods;
    c->allow_unfiltered =
        add->allow_unfiltered != AR_UNSET ? add->allow_unfiltered : base->allow_unfiltered;
    c->tx_override = add->tx_override != AR_UNSET ? add->tx_override : base->tx_override;
    c->restless_allow_many = add->restless_allow_many != AR_UNSET ? add->restless_allow_many
                                                                  : base->restless_allow_many;
    c->rpc = add->rpc != AR_UNSET ? add->rpc : base->rpc;
    /* a directive's two values come from the same block */
    from = add->role_source != AR_UNSET ? add : base;
    c->role_source = from->role_source;
    c->role_arg = from->role_arg;
    c->role_map = add->role_map ? add->role_map : base->role_map;
    c->anon_role = add->anon_role ? add->anon_role : base->anon_role;
    c->claims_env = add->claims_env ? add->claims_env : base->claims_env;
    c->pre_request = add->pre_request ? add->pre_request : base->pre_request;
    c->role_timeouts = merge_sets(p, base->role_timeouts, add->role_timeouts);
    c->max_depth = add->max_depth != AR_UNSET ? add->max_depth : base->max_depth;
    c->max_filters = add->max_filters != AR_UNSET ? add->max_filters : base->max_filters;
    c->max_select = add->max_select != AR_UNSET ? add->max_select : base->max_select;
    c->max_url_part = add->max_url_part != AR_UNSET ? add->max_url_part : base->max_url_part;
    c->cache_control = add->cache_control ? add->cache_control : base->cache_control;
    c->plan = add->plan != AR_UNSET ? add->plan : base->plan;
    c->aggregates = add->aggregates != AR_UNSET ? add->aggregates : base->aggregates;
    c->browsable = add->browsable != AR_UNSET ? add->browsable : base->browsable;
    from = add->schema_notify != AR_UNSET ? add : base;
    c->schema_notify = from->schema_notify;
    c->notify_conninfo = from->notify_conninfo;
    c->prepared_statements = add->prepared_statements != AR_UNSET ? add->prepared_statements
                                                                  : base->prepared_statements;
    c->request_settings_always = add->request_settings_always != AR_UNSET
                                     ? add->request_settings_always
                                     : base->request_settings_always;
    return c;
}

static const char *set_schemas(cmd_parms *cmd, void *cfg, const char *arg)
{
    dir_conf *c = cfg;

    if (!c->schemas)
        c->schemas = apr_array_make(cmd->pool, 2, sizeof(const char *));
    APR_ARRAY_PUSH(c->schemas, const char *) = arg;
    return NULL;
}

static const char *dotted_name(cmd_parms *cmd, const char *arg, int parts)
{
    const char *s;
    int dots = 0;

    for (s = arg; *s; s++)
        dots += *s == '.';
    if (dots != parts - 1 || arg[0] == '.' || s[-1] == '.' || strstr(arg, ".."))
        return apr_psprintf(cmd->pool, "%s: '%s' is not %s", cmd->cmd->name, arg,
                            parts == 2 ? "schema.relation" : "schema.relation.column");
    return NULL;
}

static const char *set_exclude(cmd_parms *cmd, void *cfg, const char *arg)
{
    dir_conf *c = cfg;
    const char *err = dotted_name(cmd, arg, 2);

    if (err)
        return err;
    if (!c->excluded)
        c->excluded = apr_hash_make(cmd->pool);
    apr_hash_set(c->excluded, arg, APR_HASH_KEY_STRING, "");
    return NULL;
}

static const char *set_hide(cmd_parms *cmd, void *cfg, const char *arg)
{
    dir_conf *c = cfg;
    const char *err = dotted_name(cmd, arg, 3);

    if (err)
        return err;
    if (!c->hidden)
        c->hidden = apr_hash_make(cmd->pool);
    apr_hash_set(c->hidden, arg, APR_HASH_KEY_STRING, "");
    return NULL;
}

static const char *parse_seconds_or_count(cmd_parms *cmd, const char *arg,
                                          apr_int64_t max, apr_int64_t *out)
{
    char *end;
    apr_int64_t v = apr_strtoi64(arg, &end, 10);

    if (*arg == '\0' || *end != '\0' || v < 0 || v > max)
        return apr_psprintf(cmd->pool, "%s takes a whole number from 0 to %" APR_INT64_T_FMT,
                            cmd->cmd->name, max);
    *out = v;
    return NULL;
}

static const char *set_max_rows(cmd_parms *cmd, void *cfg, const char *arg)
{
    dir_conf *c = cfg;

    return parse_seconds_or_count(cmd, arg, APR_INT64_C(1000000000000), &c->max_rows);
}

static const char *set_int_seconds(cmd_parms *cmd, const char *arg, int *out)
{
    apr_int64_t v = 0;
    const char *err = parse_seconds_or_count(cmd, arg, 86400 * 365, &v);

    if (!err)
        *out = (int)v;
    return err;
}

/* AutoRestTimeout N [role]: the Location's timeout, or one role's there
 * (a reporting role given a minute where the API's callers get seconds). */
static const char *set_timeout(cmd_parms *cmd, void *cfg, const char *arg, const char *role)
{
    dir_conf *c = cfg;
    int *seconds = role ? apr_palloc(cmd->pool, sizeof(*seconds)) : &c->timeout;
    const char *err = set_int_seconds(cmd, arg, seconds);

    if (err || !role)
        return err;
    /* role names are case-sensitive, as PostgreSQL's quoted identifiers */
    if (!c->role_timeouts)
        c->role_timeouts = apr_hash_make(cmd->pool);
    apr_hash_set(c->role_timeouts, role, APR_HASH_KEY_STRING, seconds);
    return NULL;
}

/* AutoRestMaxDepth and the other bounds on what one request asks for. */
static const char *set_limit(cmd_parms *cmd, void *cfg, const char *arg)
{
    dir_conf *c = cfg;
    apr_int64_t v = 0;
    int *slot = (int *)((char *)c + (apr_size_t)cmd->info);
    /* nesting cannot go past the parser's own bound */
    apr_int64_t most = slot == &c->max_depth ? AR_MAX_LOGIC_DEPTH : 1000000;
    const char *err = parse_seconds_or_count(cmd, arg, most, &v);

    if (err)
        return err;
    if (v == 0)
        return apr_psprintf(cmd->pool, "%s takes a whole number from 1 to %" APR_INT64_T_FMT,
                            cmd->cmd->name, most);
    *slot = (int)v;
    return NULL;
}

static const char *set_schema_max_age(cmd_parms *cmd, void *cfg, const char *arg)
{
    return set_int_seconds(cmd, arg, &((dir_conf *)cfg)->schema_max_age);
}

/* A directive that takes one of a few words, in any case. */
typedef struct {
    const char *word;
    int value;
} keyword;

/* *slot = the value of arg's word in words (ended by a NULL word), else the
 * refusal. */
static const char *set_keyword(const char *arg, const keyword *words, int *slot,
                               const char *refusal)
{
    for (; words->word; words++)
        if (strcasecmp(arg, words->word) == 0) {
            *slot = words->value;
            return NULL;
        }
    return refusal;
}

static const char *set_dialect(cmd_parms *cmd, void *cfg, const char *arg)
{
    static const keyword dialects[] = {
        {"postgrest", AR_DIALECT_POSTGREST}, {"restless", AR_DIALECT_RESTLESS}, {NULL, 0}};

    return set_keyword(arg, dialects, &((dir_conf *)cfg)->dialect,
                       "AutoRestDialect is postgrest or restless");
}

static const char *set_cursor_secret(cmd_parms *cmd, void *cfg, const char *arg)
{
    if (strlen(arg) < 16)
        return "AutoRestCursorSecret needs at least 16 characters";
    ((dir_conf *)cfg)->cursor_secret = arg;
    return NULL;
}

static const char *set_rpc(cmd_parms *cmd, void *cfg, const char *arg)
{
    static const keyword modes[] = {
        {"off", AR_RPC_OFF}, {"read", AR_RPC_READ}, {"all", AR_RPC_ALL}, {NULL, 0}};

    return set_keyword(arg, modes, &((dir_conf *)cfg)->rpc, "AutoRestRPC is off, read or all");
}

/* AutoRestSchemaNotify On | Off | "conninfo": the last for a listener that
 * cannot share the pool's way in (a pooler in transaction mode between). */
static const char *set_schema_notify(cmd_parms *cmd, void *cfg, const char *arg)
{
    dir_conf *c = cfg;
    PQconninfoOption *opts;
    char *why = NULL;

    c->notify_conninfo = NULL;
    if (strcasecmp(arg, "on") == 0)
        c->schema_notify = 1;
    else if (strcasecmp(arg, "off") == 0)
        c->schema_notify = 0;
    else if (strchr(arg, '=') || strncmp(arg, "postgres", 8) == 0) {
        opts = PQconninfoParse(arg, &why);
        if (!opts) {
            const char *msg = apr_psprintf(cmd->pool, "AutoRestSchemaNotify: %s",
                                           why ? why : "not a connection string");
            PQfreemem(why);
            return msg;
        }
        PQconninfoFree(opts);
        c->schema_notify = 1;
        c->notify_conninfo = arg;
    }
    else
        return "AutoRestSchemaNotify is On, Off or a libpq connection string";
    return NULL;
}

static const char *set_prepared_statements(cmd_parms *cmd, void *cfg, const char *arg)
{
    static const keyword modes[] = {
        {"auto", AR_PREPARE_AUTO}, {"on", AR_PREPARE_ON}, {"off", AR_PREPARE_OFF}, {NULL, 0}};

    return set_keyword(arg, modes, &((dir_conf *)cfg)->prepared_statements,
                       "AutoRestPreparedStatements is auto, on or off");
}

/* AutoRestRequestSettings auto | always */
static const char *set_request_settings(cmd_parms *cmd, void *cfg, const char *arg)
{
    static const keyword modes[] = {{"auto", 0}, {"always", 1}, {NULL, 0}};

    return set_keyword(arg, modes, &((dir_conf *)cfg)->request_settings_always,
                       "AutoRestRequestSettings is auto or always");
}

/* AutoRestRole user | env NAME | fixed ROLE */
static const char *set_role(cmd_parms *cmd, void *cfg, const char *how, const char *arg)
{
    dir_conf *c = cfg;

    if (strcasecmp(how, "user") == 0 && !arg)
        c->role_source = ROLE_USER;
    else if (strcasecmp(how, "env") == 0 && arg)
        c->role_source = ROLE_ENV;
    else if (strcasecmp(how, "fixed") == 0 && arg)
        c->role_source = ROLE_FIXED;
    else
        return apr_psprintf(cmd->pool, "%s is 'user', 'env NAME' or 'fixed ROLE'",
                            cmd->cmd->name);
    c->role_arg = arg;
    return NULL;
}

/* AutoRestPreRequest schema.fn: its call, quoted, once for all requests. */
static const char *set_pre_request(cmd_parms *cmd, void *cfg, const char *arg)
{
    const char *err = dotted_name(cmd, arg, 2);
    const char *dot = strchr(arg, '.');

    if (err)
        return err;
    ((dir_conf *)cfg)->pre_request =
        apr_pstrcat(cmd->pool, "SELECT ",
                    ar_sql_quote_ident(cmd->pool, apr_pstrndup(cmd->pool, arg, dot - arg)), ".",
                    ar_sql_quote_ident(cmd->pool, dot + 1), "()", NULL);
    return NULL;
}

/* AutoRestRoleMap from to: in the order given, the first match wins. */
static const char *set_role_map(cmd_parms *cmd, void *cfg, const char *from, const char *to)
{
    dir_conf *c = cfg;
    role_map_entry *e;

    if (!c->role_map)
        c->role_map = apr_array_make(cmd->pool, 4, sizeof(role_map_entry));
    e = apr_array_push(c->role_map);
    e->from = from;
    e->to = to;
    return NULL;
}

static const struct {
    const char *name;
    int bit;
} method_names[] = {
    {"GET", AR_METHOD_GET},     {"POST", AR_METHOD_POST},     {"PATCH", AR_METHOD_PATCH},
    {"PUT", AR_METHOD_PUT},     {"DELETE", AR_METHOD_DELETE},
};

/* AutoRestMethods GET POST ...: a block's list replaces what an outer
 * Location opened, so a nested Location may close methods again. */
static const char *set_methods(cmd_parms *cmd, void *cfg, const char *arg)
{
    dir_conf *c = cfg;
    apr_size_t i;

    if (c->methods == AR_UNSET)
        c->methods = 0;
    for (i = 0; i < sizeof(method_names) / sizeof(method_names[0]); i++)
        if (strcasecmp(arg, method_names[i].name) == 0) {
            c->methods |= method_names[i].bit;
            return NULL;
        }
    return apr_psprintf(cmd->pool, "AutoRestMethods: '%s' is not one of GET, POST, PATCH, "
                        "PUT, DELETE", arg);
}

const char *ar_conf_allow_header(apr_pool_t *p, int methods)
{
    const char *allow = "GET, HEAD, OPTIONS";
    apr_size_t i;

    for (i = 1; i < sizeof(method_names) / sizeof(method_names[0]); i++)
        if (methods & method_names[i].bit)
            allow = apr_pstrcat(p, allow, ", ", method_names[i].name, NULL);
    return allow;
}

const command_rec ar_conf_cmds[] = {
    AP_INIT_ITERATE("AutoRestSchemas", set_schemas, NULL, ACCESS_CONF,
                    "PostgreSQL schemas served here; the first is the default"),
    AP_INIT_ITERATE("AutoRestExclude", set_exclude, NULL, ACCESS_CONF,
                    "schema.relation names never served"),
    AP_INIT_ITERATE("AutoRestHide", set_hide, NULL, ACCESS_CONF,
                    "schema.relation.column names never shown"),
    AP_INIT_TAKE1("AutoRestMaxRows", set_max_rows, NULL, ACCESS_CONF,
                  "most rows in one response (default 1000; 0 = no cap)"),
    AP_INIT_TAKE12("AutoRestTimeout", set_timeout, NULL, ACCESS_CONF,
                   "statement timeout in seconds per request (default 10; 0 = none), "
                   "or, followed by a role, for the requests that run as that role"),
    AP_INIT_TAKE1("AutoRestMaxDepth", set_limit, (void *)APR_OFFSETOF(dir_conf, max_depth),
                  ACCESS_CONF, "most levels of and/or nesting and of embedding in one "
                  "request (default and most 8)"),
    AP_INIT_TAKE1("AutoRestMaxFilters", set_limit,
                  (void *)APR_OFFSETOF(dir_conf, max_filters), ACCESS_CONF,
                  "most filters in one request, in and/or and embeds included (default 100)"),
    AP_INIT_TAKE1("AutoRestMaxSelect", set_limit, (void *)APR_OFFSETOF(dir_conf, max_select),
                  ACCESS_CONF, "most select items in one request, embedded ones included "
                  "(default 200)"),
    AP_INIT_TAKE1("AutoRestMaxUrlPart", set_limit,
                  (void *)APR_OFFSETOF(dir_conf, max_url_part), ACCESS_CONF,
                  "most bytes in one path segment or one name=value of the query string, "
                  "as sent (default 4096)"),
    AP_INIT_TAKE1("AutoRestSchemaMaxAge", set_schema_max_age, NULL, ACCESS_CONF,
                  "seconds a reflected schema is trusted before it is read again "
                  "(default 60; 0 = until restart)"),
    AP_INIT_TAKE1("AutoRestDialect", set_dialect, NULL, ACCESS_CONF,
                  "postgrest (default) or restless: how collections and errors look"),
    AP_INIT_TAKE1("AutoRestCursorSecret", set_cursor_secret, NULL, ACCESS_CONF,
                  "key that signs keyset cursors (default: random per start of httpd)"),
    AP_INIT_ITERATE("AutoRestMethods", set_methods, NULL, ACCESS_CONF,
                    "HTTP methods served: GET (always), POST, PATCH, PUT, DELETE "
                    "(default GET: read-only)"),
    AP_INIT_FLAG("AutoRestAllowUnfiltered", ap_set_flag_slot,
                 (void *)APR_OFFSETOF(dir_conf, allow_unfiltered), ACCESS_CONF,
                 "On: PATCH and DELETE may go without a filter, touching every row "
                 "(default Off)"),
    AP_INIT_FLAG("AutoRestTxOverride", ap_set_flag_slot,
                 (void *)APR_OFFSETOF(dir_conf, tx_override), ACCESS_CONF,
                 "On: a client's Prefer: tx=rollback runs the request and keeps nothing "
                 "(default Off)"),
    AP_INIT_FLAG("AutoRestRestlessAllowMany", ap_set_flag_slot,
                 (void *)APR_OFFSETOF(dir_conf, restless_allow_many), ACCESS_CONF,
                 "On: in the restless dialect, PATCH and DELETE of a collection change "
                 "the rows a q= search selects, as Flask-Restless's allow_patch_many and "
                 "allow_delete_many (default Off)"),
    AP_INIT_TAKE1("AutoRestRPC", set_rpc, NULL, ACCESS_CONF,
                  "functions served under /rpc/: off (default), read (STABLE and IMMUTABLE "
                  "ones, by GET or POST) or all (VOLATILE ones too, by POST)"),
    AP_INIT_TAKE12("AutoRestRole", set_role, NULL, ACCESS_CONF,
                   "the PostgreSQL role a request runs as: user (the authenticated "
                   "user's name), env NAME (an environment variable's value) or fixed ROLE "
                   "(default: the connecting role for everyone)"),
    AP_INIT_TAKE2("AutoRestRoleMap", set_role_map, NULL, ACCESS_CONF,
                  "a name (or a pattern with * ? [..]) and the role it becomes; the first "
                  "match wins, an unmatched name is a role as it is"),
    AP_INIT_TAKE1("AutoRestAnonRole", ap_set_string_slot,
                  (void *)APR_OFFSETOF(dir_conf, anon_role), ACCESS_CONF,
                  "the role of requests no one authenticated (default: none, they are 401)"),
    AP_INIT_TAKE1("AutoRestClaims", ap_set_string_slot,
                  (void *)APR_OFFSETOF(dir_conf, claims_env), ACCESS_CONF,
                  "the environment variable whose JSON object (or verified JWT) is "
                  "request.jwt.claims (default: mod_auth_openidc's OIDC_access_token)"),
    AP_INIT_FLAG("AutoRestAggregates", ap_set_flag_slot,
                 (void *)APR_OFFSETOF(dir_conf, aggregates), ACCESS_CONF,
                 "On: select= may aggregate (col.sum(), avg, min, max, count(); default Off)"),
    AP_INIT_FLAG("AutoRestBrowsable", ap_set_flag_slot,
                 (void *)APR_OFFSETOF(dir_conf, browsable), ACCESS_CONF,
                 "Off: no HTML pages for browsers (default On: a request whose Accept "
                 "lists text/html first gets the browsable API)"),
    AP_INIT_TAKE1("AutoRestSchemaNotify", set_schema_notify, NULL, ACCESS_CONF,
                  "On: each child listens on channel autorest and reloads its schema "
                  "snapshots when told (NOTIFY autorest, 'reload schema'); a libpq "
                  "connection string instead of On: the listener connects there (the "
                  "primary itself, where the pool goes through pgbouncer)"),
    AP_INIT_TAKE1("AutoRestRequestSettings", set_request_settings, NULL, ACCESS_CONF,
                  "auto (default): request.method, .path, .headers, .cookies, .user, "
                  ".auth_type and .jwt.claims are set where the statement may run the "
                  "database's own code (a policy, a view's function, a call, a write), "
                  "or a role is taken; always: for every request"),
    AP_INIT_TAKE1("AutoRestPreparedStatements", set_prepared_statements, NULL, ACCESS_CONF,
                  "off: the connections reach PostgreSQL through a pooler in transaction "
                  "mode (pgbouncer), so nothing is kept prepared between "
                  "requests; on: statements are kept prepared per connection; auto "
                  "(default): on unless a pooler is found"),
    AP_INIT_FLAG("AutoRestPlan", ap_set_flag_slot, (void *)APR_OFFSETOF(dir_conf, plan),
                 ACCESS_CONF, "On: Accept: application/vnd.pgrst.plan[+json] answers a read "
                 "with PostgreSQL's EXPLAIN of its statement (default Off)"),
    AP_INIT_TAKE1("AutoRestCacheControl", ap_set_string_slot,
                  (void *)APR_OFFSETOF(dir_conf, cache_control), ACCESS_CONF,
                  "Cache-Control of successful reads (default: none; an authenticated "
                  "role's answers are private unless this says public)"),
    AP_INIT_TAKE1("AutoRestPreRequest", set_pre_request, NULL, ACCESS_CONF,
                  "schema.function run in every request's transaction before its statement, "
                  "as the request's role: it may raise (the error answers the request) or "
                  "set response.headers and response.status (default: none)"),
    {NULL}
};


/* Signs cursors when no AutoRestCursorSecret is set: drawn in the parent at
 * start-up, so every child of one generation shares it; a restart makes
 * earlier cursors invalid (their clients get a 400 and start over). */
unsigned char ar_conf_random_cursor_key[32];

void ar_conf_effective(const dir_conf *c, settings *s)
{
    static const char *const public_schema[] = {"public"};
    static apr_array_header_t dflt;

    if (!c->schemas) {
        dflt.nelts = 1;
        dflt.nalloc = 1;
        dflt.elt_size = sizeof(const char *);
        dflt.elts = (char *)public_schema;
    }
    s->exposure.schemas = c->schemas ? c->schemas : &dflt;
    s->exposure.excluded = c->excluded;
    s->exposure.hidden = c->hidden;
    s->exposure_fixed = !c->sets_overlaid;
    s->max_rows = c->max_rows != AR_UNSET ? c->max_rows : AR_DEFAULT_MAX_ROWS;
    s->timeout_ms = 1000L * (c->timeout != AR_UNSET ? c->timeout : AR_DEFAULT_TIMEOUT);
    s->schema_max_age = apr_time_from_sec(
        c->schema_max_age != AR_UNSET ? c->schema_max_age : AR_DEFAULT_SCHEMA_MAX_AGE);
    s->location = c->location ? c->location : "";
    s->dialect = c->dialect != AR_UNSET ? (ar_dialect)c->dialect : AR_DIALECT_POSTGREST;
    s->methods = AR_METHOD_GET | (c->methods != AR_UNSET ? c->methods : 0);
    s->allow_unfiltered = c->allow_unfiltered == 1;
    s->tx_override = c->tx_override == 1;
    s->restless_allow_many = c->restless_allow_many == 1;
    s->rpc = c->rpc != AR_UNSET ? (ar_rpc_mode)c->rpc : AR_RPC_OFF;
    s->count_threshold = s->max_rows > 0 ? s->max_rows : AR_DEFAULT_MAX_ROWS;
    s->role_source = c->role_source != AR_UNSET ? (role_source)c->role_source
                     : c->role_map || c->anon_role ? ROLE_USER
                                                   : ROLE_NONE;
    s->role_arg = c->role_arg;
    s->role_map = c->role_map;
    s->anon_role = c->anon_role;
    s->claims_env = c->claims_env;
    s->pre_request = c->pre_request;
    s->role_timeouts = c->role_timeouts;
    s->cache_control = c->cache_control;
    s->plan = c->plan == 1;
    s->aggregates = c->aggregates == 1;
    s->browsable = c->browsable != 0; /* on unless turned off */
    s->schema_notify = c->schema_notify == 1;
    s->notify_conninfo = s->schema_notify ? c->notify_conninfo : NULL;
    s->prepared_statements = c->prepared_statements != AR_UNSET
                                 ? (ar_prepare_mode)c->prepared_statements
                                 : AR_PREPARE_AUTO;
    s->request_settings_always = c->request_settings_always == 1;
    s->limits.depth = c->max_depth != AR_UNSET ? c->max_depth : AR_DEFAULT_MAX_DEPTH;
    s->limits.filters = c->max_filters != AR_UNSET ? c->max_filters : AR_DEFAULT_MAX_FILTERS;
    s->limits.select_items = c->max_select != AR_UNSET ? c->max_select : AR_DEFAULT_MAX_SELECT;
    s->limits.url_part =
        (apr_size_t)(c->max_url_part != AR_UNSET ? c->max_url_part : AR_DEFAULT_MAX_URL_PART);
    if (c->cursor_secret) {
        s->cursor_key = (const unsigned char *)c->cursor_secret;
        s->cursor_key_len = strlen(c->cursor_secret);
    }
    else {
        s->cursor_key = ar_conf_random_cursor_key;
        s->cursor_key_len = sizeof(ar_conf_random_cursor_key);
    }
}

void ar_conf_role_timeout(settings *s, const char *role)
{
    const int *seconds;

    if (role && s->role_timeouts
        && (seconds = apr_hash_get(s->role_timeouts, role, APR_HASH_KEY_STRING)))
        s->timeout_ms = 1000L * *seconds;
}
