/*
 * test_embed.c: embedded resources (select=...,rel(...)) through the pure
 * core: which relationship a name and a hint pick (plan.c), the errors when
 * none or several fit (error.c), and the SQL that builds each embedded value
 * in the one statement (sql.c). No server: t/api/160_embed.t runs the same
 * shapes against PostgreSQL.
 *
 * The schema, by hand (as t/fixtures/80_embed.sql has it):
 *   projects(id pk, name)              subsidies(id pk, project_id -> projects)
 *   project_sites(project_id pk -> projects)      one-to-one
 *   tags(id pk, label)   project_tags(project_id -> projects, tag_id -> tags,
 *                                     pk(project_id, tag_id))   many-to-many
 *   people(id pk, name, manager_id -> people)     self-reference
 *   inspections(id pk, project_id -> projects, inspector_id -> people,
 *               reviewer_id -> people)           two keys to one table
 *   units(building, unit_no, pk both)  leases(id pk, (building, unit_no) -> units)
 *   loners(id pk)                                 related to nothing
 *   secrets(id pk, project_id -> projects)        excluded from the API
 *   blank(id pk, project_id -> projects)          every column hidden
 *   v_projects(id, name <- projects; label)       views, with their columns'
 *   v_subsidies(id, pid <- subsidies.project_id)  origins (ar_schema_link_views)
 *   notes(project_id -> projects, body)           no primary key
 *   reports(id pk, people, author_id -> people)   a column named as automap
 *                                                 would name the relationship
 *   visits(id pk hidden, project_id -> projects, day)
 *   log__entries(id pk, project_id -> projects)   "__" in a table's name
 *   memberships(project_id -> projects, tenant -> auth.tenants, tag_id -> tags,
 *               pk(project_id, tenant))           three keys: no junction
 *   tposts(tenant, id), ttags(tenant, id), tpost_tags(tenant, post_id, tag_id,
 *               (tenant, post_id) -> tposts, (tenant, tag_id) -> ttags)
 *                                                 a junction sharing a column
 * Hidden: projects.meta, every column of blank, and projects.tags_collection
 * (a relationship's name in Flask-Restless's dialect).
 */
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_hash.h>
#include <apr_strings.h>

#include "autorest.h"
#include "tap.h"
#include "ar_checks.h"
#include "schema_kit.h"

static apr_pool_t *pool;
static ar_schema *schema;
static ar_exposure expo;

/* ------------------------------------------------------------- schema */

static ar_relation *mkrel(const char *name)
{
    return kit_relation(pool, schema, "embed", name);
}

/* A nullable, sortable column. */
static void col(ar_relation *r, const char *name, const char *type, ar_encoding enc)
{
    kit_column(r, name, type, enc, 1, 1);
}

/* A one-column foreign key to embed.ref. */
static void fk(ar_relation *r, const char *name, const char *ref, const char *column,
               const char *ref_column)
{
    kit_foreign_key(pool, r, name, "embed", ref, column, ref_column, NULL);
}

static void origin(ar_relation *view, const char *column, const char *relation,
                   const char *origin_column)
{
    ar_column_origin *o;

    if (!view->origins)
        view->origins = apr_array_make(pool, 2, sizeof(ar_column_origin));
    o = apr_array_push(view->origins);
    o->column = column;
    o->schema = "embed";
    o->relation = relation;
    o->origin = origin_column;
}

static void build_schema(void)
{
    ar_relation *r;
    apr_array_header_t *schemas = apr_array_make(pool, 1, sizeof(const char *));

    schema = ar_schema_create(pool);
    r = mkrel("projects");
    col(r, "id", "integer", AR_ENC_NUMBER);
    col(r, "name", "text", AR_ENC_STRING);
    col(r, "meta", "jsonb", AR_ENC_JSON);
    r->primary_key = kit_key(pool, "projects_pkey", 0, -1);

    r = mkrel("subsidies");
    col(r, "id", "integer", AR_ENC_NUMBER);
    col(r, "project_id", "integer", AR_ENC_NUMBER);
    col(r, "amount", "numeric", AR_ENC_NUMBER);
    r->primary_key = kit_key(pool, "subsidies_pkey", 0, -1);
    fk(r, "subsidies_project_id_fkey", "projects", "project_id", "id");

    r = mkrel("project_sites");
    col(r, "project_id", "integer", AR_ENC_NUMBER);
    col(r, "address", "text", AR_ENC_STRING);
    r->primary_key = kit_key(pool, "project_sites_pkey", 0, -1);
    fk(r, "project_sites_project_id_fkey", "projects", "project_id", "id");

    r = mkrel("tags");
    col(r, "id", "integer", AR_ENC_NUMBER);
    col(r, "label", "text", AR_ENC_STRING);
    r->primary_key = kit_key(pool, "tags_pkey", 0, -1);

    r = mkrel("project_tags");
    col(r, "project_id", "integer", AR_ENC_NUMBER);
    col(r, "tag_id", "integer", AR_ENC_NUMBER);
    r->primary_key = kit_key(pool, "project_tags_pkey", 0, 1, -1);
    fk(r, "project_tags_project_id_fkey", "projects", "project_id", "id");
    fk(r, "project_tags_tag_id_fkey", "tags", "tag_id", "id");

    r = mkrel("people");
    col(r, "id", "integer", AR_ENC_NUMBER);
    col(r, "name", "text", AR_ENC_STRING);
    col(r, "manager_id", "integer", AR_ENC_NUMBER);
    r->primary_key = kit_key(pool, "people_pkey", 0, -1);
    fk(r, "people_manager_id_fkey", "people", "manager_id", "id");

    r = mkrel("inspections");
    col(r, "id", "integer", AR_ENC_NUMBER);
    col(r, "project_id", "integer", AR_ENC_NUMBER);
    col(r, "inspector_id", "integer", AR_ENC_NUMBER);
    col(r, "reviewer_id", "integer", AR_ENC_NUMBER);
    r->primary_key = kit_key(pool, "inspections_pkey", 0, -1);
    fk(r, "inspections_project_id_fkey", "projects", "project_id", "id");
    fk(r, "inspections_inspector_fkey", "people", "inspector_id", "id");
    fk(r, "inspections_reviewer_fkey", "people", "reviewer_id", "id");

    r = mkrel("units");
    col(r, "building", "text", AR_ENC_STRING);
    col(r, "unit_no", "integer", AR_ENC_NUMBER);
    col(r, "rooms", "integer", AR_ENC_NUMBER);
    r->primary_key = kit_key(pool, "units_pkey", 0, 1, -1);

    r = mkrel("leases");
    col(r, "id", "integer", AR_ENC_NUMBER);
    col(r, "building", "text", AR_ENC_STRING);
    col(r, "unit_no", "integer", AR_ENC_NUMBER);
    r->primary_key = kit_key(pool, "leases_pkey", 0, -1);
    kit_foreign_key(pool, r, "leases_unit_fkey",
                    "embed", "units", "building", "building", "unit_no", "unit_no", NULL);

    r = mkrel("loners");
    col(r, "id", "integer", AR_ENC_NUMBER);
    r->primary_key = kit_key(pool, "loners_pkey", 0, -1);

    r = mkrel("blank");                      /* every column hidden */
    col(r, "id", "integer", AR_ENC_NUMBER);
    col(r, "project_id", "integer", AR_ENC_NUMBER);
    r->primary_key = kit_key(pool, "blank_pkey", 0, -1);
    fk(r, "blank_project_id_fkey", "projects", "project_id", "id");

    r = mkrel("secrets");
    col(r, "id", "integer", AR_ENC_NUMBER);
    col(r, "project_id", "integer", AR_ENC_NUMBER);
    r->primary_key = kit_key(pool, "secrets_pkey", 0, -1);
    fk(r, "secrets_project_id_fkey", "projects", "project_id", "id");

    /* views: v_projects shows projects' id and name (its "label" is computed),
     * v_subsidies shows subsidies' id and project_id (as "pid") */
    r = mkrel("v_projects");
    r->kind = 'v';
    col(r, "id", "integer", AR_ENC_NUMBER);
    col(r, "name", "text", AR_ENC_STRING);
    col(r, "label", "text", AR_ENC_STRING);
    origin(r, "id", "projects", "id");
    origin(r, "name", "projects", "name");
    r = mkrel("v_subsidies");
    r->kind = 'v';
    col(r, "id", "integer", AR_ENC_NUMBER);
    col(r, "pid", "integer", AR_ENC_NUMBER);
    origin(r, "id", "subsidies", "id");
    origin(r, "pid", "subsidies", "project_id");
    ar_schema_link_views(schema);

    r = mkrel("notes");
    col(r, "project_id", "integer", AR_ENC_NUMBER);
    col(r, "body", "text", AR_ENC_STRING);
    fk(r, "notes_project_id_fkey", "projects", "project_id", "id");
    r = mkrel("visits");                     /* its key hidden */
    col(r, "id", "integer", AR_ENC_NUMBER);
    col(r, "project_id", "integer", AR_ENC_NUMBER);
    col(r, "day", "date", AR_ENC_STRING);
    r->primary_key = kit_key(pool, "visits_pkey", 0, -1);
    fk(r, "visits_project_id_fkey", "projects", "project_id", "id");
    r = mkrel("log__entries");               /* "__" in a relationship's name */
    col(r, "id", "integer", AR_ENC_NUMBER);
    col(r, "project_id", "integer", AR_ENC_NUMBER);
    r->primary_key = kit_key(pool, "log__entries_pkey", 0, -1);
    fk(r, "log__entries_project_id_fkey", "projects", "project_id", "id");
    r = mkrel("memberships");                /* a third key, to a schema not reflected */
    col(r, "project_id", "integer", AR_ENC_NUMBER);
    col(r, "tenant", "integer", AR_ENC_NUMBER);
    col(r, "tag_id", "integer", AR_ENC_NUMBER);
    r->primary_key = kit_key(pool, "memberships_pkey", 0, 1, -1);
    fk(r, "memberships_project_fkey", "projects", "project_id", "id");
    fk(r, "memberships_tag_fkey", "tags", "tag_id", "id");
    kit_foreign_key(pool, r, "memberships_tenant_fkey", "auth", "tenants", "tenant", "id", NULL);
    r = mkrel("tposts");                     /* a junction whose keys share tenant */
    col(r, "tenant", "integer", AR_ENC_NUMBER);
    col(r, "id", "integer", AR_ENC_NUMBER);
    r->primary_key = kit_key(pool, "tposts_pkey", 0, 1, -1);
    r = mkrel("ttags");
    col(r, "tenant", "integer", AR_ENC_NUMBER);
    col(r, "id", "integer", AR_ENC_NUMBER);
    r->primary_key = kit_key(pool, "ttags_pkey", 0, 1, -1);
    r = mkrel("tpost_tags");
    col(r, "tenant", "integer", AR_ENC_NUMBER);
    col(r, "post_id", "integer", AR_ENC_NUMBER);
    col(r, "tag_id", "integer", AR_ENC_NUMBER);
    r->primary_key = kit_key(pool, "tpost_tags_pkey", 0, 1, 2, -1);
    kit_foreign_key(pool, r, "tpost_tags_post_fkey",
                    "embed", "tposts", "tenant", "tenant", "post_id", "id", NULL);
    kit_foreign_key(pool, r, "tpost_tags_tag_fkey",
                    "embed", "ttags", "tenant", "tenant", "tag_id", "id", NULL);
    r = mkrel("reports");
    col(r, "id", "integer", AR_ENC_NUMBER);
    col(r, "people", "text", AR_ENC_STRING);
    col(r, "author_id", "integer", AR_ENC_NUMBER);
    r->primary_key = kit_key(pool, "reports_pkey", 0, -1);
    fk(r, "reports_author_id_fkey", "people", "author_id", "id");

    APR_ARRAY_PUSH(schemas, const char *) = "embed";
    expo.schemas = schemas;
    expo.excluded = apr_hash_make(pool);
    apr_hash_set(expo.excluded, "embed.secrets", APR_HASH_KEY_STRING, "");
    expo.hidden = apr_hash_make(pool);
    apr_hash_set(expo.hidden, "embed.projects.meta", APR_HASH_KEY_STRING, "");
    apr_hash_set(expo.hidden, "embed.blank.id", APR_HASH_KEY_STRING, "");
    apr_hash_set(expo.hidden, "embed.blank.project_id", APR_HASH_KEY_STRING, "");
    apr_hash_set(expo.hidden, "embed.projects.tags_collection", APR_HASH_KEY_STRING, "");
    apr_hash_set(expo.hidden, "embed.visits.id", APR_HASH_KEY_STRING, "");
}

