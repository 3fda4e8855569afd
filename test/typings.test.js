// MOD-10 · the TypeScript declarations (index.d.ts) compile under `--strict` and describe the
// API as used from TypeScript (test/typings/usage.ts) and from type-checked JavaScript.
// Needs the `typescript` devDependency; skipped when it is not installed.
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const root = path.join(__dirname, '..');
const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
// Under an emulator (ci/cross.sh sets KOFFI_RS_NODE_RUNNER) tsc would run ~10x slower and check
// nothing architecture-specific: the native run covers it.
const skip = (!fs.existsSync(tsc) && 'TypeScript is not installed (npm install --ignore-scripts to get the devDependency)')
    || (process.env.KOFFI_RS_NODE_RUNNER && 'type checking is architecture-independent; skipped under an emulator');

// Runs tsc with `args` in `cwd` and fails the test with the compiler output on any diagnostic.
function compile(cwd, args) {
    const res = spawnSync(process.execPath, [tsc, '--noEmit', '--strict', '--pretty', 'false', ...args], {
        cwd,
        encoding: 'utf8',
    });
    assert.equal(res.error, undefined, String(res.error));
    assert.equal(res.status, 0, `tsc failed:\n${res.stdout}${res.stderr}`);
}

test('MOD-10 · usage.ts type-checks against index.d.ts', { skip }, () => {
    // The package resolves itself by name ('koffi-rs') through package.json "exports".
    compile(root, [
        '--esModuleInterop',
        '--erasableSyntaxOnly',
        '--module', 'nodenext',
        '--moduleResolution', 'nodenext',
        '--target', 'es2022',
        path.join('test', 'typings', 'usage.ts'),
    ]);
});

test('MOD-10 · require() from JavaScript and the other import styles are typed', { skip }, () => {
    // A throwaway project outside test/ (so that `node --test` never runs these files) that
    // depends on this package through a node_modules link.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'koffi-rs-typings-'));
    try {
        fs.mkdirSync(path.join(dir, 'node_modules'));
        fs.symlinkSync(root, path.join(dir, 'node_modules', 'koffi-rs'), 'junction');
        fs.writeFileSync(path.join(dir, 'main.js'), [
            "const koffi = require('koffi-rs');",
            'const lib = koffi.load(null);',
            "/** @type {number} */ const n = lib.func('int abs(int)')(-3);",
            "const Pair = koffi.struct('Pair', { a: 'int', b: [8, 'double'] });",
            "/** @type {string} */ const kind = koffi.introspect(Pair).primitive;",
            "/** @type {bigint} */ const addr = koffi.address(koffi.alloc('int', 1));",
            "koffi.in('int *');",
            "/** @type {'koffi-rs'} */ const name = koffi.implementation.name;",
            '// @ts-expect-error: a path is a string or null',
            'koffi.load(1);',
            '// @ts-expect-error: sizeof() returns a number',
            "/** @type {string} */ const size = koffi.sizeof('int');",
            '',
        ].join('\n'));
        // TypeScript compiled to CommonJS: every import style reaches the same module object.
        fs.writeFileSync(path.join(dir, 'styles.cts'), [
            "import koffi = require('koffi-rs');",
            "import * as star from 'koffi-rs';",
            "import { load, struct, types } from 'koffi-rs';",
            "import type { IKoffiLib, TypeInfo } from 'koffi-rs';",
            "import indirect = require('koffi-rs/indirect');",
            'const same: typeof koffi = star;',
            'const same2: koffi.KoffiModule = indirect;',
            'const lib: IKoffiLib = load(null);',
            "const info: TypeInfo = koffi.introspect(struct({ x: types.int }));",
            'const u: koffi.Union = new star.Union(\'U\');',
            'const h: koffi.node.PollHandle = new koffi.node.PollHandle(0);',
            'export { same, same2, lib, info, u, h };',
            '',
        ].join('\n'));
        // An ES module (index.mjs at run time): the default import and named imports.
        fs.writeFileSync(path.join(dir, 'esm.mts'), [
            "import koffi, { load, struct, types } from 'koffi-rs';",
            'const lib: koffi.IKoffiLib = load(null);',
            'const S = struct({ x: types.int });',
            'export { lib, S };',
            '',
        ].join('\n'));
        compile(dir, [
            '--allowJs', '--checkJs',
            '--module', 'nodenext',
            '--moduleResolution', 'nodenext',
            '--target', 'es2022',
            'main.js', 'styles.cts', 'esm.mts',
        ]);
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
});

// MOD-10 · a program typed against Koffi 2.16.3's own declarations (test/typings/upstream.ts,
// every overload and exported type of upstream's index.d.ts) compiles against upstream's
// declarations and against ours: code written for Koffi keeps compiling after the switch.
test("MOD-10 · a program written against Koffi 2.16.3's index.d.ts compiles against ours", { skip }, () => {
    const upstreamTypes = path.join(root, 'node_modules', 'koffi', 'index.d.ts');
    if (!fs.existsSync(upstreamTypes)) return;
    for (const [label, types] of [['koffi 2.16.3', upstreamTypes], ['koffi-rs', path.join(root, 'index.d.ts')]]) {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'koffi-rs-upstream-typings-'));
        try {
            // The program imports 'koffi': a package holding only the declarations under test.
            const pkg = path.join(dir, 'node_modules', 'koffi');
            fs.mkdirSync(pkg, { recursive: true });
            fs.copyFileSync(types, path.join(pkg, 'index.d.ts'));
            fs.writeFileSync(path.join(pkg, 'package.json'), JSON.stringify({ name: 'koffi', version: '0.0.0', types: 'index.d.ts' }));
            fs.copyFileSync(path.join(__dirname, 'typings', 'upstream.ts'), path.join(dir, 'upstream.ts'));
            try {
                compile(dir, ['--module', 'commonjs', '--target', 'es2022', '--esModuleInterop', 'upstream.ts']);
            } catch (err) {
                err.message = `against ${label}'s declarations: ${err.message}`;
                throw err;
            }
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    }
});
