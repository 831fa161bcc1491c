// The KSG-1 pair kernel in C, compiled two ways by the build (scripts/bundles.mjs): to
// WebAssembly (wasm32 + simd128, buildKsgWasm; ksgWasm.ts is its host side) and natively as a
// Node addon (buildKsgNative: native/ksgNative.c includes this file; ksgNative.ts). Without
// either, the MI workers run the TypeScript kernel. A port of ksgKernel.ts: the same paths
// (rank-space grid, sorted sweep without / with x ties) and the same float64 difference
// predicates. Some differences change how a path searches, not what it finds: for k = 3 the
// near-pair pass runs two points at a time with SIMD (nearPairs3), a pair that crowds the grid
// gets a finer grid of its own (knnGrid), the marginal counts' windows are counted two at a
// time (countWithin), and the tie sweep takes runs of one value without a run walk (knnTies).
// The k-th distances and counts are exact either way, and the per-sample terms are summed in
// sample order, as in ksgKernel.ts, so the results are bit-identical to the TypeScript kernel,
// which stays as the independent reference the tests compare against.
// Memory: in wasm, a bump allocator over the module's linear memory; natively, malloc'd blocks
// the addon frees per instance. The host writes the prepared columns (ksgKernel.ts
// prepareColumn; raw values are not copied) into it and calls ksg_pair. The estimator (KSG-1,
// or the tie-aware `mixed`: psi(k_m) where eps = 0) is fixed per scratch area (scratch_new),
// as in ksgKernel.ts KsgScratch.
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
typedef v128_t vc;
#define C_ZERO() wasm_i64x2_splat(0)
#define C_ADD_LT(acc, a, b) wasm_i64x2_sub(acc, wasm_f64x2_lt(a, b))
#define C_SUM(acc) ((int32_t)(wasm_i64x2_extract_lane(acc, 0) + wasm_i64x2_extract_lane(acc, 1)))
#elif defined(__SSE2__)
/* x86-64 baseline. pmin(a, b) is b < a ? b : a; SSE2's minpd(b, a) is exactly that. */
#include <emmintrin.h>
typedef __m128d vd;
#define PMIN(a, b) _mm_min_pd(b, a)
#define PMAX(a, b) _mm_max_pd(b, a)
#define V_SPLAT(x) _mm_set1_pd(x)
#define V_LOAD(p) _mm_loadu_pd(p)
#define V_STORE(p, v) _mm_storeu_pd(p, v)
#define V_SUB(a, b) _mm_sub_pd(a, b)
#define V_ABSDIFF(a, b) _mm_andnot_pd(_mm_set1_pd(-0.0), _mm_sub_pd(a, b))
#define V_LANE1_TO(v, x) _mm_move_sd(_mm_set1_pd(x), v)
#define V_LANE0_ONLY(x, rest) _mm_move_sd(_mm_set1_pd(rest), _mm_set_sd(x))
static inline double v_get(__m128d v, int i) { return i == 0 ? _mm_cvtsd_f64(v) : _mm_cvtsd_f64(_mm_unpackhi_pd(v, v)); }
#define V_GET(v, i) v_get(v, i)
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
typedef vi vc;
#define C_ZERO() ((vi){0, 0})
#define C_ADD_LT(acc, a, b) ((acc) - (vi)((a) < (b)))
#define C_SUM(acc) ((int32_t)((acc)[0] + (acc)[1]))
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
  const uint16_t *band;
  const double *bandLo;
  const double *bandHi;
} Col;

#ifdef __wasm__
/* ksgWasm.ts writes the header at these offsets (wasm32 pointers are 4 bytes). */
_Static_assert(sizeof(Col) == 64, "Col layout");
_Static_assert(__builtin_offsetof(Col, guarded) == 24, "Col layout");
#endif

