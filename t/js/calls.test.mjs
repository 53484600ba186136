// t/js/calls.test.mjs: the unmodified @supabase/postgrest-js client calling
// functions through mod_autorest with rpc(): POST with a JSON object of named
// arguments, { get: true } (arguments in the query string, arrays as {a,b}),
// { head: true }, { count: 'exact' }, and on a set-returning function the read
// grammar after it (.select() with an embed, filters, .order(), .limit(),
// .range(), .single(), .csv()). Run by t/js/run.sh, which serves schema calls
// (t/fixtures/95_calls.sql) at /r beside /api (AR_BASE_URL) with AutoRestRPC
// all, calls.items.secret hidden and calls.excluded excluded.
// Every expectation is PostgreSQL's own answer through psql (as superuser): the
// same function called there, or the table it changed, or the error it raises
// caught in PL/pgSQL; never a copy of what the module answered. The database
// may hold what an earlier run left: log lines are told apart by a tag unique to
// this run, and the qty this file bumps is put back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PostgrestClient } from '@supabase/postgrest-js';
import { base, psql, sql, ok, failed } from './pg.mjs';

if (!/\/api\/?$/.test(base))
    throw new Error(`AR_BASE_URL ends in /api, the functions are served beside it at /r: ${base}`);
const rbase = base.replace(/\/api\/?$/, '/r');
const db = new PostgrestClient(rbase);

// A tag no earlier run used, for the lines this file makes functions write to calls.log.
const run = `js-${process.pid}-${Date.now()}`;

const count = (from) => Number(psql(`SELECT count(*) FROM ${from}`).trim());
// value(EXPR): PostgreSQL's to_json of one value, as the client should get a scalar.
const value = (expr) => JSON.parse(psql(`SELECT to_json(${expr})`));
// The columns of calls.items a call shows: all but secret (AutoRestHide).
const ITEM = 'id, name, qty, owner_id';
// rows(CALL, COLS, REST): the rows a set-returning call gives in psql, in the
// function's own order unless REST orders them (REST: WHERE / ORDER BY / LIMIT).
const rows = (call, cols = ITEM, rest = 'ORDER BY f.ord') =>
    sql(`SELECT ${cols} FROM ${call} WITH ORDINALITY AS f(${ITEM}, secret, ord) ${rest}`);
// What PostgreSQL holds of calls.items, to show a refused call changed nothing.
const snapshot = () => psql(`SELECT md5(string_agg(t::text, '|' ORDER BY id)) FROM calls.items t`);

// raised(CALL): the error CALL raises in PostgreSQL, as PostgREST's error object.
function raised(call) {
    return JSON.parse(psql(`CREATE FUNCTION pg_temp.caught() RETURNS json LANGUAGE plpgsql AS $f$
        DECLARE c text; m text; d text; h text;
        BEGIN
            PERFORM ${call};
            RETURN NULL;
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS c = RETURNED_SQLSTATE, m = MESSAGE_TEXT,
                d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
            RETURN json_build_object('code', c, 'message', m,
                'details', nullif(d, ''), 'hint', nullif(h, ''));
        END $f$;
        SELECT pg_temp.caught()`));
}

// some(ROWS, ALL): the fixture makes a filter mean something: some rows, not all.
function some(rowsWanted, all) {
    assert.ok(rowsWanted.length > 0 && rowsWanted.length < all.length,
        `the fixture selects some rows, not all: ${JSON.stringify(rowsWanted)} of ${all.length}`);
}

// --- POST --------------------------------------------------------------------

test('rpc POST of scalar functions: the bare JSON value', async () => {
    let res = await db.rpc('add_them', { a: 1, b: 2 });
    ok(res, 200);
    assert.equal(res.data, value('calls.add_them(1, 2)'));
    res = await db.rpc('hello', { name: 'js' });
    ok(res, 200);
    assert.equal(res.data, value(`calls.hello('js')`));
    res = await db.rpc('hello');
    ok(res, 200);
    assert.equal(res.data, value('calls.hello()'));
    res = await db.rpc('sum_of', { nums: [1, 2, 3] });
    ok(res, 200);
    assert.equal(res.data, value(`calls.sum_of('{1,2,3}')`));
    res = await db.rpc('tags');
    ok(res, 200);
    assert.deepEqual(res.data, value('calls.tags()'));
});

