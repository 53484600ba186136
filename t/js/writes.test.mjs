// t/js/writes.test.mjs: the unmodified @supabase/postgrest-js client writing
// through mod_autorest: insert, upsert, update, delete, as the client sends them
// (columns="a","b" for arrays, Prefer: count=, missing=default, resolution=,
// return=representation after .select(), Accept for .single(), .csv(); version
// 2 reads .maybeSingle() of a write from the array, on the client). Run by t/js/run.sh, which serves schema writes (t/fixtures/90_writes.sql)
// at /w beside /api (AR_BASE_URL), with writes.items.secret hidden.
// What the client is told is compared with what PostgreSQL holds afterwards,
// read through psql as superuser; the expectations are PostgreSQL's, never the
// module's. This file works on rows of its own only: writes.items and
// writes.reviews with ids from 50000 and names starting 'js-', skus 'JS-'.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { PostgrestClient, PostgrestError } from '@supabase/postgrest-js';
import { base, psql, sql, ok, failed } from './pg.mjs';

if (!/\/api\/?$/.test(base))
    throw new Error(`AR_BASE_URL ends in /api, the writes are served beside it at /w: ${base}`);
const wbase = base.replace(/\/api\/?$/, '/w');
const db = new PostgrestClient(wbase);

const count = (from) => Number(psql(`SELECT count(*) FROM ${from}`).trim());

// The columns of writes.items the Location shows: all but secret (AutoRestHide).
const ITEM = 'id, name, sku, price, qty, tags, meta, created';
// items(CONDITION): those rows of writes.items as the client should see them, by id.
const items = (cond, cols = ITEM) => sql(`SELECT ${cols} FROM writes.items WHERE ${cond} ORDER BY id`);
const reviews = (cond, cols = 'id, item_id, stars, body') =>
    sql(`SELECT ${cols} FROM writes.reviews WHERE ${cond} ORDER BY id`);
const byId = (rows) => [...rows].sort((a, b) => a.id - b.id);
// What PostgreSQL holds of the whole table, to show a refused write changed nothing.
const snapshot = () => psql(`SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY id), ''))
                             FROM writes.items t`);


// A row put in place by psql, not by the module (for update, delete, upsert).
function seed(id, name, sku, price = 1, qty = 1) {
    psql(`INSERT INTO writes.items (id, name, sku, price, qty)
          VALUES (${id}, '${name}', ${sku === null ? 'NULL' : `'${sku}'`}, ${price}, ${qty})`);
}

before(() => {
    // rows of an earlier run on the same database
    psql(`DELETE FROM writes.reviews WHERE id >= 50000 OR item_id >= 50000;
          DELETE FROM writes.items WHERE id >= 50000 OR name LIKE 'js-%'`);
});

// --- insert ----------------------------------------------------------------

test('insert one object: 201, no body, no count; the row holds it and the defaults', async () => {
    const res = await db.from('items').insert({ id: 50001, name: 'js-one', sku: 'JS-1', price: 2.5,
        tags: ['a', 'b,c', 'd"e'], meta: { k: [1, 2], s: 'x' } });
    ok(res, 201);
    assert.equal(res.data, null);
    assert.equal(res.count, null);
    assert.deepEqual(sql(`SELECT id, name, sku, price, qty, tags, meta, secret, created
                          FROM writes.items WHERE id = 50001`),
    sql(`SELECT 50001 AS id, 'js-one' AS name, 'JS-1' AS sku, 2.50::numeric(12,2) AS price,
                1 AS qty, ARRAY['a', 'b,c', 'd"e'] AS tags, '{"k": [1, 2], "s": "x"}'::jsonb AS meta,
                'hidden-default' AS secret, '2024-01-01 00:00:00+00'::timestamptz AS created`));
});

test('insert one object with {count: "exact"}: 201, count 1, no body', async () => {
    const res = await db.from('items').insert({ id: 50002, name: 'js-counted' }, { count: 'exact' });
    ok(res, 201);
    assert.equal(res.data, null);
    assert.equal(res.count, 1);
    assert.equal(count(`writes.items WHERE id = 50002 AND name = 'js-counted'`), 1);
});

test('insert(...).select(): 201, the row written as an array of one, hidden column left out', async () => {
    const res = await db.from('items').insert({ id: 50003, name: 'js-selected', sku: 'JS-3',
        price: 10, qty: 7, meta: null }).select();
    ok(res, 201);
    assert.equal(res.count, null);
    assert.ok(Array.isArray(res.data));
    assert.deepEqual(res.data, items('id = 50003'));
    assert.equal(res.data.length, 1);
    assert.ok(!('secret' in res.data[0]), 'secret is hidden');
});