typedef struct Scratch {
  int32_t n, k, G;
  double *xs, *ys;
  int32_t *yr, *sample, *cursor;
  double *best, *eps;
  int32_t *nx, *ny;
  const double *psi;
  int32_t *cellStart, *xr;
  double *bestAll, *kthAll;
  /* Per-pair finer grid: cell of each sample, band bounds of x and y, term of each sample. */
  int32_t *cellOf;
  double *xLo, *xHi, *yLo, *yHi;
  double *term;
  /* 1: the `mixed` estimator (ksgKernel.ts mixedTerms); zero[s] = 1 where eps of sample s is 0. */
  int32_t mixed;
  uint8_t *zero;
} Scratch;

/** Finest grid refinement of a crowded pair: up to MAX_REFINE x G bands per axis. */
#define MAX_REFINE 4
/** Refine when a point shares its cell with more than this many points on average. */
#define REFINE_AT 5

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
  sc->zero = (uint8_t *)KSG_ALLOC(mixed != 0 ? (uint32_t)n : 0u);
  sc->G = gridSize(n);
  /* + 1: the entry rings3 may load (and ignore) after the last point */
  sc->xs = (double *)KSG_ALLOC(8u * (n + 1));
  sc->ys = (double *)KSG_ALLOC(8u * (n + 1));
  if (sc->ys == 0) return 0;
  sc->xs[n] = sc->ys[n] = __builtin_inf();
  sc->yr = (int32_t *)KSG_ALLOC(4u * n);
  sc->sample = (int32_t *)KSG_ALLOC(4u * n);
  sc->cursor = (int32_t *)KSG_ALLOC(4u * n);
  sc->best = (double *)KSG_ALLOC(8u * k);
  sc->eps = (double *)KSG_ALLOC(8u * n);
  sc->nx = (int32_t *)KSG_ALLOC(4u * n);
  sc->ny = (int32_t *)KSG_ALLOC(4u * n);
  sc->psi = psi;
  uint32_t G2 = (uint32_t)sc->G * MAX_REFINE;
  sc->cellStart = (int32_t *)KSG_ALLOC(4u * (G2 * G2 + 1));
  sc->cellOf = (int32_t *)KSG_ALLOC(4u * n);
  sc->xLo = (double *)KSG_ALLOC(8u * G2);
  sc->xHi = (double *)KSG_ALLOC(8u * G2);
  sc->yLo = (double *)KSG_ALLOC(8u * G2);
  sc->yHi = (double *)KSG_ALLOC(8u * G2);
  sc->term = (double *)KSG_ALLOC(8u * n);
  sc->xr = (int32_t *)KSG_ALLOC(4u * n);
  sc->bestAll = (double *)KSG_ALLOC(8u * n * k);
  sc->kthAll = (double *)KSG_ALLOC(8u * n);
  if (sc->kthAll == 0) return 0;
  return sc;
}

/* floor((u - min) * scale) clamped to [0, n - 1]: clamped as a double first, then truncated
   (which is floor for t >= 0, and cheaper than floor without SSE4.1). */
static inline int32_t bucketOf(double u, double min, double scale, int32_t n) {
  double t = (u - min) * scale;
  double top = (double)(n - 1);
  t = t < top ? t : top;
  return (int32_t)(t > 0 ? t : 0);
}

static inline double fabs_(double v) { return __builtin_fabs(v); }
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

