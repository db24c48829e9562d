// The table of `./x bench`: reads the JSON lines the measurements wrote (RESULTS), and the
// criterion estimates under CRITERION_DIR, and prints every figure beside the baseline it was
// measured against in the same run, the ratio, the target and whether it is met.
//
// node tools/bench-table.js RESULTS CRITERION_DIR [--markdown]
const fs = require('node:fs');
const path = require('node:path');

const [resultsFile, criterionDir, format] = process.argv.slice(2);
const lines = fs
  .readFileSync(resultsFile, 'utf8')
  .split('\n')
  .filter((l) => l.trim().startsWith('{'))
  .map((l) => JSON.parse(l));
const by = (label) => lines.find((l) => l.label === label);

// criterion: group/function -> median (ns)
const criterion = {};
function walk(dir) {
  if (!fs.existsSync(dir)) return;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p);
    else if (e.name === 'benchmark.json' && path.basename(path.dirname(p)) === 'new') {
      const b = JSON.parse(fs.readFileSync(p, 'utf8'));
      const est = JSON.parse(fs.readFileSync(path.join(path.dirname(p), 'estimates.json'), 'utf8'));
      criterion[`${b.group_id}/${b.function_id}`] = est.median.point_estimate;
    }
  }
}
walk(criterionDir);

const rows = [];
const kb = (b) => (b === undefined ? undefined : `${(b / 1024).toFixed(1)} KB`);
const ms = (x) => (x === undefined ? undefined : `${x.toFixed(2)} ms`);
const us = (x) => (x === undefined ? undefined : `${(x / 1000).toFixed(3)} ms`);
const rate = (x) => (x === undefined ? undefined : `${x.toFixed(1)}/s`);
// target: [op, value] where the ratio (or with `abs`, the figure itself) must satisfy op
function row(figure, value, baseline, show, target, abs) {
  const ratio = value !== undefined && baseline ? value / baseline : undefined;
  let met = '';
  if (target) {
    const x = abs ? value : ratio;
    if (x === undefined || Number.isNaN(x)) met = 'not measured';
    else met = (target[0] === '<=' ? x <= target[1] : x >= target[1]) ? 'yes' : 'NO';
  }
  rows.push([
    figure,
    show(value) ?? '–',
    show(baseline) ?? '–',
    ratio === undefined ? '–' : `${ratio.toFixed(2)}×`,
    target ? `${abs ? '' : 'ratio '}${target[0]} ${target[2] ?? target[1]}` : '',
    met,
  ]);
}

// 1. first load
const trivial = by('trivial Leptos app /');
for (const page of ['/login', '/settings', '/settings/2fa/security-keys', '/security-keys/check', '/settings/password']) {
  const p = by(page);
  row(`first load ${page} (bytes on the wire)`, p?.bytes, trivial?.bytes, kb, ['<=', 1.3]);
  row(`first load ${page} (time to interactive)`, p?.interactive_ms, trivial?.interactive_ms, ms);
}
row('whole app JS+WASM (brotli)', by('wasm ours')?.bytes, by('wasm trivial')?.bytes, kb, ['<=', 2]);
// 2. static files on a kept-alive connection
const health = by('static /healthz');
for (const f of ['/favicon.svg', '/pkg/mojeid.css']) {
  row(`static ${f} p50, kept-alive`, by(`static ${f}`)?.p50_us, health?.p50_us, us, ['<=', 1000, '1 ms'], true);
}
// 3. logins
const argon = by('argon2id alone');
const logins = lines.filter((l) => l.label?.startsWith('login c='));
const peak = Math.max(...logins.map((l) => l.ok_per_sec));
row('argon2id verify alone (all cores)', argon?.per_sec, undefined, rate);
for (const l of logins) {
  const times = l.connections / (argon?.threads ?? 1);
  row(`logins/s, ${l.connections} connections (${times}× cores), ${l.shed} shed`, l.ok_per_sec, peak, rate,
    times > 1 ? ['>=', 0.9] : undefined);
  row(`  p99 of admitted logins, ${l.connections} connections`, l.p99_us, undefined, us, ['<=', 1e6, '1 s'], true);
}
for (const l of lines.filter((l) => l.label?.startsWith('flood c='))) {
  row(`logins/s in a flood: ${l.connections} connections retrying at once, ${l.shed} shed`, l.ok_per_sec, peak, rate);
  row(`  server CPU per refusal (503) in the flood`, l.cpu_ms_per_ok !== null && l.shed
    ? ((l.cpu_ms_per_ok * l.ok) - (argon ? (l.ok * 1000 * argon.threads) / argon.per_sec : 0)) / l.shed
    : undefined, undefined, ms);
}
if (logins.length) {
  row('peak logins/s vs argon2id alone', peak, argon?.per_sec, rate, ['>=', 0.85]);
}
// 4. SSR
const ssrBase = by('ssr trivial /');
row('server CPU per request /healthz (our middleware alone)', by('ssr /healthz')?.cpu_ms_per_ok, ssrBase?.cpu_ms_per_ok, ms);
for (const page of ['/login', '/settings', '/security-keys/certified']) {
  const s = by(`ssr ${page}`);
  row(`server CPU per page ${page}`, s?.cpu_ms_per_ok, ssrBase?.cpu_ms_per_ok, ms, ['<=', 2]);
}
const html = by('html /security-keys/certified');
row('HTML of /security-keys/certified', html?.bytes, by('html trivial /')?.bytes, kb);
// 5. scale on PostgreSQL
const pgSmall = by('pg login 1000 accounts');
const pgLarge = by('pg login 1000000 accounts');
if (pgSmall || pgLarge) {
  row('PostgreSQL login p50, 1,000,000 vs 1,000 accounts', pgLarge?.p50_us, pgSmall?.p50_us, us, ['<=', 1.15, '1.15 (noise)']);
}
const registry = by('registry changes');
if (registry) {
  row(`${registry.count} population-register changes applied (PostgreSQL)`, registry.ms,
    by('registry baseline updates')?.ms, ms, ['<=', 10000, '10 s'], true);
}
// criterion benches
const ecdsa = criterion['keys/ECDSA P-256 verify (baseline)'];
const perSec = (ns) => (ns === undefined ? undefined : 1e9 / ns);
row('registrations verified/s vs ECDSA verifies/s', perSec(criterion['keys/registration: packed x5c + chain + metadata']), perSec(ecdsa), rate);
row('login assertions verified/s vs ECDSA verifies/s', perSec(criterion['keys/login assertion']), perSec(ecdsa), rate);
const nsToMs = (ns) => (ns === undefined ? undefined : ns / 1e6);
row('MDS BLOB verify + parse + index vs JSON parse alone',
  nsToMs(criterion['mds/verify + parse + index (Metadata::load)']),
  nsToMs(criterion['mds/decode + parse payload JSON only (baseline)']), ms);

const header = ['figure', 'ours', 'baseline', 'ratio', 'target', 'met'];
if (format === '--markdown') {
  console.log(`| ${header.join(' | ')} |`);
  console.log(`| ${header.map(() => '---').join(' | ')} |`);
  for (const r of rows) console.log(`| ${r.join(' | ')} |`);
} else {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const fmt = (r) => r.map((c, i) => String(c).padEnd(widths[i])).join('  ').trimEnd();
  console.log(fmt(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(fmt(r));
}
