// t/js/postgrest.test.mjs: the unmodified @supabase/postgrest-js client against
// mod_autorest (run by t/js/run.sh, which sets AR_BASE_URL, AR_PGHOST, AR_PGPORT).
// Every expectation is computed by PostgreSQL itself through psql (as superuser,
// on the fixtures of t/fixtures/*.sql), never by the module.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PostgrestClient, PostgrestError } from '@supabase/postgrest-js';
import { base, psql, sql } from './pg.mjs';

const db = new PostgrestClient(base);

// ids(CONDITION [, TABLE]): the ids of the rows it holds for, in id order.
function ids(condition, table = 'film') {
    return sql(`SELECT id FROM ${table} WHERE ${condition} ORDER BY id`).map((r) => r.id);
}
const total = (table) => Number(psql(`SELECT count(*) FROM ${table}`).trim());

// A filter's answer: 200, the expected ids in order; and the fixture must make
// the filter mean something (some rows, not all), so that a filter the module
// ignored or inverted would fail.
function sameIds(res, expected, table = 'film') {
    assert.equal(res.error, null, `no error (got ${JSON.stringify(res.error)})`);
    assert.equal(res.status, 200);
    assert.ok(expected.length > 0 && expected.length < total(table),
        `the fixture selects some rows of ${table}, not all: ${JSON.stringify(expected)}`);
    assert.deepEqual(res.data.map((r) => r.id), expected);
}

// --- select ---------------------------------------------------------------

test('select("id,title,year") returns those columns of every row, in key order', async () => {
    const res = await db.from('film').select('id,title,year');
    assert.equal(res.error, null);
    assert.equal(res.status, 200);
    assert.equal(res.count, null);
    assert.deepEqual(res.data, sql('SELECT id, title, year FROM film ORDER BY id'));
});

test('select("*") returns whole rows (people)', async () => {
    const res = await db.from('people').select('*');
    assert.equal(res.error, null);
    assert.deepEqual(res.data, sql('SELECT * FROM people ORDER BY id'));
});

test('select with renames, casts, a quoted column and a JSON path', async () => {
    const res = await db.from('film')
        .select('id, name:title, year::text, "Mixed Col", director:info->director->>name')
        .lte('id', 6);
    assert.equal(res.error, null);
    assert.deepEqual(res.data, sql(`SELECT id, title AS name, year::text AS year, "Mixed Col",
        info->'director'->>'name' AS director FROM film WHERE id <= 6 ORDER BY id`));
});

test('schema("other") reads other.thing (Accept-Profile)', async () => {
    const res = await db.schema('other').from('thing').select('id,label,person_id');
    assert.equal(res.error, null);
    assert.deepEqual(res.data, sql('SELECT id, label, person_id FROM other.thing ORDER BY id'));
});

// --- filters --------------------------------------------------------------

test('.eq on a number and on text with quotes', async () => {
    sameIds(await db.from('film').select('id').eq('year', 1979), ids('year = 1979'));
    sameIds(await db.from('film').select('id').eq('title', 'Say "Cheese"'),
        ids(`title = 'Say "Cheese"'`));
});

test('.neq', async () => {
    sameIds(await db.from('film').select('id').neq('year', 2001), ids('year <> 2001'));
});

test('.gt .gte .lt .lte on a numeric column', async () => {
    sameIds(await db.from('film').select('id').gt('rating', 8.3), ids('rating > 8.3'));
    sameIds(await db.from('film').select('id').gte('rating', 8.3), ids('rating >= 8.3'));
    sameIds(await db.from('film').select('id').lt('rating', 7.7), ids('rating < 7.7'));
    sameIds(await db.from('film').select('id').lte('rating', 7.7), ids('rating <= 7.7'));
});

test('.gte and .lt together on a date column', async () => {
    sameIds(await db.from('film').select('id').gte('released', '1990-01-01').lt('released', '2001-06-01'),
        ids(`released >= '1990-01-01' AND released < '2001-06-01'`));
});

test('.like and .ilike (* and % as wildcards)', async () => {
    sameIds(await db.from('film').select('id').like('title', '*Dragon*'), ids(`title LIKE '%Dragon%'`));
    sameIds(await db.from('film').select('id').like('title', 'The%'), ids(`title LIKE 'The%'`));
    sameIds(await db.from('film').select('id').ilike('title', '*the*'), ids(`title ILIKE '%the%'`));
});