static inline int32_t countWithin(const Col *C, int32_t self, double v, double eps) {
  if (!(eps > 0)) return exactTies(C, self);
  int32_t n = C->n;
  const int32_t *guide = C->bucketStart;
  const double *g = C->guarded;
  int32_t gu = guide[bucketOf(v + eps, C->min, C->scale, n)];
  int32_t iu = gu + GUARD;
  int32_t gl = guide[bucketOf(v - eps, C->min, C->scale, n) + 1] - 1;
  int32_t il = gl + GUARD;
  if (g[iu - 1] - v < eps && !(g[iu + WINDOW] - v < eps) && v - g[il + 1] < eps &&
      !(v - g[il - WINDOW] < eps)) {
    /* up = #{i < WINDOW: g[iu + i] - v < eps}, low = #{i < WINDOW: v - g[il - i] < eps} */
    vd vv = V_SPLAT(v), ve = V_SPLAT(eps);
    vc up = C_ZERO(), low = C_ZERO();
    for (int32_t i = 0; i < WINDOW; i += 2) {
      up = C_ADD_LT(up, V_SUB(V_LOAD(g + iu + i), vv), ve);
      low = C_ADD_LT(low, V_SUB(vv, V_LOAD(g + il - WINDOW + 1 + i)), ve);
    }
    return gu - 1 + C_SUM(up) - (gl + 1 - C_SUM(low));
  }
  return countWithinSearch(C, self, v, eps);
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

static void knnDistinct(Scratch *sc) {
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
    int32_t r = r0 + 1;
    for (; r < n; r++) {
      double dx = xs[r] - xp;
      if (dx >= kth) break;
      double dy = ys[r] - yp;
      if (dy < 0) dy = -dy;
      if (dy < kth) kth = offer(best, k, dx > dy ? dx : dy);
    }
    int32_t l = l0 - 1;
    for (; l >= 0; l--) {
      double dx = xp - xs[l];
      if (dx >= kth) break;
      double dy = ys[l] - yp;
      if (dy < 0) dy = -dy;
      if (dy < kth) kth = offer(best, k, dx > dy ? dx : dy);
    }
    int32_t lo = l + 1;
    while (lo < i && xp - xs[lo] >= kth) lo++;
    int32_t hi = r - 1;
    while (hi > i && xs[hi] - xp >= kth) hi--;
    eps[i] = kth;
    nx[i] = hi - lo;
  }
}