test('insert(..., {count: "exact"}).select("id,name,reviews(id)"): 201, count, an embed', async () => {
    let res = await db.from('items').insert({ id: 50004, name: 'js-embed', sku: 'JS-4' },
        { count: 'exact' }).select('id,name,reviews(id)');
    ok(res, 201);
    assert.equal(res.count, 1);
    assert.deepEqual(res.data, sql(`SELECT i.id, i.name, (SELECT coalesce(json_agg(x ORDER BY x.id), '[]')
        FROM (SELECT id FROM writes.reviews WHERE item_id = i.id) x) AS reviews
        FROM writes.items i WHERE i.id = 50004`));
    assert.deepEqual(res.data[0].reviews, []);

    // the other way: a review written, its item embedded (many-to-one)
    res = await db.from('reviews').insert({ id: 50004, item_id: 50004, stars: 4, body: 'js' },
        { count: 'exact' }).select('id,stars,items(id,name,sku)');
    ok(res, 201);
    assert.equal(res.count, 1);
    const want = sql(`SELECT r.id, r.stars, (SELECT row_to_json(x) FROM (SELECT id, name, sku
        FROM writes.items WHERE id = r.item_id) x) AS items FROM writes.reviews r WHERE r.id = 50004`);
    assert.deepEqual(res.data, want);
    assert.equal(want[0].items.name, 'js-embed');

    // and the item again, now with its review
    res = await db.from('reviews').insert([{ id: 50005, item_id: 50004, stars: 2 }])
        .select('id,item:items(name),body');
    ok(res, 201);
    assert.deepEqual(res.data, [{ id: 50005, item: { name: 'js-embed' }, body: null }]);
    assert.deepEqual(reviews('id = 50005'), [{ id: 50005, item_id: 50004, stars: 2, body: null }]);
});

test('bulk insert, keys differing between objects: a missing key is NULL, not the default', async () => {
    // the client sends ?columns="id","name","sku","tags","price","meta": the union of the keys
    const res = await db.from('items').insert([
        { id: 50010, name: 'js-bulk-a', sku: 'JS-BA', tags: ['x'] },
        { id: 50011, name: 'js-bulk-b', price: 7.25, meta: { n: 1 } },
        { id: 50012, name: 'js-bulk-c' },
    ]);
    ok(res, 201);
    assert.equal(res.data, null);
    assert.equal(res.count, null);
    const got = sql(`SELECT id, name, sku, price, qty, tags, meta, secret
                     FROM writes.items WHERE id BETWEEN 50010 AND 50012 ORDER BY id`);
    assert.deepEqual(got, [
        { id: 50010, name: 'js-bulk-a', sku: 'JS-BA', price: null, qty: 1, tags: ['x'], meta: null,
            secret: 'hidden-default' },
        { id: 50011, name: 'js-bulk-b', sku: null, price: 7.25, qty: 1, tags: null, meta: { n: 1 },
            secret: 'hidden-default' },
        { id: 50012, name: 'js-bulk-c', sku: null, price: null, qty: 1, tags: null, meta: null,
            secret: 'hidden-default' },
    ]);
    // price has a default (0): what the client sent (no key) became NULL, as in PostgREST
    assert.equal(psql(`SELECT column_default FROM information_schema.columns
                       WHERE table_schema = 'writes' AND table_name = 'items'
                       AND column_name = 'price'`).trim(), '0');
});

test('bulk insert with .select() and {count: "exact"}: 201, every row, the count', async () => {
    const res = await db.from('items').insert([
        { id: 50013, name: 'js-bulk-d', qty: 3 },
        { id: 50014, name: 'js-bulk-e', qty: 0, sku: 'JS-BE' },
    ], { count: 'exact' }).select('*');
    ok(res, 201);
    assert.equal(res.count, 2);
    assert.deepEqual(byId(res.data), items('id IN (50013, 50014)'));
    assert.equal(res.data.length, 2);
});

test('bulk insert where a NOT NULL column is missing from one object: 400 23502, nothing written', async () => {
    // qty is NOT NULL DEFAULT 1: without defaultToNull: false the object lacking it sends NULL
    const res = await db.from('items').insert([
        { id: 50015, name: 'js-nn-a', qty: 2 },
        { id: 50016, name: 'js-nn-b' },
    ]);
    failed(res, 400, '23502');
    assert.equal(count('writes.items WHERE id IN (50015, 50016)'), 0);
});

