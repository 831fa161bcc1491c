// The KSG-1 pair kernel in C, compiled two ways by the build (scripts/bundles.mjs): to
// WebAssembly (wasm32 + simd128, buildKsgWasm; ksgWasm.ts is its host side) and natively as a
// Node addon (buildKsgNative: native/ksgNative.c includes this file; ksgNative.ts). Without
// either, the MI workers run the TypeScript kernel. A port of ksgKernel.ts: the same paths
// (rank-space grid, sorted sweep without / with x ties) and the same float64 difference
// predicates. Some differences change how a path searches, not what it finds: the grid is
// this kernel's own (coarser, cut by a multiplication, laid out in one pass over y's order;
// a pair that crowds it gets a finer one, knnGrid), for k = 3 the near-pair pass runs two
// points at a time with SIMD (nearPairs3), a point whose k-th distance reaches past its 3 x 3
// block grows a rectangle of bands toward its nearest edge (searchFar) instead of square rings,
// the marginal counts' windows are counted two at a time after their guide positions are
// found for every point (farRings), and the tie sweep takes runs of one value without a run
// walk (knnTies) and, for k = 3, scans the points outside x's long runs two at a time as the
// sweep without ties does, walking a long run by y where it meets one (tiesPoint3); natively on x86-64 with AVX2, the near-pair pass and the windows run four
// lanes wide (nearPairs3Avx2, farRingsAvx2). The k-th distances and counts are exact either
// way, and the per-sample terms are summed in sample order, as in ksgKernel.ts, so the results
// are bit-identical to the TypeScript kernel, which stays as the independent reference the
// tests compare against.
// Memory: in wasm, a bump allocator over the module's linear memory; natively, malloc'd blocks
// the addon frees per instance. The host writes the prepared columns (ksgKernel.ts
// prepareColumn; raw values and grid bands are not copied) into it and calls ksg_pair. The
// estimator (KSG-1, or the tie-aware `mixed`: psi(k_m) where eps = 0) is fixed per scratch
// area (scratch_new), as in ksgKernel.ts KsgScratch.
#include <stdint.h>

#ifdef __wasm__
#define EXPORT(name) __attribute__((export_name(name)))
#else
/* Native (the Node addon, native/ksgNative.c, includes this file): nothing is exported, and
   the including file provides the allocator. */
#define EXPORT(name) static
#endif

/* Two float64 lanes: wasm simd128, x86-64's SSE2, or GCC/Clang vector extensions. Used by the
   k = 3 near-pair pass (nearPairs3) and the marginal counts' windows (countWithin). vd holds
   doubles, vc per-lane counts. */
#if defined(__wasm_simd128__)
#include <wasm_simd128.h>
typedef v128_t vd;
#define PMIN(a, b) wasm_f64x2_pmin(a, b)
#define PMAX(a, b) wasm_f64x2_pmax(a, b)
#define V_SPLAT(x) wasm_f64x2_splat(x)
#define V_LOAD(p) wasm_v128_load(p)
#define V_STORE(p, v) wasm_v128_store(p, v)
#define V_SUB(a, b) wasm_f64x2_sub(a, b)
#define V_ABSDIFF(a, b) wasm_v128_and(wasm_f64x2_sub(a, b), wasm_i64x2_splat(0x7fffffffffffffffLL))
#define V_LANE1_TO(v, x) wasm_f64x2_replace_lane(v, 1, x)
#define V_LANE0_ONLY(x, rest) wasm_f64x2_replace_lane(wasm_f64x2_splat(rest), 0, x)
#define V_GET(v, i) wasm_f64x2_extract_lane(v, i)
#define V_SWAP(v) wasm_i64x2_shuffle(v, v, 1, 0)
#define V_ADD(a, b) wasm_f64x2_add(a, b)
#define V_MUL(a, b) wasm_f64x2_mul(a, b)
#define V_SET(x0, x1) wasm_f64x2_make(x0, x1)
/* lane i truncated to int32 (in range: the bucket indices, clamped first) */
#define V_TRUNC(v, i) wasm_i32x4_extract_lane(wasm_i32x4_trunc_sat_f64x2_zero(v), i)
typedef v128_t vc;
#define C_ZERO() wasm_i64x2_splat(0)
#define C_ADD_LT(acc, a, b) wasm_i64x2_sub(acc, wasm_f64x2_lt(a, b))
#define C_SUM(acc) ((int32_t)(wasm_i64x2_extract_lane(acc, 0) + wasm_i64x2_extract_lane(acc, 1)))
#elif defined(__SSE2__)
/* x86-64 baseline. minpd(a, b) is a < b ? a : b, not pmin's b < a ? b : a, but the two differ
   only on NaN and on zeros of either sign, which never meet here; minpd writes over its first
   operand, so the lists' updates below put the value they replace first (no register copy). */
#include <emmintrin.h>
typedef __m128d vd;
#define PMIN(a, b) _mm_min_pd(a, b)
#define PMAX(a, b) _mm_max_pd(a, b)
#define V_SPLAT(x) _mm_set1_pd(x)
#define V_LOAD(p) _mm_loadu_pd(p)
#define V_STORE(p, v) _mm_storeu_pd(p, v)
#define V_SUB(a, b) _mm_sub_pd(a, b)
#define V_ABSDIFF(a, b) _mm_and_pd(_mm_sub_pd(a, b), _mm_castsi128_pd(_mm_set1_epi64x(INT64_MAX)))
#define V_LANE1_TO(v, x) _mm_move_sd(_mm_set1_pd(x), v)
#define V_LANE0_ONLY(x, rest) _mm_move_sd(_mm_set1_pd(rest), _mm_set_sd(x))
static inline double v_get(__m128d v, int i) { return i == 0 ? _mm_cvtsd_f64(v) : _mm_cvtsd_f64(_mm_unpackhi_pd(v, v)); }
#define V_GET(v, i) v_get(v, i)
#define V_SWAP(v) _mm_shuffle_pd(v, v, 1)
#define V_ADD(a, b) _mm_add_pd(a, b)
#define V_MUL(a, b) _mm_mul_pd(a, b)
#define V_SET(x0, x1) _mm_set_pd(x1, x0)
#define V_TRUNC(v, i) _mm_cvtsi128_si32(_mm_srli_si128(_mm_cvttpd_epi32(v), 4 * (i)))
typedef __m128i vc;
#define C_ZERO() _mm_setzero_si128()
#define C_ADD_LT(acc, a, b) _mm_sub_epi64(acc, _mm_castpd_si128(_mm_cmplt_pd(a, b)))
#define C_SUM(acc) ((int32_t)(_mm_cvtsi128_si32(acc) + _mm_cvtsi128_si32(_mm_unpackhi_epi64(acc, acc))))
#else
/* Any other target: GCC/Clang vector extensions, lane-wise selects. */
typedef double vd __attribute__((vector_size(16)));
typedef int64_t vi __attribute__((vector_size(16)));
static inline vd v_sel(vi m, vd a, vd b) { return (vd)((m & (vi)a) | (~m & (vi)b)); }
#define PMIN(a, b) v_sel((b) < (a), b, a)
#define PMAX(a, b) v_sel((a) < (b), b, a)
#define V_SPLAT(x) ((vd){x, x})
static inline vd v_load(const double *p) { vd v; __builtin_memcpy(&v, p, 16); return v; }
static inline void v_store(double *p, vd v) { __builtin_memcpy(p, &v, 16); }
#define V_LOAD(p) v_load(p)
#define V_STORE(p, v) v_store(p, v)
static inline vd v_absdiff(vd a, vd b) { vd d = a - b; return (vd)((vi)d & (vi){INT64_MAX, INT64_MAX}); }
#define V_SUB(a, b) ((a) - (b))
#define V_ABSDIFF(a, b) v_absdiff(a, b)
#define V_LANE1_TO(v, x) ((vd){(v)[0], x})
#define V_LANE0_ONLY(x, rest) ((vd){x, rest})
#define V_GET(v, i) ((v)[i])
#define V_SWAP(v) ((vd){(v)[1], (v)[0]})
#define V_ADD(a, b) ((a) + (b))
#define V_MUL(a, b) ((a) * (b))
#define V_SET(x0, x1) ((vd){x0, x1})
#define V_TRUNC(v, i) ((int32_t)(v)[i])
typedef vi vc;
#define C_ZERO() ((vi){0, 0})
#define C_ADD_LT(acc, a, b) ((acc) - (vi)((a) < (b)))
#define C_SUM(acc) ((int32_t)((acc)[0] + (acc)[1]))
#endif
/* Natively on x86-64, the k = 3 near-pair pass and the marginal counts' windows also in 4 lanes
   (AVX2: nearPairs3Avx2, farRingsAvx2), taken where the processor has it (Scratch.avx2); the
   rest of the file stays baseline x86-64. Min/max, compares and counts only: the same bits. */
