/*
 * plan.c: a parsed request checked against the schema.
 *
 * Pure core. Every name the client gave is resolved here to a visible column
 * of an exposed relation, or the request ends with a 400 that names it; the
 * SQL renderer (sql.c) then only ever writes identifiers it finds in the
 * plan. Also decided here: the output columns and their encoders, the order
 * (with the default key as tie-breaker, so pages never overlap), and the
 * window of rows. Embedded resources, aggregates and Flask-Restless's
 * relationships have their own files (planner.h).
 */
#include <string.h>

#include <apr_strings.h>

#include "planner.h"

static ar_error *unknown_column(apr_pool_t *p, const ar_relation *rel, const char *name)
{
    return ar_error_make(p, AR_ERR_UNKNOWN_COLUMN,
                         apr_psprintf(p, "column '%s' does not exist in '%s'", name, rel->name),
                         NULL, "GET the index of this API to see the columns");
}

/* A hidden column is unknown: the error must not tell it apart. */
ar_error *plan_resolve_field(apr_pool_t *p, const ar_relation *rel, const ar_exposure *x,
                             ar_field *f)
{
    int idx = ar_relation_column_index(rel, f->column);

    if (idx < 0 || !ar_exposed_column(x, rel, plan_column_at(rel, idx)))
        return unknown_column(p, rel, f->column);
    f->ref = plan_column_at(rel, idx);
    return NULL;
}

/* The embedded resource of this level the client calls key, or NULL. */
static ar_embed_plan *find_embed(const apr_array_header_t *embeds, const char *key)
{
    int i;

    for (i = 0; embeds && i < embeds->nelts; i++) {
        ar_embed_plan *ep = APR_ARRAY_IDX(embeds, i, ar_embed_plan *);
        if (strcmp(ep->key, key) == 0)
            return ep;
    }
    return NULL;
}

/* rel=is.null or rel=not.is.null (and is.not_null): a test on the embedded
 * resource rel of this level, not on a column, when no column has the name. */
static ar_embed_plan *embed_test(const ar_relation *rel, const apr_array_header_t *embeds,
                                 const ar_cond *leaf)
{
    if (leaf->other || (leaf->field.path && leaf->field.path->nelts) || leaf->op != AR_OP_IS
        || (leaf->is_value != AR_IS_NULL && leaf->is_value != AR_IS_NOT_NULL)
        || ar_relation_column_index(rel, leaf->field.column) >= 0)
        return NULL;
    return find_embed(embeds, leaf->field.column);
}

ar_error *plan_resolve_cond(planner *pl, const ar_relation *rel,
                            const apr_array_header_t *embeds, const ar_cond *in,
                            ar_cond **out)
{
    apr_pool_t *p = pl->p;
    const ar_exposure *x = pl->x;
    ar_cond *c = apr_pmemdup(p, in, sizeof(*in));
    ar_error *e;
    int i, done = 0;

    if (c->kind == AR_COND_LEAF) {
        /* q= names relationships by automap's names (plan_resolve_related), not
         * by the keys of select's embedded resources */
        if (!c->field.restless && (c->embed = embed_test(rel, embeds, c)) != NULL) {
            *out = c;
            return NULL;
        }
        if (c->field.restless && ((e = plan_resolve_related(pl, rel, c, &done)) || done)) {
            *out = c;
            return e;
        }
        if ((e = plan_resolve_field(p, rel, x, &c->field)) != NULL)
            return e;
        if (c->other) {
            ar_field *other = apr_pmemdup(p, c->other, sizeof(*c->other));
            if ((e = plan_resolve_field(p, rel, x, other)) != NULL)
                return e;
            c->other = other;
        }
        *out = c;
        return NULL;
    }
    c->children = apr_array_make(p, in->children->nelts + 1, sizeof(ar_cond *));
    for (i = 0; i < in->children->nelts; i++) {
        ar_cond *child;
        if ((e = plan_resolve_cond(pl, rel, embeds, APR_ARRAY_IDX(in->children, i, ar_cond *),
                                   &child)))
            return e;
        APR_ARRAY_PUSH(c->children, ar_cond *) = child;
    }
    *out = c;
    return NULL;
}

