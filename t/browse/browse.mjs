// t/browse/browse.mjs: the browsable HTML pages of the demo (scripts/demo) in
// headless Chromium, driven by puppeteer-core: the index, a collection, its
// next page, the filter form, a row page, and on /rw the insert, edit and
// delete forms. Every expected value comes from the JSON API (Accept:
// application/json) of the same demo. Run by t/shell/browse.sh, which gives
//   AR_BROWSE_BASE      http://127.0.0.1:PORT (the demo's httpd)
//   AR_BROWSE_DIR       a scratch directory: Chromium's profile, the screenshots
//   AR_BROWSE_CHROMIUM  the browser to drive (the system's chromium)
// TAP lines without numbers ("ok - ...", "not ok - ...", "# ..."); the shell
// script numbers them and prints the plan. Exits non-zero on any failure.
import { isDeepStrictEqual } from 'node:util';
import { readFileSync } from 'node:fs';
import puppeteer from 'puppeteer-core';

const base = process.env.AR_BROWSE_BASE;
const scratch = process.env.AR_BROWSE_DIR;
const chromium = process.env.AR_BROWSE_CHROMIUM;
if (!base || !scratch || !chromium) {
    console.log('not ok - AR_BROWSE_BASE, AR_BROWSE_DIR and AR_BROWSE_CHROMIUM must be set');
    process.exit(1);
}

// ------------------------------------------------------------------- TAP
let failures = 0;
const comment = (s) => console.log(String(s).split('\n').map((l) => `# ${l}`).join('\n'));
function ok(pass, name, diag = []) {
    console.log(`${pass ? 'ok' : 'not ok'} - ${name}`);
    if (!pass) {
        failures++;
        for (const d of [].concat(diag).slice(0, 15)) comment(`  ${d}`);
    }
    return pass;
}
// A step that throws (a missing element, a timeout) fails as itself; the
// following steps start from a page of their own and still run.
async function step(name, fn) {
    try {
        await fn();
    } catch (e) {
        ok(false, `${name}: ${e && e.message ? e.message.split('\n')[0] : e}`,
           e && e.stack ? e.stack.split('\n').slice(1, 4) : []);
    }
}

// --------------------------------------------------------------- the API
const show = (v) => JSON.stringify(v);
async function api(path, headers = {}) {
    const res = await fetch(base + path, {
        headers: { Accept: 'application/json', ...headers },
        redirect: 'manual',
    });
    const text = await res.text();
    let body;
    try { body = JSON.parse(text); } catch { body = undefined; }
    if (body === undefined) throw new Error(`GET ${path} as JSON: ${res.status}, not JSON: ${text.slice(0, 200)}`);
    return { status: res.status, headers: res.headers, body };
}
async function apiRows(path) {
    const r = await api(path);
    if (r.status !== 200 || !Array.isArray(r.body))
        throw new Error(`GET ${path} as JSON: ${r.status} ${show(r.body).slice(0, 200)}`);
    return r.body;
}
// A Link header's rel -> URL.
function links(header) {
    const out = {};
    for (const part of (header || '').split(/,(?=\s*<)/)) {
        const m = /^\s*<([^>]*)>\s*;\s*rel="?([^";]+)"?/.exec(part);
        if (m) out[m[2]] = m[1];
    }
    return out;
}
const pathOf = (url) => { const u = new URL(url); return u.pathname + u.search; };

// ---------------------------------------------------------- the browser
const browser = await puppeteer.launch({
    executablePath: chromium,
    headless: true,
    userDataDir: `${scratch}/chromium-profile`,
    args: [
        ...(process.getuid && process.getuid() === 0 ? ['--no-sandbox'] : []),
        '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run',
    ],
    defaultViewport: { width: 1280, height: 900 },
});
comment(`${await browser.version()}, puppeteer-core ${JSON.parse(readFileSync(
    new URL('./node_modules/puppeteer-core/package.json', import.meta.url), 'utf8')).version}`);