/* ------------------------------------------------------------ helpers */

/* path?args in dialect d under a row cap of max_rows (0: none). */
static ar_error *plan_q(ar_dialect d, apr_int64_t max_rows, const char *path, const char *args,
                        ar_read_plan *out)
{
    ar_request_headers h = {NULL, NULL, NULL, NULL, NULL, NULL, AR_WRITE_NONE, 0, 0};
    ar_read_request req;
    ar_error *e = ar_query_parse(pool, d, path, args, &h, &req);

    req.aggregates = 1; /* as AutoRestAggregates On: only select= can ask for them */
    return e ? e : ar_plan_read(pool, schema, &expo, &req, max_rows, out);
}

static ar_error *plan(const char *path, const char *args, ar_read_plan *out)
{
    return plan_q(AR_DIALECT_POSTGREST, 0, path, args, out);
}

static const char *const card_names[] = {"M2O", "O2O", "O2M", "M2M"};

/* The first embedded resource of path?args: "card key-name". */
static const char *first_embed(const char *path, const char *args)
{
    ar_read_plan p;
    ar_error *e = plan(path, args, &p);
    int i;

    if (e)
        return apr_psprintf(pool, "error %s: %s", kind_name(e), e->message);
    for (i = 0; i < p.columns->nelts; i++) {
        const ar_output_column *oc = &APR_ARRAY_IDX(p.columns, i, ar_output_column);
        if (oc->embed)
            return apr_psprintf(pool, "%s %s", card_names[oc->embed->rel.card],
                                oc->embed->rel.fk->name);
    }
    return "(no embed)";
}

static void sql_q(ar_dialect d, apr_int64_t max_rows, const char *path, const char *args,
                  const char *want_sql, const char *want_params, const char *what)
{
    ar_read_plan p;
    ar_error *e = plan_q(d, max_rows, path, args, &p);

    statement_is(pool, e, &p, want_sql, want_params, what);
}

static void sql_is(const char *path, const char *args, const char *want_sql,
                   const char *want_params, const char *what)
{
    sql_q(AR_DIALECT_POSTGREST, 0, path, args, want_sql, want_params, what);
}

/* ------------------------------------------------------------- tests */

static void test_relationships(void)
{
    is_str(first_embed("/subsidies", "select=id,projects(name)"),
           "M2O subsidies_project_id_fkey", "subsidies -> projects: many-to-one");
    is_str(first_embed("/projects", "select=id,subsidies(id)"),
           "O2M subsidies_project_id_fkey", "projects -> subsidies: one-to-many");
    is_str(first_embed("/projects", "select=id,project_sites(address)"),
           "O2O project_sites_project_id_fkey",
           "projects -> project_sites: one-to-one (the key is project_sites' primary key)");
    is_str(first_embed("/project_sites", "select=address,projects(name)"),
           "O2O project_sites_project_id_fkey", "project_sites -> projects: one-to-one too");
    is_str(first_embed("/projects", "select=id,tags(label)"),
           "M2M project_tags_project_id_fkey",
           "projects -> tags: many-to-many through project_tags");
    is_str(first_embed("/tags", "select=id,projects(name)"),
           "M2M project_tags_tag_id_fkey", "tags -> projects: many-to-many the other way");
    is_str(first_embed("/leases", "select=id,units(rooms)"), "M2O leases_unit_fkey",
           "a composite foreign key: many-to-one");
    is_str(first_embed("/units", "select=rooms,leases(id)"), "O2M leases_unit_fkey",
           "a composite foreign key: one-to-many");
    /* self-reference, as PostgREST: by the table's name the reports
     * (one-to-many), by the key's column or name the manager (many-to-one) */
    is_str(first_embed("/people", "select=name,people(name)"),
           "O2M people_manager_id_fkey", "people(...) of people: the reports (one-to-many)");
    is_str(first_embed("/people", "select=name,people!manager_id(name)"),
           "O2M people_manager_id_fkey", "people!manager_id(...): the reports too");
    is_str(first_embed("/people", "select=name,manager_id(name)"),
           "M2O people_manager_id_fkey", "manager_id(...): the manager (many-to-one)");
    is_str(first_embed("/people", "select=name,people_manager_id_fkey(name)"),
           "M2O people_manager_id_fkey", "the key's name as the target: the manager");
    is_str(first_embed("/subsidies", "select=id,project_id(name)"),
           "M2O subsidies_project_id_fkey", "a key's column as the target, any table");
    /* two keys to one table */
    is_str(first_embed("/inspections", "select=id,people!inspections_inspector_fkey(name)"),
           "M2O inspections_inspector_fkey", "a hint by constraint name");
    is_str(first_embed("/inspections", "select=id,people!reviewer_id(name)"),
           "M2O inspections_reviewer_fkey", "a hint by column name");
    is_str(first_embed("/people", "select=id,inspections!inspector_id(id)"),
           "O2M inspections_inspector_fkey", "a hint by the target's column (one-to-many)");
    is_str(first_embed("/projects", "select=id,tags!project_tags(label)"),
           "M2M project_tags_project_id_fkey", "a many-to-many hint by the junction's name");
}

