// t/js/bearer.test.mjs: the unmodified @supabase/postgrest-js client with an access
// token, as a Supabase-style app uses it: new PostgrestClient(url, { headers:
// { Authorization: 'Bearer ' + token } }). Run by t/js/run.sh, which serves schema
// secure (t/fixtures/96_roles.sql) at AR_BEARER_URL behind mod_auth_openidc: it
// verifies the HS256 token with the shared secret AR_JWT_SECRET and requires aud
// "autorest"; the module runs each request as the token's role claim, its claims in
// request.jwt.claims. Tokens are minted here with node's crypto. What the client is
// told is compared with what PostgreSQL holds, read through psql as superuser.
// Rows written here: secure.projects 9503 and 9504, memos whose body starts 'js-bearer'.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { PostgrestClient } from '@supabase/postgrest-js';
import { psql, sql, ok, failed } from './pg.mjs';

const url = process.env.AR_BEARER_URL;
const secret = process.env.AR_JWT_SECRET;
if (!url || !secret)
    throw new Error('AR_BEARER_URL and AR_JWT_SECRET must be set (see t/js/run.sh)');

const b64u = (s) => Buffer.from(s).toString('base64url');
const now = Math.floor(Date.now() / 1000);
// token(CLAIMS, KEY): an HS256 JWT of CLAIMS over the defaults (aud autorest,
// issued now, expiring in 10 minutes), signed with KEY (default: the server's).
function token(claims, key = secret) {
    const input = b64u(JSON.stringify({ alg: 'HS256', typ: 'JWT' })) + '.'
        + b64u(JSON.stringify({ aud: 'autorest', iat: now, exp: now + 600, ...claims }));
    return input + '.' + createHmac('sha256', key).update(input).digest('base64url');
}
const as = (claims, key) =>
    new PostgrestClient(url, { headers: { Authorization: 'Bearer ' + token(claims, key) } });
const count = (from) => Number(psql(`SELECT count(*) FROM ${from}`).trim());

const cleanup = () => psql(`DELETE FROM secure.projects WHERE id IN (9503, 9504);
                            DELETE FROM secure.memos WHERE body LIKE 'js-bearer%'`);
before(cleanup);
after(cleanup);

test('a token with role alice reads exactly her projects, one with role bob exactly his', async () => {
    const alice = await as({ sub: 'alice', role: 'alice' }).from('projects').select('*').order('id');
    ok(alice, 200);
    assert.deepEqual(alice.data, sql(`SELECT * FROM secure.projects WHERE owner = 'alice' ORDER BY id`));
    const bob = await as({ sub: 'bob', role: 'bob' }).from('projects').select('id, owner')
        .order('id', { ascending: false }).limit(5);
    ok(bob, 200);
    assert.deepEqual(bob.data, sql(`SELECT id, owner FROM secure.projects WHERE owner = 'bob'
                                    ORDER BY id DESC LIMIT 5`));
    const n = await as({ sub: 'bob', role: 'bob' }).from('projects')
        .select('id', { count: 'exact', head: true });
    assert.equal(n.error, null);
    assert.equal(n.count, count(`secure.projects WHERE owner = 'bob'`));
});

test('writes run as the token\'s role: her own row is written, one for bob is 403 42501', async () => {
    const db = as({ sub: 'alice', role: 'alice' });
    const mine = await db.from('projects').insert({ id: 9503, name: 'js-bearer mine' }).select();
    ok(mine, 201);
    assert.deepEqual(mine.data, [{ id: 9503, owner: 'alice', name: 'js-bearer mine' }]);
    assert.deepEqual(sql(`SELECT id, owner, name FROM secure.projects WHERE id = 9503`), mine.data);
    // row-level security's WITH CHECK, as alice
    const forged = await db.from('projects').insert({ id: 9504, owner: 'bob', name: 'js-bearer forged' });
    failed(forged, 403, '42501');
    assert.equal(count(`secure.projects WHERE id = 9504`), 0, 'nothing written');
});

test('request.jwt.claims is the token\'s: whoami, and memos kept apart by sub', async () => {
    const claims = { sub: 'alice', role: 'ar_claims', email: 'alice@example.org' };
    const db = as(claims);
    const who = await db.rpc('whoami');
    ok(who, 200);
    assert.equal(who.data.current_user, 'ar_claims');
    assert.equal(who.data.session_user, 'autorest_auth');
    assert.deepEqual(who.data.claims, { aud: 'autorest', iat: now, exp: now + 600, ...claims });

    const ins = await db.from('memos').insert({ body: 'js-bearer of alice' }).select('sub, body');
    ok(ins, 201);
    assert.deepEqual(ins.data, [{ sub: 'alice', body: 'js-bearer of alice' }], 'sub from the claims');
    const mine = await db.from('memos').select('*').order('id');
    ok(mine, 200);
    assert.deepEqual(mine.data, sql(`SELECT * FROM secure.memos WHERE sub = 'alice' ORDER BY id`));
    const his = await as({ sub: 'bob', role: 'ar_claims' }).from('memos').select('*').order('id');
    ok(his, 200);
    assert.deepEqual(his.data, sql(`SELECT * FROM secure.memos WHERE sub = 'bob' ORDER BY id`));
});

test('expired, forged, wrong-audience and absent tokens are 401, and write nothing', async () => {
    const memo = { sub: 'alice', role: 'ar_claims' };
    const refused = {
        expired: as({ ...memo, exp: now - 60 }),
        'another secret': as(memo, secret + '-not'),
        'wrong audience': as({ ...memo, aud: 'another-api' }),
        'no token': new PostgrestClient(url),
    };
    for (const [why, db] of Object.entries(refused)) {
        const res = await db.from('memos').insert({ body: `js-bearer refused: ${why}` });
        assert.equal(res.status, 401, why);
        assert.equal(res.data, null, why);
        assert.ok(res.error, why);
    }
    assert.equal(count(`secure.memos WHERE body LIKE 'js-bearer refused%'`), 0, 'no memo written');
});