test('.likeAnyOf and .ilikeAllOf', async () => {
    sameIds(await db.from('film').select('id').likeAnyOf('title', ['*Dragon*', 'The*']),
        ids(`title LIKE ANY (ARRAY['%Dragon%', 'The%'])`));
    sameIds(await db.from('film').select('id').ilikeAllOf('title', ['*a*', '*e*']),
        ids(`title ILIKE ALL (ARRAY['%a%', '%e%'])`));
});

test('.in with numbers, and with strings holding commas and parentheses', async () => {
    sameIds(await db.from('film').select('id').in('id', [1, 3, 5, 99]), ids('id IN (1, 3, 5, 99)'));
    sameIds(await db.from('film').select('id')
        .in('title', ['Crouching Tiger, Hidden Dragon', 'Heat', 'Dragon (2019)']),
    ids(`title IN ('Crouching Tiger, Hidden Dragon', 'Heat', 'Dragon (2019)')`));
});

test('.is null / true / false', async () => {
    sameIds(await db.from('film').select('id').is('rating', null), ids('rating IS NULL'));
    sameIds(await db.from('film').select('id').is('active', true), ids('active IS TRUE'));
    sameIds(await db.from('film').select('id').is('active', false), ids('active IS FALSE'));
});

test('.contains on an array, a jsonb document and a range', async () => {
    sameIds(await db.from('film').select('id').contains('tags', ['drama', 'crime']),
        ids(`tags @> '{drama,crime}'`));
    sameIds(await db.from('film').select('id').contains('info', { director: { name: 'Ang Lee' } }),
        ids(`info @> '{"director": {"name": "Ang Lee"}}'`));
    sameIds(await db.from('film').select('id').contains('period', '[3,4]'),
        ids(`period @> '[3,4]'::int4range`));
});

test('.containedBy on an array and a range', async () => {
    sameIds(await db.from('film').select('id').containedBy('tags', ['comedy', 'romance', 'war']),
        ids(`tags <@ '{comedy,romance,war}'`));
    sameIds(await db.from('film').select('id').containedBy('period', '[0,10)'),
        ids(`period <@ '[0,10)'::int4range`));
});

test('.overlaps on an array and a range', async () => {
    sameIds(await db.from('film').select('id').overlaps('tags', ['war', 'music']),
        ids(`tags && '{war,music}'`));
    sameIds(await db.from('film').select('id').overlaps('period', '[3,5)'),
        ids(`period && '[3,5)'::int4range`));
});

test('range operators: rangeLt, rangeGt, rangeGte, rangeLte, rangeAdjacent', async () => {
    const q = () => db.from('film').select('id');
    sameIds(await q().rangeLt('period', '[5,6)'), ids(`period << '[5,6)'::int4range`));
    sameIds(await q().rangeGt('period', '[5,6)'), ids(`period >> '[5,6)'::int4range`));
    sameIds(await q().rangeGte('period', '[5,6)'), ids(`period &> '[5,6)'::int4range`));
    sameIds(await q().rangeLte('period', '[5,6)'), ids(`period &< '[5,6)'::int4range`));
    sameIds(await q().rangeAdjacent('period', '[5,6)'), ids(`period -|- '[5,6)'::int4range`));
});

test('.textSearch on a tsvector column: to_tsquery, plain, phrase, websearch', async () => {
    const q = () => db.from('film').select('id');
    sameIds(await q().textSearch('tsv', 'cat', { config: 'english' }),
        ids(`tsv @@ to_tsquery('english', 'cat')`));
    sameIds(await q().textSearch('tsv', "'fat' & 'cat'", { config: 'english' }),
        ids(`tsv @@ to_tsquery('english', '''fat'' & ''cat''')`));
    sameIds(await q().textSearch('tsv', 'fat cats', { type: 'plain', config: 'english' }),
        ids(`tsv @@ plainto_tsquery('english', 'fat cats')`));
    sameIds(await q().textSearch('tsv', 'fat cat', { type: 'phrase', config: 'english' }),
        ids(`tsv @@ phraseto_tsquery('english', 'fat cat')`));
    sameIds(await q().textSearch('tsv', '"fat cat" or dragon', { type: 'websearch', config: 'english' }),
        ids(`tsv @@ websearch_to_tsquery('english', '"fat cat" or dragon')`));
    sameIds(await q().textSearch('tsv', 'chat', { config: 'french' }),
        ids(`tsv @@ to_tsquery('french', 'chat')`));
});

