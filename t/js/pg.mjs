// t/js/pg.mjs: what the client tests share: the base URL t/js/run.sh sets,
// PostgreSQL's own answers through psql (as superuser, on the fixtures of
// t/fixtures/*.sql), which are every test's expectations, and the checks of
// the client's { data, error, status } answers.
import { execFileSync } from 'node:child_process';
import assert from 'node:assert/strict';

export const base = process.env.AR_BASE_URL;
if (!base || !process.env.AR_PGHOST || !process.env.AR_PGPORT)
    throw new Error('AR_BASE_URL, AR_PGHOST and AR_PGPORT must be set (see t/js/run.sh)');

export function psql(command) {
    return execFileSync('psql', ['-X', '-A', '-t', '-q', '-v', 'ON_ERROR_STOP=1',
        '-h', process.env.AR_PGHOST, '-p', process.env.AR_PGPORT,
        '-U', 'postgres', '-d', 'autorest_test', '-c', command], { encoding: 'utf8' });
}

// sql(QUERY): its rows as PostgreSQL's to_json gives them, in the query's order.
export function sql(query) {
    return JSON.parse(psql(
        `SELECT coalesce(json_agg(q ORDER BY q.ord), '[]') FROM
           (SELECT t.*, row_number() OVER () AS ord FROM (${query}) t) q`))
        .map(({ ord, ...row }) => row);
}

// ok(RES, STATUS): a success with that status.
export function ok(res, status) {
    assert.equal(res.error, null, `no error (got ${JSON.stringify(res.error)})`);
    assert.equal(res.status, status);
}
// failed(RES, STATUS, CODE): an error object as PostgREST's, no data.
export function failed(res, status, code) {
    assert.equal(res.status, status, `status (error ${JSON.stringify(res.error)})`);
    assert.equal(res.data, null);
    assert.equal(res.error?.code, code, `code (error ${JSON.stringify(res.error)})`);
    assert.deepEqual(Object.keys(res.error).sort(), ['code', 'details', 'hint', 'message']);
    assert.equal(typeof res.error.message, 'string');
}