test('insert with defaultToNull: false (Prefer: missing=default): a missing key takes the default', async () => {
    let res = await db.from('items').insert([
        { id: 50020, name: 'js-def-a', qty: 2 },
        { id: 50021, name: 'js-def-b', price: 3 },
        { name: 'js-def-c', sku: 'JS-DC' },
    ], { defaultToNull: false });
    ok(res, 201);
    assert.equal(res.data, null);
    const got = sql(`SELECT name, sku, price, qty, secret, created FROM writes.items
                     WHERE name LIKE 'js-def-_' ORDER BY name`);
    const defaults = sql(`SELECT 0::numeric(12,2) AS price, 1 AS qty, 'hidden-default' AS secret,
                          '2024-01-01 00:00:00+00'::timestamptz AS created`)[0];
    assert.deepEqual(got, [
        { name: 'js-def-a', sku: null, ...defaults, qty: 2 },
        { name: 'js-def-b', sku: null, ...defaults, price: 3 },
        { name: 'js-def-c', sku: 'JS-DC', ...defaults },
    ]);
    // the third got its id from the sequence: the column's default too
    assert.deepEqual(sql(`SELECT id IS NOT NULL AND id < 50000 AS from_sequence FROM writes.items
                          WHERE name = 'js-def-c'`), [{ from_sequence: true }]);

    // with .select() and a count, one object and an array
    res = await db.from('items').insert({ id: 50022, name: 'js-def-d' },
        { defaultToNull: false, count: 'exact' }).select();
    ok(res, 201);
    assert.equal(res.count, 1);
    assert.deepEqual(res.data, items('id = 50022'));
    assert.equal(res.data[0].qty, 1);
    res = await db.from('items').insert([{ id: 50023, name: 'js-def-e', tags: ['t'] }, { id: 50024, name: 'js-def-f', qty: 5 }],
        { defaultToNull: false, count: 'exact' }).select('id,name,price,qty,tags');
    ok(res, 201);
    assert.equal(res.count, 2);
    assert.deepEqual(byId(res.data), items('id IN (50023, 50024)', 'id, name, price, qty, tags'));
    assert.deepEqual(byId(res.data).map((r) => [r.qty, r.price]), [[1, 0], [5, 0]]);
});

test('.insert(...).select().single(): the object itself, 201', async () => {
    const res = await db.from('items').insert({ id: 50030, name: 'js-single', sku: 'JS-30', tags: [] })
        .select('id,name,sku,tags,qty').single();
    ok(res, 201);
    assert.ok(!Array.isArray(res.data));
    assert.deepEqual(res.data, items('id = 50030', 'id, name, sku, tags, qty')[0]);
});

test('.insert([two]).select().single(): 406, and nothing stays written', async () => {
    const held = snapshot();
    const res = await db.from('items').insert([{ id: 50031, name: 'js-two-a' }, { id: 50032, name: 'js-two-b' }])
        .select().single();
    failed(res, 406, 'AR402');
    assert.match(res.error.details, /2 rows/);
    assert.equal(count('writes.items WHERE id IN (50031, 50032)'), 0);
    assert.equal(snapshot(), held);
});

test('.insert(...).select().maybeSingle(): the object', async () => {
    const res = await db.from('items').insert({ id: 50033, name: 'js-maybe' }).select('id,name').maybeSingle();
    ok(res, 201);
    assert.deepEqual(res.data, items('id = 50033', 'id, name')[0]);
});

test('.insert([...]).select().csv(): PostgreSQL\'s CSV of the written rows', async () => {
    const res = await db.from('items').insert([
        { id: 50040, name: 'js-csv, "quoted"', sku: 'JS-40', price: 1.5 },
        { id: 50041, name: 'js-csv-null', sku: null, price: null },
    ]).select('id,name,sku,price').csv();
    ok(res, 201);
    assert.equal(typeof res.data, 'string');
    const expected = psql(`COPY (SELECT id, name, sku, price FROM writes.items
        WHERE id IN (50040, 50041) ORDER BY id) TO STDOUT WITH (FORMAT csv, HEADER)`);
    assert.equal(res.data, expected.replace(/\n/g, '\r\n'));
    assert.ok(res.data.startsWith('id,name,sku,price\r\n'));
});

test('db.schema("writes") sends Content-Profile: the one schema served; another is 406', async () => {
    let res = await db.schema('writes').from('items').insert({ id: 50045, name: 'js-profile' }).select('id,name');
    ok(res, 201);
    assert.deepEqual(res.data, items('id = 50045', 'id, name'));
    res = await db.schema('public').from('items').insert({ id: 50046, name: 'js-profile-other' });
    failed(res, 406, 'AR403');
    assert.equal(count('writes.items WHERE id = 50046'), 0);
});

test('insert([]): 201, nothing written; with .select() the empty array', async () => {
    const held = snapshot();
    let res = await db.from('items').insert([]);
    ok(res, 201);
    assert.equal(res.data, null);
    res = await db.from('items').insert([], { count: 'exact' }).select();
    ok(res, 201);
    assert.deepEqual(res.data, []);
    assert.equal(res.count, 0);
    assert.equal(snapshot(), held);
});