#if defined(__x86_64__) || defined(_M_X64)
#define KSG_AVX2 1
#include <immintrin.h>
#define AVX2 __attribute__((target("avx2,popcnt")))
typedef __m256d wd;
#else
#define KSG_AVX2 0
#endif
#define WINDOW 8
#define GUARD (WINDOW + 1)

/** A prepared column; the layout is mirrored by ksgWasm.ts (COL_* offsets). */
typedef struct Col {
  int32_t n;
  int32_t maxRun;
  double min;
  double scale;
  /* The raw values are not kept: value of sample s = sorted[rank[s]] (saves 8 S bytes). */
  const double *guarded; /* sorted = guarded + GUARD */
  const int32_t *order;
  const int32_t *rank;
  const int32_t *groupStart; /* 0 when all values are distinct */
  const int32_t *groupEnd;
  const int32_t *bucketStart;
} Col;

#ifdef __wasm__
/* ksgWasm.ts writes the header at these offsets (wasm32 pointers are 4 bytes). */
_Static_assert(sizeof(Col) == 48, "Col layout");
_Static_assert(__builtin_offsetof(Col, guarded) == 24, "Col layout");
#endif

typedef struct Scratch {
  int32_t n, k, G;
  double *xs, *ys;
  int32_t *sample, *cursor;
  double *best, *eps;
  int32_t *nx, *ny;
  const double *psi;
  int32_t *cellStart;
  /* the points whose search goes past the 3 x 3 block, and their cells (markFar, farRings) */
  int32_t *far, *farCell, nFar;
  double *bestAll;
  /* farRings: each point's guide position for the lower end of its x and y windows */
  int32_t *lowX, *lowY;
  /* Bands per axis of the default grid (a crowded pair's is up to MAX_REFINE times finer);
     gridLayout: the next free position of each column, the first rank of each band; the band
     bounds of x and y; the term of each sample. */
  int32_t grid;
  int32_t *colCursor, *bandStart;
  double *xLo, *xHi, *yLo, *yHi;
  double *term;
  /* 1: the `mixed` estimator (ksgKernel.ts mixedTerms); zero[s] = 1 where eps of sample s is 0. */
  int32_t mixed;
  uint8_t *zero;
#if KSG_AVX2
  /* 1: nearPairs3Avx2 and farRingsAvx2 (native/ksgNative.c sets it per pair where the
     processor has AVX2) */
  int32_t avx2;
#endif
} Scratch;

/** Finest grid refinement of a crowded pair: up to MAX_REFINE x G bands per axis. */
#define MAX_REFINE 4
/** Refine when a point shares its cell with more than REFINE_AT times the points it would
    if x and y were independent. */
#define REFINE_AT 2
/** The default grid: GRID_FACTOR x ksgKernel.ts's bands per axis, about 3.5 points a cell. */
#define GRID_FACTOR 0.75
/** nearPairs3's lists per point: n and 4 after the last (which its branch-free tails update). */
#define NEAR_STRIDE(n) ((n) + 4)

#ifdef __wasm__
extern unsigned char __heap_base;
static uintptr_t heapTop = 0;

/** Allocates `bytes` (16-aligned) from linear memory, growing it; 0 when memory is exhausted. */
EXPORT("mem_alloc") void *mem_alloc(uint32_t bytes) {
  if (heapTop == 0) heapTop = (uintptr_t)&__heap_base;
  uintptr_t p = (heapTop + 15) & ~(uintptr_t)15;
  uint64_t end = (uint64_t)p + bytes;
  uint64_t have = (uint64_t)__builtin_wasm_memory_size(0) * 65536;
  if (end > have) {
    uint64_t pages = (end - have + 65535) / 65536;
    if (__builtin_wasm_memory_grow(0, (uintptr_t)pages) == (uintptr_t)-1) return 0;
  }
  heapTop = (uintptr_t)end;
  return (void *)p;
}

/** Frees everything allocated (the memory itself stays). */
EXPORT("mem_reset") void mem_reset(void) { heapTop = (uintptr_t)&__heap_base; }
#define KSG_ALLOC mem_alloc
#else
/* Zeroed or not, 16-aligned, freed with the instance that made it (native/ksgNative.c). */
static void *ksg_alloc(uint32_t bytes);
#define KSG_ALLOC ksg_alloc
#endif

/** Bands per axis of this kernel's default grid: at most n, and MAX_REFINE x it fits 16 bits. */
static int32_t cGridSize(int32_t n) {
  int32_t g = (int32_t)__builtin_floor(GRID_FACTOR * __builtin_sqrt((double)n / 2) + 0.5);
  if (g > 65535 / MAX_REFINE) g = 65535 / MAX_REFINE;
  return g < 1 ? 1 : g > n ? n : g;
}

static int32_t gridSize(int32_t n) {
  double g = __builtin_sqrt((double)n / 2);
  /* Math.round: floor(x + 0.5) for positive x */
  int32_t r = (int32_t)__builtin_floor(g + 0.5);
  if (r > 65535) r = 65535;
  return r < 1 ? 1 : r;
}

/**
 * Scratch buffers for n samples and k neighbours; psi must hold psi(0..n). mixed = 1: the
 * tie-aware estimator, 0: KSG-1.
 */
EXPORT("scratch_new") Scratch *scratch_new(int32_t n, int32_t k, const double *psi,
                                           int32_t mixed) {
  Scratch *sc = (Scratch *)KSG_ALLOC(sizeof(Scratch));
  if (sc == 0) return 0;
  sc->n = n;
  sc->k = k;
  sc->mixed = mixed != 0;
#if KSG_AVX2
  sc->avx2 = 0;
#endif
  sc->zero = (uint8_t *)KSG_ALLOC(mixed != 0 ? (uint32_t)n : 0u);
  sc->G = gridSize(n);
  /* + 5: the entry before the first and the 4 after the last point, which the SIMD passes may
     load (and ignore): -inf and +inf, infinitely far from every point */
  sc->xs = (double *)KSG_ALLOC(8u * (n + 5)) + 1;
  sc->ys = (double *)KSG_ALLOC(8u * (n + 5)) + 1;
  if (sc->ys == 0) return 0;
  sc->xs[-1] = sc->ys[-1] = -__builtin_inf();
  for (int32_t i = n; i < n + 4; i++) sc->xs[i] = sc->ys[i] = __builtin_inf();
  sc->sample = (int32_t *)KSG_ALLOC(4u * n);
  sc->cursor = (int32_t *)KSG_ALLOC(4u * n);
  sc->best = (double *)KSG_ALLOC(8u * k);
  sc->eps = (double *)KSG_ALLOC(8u * n);
  sc->nx = (int32_t *)KSG_ALLOC(4u * n);
  sc->ny = (int32_t *)KSG_ALLOC(4u * n);
  sc->psi = psi;
  sc->grid = cGridSize(n);
  uint32_t G2 = (uint32_t)sc->grid * MAX_REFINE;
  sc->cellStart = (int32_t *)KSG_ALLOC(4u * (G2 * G2 + 1));
  sc->lowX = (int32_t *)KSG_ALLOC(4u * n);
  sc->lowY = (int32_t *)KSG_ALLOC(4u * n);
  sc->colCursor = (int32_t *)KSG_ALLOC(4u * G2);
  sc->bandStart = (int32_t *)KSG_ALLOC(4u * (G2 + 1));
  sc->xLo = (double *)KSG_ALLOC(8u * (G2 + 2)) + 1;
  sc->xHi = (double *)KSG_ALLOC(8u * (G2 + 2)) + 1;
  sc->yLo = (double *)KSG_ALLOC(8u * (G2 + 2)) + 1;
  sc->yHi = (double *)KSG_ALLOC(8u * (G2 + 2)) + 1;
  sc->term = (double *)KSG_ALLOC(8u * n);
  sc->far = (int32_t *)KSG_ALLOC(4u * n);
  sc->farCell = (int32_t *)KSG_ALLOC(4u * n);
  sc->bestAll = (double *)KSG_ALLOC(8u * (k == 3 ? 3 * NEAR_STRIDE(n) : n * k));
  if (sc->bestAll == 0) return 0;
  return sc;
}

/* floor((u - min) * scale) clamped to [0, n - 1]: clamped as a double first, then truncated
   (which is floor for t >= 0, and cheaper than floor without SSE4.1). */
static inline int32_t bucketOf(double u, double min, double scale, int32_t n) {
  double t = (u - min) * scale;
  double top = (double)(n - 1);
  t = t < top ? t : top;
  t = t > 0 ? t : 0;
  return (int32_t)t;
}

static inline double fabs_(double v) { return __builtin_fabs(v); }
static inline double smin(double a, double b) { return b < a ? b : a; }
static inline double smax(double a, double b) { return a < b ? b : a; }
static inline double max_(double a, double b) { return a > b ? a : b; }

