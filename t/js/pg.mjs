// t/js/pg.mjs: what the client tests share: the base URL t/js/run.sh sets, and
// PostgreSQL's own answers through psql (as superuser, on the fixtures of
// t/fixtures/*.sql), which are every test's expectations.
import { execFileSync } from 'node:child_process';

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