test('.single() on an insert without .select(): checked all the same, no body', async () => {
    let res = await db.from('items').insert({ id: 50034, name: 'js-single-min' }).single();
    ok(res, 201);
    assert.equal(res.data, null);
    assert.equal(count(`writes.items WHERE id = 50034 AND name = 'js-single-min'`), 1);
    res = await db.from('items').insert([{ id: 50035, name: 'js-single-min2' }, { id: 50036, name: 'js-single-min3' }])
        .single();
    failed(res, 406, 'AR402');
    assert.equal(count('writes.items WHERE id IN (50035, 50036)'), 0);
});

test('insert(...).select().order(...): the representation in that order', async () => {
    const res = await db.from('items').insert([{ id: 50037, name: 'js-ord-a' }, { id: 50038, name: 'js-ord-b' },
        { id: 50039, name: 'js-ord-c' }]).select('id,name').order('id', { ascending: false });
    ok(res, 201);
    assert.deepEqual(res.data, sql(`SELECT id, name FROM writes.items WHERE id BETWEEN 50037 AND 50039
                                    ORDER BY id DESC`));
});

test('.rollback() where the Location allows no override: ignored, the row is written (as PostgREST)', async () => {
    const res = await db.from('items').insert({ id: 50047, name: 'js-rollback' }).select('id,name').rollback();
    ok(res, 201);
    assert.deepEqual(res.data, items('id = 50047', 'id, name'));
    assert.equal(res.data.length, 1);
});

// --- upsert ----------------------------------------------------------------

test('upsert onConflict "sku" merging into an existing row: 200, the row updated, other columns kept', async () => {
    seed(50050, 'js-up-old', 'JS-UP', 1, 5);
    let res = await db.from('items').upsert({ name: 'js-up-new', sku: 'JS-UP', price: 3 },
        { onConflict: 'sku' }).select();
    ok(res, 200); // nothing new inserted
    assert.deepEqual(res.data, items(`sku = 'JS-UP'`));
    assert.deepEqual(items(`sku = 'JS-UP'`, 'id, name, price, qty'),
        [{ id: 50050, name: 'js-up-new', price: 3, qty: 5 }]);

    // without .select(): still 200, no body; with a count
    res = await db.from('items').upsert({ name: 'js-up-newer', sku: 'JS-UP' },
        { onConflict: 'sku', count: 'exact' });
    ok(res, 200);
    assert.equal(res.data, null);
    assert.equal(res.count, 1);
    assert.deepEqual(items(`sku = 'JS-UP'`, 'id, name, price'), [{ id: 50050, name: 'js-up-newer', price: 3 }]);
});

test('upsert onConflict "sku" of one existing and one new row: 201, both, count 2', async () => {
    // columns="name","sku","qty": price, sent by neither, is kept by the merged row and
    // takes its default in the new one
    seed(50051, 'js-up2-old', 'JS-UP2', 4, 4);
    const res = await db.from('items').upsert([
        { name: 'js-up2-new', sku: 'JS-UP2', qty: 9 },
        { name: 'js-up2-fresh', sku: 'JS-UP2F', qty: 2 },
    ], { onConflict: 'sku', count: 'exact' }).select('id,name,sku,price,qty');
    ok(res, 201);
    assert.equal(res.count, 2);
    assert.deepEqual(byId(res.data), items(`sku IN ('JS-UP2', 'JS-UP2F')`, 'id, name, sku, price, qty'));
    assert.deepEqual(items(`sku IN ('JS-UP2', 'JS-UP2F')`, 'name, sku, price, qty').sort((a, b) =>
        a.sku.localeCompare(b.sku)), [
        { name: 'js-up2-new', sku: 'JS-UP2', price: 4, qty: 9 }, // price kept
        { name: 'js-up2-fresh', sku: 'JS-UP2F', price: 0, qty: 2 }, // price's default
    ]);
});

test('upsert onConflict "sku" of a new row only: 201 (bulk, without select: no body)', async () => {
    const res = await db.from('items').upsert([{ name: 'js-up3', sku: 'JS-UP3' }], { onConflict: 'sku' });
    ok(res, 201);
    assert.equal(res.data, null);
    assert.equal(count(`writes.items WHERE sku = 'JS-UP3' AND name = 'js-up3'`), 1);
});