static void layout(const Col *X, const Col *Y, Scratch *sc) {
  int32_t n = X->n;
  double *xs = sc->xs, *ys = sc->ys;
  int32_t *sample = sc->sample;
  const double *xSorted = X->guarded + GUARD;
  const int32_t *gs = X->groupStart;
  if (gs == 0) {
    const int32_t *xOrder = X->order;
    const double *ySorted = Y->guarded + GUARD;
    const int32_t *yRank = Y->rank;
    for (int32_t i = 0; i < n; i++) {
      int32_t s = xOrder[i];
      int32_t t = yRank[s];
      xs[i] = xSorted[i];
      ys[i] = ySorted[t];
      sample[i] = s;
    }
    return;
  }
  int32_t *cursor = sc->cursor;
  for (int32_t i = 0; i < n; i++) cursor[i] = gs[i];
  const int32_t *xRank = X->rank;
  const int32_t *yOrder = Y->order;
  const double *ySorted = Y->guarded + GUARD;
  for (int32_t t = 0; t < n; t++) {
    int32_t s = yOrder[t];
    int32_t g = gs[xRank[s]];
    int32_t pos = cursor[g]++;
    xs[pos] = xSorted[pos];
    ys[pos] = ySorted[t];
    sample[pos] = s;
  }
}

/** The other positions holding the value at sorted position self (its tie run less itself). */
static inline int32_t exactTies(const Col *C, int32_t self) {
  if (C->groupStart == 0 || C->groupEnd == 0) return 0;
  return C->groupEnd[self] - C->groupStart[self] - 1;
}

static int32_t countWithinSearch(const Col *C, int32_t self, double v, double eps) {
  if (!(eps > 0)) return exactTies(C, self);
  const double *sorted = C->guarded + GUARD;
  int32_t n = C->n;
  int32_t g = C->bucketStart[bucketOf(v + eps, C->min, C->scale, n) + 1] - 1;
  if (g < self) g = self;
  int32_t lo, hi;
  if (sorted[g] - v < eps) {
    lo = g;
    hi = g + 1;
    int32_t step = 1;
    while (hi < n && sorted[hi] - v < eps) {
      lo = hi;
      step <<= 1;
      hi = g + step;
    }
    if (hi > n) hi = n;
  } else {
    hi = g;
    lo = g - 1;
    int32_t step = 1;
    while (lo > self && !(sorted[lo] - v < eps)) {
      hi = lo;
      step <<= 1;
      lo = g - step;
    }
    if (lo < self) lo = self;
  }
  while (hi - lo > 1) {
    int32_t mid = (int32_t)(((uint32_t)lo + (uint32_t)hi) >> 1);
    if (sorted[mid] - v < eps) lo = mid;
    else hi = mid;
  }
  int32_t upper = lo;
  g = C->bucketStart[bucketOf(v - eps, C->min, C->scale, n)];
  if (g > self) g = self;
  if (v - sorted[g] < eps) {
    hi = g;
    lo = g - 1;
    int32_t step = 1;
    while (lo >= 0 && v - sorted[lo] < eps) {
      hi = lo;
      step <<= 1;
      lo = g - step;
    }
    if (lo < -1) lo = -1;
  } else {
    lo = g;
    hi = g + 1;
    int32_t step = 1;
    while (hi < self && !(v - sorted[hi] < eps)) {
      lo = hi;
      step <<= 1;
      hi = g + step;
    }
    if (hi > self) hi = self;
  }
  while (hi - lo > 1) {
    int32_t mid = (lo + hi) >> 1;
    if (v - sorted[mid] < eps) hi = mid;
    else lo = mid;
  }
  return upper - hi;
}

/**
 * countWithin from the guide's positions gu = bucketStart[bucketOf(v + eps)] and
 * gl = bucketStart[bucketOf(v - eps) + 1] - 1, eps > 0; -1 when a window misses its run's end
 * (countWithinSearch counts then).
 */
static inline int32_t countGuided(const Col *C, double v, double eps, int32_t gu, int32_t gl) {
  /* cu = #{i <= WINDOW: sorted[gu - 1 + i] - v < eps}, a prefix of the window's entries, and
     cl = #{i <= WINDOW: v - sorted[gl - WINDOW + i] < eps}, a suffix: each window holds its
     run's end (and the count is exact) when it starts inside the run and ends outside it. */
  const double *wu = C->guarded + GUARD + gu - 1, *wl = C->guarded + GUARD + gl - WINDOW;
  vd vv = V_SPLAT(v), ve = V_SPLAT(eps);
  vc up = C_ZERO(), low = C_ZERO();
  for (int32_t i = 0; i < WINDOW + 2; i += 2) {
    up = C_ADD_LT(up, V_SUB(V_LOAD(wu + i), vv), ve);
    low = C_ADD_LT(low, V_SUB(vv, V_LOAD(wl + i)), ve);
  }
  int32_t cu = C_SUM(up), cl = C_SUM(low);
  if ((uint32_t)(cu - 1) <= WINDOW && (uint32_t)(cl - 1) <= WINDOW) return gu - gl + cu + cl - 4;
  return -1;
}

#if KSG_AVX2
/** countGuided with AVX2: each window's 10 entries in 4 + 4 + 2 lanes, counted by popcount. */
static inline __attribute__((always_inline)) AVX2 int32_t countGuidedAvx2(const Col *C, double v,
                                                                          double eps, int32_t gu,
                                                                          int32_t gl) {
  const double *wu = C->guarded + GUARD + gu - 1, *wl = C->guarded + GUARD + gl - WINDOW;
  wd vv = _mm256_set1_pd(v), ve = _mm256_set1_pd(eps);
#define LT4(a) _mm256_movemask_pd(_mm256_cmp_pd(a, ve, _CMP_LT_OQ))
#define LT2(a) _mm_movemask_pd(_mm_cmplt_pd(a, _mm256_castpd256_pd128(ve)))
  __m128d v2 = _mm256_castpd256_pd128(vv);
  int32_t cu = __builtin_popcount(
      (uint32_t)(LT4(_mm256_sub_pd(_mm256_loadu_pd(wu), vv)) |
                 LT4(_mm256_sub_pd(_mm256_loadu_pd(wu + 4), vv)) << 4 |
                 LT2(_mm_sub_pd(_mm_loadu_pd(wu + 8), v2)) << 8));
  int32_t cl = __builtin_popcount(
      (uint32_t)(LT4(_mm256_sub_pd(vv, _mm256_loadu_pd(wl))) |
                 LT4(_mm256_sub_pd(vv, _mm256_loadu_pd(wl + 4))) << 4 |
                 LT2(_mm_sub_pd(v2, _mm_loadu_pd(wl + 8))) << 8));
#undef LT4
#undef LT2
  if ((uint32_t)(cu - 1) <= WINDOW && (uint32_t)(cl - 1) <= WINDOW) return gu - gl + cu + cl - 4;
  return -1;
}
#endif

typedef int32_t CountGuided(const Col *C, double v, double eps, int32_t gu, int32_t gl);

static inline int32_t countWithin(const Col *C, int32_t self, double v, double eps) {
  if (!(eps > 0)) return exactTies(C, self);
  const int32_t *guide = C->bucketStart;
  int32_t c = countGuided(C, v, eps, guide[bucketOf(v + eps, C->min, C->scale, C->n)],
                          guide[bucketOf(v - eps, C->min, C->scale, C->n) + 1] - 1);
  return c >= 0 ? c : countWithinSearch(C, self, v, eps);
}

static inline double offer(double *best, int32_t k, double d) {
  int32_t j = k - 1;
  while (j > 0 && best[j - 1] > d) {
    best[j] = best[j - 1];
    j--;
  }
  best[j] = d;
  return best[k - 1];
}

static inline double offerAt(double *best, int32_t k, double d) {
  if (k == 3) {
    double b1 = best[1];
    if (d < b1) {
      double b0 = best[0];
      best[2] = b1;
      if (d < b0) {
        best[1] = b0;
        best[0] = d;
      } else {
        best[1] = d;
      }
    } else {
      best[2] = d;
    }
    return best[2];
  }
  return offer(best, k, d);
}

/**
 * The 3 smallest of two lane-wise lists p0 <= p1 <= p2 (a list per lane) into m[0..2]: the i-th
 * smallest of two ascending lists A, C is the least max(A[a - 1], C[c - 1]) over a + c = i.
 */
static inline void merge3(vd p0, vd p1, vd p2, double *m) {
  vd s0 = V_SWAP(p0), s1 = V_SWAP(p1), s2 = V_SWAP(p2);
  m[0] = V_GET(PMIN(p0, s0), 0);
  m[1] = V_GET(PMIN(PMIN(p1, s1), PMAX(p0, s0)), 0);
  m[2] = V_GET(PMIN(PMIN(p2, s2), PMIN(PMAX(p1, s0), PMAX(p0, s1))), 0);
}