static void knnTies(const int32_t *gsArr, const int32_t *geArr, Scratch *sc) {
  int32_t n = sc->n, k = sc->k;
  const double *xs = sc->xs, *ys = sc->ys;
  double *best = sc->best, *eps = sc->eps;
  int32_t *nx = sc->nx;
  const double inf = __builtin_inf();
  for (int32_t i = 0; i < n; i++) {
    double xp = xs[i], yp = ys[i];
    for (int32_t j = 0; j < k; j++) best[j] = inf;
    double kth = inf;
    int32_t g0 = gsArr[i], g1 = geArr[i];
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

static void nearPairs(Scratch *sc, int32_t G) {
  int32_t n = sc->n, k = sc->k;
  const double *xs = sc->xs, *ys = sc->ys;
  const int32_t *cellStart = sc->cellStart;
  double *bestAll = sc->bestAll, *kthAll = sc->kthAll;
  const double inf = __builtin_inf();
  for (int32_t i = 0; i < n * k; i++) bestAll[i] = inf;
  for (int32_t i = 0; i < n; i++) kthAll[i] = inf;
  for (int32_t bx = 0; bx < G; bx++) {
    int32_t nextCol = bx + 1 < G ? (bx + 1) * G : -1;
    for (int32_t by = 0; by < G; by++) {
      int32_t cell = bx * G + by;
      int32_t end = cellStart[cell + 1];
      int32_t upEnd = cellStart[by + 1 < G ? cell + 2 : cell + 1];
      int32_t rFrom = nextCol < 0 ? 0 : cellStart[nextCol + (by > 0 ? by - 1 : 0)];
      int32_t rTo = nextCol < 0 ? 0 : cellStart[nextCol + (by + 2 <= G ? by + 2 : G)];
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
      }
    }
  }
}

/**
 * nearPairs for k = 3, branch-free and two points at a time with wasm SIMD. The 3 best of every
 * point are kept structure-of-arrays (b0 = bestAll[0..n), b1, b2), so the updates of q and q + 1
 * are one vector min/max network; p's own 3 best are kept as two lane-wise lists (even and odd
 * q) merged at the end. Inserting a d that is not below the 3rd best changes nothing, so every
 * list ends with exactly the 3 smallest distances offered, as in nearPairs. Distances are
 * max-norms of float64 differences (never NaN, never -0), so pmin/pmax are exact min/max.
 */
static inline double smin(double a, double b) { return b < a ? b : a; }
static inline double smax(double a, double b) { return a < b ? b : a; }

static void nearPairs3(Scratch *sc, int32_t G) {
  int32_t n = sc->n;
  const double *xs = sc->xs, *ys = sc->ys;
  const int32_t *cellStart = sc->cellStart;
  double *b0 = sc->bestAll, *b1 = b0 + n, *b2 = b1 + n;
  double *kthAll = sc->kthAll;
  const double inf = __builtin_inf();
  for (int32_t i = 0; i < n * 3; i++) b0[i] = inf;
  for (int32_t bx = 0; bx < G; bx++) {
    int32_t nextCol = bx + 1 < G ? (bx + 1) * G : -1;
    for (int32_t by = 0; by < G; by++) {
      int32_t cell = bx * G + by;
      int32_t end = cellStart[cell + 1];
      int32_t upEnd = cellStart[by + 1 < G ? cell + 2 : cell + 1];
      int32_t rFrom = nextCol < 0 ? 0 : cellStart[nextCol + (by > 0 ? by - 1 : 0)];
      int32_t rTo = nextCol < 0 ? 0 : cellStart[nextCol + (by + 2 <= G ? by + 2 : G)];
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
            p2 = PMAX(p1, PMIN(p2, d));
            p1 = PMAX(p0, PMIN(p1, d));
            p0 = PMIN(p0, d);
            vd q0 = V_LOAD(b0 + q), q1 = V_LOAD(b1 + q), q2 = V_LOAD(b2 + q);
            V_STORE(b2 + q, PMAX(q1, PMIN(q2, d)));
            V_STORE(b1 + q, PMAX(q0, PMIN(q1, d)));
            V_STORE(b0 + q, PMIN(q0, d));
          }
          if (q < qEnd) {
            double dx = __builtin_fabs(xs[q] - xp), dy = __builtin_fabs(ys[q] - yp);
            double d = dx > dy ? dx : dy;
            vd dv = V_LANE0_ONLY(d, inf);
            p2 = PMAX(p1, PMIN(p2, dv));
            p1 = PMAX(p0, PMIN(p1, dv));
            p0 = PMIN(p0, dv);
            double q0 = b0[q], q1 = b1[q], q2 = b2[q];
            b2[q] = smax(q1, smin(q2, d));
            b1[q] = smax(q0, smin(q1, d));
            b0[q] = smin(q0, d);
          }
        }
        /* merge lane 1 into lane 0 */
        double a0 = V_GET(p0, 0), a1 = V_GET(p1, 0), a2 = V_GET(p2, 0);
        double m[3] = {V_GET(p0, 1), V_GET(p1, 1), V_GET(p2, 1)};
        for (int j = 0; j < 3; j++) {
          double d = m[j];
          a2 = smax(a1, smin(a2, d));
          a1 = smax(a0, smin(a1, d));
          a0 = smin(a0, d);
        }
        b0[p] = a0;
        b1[p] = a1;
        b2[p] = a2;
        kthAll[p] = a2;
      }
    }
  }
}

/** Band bounds of the grid: the smallest and largest value of each band, per axis. */
typedef struct Bands {
  int32_t G;
  const double *xLo, *xHi, *yLo, *yHi;
} Bands;

/**
 * The ring search from ring 2 on, any k: the k best of p so far in sc->best (ascending), kth
 * their largest; offers the points of rings 2, 3, ... while the value gap from p to the ring
 * is below the k-th distance. Exact: every point outside ring r is at least the gap away.
 */