static void test_views(void)
{
    ar_read_plan p;

    is_str(first_embed("/v_projects", "select=id,subsidies(id)"),
           "O2M subsidies_project_id_fkey", "a view showing the key: one-to-many from it");
    is_str(first_embed("/subsidies", "select=id,v_projects(name)"),
           "M2O subsidies_project_id_fkey", "and many-to-one to it");
    is_str(first_embed("/v_subsidies", "select=id,projects(name)"),
           "M2O subsidies_project_id_fkey", "a view showing a foreign key's column takes the key");
    is_str(first_embed("/v_subsidies", "select=id,v_projects(name)"),
           "M2O subsidies_project_id_fkey", "view to view");
    is_str(first_embed("/v_projects", "select=id,tags(label)"),
           "M2M project_tags_project_id_fkey", "many-to-many from a view through the junction");
    is_str(first_embed("/v_projects", "select=id,projects(id)"),
           "error NO_RELATIONSHIP: could not find a relationship between 'v_projects' and "
           "'projects'",
           "a view and its table: no junction pairs a key with the view's copy of it");
    sql_is("/v_subsidies", "select=id,v_projects(name)",
           "SELECT \"id\", (SELECT row_to_json(\"r1\") FROM (SELECT \"e1\".\"name\" AS \"name\" "
           "FROM \"embed\".\"v_projects\" AS \"e1\" WHERE \"e1\".\"id\" = "
           "\"embed\".\"v_subsidies\".\"pid\") AS \"r1\") AS \"v_projects\" FROM "
           "\"embed\".\"v_subsidies\" ORDER BY \"id\", \"pid\"",
           "", "the join uses the views' own column names");
    is_str(first_embed("/v_projects", "select=id,project_sites(address)"),
           "O2O project_sites_project_id_fkey", "one-to-one: the referencing key is unique");
    is_err(plan("/v_projects", "select=id,inspections!nosuch(id)", &p), AR_ERR_NO_RELATIONSHIP,
           "a hint that fits nothing through a view: AR113");
    is_err(plan("/projects", "select=id,v_subsidies(id)&v_subsidies.label=eq.x", &p),
           AR_ERR_UNKNOWN_COLUMN, "the view's columns are its own: AR105");
}

static void test_errors(void)
{
    ar_read_plan p;
    ar_error *e;
    const char *j;

    e = plan("/inspections", "select=id,people(name)", &p);
    is_err(e, AR_ERR_AMBIGUOUS_EMBED, "two keys to people and no hint: ambiguous");
    ok(e && ar_error_status(e) == 300, "ambiguous: status 300");
    ok(e && e->candidates && e->candidates->nelts == 2, "ambiguous: two candidates");
    j = e ? ar_error_json(pool, e) : "";
    ok(strstr(j, "\"code\":\"AR114\"") && strstr(j, "\"details\":[{\"cardinality\":\"many-to-one\"")
           && strstr(j, "inspections_inspector_fkey using embed.inspections(inspector_id) and "
                        "embed.people(id)")
           && strstr(j, "\"hint\":\"inspections_reviewer_fkey\""),
       "ambiguous: the body lists each candidate with its key and the hint to give");
    if (!strstr(j, "inspections_inspector_fkey using"))
        printf("#   %s\n", j);
    is_err(plan("/people", "select=id,name(name)", &p), AR_ERR_NO_RELATIONSHIP,
           "a column that is no foreign key is no target: AR113");
    is_err(plan("/inspections", "select=id,people!id(name)", &p), AR_ERR_AMBIGUOUS_EMBED,
           "a hint both keys fit (their referenced column): still ambiguous");
    is_err(plan("/projects", "select=id,loners(id)", &p), AR_ERR_NO_RELATIONSHIP,
           "no foreign key between them: AR113");
    ok(ar_error_status(plan("/projects", "select=id,loners(id)", &p)) == 400,
       "no relationship: status 400");
    is_err(plan("/projects", "select=id,nowhere(id)", &p), AR_ERR_NO_RELATIONSHIP,
           "an unknown relation: AR113");
    is_err(plan("/projects", "select=id,secrets(id)", &p), AR_ERR_NO_RELATIONSHIP,
           "an excluded relation is unknown: AR113");
    is_err(plan("/subsidies", "select=id,projects!nosuchkey(name)", &p), AR_ERR_NO_RELATIONSHIP,
           "a hint that fits nothing: AR113");
    is_err(plan("/subsidies", "select=id,projects(nosuch)", &p), AR_ERR_UNKNOWN_COLUMN,
           "an unknown column inside: AR105");
    is_err(plan("/subsidies", "select=id,projects(meta)", &p), AR_ERR_UNKNOWN_COLUMN,
           "a hidden column inside is unknown: AR105");
    is_err(plan("/projects", "select=id,...subsidies(id)", &p), AR_ERR_UNSUPPORTED,
           "spreading a to-many resource: AR106");
    is_err(plan("/subsidies", "select=id,...projects(name,...project_sites(address))", &p),
           AR_ERR_UNSUPPORTED, "a spread inside a spread: AR106");
}