/* Primary key, else the first unique key whose columns are all NOT NULL:
 * either makes the order total. Without one, the visible sortable columns in
 * position order, after the columns of a nullable unique key if there is
 * one: deterministic whenever rows differ in those columns. Hidden columns
 * never join that fallback, so their values do not shape what is shown;
 * with shown_key (embedded lists), a key with a hidden column is none. */
static apr_array_header_t *default_order(apr_pool_t *p, const ar_relation *rel,
                                         const ar_exposure *x, int shown_key, int *total)
{
    apr_array_header_t *order = apr_array_make(p, 4, sizeof(const ar_column *));
    const ar_key *key = rel->primary_key, *nullable_key = NULL;
    int i, j;

    for (i = 0; !key && i < rel->unique_keys->nelts; i++) {
        const ar_key *k = &APR_ARRAY_IDX(rel->unique_keys, i, ar_key);
        int all_not_null = 1;
        for (j = 0; j < k->cols->nelts; j++)
            if (plan_column_at(rel, APR_ARRAY_IDX(k->cols, j, int))->nullable)
                all_not_null = 0;
        if (all_not_null)
            key = k;
        else if (!nullable_key)
            nullable_key = k;
    }
    if (shown_key) {
        /* a key with a hidden column is no key here: the fallback below */
        const ar_key *chosen = key ? key : nullable_key;

        for (i = 0; chosen && i < chosen->cols->nelts; i++) {
            const ar_column *c = plan_column_at(rel, APR_ARRAY_IDX(chosen->cols, i, int));

            if (!ar_exposed_column(x, rel, c))
                key = nullable_key = NULL;
        }
    }
    *total = key != NULL;
    if (!key)
        key = nullable_key;
    if (key)
        for (i = 0; i < key->cols->nelts; i++)
            APR_ARRAY_PUSH(order, const ar_column *) =
                plan_column_at(rel, APR_ARRAY_IDX(key->cols, i, int));
    if (key && key != nullable_key)
        return order;
    for (i = 0; i < rel->columns->nelts; i++) {
        const ar_column *c = plan_column_at(rel, i);
        int already = 0;

        for (j = 0; j < order->nelts; j++)
            already |= APR_ARRAY_IDX(order, j, const ar_column *) == c;
        if (!already && c->sortable && ar_exposed_column(x, rel, c))
            APR_ARRAY_PUSH(order, const ar_column *) = c;
    }
    return order;
}

void plan_add_output(apr_array_header_t *cols, const ar_column *c, const char *name,
                     const apr_array_header_t *path, const char *cast)
{
    ar_output_column *oc = apr_array_push(cols);

    oc->column = c;
    oc->name = name ? name : c->name;
    oc->path = path && path->nelts ? path : NULL;
    oc->cast = cast;
    oc->elem_enc = c->elem_enc;
    if (cast)
        oc->enc = AR_ENC_JSON; /* rendered as to_json(expr::type), but for CSV */
    else if (oc->path)
        oc->enc = APR_ARRAY_IDX(path, path->nelts - 1, ar_path_step).as_text ? AR_ENC_STRING
                                                                               : AR_ENC_JSON;
    else
        oc->enc = c->enc == AR_ENC_SQL_JSON ? AR_ENC_JSON : c->enc;
}

/* The output columns of select over rel; embeds gets every rel(...) of this
 * level, with or without a key in the output. */
