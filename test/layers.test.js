// The binding's layers (scripts/layers.js): every import in src/node runs from a higher room to
// a lower one, and the checker does catch an import that runs back up or a circle.
'use strict';

const { test } = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { analyse } = require('../scripts/layers.js');

/** The checker's verdict on a tree (src/node when none is given): its problems, one per line. */
function check(root) {
    const { problems } = analyse(root);
    return { status: problems.length ? 1 : 0, stderr: problems.join('\n') };
}

/** A small tree laid out like src/node, with the given files. */
function tree(files) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'koffi-rs-layers-'));
    for (const [name, text] of Object.entries(files)) {
        fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
        fs.writeFileSync(path.join(dir, name), text);
    }
    return dir;
}

test('every import in src/node runs downward', () => {
    const r = check();
    assert.strictEqual(r.status, 0, r.stderr);
});

test('an import from a lower room to a higher one is refused', () => {
    const dir = tree({
        'mod.rs': 'mod js;\nmod calls;\n',
        'js/mod.rs': 'pub mod napi;\n',
        'js/napi.rs': 'use crate::node::calls::entry::call;\n',
        'calls/mod.rs': 'pub mod entry;\n',
        'calls/entry.rs': 'use crate::node::js::napi::Env;\n',
    });
    const r = check(dir);
    assert.strictEqual(r.status, 1);
    assert.match(r.stderr, /upward import: js\/napi uses calls\/entry/);
});

test('files of one room importing each other in a circle are refused', () => {
    const dir = tree({
        'convert/mod.rs': 'pub mod encode;\npub mod decode;\n',
        'convert/encode.rs': 'use super::decode::decode;\n',
        'convert/decode.rs': 'use super::encode::encode;\n',
    });
    const r = check(dir);
    assert.strictEqual(r.status, 1);
    assert.match(r.stderr, /circle: convert\/decode, convert\/encode/);
});

test('imports in comments and unit tests do not count', () => {
    const dir = tree({
        'js/mod.rs': 'pub mod napi;\n',
        'js/napi.rs': '// see crate::node::api::types\n#[cfg(test)]\nmod tests { use crate::node::api::types; }\n',
        'api/mod.rs': 'pub mod types;\n',
        'api/types.rs': 'use crate::node::js::napi::Env;\n',
    });
    assert.strictEqual(check(dir).status, 0);
});