static void test_sql(void)
{
    ar_read_plan p;

    sql_is("/subsidies", "select=id,projects(id,name)",
           "SELECT \"id\", (SELECT row_to_json(\"r1\") FROM (SELECT \"e1\".\"id\" AS \"id\", "
           "\"e1\".\"name\" AS \"name\" FROM \"embed\".\"projects\" AS \"e1\" WHERE "
           "\"e1\".\"id\" = \"embed\".\"subsidies\".\"project_id\") AS \"r1\") AS \"projects\" "
           "FROM \"embed\".\"subsidies\" ORDER BY \"id\"",
           "", "many-to-one: row_to_json of the referenced row");
    sql_is("/projects", "select=id,grants:subsidies(amount)",
           "SELECT \"id\", (SELECT coalesce(json_agg(\"r1\"), json_build_array()) FROM (SELECT "
           "\"e1\".\"amount\" AS \"amount\" FROM \"embed\".\"subsidies\" AS \"e1\" WHERE "
           "\"e1\".\"project_id\" = \"embed\".\"projects\".\"id\" ORDER BY \"e1\".\"id\") AS \"r1\") "
           "AS \"grants\" "
           "FROM \"embed\".\"projects\" ORDER BY \"id\"",
           "", "one-to-many: json_agg, [] (json_build_array()) when none, under the alias");
    sql_is("/projects", "select=id,tags(label)",
           "SELECT \"id\", (SELECT coalesce(json_agg(\"r1\"), json_build_array()) FROM (SELECT "
           "\"e1\".\"label\" AS \"label\" FROM \"embed\".\"tags\" AS \"e1\" JOIN "
           "\"embed\".\"project_tags\" AS \"j1\" ON \"j1\".\"tag_id\" = \"e1\".\"id\" WHERE "
           "\"j1\".\"project_id\" = \"embed\".\"projects\".\"id\" ORDER BY \"e1\".\"id\") AS \"r1\") "
           "AS \"tags\" "
           "FROM \"embed\".\"projects\" ORDER BY \"id\"",
           "", "many-to-many: through the junction");
    sql_is("/people", "select=name,boss:manager_id(name,boss:manager_id(name))",
           "SELECT \"name\", (SELECT row_to_json(\"r1\") FROM (SELECT \"e1\".\"name\" AS "
           "\"name\", (SELECT row_to_json(\"r2\") FROM (SELECT \"e2\".\"name\" AS \"name\" "
           "FROM \"embed\".\"people\" AS \"e2\" WHERE \"e2\".\"id\" = \"e1\".\"manager_id\") "
           "AS \"r2\") AS \"boss\" FROM \"embed\".\"people\" AS \"e1\" WHERE \"e1\".\"id\" = "
           "\"embed\".\"people\".\"manager_id\") AS \"r1\") AS \"boss\" FROM "
           "\"embed\".\"people\" ORDER BY \"id\"",
           "", "self-reference, nested: each level names its parent's alias");
    sql_is("/leases", "select=id,units(rooms)",
           "SELECT \"id\", (SELECT row_to_json(\"r1\") FROM (SELECT \"e1\".\"rooms\" AS "
           "\"rooms\" FROM \"embed\".\"units\" AS \"e1\" WHERE \"e1\".\"building\" = "
           "\"embed\".\"leases\".\"building\" AND \"e1\".\"unit_no\" = "
           "\"embed\".\"leases\".\"unit_no\") AS \"r1\") AS \"units\" FROM \"embed\".\"leases\" "
           "ORDER BY \"id\"",
           "", "a composite key: every column pair");
    sql_is("/subsidies", "select=id,projects(n:name,name->>k)",
           "SELECT \"id\", (SELECT row_to_json(\"r1\") FROM (SELECT \"e1\".\"name\" AS \"n\", "
           "to_jsonb(\"e1\".\"name\")->>($1::text) AS \"k\" FROM \"embed\".\"projects\" AS "
           "\"e1\" WHERE \"e1\".\"id\" = \"embed\".\"subsidies\".\"project_id\") AS \"r1\") AS "
           "\"projects\" FROM \"embed\".\"subsidies\" ORDER BY \"id\"",
           "k", "aliases and JSON paths inside, their keys bound");
    sql_is("/projects", "select=id,subsidies!inner(id)",
           "SELECT \"id\", (SELECT coalesce(json_agg(\"r1\"), json_build_array()) FROM (SELECT \"e1\".\"id\" "
           "AS \"id\" FROM \"embed\".\"subsidies\" AS \"e1\" WHERE \"e1\".\"project_id\" = "
           "\"embed\".\"projects\".\"id\" ORDER BY \"e1\".\"id\") AS \"r1\") AS \"subsidies\" FROM "
           "\"embed\".\"projects\" WHERE true AND EXISTS (SELECT 1 FROM \"embed\".\"subsidies\" "
           "AS \"e1\" WHERE \"e1\".\"project_id\" = \"embed\".\"projects\".\"id\") ORDER BY "
           "\"id\"",
           "", "!inner: parents without a related row are dropped");
    sql_is("/projects", "select=id,subsidies!inner()",
           "SELECT \"id\" FROM \"embed\".\"projects\" WHERE true AND EXISTS (SELECT 1 FROM "
           "\"embed\".\"subsidies\" AS \"e1\" WHERE \"e1\".\"project_id\" = "
           "\"embed\".\"projects\".\"id\") ORDER BY \"id\"",
           "", "rel!inner(): filters, adds no key");
    sql_is("/projects", "select=id,subsidies(projects())",
           "SELECT \"id\", (SELECT coalesce(json_agg(\"r1\"), json_build_array()) FROM (SELECT  FROM "
           "\"embed\".\"subsidies\" AS \"e1\" WHERE \"e1\".\"project_id\" = \"embed\".\"projects\".\"id\" "
           "ORDER BY \"e1\".\"id\") AS \"r1\") AS \"subsidies\" FROM \"embed\".\"projects\" ORDER BY \"id\"",
           "", "an embedded level that selects only a filter: a select list of none, rows {}");
    sql_is("/subsidies", "select=count(),projects(name)",
           "SELECT count(*) AS \"count\", ((SELECT row_to_json(\"r1\") FROM (SELECT \"e1\".\"name\" AS "
           "\"name\" FROM \"embed\".\"projects\" AS \"e1\" WHERE \"e1\".\"id\" = "
           "\"embed\".\"subsidies\".\"project_id\") AS \"r1\")::text)::json AS \"projects\" FROM "
           "\"embed\".\"subsidies\" GROUP BY (SELECT row_to_json(\"r1\") FROM (SELECT \"e1\".\"name\" "
           "AS \"name\" FROM \"embed\".\"projects\" AS \"e1\" WHERE \"e1\".\"id\" = "
           "\"embed\".\"subsidies\".\"project_id\") AS \"r1\")::text",
           "", "aggregates beside an embedded resource: grouped by its JSON's text");
    sql_is("/subsidies", "select=...projects(name.max())",
           "SELECT max((SELECT \"e1\".\"name\" FROM \"embed\".\"projects\" AS \"e1\" WHERE "
           "\"e1\".\"id\" = \"embed\".\"subsidies\".\"project_id\")) AS \"max\" FROM "
           "\"embed\".\"subsidies\"",
           "", "an aggregate in a spread: over the parent's rows, of the related row's value");
    sql_is("/subsidies", "select=id,...projects(pname:name,name::text)",
           "SELECT \"id\", (SELECT \"e1\".\"name\" FROM \"embed\".\"projects\" AS \"e1\" WHERE "
           "\"e1\".\"id\" = \"embed\".\"subsidies\".\"project_id\") AS \"pname\", to_json((SELECT "
           "(\"e1\".\"name\")::text FROM \"embed\".\"projects\" AS \"e1\" WHERE "
           "\"e1\".\"id\" = \"embed\".\"subsidies\".\"project_id\")) AS \"name\" FROM "
           "\"embed\".\"subsidies\" ORDER BY \"id\"",
           "", "spread: each field read from the one related row, encoded as a top-level column");
    sql_is("/projects", "select=id,subsidies(id,...projects(name))",
           "SELECT \"id\", (SELECT coalesce(json_agg(\"r1\"), json_build_array()) FROM (SELECT \"e1\".\"id\" "
           "AS \"id\", (SELECT \"e2\".\"name\" FROM \"embed\".\"projects\" AS \"e2\" WHERE "
           "\"e2\".\"id\" = \"e1\".\"project_id\") AS \"name\" FROM \"embed\".\"subsidies\" AS "
           "\"e1\" WHERE \"e1\".\"project_id\" = \"embed\".\"projects\".\"id\" ORDER BY \"e1\".\"id\") "
           "AS \"r1\") AS \"subsidies\" FROM \"embed\".\"projects\" ORDER BY \"id\"",
           "", "spread inside an embedded resource");
    is_err(plan("/projects", "select=id,blank(*)", &p), AR_ERR_NO_RELATIONSHIP,
           "a relationship through a hidden column (blank.project_id) is not there: AR113");
    is_err(plan("/blank", "select=projects(id)", &p), AR_ERR_NO_RELATIONSHIP,
           "nor from its other side: AR113");
    sql_is("/projects", "select=id,visits(day)",
           "SELECT \"id\", (SELECT coalesce(json_agg(\"r1\"), json_build_array()) FROM (SELECT "
           "\"e1\".\"day\" AS \"day\" FROM \"embed\".\"visits\" AS \"e1\" WHERE "
           "\"e1\".\"project_id\" = \"embed\".\"projects\".\"id\" ORDER BY "
           "\"e1\".\"project_id\", \"e1\".\"day\") AS \"r1\") AS \"visits\" FROM "
           "\"embed\".\"projects\" ORDER BY \"id\"",
           "", "a list whose key is hidden comes in the order of its shown columns");
    is_str(first_embed("/tposts", "select=id,ttags(id)"), "M2M tpost_tags_post_fkey",
           "a junction whose two keys share a column (tenant) is one");
    sql_is("/projects", "select=id,subsidies()",
           "SELECT \"id\" FROM \"embed\".\"projects\" ORDER BY \"id\"",
           "", "rel(): no key, no subquery");
}

