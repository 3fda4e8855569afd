// koffi.node.poll and PollHandle (spec NODE-02, NODE-03): libuv polling of a file descriptor,
// here the read end of a pipe made with libc.
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { koffi, libcPath } = require('./helpers.js');

const skip = !libcPath && 'needs libc by name (Linux)';

function makePipe() {
    const libc = koffi.load(libcPath);
    const pipe = libc.func('int pipe(_Out_ int *fds)');
    const write = libc.func('long write(int fd, const char *buf, size_t n)');
    const close = libc.func('int close(int fd)');
    const fds = [0, 0];
    assert.equal(pipe(fds), 0);
    return { fds, write, close };
}

test('NODE-02 · node.poll reports a readable pipe, with this = the handle', { skip }, async () => {
    const { fds, write, close } = makePipe();
    const seen = await new Promise((resolve) => {
        const handle = koffi.node.poll(fds[0], { readable: true }, function (status, events) {
            handle.close();
            resolve({ status, events, self: this === handle });
        });
        setTimeout(() => write(fds[1], 'x', 1), 10);
    });
    assert.deepEqual(seen, { status: 0, events: { readable: true, writable: false, disconnect: false }, self: true });
    close(fds[0]);
    close(fds[1]);
});

test('NODE-03 · PollHandle start/stop/ref/unref/close, writable events', { skip }, async () => {
    const { fds, close } = makePipe();
    const handle = new koffi.node.PollHandle(fds[1]);
    const events = await new Promise((resolve) => handle.start({ writable: true }, (status, ev) => resolve(ev)));
    assert.equal(events.writable, true);
    handle.stop();
    handle.unref();
    handle.ref();
    handle.close();
    handle.close();
    close(fds[0]);
    close(fds[1]);
});

test('NODE-02 / NODE-03 · argument errors', () => {
    assert.throws(() => koffi.node.poll('x', () => {}), { name: 'TypeError', message: /value for descriptor, expected number/ });
    // upstream says Error "Expected 1 argument, got 1" here; koffi-rs a TypeError naming the type
    assert.throws(() => new koffi.node.PollHandle(null));
    assert.throws(() => koffi.node.poll(0, {}, 'nope'), { name: 'TypeError', message: /expected function/ });
});
