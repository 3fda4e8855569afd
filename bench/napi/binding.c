/* Static Node-API binding of the benchmark functions: the baseline of
 * bench/run.js. It is what a careful hand-written binding looks like: every
 * argument is type-checked through the status Node-API returns, strings are
 * converted on the stack when they fit, struct objects are read with
 * napi_get_named_property and built with napi_create_object, JS callbacks are
 * called through napi_call_function inside a handle scope, async calls go
 * through napi_async_work.
 *
 * Built without node-gyp by bench/run.js:
 *   cc -O2 -shared -fPIC -I node_modules/node-api-headers/include \
 *      bench/napi/binding.c bench/lib/bench.c -o bench/build/napi_binding.node
 * The napi_* symbols stay undefined and resolve against node at load time. */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <node_api.h>

/* From bench/lib/bench.c, linked into the same shared object. */
typedef struct { int32_t a; float f; double d; } Pair16;
typedef struct { int32_t a; double b; float c[2]; } Trio24;
void noop(void);
double mix8(int a, double b, int c, double d, int e, double f, int g, double h);
Pair16 struct16(Pair16 p, int k);
Trio24 struct24(Trio24 s, int k);
int call_js(int (*cb)(int), int n);
int busy(int x);

#define CHECK(call) \
    do { \
        if ((call) != napi_ok) \
            return throw_last(env); \
    } while (0)

static napi_value throw_last(napi_env env)
{
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (!pending) {
        const napi_extended_error_info *info = NULL;
        napi_get_last_error_info(env, &info);
        napi_throw_type_error(env, NULL, info && info->error_message ? info->error_message : "Node-API call failed");
    }
    return NULL;
}

static napi_value throw_type(napi_env env, const char *msg)
{
    napi_throw_type_error(env, NULL, msg);
    return NULL;
}

/* Fetches exactly `want` arguments (missing ones are an error). */
static bool get_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv)
{
    size_t argc = want;
    if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok)
        return false;
    if (argc < want) {
        napi_throw_type_error(env, NULL, "Not enough arguments");
        return false;
    }
    return true;
}

static napi_value undefined(napi_env env)
{
    napi_value v;
    napi_get_undefined(env, &v);
    return v;
}

/* ---- simple calls ---- */

static napi_value js_noop(napi_env env, napi_callback_info info)
{
    (void)info;
    noop();
    return undefined(env);
}

static napi_value js_rand(napi_env env, napi_callback_info info)
{
    (void)info;
    napi_value ret;
    CHECK(napi_create_int32(env, rand(), &ret));
    return ret;
}

static napi_value js_atoi(napi_env env, napi_callback_info info)
{
    napi_value argv[1];
    if (!get_args(env, info, 1, argv))
        return NULL;

    char small[256];
    size_t len = 0;
    if (napi_get_value_string_utf8(env, argv[0], small, sizeof(small), &len) != napi_ok)
        return throw_type(env, "Expected a string");

    int value;
    if (len < sizeof(small) - 1) {
        value = atoi(small);
    } else {
        /* Possibly truncated: measure and convert into the heap. */
        CHECK(napi_get_value_string_utf8(env, argv[0], NULL, 0, &len));
        char *big = malloc(len + 1);
        if (!big)
            return throw_type(env, "Out of memory");
        napi_get_value_string_utf8(env, argv[0], big, len + 1, &len);
        value = atoi(big);
        free(big);
    }

    napi_value ret;
    CHECK(napi_create_int32(env, value, &ret));
    return ret;
}

static napi_value js_memset(napi_env env, napi_callback_info info)
{
    napi_value argv[3];
    if (!get_args(env, info, 3, argv))
        return NULL;

    void *data;
    size_t size;
    int32_t c;
    int64_t n;
    if (napi_get_buffer_info(env, argv[0], &data, &size) != napi_ok)
        return throw_type(env, "Expected a Buffer");
    if (napi_get_value_int32(env, argv[1], &c) != napi_ok || napi_get_value_int64(env, argv[2], &n) != napi_ok)
        return throw_type(env, "Expected a number");
    if (n < 0 || (uint64_t)n > size)
        return throw_type(env, "Length exceeds the Buffer");

    memset(data, c, (size_t)n);
    return undefined(env);
}

