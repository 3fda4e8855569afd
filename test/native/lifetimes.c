/* C side of test/lifetimes.test.js: code that keeps running, or keeps pointers, after the JS
 * that gave them has moved on (threads calling callbacks across reset() and worker.terminate(),
 * memory returned by callbacks, handles left on Node's event loop). Built into
 * build/libkoffilife.so by scripts/build.js. */

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define EXPORT __attribute__((visibility("default")))

static void sleep_us(long us)
{
    struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };
    nanosleep(&ts, NULL);
}

/* ---- Hammer: threads that call int cb(int) in a loop until stopped -------------------------
 * Results are sorted into "right" (cb(x) == x + 1), "zero" (the documented answer of a callback
 * whose environment is gone) and "wrong". */

typedef int (*LtIntCb)(int);

#define HAMMER_MAX 16
static pthread_t hammer_threads[HAMMER_MAX];
static int hammer_count;
static volatile int hammer_stop;
static LtIntCb hammer_cb;
static long hammer_right, hammer_zero, hammer_wrong;
static pthread_mutex_t hammer_mutex = PTHREAD_MUTEX_INITIALIZER;

static void *hammer_main(void *udata)
{
    long right = 0, zero = 0, wrong = 0;
    int x = (int)(intptr_t)udata * 1000;
    while (!__atomic_load_n(&hammer_stop, __ATOMIC_ACQUIRE)) {
        int r = hammer_cb(x);
        if (r == x + 1)
            right++;
        else if (r == 0)
            zero++;
        else
            wrong++;
        x = (x + 1) % 1000000;
        sleep_us(50);
    }
    pthread_mutex_lock(&hammer_mutex);
    hammer_right += right;
    hammer_zero += zero;
    hammer_wrong += wrong;
    pthread_mutex_unlock(&hammer_mutex);
    return NULL;
}

/* Starts n threads calling cb; returns the number started. */
EXPORT int lt_hammer_start(LtIntCb cb, int n)
{
    hammer_cb = cb;
    hammer_stop = 0;
    hammer_right = hammer_zero = hammer_wrong = 0;
    hammer_count = 0;
    for (int i = 0; i < n && i < HAMMER_MAX; i++) {
        if (pthread_create(&hammer_threads[i], NULL, hammer_main, (void *)(intptr_t)i))
            break;
        hammer_count++;
    }
    return hammer_count;
}

/* Stops and joins the threads; *right, *zero and *wrong receive the totals. Must not be called
 * from the JS thread while the threads wait for it (the JS thread would never run their calls):
 * call it with fn.async, or after the callback's environment is gone. */
EXPORT void lt_hammer_stop(long *right, long *zero, long *wrong)
{
    __atomic_store_n(&hammer_stop, 1, __ATOMIC_RELEASE);
    for (int i = 0; i < hammer_count; i++)
        pthread_join(hammer_threads[i], NULL);
    hammer_count = 0;
    *right = hammer_right;
    *zero = hammer_zero;
    *wrong = hammer_wrong;
}

/* ---- Strings returned by a callback called from a C thread ---------------------------------
 * A thread calls const char *cb(int i) n times; each string must read "value-<i>" until the
 * next call. Returns the number of mismatches through lt_strings_result(). */

typedef const char *(*LtStrCb)(int);

static pthread_t strings_thread;
static LtStrCb strings_cb;
static int strings_n;
static volatile int strings_done;
static int strings_bad;

static void *strings_main(void *udata)
{
    (void)udata;
    char expect[32];
    int bad = 0;
    for (int i = 0; i < strings_n; i++) {
        const char *s = strings_cb(i);
        snprintf(expect, sizeof(expect), "value-%d", i);
        /* Read it twice, a little apart: memory freed in between would be reused by the JS
         * thread's other calls. */
        int ok = s && !strcmp(s, expect);
        if (ok && (i % 64) == 0) {
            sleep_us(200);
            ok = !strcmp(s, expect);
        }
        if (!ok)
            bad++;
    }
    strings_bad = bad;
    __atomic_store_n(&strings_done, 1, __ATOMIC_RELEASE);
    return NULL;
}

EXPORT int lt_strings_start(LtStrCb cb, int n)
{
    strings_cb = cb;
    strings_n = n;
    strings_done = 0;
    strings_bad = -1;
    return pthread_create(&strings_thread, NULL, strings_main, NULL) ? -1 : 0;
}

EXPORT int lt_strings_done(void) { return __atomic_load_n(&strings_done, __ATOMIC_ACQUIRE); }

