#!/usr/bin/env node
// Keeps docs/COMPAT.md true: one row per spec ID (../shared/spec/API.md) with its status and the
// tests that cite it. `node scripts/compat.js` rewrites the tests column from the test sources;
// `node scripts/compat.js --check` fails when a spec ID is missing, a status is unknown, a done
// or partial item has no test, or the tests column is out of date (test/compat.test.js runs it).
'use strict';

const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..');
const specPath = path.join(root, '..', 'shared', 'spec', 'API.md');
const compatPath = path.join(root, 'docs', 'COMPAT.md');
const STATUSES = ['done', 'partial', 'not yet', 'n/a'];

function specIds() {
    const text = fs.readFileSync(specPath, 'utf8');
    return [...text.matchAll(/^- \[ \] ([A-Z0-9]+-\d+) · ([^—\n]*)/gm)].map((m) => ({ id: m[1], title: m[2].trim() }));
}

function walk(dir, exts) {
    if (!fs.existsSync(dir))
        return [];
    return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
        const p = path.join(dir, e.name);
        return e.isDirectory() ? walk(p, exts) : exts.some((x) => e.name.endsWith(x)) ? [p] : [];
    });
}

// Which test files cite each ID: JS test names (`test('ID · …')`) and Rust/JS sources' comments.
function citations() {
    const files = [...walk(path.join(root, 'test'), ['.test.js']), ...walk(path.join(root, 'tests'), ['.rs']),
                   ...walk(path.join(root, 'src'), ['.rs']), ...walk(path.join(root, 'abi-tests'), ['.rs'])];
    const map = new Map();
    for (const file of files) {
        const rel = path.relative(root, file);
        const text = fs.readFileSync(file, 'utf8');
        if (file.endsWith('.rs') && !/#\[test\]/.test(text))
            continue;
        for (const m of text.matchAll(/\b([A-Z][A-Z0-9]*-\d\d)\b/g)) {
            if (!map.has(m[1]))
                map.set(m[1], new Set());
            map.get(m[1]).add(rel);
        }
    }
    return map;
}

function parseCompat() {
    const rows = new Map();
    if (!fs.existsSync(compatPath))
        return rows;
    for (const line of fs.readFileSync(compatPath, 'utf8').split('\n')) {
        const m = line.match(/^\| ([A-Z0-9]+-\d+) \| (?:[^|\\]|\\.)* \| ([^|]+) \| ([^|]*) \| ([^|]*) \|$/);
        if (m)
            rows.set(m[1], { status: m[2].trim(), note: m[3].trim(), tests: m[4].trim() });
    }
    return rows;
}

function render(ids, rows, cites) {
    const out = [
        '# Compatibility with the spec',
        '',
        'One row per requirement of `../shared/spec/API.md`: its status in koffi-rs and the test files that',
        'cite it. Statuses: **done** (implemented and tested), **partial** (the note says what is missing),',
        '**not yet**, **n/a** (nothing to implement). The tests column is generated: run',
        '`node scripts/compat.js` after adding tests; `test/compat.test.js` checks that this file is current.',
        '',
    ];
    const counts = Object.fromEntries(STATUSES.map((s) => [s, 0]));
    for (const { id } of ids)
        counts[rows.get(id)?.status] = (counts[rows.get(id)?.status] || 0) + 1;
    out.push(`Summary: ${STATUSES.map((s) => `${counts[s] || 0} ${s}`).join(', ')} (of ${ids.length}).`, '');
    out.push('| ID | requirement | status | note | tests |', '|---|---|---|---|---|');
    for (const { id, title } of ids) {
        const row = rows.get(id) || { status: 'not yet', note: '' };
        const tests = [...(cites.get(id) || [])].sort().map((t) => '`' + t + '`').join(' ');
        out.push(`| ${id} | ${title.replace(/\|/g, '\\|')} | ${row.status} | ${row.note} | ${tests} |`);
    }
    return out.join('\n') + '\n';
}

function main() {
    if (!fs.existsSync(specPath)) {
        console.log(`compat: ${specPath} not found, nothing to check`);
        return 0;
    }
    const ids = specIds();
    const rows = parseCompat();
    const cites = citations();
    const text = render(ids, rows, cites);
    if (!process.argv.includes('--check')) {
        fs.writeFileSync(compatPath, text);
        console.log(`compat: wrote ${path.relative(root, compatPath)} (${ids.length} items)`);
        return 0;
    }
    const problems = [];
    for (const { id } of ids) {
        const row = rows.get(id);
        if (!row)
            problems.push(`${id}: no row`);
        else if (!STATUSES.includes(row.status))
            problems.push(`${id}: unknown status '${row.status}'`);
        else if ((row.status === 'done' || row.status === 'partial') && !cites.has(id))
            problems.push(`${id}: ${row.status} but no test cites it`);
    }
    if (fs.readFileSync(compatPath, 'utf8') !== text)
        problems.push('docs/COMPAT.md is out of date: run node scripts/compat.js');
    for (const p of problems)
        console.error('compat: ' + p);
    return problems.length ? 1 : 0;
}

process.exitCode = main();
