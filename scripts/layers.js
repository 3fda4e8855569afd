#!/usr/bin/env node
// The binding's layers (src/node): which file uses which, room by room, with line counts.
//
//   node scripts/layers.js           prints the map
//   node scripts/layers.js --check   fails on an import that runs back up to a higher room, or
//                                    on files that import each other in a circle (outside the
//                                    one room allowed below)
//   --root DIR                       checks another tree laid out like src/node (for its test)
//
// A file "uses" another when it names it in a path (`crate::node::…`, `super::…`, `self::…`,
// or a module's `use child::…`). Rooms, from the bottom up, are the folders of src/node; the
// registration in src/node/mod.rs sits on top. `npm test` runs the check (test/layers.test.js).
'use strict';

const fs = require('fs');
const path = require('path');

const SRC_NODE = path.join(__dirname, '..', 'src', 'node');
/** Rooms from the bottom up; a file may use its own room and the rooms below. */
const ROOMS = ['js', 'instance', 'convert', 'calls', 'api', ''];
/** The one room whose files may import each other in a circle: an Instance owns its callbacks,
 * and each callback points back at its Instance (see src/node/instance/mod.rs). */
const CIRCLE_OK = new Set(['instance']);

/** Module path of a file, as a '/'-joined string ('' for src/node/mod.rs). */
function moduleOf(root, file) {
    const parts = path.relative(root, file).replace(/\.rs$/, '').split(path.sep);
    if (parts[parts.length - 1] === 'mod') parts.pop();
    return parts.join('/');
}

function listFiles(dir, out = []) {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) listFiles(full, out);
        else if (entry.name.endsWith('.rs')) out.push(full);
    }
    return out;
}

/** Source without comments, string literals and the unit tests (which may use their parent). */
function code(text) {
    return text
        .split('#[cfg(test)]')[0]
        .replace(/\/\/[^\n]*/g, '')
        .replace(/"(\\.|[^"\\])*"/g, '""');
}

function graph(root) {
    const files = new Map();
    for (const f of listFiles(root)) files.set(moduleOf(root, f), f);
    const split = (m) => (m === '' ? [] : m.split('/'));
    const edges = new Map();
    for (const [mod, file] of files) {
        const src = code(fs.readFileSync(file, 'utf8'));
        const paths = [...src.matchAll(/\b((?:crate|super|self)(?:::\w+)+)/g)].map((m) => m[1]);
        for (const m of src.matchAll(/^\s*(?:pub(?:\([^)]*\))? )?use (\w+)::/gm)) {
            if (files.has([...split(mod), m[1]].join('/'))) paths.push(`self::${m[1]}`);
        }
        const uses = new Set();
        for (const p of paths) {
            let parts = p.split('::');
            let base;
            if (parts[0] === 'crate') {
                if (parts[1] !== 'node') continue;
                base = [];
                parts = parts.slice(2);
            } else {
                base = split(mod);
                while (parts.length && (parts[0] === 'super' || parts[0] === 'self')) {
                    if (parts[0] === 'super') base = base.slice(0, -1);
                    parts = parts.slice(1);
                }
            }
            let target = base;
            for (const part of parts) {
                if (files.has([...target, part].join('/'))) target = [...target, part];
                else break;
            }
            const t = target.join('/');
            if (t !== mod && files.has(t)) uses.add(t);
        }
        edges.set(mod, uses);
    }
    return { files, edges };
}

const roomOf = (mod) => (ROOMS.includes(mod.split('/')[0]) ? mod.split('/')[0] : '');

/** Strongly connected components with more than one file (Tarjan). */
function circles(edges) {
    let counter = 0;
    const index = new Map();
    const low = new Map();
    const stack = [];
    const onStack = new Set();
    const found = [];
    const visit = (v) => {
        index.set(v, counter);
        low.set(v, counter++);
        stack.push(v);
        onStack.add(v);
        for (const w of edges.get(v)) {
            if (!index.has(w)) {
                visit(w);
                low.set(v, Math.min(low.get(v), low.get(w)));
            } else if (onStack.has(w)) {
                low.set(v, Math.min(low.get(v), index.get(w)));
            }
        }
        if (low.get(v) === index.get(v)) {
            const comp = [];
            let w;
            do {
                w = stack.pop();
                onStack.delete(w);
                comp.push(w);
            } while (w !== v);
            if (comp.length > 1) found.push(comp.sort());
        }
    };
    for (const v of edges.keys()) if (!index.has(v)) visit(v);
    return found;
}

/** The import graph of the tree at `root` (laid out like src/node), what breaks the rules
 * (`problems`) and the allowed circle (`notes`). */
function analyse(root = SRC_NODE) {
    const { files, edges } = graph(root);
    const problems = [];
    const notes = [];
    for (const [mod, uses] of edges) {
        for (const t of uses) {
            if (ROOMS.indexOf(roomOf(t)) > ROOMS.indexOf(roomOf(mod))) {
                problems.push(`upward import: ${mod || 'mod'} uses ${t || 'mod'}`);
            }
        }
    }
    for (const comp of circles(edges)) {
        const rooms = new Set(comp.map(roomOf));
        const names = comp.map((m) => m || 'mod').join(', ');
        if (rooms.size === 1 && CIRCLE_OK.has([...rooms][0])) notes.push(`circle (allowed in this one room): ${names}`);
        else problems.push(`circle: ${names}`);
    }
    return { files, edges, problems, notes };
}

function main() {
    const rootArg = process.argv.indexOf('--root');
    const { files, edges, problems, notes } = analyse(rootArg > 0 ? path.resolve(process.argv[rootArg + 1]) : SRC_NODE);
    if (!process.argv.includes('--check')) {
        const lines = (m) => fs.readFileSync(files.get(m), 'utf8').split('\n').length - 1;
        for (const room of ROOMS) {
            const mods = [...files.keys()].filter((m) => roomOf(m) === room).sort();
            const total = mods.reduce((n, m) => n + lines(m), 0);
            console.log(`\n[${room || 'node (registration)'}] ${total} lines`);
            for (const m of mods) {
                const uses = [...edges.get(m)].sort().map((t) => t || 'mod');
                console.log(`  ${(m || 'mod').padEnd(24)} ${String(lines(m)).padStart(5)}  uses: ${uses.join(', ')}`);
            }
        }
        console.log('');
    }
    for (const n of notes) console.log(`layers: ${n}`);
    for (const p of problems) console.error(`layers: ${p}`);
    if (problems.length && process.argv.includes('--check')) process.exit(1);
    if (process.argv.includes('--check')) console.log('layers: every import in src/node runs downward');
}

module.exports = { analyse };

if (require.main === module) main();
