// The KSG-1 pair kernel as a Node addon (N-API): ksgKernel.c compiled natively, the same
// source the WebAssembly build uses, so the results are the same bits (the tests hold both to
// the TypeScript reference). Built by scripts/bundles.mjs (buildKsgNative, node-gyp) into
// ksgNative.node beside the bundles; src/core/measures/ksgNative.ts is its host side.
//
// One instance (create) owns the columns and scratch areas of one MI worker: every buffer is
// malloc'd and listed in the instance, and reset / the instance's finalizer frees them all.
// Worker threads share the loaded addon but never an instance, so no state is global except
// the instance being filled during a call (thread-local).
#include <node_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../ksgKernel.c"

typedef struct Instance {
  void **blocks; /* every allocation, freed by reset */
  size_t nBlocks, capBlocks;
  Col **cols;
  size_t nCols, capCols;
  Scratch **scratches;
  size_t nScratches, capScratches;
  int avx2; /* the pairs take the AVX2 pass (Scratch.avx2); see jsSimd */
} Instance;

static _Thread_local Instance *filling = 0;

static int grow(void *arrPtr, size_t *cap, size_t need, size_t elem) {
  void **arr = (void **)arrPtr;
  if (need <= *cap) return 1;
  size_t c = *cap ? *cap * 2 : 64;
  while (c < need) c *= 2;
  void *p = realloc(*arr, c * elem);
  if (p == 0) return 0;
  *arr = p;
  *cap = c;
  return 1;
}

/* The kernel's allocator (ksgKernel.c KSG_ALLOC) while `filling` is set; 0 when out of memory.
   The SIMD loads and stores are unaligned, so malloc's alignment is enough. */
static void *ksg_alloc(uint32_t bytes) {
  Instance *in = filling;
  if (in == 0 || !grow(&in->blocks, &in->capBlocks, in->nBlocks + 1, sizeof(void *))) return 0;
  void *p = malloc(bytes > 0 ? bytes : 16);
  if (p == 0) return 0;
  in->blocks[in->nBlocks++] = p;
  return p;
}

static void instanceReset(Instance *in) {
  for (size_t i = 0; i < in->nBlocks; i++) free(in->blocks[i]);
  in->nBlocks = 0;
  in->nCols = 0;
  in->nScratches = 0;
}

static void instanceFinalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  Instance *in = (Instance *)data;
  instanceReset(in);
  free(in->blocks);
  free(in->cols);
  free(in->scratches);
  free(in);
}

#define CHECK(call)                                                                            \
  do {                                                                                         \
    if ((call) != napi_ok) {                                                                   \
      napi_throw_error(env, 0, "MI kernel (native): N-API call failed: " #call);               \
      return 0;                                                                                \
    }                                                                                          \
  } while (0)

static napi_value fail(napi_env env, const char *message) {
  napi_throw_error(env, 0, message);
  return 0;
}

static Instance *instanceArg(napi_env env, napi_value v) {
  void *data = 0;
  if (napi_get_value_external(env, v, &data) != napi_ok || data == 0) return 0;
  return (Instance *)data;
}

/** A typed array's data and element count; 0 when v is not a typed array of `want`. */
static void *typedArg(napi_env env, napi_value v, napi_typedarray_type want, size_t *length) {
  bool is = false;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is) return 0;
  napi_typedarray_type type;
  void *data = 0;
  napi_value buffer;
  size_t offset = 0;
  if (napi_get_typedarray_info(env, v, &type, length, &data, &buffer, &offset) != napi_ok)
    return 0;
  return type == want ? data : 0;
}

/** Copies a typed array argument into the instance; 0 (and a thrown error) on failure. */
static void *copyArg(napi_env env, napi_value v, napi_typedarray_type want, size_t elem,
                     size_t expect, const char *what) {
  size_t length = 0;
  void *src = typedArg(env, v, want, &length);
  if (src == 0 || length != expect) {
    char msg[160];
    snprintf(msg, sizeof msg, "MI kernel (native): %s: expected a typed array of %zu values",
             what, expect);
    napi_throw_type_error(env, 0, msg);
    return 0;
  }
  void *dst = ksg_alloc((uint32_t)(length * elem));
  if (dst == 0) {
    napi_throw_range_error(env, 0, "MI kernel (native): out of memory");
    return 0;
  }
  memcpy(dst, src, length * elem);
  return dst;
}