test('.textSearch on a text column goes through to_tsvector', async () => {
    sameIds(await db.from('film').select('id').textSearch('plot', 'thief | thieves',
        { config: 'english' }),
    ids(`to_tsvector('english', plot) @@ to_tsquery('english', 'thief | thieves')`));
});

test('.match ANDs equalities', async () => {
    sameIds(await db.from('film').select('id').match({ year: 2001, active: true }),
        ids('year = 2001 AND active = true'));
});

test('.not: is null, in, cs, eq', async () => {
    const q = () => db.from('film').select('id');
    sameIds(await q().not('rating', 'is', null), ids('rating IS NOT NULL'));
    sameIds(await q().not('title', 'in', '(Heat,Brazil,"M*A*S*H")'),
        ids(`NOT (title IN ('Heat', 'Brazil', 'M*A*S*H'))`));
    sameIds(await q().not('tags', 'cs', '{drama}'), ids(`NOT (tags @> '{drama}')`));
    sameIds(await q().not('year', 'eq', 2001), ids('NOT (year = 2001)'));
});

test('.filter with raw operators: in, imatch, gte, isdistinct', async () => {
    const q = () => db.from('film').select('id');
    sameIds(await q().filter('year', 'in', '(1979,2001)'), ids('year IN (1979, 2001)'));
    sameIds(await q().filter('title', 'imatch', '^the '), ids(`title ~* '^the '`));
    sameIds(await q().filter('rating', 'gte', '8'), ids('rating >= 8'));
    sameIds(await q().filter('"Mixed Col"', 'isdistinct', 'alpha'),
        ids(`"Mixed Col" IS DISTINCT FROM 'alpha'`));
});

test('.filter on a JSON path', async () => {
    sameIds(await db.from('film').select('id').filter('info->director->>name', 'eq', 'Ang Lee'),
        ids(`info->'director'->>'name' = 'Ang Lee'`));
    sameIds(await db.from('film').select('id').gt('info->runtime', 130),
        ids(`info->'runtime' > '130'::jsonb`));
});

test('.or("year.eq.1979,rating.gt.8.5") and nested and()', async () => {
    sameIds(await db.from('film').select('id').or('year.eq.1979,rating.gt.8.5'),
        ids('year = 1979 OR rating > 8.5'));
    sameIds(await db.from('film').select('id').or('and(year.gte.2000,active.is.false),id.eq.1'),
        ids('(year >= 2000 AND active IS FALSE) OR id = 1'));
    sameIds(await db.from('film').select('id').eq('active', true).or('tags.cs.{scifi},title.ilike.*the*'),
        ids(`active = true AND (tags @> '{scifi}' OR title ILIKE '%the%')`));
});

// --- order, range, limit --------------------------------------------------

test('.order(col, {ascending: false, nullsFirst: true/false})', async () => {
    // The module breaks ties by the primary key (README, "Query language").
    let res = await db.from('film').select('id,rating').order('rating', { ascending: false, nullsFirst: true });
    assert.equal(res.error, null);
    assert.deepEqual(res.data, sql('SELECT id, rating FROM film ORDER BY rating DESC NULLS FIRST, id'));
    assert.equal(res.data[0].rating, null, 'NULLs come first');
    res = await db.from('film').select('id,rating').order('rating', { ascending: false, nullsFirst: false });
    assert.deepEqual(res.data, sql('SELECT id, rating FROM film ORDER BY rating DESC NULLS LAST, id'));
    assert.equal(res.data.at(-1).rating, null, 'NULLs come last');
});

test('.order twice: year desc then title asc', async () => {
    const res = await db.from('film').select('id,year,title')
        .order('year', { ascending: false }).order('title');
    assert.equal(res.error, null);
    assert.deepEqual(res.data, sql('SELECT id, year, title FROM film ORDER BY year DESC, title ASC, id'));
});

test('.range(0, 9) and .range(10, 19) page through many', async () => {
    let res = await db.from('many').select('*').range(0, 9);
    assert.equal(res.error, null);
    assert.equal(res.status, 200);
    assert.deepEqual(res.data, sql('SELECT * FROM many ORDER BY id LIMIT 10'));
    res = await db.from('many').select('id,n').order('n', { ascending: false }).range(10, 19);
    assert.deepEqual(res.data, sql('SELECT id, n FROM many ORDER BY n DESC, id LIMIT 10 OFFSET 10'));
});