const page = await browser.newPage();
page.setDefaultTimeout(5000);
page.setDefaultNavigationTimeout(15000);

// What every page must not do: violate its policy, throw, load a script.
const cspMessages = [];
const pageErrors = [];
const scriptRequests = [];
const visited = [];
const isCsp = (t) => /Content[ -]Security[ -]Policy|Refused to (apply|execute|load|connect|frame|send)/i.test(t);
page.on('console', (m) => { if (isCsp(m.text())) cspMessages.push(`${page.url()}: ${m.text()}`); });
page.on('pageerror', (e) => pageErrors.push(`${page.url()}: ${e.message || e}`));
page.on('request', (r) => { if (r.resourceType() === 'script') scriptRequests.push(r.url()); });

const screenshots = [];
async function screenshot(name) {
    const path = `${scratch}/${name}.png`;
    await page.screenshot({ path, fullPage: true });
    screenshots.push(path);
    comment(`screenshot: ${path}`);
}

// goto / click and wait for the navigation: the final response.
async function visit(path) {
    const resp = await page.goto(base + path, { waitUntil: 'load' });
    visited.push(page.url());
    return resp;
}
async function clickAndWait(selector) {
    const [resp] = await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.click(selector)]);
    visited.push(page.url());
    return resp;
}

// The contract of every page: its type, a strict policy, the crumbs, an h1.
function parseCsp(v) {
    const d = {};
    for (const part of (v || '').split(';')) {
        const [k, ...vals] = part.trim().split(/\s+/);
        if (k) d[k.toLowerCase()] = vals.join(' ');
    }
    return d;
}
async function pageContract(label, resp, root, status = 200) {
    const problems = [];
    if (!resp) problems.push('no response');
    else {
        if (resp.status() !== status) problems.push(`status ${resp.status()}, not ${status}`);
        const h = resp.headers();
        if (h['content-type'] !== 'text/html; charset=utf-8') problems.push(`Content-Type: ${h['content-type']}`);
        const csp = h['content-security-policy'];
        if (!csp) problems.push('no Content-Security-Policy header');
        else {
            const d = parseCsp(csp);
            if (d['default-src'] !== "'none'") problems.push(`default-src is ${show(d['default-src'])}: ${csp}`);
            if ('script-src' in d && d['script-src'] !== "'none'") problems.push(`script-src ${d['script-src']}`);
            if (!/^'sha256-[A-Za-z0-9+/]+=*'$/.test(d['style-src'] || '')) problems.push(`style-src is not one hash: ${show(d['style-src'])}`);
        }
    }
    const dom = await page.evaluate(() => ({
        crumbs: [...document.querySelectorAll('nav#crumbs a')].map((a) => a.getAttribute('href')),
        h1: document.querySelector('h1') ? document.querySelector('h1').textContent.trim() : null,
        scripts: document.querySelectorAll('script').length,
    }));
    if (!dom.crumbs.some((h) => h === root || h === `${root}/`)) problems.push(`nav#crumbs links: ${show(dom.crumbs)}, none to ${root}/`);
    if (!dom.h1) problems.push(`h1: ${show(dom.h1)}`);
    if (dom.scripts) problems.push(`${dom.scripts} script element(s)`);
    ok(problems.length === 0, `${label}: ${status}, text/html; charset=utf-8, strict CSP, crumbs to ${root}/, an h1, no script`, problems);
}

// table#rows as the page shows it; table.record likewise.
const readRows = () => page.$eval('table#rows', (t) => ({
    head: [...t.querySelectorAll('thead tr th')].map((th) => th.textContent.trim()),
    rows: [...t.querySelectorAll('tbody tr')].map((tr) => [...tr.querySelectorAll('td')].map((td) => ({
        text: td.textContent, isNull: td.classList.contains('null'),
        rowHref: td.querySelector('a.row') ? td.querySelector('a.row').getAttribute('href') : null,
    }))),
}));
const readRecord = () => page.$eval('table.record', (t) => [...t.querySelectorAll('tr')]
    .filter((tr) => tr.querySelector('th') && tr.querySelector('td'))
    .map((tr) => {
        const td = tr.querySelector('td');
        return { name: tr.querySelector('th').textContent.trim(), text: td.textContent, isNull: td.classList.contains('null') };
    }));