static void test_shaping(void)
{
    ar_read_plan p;

    sql_is("/projects", "select=id,subsidies(id)&subsidies.amount=gt.100&subsidies.order=amount.desc"
                        "&subsidies.limit=2&subsidies.offset=1&id=lt.9",
           "SELECT \"id\", (SELECT coalesce(json_agg(\"r1\"), json_build_array()) FROM (SELECT \"e1\".\"id\" "
           "AS \"id\" FROM \"embed\".\"subsidies\" AS \"e1\" WHERE \"e1\".\"project_id\" = "
           "\"embed\".\"projects\".\"id\" AND (\"e1\".\"amount\" > $1) ORDER BY "
           "\"e1\".\"amount\" DESC LIMIT 2 OFFSET $2) AS \"r1\") AS \"subsidies\" FROM "
           "\"embed\".\"projects\" WHERE (\"id\" < $3) ORDER BY \"id\"",
           "100|1|9",
           "rel.col filter, rel.order, rel.limit, rel.offset inside the subquery; the parent's "
           "filter outside; values bound in text order");
    sql_is("/projects", "select=id,g:subsidies(id)&g.or=(amount.lt.5,id.eq.3)",
           "SELECT \"id\", (SELECT coalesce(json_agg(\"r1\"), json_build_array()) FROM (SELECT \"e1\".\"id\" "
           "AS \"id\" FROM \"embed\".\"subsidies\" AS \"e1\" WHERE \"e1\".\"project_id\" = "
           "\"embed\".\"projects\".\"id\" AND ((\"e1\".\"amount\" < $1 OR \"e1\".\"id\" = "
           "$2)) ORDER BY \"e1\".\"id\") AS \"r1\") AS \"g\" FROM \"embed\".\"projects\" ORDER BY \"id\"",
           "5|3", "rel.or through the alias");
    sql_is("/projects", "select=id,subsidies()&subsidies=is.null",
           "SELECT \"id\" FROM \"embed\".\"projects\" WHERE (NOT EXISTS (SELECT 1 FROM "
           "\"embed\".\"subsidies\" AS \"e1\" WHERE \"e1\".\"project_id\" = "
           "\"embed\".\"projects\".\"id\")) ORDER BY \"id\"",
           "", "rel=is.null: an anti-join");
    sql_is("/projects", "select=id,subsidies()&subsidies.amount=gt.1&subsidies=not.is.null",
           "SELECT \"id\" FROM \"embed\".\"projects\" WHERE (NOT (NOT EXISTS (SELECT 1 FROM "
           "\"embed\".\"subsidies\" AS \"e1\" WHERE \"e1\".\"project_id\" = "
           "\"embed\".\"projects\".\"id\" AND (\"e1\".\"amount\" > $1)))) ORDER BY \"id\"",
           "1", "rel=not.is.null: a semi-join, over the rows the embed's filter keeps");
    sql_is("/tags", "select=id,projects(subsidies(id))&projects.subsidies.amount=gt.7",
           "SELECT \"id\", (SELECT coalesce(json_agg(\"r1\"), json_build_array()) FROM (SELECT (SELECT "
           "coalesce(json_agg(\"r2\"), json_build_array()) FROM (SELECT \"e2\".\"id\" AS \"id\" FROM "
           "\"embed\".\"subsidies\" AS \"e2\" WHERE \"e2\".\"project_id\" = \"e1\".\"id\" AND "
           "(\"e2\".\"amount\" > $1) ORDER BY \"e2\".\"id\") AS \"r2\") AS \"subsidies\" FROM \"embed\".\"projects\" AS "
           "\"e1\" JOIN \"embed\".\"project_tags\" AS \"j1\" ON \"j1\".\"project_id\" = "
           "\"e1\".\"id\" WHERE \"j1\".\"tag_id\" = \"embed\".\"tags\".\"id\" ORDER BY \"e1\".\"id\") "
           "AS \"r1\") AS "
           "\"projects\" FROM \"embed\".\"tags\" ORDER BY \"id\"",
           "7", "a filter two levels down");
    sql_is("/subsidies", "select=id,projects(name)&order=projects(name).desc.nullslast",
           "SELECT \"id\", (SELECT row_to_json(\"r1\") FROM (SELECT \"e1\".\"name\" AS \"name\" "
           "FROM \"embed\".\"projects\" AS \"e1\" WHERE \"e1\".\"id\" = "
           "\"embed\".\"subsidies\".\"project_id\") AS \"r1\") AS \"projects\" FROM "
           "\"embed\".\"subsidies\" ORDER BY (SELECT \"e1\".\"name\" FROM \"embed\".\"projects\" "
           "AS \"e1\" WHERE \"e1\".\"id\" = \"embed\".\"subsidies\".\"project_id\") DESC NULLS "
           "LAST, \"id\"",
           "", "order=rel(col): by the to-one's value, the key as tie-breaker");
    ok(plan("/subsidies", "select=id,projects(name)&order=projects(name)&limit=2", &p) == NULL
           && !p.keyset, "order=rel(col) pages by offset, not by cursor");
    is_err(plan("/projects", "select=id,subsidies(id)&order=subsidies(id)", &p), AR_ERR_BAD_PARAM,
           "order by a to-many resource: AR102");
    is_err(plan("/projects", "select=id&order=subsidies(id)", &p), AR_ERR_BAD_PARAM,
           "order by a resource not embedded: AR102");
    is_err(plan("/projects", "select=id&subsidies.order=id", &p), AR_ERR_BAD_PARAM,
           "rel.order on a resource not embedded: AR102");
    is_err(plan("/projects", "select=id,subsidies(id)&subsidies.nope=eq.1", &p),
           AR_ERR_UNKNOWN_COLUMN, "an unknown column of the embedded relation: AR105");
    is_err(plan("/projects", "select=id,subsidies(id)&subsidies.limit=x", &p), AR_ERR_BAD_PARAM,
           "rel.limit=x: AR102");
    is_err(plan("/projects", "select=id&nope.amount=gt.1", &p), AR_ERR_UNKNOWN_COLUMN,
           "a dotted name that is no embed stays a column name: AR105");
}

/* ------------------------------------------- Flask-Restless's dialect */

/* The relationships of a relation as automap names them:
 * "name:CARD:target ..." */
static const char *automap(const char *relation)
{
    const apr_array_header_t *list =
        ar_restless_relationships(pool, schema, &expo, ar_schema_find(schema, "embed", relation));
    const char *out = "";
    int i;

    for (i = 0; i < list->nelts; i++) {
        const ar_named_relationship *n = &APR_ARRAY_IDX(list, i, ar_named_relationship);
        out = apr_psprintf(pool, "%s%s%s:%s:%s", out, i ? " " : "", n->name,
                           card_names[n->rel.card], n->rel.target->name);
    }
    return out;
}

static void test_automap(void)
{
    is_str(automap("subsidies"), "projects:M2O:projects", "a key: one object, named by its table");
    is_str(automap("projects"),
           "inspections_collection:O2M:inspections log__entries_collection:O2M:log__entries "
           "memberships_collection:O2M:memberships project_sites_collection:O2M:project_sites "
           "subsidies_collection:O2M:subsidies visits_collection:O2M:visits",
           "keys to it: <table>_collection lists; no table without a primary key (notes), "
           "none excluded (secrets), none hidden (tags_collection), none through a hidden "
           "column (blank), no view");
    is_str(automap("tposts"), "ttags_collection:M2M:ttags",
           "a junction of two keys sharing a column is automap's too");
    is_str(automap("memberships"), "projects:M2O:projects tags:M2O:tags",
           "three keys, one to a table not reflected here: a model, not a junction");
    is_str(automap("project_sites"), "projects:M2O:projects",
           "a unique key is still many-to-one, as automap maps it");
    is_str(automap("tags"), "memberships_collection:O2M:memberships projects_collection:M2M:projects",
           "a junction of two keys holding all its columns: many-to-many");
    is_str(automap("project_tags"), "", "the junction itself is no model");
    is_str(automap("people"),
           "inspections_collection_via_inspections_inspector_fkey:O2M:inspections "
           "inspections_collection_via_inspections_reviewer_fkey:O2M:inspections "
           "people:M2O:people people_collection:O2M:people reports_collection:O2M:reports",
           "self-reference gives both sides; a name wanted twice takes each key's name");
    is_str(automap("inspections"),
           "people_via_inspections_inspector_fkey:M2O:people "
           "people_via_inspections_reviewer_fkey:M2O:people projects:M2O:projects",
           "two keys to one table");
    is_str(automap("reports"), "people_via_reports_author_id_fkey:M2O:people",
           "a name a column has: the key's name too");
    is_str(automap("leases"), "units:M2O:units", "a composite key");
    is_str(automap("units"), "leases_collection:O2M:leases", "a composite key, referenced");
    is_str(automap("notes"), "", "no primary key: no model, no relationships");
    is_str(automap("v_projects"), "", "a view is no model");
}

/* q=<filters> on path, in the PostgREST dialect (q= works in both). */
static const char *q_filters(const char *filters)
{
    return apr_pstrcat(pool, "q={\"filters\":[", filters, "]}", NULL);
}