test('.limit(3) with a filter and an order', async () => {
    const res = await db.from('film').select('id,title').gt('year', 1990).order('title').limit(3);
    assert.equal(res.error, null);
    assert.deepEqual(res.data, sql('SELECT id, title FROM film WHERE year > 1990 ORDER BY title, id LIMIT 3'));
});

// --- single, maybeSingle, csv ---------------------------------------------

test('.single() with one row gives the object', async () => {
    const res = await db.from('film').select('id,title,tags,info,rating').eq('id', 3).single();
    assert.equal(res.error, null);
    assert.equal(res.status, 200);
    assert.ok(!Array.isArray(res.data));
    assert.deepEqual(res.data, sql('SELECT id, title, tags, info, rating FROM film WHERE id = 3')[0]);
});

test('.single() with zero or several rows is a 406 error', async () => {
    let res = await db.from('film').select('id').eq('id', -1).single();
    assert.equal(res.status, 406);
    assert.equal(res.data, null);
    assert.equal(res.error?.code, 'AR402');
    assert.equal(typeof res.error.message, 'string');
    assert.equal(ids('year = 1979').length > 1, true, 'the fixture has several films of 1979');
    res = await db.from('film').select('id').eq('year', 1979).single();
    assert.equal(res.status, 406);
    assert.equal(res.data, null);
    assert.equal(res.error?.code, 'AR402');
});

test('.maybeSingle(): one row, none, several', async () => {
    let res = await db.from('people').select('id,name,email').eq('email', 'bob@example.com').maybeSingle();
    assert.equal(res.error, null);
    assert.deepEqual(res.data, sql(`SELECT id, name, email FROM people WHERE email = 'bob@example.com'`)[0]);
    res = await db.from('people').select('id').eq('email', 'nobody@example.com').maybeSingle();
    assert.equal(res.error, null);
    assert.equal(res.status, 200);
    assert.equal(res.data, null);
    res = await db.from('people').select('id').eq('active', true).maybeSingle();
    assert.equal(res.status, 406);
    assert.equal(res.data, null);
    assert.equal(res.error?.code, 'PGRST116'); // the client's own, for several rows
});

test('.csv() gives a string body with a header row', async () => {
    const res = await db.from('film').select('id,title,year,"Mixed Col"').in('id', [2, 3, 5, 7]).csv();
    assert.equal(res.error, null);
    assert.equal(res.status, 200);
    assert.equal(typeof res.data, 'string');
    // PostgreSQL's own CSV of the same rows; the module ends lines in CRLF (RFC 4180).
    const expected = psql(`COPY (SELECT id, title, year, "Mixed Col" FROM film
        WHERE id IN (2, 3, 5, 7) ORDER BY id) TO STDOUT WITH (FORMAT csv, HEADER)`);
    assert.equal(res.data, expected.replace(/\n/g, '\r\n'));
    assert.ok(res.data.startsWith('id,title,year,Mixed Col\r\n'));
});

// --- count ----------------------------------------------------------------

test('select("*", {count: "exact", head: true}) gives the count and no body', async () => {
    let res = await db.from('film').select('*', { count: 'exact', head: true });
    assert.equal(res.error, null);
    assert.equal(res.status, 200);
    assert.equal(res.data, null);
    assert.equal(res.count, total('film'));
    res = await db.from('many').select('*', { count: 'exact', head: true }).lt('n', 3);
    assert.equal(res.error, null);
    assert.equal(res.data, null);
    assert.equal(res.count, total('many WHERE n < 3'));
    assert.ok(res.count > 1000, 'more than one capped page, so the count is not the page size');
    assert.equal(res.status, 206, 'a partial page (1000 of them) is 206');
});

test('{count: "exact"} with a filter and a range', async () => {
    const res = await db.from('film').select('id', { count: 'exact' }).gt('year', 2000).range(0, 2);
    assert.equal(res.error, null);
    assert.equal(res.status, 206);
    assert.equal(res.count, total('film WHERE year > 2000'));
    assert.deepEqual(res.data, sql('SELECT id FROM film WHERE year > 2000 ORDER BY id LIMIT 3'));
});

test('{count: "exact"} on a page that reaches the end is 200', async () => {
    const res = await db.from('people').select('id', { count: 'exact' });
    assert.equal(res.error, null);
    assert.equal(res.status, 200);
    assert.equal(res.count, total('people'));
    assert.equal(res.data.length, res.count);
});