EXPORT int lt_strings_result(void)
{
    pthread_join(strings_thread, NULL);
    return strings_bad;
}

/* ---- A struct returned by a callback, read after the callback returns ----------------------- */

typedef struct LtRecord {
    int a;
    double b;
    const char *d;
} LtRecord;

typedef LtRecord (*LtRecordCb)(int);
typedef int (*LtChurnCb)(const char *);

/* Calls rec(i) n times, keeping every result, calls churn() in between (which makes JS allocate
 * and call C), then checks every kept d against "rec-<i>". Returns the number of mismatches. */
EXPORT int lt_records_check(LtRecordCb rec, LtChurnCb churn, int n)
{
    LtRecord *kept = (LtRecord *)calloc((size_t)n, sizeof(LtRecord));
    char expect[32];
    for (int i = 0; i < n; i++) {
        kept[i] = rec(i);
        churn("some unrelated string that takes memory");
    }
    int bad = 0;
    for (int i = 0; i < n; i++) {
        snprintf(expect, sizeof(expect), "rec-%d", i);
        if (kept[i].a != i || kept[i].b != i * 0.5 || !kept[i].d || strcmp(kept[i].d, expect))
            bad++;
    }
    free(kept);
    return bad;
}

/* Calls cb(i) n times and returns the sum of the string lengths: a C loop that never returns
 * to JS between callbacks, like a main loop. */
EXPORT long lt_strings_loop(LtStrCb cb, int n)
{
    long total = 0;
    for (int i = 0; i < n; i++) {
        const char *s = cb(i);
        total += s ? (long)strlen(s) : -1;
    }
    return total;
}

/* ---- A handle left on Node's event loop ------------------------------------------------------
 * libuv's symbols come from the node binary. The handle lives in this library's memory and is
 * never closed: unmapping the library before the loop is done with it crashes the process. */

struct uv_loop_s;
typedef void (*lt_uv_async_cb)(void *handle);
extern struct uv_loop_s *uv_default_loop(void);
extern int uv_async_init(struct uv_loop_s *loop, void *handle, lt_uv_async_cb cb);
extern void uv_unref(void *handle);

static _Alignas(16) unsigned char uv_hold_handle[1024];
static int uv_hold_fired;

static void uv_hold_cb(void *handle)
{
    (void)handle;
    uv_hold_fired++;
}

/* Starts an async handle on Node's main loop, unref'd so that it does not keep Node alive. */
EXPORT int lt_uv_hold(void)
{
    int rc = uv_async_init(uv_default_loop(), uv_hold_handle, uv_hold_cb);
    if (rc == 0)
        uv_unref(uv_hold_handle);
    return rc;
}

/* ---- Library in use while it is unloaded ---------------------------------------------------- */

typedef int (*LtVoidCb)(void);

/* Calls cb() (which may unload this very library) and then runs more of this library's code. */
EXPORT int lt_call_then_work(LtVoidCb cb)
{
    int r = cb();
    volatile int acc = 0;
    for (int i = 0; i < 1000; i++)
        acc += i;
    return r + (acc == 499500 ? 1 : 0);
}

EXPORT int lt_sleep_ms(int ms)
{
    sleep_us((long)ms * 1000);
    return ms;
}

/* Sleeps ms milliseconds, then returns cb(x): run with fn.async, the callback comes from a pool
 * thread, possibly after its environment is gone. */
EXPORT int lt_sleep_call(LtIntCb cb, int x, int ms)
{
    sleep_us((long)ms * 1000);
    return cb(x);
}

/* A pipe for poll handles: fds[0] reads, fds[1] writes. */
#include <unistd.h>
EXPORT int lt_pipe(int *fds) { return pipe(fds); }

/* A callback kept by C beyond its environment: lt_stash_wait(cb, ms) keeps cb and then sleeps
 * (run it with fn.async, so that the callback is a live transient meanwhile); lt_call_stashed(x)
 * calls it from whatever thread calls this, e.g. another worker's JS thread. */
static LtIntCb stashed_cb;
EXPORT int lt_stash_wait(LtIntCb cb, int ms)
{
    __atomic_store_n(&stashed_cb, cb, __ATOMIC_RELEASE);
    sleep_us((long)ms * 1000);
    return 1;
}
EXPORT int lt_call_stashed(int x)
{
    LtIntCb cb = __atomic_load_n(&stashed_cb, __ATOMIC_ACQUIRE);
    return cb ? cb(x) : -1;
}