ar_error *plan_columns(planner *pl, const ar_relation *rel,
                       const apr_array_header_t *select, int depth,
                       apr_array_header_t *out, apr_array_header_t *embeds)
{
    apr_pool_t *p = pl->p;
    const ar_exposure *x = pl->x;
    int i, j;

    for (i = 0; !select || i < select->nelts; i++) {
        ar_select_item it;
        ar_error *e;

        if (select && APR_ARRAY_IDX(select, i, ar_select_item).agg) {
            if ((e = plan_aggregate(pl, rel, &APR_ARRAY_IDX(select, i, ar_select_item), out))
                != NULL)
                return e;
            continue;
        }
        if (select && APR_ARRAY_IDX(select, i, ar_select_item).embed) {
            const ar_embed_request *em = APR_ARRAY_IDX(select, i, ar_select_item).embed;
            ar_embed_plan *ep = NULL;
            ar_output_column *oc;

            const char *key = APR_ARRAY_IDX(select, i, ar_select_item).alias
                                  ? APR_ARRAY_IDX(select, i, ar_select_item).alias
                                  : em->name;

            if ((e = plan_embed(pl, rel, em, key, depth, &ep)) != NULL)
                return e;
            APR_ARRAY_PUSH(embeds, const ar_embed_plan *) = ep;
            if (em->spread) {
                int k;

                /* its aggregates are the parent's: over the parent's rows
                 * (of each parent group), the related row's value their
                 * argument */
                ep->grouped = 0;

                if (plan_is_many(&ep->rel))
                    return ar_error_make(p, AR_ERR_UNSUPPORTED,
                                         "only a to-one resource can be spread",
                                         apr_psprintf(p, "'%s' is %s", em->name,
                                                      ep->rel.card == AR_CARD_M2M
                                                          ? "many-to-many" : "one-to-many"),
                                         "embed it as rel(...) instead");
                /* Its fields join the parent's, each read from the one
                 * related row (NULL when there is none). */
                for (k = 0; k < ep->columns->nelts; k++) {
                    const ar_output_column *sc = &APR_ARRAY_IDX(ep->columns, k, ar_output_column);

                    if (sc->spread)
                        return ar_error_make(p, AR_ERR_UNSUPPORTED,
                                             "a spread inside a spread is not supported",
                                             apr_psprintf(p, "in '...%s'", em->name), NULL);
                    if (sc->count_rows)
                        return ar_error_make(p, AR_ERR_UNSUPPORTED,
                                             "count() inside a spread resource is not supported",
                                             apr_psprintf(p, "in '...%s'", em->name),
                                             "count() beside it counts the rows of each group");
                    oc = apr_array_push(out);
                    *oc = *sc;
                    oc->spread = ep;
                }
                continue;
            }
            if (em->select->nelts == 0)
                continue; /* rel(): for filtering only, no key */
            oc = apr_array_push(out);
            memset(oc, 0, sizeof(*oc));
            oc->embed = ep;
            oc->name = key;
            oc->enc = AR_ENC_EMBED; /* PostgreSQL builds it with to_json's rules */
            oc->elem_enc = AR_ENC_STRING;
            continue;
        }
        if (!select || strcmp(APR_ARRAY_IDX(select, i, ar_select_item).field.column, "*") == 0) {
            for (j = 0; j < rel->columns->nelts; j++)
                if (ar_exposed_column(x, rel, plan_column_at(rel, j)))
                    plan_add_output(out, plan_column_at(rel, j), NULL, NULL, NULL);
            if (!select)
                return NULL;
            continue;
        }
        it = APR_ARRAY_IDX(select, i, ar_select_item);
        if ((e = plan_resolve_field(p, rel, x, &it.field)) != NULL)
            return e;
        plan_add_output(out, it.field.ref,
                        it.alias ? it.alias
                        : it.field.path && it.field.path->nelts
                        ? APR_ARRAY_IDX(it.field.path, it.field.path->nelts - 1, ar_path_step).key
                        : NULL,
                        it.field.path, it.cast);
    }
    return NULL;
}

/* q='s order_by "rel__field": a field of a to-one related object, by
 * automap's name for the relationship (Flask-Restless joins it). */
static ar_error *related_order_field(planner *pl, const ar_relation *rel, ar_field *f,
                                     const ar_embed_plan **ep)
{
    const char *field;
    const ar_named_relationship *nr = plan_split_related(pl, rel, f->column, &field);

    if (!nr || !field)
        return unknown_column(pl->p, rel, f->column);
    if (plan_is_many(&nr->rel))
        return ar_error_make(pl->p, AR_ERR_BAD_Q,
                             apr_psprintf(pl->p, "'%s' is a list of objects: rows cannot be "
                                                 "ordered by it", nr->name),
                             NULL, NULL);
    *ep = plan_new_embed(pl, &nr->rel, nr->name, 1);
    f->column = field;
    return plan_resolve_field(pl->p, nr->rel.target, pl->x, f);
}