test('rpc POST of a function returning one composite: one object, hidden column left out', async () => {
    let res = await db.rpc('one_item', { item_id: 2 });
    ok(res, 200);
    assert.ok(!Array.isArray(res.data));
    assert.deepEqual(res.data, rows('calls.one_item(2)')[0]);
    assert.ok(!('secret' in res.data), 'secret is hidden');
    res = await db.rpc('one_item', { item_id: 2 }).select('id,name,owners(name)');
    ok(res, 200);
    assert.deepEqual(res.data, sql(`SELECT i.id, i.name, (SELECT row_to_json(o) FROM
        (SELECT name FROM calls.owners WHERE id = i.owner_id) o) AS owners FROM calls.one_item(2) i`)[0]);
    res = await db.rpc('point');
    ok(res, 200);
    assert.deepEqual(res.data, sql('SELECT * FROM calls.point()')[0]);
    res = await db.rpc('out_params', { num: 3 });
    ok(res, 200);
    assert.deepEqual(res.data, sql('SELECT * FROM calls.out_params(3)')[0]);
});

test('rpc POST of a SETOF function: the rows as an array, hidden column left out', async () => {
    const res = await db.rpc('items_over', { min_qty: 0 });
    ok(res, 200);
    assert.deepEqual(res.data, rows('calls.items_over(0)'));
    assert.ok(res.data.length > 1);
    assert.ok(res.data.every((r) => !('secret' in r)), 'secret is hidden');
    assert.equal(res.count, null);
    // TABLE (...) and SETOF int
    let other = await db.rpc('squares', { n: 4 });
    ok(other, 200);
    assert.deepEqual(other.data, sql('SELECT * FROM calls.squares(4)'));
    other = await db.rpc('numbers', { n: 3 });
    ok(other, 200);
    assert.deepEqual(other.data, sql('SELECT n FROM calls.numbers(3) n').map((r) => r.n));
});

test('rpc(...).select("id,name,owners(name)"): the columns asked for, the owner embedded', async () => {
    const res = await db.rpc('items_over', { min_qty: 0 }).select('id,name,owners(name)');
    ok(res, 200);
    const want = rows('calls.items_over(0)', `f.id, f.name, (SELECT row_to_json(o) FROM
        (SELECT name FROM calls.owners WHERE id = f.owner_id) o) AS owners`);
    assert.deepEqual(res.data, want);
    // the fixture has rows with an owner and one without
    assert.ok(want.some((r) => r.owners === null) && want.some((r) => r.owners !== null));
    // the hidden column cannot be asked for
    failed(await db.rpc('items_over', { min_qty: 0 }).select('id,secret'), 400, 'AR105');
});

test('rpc(...) with .eq and .gt filters on the rows', async () => {
    const all = rows('calls.items_over(0)');
    let res = await db.rpc('items_over', { min_qty: 0 }).gt('qty', 2);
    ok(res, 200);
    let want = rows('calls.items_over(0)', ITEM, 'WHERE qty > 2 ORDER BY f.ord');
    some(want, all);
    assert.deepEqual(res.data, want);
    res = await db.rpc('items_over', { min_qty: 0 }).eq('owner_id', 2).gt('qty', 2).select('id,name');
    ok(res, 200);
    want = rows('calls.items_over(0)', 'id, name', 'WHERE owner_id = 2 AND qty > 2 ORDER BY f.ord');
    some(want, all);
    assert.deepEqual(res.data, want);
});

test('rpc(...).order(), .limit(), .range()', async () => {
    let res = await db.rpc('items_over', { min_qty: 0 }).order('qty', { ascending: false });
    ok(res, 200);
    assert.deepEqual(res.data, rows('calls.items_over(0)', ITEM, 'ORDER BY qty DESC, f.ord'));
    // qty orders the rows otherwise than the function does
    assert.notDeepEqual(res.data.map((r) => r.id), rows('calls.items_over(0)', 'id').map((r) => r.id));

    res = await db.rpc('items_over', { min_qty: 0 }).order('name').limit(2);
    ok(res, 200);
    assert.deepEqual(res.data, rows('calls.items_over(0)', ITEM, 'ORDER BY name LIMIT 2'));
    assert.equal(res.data.length, 2);

    res = await db.rpc('items_over', { min_qty: 0 }).order('id').range(1, 2);
    ok(res, 200);
    assert.deepEqual(res.data, rows('calls.items_over(0)', ITEM, 'ORDER BY id OFFSET 1 LIMIT 2'));
    assert.equal(res.data.length, 2);
});

