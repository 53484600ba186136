/*
 * plan_embed.c: embedded resources (rel(...) in select=) planned against
 * the schema. Pure core, part of the read planner (planner.h).
 *
 * The relationships between two exposed relations are found from their
 * foreign keys as PostgREST finds them: many-to-one, one-to-one, one-to-many,
 * and many-to-many through a junction table whose key the two foreign keys
 * make; a hint (rel!fk_or_column(...)) picks one where several fit. Only
 * shown columns join: a relationship through a hidden column is not there.
 */
#include <string.h>

#include <apr_strings.h>

#include "planner.h"

/* Whether a foreign key points at rel (never at a function's own result,
 * which may share a table's name). */
static int references(const ar_foreign_key *fk, const ar_relation *rel)
{
    return rel->kind != AR_KIND_RESULT && strcmp(fk->ref_schema, rel->schema) == 0
           && strcmp(fk->ref_relation, rel->name) == 0;
}

static int name_in(const apr_array_header_t *names, const char *name)
{
    int i;

    for (i = 0; i < names->nelts; i++)
        if (strcmp(APR_ARRAY_IDX(names, i, const char *), name) == 0)
            return 1;
    return 0;
}

/* Whether key's columns are all among names (and, exact, no others). */
static int key_within(const ar_relation *rel, const ar_key *key,
                      const apr_array_header_t *names, int exact)
{
    int i;

    if (!key || (exact && key->cols->nelts != names->nelts))
        return 0;
    for (i = 0; i < key->cols->nelts; i++)
        if (!name_in(names, plan_column_at(rel, APR_ARRAY_IDX(key->cols, i, int))->name))
            return 0;
    return 1;
}

/* Whether names are unique in rel: its primary key or a unique key is made
 * of exactly those columns (then a foreign key on them is one-to-one). */
static int unique_on(const ar_relation *rel, const apr_array_header_t *names)
{
    int i;

    if (key_within(rel, rel->primary_key, names, 1))
        return 1;
    for (i = 0; rel->unique_keys && i < rel->unique_keys->nelts; i++)
        if (key_within(rel, &APR_ARRAY_IDX(rel->unique_keys, i, ar_key), names, 1))
            return 1;
    return 0;
}

/* Whether two keys are over the same columns (in any order). */
static int same_columns(const apr_array_header_t *a, const apr_array_header_t *b)
{
    int i;

    if (a->nelts != b->nelts)
        return 0;
    for (i = 0; i < a->nelts; i++)
        if (!name_in(b, APR_ARRAY_IDX(a, i, const char *)))
            return 0;
    return 1;
}

/* Whether every column of both keys belongs to one key of the junction:
 * the rows of the junction are then the pairs, as PostgREST requires. A
 * key and the copy a view took of it (ar_schema_link_views: same name), or
 * two keys over the same columns, relate a value to itself: no pairs. */
static int junction_key(const ar_relation *j, const ar_foreign_key *a, const ar_foreign_key *b,
                        apr_pool_t *p)
{
    apr_array_header_t *both = apr_array_append(p, a->cols, b->cols);
    const ar_key *pk = j->primary_key;
    int i;

    if (strcmp(a->name, b->name) == 0 || same_columns(a->cols, b->cols))
        return 0;

    /* the key's columns must cover both foreign keys: check the other way */
    for (i = -1; i < (j->unique_keys ? j->unique_keys->nelts : 0); i++) {
        const ar_key *k = i < 0 ? pk : &APR_ARRAY_IDX(j->unique_keys, i, ar_key);
        int n, covered = k != NULL;

        for (n = 0; covered && n < both->nelts; n++) {
            int idx = ar_relation_column_index(j, APR_ARRAY_IDX(both, n, const char *)), m;
            covered = 0;
            for (m = 0; idx >= 0 && m < k->cols->nelts; m++)
                covered |= APR_ARRAY_IDX(k->cols, m, int) == idx;
        }
        if (covered)
            return 1;
    }
    return 0;
}