/* order=rel(col): a column of a to-one embedded resource of the request. */
static ar_error *embedded_order_field(planner *pl, const ar_relation *rel,
                                      const apr_array_header_t *embeds,
                                      ar_field *f, const ar_embed_plan **ep)
{
    apr_pool_t *p = pl->p;
    const ar_exposure *x = pl->x;
    const char *open = strchr(f->column, '('), *name = f->column;
    apr_size_t n = strlen(name);

    *ep = NULL;
    if (f->restless && strstr(name, "__") && ar_relation_column_index(rel, name) < 0)
        return related_order_field(pl, rel, f, ep);
    if (!open || open == name || name[n - 1] != ')' || ar_relation_column_index(rel, name) >= 0)
        return plan_resolve_field(p, rel, x, f);
    *ep = find_embed(embeds, apr_pstrmemdup(p, name, (apr_size_t)(open - name)));
    if (!*ep)
        return ar_error_make(p, AR_ERR_BAD_PARAM,
                             apr_psprintf(p, "'%.*s' is not an embedded resource of this request",
                                          (int)(open - name), name),
                             NULL, "embed it in select first: select=...,rel(...)");
    if (plan_is_many(&(*ep)->rel))
        return ar_error_make(p, AR_ERR_BAD_PARAM,
                             apr_psprintf(p, "'%.*s' is to-many: rows cannot be ordered by it",
                                          (int)(open - name), name),
                             NULL, "order the embedded rows with rel.order instead");
    f->column = apr_pstrmemdup(p, open + 1, n - (apr_size_t)(open - name) - 2);
    return plan_resolve_field(p, (*ep)->rel.target, x, f);
}

/* *keyset: the order ends in a key that makes it total, and no term is a
 * hidden column (a cursor carries the last row's values of every term). */
static ar_error *plan_order(planner *pl, const ar_relation *rel,
                            const apr_array_header_t *embeds,
                            const apr_array_header_t *asked, apr_array_header_t *out,
                            int *keyset)
{
    const ar_exposure *x = pl->x;
    int total, by_embed = 0;
    apr_array_header_t *dflt = default_order(pl->p, rel, x, 0, &total);
    int i, j;

    for (i = 0; asked && i < asked->nelts; i++) {
        ar_order_item it = APR_ARRAY_IDX(asked, i, ar_order_item);
        const ar_embed_plan *ep;
        ar_order_term *t;
        ar_error *e;

        if ((e = embedded_order_field(pl, rel, embeds, &it.field, &ep)) != NULL)
            return e;
        t = apr_array_push(out);
        memset(t, 0, sizeof(*t));
        t->embed = ep;
        by_embed |= ep != NULL;
        t->column = it.field.ref;
        t->path = it.field.path && it.field.path->nelts ? it.field.path : NULL;
        t->desc = it.desc;
        t->nulls = it.nulls;
    }
    /* The default key breaks ties, so that rows never move between pages. */
    for (i = 0; i < dflt->nelts; i++) {
        const ar_column *c = APR_ARRAY_IDX(dflt, i, const ar_column *);
        int already = 0;
        ar_order_term *t;

        for (j = 0; j < out->nelts; j++) {
            const ar_order_term *o = &APR_ARRAY_IDX(out, j, ar_order_term);
            already |= o->column == c && !o->path && !o->embed;
        }
        if (already)
            continue;
        t = apr_array_push(out);
        memset(t, 0, sizeof(*t));
        t->column = c;
    }
    /* A cursor would carry the embedded value too: such pages go by offset. */
    *keyset = total && !by_embed;
    for (i = 0; i < out->nelts; i++)
        if (!ar_exposed_column(x, rel, APR_ARRAY_IDX(out, i, ar_order_term).column))
            *keyset = 0;
    return NULL;
}

/* Where each order term's value is in a result row. A term the select list
 * already carries as PostgreSQL's own text (the column itself: no path, no
 * cast, no to_json) is read from there; the others are appended. Selecting
 * the key twice cost every row of every page a value more to print, send
 * and parse. */