static napi_value js_mix8(napi_env env, napi_callback_info info)
{
    napi_value argv[8];
    if (!get_args(env, info, 8, argv))
        return NULL;

    int32_t i[4];
    double d[4];
    for (int k = 0; k < 4; k++) {
        if (napi_get_value_int32(env, argv[2 * k], &i[k]) != napi_ok ||
            napi_get_value_double(env, argv[2 * k + 1], &d[k]) != napi_ok)
            return throw_type(env, "Expected a number");
    }

    napi_value ret;
    CHECK(napi_create_double(env, mix8(i[0], d[0], i[1], d[1], i[2], d[2], i[3], d[3]), &ret));
    return ret;
}

/* ---- structs by value ---- */

static bool get_int32_prop(napi_env env, napi_value obj, const char *name, int32_t *out)
{
    napi_value v;
    return napi_get_named_property(env, obj, name, &v) == napi_ok &&
           napi_get_value_int32(env, v, out) == napi_ok;
}

static bool get_double_prop(napi_env env, napi_value obj, const char *name, double *out)
{
    napi_value v;
    return napi_get_named_property(env, obj, name, &v) == napi_ok &&
           napi_get_value_double(env, v, out) == napi_ok;
}

static bool set_int32_prop(napi_env env, napi_value obj, const char *name, int32_t value)
{
    napi_value v;
    return napi_create_int32(env, value, &v) == napi_ok &&
           napi_set_named_property(env, obj, name, v) == napi_ok;
}

static bool set_double_prop(napi_env env, napi_value obj, const char *name, double value)
{
    napi_value v;
    return napi_create_double(env, value, &v) == napi_ok &&
           napi_set_named_property(env, obj, name, v) == napi_ok;
}

static bool is_object(napi_env env, napi_value v)
{
    napi_valuetype type;
    return napi_typeof(env, v, &type) == napi_ok && type == napi_object;
}

static napi_value js_struct16(napi_env env, napi_callback_info info)
{
    napi_value argv[2];
    if (!get_args(env, info, 2, argv))
        return NULL;
    if (!is_object(env, argv[0]))
        return throw_type(env, "Expected an object");

    Pair16 p;
    double f;
    int32_t k;
    if (!get_int32_prop(env, argv[0], "a", &p.a) || !get_double_prop(env, argv[0], "f", &f) ||
        !get_double_prop(env, argv[0], "d", &p.d))
        return throw_type(env, "Invalid struct member");
    p.f = (float)f;
    if (napi_get_value_int32(env, argv[1], &k) != napi_ok)
        return throw_type(env, "Expected a number");

    Pair16 r = struct16(p, k);

    napi_value obj;
    CHECK(napi_create_object(env, &obj));
    if (!set_int32_prop(env, obj, "a", r.a) || !set_double_prop(env, obj, "f", r.f) ||
        !set_double_prop(env, obj, "d", r.d))
        return throw_last(env);
    return obj;
}

/* float[2] member: accepts a Float32Array or a plain array of numbers. */
static bool get_float2(napi_env env, napi_value obj, const char *name, float out[2])
{
    napi_value v;
    if (napi_get_named_property(env, obj, name, &v) != napi_ok)
        return false;

    bool is_typed = false;
    napi_is_typedarray(env, v, &is_typed);
    if (is_typed) {
        napi_typedarray_type type;
        size_t length;
        void *data;
        if (napi_get_typedarray_info(env, v, &type, &length, &data, NULL, NULL) != napi_ok ||
            type != napi_float32_array || length != 2)
            return false;
        memcpy(out, data, 2 * sizeof(float));
        return true;
    }

    bool is_array = false;
    uint32_t length;
    if (napi_is_array(env, v, &is_array) != napi_ok || !is_array ||
        napi_get_array_length(env, v, &length) != napi_ok || length != 2)
        return false;
    for (uint32_t i = 0; i < 2; i++) {
        napi_value e;
        double d;
        if (napi_get_element(env, v, i, &e) != napi_ok || napi_get_value_double(env, e, &d) != napi_ok)
            return false;
        out[i] = (float)d;
    }
    return true;
}