static void knnDistinct(const Col *A, Scratch *sc) {
  int32_t n = sc->n, k = sc->k;
  const double *xs = sc->xs, *ys = sc->ys;
  double *best = sc->best, *eps = sc->eps;
  int32_t *nx = sc->nx;
  for (int32_t i = 0; i < n; i++) {
    double xp = xs[i], yp = ys[i];
    for (int32_t j = 0; j < k; j++) best[j] = __builtin_inf();
    double kth = __builtin_inf();
    int32_t r0 = i + k < n - 1 ? i + k : n - 1;
    int32_t l0 = i - k > 0 ? i - k : 0;
    for (int32_t q = l0; q <= r0; q++) {
      if (q == i) continue;
      double dx = xs[q] - xp;
      if (dx < 0) dx = -dx;
      double dy = ys[q] - yp;
      if (dy < 0) dy = -dy;
      double d = dx > dy ? dx : dy;
      if (d < kth) kth = offer(best, k, d);
    }
    int32_t r = r0 + 1, l = l0 - 1;
    if (k == 3) {
      /* Outward two points at a time, branch-free but for the end (as offer3): lane 0 starts
         with the window's 3 best, lane 1 empty, and the smaller 3rd distance of the two lanes
         bounds their union's from above, so stopping on it is exact. A pair may reach one
         point past the end (+inf padding on either side, or a point the counts skip). */
      const double inf = __builtin_inf();
      vd vx = V_SPLAT(xp), vy = V_SPLAT(yp);
      vd p0 = V_LANE0_ONLY(best[0], inf), p1 = V_LANE0_ONLY(best[1], inf),
         p2 = V_LANE0_ONLY(best[2], inf);
      for (; r < n && xs[r] - xp < kth; r += 2) {
        vd d = PMAX(V_SUB(V_LOAD(xs + r), vx), V_ABSDIFF(V_LOAD(ys + r), vy));
        p2 = PMAX(PMIN(p2, d), p1);
        p1 = PMAX(PMIN(p1, d), p0);
        p0 = PMIN(p0, d);
        kth = smin(V_GET(p2, 0), V_GET(p2, 1));
      }
      for (; l >= 0 && xp - xs[l] < kth; l -= 2) {
        vd d = PMAX(V_SUB(vx, V_LOAD(xs + l - 1)), V_ABSDIFF(V_LOAD(ys + l - 1), vy));
        p2 = PMAX(PMIN(p2, d), p1);
        p1 = PMAX(PMIN(p1, d), p0);
        p0 = PMIN(p0, d);
        kth = smin(V_GET(p2, 0), V_GET(p2, 1));
      }
      double m[3];
      merge3(p0, p1, p2, m);
      kth = m[2];
      r = r < n ? r : n;
      l = l > -1 ? l : -1;
    } else {
      for (; r < n; r++) {
        double dx = xs[r] - xp;
        if (dx >= kth) break;
        double dy = ys[r] - yp;
        if (dy < 0) dy = -dy;
        if (dy < kth) kth = offer(best, k, dx > dy ? dx : dy);
      }
      for (; l >= 0; l--) {
        double dx = xp - xs[l];
        if (dx >= kth) break;
        double dy = ys[l] - yp;
        if (dy < 0) dy = -dy;
        if (dy < kth) kth = offer(best, k, dx > dy ? dx : dy);
      }
    }
    eps[i] = kth;
    nx[i] = countWithin(A, i, xp, kth);
  }
}

/** Runs of more than LONG_RUN equal x values are walked by y (knnTies); shorter ones are scanned. */
#define LONG_RUN 8

/** Offers d to the lane-wise lists p0 <= p1 <= p2 in lane 0 (lane 1 offered +inf). */
static inline void offer1(vd *p0, vd *p1, vd *p2, double d) {
  vd dv = V_LANE0_ONLY(d, __builtin_inf());
  *p2 = PMAX(PMIN(*p2, dv), *p1);
  *p1 = PMAX(PMIN(*p1, dv), *p0);
  *p0 = PMIN(*p0, dv);
}

/** The k-th distance bound of lane-wise lists: the smaller 3rd distance of the two lanes. */
static inline double kth3(vd p2) { return smin(V_GET(p2, 0), V_GET(p2, 1)); }

/**
 * Offers the points of the long run [s, e) of x (sorted by y within it, dx from the point)
 * that can be nearer than kth: outward in y from the point's y (as knnTies).
 */
static inline void walkRun3(const double *ys, int32_t s, int32_t e, double dx, double yp,
                            vd *p0, vd *p1, vd *p2) {
  int32_t split = s, hi2 = e;
  while (split < hi2) {
    int32_t mid = (int32_t)(((uint32_t)split + (uint32_t)hi2) >> 1);
    if (ys[mid] < yp) split = mid + 1;
    else hi2 = mid;
  }
  double kth = kth3(*p2);
  for (int32_t q = split; q < e; q++) {
    double dy = ys[q] - yp;
    if (dy >= kth) break;
    offer1(p0, p1, p2, dx > dy ? dx : dy);
    kth = kth3(*p2);
  }
  for (int32_t q = split - 1; q >= s; q--) {
    double dy = yp - ys[q];
    if (dy >= kth) break;
    offer1(p0, p1, p2, dx > dy ? dx : dy);
    kth = kth3(*p2);
  }
}

/**
 * knnTies for k = 3 and a point i outside the long runs of x (its own run has at most
 * LONG_RUN points): as knnDistinct, the window of i +- 3 then outward two points at a time
 * while the x gap is below the 3rd distance, the points of short runs scanned as any others;
 * a long run met on the way is walked by y (walkRun3) and the scan goes on past it.
 * longStart/longEnd: the long runs, ascending; j: the first that starts after i. Sets eps[i]
 * and nx[i].
 */
static void tiesPoint3(const Col *A, Scratch *sc, const int32_t *longStart,
                       const int32_t *longEnd, int32_t nLong, int32_t j, int32_t i) {
  int32_t n = sc->n;
  const double *xs = sc->xs, *ys = sc->ys;
  const double inf = __builtin_inf();
  double xp = xs[i], yp = ys[i];
  vd vx = V_SPLAT(xp), vy = V_SPLAT(yp);
  vd p0 = V_SPLAT(inf), p1 = p0, p2 = p0;
  /* the short runs around i: [limL, limR) */
  int32_t limL = j > 0 ? longEnd[j - 1] : 0, limR = j < nLong ? longStart[j] : n;
  int32_t l0 = i - 3 > limL ? i - 3 : limL, r0 = i + 3 < limR - 1 ? i + 3 : limR - 1;
  for (int32_t q = l0; q <= r0; q++) {
    if (q == i) continue;
    double d = max_(fabs_(xs[q] - xp), fabs_(ys[q] - yp));
    offer1(&p0, &p1, &p2, d);
  }
  double kth = kth3(p2);
  /* right: pairs while both are before the next long run, then the odd one, then the run */
  int32_t r = r0 + 1, jr = j;
  for (;;) {
    for (; r + 1 < limR && xs[r] - xp < kth; r += 2) {
      vd d = PMAX(V_SUB(V_LOAD(xs + r), vx), V_ABSDIFF(V_LOAD(ys + r), vy));
      p2 = PMAX(PMIN(p2, d), p1);
      p1 = PMAX(PMIN(p1, d), p0);
      p0 = PMIN(p0, d);
      kth = kth3(p2);
    }
    if (r + 1 == limR && xs[r] - xp < kth) {
      offer1(&p0, &p1, &p2, max_(xs[r] - xp, fabs_(ys[r] - yp)));
      kth = kth3(p2);
      r++;
    }
    if (r < limR || r >= n || !(xs[r] - xp < kth)) break;
    walkRun3(ys, r, longEnd[jr], xs[r] - xp, yp, &p0, &p1, &p2);
    kth = kth3(p2);
    r = longEnd[jr++];
    limR = jr < nLong ? longStart[jr] : n;
  }
  /* left, alike: limL is the end of the previous long run */
  int32_t l = l0 - 1, jl = j - 1;
  for (;;) {
    for (; l - 1 >= limL && xp - xs[l] < kth; l -= 2) {
      vd d = PMAX(V_SUB(vx, V_LOAD(xs + l - 1)), V_ABSDIFF(V_LOAD(ys + l - 1), vy));
      p2 = PMAX(PMIN(p2, d), p1);
      p1 = PMAX(PMIN(p1, d), p0);
      p0 = PMIN(p0, d);
      kth = kth3(p2);
    }
    if (l == limL && l >= 0 && xp - xs[l] < kth) {
      offer1(&p0, &p1, &p2, max_(xp - xs[l], fabs_(ys[l] - yp)));
      kth = kth3(p2);
      l--;
    }
    if (l >= limL || l < 0 || !(xp - xs[l] < kth)) break;
    walkRun3(ys, longStart[jl], l + 1, xp - xs[l], yp, &p0, &p1, &p2);
    kth = kth3(p2);
    l = longStart[jl--] - 1;
    limL = jl >= 0 ? longEnd[jl] : 0;
  }
  double m[3];
  merge3(p0, p1, p2, m);
  sc->eps[i] = m[2];
  /* the scans ran on with a looser bound than eps: n_x from the guide (position = x's rank) */
  sc->nx[i] = countWithin(A, i, xp, m[2]);
}