test('bulk upsert where every row exists: 200 and the count', async () => {
    seed(50055, 'js-up5-a', 'JS-UP5A', 1, 1);
    seed(50056, 'js-up5-b', 'JS-UP5B', 1, 1);
    // name is NOT NULL: PostgreSQL checks the row proposed for insertion before the conflict
    let res = await db.from('items').upsert([{ name: 'js-up5-a', sku: 'JS-UP5A', qty: 11 },
        { name: 'js-up5-b', sku: 'JS-UP5B', qty: 12 }], { onConflict: 'sku', count: 'exact' });
    ok(res, 200);
    assert.equal(res.data, null);
    assert.equal(res.count, 2);
    assert.deepEqual(items('id IN (50055, 50056)', 'id, name, qty'),
        [{ id: 50055, name: 'js-up5-a', qty: 11 }, { id: 50056, name: 'js-up5-b', qty: 12 }]);
    res = await db.from('items').upsert([{ name: 'js-up5-a', sku: 'JS-UP5A', qty: 13 },
        { name: 'js-up5-b', sku: 'JS-UP5B', qty: 14 }], { onConflict: 'sku' }).select('id,qty');
    ok(res, 200);
    assert.deepEqual(byId(res.data), items('id IN (50055, 50056)', 'id, qty'));
    assert.deepEqual(byId(res.data).map((r) => r.qty), [13, 14]);
});

test('upsert on the primary key (no onConflict): merge by id', async () => {
    seed(50052, 'js-up4-old', 'JS-UP4', 2, 2);
    let res = await db.from('items').upsert({ id: 50052, name: 'js-up4-new', qty: 6 }).select('id,name,sku,qty');
    ok(res, 200);
    assert.deepEqual(res.data, items('id = 50052', 'id, name, sku, qty'));
    assert.deepEqual(res.data, [{ id: 50052, name: 'js-up4-new', sku: 'JS-UP4', qty: 6 }]);
    res = await db.from('items').upsert({ id: 50053, name: 'js-up4-fresh' }).select('id,name');
    ok(res, 201);
    assert.deepEqual(res.data, items('id = 50053', 'id, name'));
});

test('upsert ignoreDuplicates: the duplicate is left alone and not returned; 201', async () => {
    seed(50054, 'js-ign-old', 'JS-IGN', 8, 8);
    let res = await db.from('items').upsert([
        { name: 'js-ign-dup', sku: 'JS-IGN', price: 99 },
        { name: 'js-ign-new', sku: 'JS-IGN2', price: 1 },
    ], { onConflict: 'sku', ignoreDuplicates: true, count: 'exact' }).select('id,name,sku,price');
    ok(res, 201);
    assert.equal(res.count, 1);
    assert.deepEqual(res.data, items(`sku = 'JS-IGN2'`, 'id, name, sku, price'));
    assert.deepEqual(items(`sku = 'JS-IGN'`, 'id, name, price'), [{ id: 50054, name: 'js-ign-old', price: 8 }]);

    // all duplicates: still 201, nothing returned, nothing changed
    const held = snapshot();
    res = await db.from('items').upsert({ name: 'js-ign-dup', sku: 'JS-IGN' },
        { onConflict: 'sku', ignoreDuplicates: true }).select();
    ok(res, 201);
    assert.deepEqual(res.data, []);
    assert.equal(snapshot(), held);

    // .maybeSingle() of that: no row is data null, no error (the client reads
    // the array the server sent with its 201)
    res = await db.from('items').upsert({ name: 'js-ign-dup', sku: 'JS-IGN' },
        { onConflict: 'sku', ignoreDuplicates: true }).select().maybeSingle();
    ok(res, 201);
    assert.equal(res.data, null);
    assert.equal(snapshot(), held);
});

// --- update ----------------------------------------------------------------

test('update(...).eq("id", X): 204, no body; the row changed, its neighbours not', async () => {
    seed(50060, 'js-upd-a', 'JS-60', 1, 1);
    seed(50061, 'js-upd-b', 'JS-61', 1, 1);
    const res = await db.from('items').update({ price: 4.25, tags: ['u', 'v'], meta: { u: true } }).eq('id', 50060);
    ok(res, 204);
    assert.equal(res.data, null);
    assert.equal(res.count, null);
    assert.deepEqual(items('id IN (50060, 50061)', 'id, price, tags, meta'), [
        { id: 50060, price: 4.25, tags: ['u', 'v'], meta: { u: true } },
        { id: 50061, price: 1, tags: null, meta: null },
    ]);
});

test('update(...).eq(...).select(): 200, the rows as changed', async () => {
    seed(50062, 'js-upd-c', 'JS-62', 1, 1);
    const res = await db.from('items').update({ name: 'js-upd-c2', qty: 0 }).eq('id', 50062).select();
    ok(res, 200);
    assert.deepEqual(res.data, items('id = 50062'));
    assert.equal(res.data[0].name, 'js-upd-c2');
});