static napi_value js_struct24(napi_env env, napi_callback_info info)
{
    napi_value argv[2];
    if (!get_args(env, info, 2, argv))
        return NULL;
    if (!is_object(env, argv[0]))
        return throw_type(env, "Expected an object");

    Trio24 s;
    int32_t k;
    if (!get_int32_prop(env, argv[0], "a", &s.a) || !get_double_prop(env, argv[0], "b", &s.b) ||
        !get_float2(env, argv[0], "c", s.c))
        return throw_type(env, "Invalid struct member");
    if (napi_get_value_int32(env, argv[1], &k) != napi_ok)
        return throw_type(env, "Expected a number");

    Trio24 r = struct24(s, k);

    napi_value obj, buf, arr;
    void *data;
    CHECK(napi_create_object(env, &obj));
    if (!set_int32_prop(env, obj, "a", r.a) || !set_double_prop(env, obj, "b", r.b))
        return throw_last(env);
    CHECK(napi_create_arraybuffer(env, sizeof(r.c), &data, &buf));
    memcpy(data, r.c, sizeof(r.c));
    CHECK(napi_create_typedarray(env, napi_float32_array, 2, buf, 0, &arr));
    CHECK(napi_set_named_property(env, obj, "c", arr));
    return obj;
}

/* ---- C calling a JS function ---- */

typedef struct CallbackContext {
    napi_env env;
    napi_value fn;
    napi_value recv;
    bool failed;
} CallbackContext;

static CallbackContext *current_callback; /* JS thread only */

static int trampoline(int x)
{
    CallbackContext *ctx = current_callback;
    napi_env env = ctx->env;
    if (ctx->failed)
        return 0;

    napi_handle_scope scope;
    if (napi_open_handle_scope(env, &scope) != napi_ok) {
        ctx->failed = true;
        return 0;
    }

    int32_t out = 0;
    napi_value arg, ret;
    if (napi_create_int32(env, x, &arg) != napi_ok ||
        napi_call_function(env, ctx->recv, ctx->fn, 1, &arg, &ret) != napi_ok ||
        napi_get_value_int32(env, ret, &out) != napi_ok)
        ctx->failed = true;

    napi_close_handle_scope(env, scope);
    return out;
}

static napi_value js_call_js(napi_env env, napi_callback_info info)
{
    napi_value argv[2];
    if (!get_args(env, info, 2, argv))
        return NULL;

    napi_valuetype type;
    int32_t n;
    if (napi_typeof(env, argv[0], &type) != napi_ok || type != napi_function)
        return throw_type(env, "Expected a function");
    if (napi_get_value_int32(env, argv[1], &n) != napi_ok)
        return throw_type(env, "Expected a number");

    CallbackContext ctx = { env, argv[0], NULL, false };
    napi_get_undefined(env, &ctx.recv);

    CallbackContext *saved = current_callback; /* re-entrant calls */
    current_callback = &ctx;
    int sum = call_js(trampoline, n);
    current_callback = saved;

    if (ctx.failed)
        return throw_last(env);

    napi_value ret;
    CHECK(napi_create_int32(env, sum, &ret));
    return ret;
}

/* ---- async: busy(x) on the libuv pool, then cb(null, result) ---- */

typedef struct AsyncCall {
    napi_async_work work;
    napi_ref cb;
    int32_t x;
    int32_t result;
} AsyncCall;

static void async_execute(napi_env env, void *data)
{
    (void)env;
    AsyncCall *call = data;
    call->result = busy(call->x);
}