static double ringsK(Scratch *sc, const Bands *B, int32_t bx, int32_t by, int32_t p, double kth) {
  int32_t k = sc->k, G = B->G;
  const double *xs = sc->xs, *ys = sc->ys, *xLo = B->xLo, *xHi = B->xHi, *yLo = B->yLo,
               *yHi = B->yHi;
  const int32_t *cellStart = sc->cellStart;
  double *best = sc->best;
  double xp = xs[p], yp = ys[p];
  for (int32_t r = 2;; r++) {
    double gap = __builtin_inf();
    if (bx - r >= 0) gap = xp - xHi[bx - r];
    if (bx + r < G) gap = smin(gap, xLo[bx + r] - xp);
    if (by - r >= 0) gap = smin(gap, yp - yHi[by - r]);
    if (by + r < G) gap = smin(gap, yLo[by + r] - yp);
    if (gap >= kth) return kth;
    int32_t c0 = bx - r > 0 ? bx - r : 0;
    int32_t c1 = bx + r < G - 1 ? bx + r : G - 1;
    int32_t r0 = by - r > 0 ? by - r : 0;
    int32_t r1 = by + r < G - 1 ? by + r : G - 1;
    for (int32_t cx = c0; cx <= c1; cx++) {
      double gx = cx < bx ? xp - xHi[cx] : cx > bx ? xLo[cx] - xp : 0;
      if (gx >= kth) continue;
      int32_t base = cx * G;
      if (cx == bx - r || cx == bx + r) {
        kth = scanCells(xs, ys, best, k, p, xp, yp, kth, cellStart[base + r0],
                        cellStart[base + r1 + 1]);
      } else {
        if (by - r >= 0 && yp - yHi[by - r] < kth) {
          int32_t c = base + by - r;
          kth = scanCells(xs, ys, best, k, p, xp, yp, kth, cellStart[c], cellStart[c + 1]);
        }
        if (by + r < G && yLo[by + r] - yp < kth) {
          int32_t c = base + by + r;
          kth = scanCells(xs, ys, best, k, p, xp, yp, kth, cellStart[c], cellStart[c + 1]);
        }
      }
    }
  }
}

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
    a2 = PMAX(a1, PMIN(a2, d));
    a1 = PMAX(a0, PMIN(a1, d));
    a0 = PMIN(a0, d);
  }
  *p0 = a0;
  *p1 = a1;
  *p2 = a2;
}

/**
 * ringsK for k = 3, two candidates at a time: lane 0 starts with p's 3 best (a0 <= a1 <= a2),
 * lane 1 empty. The smaller of the lanes' 3rd distances bounds the 3rd distance of their union
 * from above, so pruning and stopping with it are exact (they only look further); the lanes
 * are merged at the end.
 */
static double rings3(Scratch *sc, const Bands *B, int32_t bx, int32_t by, int32_t p, double a0,
                     double a1, double a2) {
  int32_t G = B->G;
  const double *xs = sc->xs, *ys = sc->ys, *xLo = B->xLo, *xHi = B->xHi, *yLo = B->yLo,
               *yHi = B->yHi;
  const int32_t *cellStart = sc->cellStart;
  const double inf = __builtin_inf();
  double xp = xs[p], yp = ys[p];
  vd vx = V_SPLAT(xp), vy = V_SPLAT(yp);
  vd p0 = V_LANE0_ONLY(a0, inf), p1 = V_LANE0_ONLY(a1, inf), p2 = V_LANE0_ONLY(a2, inf);
  double kth = a2;
  for (int32_t r = 2;; r++) {
    double gap = inf;
    if (bx - r >= 0) gap = xp - xHi[bx - r];
    if (bx + r < G) gap = smin(gap, xLo[bx + r] - xp);
    if (by - r >= 0) gap = smin(gap, yp - yHi[by - r]);
    if (by + r < G) gap = smin(gap, yLo[by + r] - yp);
    if (gap >= kth) break;
    int32_t c0 = bx - r > 0 ? bx - r : 0;
    int32_t c1 = bx + r < G - 1 ? bx + r : G - 1;
    int32_t r0 = by - r > 0 ? by - r : 0;
    int32_t r1 = by + r < G - 1 ? by + r : G - 1;
    for (int32_t cx = c0; cx <= c1; cx++) {
      double gx = cx < bx ? xp - xHi[cx] : cx > bx ? xLo[cx] - xp : 0;
      if (gx >= kth) continue;
      int32_t base = cx * G;
      if (cx == bx - r || cx == bx + r) {
        offer3(xs, ys, cellStart[base + r0], cellStart[base + r1 + 1], vx, vy, &p0, &p1, &p2);
      } else {
        if (by - r >= 0 && yp - yHi[by - r] < kth) {
          int32_t c = base + by - r;
          offer3(xs, ys, cellStart[c], cellStart[c + 1], vx, vy, &p0, &p1, &p2);
        }
        if (by + r < G && yLo[by + r] - yp < kth) {
          int32_t c = base + by + r;
          offer3(xs, ys, cellStart[c], cellStart[c + 1], vx, vy, &p0, &p1, &p2);
        }
      }
    }
    kth = smin(V_GET(p2, 0), V_GET(p2, 1));
  }
  /* the 3rd smallest of both lanes */
  double b0 = V_GET(p0, 0), b1 = V_GET(p1, 0), b2 = V_GET(p2, 0);
  double m[3] = {V_GET(p0, 1), V_GET(p1, 1), V_GET(p2, 1)};
  for (int j = 0; j < 3; j++) {
    double d = m[j];
    b2 = smax(b1, smin(b2, d));
    b1 = smax(b0, smin(b1, d));
    b0 = smin(b0, d);
  }
  return b2;
}