test('update with {count: "exact"}: 204 and 200, the count of rows changed', async () => {
    seed(50063, 'js-upd-cnt', 'JS-63');
    seed(50064, 'js-upd-cnt', 'JS-64');
    seed(50065, 'js-upd-cnt', 'JS-65');
    let res = await db.from('items').update({ qty: 9 }, { count: 'exact' }).eq('name', 'js-upd-cnt');
    ok(res, 204);
    assert.equal(res.data, null);
    assert.equal(res.count, 3);
    assert.equal(count(`writes.items WHERE name = 'js-upd-cnt' AND qty = 9`), 3);

    res = await db.from('items').update({ qty: 8 }, { count: 'exact' }).in('id', [50063, 50065])
        .select('id,qty');
    ok(res, 200);
    assert.equal(res.count, 2);
    assert.deepEqual(byId(res.data), items('id IN (50063, 50065)', 'id, qty'));
    assert.deepEqual(items(`name = 'js-upd-cnt'`, 'id, qty'), [
        { id: 50063, qty: 8 }, { id: 50064, qty: 9 }, { id: 50065, qty: 8 }]);

    // no row matched: 204 and 0, or 200 and []
    const held = snapshot();
    res = await db.from('items').update({ qty: 77 }, { count: 'exact' }).eq('id', 59999);
    ok(res, 204);
    assert.equal(res.count, 0);
    res = await db.from('items').update({ qty: 77 }).eq('id', 59999).select();
    ok(res, 200);
    assert.deepEqual(res.data, []);
    assert.equal(snapshot(), held);
});

test('update({}): nothing changes; 204, or 200 with []', async () => {
    seed(50059, 'js-upd-empty', 'JS-59');
    const held = snapshot();
    let res = await db.from('items').update({}).eq('id', 50059);
    ok(res, 204);
    res = await db.from('items').update({}).eq('id', 50059).select();
    ok(res, 200);
    assert.deepEqual(res.data, []);
    assert.equal(snapshot(), held);
});

test('update(...).select().csv() and delete().select().csv()', async () => {
    seed(50058, 'js-upd-csv', 'JS-58', 2, 2);
    let res = await db.from('items').update({ name: 'js-upd-csv, "2"', tags: ['a b', 'c'] }).eq('id', 50058)
        .select('id,name,tags,qty').csv();
    ok(res, 200);
    const expected = () => psql(`COPY (SELECT id, name, tags, qty FROM writes.items WHERE id = 50058)
                                 TO STDOUT WITH (FORMAT csv, HEADER)`).replace(/\n/g, '\r\n');
    const was = expected();
    assert.equal(res.data, was);
    res = await db.from('items').delete().eq('id', 50058).select('id,name,tags,qty').csv();
    ok(res, 200);
    assert.equal(res.data, was);
    assert.equal(count('writes.items WHERE id = 50058'), 0);
});

test('update a review with an embedded item in the representation', async () => {
    seed(50066, 'js-upd-rev', 'JS-66');
    psql(`INSERT INTO writes.reviews VALUES (50066, 50066, 1, 'meh')`);
    const res = await db.from('reviews').update({ stars: 5, body: 'great' }).eq('id', 50066)
        .select('id,stars,body,items(id,name)');
    ok(res, 200);
    assert.deepEqual(res.data, sql(`SELECT r.id, r.stars, r.body, (SELECT row_to_json(x) FROM
        (SELECT id, name FROM writes.items WHERE id = r.item_id) x) AS items
        FROM writes.reviews r WHERE r.id = 50066`));
    assert.equal(res.data[0].body, 'great');
});

test('update(...).select().single() / .maybeSingle()', async () => {
    seed(50067, 'js-upd-one', 'JS-67');
    seed(50068, 'js-upd-many', 'JS-68');
    seed(50069, 'js-upd-many', 'JS-69');
    let res = await db.from('items').update({ qty: 4 }).eq('id', 50067).select('id,name,qty').single();
    ok(res, 200);
    assert.deepEqual(res.data, items('id = 50067', 'id, name, qty')[0]);
    assert.equal(res.data.qty, 4);

    // several rows: 406, and the update rolled back
    res = await db.from('items').update({ qty: 4 }).eq('name', 'js-upd-many').select().single();
    failed(res, 406, 'AR402');
    assert.equal(count(`writes.items WHERE name = 'js-upd-many' AND qty = 1`), 2);

    // maybeSingle: none is data null and no error; one is the object
    res = await db.from('items').update({ qty: 4 }).eq('id', 59999).select().maybeSingle();
    ok(res, 200);
    assert.equal(res.data, null);
    res = await db.from('items').update({ qty: 3 }).eq('id', 50067).select('id,qty').maybeSingle();
    ok(res, 200);
    assert.deepEqual(res.data, items('id = 50067', 'id, qty')[0]);
    assert.equal(res.data.qty, 3);
});