// A cell against a JSON value, as text: NULL <-> class null; numbers by value
// too (numeric's trailing zeros), objects and arrays as the JSON they show.
function cellMatches(cell, v) {
    if (v === null) return cell.isNull;
    if (cell.isNull) return false;
    if (typeof v === 'string') return cell.text === v;
    if (typeof v === 'number') return cell.text === String(v) || (cell.text.trim() !== '' && Number(cell.text) === v);
    if (typeof v === 'boolean') return cell.text === String(v);
    try { return isDeepStrictEqual(JSON.parse(cell.text), v); } catch { return false; }
}
const cellShow = (c) => (c.isNull ? '<td class=null>' : show(c.text));
function compareRows(table, want) {
    const bad = [];
    if (want.length && !isDeepStrictEqual(table.head, Object.keys(want[0])))
        bad.push(`columns: page ${show(table.head)}, JSON ${show(Object.keys(want[0]))}`);
    if (table.rows.length !== want.length) bad.push(`${table.rows.length} rows on the page, ${want.length} in JSON`);
    // Two examples per column, then how many rows more.
    const perColumn = new Map();
    for (let i = 0; i < Math.min(table.rows.length, want.length); i++) {
        const keys = Object.keys(want[i]);
        if (table.rows[i].length !== keys.length) bad.push(`row ${i}: ${table.rows[i].length} cells, ${keys.length} JSON values`);
        keys.forEach((k, j) => {
            const c = table.rows[i][j];
            if (c && cellMatches(c, want[i][k])) return;
            const seen = (perColumn.get(k) || 0) + 1;
            perColumn.set(k, seen);
            if (seen <= 2) bad.push(`row ${i} ${k}: page ${c ? cellShow(c) : 'no cell'}, JSON ${show(want[i][k])}`);
        });
    }
    for (const [k, seen] of perColumn) if (seen > 2) bad.push(`(${k}: ${seen - 2} more rows differ)`);
    return bad;
}
function compareRecord(record, want) {
    const bad = [];
    const names = record.map((r) => r.name);
    if (!isDeepStrictEqual(names, Object.keys(want))) bad.push(`fields: page ${show(names)}, JSON ${show(Object.keys(want))}`);
    for (const r of record) {
        if (!(r.name in want)) continue;
        if (!cellMatches(r, want[r.name])) bad.push(`${r.name}: page ${cellShow(r)}, JSON ${show(want[r.name])}`);
    }
    return bad;
}
const firstRows = (rows) => rows.slice(0, 2).map((r) => show(r).slice(0, 200));

// The pages' links against the JSON API's Link header for the same URL.
async function comparePages(path) {
    const shown = await page.$$eval('nav#pages a[rel]', (as) => as.map((a) => [a.getAttribute('rel'), a.getAttribute('href')]));
    const want = links((await api(path)).headers.get('link'));
    const got = Object.fromEntries(shown);
    return { pass: isDeepStrictEqual(got, want) && shown.length === Object.keys(got).length, got: shown, want };
}

// The form's field names and values.
const formFields = (selector) => page.$eval(selector, (f) => ({
    method: (f.getAttribute('method') || '').toLowerCase(),
    fields: [...f.elements].filter((e) => e.name).map((e) => ({ name: e.name, type: e.type, value: e.value })),
    submit: !!f.querySelector('button[type=submit], input[type=submit]'),
}));
async function setField(form, name, value) {
    const sel = `${form} [name="${name}"]`;
    await page.locator(sel).fill(value);
    const now = await page.$eval(sel, (e) => e.value);
    if (now !== value) throw new Error(`${sel} holds ${show(now)} after typing ${show(value)}`);
}