test('rpc(...).single() on a SETOF result: the object for one row, 406 for several', async () => {
    const all = rows('calls.items_over(0)');
    const id = all[0].id;
    let res = await db.rpc('items_over', { min_qty: 0 }).eq('id', id).single();
    ok(res, 200);
    assert.ok(!Array.isArray(res.data));
    assert.deepEqual(res.data, rows('calls.items_over(0)', ITEM, `WHERE id = ${id}`)[0]);

    assert.ok(all.length > 1);
    res = await db.rpc('items_over', { min_qty: 0 }).single();
    failed(res, 406, 'AR402');
});

test('rpc(...).csv(): PostgreSQL\'s CSV of the rows', async () => {
    const res = await db.rpc('items_over', { min_qty: 0 }).select('id,name,qty,owner_id').csv();
    ok(res, 200);
    assert.equal(typeof res.data, 'string');
    const expected = psql(`COPY (SELECT ${ITEM} FROM calls.items_over(0) WITH ORDINALITY
        AS f(${ITEM}, secret, ord) ORDER BY ord) TO STDOUT WITH (FORMAT csv, HEADER)`);
    assert.equal(res.data, expected.replace(/\n/g, '\r\n'));
    assert.ok(res.data.startsWith('id,name,qty,owner_id\r\n'));
});

// --- { get: true } -------------------------------------------------------------

test('rpc(..., { get: true }): scalars, two arguments and a default left out', async () => {
    let res = await db.rpc('add_them', { a: 4, b: 5 }, { get: true });
    ok(res, 200);
    assert.equal(res.data, value('calls.add_them(4, 5)'));
    res = await db.rpc('hello', {}, { get: true });
    ok(res, 200);
    assert.equal(res.data, value('calls.hello()'));
    res = await db.rpc('hello', { name: 'a b&c=d' }, { get: true });
    ok(res, 200);
    assert.equal(res.data, value(`calls.hello('a b&c=d')`));
});

test('rpc(..., { get: true }) of a SETOF function with filters and an order', async () => {
    const all = rows('calls.items_over(0)');
    const res = await db.rpc('items_over', { min_qty: 0 }, { get: true })
        .lt('qty', 6).not('owner_id', 'is', null).order('qty').select('id,name,qty');
    ok(res, 200);
    const want = rows('calls.items_over(0)', 'id, name, qty',
        'WHERE qty < 6 AND owner_id IS NOT NULL ORDER BY qty, f.ord');
    some(want, all);
    assert.deepEqual(res.data, want);
});

test('rpc("sum_of", { nums: [1, 2, 3] }, { get: true }): the array sent as {1,2,3}', async () => {
    const res = await db.rpc('sum_of', { nums: [1, 2, 3] }, { get: true });
    ok(res, 200);
    assert.equal(res.data, value(`calls.sum_of('{1,2,3}')`));
    const other = await db.rpc('sum_of', { nums: [10, -4] }, { get: true });
    ok(other, 200);
    assert.equal(other.data, value(`calls.sum_of('{10,-4}')`));
});

// --- { head: true }, { count } ----------------------------------------------

test('rpc(..., { head: true }): 200, no body; with count: "exact" the count', async () => {
    const n = count('calls.items_over(0)');
    let res = await db.rpc('items_over', { min_qty: 0 }, { head: true, count: 'exact' });
    ok(res, 200);
    assert.equal(res.data, null);
    assert.equal(res.count, n);
    res = await db.rpc('items_over', { min_qty: 2 }, { head: true, count: 'exact' });
    ok(res, 200);
    assert.equal(res.count, count('calls.items_over(2)'));
    res = await db.rpc('add_them', { a: 1, b: 2 }, { head: true });
    ok(res, 200);
    assert.equal(res.data, null);
    assert.equal(res.count, null);
});

test('rpc(..., { count: "exact" }) with a limit: 206, the page and the count of all rows', async () => {
    const n = count('calls.items_over(0)');
    assert.ok(n > 2);
    let res = await db.rpc('items_over', { min_qty: 0 }, { count: 'exact' }).order('id').limit(2);
    ok(res, 206);
    assert.equal(res.count, n);
    assert.deepEqual(res.data, rows('calls.items_over(0)', ITEM, 'ORDER BY id LIMIT 2'));
    // a page holding every row is 200
    res = await db.rpc('items_over', { min_qty: 0 }, { count: 'exact' }).limit(n);
    ok(res, 200);
    assert.equal(res.count, n);
    assert.deepEqual(res.data, rows('calls.items_over(0)'));
    // the count is of the filtered rows
    res = await db.rpc('items_over', { min_qty: 0 }, { count: 'exact' }).gt('qty', 2).limit(1);
    ok(res, 206);
    assert.equal(res.count, count('calls.items_over(0) WHERE qty > 2'));
});