/** Whether this processor runs the kernel's AVX2 pass (never on a build without it). */
static int avx2Supported(void) {
#if KSG_AVX2
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("popcnt");
#else
  return 0;
#endif
}

static napi_value jsCreate(napi_env env, napi_callback_info info) {
  (void)info;
  Instance *in = (Instance *)calloc(1, sizeof(Instance));
  if (in == 0) return fail(env, "MI kernel (native): out of memory");
  in->avx2 = avx2Supported();
  napi_value out;
  CHECK(napi_create_external(env, in, instanceFinalize, 0, &out));
  return out;
}

static napi_value jsReset(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, 0, 0));
  Instance *in = argc == 1 ? instanceArg(env, argv[0]) : 0;
  if (in == 0) return fail(env, "MI kernel (native): reset(instance)");
  instanceReset(in);
  return 0;
}

/**
 * simd(instance, "auto" | "baseline") -> the vector path the instance's pairs now take: "avx2"
 * (auto, on a processor with AVX2) or "baseline" (SSE2, simd128's twin; the same bits).
 */
static napi_value jsSimd(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, 0, 0));
  Instance *in = argc == 2 ? instanceArg(env, argv[0]) : 0;
  char mode[16] = "";
  size_t len = 0;
  if (in == 0 || napi_get_value_string_utf8(env, argv[1], mode, sizeof mode, &len) != napi_ok ||
      (strcmp(mode, "auto") != 0 && strcmp(mode, "baseline") != 0))
    return fail(env, "MI kernel (native): simd(instance, \"auto\" | \"baseline\")");
  in->avx2 = strcmp(mode, "auto") == 0 && avx2Supported();
  napi_value out;
  CHECK(napi_create_string_utf8(env, in->avx2 ? "avx2" : "baseline", NAPI_AUTO_LENGTH, &out));
  return out;
}

/**
 * addColumn(instance, n, maxRun, min, scale, guarded, order, rank, groupStart | null,
 * groupEnd | null, bucketStart) -> column handle. The arrays are those of ksgKernel.ts
 * PreparedColumn, copied.
 */
static napi_value jsAddColumn(napi_env env, napi_callback_info info) {
  size_t argc = 11;
  napi_value argv[11];
  CHECK(napi_get_cb_info(env, info, &argc, argv, 0, 0));
  Instance *in = argc == 11 ? instanceArg(env, argv[0]) : 0;
  if (in == 0) return fail(env, "MI kernel (native): addColumn: expected 11 arguments");
  int32_t n = 0, maxRun = 0;
  double min = 0, scale = 0;
  CHECK(napi_get_value_int32(env, argv[1], &n));
  CHECK(napi_get_value_int32(env, argv[2], &maxRun));
  CHECK(napi_get_value_double(env, argv[3], &min));
  CHECK(napi_get_value_double(env, argv[4], &scale));
  if (n < 1) return fail(env, "MI kernel (native): addColumn: expected n >= 1");
  filling = in;
  Col *c = (Col *)ksg_alloc(sizeof(Col));
  napi_valuetype t;
  int ok = c != 0;
  if (ok) {
    memset(c, 0, sizeof(Col));
    c->n = n;
    c->maxRun = maxRun;
    c->min = min;
    c->scale = scale;
    ok = (c->guarded = copyArg(env, argv[5], napi_float64_array, 8, n + 2 * GUARD, "guarded")) &&
         (c->order = copyArg(env, argv[6], napi_int32_array, 4, n, "order")) &&
         (c->rank = copyArg(env, argv[7], napi_int32_array, 4, n, "rank"));
  }
  if (ok && napi_typeof(env, argv[8], &t) == napi_ok && t != napi_null) {
    ok = (c->groupStart = copyArg(env, argv[8], napi_int32_array, 4, n, "groupStart")) &&
         (c->groupEnd = copyArg(env, argv[9], napi_int32_array, 4, n, "groupEnd"));
  }
  ok = ok && (c->bucketStart = copyArg(env, argv[10], napi_int32_array, 4, n + 1, "bucketStart"));
  filling = 0;
  if (!ok) {
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    return pending ? 0 : fail(env, "MI kernel (native): out of memory");
  }
  if (!grow(&in->cols, &in->capCols, in->nCols + 1, sizeof(Col *)))
    return fail(env, "MI kernel (native): out of memory");
  in->cols[in->nCols] = c;
  napi_value out;
  CHECK(napi_create_uint32(env, (uint32_t)in->nCols++, &out));
  return out;
}