static void knnTies(const Col *A, Scratch *sc) {
  const int32_t *gsArr = A->groupStart, *geArr = A->groupEnd;
  int32_t n = sc->n, k = sc->k;
  const double *xs = sc->xs, *ys = sc->ys;
  double *best = sc->best, *eps = sc->eps;
  int32_t *nx = sc->nx;
  const double inf = __builtin_inf();
  /* k = 3: the long runs of x, for tiesPoint3 (lowX, lowY are free outside the grid path) */
  int32_t *longStart = sc->lowX, *longEnd = sc->lowY, nLong = 0, next = 0;
  if (k == 3)
    for (int32_t s = 0; s < n; s = geArr[s])
      if (geArr[s] - s > LONG_RUN) {
        longStart[nLong] = s;
        longEnd[nLong++] = geArr[s];
      }
  for (int32_t i = 0; i < n; i++) {
    double xp = xs[i], yp = ys[i];
    int32_t g0 = gsArr[i], g1 = geArr[i];
    if (k == 3 && g1 - g0 <= LONG_RUN) {
      while (next < nLong && longStart[next] <= i) next++;
      tiesPoint3(A, sc, longStart, longEnd, nLong, next, i);
      continue;
    }
    for (int32_t j = 0; j < k; j++) best[j] = inf;
    double kth = inf;
    int32_t a = i - 1, b = i + 1;
    for (;;) {
      double da = a >= g0 ? yp - ys[a] : inf;
      double db = b < g1 ? ys[b] - yp : inf;
      if (da <= db) {
        if (da >= kth) break;
        kth = offer(best, k, da);
        a--;
      } else {
        if (db >= kth) break;
        kth = offer(best, k, db);
        b++;
      }
    }
    int32_t l = g0 - 1, r = g1;
    for (;;) {
      double dl = l >= 0 ? xp - xs[l] : inf;
      double dr = r < n ? xs[r] - xp : inf;
      int32_t s, e;
      double dx;
      if (dl <= dr) {
        if (dl >= kth) break;
        s = gsArr[l];
        e = l + 1;
        dx = dl;
        l = s - 1;
      } else {
        if (dr >= kth) break;
        s = r;
        e = geArr[r];
        dx = dr;
        r = e;
      }
      if (e - s == 1) {
        /* a run of one (most runs, beside a long one): what the two walks below do for it */
        double dy = __builtin_fabs(ys[s] - yp);
        if (dy < kth) kth = offer(best, k, dx > dy ? dx : dy);
        continue;
      }
      int32_t split = s;
      if (e - s > 8) {
        int32_t hi2 = e;
        while (split < hi2) {
          int32_t mid = (int32_t)(((uint32_t)split + (uint32_t)hi2) >> 1);
          if (ys[mid] < yp) split = mid + 1;
          else hi2 = mid;
        }
      } else {
        while (split < e && ys[split] < yp) split++;
      }
      for (int32_t q = split; q < e; q++) {
        double dy = ys[q] - yp;
        if (dy >= kth) break;
        double d = dx > dy ? dx : dy;
        if (d < kth) kth = offer(best, k, d);
      }
      for (int32_t q = split - 1; q >= s; q--) {
        double dy = yp - ys[q];
        if (dy >= kth) break;
        double d = dx > dy ? dx : dy;
        if (d < kth) kth = offer(best, k, d);
      }
    }
    eps[i] = kth;
    if (kth > 0) {
      int32_t lo = l + 1;
      while (lo < g0 && xp - xs[lo] >= kth) lo = geArr[lo];
      int32_t hi = r - 1;
      while (hi >= g1 && xs[hi] - xp >= kth) hi = gsArr[hi] - 1;
      nx[i] = hi - lo;
    } else {
      nx[i] = g1 - g0 - 1; /* eps = 0: the exact ties of x */
    }
  }
}

/**
 * n_y of every point of the sorted sweep, visiting the points in y's sorted order: the sorted
 * values, the guide and the windows are then read nearly in sequence instead of at random
 * (the sweep's points are in x order), which keeps them in the nearest cache. The same
 * countWithin calls as point by point, so the same counts.
 */
static void countY(const Col *Y, Scratch *sc) {
  int32_t n = sc->n;
  int32_t *posOf = sc->cursor; /* free after layout: posOf[sample] = point position */
  for (int32_t p = 0; p < n; p++) posOf[sc->sample[p]] = p;
  const int32_t *order = Y->order;
  const double *sorted = Y->guarded + GUARD, *eps = sc->eps;
  for (int32_t t = 0; t < n; t++) {
    int32_t p = posOf[order[t]];
    sc->ny[p] = countWithin(Y, t, sorted[t], eps[p]);
  }
}

static inline double scanCells(const double *xs, const double *ys, double *best, int32_t k,
                               int32_t p, double xp, double yp, double kth, int32_t from,
                               int32_t to) {
  for (int32_t q = from; q < to; q++) {
    double d = max_(fabs_(xs[q] - xp), fabs_(ys[q] - yp));
    if (d < kth && q != p) kth = offer(best, k, d);
  }
  return kth;
}

/** Band bounds of the grid: the smallest and largest value of each band, per axis. */
typedef struct Bands {
  int32_t G;
  const double *xLo, *xHi, *yLo, *yHi;
} Bands;

/** The inner edges of ring 2 around cell (bx, by), infinitely far where the grid ends. */
typedef struct Ring2 {
  double x0, x1, y0, y1;
  int32_t cell; /* bx << 16 | by */
} Ring2;

static inline Ring2 ring2(const Bands *B, int32_t bx, int32_t by) {
  const double inf = __builtin_inf();
  int32_t G = B->G;
  Ring2 r = {bx >= 2 ? B->xHi[bx - 2] : -inf, bx + 2 < G ? B->xLo[bx + 2] : inf,
             by >= 2 ? B->yHi[by - 2] : -inf, by + 2 < G ? B->yLo[by + 2] : inf, bx << 16 | by};
  return r;
}

/**
 * Lists p (without a branch) among the points whose k-th distance within the 3 x 3 block, kth,
 * is not certified: a point outside the block may be nearer (farRings searches further).
 */
static inline void markFar(Scratch *sc, const Ring2 *r, int32_t p, double kth) {
  double xp = sc->xs[p], yp = sc->ys[p];
  double gap = smin(smin(xp - r->x0, r->x1 - xp), smin(yp - r->y0, r->y1 - yp));
  sc->far[sc->nFar] = p;
  sc->farCell[sc->nFar] = r->cell;
  sc->nFar += gap < kth;
}

static void nearPairs(Scratch *sc, const Bands *B) {
  int32_t n = sc->n, k = sc->k, G = B->G;
  const double *xs = sc->xs, *ys = sc->ys;
  const int32_t *cellStart = sc->cellStart;
  double *bestAll = sc->bestAll, *kthAll = sc->eps;
  const double inf = __builtin_inf();
  for (int32_t i = 0; i < n * k; i++) bestAll[i] = inf;
  for (int32_t i = 0; i < n; i++) kthAll[i] = inf;
  sc->nFar = 0;
  for (int32_t bx = 0; bx < G; bx++) {
    int32_t nextCol = bx + 1 < G ? (bx + 1) * G : -1;
    for (int32_t by = 0; by < G; by++) {
      int32_t cell = bx * G + by;
      int32_t end = cellStart[cell + 1];
      int32_t upEnd = cellStart[by + 1 < G ? cell + 2 : cell + 1];
      int32_t rFrom = nextCol < 0 ? 0 : cellStart[nextCol + (by > 0 ? by - 1 : 0)];
      int32_t rTo = nextCol < 0 ? 0 : cellStart[nextCol + (by + 2 <= G ? by + 2 : G)];
      Ring2 r = ring2(B, bx, by);
      for (int32_t p = cellStart[cell]; p < end; p++) {
        double xp = xs[p], yp = ys[p];
        double kp = kthAll[p];
        double *bp = bestAll + (uint32_t)p * k;
        for (int32_t q = p + 1; q < upEnd; q++) {
          double d = max_(fabs_(xs[q] - xp), fabs_(ys[q] - yp));
          if (d < kp) kp = offerAt(bp, k, d);
          if (d < kthAll[q]) kthAll[q] = offerAt(bestAll + (uint32_t)q * k, k, d);
        }
        for (int32_t q = rFrom; q < rTo; q++) {
          double d = max_(fabs_(xs[q] - xp), fabs_(ys[q] - yp));
          if (d < kp) kp = offerAt(bp, k, d);
          if (d < kthAll[q]) kthAll[q] = offerAt(bestAll + (uint32_t)q * k, k, d);
        }
        kthAll[p] = kp;
        markFar(sc, &r, p, kp);
      }
    }
  }
}