// --- changes -----------------------------------------------------------------

test('rpc of a void function: 204, data null; the row it wrote is in calls.log', async () => {
    const note = `${run}-note`;
    const res = await db.rpc('note', { what: note });
    ok(res, 204);
    assert.equal(res.data, null);
    assert.equal(count(`calls.log WHERE note = '${note}'`), 1);
});

test('rpc of a VOLATILE function by POST changes calls.items', async () => {
    const qty = () => Number(psql('SELECT qty FROM calls.items WHERE id = 5').trim());
    const before = qty();
    try {
        const res = await db.rpc('bump', { item_id: 5 });
        ok(res, 200);
        const after = qty();
        assert.equal(after, before + 1);
        assert.equal(res.data, after); // RETURNING qty
    } finally {
        psql(`UPDATE calls.items SET qty = ${before} WHERE id = 5`);
    }
});

test('rpc of a VOLATILE function with { get: true }: 405 AR301, nothing changed', async () => {
    const held = snapshot();
    const notes = count('calls.log');
    let res = await db.rpc('bump', { item_id: 5 }, { get: true });
    failed(res, 405, 'AR301');
    res = await db.rpc('note', { what: `${run}-refused` }, { get: true });
    failed(res, 405, 'AR301');
    assert.equal(snapshot(), held);
    assert.equal(count('calls.log'), notes);
    assert.equal(count(`calls.log WHERE note = '${run}-refused'`), 0);
});

test('logged_numbers with { count: "exact" } and .range(): the page, the count, the function ran once', async () => {
    const tag = `${run}-logged`;
    // PostgreSQL's answer, from a call of its own under another tag, taken back afterwards
    const ref = `${run}-logged-ref`;
    const want = sql(`SELECT x, o FROM calls.logged_numbers(10, '${ref}') WITH ORDINALITY AS f(x, o)
                      ORDER BY o`).map((r) => r.x);
    psql(`DELETE FROM calls.log WHERE note = '${ref}'`);
    assert.ok(want.length > 5);

    const res = await db.rpc('logged_numbers', { n: 10, tag }, { count: 'exact' }).range(2, 4);
    ok(res, 206);
    assert.equal(res.count, want.length);
    assert.deepEqual(res.data, want.slice(2, 5));
    assert.equal(count(`calls.log WHERE note = '${tag}'`), 1);
});

// --- errors ------------------------------------------------------------------

test('RAISE in the function: 400 P0001 with its message, details and hint', async () => {
    const res = await db.rpc('refuse');
    failed(res, 400, 'P0001');
    const want = raised('calls.refuse()');
    assert.deepEqual(res.error, want);
    assert.equal(res.error.details, 'Pretty simple');
});

test('RAISE SQLSTATE \'PGRST\': the status and the error object the function chose', async () => {
    const res = await db.rpc('custom_error');
    const pg = raised('calls.custom_error()');
    assert.equal(pg.code, 'PGRST');
    const body = JSON.parse(pg.message);
    const detail = JSON.parse(pg.details);
    assert.equal(res.status, detail.status);
    assert.equal(res.status, 332);
    assert.equal(res.data, null);
    assert.deepEqual(res.error, body);
    assert.equal(res.error.code, '123');
});

test('an unknown or excluded function is 404 AR204', async () => {
    assert.equal(count(`pg_proc WHERE proname = 'nosuch'`), 0);
    failed(await db.rpc('nosuch'), 404, 'AR204');
    failed(await db.rpc('nosuch', { a: 1 }, { get: true }), 404, 'AR204');
    // calls.excluded exists, but AutoRestExclude leaves it out
    assert.equal(count(`pg_proc WHERE oid = 'calls.excluded()'::regprocedure`), 1);
    failed(await db.rpc('excluded'), 404, 'AR204');
});

test('an overloaded function a call cannot choose between: 300 AR120', async () => {
    // calls.amb(a) and calls.amb(a, b DEFAULT 1) both take { a }
    assert.equal(count(`pg_proc WHERE proname = 'amb' AND pronamespace = 'calls'::regnamespace`), 2);
    const res = await db.rpc('amb', { a: 1 });
    failed(res, 300, 'AR120');
    // with b, only the second fits
    const two = await db.rpc('amb', { a: 1, b: 2 });
    ok(two, 200);
    assert.equal(two.data, value('calls.amb(a => 1, b => 2)'));
});