static void test_q_related(void)
{
    ar_read_plan p;

    sql_q(AR_DIALECT_POSTGREST, 0, "/subsidies",
          apr_pstrcat(pool, "select=id&",
                      q_filters("{\"name\":\"projects__name\",\"op\":\"has\",\"val\":\"a\"}"), NULL),
          "SELECT \"id\" FROM \"embed\".\"subsidies\" WHERE (EXISTS (SELECT 1 FROM "
          "\"embed\".\"projects\" AS \"e1\" WHERE \"e1\".\"id\" = "
          "\"embed\".\"subsidies\".\"project_id\" AND (\"e1\".\"name\" = $1))) ORDER BY \"id\"",
          "a", "has with rel__field and a value: EXISTS with the field equal");
    sql_q(AR_DIALECT_POSTGREST, 0, "/projects",
          apr_pstrcat(pool, "select=id&",
                      q_filters("{\"name\":\"subsidies_collection\",\"op\":\"any\","
                                "\"val\":{\"name\":\"amount\",\"op\":\"gt\",\"val\":5}}"), NULL),
          "SELECT \"id\" FROM \"embed\".\"projects\" WHERE (EXISTS (SELECT 1 FROM "
          "\"embed\".\"subsidies\" AS \"e1\" WHERE \"e1\".\"project_id\" = "
          "\"embed\".\"projects\".\"id\" AND (\"e1\".\"amount\" > $1))) ORDER BY \"id\"",
          "5", "any with a filter object");
    sql_q(AR_DIALECT_POSTGREST, 0, "/tags",
          apr_pstrcat(pool, "select=id&",
                      q_filters("{\"name\":\"projects_collection\",\"op\":\"any\",\"val\":"
                                "{\"name\":\"subsidies_collection__amount\",\"op\":\"any\","
                                "\"val\":7}}"), NULL),
          "SELECT \"id\" FROM \"embed\".\"tags\" WHERE (EXISTS (SELECT 1 FROM "
          "\"embed\".\"projects\" AS \"e1\" JOIN \"embed\".\"project_tags\" AS \"j1\" ON "
          "\"j1\".\"project_id\" = \"e1\".\"id\" WHERE \"j1\".\"tag_id\" = "
          "\"embed\".\"tags\".\"id\" AND (EXISTS (SELECT 1 FROM \"embed\".\"subsidies\" AS "
          "\"e2\" WHERE \"e2\".\"project_id\" = \"e1\".\"id\" AND (\"e2\".\"amount\" = $1))))) "
          "ORDER BY \"id\"",
          "7", "nested: many-to-many, then a list of the related rows, each correlated");
    sql_q(AR_DIALECT_POSTGREST, 0, "/subsidies",
          apr_pstrcat(pool, "select=id&",
                      q_filters("{\"name\":\"projects\",\"op\":\"is_null\"},"
                                "{\"name\":\"amount\",\"op\":\"==\",\"val\":null}"), NULL),
          "SELECT \"id\" FROM \"embed\".\"subsidies\" WHERE (NOT EXISTS (SELECT 1 FROM "
          "\"embed\".\"projects\" AS \"e1\" WHERE \"e1\".\"id\" = "
          "\"embed\".\"subsidies\".\"project_id\") AND \"amount\" IS NULL) ORDER BY \"id\"",
          "", "is_null on a relationship: no related row; on a column: IS NULL");
    sql_q(AR_DIALECT_POSTGREST, 0, "/projects",
          apr_pstrcat(pool, "select=id&",
                      q_filters("{\"name\":\"subsidies_collection\",\"op\":\"is_not_null\"}"),
                      NULL),
          "SELECT \"id\" FROM \"embed\".\"projects\" WHERE (NOT (NOT EXISTS (SELECT 1 FROM "
          "\"embed\".\"subsidies\" AS \"e1\" WHERE \"e1\".\"project_id\" = "
          "\"embed\".\"projects\".\"id\"))) ORDER BY \"id\"",
          "", "is_not_null on a list: some related row");
    sql_q(AR_DIALECT_POSTGREST, 0, "/projects",
          apr_pstrcat(pool, "select=id&",
                      q_filters("{\"name\":\"log__entries_collection__id\",\"op\":\"any\","
                                "\"val\":3}"), NULL),
          "SELECT \"id\" FROM \"embed\".\"projects\" WHERE (EXISTS (SELECT 1 FROM "
          "\"embed\".\"log__entries\" AS \"e1\" WHERE \"e1\".\"project_id\" = "
          "\"embed\".\"projects\".\"id\" AND (\"e1\".\"id\" = $1))) ORDER BY \"id\"",
          "3", "a relationship's name with __ in it: the longest that is one");
    sql_q(AR_DIALECT_POSTGREST, 0, "/subsidies",
          "select=id&q={\"order_by\":[{\"field\":\"projects__name\",\"direction\":\"desc\"}]}",
          "SELECT \"id\" FROM \"embed\".\"subsidies\" ORDER BY (SELECT \"e1\".\"name\" FROM "
          "\"embed\".\"projects\" AS \"e1\" WHERE \"e1\".\"id\" = "
          "\"embed\".\"subsidies\".\"project_id\") DESC, \"id\"",
          "", "order_by rel__field: the related object's field, the key after");

#define Q_ERR(path, filters, kind, what) \
    is_err(plan_q(AR_DIALECT_POSTGREST, 0, path, q_filters(filters), &p), kind, what)
    Q_ERR("/projects", "{\"name\":\"subsidies_collection__amount\",\"op\":\"has\",\"val\":1}",
          AR_ERR_BAD_Q, "has on a list: AR110");
    Q_ERR("/subsidies", "{\"name\":\"projects__name\",\"op\":\"any\",\"val\":\"a\"}",
          AR_ERR_BAD_Q, "any on one object: AR110");
    Q_ERR("/projects", "{\"name\":\"subsidies__amount\",\"op\":\"any\",\"val\":1}",
          AR_ERR_NO_RELATIONSHIP, "PostgREST's name is not automap's: AR113");
    Q_ERR("/projects", "{\"name\":\"tags_collection__label\",\"op\":\"any\",\"val\":1}",
          AR_ERR_NO_RELATIONSHIP, "a hidden relationship is unknown: AR113");
    Q_ERR("/subsidies", "{\"name\":\"projects__nope\",\"op\":\"has\",\"val\":1}",
          AR_ERR_UNKNOWN_COLUMN, "an unknown field of the related object: AR105");
    Q_ERR("/subsidies", "{\"name\":\"projects__meta\",\"op\":\"has\",\"val\":1}",
          AR_ERR_UNKNOWN_COLUMN, "a hidden field of the related object: AR105");
    Q_ERR("/projects", "{\"name\":\"blank_collection__id\",\"op\":\"any\",\"val\":1}",
          AR_ERR_NO_RELATIONSHIP, "a relationship through a hidden column: AR113");
    Q_ERR("/subsidies", "{\"name\":\"projects__name\",\"op\":\"eq\",\"val\":\"a\"}",
          AR_ERR_BAD_Q, "rel__field with eq: AR110 (has/any)");
    Q_ERR("/subsidies", "{\"name\":\"projects\",\"op\":\"eq\",\"val\":1}",
          AR_ERR_BAD_Q, "a relationship compared with a value: AR110");
    Q_ERR("/subsidies", "{\"name\":\"projects\",\"op\":\"has\",\"val\":1}",
          AR_ERR_BAD_Q, "has with a value but no field: AR110");
    Q_ERR("/subsidies", "{\"name\":\"projects__name\",\"op\":\"has\",\"field\":\"id\"}",
          AR_ERR_BAD_Q, "has with \"field\": AR110");
    Q_ERR("/subsidies", "{\"name\":\"projects__name\",\"op\":\"has\",\"val\":[1]}",
          AR_ERR_BAD_Q, "has with a list: AR110");
    Q_ERR("/subsidies", "{\"name\":\"projects__a__b\",\"op\":\"has\",\"val\":1}",
          AR_ERR_UNKNOWN_COLUMN, "two __: the longest relationship's name, then a field a__b: "
          "AR105");
    Q_ERR("/subsidies", "{\"name\":\"projects.name\",\"op\":\"==\",\"val\":\"x\"}",
          AR_ERR_UNKNOWN_COLUMN, "a dotted q= name is a column's, not an embedded resource's: "
          "AR105");
    Q_ERR("/projects",
          "{\"name\":\"subsidies_collection\",\"op\":\"any\",\"val\":{\"name\":\"projects\","
          "\"op\":\"has\",\"val\":{\"name\":\"subsidies_collection\",\"op\":\"any\",\"val\":"
          "{\"name\":\"projects\",\"op\":\"has\",\"val\":{\"name\":\"subsidies_collection\","
          "\"op\":\"any\",\"val\":{\"name\":\"projects\",\"op\":\"has\",\"val\":{\"name\":"
          "\"subsidies_collection\",\"op\":\"any\",\"val\":{\"name\":\"projects\",\"op\":\"has\","
          "\"val\":{\"name\":\"subsidies_collection\",\"op\":\"any\",\"val\":{\"name\":"
          "\"id\",\"op\":\"eq\",\"val\":1}}}}}}}}}}",
          AR_ERR_TOO_DEEP, "has/any nested past the limit: AR107");
    no_err(plan_q(AR_DIALECT_POSTGREST, 0, "/projects",
                  q_filters("{\"name\":\"subsidies_collection\",\"op\":\"any\",\"val\":{\"name\":"
                            "\"projects\",\"op\":\"has\",\"val\":{\"name\":\"subsidies_collection\","
                            "\"op\":\"any\",\"val\":{\"name\":\"projects\",\"op\":\"has\",\"val\":"
                            "{\"name\":\"subsidies_collection\",\"op\":\"any\",\"val\":{\"name\":"
                            "\"projects\",\"op\":\"has\",\"val\":{\"name\":\"subsidies_collection\","
                            "\"op\":\"any\",\"val\":{\"name\":\"projects\",\"op\":\"has\",\"val\":"
                            "{\"name\":\"id\",\"op\":\"eq\",\"val\":1}}}}}}}}}"), &p),
           "has/any nested 8 deep: accepted");
#undef Q_ERR
    is_err(plan_q(AR_DIALECT_POSTGREST, 0, "/projects",
                  "q={\"order_by\":[{\"field\":\"subsidies_collection__amount\"}]}", &p),
           AR_ERR_BAD_Q, "order_by a list's field: AR110");
}