static void plan_key_columns(apr_pool_t *p, ar_read_plan *plan)
{
    int ncols = plan->columns->nelts, next = ncols ? ncols : 1; /* 1: after NULL */
    int i, j;

    plan->key_columns = apr_palloc(p, sizeof(int) * (plan->order->nelts + 1));
    for (i = 0; i < plan->order->nelts; i++) {
        const ar_order_term *t = &APR_ARRAY_IDX(plan->order, i, ar_order_term);

        plan->key_columns[i] = -1;
        for (j = 0; !t->path && j < ncols && plan->key_columns[i] < 0; j++) {
            const ar_output_column *oc = &APR_ARRAY_IDX(plan->columns, j, ar_output_column);
            if (oc->column == t->column && !oc->path && !oc->cast
                && oc->column->enc != AR_ENC_SQL_JSON)
                plan->key_columns[i] = j;
        }
        if (plan->key_columns[i] < 0)
            plan->key_columns[i] = next++;
    }
}

ar_cond *plan_and_node(apr_pool_t *p)
{
    ar_cond *c = apr_pcalloc(p, sizeof(*c));

    c->kind = AR_COND_AND;
    c->children = apr_array_make(p, 2, sizeof(ar_cond *));
    return c;
}

/* A top-level filter goes to its relation, or, when its name starts with
 * an embedded resource's key and a dot ("subsidies.amount",
 * "projects.subsidies.program"), under that resource, where it narrows the
 * embedded rows and leaves the parents alone (as in PostgREST). A name the
 * relation has as a column stays a column. */
static ar_error *place_leaf(planner *pl, const ar_relation *rel,
                            const apr_array_header_t *embeds, const ar_cond *leaf,
                            ar_cond **and_root)
{
    apr_pool_t *p = pl->p;
    const char *name = leaf->field.column, *dot = strchr(name, '.');
    ar_embed_plan *ep;
    ar_cond *c;
    ar_error *e;

    if (dot && !leaf->other && !leaf->field.restless && ar_relation_column_index(rel, name) < 0
        && (ep = find_embed(embeds, apr_pstrmemdup(p, name, (apr_size_t)(dot - name))))) {
        c = apr_pmemdup(p, leaf, sizeof(*leaf));
        c->field.column = dot + 1;
        return place_leaf(pl, ep->rel.target, ep->embeds, c, &ep->where);
    }
    if ((e = plan_resolve_cond(pl, rel, embeds, leaf, &c)) != NULL)
        return e;
    if (!*and_root)
        *and_root = plan_and_node(p);
    APR_ARRAY_PUSH((*and_root)->children, ar_cond *) = c;
    return NULL;
}

/* The embedded resource a dotted path names ("subsidies", "projects.subsidies"). */
static ar_embed_plan *embed_at(apr_pool_t *p, const apr_array_header_t *embeds, const char *path)
{
    const char *dot = strchr(path, '.');
    ar_embed_plan *ep;

    if (!dot)
        return find_embed(embeds, path);
    ep = find_embed(embeds, apr_pstrmemdup(p, path, (apr_size_t)(dot - path)));
    return ep ? embed_at(p, ep->embeds, dot + 1) : NULL;
}

