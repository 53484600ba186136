/*
 * plan_restless.c: Flask-Restless's relationships in the read planner
 * (planner.h): automap's names for them (q= filters and order_by through
 * them, rel__field), and the related objects each row carries. Pure core.
 */
#include <string.h>

#include <apr_strings.h>

#include "planner.h"

/* rel's relationships as automap names them, worked out once per request. */
static const apr_array_header_t *automap_list(planner *pl, const ar_relation *rel)
{
    const apr_array_header_t *list;

    if (!pl->automap)
        pl->automap = apr_hash_make(pl->p);
    list = apr_hash_get(pl->automap, &rel, sizeof(rel));
    if (!list) {
        list = ar_restless_relationships(pl->p, pl->s, pl->x, rel);
        apr_hash_set(pl->automap, apr_pmemdup(pl->p, &rel, sizeof(rel)), sizeof(rel), list);
    }
    return list;
}

const ar_named_relationship *plan_named_relationship(planner *pl, const ar_relation *rel,
                                                     const char *name)
{
    const apr_array_header_t *list = automap_list(pl, rel);
    int i;

    for (i = 0; i < list->nelts; i++)
        if (strcmp(APR_ARRAY_IDX(list, i, ar_named_relationship).name, name) == 0)
            return &APR_ARRAY_IDX(list, i, ar_named_relationship);
    return NULL;
}

/* name as "relationship" or "relationship__field", by automap's names,
 * which may hold "__" themselves: the relationship is all of name, else the
 * longest part before a "__" that is one; *field what follows that "__"
 * (NULL for all of name). NULL when no part is a relationship. */
const ar_named_relationship *plan_split_related(planner *pl, const ar_relation *rel,
                                                const char *name, const char **field)
{
    const ar_named_relationship *nr = plan_named_relationship(pl, rel, name);
    apr_size_t i;

    *field = NULL;
    for (i = strlen(name); !nr && i-- > 1;) {
        if (name[i - 1] != '_' || name[i] != '_')
            continue;
        nr = plan_named_relationship(pl, rel, apr_pstrmemdup(pl->p, name, i - 1));
        if (nr)
            *field = name + i + 1;
    }
    return nr;
}

/* A q= leaf about a relationship, by automap's name: has/any (the related
 * rows that match children[0] exist), or is_null/is_not_null on the
 * relationship (none exist / some do), as SQLAlchemy's has(), any() and
 * == None read them. *done when c was one; other operators on a
 * relationship are refused, as Flask-Restless refused them. */
ar_error *plan_resolve_related(planner *pl, const ar_relation *rel, ar_cond *c, int *done)
{
    apr_pool_t *p = pl->p;
    const char *name = c->field.column, *field;
    const ar_named_relationship *nr;
    int idx = ar_relation_column_index(rel, name);
    const ar_cond *asked;
    ar_embed_plan *ep;
    ar_cond *inner;
    ar_error *e;

    *done = 0;
    if (c->op != AR_OP_HAS && c->op != AR_OP_ANY) {
        if ((idx >= 0 && ar_exposed_column(pl->x, rel, plan_column_at(rel, idx))) || c->other
            || (c->field.path && c->field.path->nelts))
            return NULL; /* a column, as ever */
        if ((nr = plan_split_related(pl, rel, name, &field)) != NULL && field) {
            *done = 1;
            return ar_error_make(p, AR_ERR_BAD_Q,
                                 apr_psprintf(p, "'%s' is a related object's field: filter "
                                                 "it with has or any", name),
                                 NULL, "{\"name\":\"rel__field\",\"op\":\"any\",\"val\":1}");
        }
        if (!nr)
            return NULL; /* an unknown column: plan_resolve_field says so */
        *done = 1;
        if (c->op != AR_OP_IS || (c->is_value != AR_IS_NULL && c->is_value != AR_IS_NOT_NULL))
            return ar_error_make(p, AR_ERR_BAD_Q,
                                 apr_psprintf(p, "'%s' is a relationship: filter its objects "
                                                 "with has or any, or test it with is_null", name),
                                 NULL, NULL);
        c->embed = plan_new_embed(pl, &nr->rel, nr->name, 1);
        return NULL;
    }
    *done = 1;
    if (!(nr = plan_split_related(pl, rel, name, &field)))
        return ar_error_make(p, AR_ERR_NO_RELATIONSHIP,
                             apr_psprintf(p, "'%s' has no relationship '%s'", rel->name, name),
                             NULL, "relationships are named as SQLAlchemy's automap names "
                                   "them: <table> for one object, <table>_collection for a list");
    if (c->op == AR_OP_HAS && plan_is_many(&nr->rel))
        return ar_error_make(p, AR_ERR_BAD_Q,
                             apr_psprintf(p, "'%s' is a list of objects: use any", name),
                             NULL, NULL);
    if (c->op == AR_OP_ANY && !plan_is_many(&nr->rel))
        return ar_error_make(p, AR_ERR_BAD_Q,
                             apr_psprintf(p, "'%s' is one object: use has", name), NULL, NULL);
    asked = APR_ARRAY_IDX(c->children, 0, const ar_cond *);
    if (asked->kind == AR_COND_LEAF && !asked->field.column) {
        /* "rel__field" with a value: the field is what follows the name */
        ar_cond *leaf;

        if (!field)
            return ar_error_make(p, AR_ERR_BAD_Q,
                                 apr_psprintf(p, "'%s' with a value needs \"name\": "
                                                 "\"%s__<field>\"", nr->name, nr->name),
                                 NULL, NULL);
        leaf = apr_pmemdup(p, asked, sizeof(*asked));
        leaf->field.column = field;
        asked = leaf;
    }
    ep = plan_new_embed(pl, &nr->rel, nr->name, 1);
    if ((e = plan_resolve_cond(pl, nr->rel.target, NULL, asked, &inner)) != NULL)
        return e;
    ep->where = plan_and_node(p);
    APR_ARRAY_PUSH(ep->where->children, ar_cond *) = inner;
    c->embed = ep;
    return NULL;
}

/* Flask-Restless's objects: every relationship one level deep, under its
 * automap name after the columns; a related object has its columns only. */
void plan_add_related_objects(planner *pl, const ar_relation *rel, ar_read_plan *out)
{
    const apr_array_header_t *list = automap_list(pl, rel);
    int i, j;

    for (i = 0; i < list->nelts; i++) {
        const ar_named_relationship *nr = &APR_ARRAY_IDX(list, i, ar_named_relationship);
        const ar_relation *t = nr->rel.target;
        ar_embed_plan *ep = plan_new_embed(pl, &nr->rel, nr->name, 1);
        ar_output_column *oc;

        for (j = 0; j < t->columns->nelts; j++)
            if (ar_exposed_column(pl->x, t, plan_column_at(t, j)))
                plan_add_output(ep->columns, plan_column_at(t, j), NULL, NULL, NULL);
        APR_ARRAY_PUSH(out->embeds, const ar_embed_plan *) = ep;
        oc = apr_array_push(out->columns);
        memset(oc, 0, sizeof(*oc));
        oc->embed = ep;
        oc->name = nr->name;
        oc->enc = AR_ENC_EMBED;
        oc->elem_enc = AR_ENC_STRING;
    }
}