/* The restless dialect's objects: every relationship one level deep. */
static const char *output_names(const ar_read_plan *p)
{
    const char *out = "";
    int i;

    for (i = 0; i < p->columns->nelts; i++)
        out = apr_pstrcat(pool, out, i ? " " : "",
                          APR_ARRAY_IDX(p->columns, i, ar_output_column).name, NULL);
    return out;
}

static void test_restless_objects(void)
{
    ar_read_plan p;

    no_err(plan_q(AR_DIALECT_RESTLESS, 0, "/people", NULL, &p), "restless /people plans");
    is_str(output_names(&p),
           "id name manager_id inspections_collection_via_inspections_inspector_fkey "
           "inspections_collection_via_inspections_reviewer_fkey people people_collection "
           "reports_collection", "the columns, then every relationship by automap's name");
    no_err(plan_q(AR_DIALECT_RESTLESS, 0, "/people/1", NULL, &p), "restless /people/1 plans");
    is_int(p.columns->nelts, 8, "one object carries them too");
    {
        ar_request_headers h = {NULL, NULL, NULL, "text/csv", NULL, NULL, AR_WRITE_NONE, 0, 0};
        ar_read_request req;
        no_err(ar_query_parse(pool, AR_DIALECT_RESTLESS, "/people", NULL, &h, &req), "csv parses");
        is_int(req.related_objects, 0, "CSV rows stay flat");
    }
    no_err(plan_q(AR_DIALECT_POSTGREST, 0, "/people", NULL, &p), "postgrest /people plans");
    is_int(p.columns->nelts, 3, "the PostgREST dialect embeds only what select asks");

    sql_q(AR_DIALECT_RESTLESS, 5, "/units", NULL,
          "SELECT \"building\", \"unit_no\", \"rooms\", (SELECT coalesce(json_agg(\"r1\"), "
          "json_build_array()) FROM (SELECT \"e1\".\"id\" AS \"id\", \"e1\".\"building\" AS "
          "\"building\", \"e1\".\"unit_no\" AS \"unit_no\" FROM \"embed\".\"leases\" AS \"e1\" "
          "WHERE \"e1\".\"building\" = \"embed\".\"units\".\"building\" AND \"e1\".\"unit_no\" = "
          "\"embed\".\"units\".\"unit_no\" ORDER BY \"e1\".\"id\" LIMIT 5) AS \"r1\") AS "
          "\"leases_collection\" FROM \"embed\".\"units\" ORDER BY \"building\", \"unit_no\" "
          "LIMIT 6",
          "", "a list: in key order, capped by the Location's rows, as the page is");
    sql_q(AR_DIALECT_RESTLESS, 5, "/leases", NULL,
          "SELECT \"id\", \"building\", \"unit_no\", (SELECT row_to_json(\"r1\") FROM (SELECT "
          "\"e1\".\"building\" AS \"building\", \"e1\".\"unit_no\" AS \"unit_no\", "
          "\"e1\".\"rooms\" AS \"rooms\" FROM \"embed\".\"units\" AS \"e1\" WHERE "
          "\"e1\".\"building\" = \"embed\".\"leases\".\"building\" AND \"e1\".\"unit_no\" = "
          "\"embed\".\"leases\".\"unit_no\") AS \"r1\") AS \"units\" FROM \"embed\".\"leases\" "
          "ORDER BY \"id\" LIMIT 6",
          "", "one object: row_to_json, no order or cap");
    sql_q(AR_DIALECT_POSTGREST, 3, "/projects", "select=id,subsidies(id)&subsidies.limit=10",
          "SELECT \"id\", (SELECT coalesce(json_agg(\"r1\"), json_build_array()) FROM (SELECT "
          "\"e1\".\"id\" AS \"id\" FROM \"embed\".\"subsidies\" AS \"e1\" WHERE "
          "\"e1\".\"project_id\" = \"embed\".\"projects\".\"id\" ORDER BY \"e1\".\"id\" LIMIT 3) "
          "AS \"r1\") AS \"subsidies\" FROM \"embed\".\"projects\" ORDER BY \"id\" LIMIT 4",
          "", "PostgREST's embedded lists end at the cap too, whatever rel.limit asks");
    sql_q(AR_DIALECT_POSTGREST, 3, "/projects",
          "select=id,subsidies(id)&subsidies.limit=2&subsidies.order=amount.desc",
          "SELECT \"id\", (SELECT coalesce(json_agg(\"r1\"), json_build_array()) FROM (SELECT "
          "\"e1\".\"id\" AS \"id\" FROM \"embed\".\"subsidies\" AS \"e1\" WHERE "
          "\"e1\".\"project_id\" = \"embed\".\"projects\".\"id\" ORDER BY \"e1\".\"amount\" DESC "
          "LIMIT 2) AS \"r1\") AS \"subsidies\" FROM \"embed\".\"projects\" ORDER BY \"id\" LIMIT 4",
          "", "a smaller rel.limit and the client's order stay");
}