/* rel.order, rel.limit, rel.offset and rel.or=(...) onto their resource. */
static ar_error *place_embed_option(planner *pl, const apr_array_header_t *embeds,
                                    const ar_embed_opt *o)
{
    apr_pool_t *p = pl->p;
    ar_embed_plan *ep = embed_at(p, embeds, o->path);
    ar_cond *c;
    ar_error *e;
    int i;

    if (!ep)
        return ar_error_make(p, AR_ERR_BAD_PARAM,
                             apr_psprintf(p, "'%s' is not an embedded resource of this request",
                                          o->path),
                             NULL, "embed it in select first: select=...,rel(...)");
    switch (o->kind) {
    case AR_EOPT_LIMIT:
        ep->limit = o->count;
        break;
    case AR_EOPT_OFFSET:
        ep->offset = o->count;
        break;
    case AR_EOPT_TREE:
        if ((e = plan_resolve_cond(pl, ep->rel.target, ep->embeds, o->tree, &c)) != NULL)
            return e;
        if (!ep->where)
            ep->where = plan_and_node(p);
        APR_ARRAY_PUSH(ep->where->children, ar_cond *) = c;
        break;
    case AR_EOPT_ORDER:
        ep->order = apr_array_make(p, o->order->nelts, sizeof(ar_order_term));
        for (i = 0; i < o->order->nelts; i++) {
            ar_order_item it = APR_ARRAY_IDX(o->order, i, ar_order_item);
            ar_order_term *t;

            if ((e = plan_resolve_field(p, ep->rel.target, pl->x, &it.field)) != NULL)
                return e;
            t = apr_array_push(ep->order);
            t->column = it.field.ref;
            t->path = it.field.path && it.field.path->nelts ? it.field.path : NULL;
            t->desc = it.desc;
            t->nulls = it.nulls;
        }
        break;
    }
    return NULL;
}

/* The request's filters and embedded options, each where it applies. */
static ar_error *place_conditions(planner *pl, const ar_relation *rel,
                                  const ar_read_request *req, ar_read_plan *out)
{
    apr_pool_t *p = pl->p;
    ar_cond *top = NULL;
    ar_error *e;
    int i;

    for (i = 0; req->where && i < req->where->children->nelts; i++) {
        const ar_cond *c = APR_ARRAY_IDX(req->where->children, i, const ar_cond *);
        if (c->kind == AR_COND_LEAF)
            e = place_leaf(pl, rel, out->embeds, c, &top);
        else {
            ar_cond *tree;
            if ((e = plan_resolve_cond(pl, rel, out->embeds, c, &tree)) == NULL) {
                if (!top)
                    top = plan_and_node(p);
                APR_ARRAY_PUSH(top->children, ar_cond *) = tree;
            }
        }
        if (e)
            return e;
    }
    out->where = top;
    for (i = 0; req->embed_opts && i < req->embed_opts->nelts; i++)
        if ((e = place_embed_option(pl, out->embeds,
                                    &APR_ARRAY_IDX(req->embed_opts, i, ar_embed_opt))))
            return e;
    return NULL;
}

/* Every embedded list ends at the Location's row cap, as the top level
 * does, and comes in an order: the client's, else the target's key
 * (default_order) when it is shown, so that what the cap keeps is the
 * same each time. */
static void bound_embeds(planner *pl, const apr_array_header_t *embeds)
{
    int i, j, total;

    for (i = 0; embeds && i < embeds->nelts; i++) {
        ar_embed_plan *ep = APR_ARRAY_IDX(embeds, i, ar_embed_plan *);

        bound_embeds(pl, ep->embeds);
        if (!plan_is_many(&ep->rel))
            continue;
        if (pl->max_rows > 0 && (ep->limit == AR_UNSET || ep->limit > pl->max_rows))
            ep->limit = pl->max_rows;
        if (!ep->order && !ep->grouped) { /* (a group has no key to order by) */
            /* hidden values do not shape what is shown */
            apr_array_header_t *key = default_order(pl->p, ep->rel.target, pl->x, 1, &total);

            ep->order = apr_array_make(pl->p, key->nelts + 1, sizeof(ar_order_term));
            for (j = 0; j < key->nelts; j++) {
                ar_order_term *o = apr_array_push(ep->order);
                memset(o, 0, sizeof(*o));
                o->column = APR_ARRAY_IDX(key, j, const ar_column *);
            }
        }
    }
}

/* The one visible key column of rel, or NULL: what /<pk> routes need. */
static const ar_column *single_key(const ar_exposure *x, const ar_relation *rel)
{
    const ar_key *pk = rel->primary_key;
    const ar_column *c = pk && pk->cols->nelts == 1
                             ? plan_column_at(rel, APR_ARRAY_IDX(pk->cols, 0, int))
                             : NULL;

    /* A hidden key column cannot be probed by value either. */
    return c && ar_exposed_column(x, rel, c) ? c : NULL;
}