/**
 * Grid pass 2: points whose k-th distance reaches past the 3 x 3 block continue ring by
 * ring; then eps, n_x and n_y of every point.
 */
static void farRings(const Col *X, const Col *Y, Scratch *sc, const Bands *B) {
  int32_t k = sc->k, n = sc->n, G = B->G;
  const double *xs = sc->xs, *ys = sc->ys, *xLo = B->xLo, *xHi = B->xHi, *yLo = B->yLo,
               *yHi = B->yHi;
  const int32_t *xr = sc->xr, *yr = sc->yr, *cellStart = sc->cellStart;
  double *best = sc->best, *bestAll = sc->bestAll, *kthAll = sc->kthAll, *eps = sc->eps;
  int32_t *nx = sc->nx, *ny = sc->ny;
  const double inf = __builtin_inf();
  for (int32_t bx = 0; bx < G; bx++) {
    /* the inner edges of ring 2 around the cell (infinitely far where the grid ends) */
    double ex0 = bx >= 2 ? xHi[bx - 2] : -inf, ex1 = bx + 2 < G ? xLo[bx + 2] : inf;
    for (int32_t by = 0; by < G; by++) {
      double ey0 = by >= 2 ? yHi[by - 2] : -inf, ey1 = by + 2 < G ? yLo[by + 2] : inf;
      int32_t cell = bx * G + by;
      int32_t end = cellStart[cell + 1];
      for (int32_t p = cellStart[cell]; p < end; p++) {
        double xp = xs[p], yp = ys[p];
        double kth = kthAll[p];
        double gap = smin(smin(xp - ex0, ex1 - xp), smin(yp - ey0, ey1 - yp));
        if (gap < kth) {
          if (k == 3) {
            /* nearPairs3 keeps the 3 best structure-of-arrays */
            kth = rings3(sc, B, bx, by, p, bestAll[p], bestAll[n + p], bestAll[2 * n + p]);
          } else {
            for (int32_t j = 0; j < k; j++) best[j] = bestAll[(uint32_t)p * k + j];
            kth = ringsK(sc, B, bx, by, p, kth);
          }
        }
        eps[p] = kth;
        nx[p] = countWithin(X, xr[p], xp, kth);
        ny[p] = countWithin(Y, yr[p], yp, kth);
      }
    }
  }
}