test('{count: "planned"} and {count: "estimated"} give a number', async () => {
    for (const count of ['planned', 'estimated']) {
        const res = await db.from('many').select('id', { count, head: true });
        assert.equal(res.error, null, count);
        assert.equal(typeof res.count, 'number', count);
        assert.ok(Number.isInteger(res.count) && res.count >= 0, `${count}: ${res.count}`);
    }
});

// --- errors ---------------------------------------------------------------

test('an unknown column is a 400 AR105 error object', async () => {
    const res = await db.from('film').select('id,no_such_column');
    assert.equal(res.status, 400);
    assert.equal(res.data, null);
    assert.equal(res.error?.code, 'AR105');
    assert.deepEqual(Object.keys(res.error).sort(), ['code', 'details', 'hint', 'message']);
    assert.match(res.error.message, /no_such_column/);
});

test('.throwOnError() rejects with a PostgrestError carrying the code', async () => {
    // The builders are thenables, not Promises: assert.rejects wants a function.
    await assert.rejects(async () => db.from('film').select('id').eq('no_such_column', 1).throwOnError(),
        (err) => {
            assert.ok(err instanceof PostgrestError, `a PostgrestError, not ${err?.constructor?.name}`);
            assert.equal(err.name, 'PostgrestError');
            assert.equal(err.code, 'AR105');
            assert.equal(typeof err.message, 'string');
            return true;
        });
    await assert.rejects(async () => db.from('no_such_relation').select('*').throwOnError(),
        (err) => err instanceof PostgrestError && err.code === 'AR201');
});

test('other errors: unknown relation 404, bad value 400 22P02, unserved schema 406', async () => {
    let res = await db.from('no_such_relation').select('*');
    assert.equal(res.status, 404);
    assert.equal(res.error?.code, 'AR201');
    res = await db.from('film').select('id').eq('id', 'abc');
    assert.equal(res.status, 400);
    assert.equal(res.error?.code, '22P02');
    res = await db.schema('private').from('notes').select('*');
    assert.equal(res.status, 406);
    assert.equal(res.error?.code, 'AR403');
    res = await db.from('film').select('id').filter('year', 'nope', 1);
    assert.equal(res.status, 400);
    assert.equal(res.error?.code, 'AR107');
});

// --- embedding --------------------------------------------------------------

// Arrays inside rows come in no promised order: sort them by id to compare.
const byId = (rows) => [...rows].sort((a, b) => a.id - b.id);

test('embedding: people with their team (many-to-one, hinted), null without one', async () => {
    const res = await db.from('people').select('id,name,team:teams!team_id(id,name)');
    assert.equal(res.error, null, `no error (got ${JSON.stringify(res.error)})`);
    assert.equal(res.status, 200);
    const want = sql(`SELECT p.id, p.name, (SELECT row_to_json(t) FROM (SELECT id, name FROM teams
                      WHERE id = p.team_id) t) AS team FROM people p ORDER BY p.id`);
    assert.ok(want.some((r) => r.team === null) && want.some((r) => r.team !== null),
        'the fixture has people with and without a team');
    assert.deepEqual(res.data, want);
});

test('embedding: teams with their members through enrollment (many-to-many), and an inner join', async () => {
    const want = sql(`SELECT t.id, (SELECT coalesce(json_agg(x ORDER BY x.id), '[]') FROM
                        (SELECT p.id, p.name FROM people p JOIN enrollment e ON e.person_id = p.id
                         WHERE e.team_id = t.id) x) AS people FROM teams t ORDER BY t.id`);
    assert.ok(want.some((r) => r.people.length === 0), 'the fixture has a team without members');
    let res = await db.from('teams').select('id,people!enrollment(id,name)');
    assert.equal(res.error, null, `no error (got ${JSON.stringify(res.error)})`);
    assert.deepEqual(res.data.map((r) => ({ ...r, people: byId(r.people) })), want);
    res = await db.from('teams').select('id,people!enrollment!inner(id,name)');
    assert.equal(res.error, null);
    assert.deepEqual(res.data.map((r) => r.id), want.filter((r) => r.people.length > 0).map((r) => r.id));
});

test('embedding: two relationships fit (team_id and enrollment): 300 with the candidates', async () => {
    const res = await db.from('people').select('id,teams(id)');
    assert.equal(res.status, 300);
    assert.equal(res.error?.code, 'AR114');
    assert.equal(Array.isArray(res.error?.details), true);
    assert.equal(res.error.details.length, 2);
});