static ar_error *no_single_key(apr_pool_t *p, const ar_relation *rel)
{
    return ar_error_make(p, AR_ERR_NO_ROUTE, "no such resource",
                         apr_psprintf(p, "'%s' has no single-column primary key", rel->name),
                         NULL);
}

/* The same relationship seen from its target. */
static ar_relationship reversed(const ar_relationship *r)
{
    ar_relationship v = *r;

    v.parent = r->target;
    v.target = r->parent;
    if (r->card == AR_CARD_M2M) {
        v.fk = r->fk_target;
        v.fk_target = r->fk;
        return v;
    }
    v.fk_on_parent = !r->fk_on_parent;
    v.card = r->card == AR_CARD_M2O ? AR_CARD_O2M : r->card == AR_CARD_O2M ? AR_CARD_M2O
                                                                           : r->card;
    return v;
}

/* Flask-Restless's /parent/pk/relationship: the plan is over the
 * relationship's target, whose rows must relate to the parent's row (the
 * relationship seen from the target, with the parent's key: EXISTS). */
static ar_error *plan_related_route(planner *pl, const ar_relation *parent,
                                    const ar_read_request *req, ar_read_plan *out)
{
    apr_pool_t *p = pl->p;
    const ar_named_relationship *nr;
    ar_relationship back;
    ar_embed_plan *ep;
    ar_cond *key, *test;

    if (!(out->parent_pk = single_key(pl->x, parent)))
        return no_single_key(p, parent);
    if (!(nr = plan_named_relationship(pl, parent, req->relationship)))
        return ar_error_make(p, AR_ERR_NO_ROUTE, "no such resource",
                             apr_psprintf(p, "'%s' has no relationship '%s'", parent->name,
                                          req->relationship),
                             "relationships are named as SQLAlchemy's automap names them");
    out->parent = parent;
    out->parent_value = req->pk_value;
    out->relation = nr->rel.target;
    out->related_one = !plan_is_many(&nr->rel);

    key = apr_pcalloc(p, sizeof(*key));
    key->kind = AR_COND_LEAF;
    key->field.column = out->parent_pk->name;
    key->field.ref = out->parent_pk;
    key->op = AR_OP_EQ;
    key->value = req->pk_value;
    back = reversed(&nr->rel);
    ep = plan_new_embed(pl, &back, parent->name, 1);
    ep->where = plan_and_node(p);
    APR_ARRAY_PUSH(ep->where->children, ar_cond *) = key;
    test = apr_pcalloc(p, sizeof(*test));
    test->kind = AR_COND_LEAF;
    test->field.column = parent->name;
    test->op = plan_is_many(&back) ? AR_OP_ANY : AR_OP_HAS;
    test->embed = ep;
    out->where = plan_and_node(p);
    APR_ARRAY_PUSH(out->where->children, ar_cond *) = test;
    return NULL;
}

ar_error *ar_plan_read(apr_pool_t *p, const ar_schema *s, const ar_exposure *x,
                       const ar_read_request *req, apr_int64_t max_rows,
                       ar_read_plan *out)
{
    const ar_relation *rel;

    if (req->profile && !ar_exposed_schema(x, req->profile))
        return ar_error_make(p, AR_ERR_UNKNOWN_PROFILE,
                             apr_psprintf(p, "schema '%s' is not served here", req->profile),
                             NULL, req->write.kind == AR_WRITE_NONE
                                       ? "Accept-Profile names one of the schemas of this API"
                                       : "Content-Profile names one of the schemas of this API");
    rel = ar_resolve_relation(s, x, req->profile, req->relation);
    if (!rel)
        return ar_error_make(p, AR_ERR_NO_RELATION,
                             apr_psprintf(p, "relation '%s' does not exist", req->relation),
                             NULL, "GET the index of this API to see what it serves");
    return ar_plan_read_relation(p, s, x, req, rel, max_rows, out);
}

