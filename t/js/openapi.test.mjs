// t/js/openapi.test.mjs: the OpenAPI 3.1 documents of the module (issue 14, point 1)
// checked by a real validator from npm, @seriousme/openapi-schema-validator (the
// OpenAPI Initiative's JSON Schemas for 3.1 with ajv), for every Location t/js/run.sh
// serves: /api (reads), /w (writes, a hidden column), /r (functions, an excluded
// relation) and, behind mod_auth_openidc, /bearer for two roles, whose documents
// follow each role's privileges as PostgreSQL states them (has_*_privilege, via
// psql) and carry a bearer security scheme. Every relation the index lists is a
// path of the document.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { Validator } from '@seriousme/openapi-schema-validator';
import { base, psql } from './pg.mjs';

const bearer = process.env.AR_BEARER_URL;
const secret = process.env.AR_JWT_SECRET;
const at = (path) => base.replace(/\/api\/?$/, path);

const b64u = (s) => Buffer.from(s).toString('base64url');
function token(claims) {
    const now = Math.floor(Date.now() / 1000);
    const input = b64u(JSON.stringify({ alg: 'HS256', typ: 'JWT' })) + '.'
        + b64u(JSON.stringify({ aud: 'autorest', iat: now, exp: now + 600, ...claims }));
    return input + '.' + createHmac('sha256', secret).update(input).digest('base64url');
}

async function openapi(url, headers = {}) {
    const res = await fetch(url + '/openapi.json', { headers });
    assert.equal(res.status, 200, `GET ${url}/openapi.json`);
    assert.match(res.headers.get('content-type'), /^application\/openapi\+json/);
    return res.json();
}

async function valid(doc, what) {
    const result = await new Validator().validate(doc);
    assert.equal(result.valid, true, `${what}: ${JSON.stringify(result.errors)?.slice(0, 2000)}`);
}

const methods = (item) => Object.keys(item ?? {})
    .filter((m) => ['get', 'post', 'patch', 'put', 'delete'].includes(m)).sort().join(',');

test('the validator refuses a broken document (it can fail)', async () => {
    const doc = await openapi(base);
    delete doc.info;
    doc.paths['/broken'] = { get: { responses: { 200: { content: 'not an object' } } } };
    const result = await new Validator().validate(doc);
    assert.equal(result.valid, false);
});

for (const [path, what] of [['/api', 'reads'], ['/w', 'writes'], ['/r', 'functions']]) {
    test(`${path} (${what}): a valid OpenAPI 3.1 document, a path per relation of the index`, async () => {
        const url = at(path);
        const doc = await openapi(url);
        await valid(doc, path);
        assert.equal(doc.openapi, '3.1.0');
        const index = await (await fetch(url + '/')).json();
        const want = index.relations.map((r) => r.url.slice(path.length)).sort();
        const got = Object.keys(doc.paths).filter((p) => p !== '/' && !p.startsWith('/rpc/')).sort();
        assert.deepEqual(got, want);
        const fns = [...new Set((index.functions ?? []).map((f) => '/rpc/' + f.name))].sort(); // overloads: one path
        assert.deepEqual(Object.keys(doc.paths).filter((p) => p.startsWith('/rpc/')).sort(), fns);
    });
}

test('/w: the hidden column items.secret is named nowhere; /r: nor the excluded relation', async () => {
    const w = JSON.stringify(await openapi(at('/w')));
    assert.ok(w.includes('"sku"') && !w.includes('"secret"'));
    const r = JSON.stringify(await openapi(at('/r')));
    assert.ok(!/"excluded"|calls\.excluded/.test(r));
});

test('/bearer: a document per role, after its privileges, with a bearer scheme', async () => {
    for (const role of ['alice', 'bob', 'ar_claims']) {
        const doc = await openapi(bearer, { Authorization: 'Bearer ' + token({ sub: role, role }) });
        await valid(doc, `/bearer as ${role}`);
        assert.deepEqual(doc.components.securitySchemes, {
            bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
        });
        assert.deepEqual(doc.security, [{ bearer: [] }]);
        // what PostgreSQL says this role may do (AutoRestMethods GET POST there)
        const rows = psql(`SET ROLE ${role}; SELECT c.relname,
              has_any_column_privilege(c.oid, 'SELECT'), has_any_column_privilege(c.oid, 'INSERT')
            FROM pg_class c WHERE c.relnamespace = 'secure'::regnamespace
             AND c.relkind IN ('r', 'v') ORDER BY 1`).trim().split('\n').map((l) => l.split('|'));
        const want = {};
        for (const [rel, read, insert] of rows)
            if (read === 't')
                want['/' + rel] = insert === 't' ? 'get,post' : 'get';
        const got = {};
        for (const [p, item] of Object.entries(doc.paths))
            if (p !== '/' && !p.startsWith('/rpc/'))
                got[p] = methods(item);
        assert.deepEqual(got, want, `as ${role}`);
    }
});

test('/bearer without a token: 401, no document', async () => {
    const res = await fetch(bearer + '/openapi.json');
    assert.equal(res.status, 401);
});