static void add_candidate(apr_array_header_t *out, ar_cardinality card, const ar_relation *parent,
                          const ar_relation *target, const ar_foreign_key *fk, int fk_on_parent,
                          const ar_relation *junction, const ar_foreign_key *fk_target)
{
    ar_relationship *c = apr_array_push(out);

    c->card = card;
    c->parent = parent;
    c->target = target;
    c->fk = fk;
    c->fk_on_parent = fk_on_parent;
    c->junction = junction;
    c->fk_target = fk_target;
}

/* Every relationship between parent and target through foreign keys:
 * parent's keys to target (many-to-one, or one-to-one when unique),
 * target's keys to parent (one-to-many, or one-to-one), and junctions with
 * a key to each (many-to-many). A self-referencing key gives both of the
 * first two. Junctions must be exposed: a hidden table is not walked. */
static apr_array_header_t *relationships(apr_pool_t *p, const ar_schema *s, const ar_exposure *x,
                                         const ar_relation *parent, const ar_relation *target)
{
    apr_array_header_t *out = apr_array_make(p, 2, sizeof(ar_relationship));
    int i, a, b;

    /* A table's key to itself is one-to-many when embedded by the table's
     * name, as in PostgREST: the many-to-one side (the manager of a
     * person) is embedded by the key's column or name instead
     * (manager_id(...), see plan_embed). */
    for (i = 0; parent != target && parent->foreign_keys && i < parent->foreign_keys->nelts; i++) {
        const ar_foreign_key *fk = &APR_ARRAY_IDX(parent->foreign_keys, i, ar_foreign_key);
        if (references(fk, target))
            add_candidate(out, unique_on(parent, fk->cols) ? AR_CARD_O2O : AR_CARD_M2O, parent,
                          target, fk, 1, NULL, NULL);
    }
    for (i = 0; target->foreign_keys && i < target->foreign_keys->nelts; i++) {
        const ar_foreign_key *fk = &APR_ARRAY_IDX(target->foreign_keys, i, ar_foreign_key);
        if (references(fk, parent))
            add_candidate(out, unique_on(target, fk->cols) ? AR_CARD_O2O : AR_CARD_O2M, parent,
                          target, fk, 0, NULL, NULL);
    }
    for (i = 0; i < s->relations->nelts; i++) {
        const ar_relation *j = APR_ARRAY_IDX(s->relations, i, const ar_relation *);

        if (j == parent || j == target || !j->foreign_keys || !ar_exposed_relation(x, j))
            continue;
        for (a = 0; a < j->foreign_keys->nelts; a++) {
            const ar_foreign_key *fa = &APR_ARRAY_IDX(j->foreign_keys, a, ar_foreign_key);
            if (!references(fa, parent))
                continue;
            for (b = 0; b < j->foreign_keys->nelts; b++) {
                const ar_foreign_key *fb = &APR_ARRAY_IDX(j->foreign_keys, b, ar_foreign_key);
                if (b != a && references(fb, target) && junction_key(j, fa, fb, p))
                    add_candidate(out, AR_CARD_M2M, parent, target, fa, 0, j, fb);
            }
        }
    }
    /* one through a hidden column is not there (its values would show) */
    for (i = a = 0; i < out->nelts; i++)
        if (ar_exposed_relationship(x, &APR_ARRAY_IDX(out, i, ar_relationship)))
            APR_ARRAY_IDX(out, a++, ar_relationship) = APR_ARRAY_IDX(out, i, ar_relationship);
    out->nelts = a;
    return out;
}

/* How well a hint names a relationship: 2 for its key's name, the
 * junction's name, or a column on the parent's side of the key; 1 for a
 * column on the target's side; 0 not at all. */
static int hint_score(const ar_relationship *c, const char *hint)
{
    const ar_foreign_key *fk = c->fk;

    if (c->card == AR_CARD_M2M)
        return strcmp(c->junction->name, hint) == 0 || strcmp(fk->name, hint) == 0
                       || strcmp(c->fk_target->name, hint) == 0
                   ? 2 : 0;
    if (strcmp(fk->name, hint) == 0)
        return 2;
    if (name_in(c->fk_on_parent ? fk->cols : fk->ref_cols, hint))
        return 2;
    if (name_in(c->fk_on_parent ? fk->ref_cols : fk->cols, hint))
        return 1;
    return 0;
}