/**
 * nearPairs for k = 3, branch-free and two (SSE2, simd128) or four (AVX2) points at a time. The
 * 3 best of every point are kept structure-of-arrays (b0 = bestAll[0..n], b1, b2, NEAR_STRIDE
 * apart), so the updates of q, q + 1, ... are one vector min/max network; p's own 3 best are
 * kept as lane-wise lists (one per lane) merged at the end (merge3). Inserting a d that is not
 * below the 3rd best changes nothing, so every list ends with exactly the 3 smallest distances
 * offered, as in nearPairs. Distances are max-norms of float64 differences (never NaN, never
 * -0), so pmin/pmax are exact min/max. Also lists the points to search further (markFar).
 */
static void nearPairs3(Scratch *sc, const Bands *B) {
  int32_t n = sc->n, G = B->G;
  const double *xs = sc->xs, *ys = sc->ys;
  const int32_t *cellStart = sc->cellStart;
  double *b0 = sc->bestAll, *b1 = b0 + NEAR_STRIDE(n), *b2 = b1 + NEAR_STRIDE(n);
  double *kthAll = sc->eps;
  const double inf = __builtin_inf();
  /* 0 or +inf: added to a tail distance, masks the tail past the end of its range */
  static const double mask[2] = {0, __builtin_inf()};
  for (int32_t i = 0; i < NEAR_STRIDE(n) * 3; i++) b0[i] = inf;
  sc->nFar = 0;
  for (int32_t bx = 0; bx < G; bx++) {
    int32_t nextCol = bx + 1 < G ? (bx + 1) * G : -1;
    for (int32_t by = 0; by < G; by++) {
      int32_t cell = bx * G + by;
      int32_t end = cellStart[cell + 1];
      int32_t upEnd = cellStart[by + 1 < G ? cell + 2 : cell + 1];
      int32_t rFrom = nextCol < 0 ? 0 : cellStart[nextCol + (by > 0 ? by - 1 : 0)];
      int32_t rTo = nextCol < 0 ? 0 : cellStart[nextCol + (by + 2 <= G ? by + 2 : G)];
      Ring2 r = ring2(B, bx, by);
      for (int32_t p = cellStart[cell]; p < end; p++) {
        double xp = xs[p], yp = ys[p];
        vd vx = V_SPLAT(xp), vy = V_SPLAT(yp);
        vd p0 = V_SPLAT(b0[p]), p1 = V_SPLAT(b1[p]), p2 = V_SPLAT(b2[p]);
        /* lane 1 starts empty so the merge below does not count p's earlier list twice */
        p0 = V_LANE1_TO(p0, inf);
        p1 = V_LANE1_TO(p1, inf);
        p2 = V_LANE1_TO(p2, inf);
        for (int pass = 0; pass < 2; pass++) {
          int32_t q = pass == 0 ? p + 1 : rFrom;
          int32_t qEnd = pass == 0 ? upEnd : rTo;
          for (; q + 1 < qEnd; q += 2) {
            vd dx = V_ABSDIFF(V_LOAD(xs + q), vx);
            vd dy = V_ABSDIFF(V_LOAD(ys + q), vy);
            vd d = PMAX(dx, dy);
            p2 = PMAX(PMIN(p2, d), p1);
            p1 = PMAX(PMIN(p1, d), p0);
            p0 = PMIN(p0, d);
            vd q0 = V_LOAD(b0 + q), q1 = V_LOAD(b1 + q), q2 = V_LOAD(b2 + q);
            V_STORE(b2 + q, PMAX(PMIN(q2, d), q1));
            V_STORE(b1 + q, PMAX(PMIN(q1, d), q0));
            V_STORE(b0 + q, PMIN(q0, d));
          }
          {
            /* the odd last point, or (q = qEnd, +inf) nothing: branch-free, the count is random */
            double dx = __builtin_fabs(xs[q] - xp), dy = __builtin_fabs(ys[q] - yp);
            double d = smax(dx > dy ? dx : dy, mask[q >= qEnd]);
            vd dv = V_LANE0_ONLY(d, inf);
            p2 = PMAX(PMIN(p2, dv), p1);
            p1 = PMAX(PMIN(p1, dv), p0);
            p0 = PMIN(p0, dv);
            double q0 = b0[q], q1 = b1[q], q2 = b2[q];
            b2[q] = smax(q1, smin(q2, d));
            b1[q] = smax(q0, smin(q1, d));
            b0[q] = smin(q0, d);
          }
        }
        double m[3];
        merge3(p0, p1, p2, m);
        b0[p] = m[0];
        b1[p] = m[1];
        b2[p] = m[2];
        kthAll[p] = m[2];
        markFar(sc, &r, p, m[2]);
      }
    }
  }
}

#if KSG_AVX2
/** The arrays nearPairs3Avx2 reads and updates. */
typedef struct Near3 {
  const double *xs, *ys;
  double *b0, *b1, *b2;
} Near3;

/** Offers d (4 lanes) to p's lane-wise lists p0 <= p1 <= p2 and to the lists of q..q + 3. */
static inline __attribute__((always_inline)) AVX2 void offer4(const Near3 *N, int32_t q, wd d,
                                                              wd *p0, wd *p1, wd *p2) {
  *p2 = _mm256_max_pd(_mm256_min_pd(*p2, d), *p1);
  *p1 = _mm256_max_pd(_mm256_min_pd(*p1, d), *p0);
  *p0 = _mm256_min_pd(*p0, d);
  wd q0 = _mm256_loadu_pd(N->b0 + q), q1 = _mm256_loadu_pd(N->b1 + q);
  wd q2 = _mm256_loadu_pd(N->b2 + q);
  _mm256_storeu_pd(N->b2 + q, _mm256_max_pd(_mm256_min_pd(q2, d), q1));
  _mm256_storeu_pd(N->b1 + q, _mm256_max_pd(_mm256_min_pd(q1, d), q0));
  _mm256_storeu_pd(N->b0 + q, _mm256_min_pd(q0, d));
}

/**
 * The 3 best of point p into m[0..2], from its list so far and the points [from[i], to[i]) of
 * both ranges (the rest of its cell's column, the next column's 3 cells), whose lists it
 * updates in turn, four lanes a step (AVX2).
 */
static inline __attribute__((always_inline)) AVX2 void nearPoint3Avx2(const Near3 *N, int32_t p,
                                                                      const int32_t *from,
                                                                      const int32_t *to,
                                                                      double *m) {
  const double *xs = N->xs, *ys = N->ys;
  const double inf = __builtin_inf();
  const wd infs = _mm256_set1_pd(inf), lane = _mm256_set_pd(3, 2, 1, 0);
  const wd abs = _mm256_castsi256_pd(_mm256_set1_epi64x(INT64_MAX));
  wd vx = _mm256_set1_pd(xs[p]), vy = _mm256_set1_pd(ys[p]);
  /* lanes 1 to 3 start empty */
  wd p0 = _mm256_set_pd(inf, inf, inf, N->b0[p]), p1 = _mm256_set_pd(inf, inf, inf, N->b1[p]);
  wd p2 = _mm256_set_pd(inf, inf, inf, N->b2[p]);
  for (int pass = 0; pass < 2; pass++) {
    int32_t q = from[pass], qEnd = to[pass];
    for (;; q += 4) {
      wd dx = _mm256_and_pd(_mm256_sub_pd(_mm256_loadu_pd(xs + q), vx), abs);
      wd dy = _mm256_and_pd(_mm256_sub_pd(_mm256_loadu_pd(ys + q), vy), abs);
      wd d = _mm256_max_pd(dx, dy);
      if (q + 3 < qEnd) {
        offer4(N, q, d, &p0, &p1, &p2);
        continue;
      }
      /* the last 0 to 3 points: the lanes past the range's end are offered +inf, which changes
         no list (branch-free, the count is random; the padding after the last point and after
         each list takes the lanes past n) */
      wd past = _mm256_cmp_pd(lane, _mm256_set1_pd((double)(qEnd - q)), _CMP_GE_OQ);
      offer4(N, q, _mm256_max_pd(d, _mm256_and_pd(past, infs)), &p0, &p1, &p2);
      break;
    }
  }
  /* the lanes' lists pairwise merged (as merge3) into two, then those */
  __m128d a0 = _mm256_castpd256_pd128(p0), c0 = _mm256_extractf128_pd(p0, 1);
  __m128d a1 = _mm256_castpd256_pd128(p1), c1 = _mm256_extractf128_pd(p1, 1);
  __m128d a2 = _mm256_castpd256_pd128(p2), c2 = _mm256_extractf128_pd(p2, 1);
  merge3(_mm_min_pd(a0, c0), _mm_min_pd(_mm_min_pd(a1, c1), _mm_max_pd(a0, c0)),
         _mm_min_pd(_mm_min_pd(a2, c2), _mm_min_pd(_mm_max_pd(a1, c0), _mm_max_pd(a0, c1))), m);
}