ar_error *ar_plan_read_relation(apr_pool_t *p, const ar_schema *s, const ar_exposure *x,
                                const ar_read_request *req, const ar_relation *rel,
                                apr_int64_t max_rows, ar_read_plan *out)
{
    ar_error *e;
    planner pl;

    memset(out, 0, sizeof(*out));
    memset(&pl, 0, sizeof(pl));
    pl.p = p;
    pl.s = s;
    pl.x = x;
    pl.max_rows = max_rows;
    pl.aggregates = req->aggregates;
    out->relation = rel;
    if (req->relationship) {
        if ((e = plan_related_route(&pl, rel, req, out)) != NULL)
            return e;
        rel = out->relation;
    }
    out->count = req->count;
    out->media = req->media;
    out->columns = apr_array_make(p, rel->columns->nelts + 1, sizeof(ar_output_column));
    out->order = apr_array_make(p, 4, sizeof(ar_order_term));
    out->embeds = apr_array_make(p, 1, sizeof(const ar_embed_plan *));
    if ((e = plan_columns(&pl, rel, req->select, 1, out->columns, out->embeds)))
        return e;
    out->grouped = plan_has_aggregate(out->columns);
    if (out->grouped && (req->related_objects || req->relationship))
        return ar_error_make(p, AR_ERR_UNSUPPORTED,
                             "aggregates on a relationship's route are not supported", NULL,
                             "aggregate the related relation's own rows: GET /related?select=...");
    if (req->related_objects)
        plan_add_related_objects(&pl, rel, out);
    if (out->parent) {
        /* place_conditions wrote the request's own filters: the relation to
         * the parent's row comes first */
        const ar_cond *related = out->where;

        if ((e = place_conditions(&pl, rel, req, out)) != NULL)
            return e;
        if (out->where)
            APR_ARRAY_PUSH(((ar_cond *)related)->children, const ar_cond *) = out->where;
        out->where = related;
    }
    else if ((e = place_conditions(&pl, rel, req, out)) != NULL)
        return e;
    bound_embeds(&pl, out->embeds);
    if ((e = plan_check_embed_groups(p, out->embeds)) != NULL)
        return e;

    if (req->relationship ? req->related_pk != NULL : req->pk_value != NULL) {
        const ar_column *c = single_key(x, rel);

        if (!c)
            return no_single_key(p, rel);
        out->pk_column = c;
        out->pk_value = req->relationship ? req->related_pk : req->pk_value;
        out->single = 1;
        out->limit = 1;
        out->count = AR_COUNT_NONE;
        return NULL;
    }

    if ((e = plan_order(&pl, rel, out->embeds, req->order, out->order, &out->keyset)) != NULL)
        return e;
    if (out->grouped) {
        out->order->nelts = req->order ? req->order->nelts : 0; /* no key breaks ties */
        out->keyset = 0;
        if ((e = plan_check_groups(p, out->columns, out->order)) != NULL)
            return e;
    }
    out->offset = req->offset;
    out->limit = req->limit;
    if (max_rows > 0 && (out->limit == AR_UNSET || out->limit > max_rows))
        out->limit = max_rows;
    out->probe_next = out->limit != AR_UNSET;
    if (req->single || req->media == AR_MEDIA_OBJECT) {
        /* One object: fetch two rows at most, to tell one from several. */
        out->single = 1;
        out->probe_next = out->limit != 1;
        if (out->limit != 0)
            out->limit = 1;
    }
    if (out->related_one) {
        /* at most one row relates through a key: that object, or null */
        out->single = 1;
        out->probe_next = 0;
        out->limit = 1;
        out->offset = 0;
        out->count = AR_COUNT_NONE;
    }
    if (out->single || out->limit == AR_UNSET)
        out->keyset = 0; /* nothing pages on */
    if (out->keyset)
        plan_key_columns(p, out);
    return NULL;
}

ar_error *ar_plan_apply_cursor(apr_pool_t *p, ar_read_plan *plan, const char *token,
                               const unsigned char *key, apr_size_t key_len)
{
    if (!token)
        return NULL;
    if (!plan->keyset)
        return ar_error_make(p, AR_ERR_BAD_CURSOR, "the cursor is not valid for this query",
                             "this query's order does not continue by cursor",
                             "page with offset");
    return ar_cursor_decode(p, key, key_len, ar_cursor_shape(p, plan), token,
                            plan->order->nelts, &plan->skipped, &plan->after);
}