/* A new embedded resource over r, with no columns, filters or order yet. */
ar_embed_plan *plan_new_embed(planner *pl, const ar_relationship *r, const char *key,
                              int depth)
{
    ar_embed_plan *ep = apr_pcalloc(pl->p, sizeof(*ep));

    ep->rel = *r;
    ep->key = key;
    ep->limit = AR_UNSET;
    ep->depth = depth;
    ep->id = ++pl->next_id;
    ep->columns = apr_array_make(pl->p, r->target->columns->nelts + 1, sizeof(ar_output_column));
    ep->embeds = apr_array_make(pl->p, 1, sizeof(const ar_embed_plan *));
    return ep;
}

/* The parent's foreign key named by name, its constraint's name or its one
 * column (subsidies?select=project_id(name), people?select=manager_id(name)),
 * whose target is exposed and whose columns are shown: pushed onto out as
 * the one relationship it names (many-to-one, or one-to-one); 0 when none. */
static int key_named(const ar_schema *s, const ar_exposure *x, const ar_relation *parent,
                     const char *name, apr_array_header_t *out)
{
    int i;

    for (i = 0; parent->foreign_keys && i < parent->foreign_keys->nelts; i++) {
        const ar_foreign_key *fk = &APR_ARRAY_IDX(parent->foreign_keys, i, ar_foreign_key);
        const ar_relation *target;

        if (strcmp(fk->name, name) != 0
            && !(fk->cols->nelts == 1 && strcmp(APR_ARRAY_IDX(fk->cols, 0, const char *), name) == 0))
            continue;
        target = ar_schema_find(s, fk->ref_schema, fk->ref_relation);
        if (!target || !ar_exposed_relation(x, target))
            continue;
        add_candidate(out, unique_on(parent, fk->cols) ? AR_CARD_O2O : AR_CARD_M2O, parent,
                      target, fk, 1, NULL, NULL);
        if (ar_exposed_relationship(x, &APR_ARRAY_IDX(out, out->nelts - 1, ar_relationship)))
            return 1;
        out->nelts--;
    }
    return 0;
}

/* rel(...) of parent: the one relationship the name and hint pick, and the
 * embedded columns. None: 400; several: 300 listing them. */

ar_error *plan_embed(planner *pl, const ar_relation *parent, const ar_embed_request *em,
                     const char *key, int depth, ar_embed_plan **out)
{
    apr_pool_t *p = pl->p;
    const ar_schema *s = pl->s;
    const ar_exposure *x = pl->x;
    const ar_relation *target = ar_resolve_relation(s, x, parent->schema, em->name);
    apr_array_header_t *cands = apr_array_make(p, 2, sizeof(ar_relationship)), *best;
    ar_embed_plan *ep;
    ar_error *e;
    int i, top = 0;

    /* Not a relation: the parent's key by column or constraint name, the
     * one relationship it names (many-to-one, or one-to-one). */
    if ((!target || !ar_exposed_relation(x, target)) && !em->hint
        && key_named(s, x, parent, em->name, cands)) {
        target = APR_ARRAY_IDX(cands, 0, ar_relationship).target;
        goto chosen;
    }
    if (!target || !ar_exposed_relation(x, target))
        return ar_error_make(p, AR_ERR_NO_RELATIONSHIP,
                             apr_psprintf(p, "could not find a relationship between '%s' and '%s'",
                                          parent->name, em->name),
                             apr_psprintf(p, "'%s' is not a relation of this API", em->name),
                             "GET the index of this API to see the relations");
    cands = relationships(p, s, x, parent, target);
chosen:
    best = apr_array_make(p, cands->nelts + 1, sizeof(ar_relationship));
    for (i = 0; i < cands->nelts; i++) {
        const ar_relationship *c = &APR_ARRAY_IDX(cands, i, ar_relationship);
        int score = em->hint ? hint_score(c, em->hint) : 1;

        if (score > top) {
            top = score;
            best->nelts = 0;
        }
        if (score && score == top)
            *(ar_relationship *)apr_array_push(best) = *c;
    }
    if (best->nelts == 0)
        return ar_error_make(p, AR_ERR_NO_RELATIONSHIP,
                             apr_psprintf(p, "could not find a relationship between '%s' and '%s'",
                                          parent->name, target->name),
                             em->hint ? apr_psprintf(p, "no foreign key fits the hint '%s'", em->hint)
                                      : "no foreign key relates them",
                             NULL);
    if (best->nelts > 1) {
        e = ar_error_make(p, AR_ERR_AMBIGUOUS_EMBED,
                          apr_psprintf(p, "more than one relationship was found for '%s' and '%s'",
                                       parent->name, target->name),
                          NULL,
                          apr_psprintf(p, "pick one with %s!<hint>(...), a hint from the details",
                                       target->name));
        e->candidates = best;
        return e;
    }
    ep = plan_new_embed(pl, &APR_ARRAY_IDX(best, 0, ar_relationship), key, depth);
    ep->inner = em->inner;
    if ((e = plan_columns(pl, target, em->select, depth + 1, ep->columns, ep->embeds)))
        return e;
    ep->grouped = plan_has_aggregate(ep->columns);
    *out = ep;
    return NULL;
}