/** nearPairs3 four points at a time (AVX2): the same walk, nearPoint3Avx2 for each point. */
static AVX2 void nearPairs3Avx2(Scratch *sc, const Bands *B) {
  int32_t n = sc->n, G = B->G;
  const int32_t *cellStart = sc->cellStart;
  double *b0 = sc->bestAll;
  Near3 N = {sc->xs, sc->ys, b0, b0 + NEAR_STRIDE(n), b0 + 2 * NEAR_STRIDE(n)};
  for (int32_t i = 0; i < NEAR_STRIDE(n) * 3; i++) b0[i] = __builtin_inf();
  sc->nFar = 0;
  for (int32_t bx = 0; bx < G; bx++) {
    int32_t nextCol = bx + 1 < G ? (bx + 1) * G : -1;
    for (int32_t by = 0; by < G; by++) {
      int32_t cell = bx * G + by, from[2], to[2];
      to[0] = cellStart[by + 1 < G ? cell + 2 : cell + 1];
      from[1] = nextCol < 0 ? 0 : cellStart[nextCol + (by > 0 ? by - 1 : 0)];
      to[1] = nextCol < 0 ? 0 : cellStart[nextCol + (by + 2 <= G ? by + 2 : G)];
      Ring2 r = ring2(B, bx, by);
      for (int32_t p = cellStart[cell]; p < cellStart[cell + 1]; p++) {
        double m[3];
        from[0] = p + 1;
        nearPoint3Avx2(&N, p, from, to, m);
        N.b0[p] = m[0];
        N.b1[p] = m[1];
        N.b2[p] = m[2];
        sc->eps[p] = m[2];
        markFar(sc, &r, p, m[2]);
      }
    }
  }
}
#endif
/**
 * Offers the points [from, to) two at a time to the 3 best kept lane-wise in p0 <= p1 <= p2
 * (each lane a list of its own). An odd last point is loaded with the entry after it (another
 * point, or the +inf padding after the last), whose lane is then set to +inf.
 */
static inline void offer3(const double *xs, const double *ys, int32_t from, int32_t to, vd vx,
                          vd vy, vd *p0, vd *p1, vd *p2) {
  vd a0 = *p0, a1 = *p1, a2 = *p2;
  for (int32_t q = from; q < to; q += 2) {
    vd d = PMAX(V_ABSDIFF(V_LOAD(xs + q), vx), V_ABSDIFF(V_LOAD(ys + q), vy));
    if (q + 1 == to) d = V_LANE1_TO(d, __builtin_inf());
    a2 = PMAX(PMIN(a2, d), a1);
    a1 = PMAX(PMIN(a1, d), a0);
    a0 = PMIN(a0, d);
  }
  *p0 = a0;
  *p1 = a1;
  *p2 = a2;
}

/**
 * The search of one point past the 3 x 3 block: for k = 3 the 3 best in two lane-wise lists
 * (p0 <= p1 <= p2, lane 0 starting with the near pass's 3 best, lane 1 empty; the smaller of
 * the lanes' 3rd distances bounds the 3rd distance of their union from above, so pruning with
 * it is exact), for other k the k best in sc->best (ascending). kth: the k-th distance so far.
 */
typedef struct Search {
  const double *xs, *ys;
  double xp, yp, kth;
  vd vx, vy, p0, p1, p2;
  double *best;
  int32_t k, p;
} Search;

/** Offers the points [from, to) of the grid order to the search. */
static inline void searchRange(Search *s, int32_t from, int32_t to) {
  if (from >= to) return;
  if (s->k == 3) {
    offer3(s->xs, s->ys, from, to, s->vx, s->vy, &s->p0, &s->p1, &s->p2);
    s->kth = smin(V_GET(s->p2, 0), V_GET(s->p2, 1));
  } else {
    s->kth = scanCells(s->xs, s->ys, s->best, s->k, s->p, s->xp, s->yp, s->kth, from, to);
  }
}

/**
 * Grows the searched rectangle of bands [x0, x1] x [y0, y1] (at first the 3 x 3 block around
 * the point's cell) by one band on the side nearest the point in value, while that nearest
 * gap is below the k-th distance. Exact: every point outside the rectangle is at least the
 * smallest gap away. A best-first rectangle rather than square rings: where one axis's bands
 * are much narrower in value than the other's, it grows along that axis only.
 */
static void searchFar(Search *s, const Bands *B, const int32_t *cellStart, int32_t bx,
                      int32_t by) {
  int32_t G = B->G;
  const double *xLo = B->xLo, *xHi = B->xHi, *yLo = B->yLo, *yHi = B->yHi;
  double xp = s->xp, yp = s->yp;
  int32_t x0 = bx > 0 ? bx - 1 : 0, x1 = bx + 1 < G ? bx + 1 : G - 1;
  int32_t y0 = by > 0 ? by - 1 : 0, y1 = by + 1 < G ? by + 1 : G - 1;
  for (;;) {
    /* the gaps to the next band on each side (padded bounds: +inf past the grid's edge) */
    double gl = xp - xHi[x0 - 1], gr = xLo[x1 + 1] - xp;
    double gd = yp - yHi[y0 - 1], gu = yLo[y1 + 1] - yp;
    double gx = smin(gl, gr), gy = smin(gd, gu);
    if (!(smin(gx, gy) < s->kth)) return;
    /* The strip of cells [cx0, cx1] x [cy0, cy1] on that side, chosen without a branch (the
       side is random): a column of y0..y1 or a row of x0..x1. */
    int32_t left = gx <= gy && gl <= gr, right = gx <= gy && !(gl <= gr);
    int32_t down = !(gx <= gy) && gd <= gu, up = !(gx <= gy) && !(gd <= gu);
    x0 -= left;
    x1 += right;
    y0 -= down;
    y1 += up;
    int32_t cx0 = right ? x1 : x0, cx1 = left ? x0 : x1;
    int32_t cy0 = up ? y1 : y0, cy1 = down ? y0 : y1;
    for (int32_t cx = cx0; cx <= cx1; cx++)
      searchRange(s, cellStart[cx * G + cy0], cellStart[cx * G + cy1 + 1]);
  }
}

/**
 * Grid pass 2: points whose k-th distance reaches past the 3 x 3 block continue (searchFar);
 * then eps, n_x and n_y of every point.
 */
static inline __attribute__((always_inline)) void farRingsWith(const Col *X, const Col *Y,
                                                                Scratch *sc, const Bands *B,
                                                                CountGuided *count) {
  int32_t k = sc->k, n = sc->n, nFar = sc->nFar;
  const double *xs = sc->xs, *ys = sc->ys;
  const int32_t *sample = sc->sample, *cellStart = sc->cellStart;
  const int32_t *far = sc->far, *farCell = sc->farCell;
  double *bestAll = sc->bestAll, *eps = sc->eps;
  int32_t *nx = sc->nx, *ny = sc->ny;
  const double inf = __builtin_inf();
  for (int32_t i = 0; i < nFar; i++) {
    int32_t p = far[i];
    double xp = xs[p], yp = ys[p];
    Search s = {xs, ys, xp, yp, eps[p], V_SPLAT(xp), V_SPLAT(yp), V_SPLAT(inf), V_SPLAT(inf),
                V_SPLAT(inf), sc->best, k, p};
    if (k == 3) {
      /* nearPairs3 keeps the 3 best structure-of-arrays */
      s.p0 = V_LANE0_ONLY(bestAll[p], inf);
      s.p1 = V_LANE0_ONLY(bestAll[NEAR_STRIDE(n) + p], inf);
      s.p2 = V_LANE0_ONLY(bestAll[2 * NEAR_STRIDE(n) + p], inf);
    } else {
      for (int32_t j = 0; j < k; j++) s.best[j] = bestAll[(uint32_t)p * k + j];
    }
    searchFar(&s, B, cellStart, farCell[i] >> 16, farCell[i] & 0xffff);
    double kth = s.kth;
    if (k == 3) {
      double m[3];
      merge3(s.p0, s.p1, s.p2, m);
      kth = m[2];
    }
    eps[p] = kth;
  }
  vd mins = V_SET(X->min, Y->min), scales = V_SET(X->scale, Y->scale);
  vd top = V_SPLAT((double)(n - 1));
  int32_t *gx = sc->lowX, *gy = sc->lowY;
  const int32_t *xg = X->bucketStart, *yg = Y->bucketStart;
  vd zero = V_SPLAT(0);
  for (int32_t p = 0; p < n; p++) {
    double kth = eps[p];
    vd v = V_SET(xs[p], ys[p]), ve = V_SPLAT(kth);
    vd tu = PMAX(PMIN(V_MUL(V_SUB(V_ADD(v, ve), mins), scales), top), zero);
    vd tl = PMAX(PMIN(V_MUL(V_SUB(V_SUB(v, ve), mins), scales), top), zero);
    nx[p] = xg[V_TRUNC(tu, 0)];
    gx[p] = xg[V_TRUNC(tl, 0) + 1] - 1;
    ny[p] = yg[V_TRUNC(tu, 1)];
    gy[p] = yg[V_TRUNC(tl, 1) + 1] - 1;
  }
  for (int32_t p = 0; p < n; p++) {
    double kth = eps[p];
    int32_t cx = -1, cy = -1;
    if (kth > 0) {
      cx = count(X, xs[p], kth, nx[p], gx[p]);
      cy = count(Y, ys[p], kth, ny[p], gy[p]);
    }
    /* rarely: eps = 0 (duplicate points), or a window that missed its run's end */
    if (cx < 0) cx = countWithin(X, X->rank[sample[p]], xs[p], kth);
    if (cy < 0) cy = countWithin(Y, Y->rank[sample[p]], ys[p], kth);
    nx[p] = cx;
    ny[p] = cy;
  }
}