// ================================================================ the test
const index = (await api('/api/')).body;
const rwIndex = (await api('/rw/')).body;

// 1. The index: every relation and function of the JSON index, as links.
await step('index', async () => {
    const resp = await visit('/api/');
    await pageContract('GET /api/', resp, '/api');
    const rels = await page.$$eval('table#relations a.relation', (as) => as.map((a) => [a.getAttribute('href'), a.textContent.trim()]));
    const fns = await page.$$eval('table#functions a.function', (as) => as.map((a) => [a.getAttribute('href'), a.textContent.trim()]));
    const wantRels = index.relations.map((r) => [r.url, r.url.replace(/^\/api\//, '')]);
    const wantFns = [...new Set((index.functions || []).map((f) => f.name))].map((n) => [`/api/rpc/${n}`, n]);
    const has = (list, [h, t]) => list.some(([h2, t2]) => h2 === h && t2 === t);
    const missR = wantRels.filter((w) => !has(rels, w));
    const missF = wantFns.filter((w) => !has(fns, w));
    ok(wantRels.length >= 5 && missR.length === 0,
       `index: all ${wantRels.length} relations of the JSON index are a.relation links`,
       [`missing: ${show(missR)}`, `page: ${show(rels)}`]);
    ok(wantFns.length >= 1 && missF.length === 0,
       `index: all ${wantFns.length} functions of the JSON index are a.function links`,
       [`missing: ${show(missF)}`, `page: ${show(fns)}`]);
    const extra = [...rels.filter((l) => !has(wantRels, l)), ...fns.filter((l) => !has(wantFns, l))];
    ok(extra.length === 0, 'index: and no link the JSON index does not list', [`extra: ${show(extra)}`]);
    await screenshot('index');
});

// 2. A collection, 5 rows at a time in key order, and its next page.
const relName = 'project';
const rel = index.relations.find((r) => r.name === relName);
const key = rel && rel.primary_key && rel.primary_key[0];
let firstPage = [];
await step('collection', async () => {
    if (!key) throw new Error(`the JSON index has no ${relName} with a primary key`);
    const eleven = await apiRows(`/api/${relName}?limit=11&order=${key}`);
    ok(eleven.length === 11, `the JSON API serves at least 11 rows of ${relName} (got ${eleven.length})`);
    const path = `/api/${relName}?limit=5&order=${key}`;
    firstPage = await apiRows(path);
    const resp = await visit(path);
    await pageContract(`GET ${path}`, resp, '/api');
    const table = await readRows();
    const bad = compareRows(table, firstPage);
    ok(bad.length === 0 && firstPage.length === 5, `${path}: table#rows equals the JSON API's 5 rows, cell by cell`,
       [...bad, `JSON: ${firstRows(firstPage)}`]);
    const nulls = table.rows.flat().filter((c) => c.isNull).length;
    const jsonNulls = firstPage.flatMap(Object.values).filter((v) => v === null).length;
    ok(nulls === jsonNulls && jsonNulls > 0, `${path}: the ${jsonNulls} SQL NULLs are the cells of class null (${nulls})`);
    const wantHref = firstPage.map((r) => `/api/${relName}?${key}=eq.${encodeURIComponent(String(r[key]))}`);
    const gotHref = table.rows.map((r) => (r[0] ? r[0].rowHref : null));
    ok(isDeepStrictEqual(gotHref, wantHref), `${path}: each row's first cell links (a.row) to its row page`,
       [`page: ${show(gotHref)}`, `want: ${show(wantHref)}`]);

    const form = await formFields('form#filter');
    const names = form.fields.map((f) => f.name);
    const cols = Object.keys(firstPage[0]);
    const value = (n) => (form.fields.find((f) => f.name === n) || {}).value;
    const missing = ['select', 'order', 'limit', ...cols].filter((n) => !names.includes(n));
    const filled = cols.filter((c) => value(c) !== '');
    ok(form.method === 'get' && missing.length === 0 && filled.length === 0 && form.submit &&
       (await page.$$eval('form#filter button[type=submit]', (b) => b.some((x) => x.textContent.trim() === 'Apply'))),
       `${path}: form#filter (GET) has select, order, limit and an empty input per column, and an Apply button`,
       [`method ${show(form.method)}, missing ${show(missing)}, prefilled columns ${show(filled)}, fields ${show(names)}`]);
    ok(value('order') === key && value('limit') === '5' && value('select') === '',
       `${path}: the form holds the request's order and limit`,
       [`select=${show(value('select'))} order=${show(value('order'))} limit=${show(value('limit'))}`]);
    ok((await page.$('form#insert')) === null, `${path}: no insert form under the read-only /api`);

    const pages = await comparePages(path);
    ok(pages.pass && pages.want.next, `${path}: nav#pages has the JSON API's Link header's links`,
       [`page: ${show(pages.got)}`, `Link: ${show(pages.want)}`]);
    await screenshot('collection');

    // The next page: a[rel=next], as a user clicks it.
    const next = await apiRows(`/api/${relName}?limit=5&offset=5&order=${key}`);
    const resp2 = await clickAndWait('nav#pages a[rel=next]');
    const path2 = pathOf(page.url());
    ok(path2 === pages.want.next, `a[rel=next] leads to the Link header's next URL`, [`page ${path2}`, `Link ${pages.want.next}`]);
    await pageContract(`next page ${path2}`, resp2, '/api');
    const bad2 = compareRows(await readRows(), next);
    ok(bad2.length === 0 && next.length === 5, 'next page: table#rows equals the JSON API\'s rows 6 to 10 (offset=5, same order)',
       [...bad2, `JSON: ${firstRows(next)}`]);
    const same = await apiRows(path2);
    ok(isDeepStrictEqual(same, next), 'next page: the JSON API answers the same rows for the page\'s own URL',
       [`${path2}: ${firstRows(same)}`]);
    const pages2 = await comparePages(path2);
    ok(pages2.pass, 'next page: nav#pages has the JSON API\'s Link header\'s links',
       [`page: ${show(pages2.got)}`, `Link: ${show(pages2.want)}`]);
    await screenshot('next');
});

// 3. The filter form: a value of the page's first row in one column, limit
// cleared, Apply. Without a limit an HTML page shows at most 100 rows.
let filteredRow = null;
await step('filter', async () => {
    const col = 'ward';
    const page2 = await apiRows(pathOf(page.url()));
    const v = page2[0][col];
    if (v === null || v === undefined) throw new Error(`the first row has no ${col}: ${show(page2[0])}`);
    await setField('form#filter', col, `eq.${v}`);
    await setField('form#filter', 'limit', '');
    const resp = await clickAndWait('form#filter button[type=submit]');
    const url = new URL(page.url());
    const q = url.searchParams;
    ok(q.get(col) === `eq.${v}` && !q.get('limit') && !q.get('cursor') && !q.get('offset'),
       `Apply: the URL carries ${col}=eq.${v}, no limit, and starts over (no cursor, no offset)`, [`URL: ${pathOf(page.url())}`]);
    await pageContract('filtered page', resp, '/api');
    const total = Number(((await api(`/api/${relName}?${col}=eq.${v}&limit=1`, { Prefer: 'count=exact' }))
        .headers.get('content-range') || '').split('/')[1]);
    const want = await apiRows(`/api/${relName}?order=${key}&${col}=eq.${v}&limit=100`);
    const table = await readRows();
    const bad = compareRows(table, want);
    ok(bad.length === 0 && want.length > 0 && table.rows.every((r) => r.length && cellMatches(r[Object.keys(want[0]).indexOf(col)], v)),
       `filtered: table#rows equals the JSON API's rows for ${col}=eq.${v} in ${key} order (${want.length} rows)`,
       [...bad, `JSON: ${firstRows(want)}`]);
    ok(total > 0 && table.rows.length === Math.min(total, 100),
       `filtered: without a limit the page shows min(${total}, 100) rows (shows ${table.rows.length})`);
    const kept = await page.$eval(`form#filter [name="${col}"]`, (e) => e.value);
    ok(kept === `eq.${v}`, `filtered: the form's ${col} input holds the request's filter (${show(kept)})`);
    await screenshot('filtered');

    // A value with spaces: the form sends name=eq.A+B+C.
    const name = want.find((r) => typeof r.name === 'string' && / /.test(r.name));
    if (!name) throw new Error('no name with a space among the filtered rows');
    await setField('form#filter', col, '');
    await setField('form#filter', 'name', `eq.${name.name}`);
    await clickAndWait('form#filter button[type=submit]');
    const wantN = await apiRows(`/api/${relName}?order=${key}&name=eq.${encodeURIComponent(name.name)}&limit=100`);
    const badN = compareRows(await readRows(), wantN);
    ok(badN.length === 0 && wantN.length > 0,
       `filter typed with spaces (name=eq.${name.name}): the rows equal the JSON API's (${wantN.length})`,
       [...badN, `URL: ${pathOf(page.url())}`]);
    filteredRow = wantN[0] || name;
});

// A row page under /api: a record, and no write form.
await step('row page', async () => {
    if (!filteredRow) throw new Error('no row to open');
    const resp = await clickAndWait('table#rows tbody tr a.row');
    const path = pathOf(page.url());
    ok(path === `/api/${relName}?${key}=eq.${encodeURIComponent(String(filteredRow[key]))}`,
       `a.row leads to the row page of ${key} ${filteredRow[key]}`, [`URL: ${path}`]);
    await pageContract(`row page ${path}`, resp, '/api');
    const want = await apiRows(path);
    const bad = compareRecord(await readRecord(), want[0] || {});
    ok(bad.length === 0 && want.length === 1, `row page: table.record equals the JSON API's row`, bad);
    ok((await page.$('form.edit')) === null && (await page.$('form.delete')) === null,
       'row page: no edit or delete form under the read-only /api');
    await screenshot('row');
});

// An error: its code, as JSON has it.
await step('error page', async () => {
    const path = '/api/no_such_relation_here';
    const j = await api(path);
    const resp = await visit(path);
    await pageContract(`error page ${path}`, resp, '/api', j.status);
    const code = await page.$eval('main#error code', (c) => c.textContent.trim()).catch(() => null);
    ok(code !== null && code === j.body.code, `error page: main#error's code is the JSON error's (${show(j.body.code)})`, [`page: ${show(code)}`]);
    await screenshot('error');
});

// Every relation of the index, so every column type of the demo: a few rows
// on the page equal the JSON API's, a mismatch shown once per column.
await step('every relation', async () => {
    const bad = new Map();
    const types = new Set();
    for (const r of index.relations) {
        r.columns.forEach((c) => types.add(c.type));
        const ord = (r.primary_key && r.primary_key.length ? r.primary_key : [r.columns[0].name]).join(',');
        const path = `${r.url}?limit=3&order=${ord}`;
        const want = await apiRows(path);
        const resp = await visit(path);
        if (!resp || resp.status() !== 200) { bad.set(r.name, `${path}: status ${resp && resp.status()}`); continue; }
        for (const b of compareRows(await readRows(), want)) {
            const col = (/^row \d+ (\S+):/.exec(b) || [, b])[1];
            if (!bad.has(`${r.name} ${col}`)) bad.set(`${r.name} ${col}`, `${r.name}: ${b}`);
        }
    }
    ok(bad.size === 0, `every relation of the index (${index.relations.length}, ${types.size} column types): ` +
       'its first 3 rows on the page equal the JSON API\'s', [...bad.values()]);
});

// 4. Writes on /rw: insert, edit, delete through the forms.
await step('insert', async () => {
    const sv = rwIndex.relations.find((r) => r.name === 'site_visit');
    if (!sv) throw new Error('the /rw index has no site_visit');
    const path = '/rw/site_visit';
    const resp = await visit(path);
    await pageContract(`GET ${path}`, resp, '/rw');
    const form = await formFields('form#insert');
    const insertable = sv.columns.filter((c) => c.insertable).map((c) => c.name);
    const names = form.fields.filter((f) => f.type !== 'hidden' && f.type !== 'submit').map((f) => f.name);
    ok(form.method === 'post' && isDeepStrictEqual(names.slice().sort(), insertable.slice().sort()) && form.submit,
       `${path}: form#insert (POST) has one input per insertable column and a submit button`,
       [`method ${show(form.method)}, inputs ${show(names)}, insertable ${show(insertable)}, submit ${form.submit}`]);
    await screenshot('insert-form');

    const stamp = `${Date.now().toString(36)}-${process.pid}`;
    const fresh = { project_id: String(firstPage[0] ? firstPage[0][key] : 1), inspector: `browse ${stamp}`, rating: '3',
                    findings: `{"roof": "ok ${stamp}"}` };
    for (const [k, v] of Object.entries(fresh)) await setField('form#insert', k, v);
    const resp2 = await clickAndWait('form#insert [type=submit]');
    const chain = resp2 ? resp2.request().redirectChain() : [];
    const first = chain[0] && chain[0].response();
    const landed = pathOf(page.url());
    const m = /^\/rw\/site_visit\?id=eq\.(\d+)$/.exec(landed);
    ok(first && first.status() === 303 && chain[0].method() === 'POST' && m,
       'insert: POST answers 303 See Other to the new row\'s page',
       [`chain: ${show(chain.map((r) => [r.method(), r.url(), r.response() && r.response().status()]))}`, `landed: ${landed}`]);
    await pageContract(`after insert ${landed}`, resp2, '/rw');
    const rows = await apiRows(`/rw/site_visit?inspector=eq.${encodeURIComponent(fresh.inspector)}`);
    const row = rows[0];
    ok(rows.length === 1 && m && String(row.id) === m[1] && String(row.project_id) === fresh.project_id &&
       row.rating === 3 && row.findings !== null && row.visited_on !== null,
       'insert: the JSON API has the new row, with the typed values and visited_on\'s default',
       [`JSON: ${show(rows)}`, `landed: ${landed}`]);
    ok(row && isDeepStrictEqual(row.findings, JSON.parse(fresh.findings)),
       'insert: the jsonb field typed as JSON is stored as that JSON (not as a string)',
       [`typed ${fresh.findings}, JSON API has ${show(row && row.findings)}`]);
    const bad = compareRecord(await readRecord(), row || {});
    ok(bad.length === 0, 'insert: the row page shows the new row as the JSON API has it', bad);
    await screenshot('inserted');

    // Edit: the form is prefilled; change two fields, submit.
    const edit = await formFields('form.edit');
    const updatable = sv.columns.filter((c) => c.updatable).map((c) => c.name);
    const method = (edit.fields.find((f) => f.name === '_method') || {});
    const shown = edit.fields.filter((f) => f.type !== 'hidden' && f.type !== 'submit');
    // A field holds its value as a cell shows it; NULL is an empty field.
    const holds = (value, v) => (v === null ? value === '' : cellMatches({ text: value, isNull: false }, v));
    const wrong = shown.filter((f) => row && !holds(f.value, row[f.name]))
        .map((f) => `${f.name}: ${show(f.value)} vs JSON ${show(row[f.name])}`);
    ok(edit.method === 'post' && method.type === 'hidden' && method.value === 'PATCH' &&
       isDeepStrictEqual(shown.map((f) => f.name).sort(), updatable.slice().sort()) && wrong.length === 0 && edit.submit,
       'row page: form.edit (POST, hidden _method=PATCH) has one input per updatable column, prefilled',
       [`method ${show(edit.method)}, _method ${show(method)}, inputs ${show(shown.map((f) => f.name))}, updatable ${show(updatable)}`, ...wrong]);
    const changed = { inspector: `browse edited ${stamp}`, rating: '4' };
    for (const [k, v] of Object.entries(changed)) await setField('form.edit', k, v);
    const resp3 = await clickAndWait('form.edit [type=submit]');
    const chain3 = resp3 ? resp3.request().redirectChain() : [];
    const landed3 = pathOf(page.url());
    ok(chain3[0] && chain3[0].response() && chain3[0].response().status() === 303 && landed3 === landed,
       'edit: POST answers 303 See Other to the row page',
       [`chain: ${show(chain3.map((r) => [r.method(), r.url(), r.response() && r.response().status()]))}`, `landed: ${landed3}`]);
    await pageContract(`after edit ${landed3}`, resp3, '/rw');
    const after = (await apiRows(`/rw/site_visit?id=eq.${row ? row.id : 0}`))[0];
    const expect = row && { ...row, inspector: changed.inspector, rating: 4 };
    ok(after && isDeepStrictEqual(after, expect), 'edit: the JSON API sees the change, and nothing else changed',
       [`JSON now: ${show(after)}`, `expected: ${show(expect)}`]);
    const bad3 = compareRecord(await readRecord(), after || {});
    ok(bad3.length === 0, 'edit: the row page shows the changed row', bad3);
    await screenshot('edited');

    // Delete.
    const del = await formFields('form.delete');
    const dm = del.fields.find((f) => f.name === '_method') || {};
    ok(del.method === 'post' && dm.type === 'hidden' && dm.value === 'DELETE' && del.submit,
       'row page: form.delete (POST, hidden _method=DELETE)', [`method ${show(del.method)}, _method ${show(dm)}`]);
    const resp4 = await clickAndWait('form.delete [type=submit]');
    const chain4 = resp4 ? resp4.request().redirectChain() : [];
    const landed4 = pathOf(page.url());
    ok(chain4[0] && chain4[0].response() && chain4[0].response().status() === 303 && landed4 === path,
       'delete: POST answers 303 See Other to the collection',
       [`chain: ${show(chain4.map((r) => [r.method(), r.url(), r.response() && r.response().status()]))}`, `landed: ${landed4}`]);
    await pageContract(`after delete ${landed4}`, resp4, '/rw');
    const gone = await apiRows(`/rw/site_visit?id=eq.${row ? row.id : 0}`);
    ok(row && gone.length === 0, `delete: the JSON API no longer has row ${row && row.id}`, [`JSON: ${show(gone)}`]);
    const ids = (await readRows()).rows.map((r) => (r[0] ? r[0].text : null));
    ok(row && !ids.includes(String(row.id)), 'delete: the collection page no longer lists it', [`ids: ${show(ids)}`]);
    await screenshot('deleted');
});

// 5. Over all the pages: no policy violation, no error, no script.
ok(cspMessages.length === 0, `no Content-Security-Policy violation on the ${visited.length} pages`, cspMessages);
ok(pageErrors.length === 0, 'no page error', pageErrors);
ok(scriptRequests.length === 0, 'no script loaded', scriptRequests);
// And the listener does hear one: a style the policy's hash does not allow.
await step('CSP listener', async () => {
    const before = cspMessages.length;
    await page.evaluate(() => {
        const s = document.createElement('style');
        s.textContent = 'body { outline: 1px solid red }';
        document.head.appendChild(s);
    });
    for (let i = 0; i < 20 && cspMessages.length === before; i++) await new Promise((r) => setTimeout(r, 50));
    ok(cspMessages.length > before, 'control: an inline style injected into the page is reported as a CSP violation',
       ['no console message about the Content-Security-Policy came']);
});

// 6. The screenshots.
const pngs = screenshots.filter((p) => { try { return readFileSync(p).subarray(0, 8).equals(Buffer.from('89504e470d0a1a0a', 'hex')); } catch { return false; } });
ok(pngs.length === screenshots.length && screenshots.length >= 7, `${screenshots.length} screenshots saved as PNG`,
   screenshots.filter((p) => !pngs.includes(p)));

await browser.close();
process.exit(failures ? 1 : 0);