// --- delete ----------------------------------------------------------------

test('delete().eq(...): 204, no body; the row gone, its neighbour kept', async () => {
    seed(50070, 'js-del-a', 'JS-70');
    seed(50071, 'js-del-b', 'JS-71');
    const res = await db.from('items').delete().eq('id', 50070);
    ok(res, 204);
    assert.equal(res.data, null);
    assert.equal(res.count, null);
    assert.deepEqual(items('id IN (50070, 50071)', 'id'), [{ id: 50071 }]);
});

test('delete().eq(...).select(): 200, the rows as they were', async () => {
    seed(50072, 'js-del-c', 'JS-72', 3.5, 2);
    const was = items('id = 50072');
    const res = await db.from('items').delete().eq('id', 50072).select();
    ok(res, 200);
    assert.deepEqual(res.data, was);
    assert.equal(count('writes.items WHERE id = 50072'), 0);
});

test('delete({count: "exact"}): 204 and 200 with the count; none matched is 0', async () => {
    for (const id of [50073, 50074, 50075, 50076]) seed(id, 'js-del-cnt', `JS-${id}`);
    let res = await db.from('items').delete({ count: 'exact' }).in('id', [50073, 50074]);
    ok(res, 204);
    assert.equal(res.data, null);
    assert.equal(res.count, 2);
    assert.equal(count(`writes.items WHERE name = 'js-del-cnt'`), 2);

    const was = items('id IN (50075, 50076)', 'id, name, sku');
    res = await db.from('items').delete({ count: 'exact' }).eq('name', 'js-del-cnt').select('id,name,sku');
    ok(res, 200);
    assert.equal(res.count, 2);
    assert.deepEqual(byId(res.data), was);
    assert.equal(count(`writes.items WHERE name = 'js-del-cnt'`), 0);

    res = await db.from('items').delete({ count: 'exact' }).eq('id', 59999);
    ok(res, 204);
    assert.equal(res.count, 0);
    res = await db.from('items').delete().eq('id', 59999).select();
    ok(res, 200);
    assert.deepEqual(res.data, []);

    // count=planned on a write: PostgREST 12 answers */*, which the client reads as NaN
    seed(50057, 'js-del-cnt', 'JS-50057');
    res = await db.from('items').delete({ count: 'planned' }).eq('id', 50057);
    ok(res, 204);
    assert.ok(Number.isNaN(res.count), `count ${res.count}`);
    assert.equal(count('writes.items WHERE id = 50057'), 0);
});

test('delete().select().single() / .maybeSingle()', async () => {
    seed(50077, 'js-del-one', 'JS-77');
    seed(50078, 'js-del-many', 'JS-78');
    seed(50079, 'js-del-many', 'JS-79');
    let was = items('id = 50077', 'id, name');
    let res = await db.from('items').delete().eq('id', 50077).select('id,name').single();
    ok(res, 200);
    assert.deepEqual(res.data, was[0]);
    assert.equal(count('writes.items WHERE id = 50077'), 0);

    // several with .single(): the server's 406, nothing deleted
    res = await db.from('items').delete().eq('name', 'js-del-many').select().single();
    failed(res, 406, 'AR402');
    assert.equal(count(`writes.items WHERE name = 'js-del-many'`), 2);

    res = await db.from('items').delete().eq('id', 59999).select().maybeSingle();
    ok(res, 200);
    assert.equal(res.data, null);
    was = items('id = 50078', 'id, sku');
    res = await db.from('items').delete().eq('id', 50078).select('id,sku').maybeSingle();
    ok(res, 200);
    assert.deepEqual(res.data, was[0]);
    assert.equal(count('writes.items WHERE id = 50078'), 0);
});

test('.maxAffected(n) on delete: more rows than n is 400 and nothing deleted; n enough deletes', async () => {
    for (const id of [50080, 50081, 50082]) seed(id, 'js-max', `JS-${id}`);
    let res = await db.from('items').delete().eq('name', 'js-max').maxAffected(2);
    assert.equal(res.status, 400);
    assert.equal(res.data, null);
    assert.equal(res.error?.code, 'AR118');
    assert.match(res.error.details, /3 rows/);
    assert.equal(count(`writes.items WHERE name = 'js-max'`), 3);
    res = await db.from('items').delete().eq('name', 'js-max').maxAffected(3);
    ok(res, 204);
    assert.equal(count(`writes.items WHERE name = 'js-max'`), 0);
});