/** Band bounds of column C cut into G rank bands (as prepareColumn does for its own G). */
static void bandBounds(const Col *C, int32_t G, double *lo, double *hi) {
  int64_t n = C->n;
  const double *sorted = C->guarded + GUARD;
  for (int32_t b = 0; b < G; b++) {
    int64_t first = ((int64_t)b * n + G - 1) / G;
    int64_t last = ((int64_t)(b + 1) * n + G - 1) / G - 1;
    if (first <= last) {
      lo[b] = sorted[first];
      hi[b] = sorted[last];
    } else {
      lo[b] = __builtin_inf();
      hi[b] = -__builtin_inf();
    }
  }
}

/**
 * The rank-space grid search (see ksgKernel.ts knnGrid). One difference, which changes the
 * search but not its result: when the pair crowds the default grid (strongly dependent
 * columns put their points in the diagonal cells), the grid is refined to f x G bands per
 * axis for this pair, so the near-pair pass stays near O(S). The k-th distances and counts
 * are exact for any grid; the final sum runs in sample order, independent of the grid.
 */
static void knnGrid(const Col *X, const Col *Y, Scratch *sc) {
  int32_t n = sc->n, G = sc->G;
  int32_t *cellStart = sc->cellStart, *cellOf = sc->cellOf;
  const uint16_t *xBand = X->band, *yBand = Y->band;
  for (int32_t c = 0; c <= G * G; c++) cellStart[c] = 0;
  for (int32_t s = 0; s < n; s++) {
    int32_t c = xBand[s] * G + yBand[s];
    cellOf[s] = c;
    cellStart[c + 1]++;
  }
  /* Crowding: the mean number of points sharing a point's cell (about 3 when independent). */
  uint64_t sq = 0;
  for (int32_t c = 1; c <= G * G; c++) sq += (uint64_t)cellStart[c] * (uint64_t)cellStart[c];
  int32_t f = sq > (uint64_t)n * REFINE_AT ? (sq > (uint64_t)n * REFINE_AT * 2 ? MAX_REFINE : 2) : 1;
  const double *xLo = X->bandLo, *xHi = X->bandHi, *yLo = Y->bandLo, *yHi = Y->bandHi;
  if (f > 1) {
    G *= f;
    const int32_t *xRank = X->rank, *yRank = Y->rank;
    for (int32_t c = 0; c <= G * G; c++) cellStart[c] = 0;
    for (int32_t s = 0; s < n; s++) {
      int32_t bx = (int32_t)(((int64_t)xRank[s] * G) / n);
      int32_t by = (int32_t)(((int64_t)yRank[s] * G) / n);
      int32_t c = bx * G + by;
      cellOf[s] = c;
      cellStart[c + 1]++;
    }
    bandBounds(X, G, sc->xLo, sc->xHi);
    bandBounds(Y, G, sc->yLo, sc->yHi);
    xLo = sc->xLo;
    xHi = sc->xHi;
    yLo = sc->yLo;
    yHi = sc->yHi;
  }
  int32_t cells = G * G;
  for (int32_t c = 0; c < cells; c++) cellStart[c + 1] += cellStart[c];
  const double *xSorted = X->guarded + GUARD, *ySorted = Y->guarded + GUARD;
  const int32_t *xRank = X->rank, *yRank = Y->rank;
  for (int32_t s = 0; s < n; s++) {
    int32_t pos = cellStart[cellOf[s]]++;
    int32_t rx = xRank[s], ry = yRank[s];
    sc->xs[pos] = xSorted[rx];
    sc->ys[pos] = ySorted[ry];
    sc->xr[pos] = rx;
    sc->yr[pos] = ry;
    sc->sample[pos] = s;
  }
  for (int32_t c = cells; c > 0; c--) cellStart[c] = cellStart[c - 1];
  cellStart[0] = 0;
  Bands B = {G, xLo, xHi, yLo, yHi};
  if (sc->k == 3) nearPairs3(sc, G);
  else nearPairs(sc, G);
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
    if (A->groupStart == 0 || A->groupEnd == 0) knnDistinct(sc);
    else knnTies(A->groupStart, A->groupEnd, sc);
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