static void farRings(const Col *X, const Col *Y, Scratch *sc, const Bands *B) {
  farRingsWith(X, Y, sc, B, countGuided);
}

#if KSG_AVX2
/** farRings with AVX2's marginal counts (countGuidedAvx2), its far searches VEX-encoded. */
static AVX2 void farRingsAvx2(const Col *X, const Col *Y, Scratch *sc, const Bands *B) {
  farRingsWith(X, Y, sc, B, countGuidedAvx2);
}
#endif

/**
 * Cuts the ranks 0..n-1 into G bands: rank q in band (q * m) >> 32, m = floor(G 2^32 / n), so
 * a multiplication (no division) per point; bandStart[b] = the first rank of band b, and
 * bandStart[G] = n. Returns m.
 */
static uint64_t cutBands(int32_t n, int32_t G, int32_t *bandStart) {
  uint64_t m = ((uint64_t)G << 32) / (uint64_t)n;
  for (int32_t b = 0; b < G; b++)
    bandStart[b] = (int32_t)((((uint64_t)b << 32) + m - 1) / m);
  bandStart[G] = n;
  return m;
}

/**
 * Band bounds of column C: the smallest and largest value of each band, and a band of -inf
 * before the first and of +inf after the last (no gap to them is below any distance).
 */
static void bandBounds(const Col *C, int32_t G, const int32_t *bandStart, double *lo,
                       double *hi) {
  const double *sorted = C->guarded + GUARD;
  for (int32_t b = 0; b < G; b++) {
    lo[b] = sorted[bandStart[b]];
    hi[b] = sorted[bandStart[b + 1] - 1];
  }
  lo[-1] = hi[-1] = -__builtin_inf();
  lo[G] = hi[G] = __builtin_inf();
}

/**
 * Lays the points out on a G x G grid of rank bands (cutBands): column by column (x bands),
 * and within a column in y's order, so each cell's points are contiguous and
 * cellStart[bx * G + by] is the first position of cell (bx, by) (cellStart[G * G] = n). One
 * pass over y's sorted order puts every point at the next free position of its column.
 */
static void gridLayout(const Col *X, const Col *Y, Scratch *sc, int32_t G) {
  int32_t n = sc->n;
  int32_t *cellStart = sc->cellStart, *cursor = sc->colCursor, *bandStart = sc->bandStart;
  const double *xSorted = X->guarded + GUARD, *ySorted = Y->guarded + GUARD;
  const int32_t *xRank = X->rank, *yOrder = Y->order;
  double *xs = sc->xs, *ys = sc->ys;
  int32_t *sample = sc->sample;
  uint64_t m = cutBands(n, G, bandStart);
  for (int32_t b = 0; b < G; b++) cursor[b] = bandStart[b];
  for (int32_t by = 0; by < G; by++) {
    for (int32_t bx = 0; bx < G; bx++) cellStart[bx * G + by] = cursor[bx];
    for (int32_t t = bandStart[by]; t < bandStart[by + 1]; t++) {
      int32_t s = yOrder[t], rx = xRank[s];
      int32_t bx = (int32_t)(((uint64_t)rx * m) >> 32);
      int32_t pos = cursor[bx]++;
      xs[pos] = xSorted[rx];
      ys[pos] = ySorted[t];
      sample[pos] = s;
    }
  }
  cellStart[G * G] = n;
}

/**
 * The rank-space grid search (see ksgKernel.ts knnGrid), on grids of this kernel's own
 * (cGridSize; coarser than ksgKernel.ts's, fewer points search past their 3 x 3 block). When
 * the pair crowds the grid (strongly dependent columns put their points in the diagonal
 * cells), the grid is refined to f x G bands per axis for this pair, so the near-pair pass
 * stays near O(S). The k-th distances and counts are exact for any grid; the final sum runs
 * in sample order, independent of the grid.
 */
static void knnGrid(const Col *X, const Col *Y, Scratch *sc) {
  int32_t n = sc->n, G = sc->grid;
  const int32_t *cellStart = sc->cellStart;
  gridLayout(X, Y, sc, G);
  /* Crowding: the mean number of other points sharing a point's cell, against n / G^2. */
  uint64_t sq = 0;
  for (int32_t c = 0; c < G * G; c++) {
    uint64_t m = (uint64_t)(cellStart[c + 1] - cellStart[c]);
    sq += m * m;
  }
  double crowd = ((double)sq / n - 1) * G * G / n;
  int32_t f = crowd > REFINE_AT ? (crowd > 2 * REFINE_AT ? MAX_REFINE : 2) : 1;
  if (f > 1) {
    G = G * f < n ? G * f : n;
    gridLayout(X, Y, sc, G);
  }
  bandBounds(X, G, sc->bandStart, sc->xLo, sc->xHi);
  bandBounds(Y, G, sc->bandStart, sc->yLo, sc->yHi);
  Bands B = {G, sc->xLo, sc->xHi, sc->yLo, sc->yHi};
#if KSG_AVX2
  if (sc->k == 3 && sc->avx2) nearPairs3Avx2(sc, &B);
  else
#endif
  if (sc->k == 3) nearPairs3(sc, &B);
  else nearPairs(sc, &B);
#if KSG_AVX2
  if (sc->avx2) farRingsAvx2(X, Y, sc, &B);
  else
#endif
    farRings(X, Y, sc, &B);
}

/** The `mixed` estimator's per-sample terms (see ksgKernel.ts mixedTerms). */
static void mixedTerms(const Col *X, const Col *Y, Scratch *sc, const int32_t *nx,
                       const int32_t *ny, int relayout) {
  int32_t n = sc->n;
  const double *psi = sc->psi;
  const double *eps = sc->eps;
  double *term = sc->term;
  uint8_t *zero = sc->zero;
  int32_t zeros = 0;
  for (int32_t i = 0; i < n; i++) {
    int32_t s = sc->sample[i];
    term[s] = psi[nx[i] + 1] + psi[ny[i] + 1];
    uint8_t z = eps[i] > 0 ? 0 : 1;
    zero[s] = z;
    zeros += z;
  }
  if (zeros == 0) return;
  if (relayout) layout(X, Y, sc);
  const double *xs = sc->xs, *ys = sc->ys;
  const int32_t *sample = sc->sample;
  double pk = psi[sc->k];
  int32_t start = 0;
  for (int32_t i = 1; i <= n; i++) {
    if (i < n && xs[i] == xs[i - 1] && ys[i] == ys[i - 1]) continue;
    int32_t dup = i - start - 1;
    for (int32_t q = start; q < i; q++) {
      int32_t s = sample[q];
      if (zero[s] != 0) term[s] += pk - psi[dup];
    }
    start = i;
  }
}

/** KSG-1 (or mixed) MI (nats) of two prepared columns of sc->n samples, as ksgKernel.ts. */
EXPORT("ksg_pair") double ksg_pair(const Col *X, const Col *Y, Scratch *sc) {
  int32_t n = X->n;
  int32_t longRun = (int32_t)__builtin_floor((double)n / sc->G / 2);
  if (longRun < 1) longRun = 1;
  int swapped = 0;
  int grid = X->maxRun <= longRun && Y->maxRun <= longRun;
  if (grid) {
    knnGrid(X, Y, sc);
  } else {
    swapped = X->maxRun > Y->maxRun;
    const Col *A = swapped ? Y : X;
    const Col *B = swapped ? X : Y;
    layout(A, B, sc);
    if (A->groupStart == 0 || A->groupEnd == 0) knnDistinct(A, sc);
    else knnTies(A, sc);
    countY(B, sc);
  }
  const double *psi = sc->psi;
  const int32_t *nx = swapped ? sc->ny : sc->nx;
  const int32_t *ny = swapped ? sc->nx : sc->ny;
  const int32_t *sample = sc->sample;
  double *term = sc->term;
  if (sc->mixed) mixedTerms(X, Y, sc, nx, ny, grid);
  else
    for (int32_t i = 0; i < n; i++) term[sample[i]] = psi[nx[i] + 1] + psi[ny[i] + 1];
  double sum = 0;
  for (int32_t i = 0; i < n; i++) sum += term[i];
  return psi[n] + psi[sc->k] - sum / n;
}