// --- errors ------------------------------------------------------------------

test('a duplicate key is 409 23505 and writes nothing', async () => {
    seed(50089, 'js-dup-other', 'JS-89');
    seed(50090, 'js-dup', 'JS-90');
    const held = snapshot();
    let res = await db.from('items').insert({ id: 50090, name: 'js-dup-again' });
    failed(res, 409, '23505');
    assert.match(res.error.message, /duplicate key/);
    // a bulk insert whose second row collides on sku: the first is not kept either
    res = await db.from('items').insert([{ id: 50091, name: 'js-dup-b', sku: 'JS-91' },
        { id: 50092, name: 'js-dup-c', sku: 'JS-90' }]).select();
    failed(res, 409, '23505');
    // an update onto an existing sku
    res = await db.from('items').update({ sku: 'JS-90' }).eq('id', 50089);
    failed(res, 409, '23505');
    assert.equal(snapshot(), held);
});

test('.throwOnError() on a write rejects with a PostgrestError', async () => {
    await assert.rejects(async () => db.from('items').insert({ id: 50090, name: 'js-dup-throw' }).throwOnError(),
        (err) => err instanceof PostgrestError && err.code === '23505');
});

test('a foreign key or a check refused: 409 23503, 400 23514; nothing written', async () => {
    let res = await db.from('reviews').insert({ id: 50093, item_id: 59999, stars: 3 });
    failed(res, 409, '23503');
    assert.equal(count('writes.reviews WHERE id = 50093'), 0);
    res = await db.from('items').insert({ id: 50093, name: 'js-check', qty: -1 });
    failed(res, 400, '23514');
    assert.equal(count('writes.items WHERE id = 50093'), 0);
});

test('an unknown column is 400 AR115: in an insert, an update, and the hidden column', async () => {
    const held = snapshot();
    let res = await db.from('items').insert({ id: 50094, name: 'js-unknown', no_such_column: 1 });
    failed(res, 400, 'AR115');
    assert.match(res.error.message, /no_such_column/);
    res = await db.from('items').update({ no_such_column: 1 }).eq('id', 50090);
    failed(res, 400, 'AR115');
    assert.match(res.error.message, /no_such_column/);
    // AutoRestHide writes.items.secret: not there to write either
    res = await db.from('items').insert({ id: 50094, name: 'js-secret', secret: 'x' });
    failed(res, 400, 'AR115');
    res = await db.from('items').update({ secret: 'x' }).eq('id', 50090);
    failed(res, 400, 'AR115');
    assert.equal(snapshot(), held);
    assert.equal(count(`writes.items WHERE secret <> 'hidden-default'`), 0);
});

test('an unknown or hidden key in a bulk insert or upsert (sent as columns=) is 400 AR115 too', async () => {
    // PostgREST answers the same PGRST204 whether the key is in the body or in columns=
    const held = snapshot();
    const answers = [
        await db.from('items').insert([{ id: 50097, name: 'js-unknown-a' },
            { id: 50098, name: 'js-unknown-b', no_such_column: 1 }]),
        await db.from('items').insert([{ id: 50097, name: 'js-secret-a', secret: 'x' }]),
        await db.from('items').upsert([{ name: 'js-unknown-c', sku: 'JS-1', no_such_column: 1 }],
            { onConflict: 'sku' }),
    ];
    assert.equal(snapshot(), held);
    // all three at once, so that one report shows each
    assert.deepEqual(answers.map((res) => [res.status, res.data, res.error?.code]),
        [[400, null, 'AR115'], [400, null, 'AR115'], [400, null, 'AR115']],
        `errors: ${JSON.stringify(answers.map((res) => res.error))}`);
    assert.match(answers[0].error.message, /no_such_column/);
    assert.match(answers[1].error.message, /secret/);
    assert.equal(count(`writes.items WHERE secret <> 'hidden-default'`), 0);
});

test('an update or delete without a filter is 400 21000 and changes nothing', async () => {
    const held = snapshot();
    let res = await db.from('items').update({ qty: 0 });
    failed(res, 400, '21000');
    res = await db.from('items').update({ qty: 0 }, { count: 'exact' }).select();
    failed(res, 400, '21000');
    res = await db.from('items').delete();
    failed(res, 400, '21000');
    assert.equal(snapshot(), held);
});

test('a value the column type refuses is 400 22P02 and writes nothing', async () => {
    const res = await db.from('items').insert([{ id: 50095, name: 'js-bad-a', qty: 1 },
        { id: 50096, name: 'js-bad-b', qty: 'many' }]);
    failed(res, 400, '22P02');
    assert.equal(count('writes.items WHERE id IN (50095, 50096)'), 0);
});