/** newScratch(instance, n, k, psi: Float64Array(>= n + 1), mixed: 0 | 1) -> scratch handle. */
static napi_value jsNewScratch(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  CHECK(napi_get_cb_info(env, info, &argc, argv, 0, 0));
  Instance *in = argc == 5 ? instanceArg(env, argv[0]) : 0;
  if (in == 0) return fail(env, "MI kernel (native): newScratch: expected 5 arguments");
  int32_t n = 0, k = 0, mixed = 0;
  CHECK(napi_get_value_int32(env, argv[1], &n));
  CHECK(napi_get_value_int32(env, argv[2], &k));
  CHECK(napi_get_value_int32(env, argv[4], &mixed));
  if (n < 2 || k < 1 || k >= n) return fail(env, "MI kernel (native): newScratch: bad n or k");
  filling = in;
  const double *psi = copyArg(env, argv[3], napi_float64_array, 8, n + 1, "psi");
  Scratch *sc = psi == 0 ? 0 : scratch_new(n, k, psi, mixed);
  filling = 0;
  if (psi == 0) return 0;
  if (sc == 0 || !grow(&in->scratches, &in->capScratches, in->nScratches + 1, sizeof(Scratch *)))
    return fail(env, "MI kernel (native): out of memory");
  in->scratches[in->nScratches] = sc;
  napi_value out;
  CHECK(napi_create_uint32(env, (uint32_t)in->nScratches++, &out));
  return out;
}

/** pair(instance, x, y, scratch) -> MI (nats), as ksgKernel.ts ksgPair. */
static napi_value jsPair(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(napi_get_cb_info(env, info, &argc, argv, 0, 0));
  Instance *in = argc == 4 ? instanceArg(env, argv[0]) : 0;
  if (in == 0) return fail(env, "MI kernel (native): pair: expected 4 arguments");
  uint32_t x = 0, y = 0, s = 0;
  CHECK(napi_get_value_uint32(env, argv[1], &x));
  CHECK(napi_get_value_uint32(env, argv[2], &y));
  CHECK(napi_get_value_uint32(env, argv[3], &s));
  if (x >= in->nCols || y >= in->nCols || s >= in->nScratches)
    return fail(env, "MI kernel (native): pair: unknown column or scratch handle");
  const Col *X = in->cols[x], *Y = in->cols[y];
  Scratch *sc = in->scratches[s];
  if (X->n != sc->n || Y->n != sc->n)
    return fail(env, "MI kernel (native): pair: columns and scratch differ in sample count");
#if KSG_AVX2
  sc->avx2 = in->avx2;
#endif
  napi_value out;
  CHECK(napi_create_double(env, ksg_pair(X, Y, sc), &out));
  return out;
}

NAPI_MODULE_INIT() {
  static const struct {
    const char *name;
    napi_callback fn;
  } fns[] = {{"create", jsCreate},
             {"reset", jsReset},
             {"addColumn", jsAddColumn},
             {"newScratch", jsNewScratch},
             {"pair", jsPair},
             {"simd", jsSimd}};
  for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
    napi_value f;
    if (napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].fn, 0, &f) != napi_ok ||
        napi_set_named_property(env, exports, fns[i].name, f) != napi_ok)
      return 0;
  }
  return exports;
}