/* ---------------------------------------------- what a read may run */

static int columns_run_code(const apr_array_header_t *columns)
{
    int i;

    /* a cast may be to a type made in the database (its own input or cast
     * function); aggregates are built in, over columns read_runs_code saw */
    for (i = 0; i < columns->nelts; i++) {
        const ar_output_column *oc = &APR_ARRAY_IDX(columns, i, ar_output_column);
        if (oc->cast || oc->agg_cast)
            return 1;
    }
    return 0;
}

static int embed_runs_code(const ar_embed_plan *e);

/* An order term may read a related row of its own (Flask-Restless's
 * order_by of rel__field): a sub-select over its relation. */
static int order_runs_code(const apr_array_header_t *order)
{
    int i;

    for (i = 0; order && i < order->nelts; i++) {
        const ar_order_term *t = &APR_ARRAY_IDX(order, i, ar_order_term);
        if (t->embed && embed_runs_code(t->embed))
            return 1;
    }
    return 0;
}

/* A filter may read an embedded resource of its own (has/any, rel=is.null,
 * the relationship route's parent): an EXISTS over its relation. The
 * write planner asks the same walk whether any is there (match NULL). */
int ar_cond_any_embed(const ar_cond *c, int (*match)(const ar_embed_plan *))
{
    int i;

    if (!c)
        return 0;
    if (c->embed && (!match || match(c->embed)))
        return 1;
    for (i = 0; c->children && i < c->children->nelts; i++)
        if (ar_cond_any_embed(APR_ARRAY_IDX(c->children, i, const ar_cond *), match))
            return 1;
    return 0;
}

static int embeds_run_code(const apr_array_header_t *embeds)
{
    int i;

    for (i = 0; embeds && i < embeds->nelts; i++)
        if (embed_runs_code(APR_ARRAY_IDX(embeds, i, const ar_embed_plan *)))
            return 1;
    return 0;
}

static int embed_runs_code(const ar_embed_plan *e)
{
    return e->rel.target->read_runs_code
           || (e->rel.junction && e->rel.junction->read_runs_code)
           || columns_run_code(e->columns) || embeds_run_code(e->embeds)
           || ar_cond_any_embed(e->where, embed_runs_code) || order_runs_code(e->order);
}

int ar_read_plan_runs_code(const ar_read_plan *plan)
{
    /* a function's rows, or a write's, ran code of their own */
    if (plan->call || plan->source || plan->relation->read_runs_code
        || (plan->parent && plan->parent->read_runs_code))
        return 1;
    return columns_run_code(plan->columns) || embeds_run_code(plan->embeds)
           || ar_cond_any_embed(plan->where, embed_runs_code) || order_runs_code(plan->order);
}