/* Flask-Restless's /relation/pk/relationship[/related_pk]. */
static void test_related_routes(void)
{
    ar_read_plan p;
    ar_sql parent;

    sql_q(AR_DIALECT_RESTLESS, 5, "/projects/1/subsidies_collection", NULL,
          "SELECT \"id\", \"project_id\", \"amount\", (SELECT row_to_json(\"r2\") FROM (SELECT "
          "\"e2\".\"id\" AS \"id\", \"e2\".\"name\" AS \"name\" FROM \"embed\".\"projects\" AS "
          "\"e2\" WHERE \"e2\".\"id\" = \"embed\".\"subsidies\".\"project_id\") AS \"r2\") AS "
          "\"projects\" FROM \"embed\".\"subsidies\" WHERE (EXISTS (SELECT 1 FROM "
          "\"embed\".\"projects\" AS \"e1\" WHERE \"e1\".\"id\" = "
          "\"embed\".\"subsidies\".\"project_id\" AND (\"e1\".\"id\" = $1))) ORDER BY \"id\" "
          "LIMIT 6",
          "1", "a list: the target's objects whose relationship back reaches the parent's key");
    no_err(plan_q(AR_DIALECT_RESTLESS, 5, "/projects/1/subsidies_collection", NULL, &p),
           "the list plans");
    ok(p.parent && strcmp(p.parent->name, "projects") == 0 && !p.single && !p.related_one,
       "a list is a page over the target, with the parent to look for");
    ar_sql_render_parent(pool, &p, &parent);
    is_str(parent.text, "SELECT 1 FROM \"embed\".\"projects\" WHERE \"id\" = $1",
           "the parent's row is looked for by its key");
    is_str(sql_params_text(pool, &parent), "1", "the parent's key is bound");

    sql_q(AR_DIALECT_RESTLESS, 5, "/leases/1/units", NULL,
          "SELECT \"building\", \"unit_no\", \"rooms\", (SELECT coalesce(json_agg(\"r2\"), "
          "json_build_array()) FROM (SELECT \"e2\".\"id\" AS \"id\", \"e2\".\"building\" AS "
          "\"building\", \"e2\".\"unit_no\" AS \"unit_no\" FROM \"embed\".\"leases\" AS \"e2\" "
          "WHERE \"e2\".\"building\" = \"embed\".\"units\".\"building\" AND \"e2\".\"unit_no\" = "
          "\"embed\".\"units\".\"unit_no\" ORDER BY \"e2\".\"id\" LIMIT 5) AS \"r2\") AS "
          "\"leases_collection\" FROM \"embed\".\"units\" WHERE (EXISTS (SELECT 1 FROM "
          "\"embed\".\"leases\" AS \"e1\" WHERE \"e1\".\"building\" = \"embed\".\"units\".\"building\" "
          "AND \"e1\".\"unit_no\" = \"embed\".\"units\".\"unit_no\" AND (\"e1\".\"id\" = $1))) "
          "ORDER BY \"building\", \"unit_no\" LIMIT 1",
          "1", "one object over a two-column key: the row or none");
    no_err(plan_q(AR_DIALECT_RESTLESS, 5, "/leases/1/units", NULL, &p), "the object plans");
    ok(p.single && p.related_one && p.count == AR_COUNT_NONE && !p.pk_column,
       "one object: no count, null when none");
    {
        ar_sql sql;
        const char *back = "FROM \"embed\".\"projects\" WHERE (EXISTS (SELECT 1 FROM "
                           "\"embed\".\"tags\" AS \"e1\" JOIN \"embed\".\"project_tags\" AS "
                           "\"j1\" ON \"j1\".\"tag_id\" = \"e1\".\"id\" WHERE "
                           "\"j1\".\"project_id\" = \"embed\".\"projects\".\"id\" AND "
                           "(\"e1\".\"id\" = $1))) ORDER BY \"id\"";

        no_err(plan_q(AR_DIALECT_RESTLESS, 0, "/tags/1/projects_collection", NULL, &p),
               "many-to-many plans");
        ar_sql_render_read(pool, &p, &sql);
        ok(strstr(sql.text, back) != NULL, "many-to-many: back through the junction");
        if (!strstr(sql.text, back))
            printf("#   got: %s\n", sql.text);
    }
    sql_q(AR_DIALECT_RESTLESS, 5, "/projects/1/subsidies_collection/2", NULL,
          "SELECT \"id\", \"project_id\", \"amount\", (SELECT row_to_json(\"r2\") FROM (SELECT "
          "\"e2\".\"id\" AS \"id\", \"e2\".\"name\" AS \"name\" FROM \"embed\".\"projects\" AS "
          "\"e2\" WHERE \"e2\".\"id\" = \"embed\".\"subsidies\".\"project_id\") AS \"r2\") AS "
          "\"projects\" FROM \"embed\".\"subsidies\" WHERE \"id\" = $1 AND (EXISTS (SELECT 1 FROM "
          "\"embed\".\"projects\" AS \"e1\" WHERE \"e1\".\"id\" = "
          "\"embed\".\"subsidies\".\"project_id\" AND (\"e1\".\"id\" = $2))) LIMIT 1",
          "2|1", "one of the list by its key, if it is related");
    sql_q(AR_DIALECT_RESTLESS, 5, "/projects/1/subsidies_collection",
          "q={\"filters\":[{\"name\":\"amount\",\"op\":\">\",\"val\":5}]}",
          "SELECT \"id\", \"project_id\", \"amount\", (SELECT row_to_json(\"r2\") FROM (SELECT "
          "\"e2\".\"id\" AS \"id\", \"e2\".\"name\" AS \"name\" FROM \"embed\".\"projects\" AS "
          "\"e2\" WHERE \"e2\".\"id\" = \"embed\".\"subsidies\".\"project_id\") AS \"r2\") AS "
          "\"projects\" FROM \"embed\".\"subsidies\" WHERE (EXISTS (SELECT 1 FROM "
          "\"embed\".\"projects\" AS \"e1\" WHERE \"e1\".\"id\" = "
          "\"embed\".\"subsidies\".\"project_id\" AND (\"e1\".\"id\" = $1)) AND (\"amount\" > $2)) "
          "ORDER BY \"id\" LIMIT 6",
          "1|5", "q= filters the list further");

    is_err(plan_q(AR_DIALECT_RESTLESS, 5, "/projects/1/subsidies_collection/2",
                  "q={\"filters\":[]}", &p),
           AR_ERR_UNKNOWN_PARAM, "one object takes no q: AR101");
    is_err(plan_q(AR_DIALECT_RESTLESS, 5, "/projects/1/nope", NULL, &p), AR_ERR_NO_ROUTE,
           "an unknown relationship: 404");
    is_err(plan_q(AR_DIALECT_RESTLESS, 5, "/projects/1/tags_collection", NULL, &p),
           AR_ERR_NO_ROUTE, "a hidden relationship: 404");
    is_err(plan_q(AR_DIALECT_RESTLESS, 5, "/projects/1/subsidies", NULL, &p), AR_ERR_NO_ROUTE,
           "PostgREST's name: 404");
    is_err(plan_q(AR_DIALECT_RESTLESS, 5, "/units/A/leases_collection", NULL, &p),
           AR_ERR_NO_ROUTE, "a parent without a one-column key: 404");
    is_err(plan_q(AR_DIALECT_RESTLESS, 5, "/leases/1/units/A", NULL, &p), AR_ERR_NO_ROUTE,
           "a related key on a target without a one-column key: 404");
    is_err(plan_q(AR_DIALECT_RESTLESS, 5, "/projects//subsidies_collection", NULL, &p),
           AR_ERR_NO_ROUTE, "an empty key: 404");
    is_err(plan_q(AR_DIALECT_RESTLESS, 5, "/projects/1/subsidies_collection/2/x", NULL, &p),
           AR_ERR_NO_ROUTE, "a segment more: 404");
    is_err(plan_q(AR_DIALECT_POSTGREST, 5, "/projects/1/subsidies_collection", NULL, &p),
           AR_ERR_NO_ROUTE, "the PostgREST dialect has no such route: 404");
}

/* ar_read_plan_runs_code: whether a read may run the database's own code,
 * so that the request's settings must be sent (t/api/419_request_settings.t
 * runs the same against PostgreSQL). The flags are reflect.c's, set here by
 * hand on the relations a read reaches. */
static int runs_code(ar_dialect d, const char *path, const char *args)
{
    ar_read_plan p;
    ar_error *e = plan_q(d, 5, path, args, &p);

    return e ? -1 : ar_read_plan_runs_code(&p);
}

static void test_runs_code(void)
{
    ar_relation *projects = (ar_relation *)ar_schema_find(schema, "embed", "projects");
    ar_relation *subsidies = (ar_relation *)ar_schema_find(schema, "embed", "subsidies");
    ar_relation *junction = (ar_relation *)ar_schema_find(schema, "embed", "project_tags");
    const char *any_subsidy =
        apr_pstrcat(pool, "select=id&",
                    q_filters("{\"name\":\"subsidies_collection\",\"op\":\"any\","
                              "\"val\":{\"name\":\"amount\",\"op\":\"gt\",\"val\":5}}"),
                    NULL);
    const char *by_project_name =
        "select=id&q={\"order_by\":[{\"field\":\"projects__name\",\"direction\":\"asc\"}]}";

    is_int(runs_code(AR_DIALECT_POSTGREST, "/projects", "select=id,subsidies(id)"), 0,
           "no relation runs code: none runs");
    is_int(runs_code(AR_DIALECT_POSTGREST, "/projects", "select=id::text"), 1,
           "a cast may be a function made in the database");
    is_int(runs_code(AR_DIALECT_POSTGREST, "/projects", "select=id,subsidies(amount::text)"), 1,
           "... in an embedded resource too");
    subsidies->read_runs_code = 1;
    is_int(runs_code(AR_DIALECT_POSTGREST, "/projects", "select=id"), 0,
           "subsidies runs code: projects alone does not");
    is_int(runs_code(AR_DIALECT_POSTGREST, "/projects", "select=id,subsidies(id)"), 1,
           "... embedding subsidies does");
    is_int(runs_code(AR_DIALECT_POSTGREST, "/subsidies", "select=id"), 1,
           "... and reading it");
    is_int(runs_code(AR_DIALECT_POSTGREST, "/projects", any_subsidy), 1,
           "... a filter that reads it (any): EXISTS over it");
    is_int(runs_code(AR_DIALECT_RESTLESS, "/projects/1/subsidies_collection", NULL), 1,
           "... the relationship route to it");
    subsidies->read_runs_code = 0;
    projects->read_runs_code = 1;
    is_int(runs_code(AR_DIALECT_RESTLESS, "/projects/1/subsidies_collection", NULL), 1,
           "the relationship route from a parent that runs code");
    is_int(runs_code(AR_DIALECT_POSTGREST, "/subsidies",
                     by_project_name),
           1, "an order by a related row's field (q=), nothing embedded: a sub-select over it");
    projects->read_runs_code = 0;
    is_int(runs_code(AR_DIALECT_POSTGREST, "/subsidies",
                     by_project_name),
           0, "... once that row's relation runs none, none runs");
    junction->read_runs_code = 1;
    is_int(runs_code(AR_DIALECT_POSTGREST, "/tags", "select=id,projects(id)"), 1,
           "many-to-many through a junction that runs code");
    is_int(runs_code(AR_DIALECT_POSTGREST, "/tags", "select=id"), 0, "... not without it");
    junction->read_runs_code = 0;
}

int main(void)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);
    build_schema();
    test_relationships();
    test_views();
    test_errors();
    test_sql();
    test_shaping();
    test_automap();
    test_q_related();
    test_restless_objects();
    test_related_routes();
    test_runs_code();
    apr_terminate();
    return tap_done();
}
