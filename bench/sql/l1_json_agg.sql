-- L1, PostgREST's statement shape: PostgreSQL builds the whole body with json_agg.
SELECT coalesce(json_agg(_postgrest_t), '[]')::character varying AS body FROM (SELECT "building_permits".* FROM "public"."building_permits" ORDER BY id LIMIT 100 OFFSET 0) _postgrest_t;
