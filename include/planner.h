/*
 * planner.h: what the read planner's files share. Core-internal: not for
 * the glue. plan.c plans a read (columns, filters, order, window) and calls
 * on plan_embed.c (relationships and embedded resources), plan_aggregate.c
 * (aggregates in select=, the groups they make) and plan_restless.c
 * (Flask-Restless's relationships by automap's names).
 */
#ifndef AR_PLANNER_H
#define AR_PLANNER_H

#include "autorest.h"

/* What planning one request needs at every level. */
typedef struct {
    apr_pool_t *p;
    const ar_schema *s;
    const ar_exposure *x;
    apr_int64_t max_rows;   /* the Location's cap: also each embedded list's */
    int next_id;            /* the last embedded resource's id */
    apr_hash_t *automap;    /* relation -> ar_restless_relationships, as needed */
    int aggregates;         /* AutoRestAggregates On */
} planner;

static inline const ar_column *plan_column_at(const ar_relation *rel, int idx)
{
    return &APR_ARRAY_IDX(rel->columns, idx, ar_column);
}

/* A relationship whose embedded value is a list. */
static inline int plan_is_many(const ar_relationship *r)
{
    return r->card == AR_CARD_O2M || r->card == AR_CARD_M2M;
}

/* plan.c */
/* A column of rel by the client's name into f->ref; a hidden column is
 * unknown (the error must not tell it apart). */
ar_error *plan_resolve_field(apr_pool_t *p, const ar_relation *rel, const ar_exposure *x,
                             ar_field *f);
/* A filter tree with every name resolved against rel and its embeds. */
ar_error *plan_resolve_cond(planner *pl, const ar_relation *rel,
                            const apr_array_header_t *embeds, const ar_cond *in,
                            ar_cond **out);
ar_cond *plan_and_node(apr_pool_t *p);
/* One output column of c (a path in it, a cast of it) under name. */
void plan_add_output(apr_array_header_t *cols, const ar_column *c, const char *name,
                     const apr_array_header_t *path, const char *cast);
/* The output columns of select over rel, the embedded resources apart. */
ar_error *plan_columns(planner *pl, const ar_relation *rel,
                       const apr_array_header_t *select, int depth,
                       apr_array_header_t *out, apr_array_header_t *embeds);

/* plan_embed.c */
/* A new embedded resource over r, with no columns, filters or order yet. */
ar_embed_plan *plan_new_embed(planner *pl, const ar_relationship *r, const char *key,
                              int depth);
/* em (rel(...) in select=) of parent: its relationship chosen, its columns
 * planned, under key. */
ar_error *plan_embed(planner *pl, const ar_relation *parent, const ar_embed_request *em,
                     const char *key, int depth, ar_embed_plan **out);

/* plan_aggregate.c */
/* An aggregate of select= (count(), col.sum(), ...) onto out. */
ar_error *plan_aggregate(planner *pl, const ar_relation *rel, const ar_select_item *item,
                         apr_array_header_t *out);
int plan_has_aggregate(const apr_array_header_t *columns);
/* A grouped level: what it groups by can be compared, its order is by groups. */
ar_error *plan_check_groups(apr_pool_t *p, const apr_array_header_t *columns,
                            const apr_array_header_t *order);
ar_error *plan_check_embed_groups(apr_pool_t *p, const apr_array_header_t *embeds);

/* plan_restless.c */
const ar_named_relationship *plan_named_relationship(planner *pl, const ar_relation *rel,
                                                     const char *name);
const ar_named_relationship *plan_split_related(planner *pl, const ar_relation *rel,
                                                const char *name, const char **field);
ar_error *plan_resolve_related(planner *pl, const ar_relation *rel, ar_cond *c, int *done);
void plan_add_related_objects(planner *pl, const ar_relation *rel, ar_read_plan *out);

#endif