static void async_complete(napi_env env, napi_status status, void *data)
{
    AsyncCall *call = data;

    napi_value cb, recv, argv[2];
    napi_get_reference_value(env, call->cb, &cb);
    napi_delete_reference(env, call->cb);
    napi_delete_async_work(env, call->work);
    int32_t result = call->result;
    free(call);

    napi_get_undefined(env, &recv);
    if (status == napi_ok) {
        napi_get_null(env, &argv[0]);
        napi_create_int32(env, result, &argv[1]);
    } else {
        napi_value msg;
        napi_create_string_utf8(env, "Async call cancelled", NAPI_AUTO_LENGTH, &msg);
        napi_create_error(env, NULL, msg, &argv[0]);
        argv[1] = recv;
    }
    /* An exception thrown by cb is left pending: Node reports it as uncaught. */
    napi_call_function(env, recv, cb, 2, argv, NULL);
}

static napi_value js_busy_async(napi_env env, napi_callback_info info)
{
    napi_value argv[2];
    if (!get_args(env, info, 2, argv))
        return NULL;

    int32_t x;
    napi_valuetype type;
    if (napi_get_value_int32(env, argv[0], &x) != napi_ok)
        return throw_type(env, "Expected a number");
    if (napi_typeof(env, argv[1], &type) != napi_ok || type != napi_function)
        return throw_type(env, "Expected a callback function");

    AsyncCall *call = malloc(sizeof(*call));
    if (!call)
        return throw_type(env, "Out of memory");
    call->x = x;

    napi_value name;
    if (napi_create_string_latin1(env, "koffi-rs-bench:busy", NAPI_AUTO_LENGTH, &name) != napi_ok ||
        napi_create_reference(env, argv[1], 1, &call->cb) != napi_ok) {
        free(call);
        return throw_last(env);
    }
    if (napi_create_async_work(env, NULL, name, async_execute, async_complete, call, &call->work) != napi_ok) {
        napi_delete_reference(env, call->cb);
        free(call);
        return throw_last(env);
    }
    if (napi_queue_async_work(env, call->work) != napi_ok) {
        napi_delete_async_work(env, call->work);
        napi_delete_reference(env, call->cb);
        free(call);
        return throw_last(env);
    }
    return undefined(env);
}

static napi_value js_busy(napi_env env, napi_callback_info info)
{
    napi_value argv[1];
    int32_t x;
    if (!get_args(env, info, 1, argv))
        return NULL;
    if (napi_get_value_int32(env, argv[0], &x) != napi_ok)
        return throw_type(env, "Expected a number");
    napi_value ret;
    CHECK(napi_create_int32(env, busy(x), &ret));
    return ret;
}

/* ---- module ---- */

NAPI_MODULE_INIT()
{
    napi_property_descriptor props[] = {
        { "noop", NULL, js_noop, NULL, NULL, NULL, napi_enumerable, NULL },
        { "rand", NULL, js_rand, NULL, NULL, NULL, napi_enumerable, NULL },
        { "atoi", NULL, js_atoi, NULL, NULL, NULL, napi_enumerable, NULL },
        { "memset", NULL, js_memset, NULL, NULL, NULL, napi_enumerable, NULL },
        { "mix8", NULL, js_mix8, NULL, NULL, NULL, napi_enumerable, NULL },
        { "struct16", NULL, js_struct16, NULL, NULL, NULL, napi_enumerable, NULL },
        { "struct24", NULL, js_struct24, NULL, NULL, NULL, napi_enumerable, NULL },
        { "call_js", NULL, js_call_js, NULL, NULL, NULL, napi_enumerable, NULL },
        { "busy", NULL, js_busy, NULL, NULL, NULL, napi_enumerable, NULL },
        { "busy_async", NULL, js_busy_async, NULL, NULL, NULL, napi_enumerable, NULL },
    };

    if (napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props) != napi_ok)
        return NULL;
    return exports;
}
