// Native BN254 kernels for the Groth16 prover (QAP evaluation, the coset
// FFTs over the scalar field, Pippenger multi-exponentiation in G1 and G2,
// the proof's final sums) and for the key setup. Points, field elements and
// results use ffjavascript's memory layout (little-endian 64-bit limbs,
// Montgomery form with R = 2^256), so results drop into snarkjs' curve code
// unchanged. Scalars of a multi-exponentiation are in standard form.
//
// Only the prover uses this: a wrong result here makes a proof that fails
// verification, never a false proof accepted.
#include <node_api.h>

#include <immintrin.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <thread>
#include <type_traits>
#include <unordered_map>
#include <vector>

typedef unsigned __int128 u128;

// The field and curve arithmetic is small and hot: always inlined.
#define ZK_INLINE __attribute__((always_inline)) inline

namespace {

struct Field {
  uint64_t p[4];
  uint64_t inv;  // -p^-1 mod 2^64
  uint64_t one[4];  // R mod p
};

Field makeField(uint64_t p0, uint64_t p1, uint64_t p2, uint64_t p3) {
  Field f{{p0, p1, p2, p3}, 0, {0, 0, 0, 0}};
  uint64_t x = 1;  // Newton iteration for p0^-1 mod 2^64
  for (int i = 0; i < 7; i++) x *= 2 - p0 * x;
  f.inv = (uint64_t)0 - x;
  // R mod p: 2^256 by 256 modular doublings of 1.
  uint64_t r[4] = {1, 0, 0, 0};
  for (int k = 0; k < 256; k++) {
    uint64_t c = 0;
    for (int i = 0; i < 4; i++) {
      uint64_t n = (r[i] << 1) | c;
      c = r[i] >> 63;
      r[i] = n;
    }
    bool ge = c != 0;
    if (!ge) {
      ge = true;
      for (int i = 3; i >= 0; i--) {
        if (r[i] != f.p[i]) {
          ge = r[i] > f.p[i];
          break;
        }
      }
    }
    if (ge) {
      uint64_t b = 0;
      for (int i = 0; i < 4; i++) {
        u128 d = (u128)r[i] - f.p[i] - b;
        r[i] = (uint64_t)d;
        b = (uint64_t)(d >> 64) & 1;
      }
    }
  }
  memcpy(f.one, r, 32);
  return f;
}

const Field FQ = makeField(0x3c208c16d87cfd47ULL, 0x97816a916871ca8dULL, 0xb85045b68181585dULL, 0x30644e72e131a029ULL);
const Field FR = makeField(0x43e1f593f0000001ULL, 0x2833e84879b97091ULL, 0xb85045b68181585dULL, 0x30644e72e131a029ULL);

inline bool geq(const uint64_t* a, const uint64_t* p) {
  for (int i = 3; i >= 0; i--) {
    if (a[i] != p[i]) return a[i] > p[i];
  }
  return true;
}

inline void subP(uint64_t* a, const uint64_t* p) {
  uint64_t b = 0;
  for (int i = 0; i < 4; i++) {
    u128 d = (u128)a[i] - p[i] - b;
    a[i] = (uint64_t)d;
    b = (uint64_t)(d >> 64) & 1;
  }
}

inline uint64_t mac(uint64_t a, uint64_t b, uint64_t c, uint64_t& carry) {
  u128 r = (u128)a * b + c + carry;
  carry = (uint64_t)(r >> 64);
  return (uint64_t)r;
}

#if defined(__x86_64__) && defined(__ADX__) && defined(__BMI2__)
// One CIOS round on the rotating registers T0..T3 (t) with T4 free:
// t += a·b[i] (mulx, the low halves on the OF chain, the high halves on the
// CF chain), then t += m·p with m = t0·inv and the low limb dropped. The
// result is T1..T4; T0 is free for the next round.
#define ZK_MULADD(I, T0, T1, T2, T3, T4)             \
  "movq " I ", %%rdx\n\t"                            \
  "xorl %k[z], %k[z]\n\t"                            \
  "mulxq %[a0], %[lo], %[hi]\n\t"                    \
  "adoxq %[lo], %[" T0 "]\n\t"                       \
  "adcxq %[hi], %[" T1 "]\n\t"                       \
  "mulxq %[a1], %[lo], %[hi]\n\t"                    \
  "adoxq %[lo], %[" T1 "]\n\t"                       \
  "adcxq %[hi], %[" T2 "]\n\t"                       \
  "mulxq %[a2], %[lo], %[hi]\n\t"                    \
  "adoxq %[lo], %[" T2 "]\n\t"                       \
  "adcxq %[hi], %[" T3 "]\n\t"                       \
  "mulxq %[a3], %[lo], %[" T4 "]\n\t"                \
  "adoxq %[lo], %[" T3 "]\n\t"                       \
  "adcxq %[z], %[" T4 "]\n\t"                        \
  "adoxq %[z], %[" T4 "]\n\t"
#define ZK_REDUCE(T0, T1, T2, T3, T4)                \
  "movq %[" T0 "], %%rdx\n\t"                        \
  "imulq %[inv], %%rdx\n\t"                          \
  "xorl %k[z], %k[z]\n\t"                            \
  "mulxq %[p0], %[lo], %[hi]\n\t"                    \
  "adoxq %[lo], %[" T0 "]\n\t"                       \
  "adcxq %[hi], %[" T1 "]\n\t"                       \
  "mulxq %[p1], %[lo], %[hi]\n\t"                    \
  "adoxq %[lo], %[" T1 "]\n\t"                       \
  "adcxq %[hi], %[" T2 "]\n\t"                       \
  "mulxq %[p2], %[lo], %[hi]\n\t"                    \
  "adoxq %[lo], %[" T2 "]\n\t"                       \
  "adcxq %[hi], %[" T3 "]\n\t"                       \
  "mulxq %[p3], %[lo], %[hi]\n\t"                    \
  "adoxq %[lo], %[" T3 "]\n\t"                       \
  "adcxq %[z], %[hi]\n\t"                            \
  "adoxq %[z], %[hi]\n\t"                            \
  "addq %[hi], %[" T4 "]\n\t"

// The same product with mulx/adcx/adox: two carry chains at once, about
// twice the speed of the compiler's code for the portable loop.
ZK_INLINE void fmul(const Field& f, uint64_t* r, const uint64_t* a, const uint64_t* b) {
  uint64_t t0, t1, t2, t3, t4, lo, hi, z;
  asm("movq %[b0], %%rdx\n\t"
      "xorl %k[z], %k[z]\n\t"
      "mulxq %[a0], %[t0], %[t1]\n\t"
      "mulxq %[a1], %[lo], %[t2]\n\t"
      "adcxq %[lo], %[t1]\n\t"
      "mulxq %[a2], %[lo], %[t3]\n\t"
      "adcxq %[lo], %[t2]\n\t"
      "mulxq %[a3], %[lo], %[t4]\n\t"
      "adcxq %[lo], %[t3]\n\t"
      "adcxq %[z], %[t4]\n\t"
      ZK_REDUCE("t0", "t1", "t2", "t3", "t4")
      ZK_MULADD("%[b1]", "t1", "t2", "t3", "t4", "t0")
      ZK_REDUCE("t1", "t2", "t3", "t4", "t0")
      ZK_MULADD("%[b2]", "t2", "t3", "t4", "t0", "t1")
      ZK_REDUCE("t2", "t3", "t4", "t0", "t1")
      ZK_MULADD("%[b3]", "t3", "t4", "t0", "t1", "t2")
      ZK_REDUCE("t3", "t4", "t0", "t1", "t2")
      : [t0] "=&r"(t0), [t1] "=&r"(t1), [t2] "=&r"(t2), [t3] "=&r"(t3), [t4] "=&r"(t4), [lo] "=&r"(lo), [hi] "=&r"(hi), [z] "=&r"(z)
      : [a0] "m"(a[0]), [a1] "m"(a[1]), [a2] "m"(a[2]), [a3] "m"(a[3]), [b0] "m"(b[0]), [b1] "m"(b[1]), [b2] "m"(b[2]), [b3] "m"(b[3]),
        [p0] "m"(f.p[0]), [p1] "m"(f.p[1]), [p2] "m"(f.p[2]), [p3] "m"(f.p[3]), [inv] "m"(f.inv)
      : "rdx", "cc");
  // Result in t4, t0, t1, t2, below 2p.
  unsigned long long s0, s1, s2, s3;
  unsigned char bo = _subborrow_u64(0, t4, f.p[0], &s0);
  bo = _subborrow_u64(bo, t0, f.p[1], &s1);
  bo = _subborrow_u64(bo, t1, f.p[2], &s2);
  bo = _subborrow_u64(bo, t2, f.p[3], &s3);
  const uint64_t keep = (uint64_t)0 - (uint64_t)bo;
  r[0] = (t4 & keep) | (s0 & ~keep);
  r[1] = (t0 & keep) | (s1 & ~keep);
  r[2] = (t1 & keep) | (s2 & ~keep);
  r[3] = (t2 & keep) | (s3 & ~keep);
}
#undef ZK_MULADD
#undef ZK_REDUCE
#else
// Montgomery multiplication, CIOS, kept in registers: both moduli have a top
// limb below 2^62, so the running value fits four limbs and one carry. The
// final subtraction is branch-free (its outcome is data-dependent noise).
ZK_INLINE void fmul(const Field& f, uint64_t* r, const uint64_t* a, const uint64_t* b) {
  const uint64_t p0 = f.p[0], p1 = f.p[1], p2 = f.p[2], p3 = f.p[3], inv = f.inv;
  const uint64_t a0 = a[0], a1 = a[1], a2 = a[2], a3 = a[3];
  uint64_t t0 = 0, t1 = 0, t2 = 0, t3 = 0, t4, c, c2, m;
  for (int i = 0; i < 4; i++) {
    const uint64_t bi = b[i];
    c = 0;
    t0 = mac(a0, bi, t0, c);
    t1 = mac(a1, bi, t1, c);
    t2 = mac(a2, bi, t2, c);
    t3 = mac(a3, bi, t3, c);
    t4 = c;
    m = t0 * inv;
    c2 = 0;
    mac(m, p0, t0, c2);
    t0 = mac(m, p1, t1, c2);
    t1 = mac(m, p2, t2, c2);
    t2 = mac(m, p3, t3, c2);
    t3 = t4 + c2;
  }
  unsigned long long s0, s1, s2, s3;
  unsigned char bo = _subborrow_u64(0, t0, p0, &s0);
  bo = _subborrow_u64(bo, t1, p1, &s1);
  bo = _subborrow_u64(bo, t2, p2, &s2);
  bo = _subborrow_u64(bo, t3, p3, &s3);
  const uint64_t keep = (uint64_t)0 - (uint64_t)bo;  // all ones when t < p
  r[0] = (t0 & keep) | (s0 & ~keep);
  r[1] = (t1 & keep) | (s1 & ~keep);
  r[2] = (t2 & keep) | (s2 & ~keep);
  r[3] = (t3 & keep) | (s3 & ~keep);
}

#endif

// Both moduli are below 2^254, so a + b never carries out of four limbs;
// the reductions are branch-free (their outcome is data-dependent noise).
ZK_INLINE void fadd(const Field& f, uint64_t* r, const uint64_t* a, const uint64_t* b) {
  unsigned long long t0, t1, t2, t3, s0, s1, s2, s3;
  unsigned char c = _addcarry_u64(0, a[0], b[0], &t0);
  c = _addcarry_u64(c, a[1], b[1], &t1);
  c = _addcarry_u64(c, a[2], b[2], &t2);
  _addcarry_u64(c, a[3], b[3], &t3);
  unsigned char bo = _subborrow_u64(0, t0, f.p[0], &s0);
  bo = _subborrow_u64(bo, t1, f.p[1], &s1);
  bo = _subborrow_u64(bo, t2, f.p[2], &s2);
  bo = _subborrow_u64(bo, t3, f.p[3], &s3);
  const uint64_t keep = (uint64_t)0 - (uint64_t)bo;
  r[0] = (t0 & keep) | (s0 & ~keep);
  r[1] = (t1 & keep) | (s1 & ~keep);
  r[2] = (t2 & keep) | (s2 & ~keep);
  r[3] = (t3 & keep) | (s3 & ~keep);
}

ZK_INLINE void fsub(const Field& f, uint64_t* r, const uint64_t* a, const uint64_t* b) {
  unsigned long long t0, t1, t2, t3;
  unsigned char bo = _subborrow_u64(0, a[0], b[0], &t0);
  bo = _subborrow_u64(bo, a[1], b[1], &t1);
  bo = _subborrow_u64(bo, a[2], b[2], &t2);
  bo = _subborrow_u64(bo, a[3], b[3], &t3);
  const uint64_t m = (uint64_t)0 - (uint64_t)bo;
  unsigned char c = _addcarry_u64(0, t0, f.p[0] & m, &t0);
  c = _addcarry_u64(c, t1, f.p[1] & m, &t1);
  c = _addcarry_u64(c, t2, f.p[2] & m, &t2);
  _addcarry_u64(c, t3, f.p[3] & m, &t3);
  r[0] = t0;
  r[1] = t1;
  r[2] = t2;
  r[3] = t3;
}

ZK_INLINE bool fzero(const uint64_t* a) { return (a[0] | a[1] | a[2] | a[3]) == 0; }

// Base field of G1.
struct Fq {
  uint64_t v[4];
  static Fq zero() { return Fq{{0, 0, 0, 0}}; }
  static Fq one() {
    Fq r;
    memcpy(r.v, FQ.one, 32);
    return r;
  }
  bool isZero() const { return fzero(v); }
  bool operator==(const Fq& o) const { return memcmp(v, o.v, 32) == 0; }
  ZK_INLINE Fq operator+(const Fq& o) const {
    Fq r;
    fadd(FQ, r.v, v, o.v);
    return r;
  }
  ZK_INLINE Fq operator-(const Fq& o) const {
    Fq r;
    fsub(FQ, r.v, v, o.v);
    return r;
  }
  ZK_INLINE Fq operator*(const Fq& o) const {
    Fq r;
    fmul(FQ, r.v, v, o.v);
    return r;
  }
  ZK_INLINE Fq sq() const { return *this * *this; }
  ZK_INLINE Fq dbl() const { return *this + *this; }
  // Fermat: x^(p-2). Used once per batch of additions, so its cost is shared.
  Fq inv() const {
    const uint64_t e[4] = {FQ.p[0] - 2, FQ.p[1], FQ.p[2], FQ.p[3]};
    Fq r = one();
    for (int i = 255; i >= 0; i--) {
      r = r.sq();
      if ((e[i >> 6] >> (i & 63)) & 1) r = r * *this;
    }
    return r;
  }
  static const size_t BYTES = 32;
  void load(const uint8_t* p) { memcpy(v, p, 32); }
  void store(uint8_t* p) const { memcpy(p, v, 32); }
};

// Quadratic extension of G2: c0 + c1 u, u^2 = -1.
struct Fq2 {
  Fq a, b;
  static Fq2 zero() { return Fq2{Fq::zero(), Fq::zero()}; }
  static Fq2 one() { return Fq2{Fq::one(), Fq::zero()}; }
  bool isZero() const { return a.isZero() && b.isZero(); }
  bool operator==(const Fq2& o) const { return a == o.a && b == o.b; }
  Fq2 operator+(const Fq2& o) const { return Fq2{a + o.a, b + o.b}; }
  Fq2 operator-(const Fq2& o) const { return Fq2{a - o.a, b - o.b}; }
  Fq2 operator*(const Fq2& o) const {
    Fq aa = a * o.a, bb = b * o.b;
    return Fq2{aa - bb, (a + b) * (o.a + o.b) - aa - bb};
  }
  Fq2 sq() const {
    Fq ab = a * b;
    return Fq2{(a + b) * (a - b), ab + ab};
  }
  Fq2 dbl() const { return *this + *this; }
  Fq2 inv() const {
    Fq t = (a.sq() + b.sq()).inv();
    return Fq2{a * t, (Fq::zero() - b) * t};
  }
  static const size_t BYTES = 64;
  void load(const uint8_t* p) {
    a.load(p);
    b.load(p + 32);
  }
  void store(uint8_t* p) const {
    a.store(p);
    b.store(p + 32);
  }
};

// Jacobian point on y^2 = x^3 + b (a = 0); Z = 0 is the point at infinity.
template <class F>
struct Jac {
  F x, y, z;
  static Jac inf() { return Jac{F::one(), F::one(), F::zero()}; }
  bool isInf() const { return z.isZero(); }
};

template <class F>
struct Aff {
  F x, y;
  bool inf;
};

// dbl-2009-l
template <class F>
Jac<F> dbl(const Jac<F>& p) {
  if (p.isInf()) return p;
  F A = p.x.sq(), B = p.y.sq(), C = B.sq();
  F D = ((p.x + B).sq() - A - C).dbl();
  F E = A.dbl() + A;
  F Fv = E.sq();
  Jac<F> r;
  r.x = Fv - D.dbl();
  F C8 = C.dbl().dbl().dbl();
  r.y = E * (D - r.x) - C8;
  r.z = (p.y * p.z).dbl();
  return r;
}

// madd-2007-bl: p + q with q affine.
template <class F>
Jac<F> addMixed(const Jac<F>& p, const Aff<F>& q) {
  if (q.inf) return p;
  if (p.isInf()) return Jac<F>{q.x, q.y, F::one()};
  F Z1Z1 = p.z.sq();
  F U2 = q.x * Z1Z1;
  F S2 = q.y * p.z * Z1Z1;
  F H = U2 - p.x;
  F r = (S2 - p.y).dbl();
  if (H.isZero()) {
    if (r.isZero()) return dbl(p);
    return Jac<F>::inf();
  }
  F HH = H.sq();
  F I = HH.dbl().dbl();
  F J = H * I;
  F V = p.x * I;
  Jac<F> o;
  o.x = r.sq() - J - V.dbl();
  o.y = r * (V - o.x) - (p.y * J).dbl();
  o.z = (p.z + H).sq() - Z1Z1 - HH;
  return o;
}

// add-2007-bl
template <class F>
Jac<F> add(const Jac<F>& p, const Jac<F>& q) {
  if (p.isInf()) return q;
  if (q.isInf()) return p;
  F Z1Z1 = p.z.sq(), Z2Z2 = q.z.sq();
  F U1 = p.x * Z2Z2, U2 = q.x * Z1Z1;
  F S1 = p.y * q.z * Z2Z2, S2 = q.y * p.z * Z1Z1;
  F H = U2 - U1;
  F r = (S2 - S1).dbl();
  if (H.isZero()) {
    if (r.isZero()) return dbl(p);
    return Jac<F>::inf();
  }
  F I = H.dbl().sq();
  F J = H * I;
  F V = U1 * I;
  Jac<F> o;
  o.x = r.sq() - J - V.dbl();
  o.y = r * (V - o.x) - (S1 * J).dbl();
  o.z = ((p.z + q.z).sq() - Z1Z1 - Z2Z2) * H;
  return o;
}

inline uint32_t digit(const uint8_t* s, unsigned bit, unsigned c) {
  // Bits [bit, bit + c) of a 256-bit little-endian scalar (c <= 32), from
  // one unaligned 8-byte read (shortened at the scalar's end).
  if (bit >= 256) return 0;
  const unsigned byte = bit >> 3;
  uint64_t v = 0;
  memcpy(&v, s + byte, std::min(8u, 32 - byte));
  return (uint32_t)((v >> (bit & 7)) & ((uint64_t(1) << c) - 1));
}

// ---- scalar field FFT ----
struct Fr {
  uint64_t v[4];
};
ZK_INLINE Fr rmul(const Fr& a, const Fr& b) {
  Fr r;
  fmul(FR, r.v, a.v, b.v);
  return r;
}
ZK_INLINE Fr radd(const Fr& a, const Fr& b) {
  Fr r;
  fadd(FR, r.v, a.v, b.v);
  return r;
}
ZK_INLINE Fr rsub(const Fr& a, const Fr& b) {
  Fr r;
  fsub(FR, r.v, a.v, b.v);
  return r;
}

// In-place radix-2 NTT with root w of order n (a power of two).
void ntt(Fr* a, size_t n, Fr w) {
  for (size_t i = 1, j = 0; i < n; i++) {
    size_t bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) std::swap(a[i], a[j]);
  }
  std::vector<Fr> tw(n / 2);
  for (size_t len = 2; len <= n; len <<= 1) {
    // Twiddles for this level: w^(n/len), powers 0 .. len/2 - 1.
    Fr step = w;
    for (size_t k = len; k < n; k <<= 1) step = rmul(step, step);
    Fr one;
    memcpy(one.v, FR.one, 32);
    tw[0] = one;
    for (size_t k = 1; k < len / 2; k++) tw[k] = rmul(tw[k - 1], step);
    size_t half = len / 2;
    size_t blocks = n / len;
    auto run = [&](size_t b0, size_t b1) {
      for (size_t b = b0; b < b1; b++) {
        Fr* x = a + b * len;
        for (size_t k = 0; k < half; k++) {
          Fr u = x[k];
          Fr v = rmul(x[k + half], tw[k]);
          x[k] = radd(u, v);
          x[k + half] = rsub(u, v);
        }
      }
    };
    unsigned nThreads = std::max(1u, std::thread::hardware_concurrency());
    if (blocks >= nThreads && n >= (size_t(1) << 12)) {
      std::vector<std::thread> th;
      size_t per = (blocks + nThreads - 1) / nThreads;
      for (unsigned t = 1; t < nThreads; t++) th.emplace_back(run, std::min(blocks, t * per), std::min(blocks, (t + 1) * per));
      run(0, std::min(blocks, per));
      for (auto& x : th) x.join();
    } else {
      run(0, blocks);
    }
  }
}

// ---- Groth16 key setup ----
// The circuit-specific setup sums ptau Lagrange points with r1cs
// coefficients, and a phase-2 contribution scales every L and H point by
// delta^-1. Points in and out are affine Montgomery (a zkey's LEM form, all
// zero bytes for infinity); r1cs coefficients are standard form.

// (r - 1) / 2: coefficients above it are negated, so -1 costs what 1 does.
struct FrHalf {
  uint64_t h[4];
  FrHalf() {
    uint64_t c = 0;
    for (int i = 3; i >= 0; i--) {
      h[i] = (FR.p[i] >> 1) | (c << 63);
      c = FR.p[i] & 1;
    }
  }
};
const uint64_t* frHalf() {
  static FrHalf h;  // initialised once, thread-safely
  return h.h;
}

// R^2 and R^3 mod r, by modular doublings of R (fixed cost, once).
struct FrConsts {
  uint64_t r2[4], r3[4];
  FrConsts() {
    uint64_t t[4];
    memcpy(t, FR.one, 32);
    for (int k = 0; k < 256; k++) fadd(FR, t, t, t);
    memcpy(r2, t, 32);
    fmul(FR, r3, r2, r2);
  }
};
const FrConsts& frConsts() {
  static FrConsts c;
  return c;
}

template <class F>
Aff<F> loadAff(const uint8_t* p) {
  Aff<F> a;
  a.x.load(p);
  a.y.load(p + F::BYTES);
  a.inf = a.x.isZero() && a.y.isZero();
  return a;
}

template <class F>
Jac<F> loadJac(const uint8_t* p) {
  Jac<F> j;
  j.x.load(p);
  j.y.load(p + F::BYTES);
  j.z.load(p + 2 * F::BYTES);
  return j;
}

template <class F>
void storeJac(uint8_t* p, const Jac<F>& j) {
  j.x.store(p);
  j.y.store(p + F::BYTES);
  j.z.store(p + 2 * F::BYTES);
}

template <class F>
Jac<F> toJac(const Aff<F>& a) {
  if (a.inf) return Jac<F>::inf();
  return Jac<F>{a.x, a.y, F::one()};
}

template <class F>
Jac<F> neg(const Jac<F>& p) {
  return Jac<F>{p.x, F::zero() - p.y, p.z};
}

// k·P for k < 2^64: binary double-and-add from the affine point.
template <class F>
Jac<F> mulSmall(const Aff<F>& P, uint64_t k) {
  Jac<F> r = toJac(P);
  for (int b = 62 - __builtin_clzll(k); b >= 0; b--) {
    r = dbl(r);
    if ((k >> b) & 1) r = addMixed(r, P);
  }
  return r;
}

// ---- endomorphisms: half-length scalars ----
// G1: φ(x, y) = (β·x, y) is λ·P (β, λ cube roots of unity in Fq and Fr);
// k = k1 + k2·λ with k1, k2 of about 128 bits from a short lattice basis.
// G2: ψ(x, y) = (conj(x)·γx, conj(y)·γy), the untwisted Frobenius, is
// (6u^2)·P; 6u^2 has 127 bits, so k = k0 + k1·6u^2 by plain division.
inline void toMontFq(const uint64_t* a, uint64_t* out) {
  struct R2 {
    uint64_t v[4];
    R2() {
      memcpy(v, FQ.one, 32);
      for (int k = 0; k < 256; k++) fadd(FQ, v, v, v);
    }
  };
  static R2 r2;
  fmul(FQ, out, a, r2.v);
}

const Fq& glvBeta() {
  struct B {
    Fq v;
    B() {
      // 2203960485148121921418603742825762020974279258880205651966
      const uint64_t beta[4] = {0x5763473177fffffeULL, 0xd4f263f1acdb5c4fULL, 0x59e26bcea0d48bacULL, 0};
      toMontFq(beta, v.v);
    }
  };
  static B b;
  return b.v;
}

struct PsiConsts {
  Fq2 gx, gy;
  PsiConsts() {
    const uint64_t x0[4] = {0x99e39557176f553dULL, 0xb78cc310c2c3330cULL, 0x4c0bec3cf559b143ULL, 0x2fb347984f7911f7ULL};
    const uint64_t x1[4] = {0x1665d51c640fcba2ULL, 0x32ae2a1d0b7c9dceULL, 0x4ba4cc8bd75a0794ULL, 0x16c9e55061ebae20ULL};
    const uint64_t y0[4] = {0xdc54014671a0135aULL, 0xdbaae0eda9c95998ULL, 0xdc5ec698b6e2f9b9ULL, 0x063cf305489af5dcULL};
    const uint64_t y1[4] = {0x82d37f632623b0e3ULL, 0x21807dc98fa25bd2ULL, 0x0704b5a7ec796f2bULL, 0x07c03cbcac41049aULL};
    toMontFq(x0, gx.a.v);
    toMontFq(x1, gx.b.v);
    toMontFq(y0, gy.a.v);
    toMontFq(y1, gy.b.v);
  }
};
const PsiConsts& psiConsts() {
  static PsiConsts c;
  return c;
}

inline Jac<Fq> endo(const Jac<Fq>& p) { return Jac<Fq>{p.x * glvBeta(), p.y, p.z}; }
inline Jac<Fq2> endo(const Jac<Fq2>& p) {
  const PsiConsts& c = psiConsts();
  auto conj = [](const Fq2& v) { return Fq2{v.a, Fq::zero() - v.b}; };
  return Jac<Fq2>{conj(p.x) * c.gx, conj(p.y) * c.gy, conj(p.z)};
}

// out = a·b over na and nb limbs (out has na + nb limbs).
inline void mulLimbs(const uint64_t* a, int na, const uint64_t* b, int nb, uint64_t* out) {
  for (int i = 0; i < na + nb; i++) out[i] = 0;
  for (int i = 0; i < na; i++) {
    uint64_t c = 0;
    for (int j = 0; j < nb; j++) out[i + j] = mac(a[i], b[j], out[i + j], c);
    out[i + nb] = c;
  }
}

// Two's complement over 5 limbs: a -= b.
inline void sub5(uint64_t* a, const uint64_t* b) {
  unsigned char bo = 0;
  for (int i = 0; i < 5; i++) {
    unsigned long long t;
    bo = _subborrow_u64(bo, a[i], b[i], &t);
    a[i] = t;
  }
}

// Sign and magnitude (4 limbs) of a 5-limb two's complement value.
inline bool signMag(const uint64_t* v, uint64_t* mag) {
  const bool negative = v[4] >> 63;
  uint64_t t[5];
  memcpy(t, v, 40);
  if (negative) {
    uint64_t z[5] = {0, 0, 0, 0, 0};
    sub5(z, t);
    memcpy(t, z, 40);
  }
  memcpy(mag, t, 32);
  return negative;
}

// k (below r) -> k1 + k2·λ on G1.
void splitG1(const uint64_t* k, uint64_t* k1, bool& n1, uint64_t* k2, bool& n2) {
  static const uint64_t g1[2] = {0xd91d232ec7e0b3d7ULL, 0x2ULL};
  static const uint64_t g2[3] = {0x7a7bd9d4391eb18dULL, 0x4ccef014a773d2cfULL, 0x2ULL};
  static const uint64_t a1[1] = {0x89d3256894d213e3ULL};
  static const uint64_t a2[2] = {0x0be4e1541221250bULL, 0x6f4d8248eeb859fdULL};
  static const uint64_t nb1[2] = {0x8211bbeb7d4f1128ULL, 0x6f4d8248eeb859fcULL};
  static const uint64_t b2[1] = {0x89d3256894d213e3ULL};
  uint64_t t[8];
  // c1 = floor(k·g1 / 2^256), c2 = floor(k·g2 / 2^256): within one of round(b2·k/r), round(-b1·k/r).
  mulLimbs(k, 4, g1, 2, t);
  uint64_t c1[2] = {t[4], t[5]};
  mulLimbs(k, 4, g2, 3, t);
  uint64_t c2[3] = {t[4], t[5], t[6]};
  uint64_t v[5] = {k[0], k[1], k[2], k[3], 0}, w[8];
  mulLimbs(c1, 2, a1, 1, w);
  uint64_t x[5] = {w[0], w[1], w[2], 0, 0};
  sub5(v, x);
  mulLimbs(c2, 3, a2, 2, w);
  uint64_t y[5] = {w[0], w[1], w[2], w[3], w[4]};
  sub5(v, y);
  n1 = signMag(v, k1);
  // k2 = c1·(-b1) - c2·b2
  mulLimbs(c1, 2, nb1, 2, w);
  uint64_t z[5] = {w[0], w[1], w[2], w[3], 0};
  mulLimbs(c2, 3, b2, 1, w);
  uint64_t u[5] = {w[0], w[1], w[2], w[3], 0};
  sub5(z, u);
  n2 = signMag(z, k2);
}

// k -> k0 + k1·6u^2 on G2 (both nonnegative, below 2^128), by long division.
void splitG2(const uint64_t* k, uint64_t* k0, uint64_t* k1) {
  const u128 lam = ((u128)0x6f4d8248eeb859fbULL << 64) | 0xf83e9682e87cfd46ULL;
  u128 rem = 0, quo = 0;
  for (int b = 255; b >= 0; b--) {
    rem = (rem << 1) | ((k[b >> 6] >> (b & 63)) & 1);  // rem < 2^128 since lam < 2^127
    quo <<= 1;
    if (rem >= lam) {
      rem -= lam;
      quo |= 1;
    }
  }
  k0[0] = (uint64_t)rem;
  k0[1] = (uint64_t)(rem >> 64);
  k0[2] = k0[3] = 0;
  k1[0] = (uint64_t)quo;
  k1[1] = (uint64_t)(quo >> 64);
  k1[2] = k1[3] = 0;
}

std::vector<int8_t> wnaf(const uint64_t* kin, unsigned w);

template <class F>
void oddMultiples(const Aff<F>& P, Jac<F>* tab) {
  tab[0] = toJac(P);
  const Jac<F> P2 = dbl(tab[0]);
  for (int i = 1; i < 8; i++) tab[i] = add(tab[i - 1], P2);
}

// k1·P + k2·endo(P) from signed 5-bit digits.
template <class F>
Jac<F> mulEndo(const Aff<F>& P, const std::vector<int8_t>& d1, bool neg1, const std::vector<int8_t>& d2, bool neg2) {
  if (P.inf) return Jac<F>::inf();
  Jac<F> t1[8], t2[8];
  oddMultiples(P, t1);
  for (int i = 0; i < 8; i++) {
    t2[i] = endo(t1[i]);
    if (neg2) t2[i] = neg(t2[i]);
    if (neg1) t1[i] = neg(t1[i]);
  }
  Jac<F> r = Jac<F>::inf();
  for (size_t i = std::max(d1.size(), d2.size()); i-- > 0;) {
    r = dbl(r);
    const int a = i < d1.size() ? d1[i] : 0;
    const int b = i < d2.size() ? d2[i] : 0;
    if (a > 0) r = add(r, t1[a >> 1]);
    else if (a < 0) r = add(r, neg(t1[(-a) >> 1]));
    if (b > 0) r = add(r, t2[b >> 1]);
    else if (b < 0) r = add(r, neg(t2[(-b) >> 1]));
  }
  return r;
}

// k·P for a full-width k (below r).
inline Jac<Fq> mulFullEndo(const Aff<Fq>& P, const uint64_t* k) {
  uint64_t k1[4], k2[4];
  bool n1, n2;
  splitG1(k, k1, n1, k2, n2);
  return mulEndo(P, wnaf(k1, 5), n1, wnaf(k2, 5), n2);
}
inline Jac<Fq2> mulFullEndo(const Aff<Fq2>& P, const uint64_t* k) {
  uint64_t k0[4], k1[4];
  splitG2(k, k0, k1);
  return mulEndo(P, wnaf(k0, 5), false, wnaf(k1, 5), false);
}

// acc += c·P, with c a standard-form coefficient below r.
template <class F>
inline void accumulateTerm(Jac<F>& acc, Aff<F> P, const uint8_t* coef) {
  uint64_t k[4];
  memcpy(k, coef, 32);
  if (P.inf || fzero(k)) return;
  const uint64_t* half = frHalf();
  bool gtHalf = false;
  for (int i = 3; i >= 0; i--) {
    if (k[i] != half[i]) {
      gtHalf = k[i] > half[i];
      break;
    }
  }
  if (gtHalf) {
    // c = -(r - c): negate the point, multiply by the small r - c.
    uint64_t t[4];
    memcpy(t, FR.p, 32);
    subP(t, k);  // t = r - k (no wrap: k < r)
    memcpy(k, t, 32);
    P.y = F::zero() - P.y;
  }
  if ((k[1] | k[2] | k[3]) == 0) {
    if (k[0] == 1) {
      acc = addMixed(acc, P);
    } else {
      acc = add(acc, mulSmall(P, k[0]));
    }
  } else {
    acc = add(acc, mulFullEndo(P, k));
  }
}

// Walks `count` r1cs constraints (three linear combinations each: a u32
// term count, then terms of u32 signal and 32-byte coefficient), calling
// f(constraintIndex, matrix, signal, coefficient) for every term.
template <class Fn>
bool walkConstraints(const uint8_t* lcs, size_t len, uint32_t count, Fn f) {
  size_t pos = 0;
  for (uint32_t c = 0; c < count; c++) {
    for (uint32_t m = 0; m < 3; m++) {
      if (pos + 4 > len) return false;
      uint32_t nt;
      memcpy(&nt, lcs + pos, 4);
      pos += 4;
      if ((len - pos) / 36 < nt) return false;
      for (uint32_t i = 0; i < nt; i++) {
        uint32_t s;
        memcpy(&s, lcs + pos, 4);
        f(c, m, s, lcs + pos + 4);
        pos += 36;
      }
    }
  }
  return true;
}

unsigned threadCount() { return std::max(1u, std::thread::hardware_concurrency()); }

// Runs fn(lo, hi) over [0, n) split among the threads.
template <class Fn>
void parallelFor(size_t n, Fn fn, size_t minPer = 256) {
  unsigned t = threadCount();
  if (n < minPer * 2) t = 1;
  size_t per = (n + t - 1) / t;
  std::vector<std::thread> th;
  for (unsigned i = 1; i < t; i++) {
    size_t lo = std::min(n, i * per), hi = std::min(n, (i + 1) * per);
    if (lo < hi) th.emplace_back(fn, lo, hi);
  }
  fn(0, std::min(n, per));
  for (auto& x : th) x.join();
}

// Jacobian to affine for a run of points: one inversion per run, zero
// bytes for infinity.
template <class F>
void batchAffine(const Jac<F>* in, uint8_t* out, size_t n) {
  std::vector<F> pre(n);
  F acc = F::one();
  for (size_t i = 0; i < n; i++) {
    pre[i] = acc;
    if (!in[i].isInf()) acc = acc * in[i].z;
  }
  F inv = acc.inv();
  for (size_t i = n; i-- > 0;) {
    uint8_t* o = out + i * 2 * F::BYTES;
    if (in[i].isInf()) {
      memset(o, 0, 2 * F::BYTES);
      continue;
    }
    const F zi = inv * pre[i];
    inv = inv * in[i].z;
    const F zi2 = zi.sq();
    (in[i].x * zi2).store(o);
    (in[i].y * zi2 * zi).store(o + F::BYTES);
  }
}

template <class F>
void batchAffineParallel(const Jac<F>* in, uint8_t* out, size_t n) {
  parallelFor(n, [&](size_t lo, size_t hi) {
    for (size_t b = lo; b < hi; b += 4096) batchAffine(in + b, out + b * 2 * F::BYTES, std::min(hi, b + 4096) - b);
  });
}

// ---- coset transforms for the QAP quotient ----
// Without bit reversal: the inverse transform is a decimation in frequency
// (natural order in, bit-reversed out), the forward one a decimation in
// time (bit-reversed in, natural out), and the coset shift between them is
// applied at bit-reversed positions. Both recurse into halves, so every
// level below FFT_BLOCK elements runs in cache; the top levels, while there
// are fewer blocks than threads, are split among threads butterfly by
// butterfly.
const size_t FFT_BLOCK = size_t(1) << 12;

// x^0 .. x^(n-1) into out; each thread starts from its own first power.
void powersInto(Fr* out, const Fr& x, size_t n) {
  parallelFor(n, [&](size_t lo, size_t hi) {
    Fr acc, base = x;
    memcpy(acc.v, FR.one, 32);
    for (size_t e = lo; e; e >>= 1) {
      if (e & 1) acc = rmul(acc, base);
      base = rmul(base, base);
    }
    for (size_t i = lo; i < hi; i++) {
      out[i] = acc;
      acc = rmul(acc, x);
    }
  }, 4096);
}

// root^i for i < n/2, root of order n.
std::vector<Fr> twiddles(const Fr& root, size_t n) {
  std::vector<Fr> t(std::max<size_t>(1, n / 2));
  powersInto(t.data(), root, t.size());
  return t;
}

// One level on block size m: butterflies i in [lo, hi) of every block, the
// twiddle of index i being tw[i·stride].
ZK_INLINE void difLevel(Fr* x, size_t m, const Fr* tw, size_t stride, size_t lo, size_t hi) {
  const size_t h = m / 2;
  for (size_t i = lo; i < hi; i++) {
    const Fr u = x[i], v = x[i + h];
    x[i] = radd(u, v);
    x[i + h] = i ? rmul(rsub(u, v), tw[i * stride]) : rsub(u, v);
  }
}
ZK_INLINE void ditLevel(Fr* x, size_t m, const Fr* tw, size_t stride, size_t lo, size_t hi) {
  const size_t h = m / 2;
  for (size_t i = lo; i < hi; i++) {
    const Fr u = x[i], v = i ? rmul(x[i + h], tw[i * stride]) : x[i + h];
    x[i] = radd(u, v);
    x[i + h] = rsub(u, v);
  }
}

// tw: twiddles of the full size n (so a block of size m uses stride n/m).
void difBlock(Fr* x, size_t m, const Fr* tw, size_t n) {
  if (m <= FFT_BLOCK) {
    for (size_t len = m; len >= 2; len >>= 1) {
      for (size_t b = 0; b < m; b += len) difLevel(x + b, len, tw, n / len, 0, len / 2);
    }
    return;
  }
  difLevel(x, m, tw, n / m, 0, m / 2);
  difBlock(x, m / 2, tw, n);
  difBlock(x + m / 2, m / 2, tw, n);
}
void ditBlock(Fr* x, size_t m, const Fr* tw, size_t n) {
  if (m <= FFT_BLOCK) {
    for (size_t len = 2; len <= m; len <<= 1) {
      for (size_t b = 0; b < m; b += len) ditLevel(x + b, len, tw, n / len, 0, len / 2);
    }
    return;
  }
  ditBlock(x, m / 2, tw, n);
  ditBlock(x + m / 2, m / 2, tw, n);
  ditLevel(x, m, tw, n / m, 0, m / 2);
}

// Top levels while there are fewer blocks than threads: each butterfly
// range of the level split among threads.
size_t splitLevels(size_t n) {
  size_t m = n;
  while (m > FFT_BLOCK && n / m < threadCount()) m /= 2;
  return m;
}
void levelParallel(Fr* x, size_t n, size_t m, const Fr* tw, bool dif) {
  const size_t h = m / 2, blocks = n / m;
  parallelFor(blocks * h, [&](size_t lo, size_t hi) {
    for (size_t b = lo / h; b * h < hi; b++) {
      const size_t from = std::max(lo, b * h) - b * h, to = std::min(hi, (b + 1) * h) - b * h;
      if (dif) difLevel(x + b * m, m, tw, n / m, from, to);
      else ditLevel(x + b * m, m, tw, n / m, from, to);
    }
  }, 4096);
}
void difParallel(Fr* x, size_t n, const Fr* tw) {
  const size_t base = splitLevels(n);
  for (size_t m = n; m > base; m /= 2) levelParallel(x, n, m, tw, true);
  parallelFor(n / base, [&](size_t lo, size_t hi) {
    for (size_t b = lo; b < hi; b++) difBlock(x + b * base, base, tw, n);
  }, 1);
}
void ditParallel(Fr* x, size_t n, const Fr* tw) {
  const size_t base = splitLevels(n);
  parallelFor(n / base, [&](size_t lo, size_t hi) {
    for (size_t b = lo; b < hi; b++) ditBlock(x + b * base, base, tw, n);
  }, 1);
  for (size_t m = base * 2; m <= n; m *= 2) levelParallel(x, n, m, tw, false);
}

inline size_t bitReverse(size_t i, unsigned bits) {
  size_t r = 0;
  for (unsigned b = 0; b < bits; b++, i >>= 1) r = (r << 1) | (i & 1);
  return r;
}

// Evaluations at shift·w^i of the polynomials through each of `count`
// vectors of n values on the roots w^i: inverse transform, coefficient j
// times nInv·shift^j, forward transform. In place.
void cosetMany(Fr* const* vs, unsigned count, size_t n, const Fr& w, const Fr& wInv, const Fr& nInv, const Fr& shift) {
  unsigned lg = 0;
  while ((size_t(1) << lg) < n) lg++;
  const std::vector<Fr> tw = twiddles(w, n), twInv = twiddles(wInv, n);
  // nInv·shift^rev(j) at bit-reversed position j.
  std::vector<Fr> scale(n);
  parallelFor(n, [&](size_t lo, size_t hi) {
    Fr x = nInv, base = shift;
    for (size_t e = lo; e; e >>= 1) {
      if (e & 1) x = rmul(x, base);
      base = rmul(base, base);
    }
    for (size_t i = lo; i < hi; i++) {
      scale[bitReverse(i, lg)] = x;
      x = rmul(x, shift);
    }
  }, 4096);
  for (unsigned v = 0; v < count; v++) {
    Fr* x = vs[v];
    difParallel(x, n, twInv.data());
    parallelFor(n, [&](size_t lo, size_t hi) {
      for (size_t i = lo; i < hi; i++) x[i] = rmul(x[i], scale[i]);
    }, 4096);
    ditParallel(x, n, tw.data());
  }
}

// ---- multi-exponentiation ----
// Σ k_i·P_i by Pippenger's buckets, with the scalars first sorted by size:
// a proving key's witness scalars are mostly 0 and 1 with a few small and a
// few full-width values (negative ones are r - small, so each scalar above
// r/2 is replaced by r - k on the negated point). Zeros are skipped, ones
// summed directly, and each width class gets its own windows, so one
// full-width scalar does not cost every point 254 bits of windows.

// The c-bit window digits of k, signed so that buckets cover 1 .. 2^(c-1)
// (half as many as unsigned digits): a digit above 2^(c-1) becomes d - 2^c
// with a carry into the next window. out[w·stride] for w < windows.
inline void signedDigits(const uint64_t* k, unsigned c, unsigned windows, int16_t* out, size_t stride) {
  const uint64_t mask = (uint64_t(1) << c) - 1;
  const int64_t half = int64_t(1) << (c - 1);
  int64_t carry = 0;
  for (unsigned w = 0; w < windows; w++) {
    const unsigned bit = w * c, limb = bit >> 6, sh = bit & 63;
    uint64_t v = limb < 4 ? k[limb] >> sh : 0;
    if (sh + c > 64 && limb + 1 < 4) v |= k[limb + 1] << (64 - sh);
    int64_t d = (int64_t)(v & mask) + carry;
    carry = d > half;
    d -= carry << c;
    out[(size_t)w * stride] = (int16_t)d;
  }
}

// Window width for m points of `bits`-bit scalars: each window costs m
// batched affine additions (about 6 multiplications) and, for the running
// sums over its 2^(c-1) buckets, two Jacobian additions (about 27) per bucket.
inline unsigned windowBits(size_t m, unsigned bits) {
  unsigned best = 2;
  double bestCost = 1e300;
  for (unsigned c = 2; c <= 15; c++) {
    const unsigned w = (bits + 1 + c - 1) / c;
    const double cost = (double)w * (6.0 * (double)m + 27.0 * (double)(size_t(1) << (c - 1)));
    if (cost < bestCost) {
      bestCost = cost;
      best = c;
    }
  }
  return best;
}

template <class F>
ZK_INLINE Aff<F> pointAt(const uint8_t* points, uint32_t i) {
  Aff<F> a;
  a.x.load(points + (size_t)i * 2 * F::BYTES);
  a.y.load(points + (size_t)i * 2 * F::BYTES + F::BYTES);
  a.inf = false;
  return a;
}

// Adds ±P_idx[j] into bucket |d_j| - 1 for the digits d of one window.
// Buckets are kept affine: affine additions need a division each, so they
// are queued in batches whose denominators are inverted together
// (Montgomery's trick: 3 multiplications each plus one inversion per batch),
// about 6 multiplications an addition instead of a mixed Jacobian one's 11.
// A point whose bucket already has an addition queued waits for the next
// batch; if it collides there too (or too many wait), it goes to that
// bucket's Jacobian overflow, so a bucket taking many points never waits for
// batch after batch.
template <class F>
struct BucketWindow {
  static const size_t K = 1024;
  std::vector<Aff<F>> buckets;
  std::vector<Jac<F>> overflow;
  std::vector<uint32_t> stamp;
  uint32_t epoch = 1;
  uint32_t bi[K];
  Aff<F> pt[K];
  F den[K], pre[K];
  size_t k = 0;
  struct Waiting {
    uint32_t b;
    Aff<F> P;
  };
  std::vector<Waiting> waiting, retry;
  bool draining = false;

  explicit BucketWindow(size_t count) : buckets(count), overflow(count), stamp(count, 0) {}

  // Four interleaved prefix products: their multiplications are independent,
  // so the chains run at throughput rather than at one multiplication's
  // latency each.
  void flush() {
    if (!k) return;
    const size_t L = 4;
    F acc[L] = {F::one(), F::one(), F::one(), F::one()};
    for (size_t j = 0; j < k; j++) {
      pre[j] = acc[j % L];
      acc[j % L] = acc[j % L] * den[j];
    }
    // The lanes' inverses from one inversion.
    const F a01 = acc[0] * acc[1], a23 = acc[2] * acc[3];
    const F all = (a01 * a23).inv();
    const F i01 = all * a23, i23 = all * a01;
    F inv[L] = {i01 * acc[1], i01 * acc[0], i23 * acc[3], i23 * acc[2]};
    for (size_t j = k; j-- > 0;) {
      F& lane = inv[j % L];
      const F dinv = lane * pre[j];
      lane = lane * den[j];
      Aff<F>& B = buckets[bi[j]];
      const Aff<F>& P = pt[j];
      const F l = (P.y - B.y) * dinv;
      const F x3 = l.sq() - B.x - P.x;
      B.y = l * (B.x - x3) - B.y;
      B.x = x3;
    }
    k = 0;
    epoch++;
  }

  void put(uint32_t b, const Aff<F>& P, bool retried = false) {
    Aff<F>& B = buckets[b];
    if (B.inf) {
      B = P;
      return;
    }
    if (stamp[b] == epoch) {
      if (retried || waiting.size() >= K) overflow[b] = addMixed(overflow[b], P);
      else waiting.push_back(Waiting{b, P});
      return;
    }
    if (B.x == P.x) {
      // Equal points double (rare: repeated bases); opposite ones cancel.
      if (B.y == P.y && !B.y.isZero()) {
        overflow[b] = add(overflow[b], dbl(toJac(B)));
      }
      B.inf = true;
      return;
    }
    stamp[b] = epoch;
    bi[k] = b;
    pt[k] = P;
    den[k] = P.x - B.x;
    if (++k == K) flushAndRetry();
  }

  // A batch, then the points that waited for it into the next one.
  void flushAndRetry() {
    flush();
    if (draining) return;
    draining = true;
    retry.swap(waiting);
    for (const Waiting& w : retry) put(w.b, w.P, true);
    retry.clear();
    draining = false;
  }

  // Σ d·bucket[d - 1] by running sums, after the window's points.
  Jac<F> total() {
    flushAndRetry();
    flush();
    Jac<F> run = Jac<F>::inf(), acc = Jac<F>::inf();
    for (size_t d = buckets.size(); d-- > 0;) {
      run = addMixed(run, buckets[d]);
      if (!overflow[d].isInf()) run = add(run, overflow[d]);
      acc = add(acc, run);
    }
    return acc;
  }

  void reset() {
    for (auto& b : buckets) b.inf = true;
    std::fill(overflow.begin(), overflow.end(), Jac<F>::inf());
  }
};

// k mod r, and whether r - k (on the negated point) is the smaller.
inline bool scalarMagnitude(const uint8_t* s, uint64_t* k) {
  memcpy(k, s, 32);
  while (geq(k, FR.p)) subP(k, FR.p);
  if (geq(frHalf(), k)) return false;
  uint64_t t[4];
  memcpy(t, FR.p, 32);
  subP(t, k);
  memcpy(k, t, 32);
  return true;
}

// Σ k_j·P_idx[j] for m scalars whose magnitudes (scalarMagnitude) are below
// 2^bits. Threads take (window, slice of points) tasks.
template <class F>
Jac<F> pippenger(const uint8_t* points, const uint8_t* scalars, const std::vector<uint32_t>& idx, unsigned bits, unsigned threads) {
  const size_t m = idx.size();
  const unsigned c = windowBits(m, bits);
  const unsigned windows = (bits + 1 + c - 1) / c;
  std::vector<int16_t> digits((size_t)windows * m);
  parallelFor(m, [&](size_t lo, size_t hi) {
    uint64_t k[4];
    for (size_t j = lo; j < hi; j++) {
      scalarMagnitude(scalars + (size_t)(idx[j] & 0x7fffffffu) * 32, k);
      signedDigits(k, c, windows, digits.data() + j, m);
    }
  }, threads > 1 ? 4096 : m + 1);
  // Enough tasks for every thread; point slices only when windows are few.
  const unsigned slices = std::max(1u, (threads + windows - 1) / windows);
  const unsigned tasks = windows * slices;
  std::vector<Jac<F>> part(tasks, Jac<F>::inf());
  std::atomic<unsigned> next{0};
  auto work = [&]() {
    BucketWindow<F> bw(size_t(1) << (c - 1));
    for (unsigned t; (t = next.fetch_add(1)) < tasks;) {
      const unsigned w = t / slices, s = t % slices;
      const size_t lo = m * s / slices, hi = m * (s + 1) / slices;
      const int16_t* dw = digits.data() + (size_t)w * m;
      bw.reset();
      for (size_t j = lo; j < hi; j++) {
        const int d = dw[j];
        if (!d) continue;
        Aff<F> P = pointAt<F>(points, idx[j] & 0x7fffffffu);
        if ((d < 0) != (idx[j] >> 31)) P.y = F::zero() - P.y;
        bw.put((uint32_t)(d < 0 ? -d : d) - 1, P);
      }
      part[t] = bw.total();
    }
  };
  const unsigned nt = std::max(1u, std::min(threads, tasks));
  std::vector<std::thread> th;
  for (unsigned t = 1; t < nt; t++) th.emplace_back(work);
  work();
  for (auto& x : th) x.join();
  Jac<F> r = Jac<F>::inf();
  for (unsigned w = windows; w-- > 0;) {
    for (unsigned b = 0; b < c; b++) r = dbl(r);
    for (unsigned s = 0; s < slices; s++) r = add(r, part[w * slices + s]);
  }
  return r;
}

// Σ ±P_idx[j], by threads over slices, each summing its slice as a tree of
// affine additions: each level's pairs share one inversion (Montgomery's
// trick), about 6 multiplications an addition instead of a mixed Jacobian
// one's 11. Pairs of equal or opposite points go to a Jacobian sum.
template <class F>
Jac<F> sumPoints(const uint8_t* points, const std::vector<uint32_t>& idx, unsigned threads) {
  const unsigned nt = idx.size() >= 4096 ? std::max(1u, threads) : 1;
  std::vector<Jac<F>> part(nt, Jac<F>::inf());
  auto work = [&](unsigned t) {
    const size_t lo = idx.size() * t / nt, hi = idx.size() * (t + 1) / nt;
    std::vector<Aff<F>> level(hi - lo);
    for (size_t j = lo; j < hi; j++) {
      Aff<F>& P = level[j - lo];
      P = pointAt<F>(points, idx[j] & 0x7fffffffu);
      if (idx[j] >> 31) P.y = F::zero() - P.y;
    }
    Jac<F> extra = Jac<F>::inf();
    std::vector<F> den, pre;
    std::vector<Aff<F>> next;
    while (level.size() > 1) {
      const size_t half = level.size() / 2;
      den.resize(half);
      pre.resize(half);
      F acc = F::one();
      for (size_t i = 0; i < half; i++) {
        const Aff<F>& a = level[2 * i];
        const Aff<F>& b = level[2 * i + 1];
        den[i] = a.x == b.x ? F::one() : b.x - a.x;
        pre[i] = acc;
        acc = acc * den[i];
      }
      F inv = acc.inv();
      next.resize(half);
      for (size_t i = half; i-- > 0;) {
        const F dinv = inv * pre[i];
        inv = inv * den[i];
        const Aff<F>& a = level[2 * i];
        const Aff<F>& b = level[2 * i + 1];
        Aff<F>& o = next[i];
        if (a.x == b.x) {
          if (a.y == b.y) extra = add(extra, dbl(toJac(a)));
          o.inf = true;
          continue;
        }
        const F l = (b.y - a.y) * dinv;
        o.x = l.sq() - a.x - b.x;
        o.y = l * (a.x - o.x) - a.y;
        o.inf = false;
      }
      // Sums at infinity (cancelled pairs) drop out of the next level.
      size_t m = 0;
      for (size_t i = 0; i < half; i++) {
        if (!next[i].inf) next[m++] = next[i];
      }
      if (level.size() & 1) next.insert(next.begin() + m++, level.back());
      next.resize(m);
      level.swap(next);
    }
    part[t] = level.empty() ? extra : addMixed(extra, level[0]);
  };
  std::vector<std::thread> th;
  for (unsigned t = 1; t < nt; t++) th.emplace_back(work, t);
  work(0);
  for (auto& x : th) x.join();
  Jac<F> r = Jac<F>::inf();
  for (auto& p : part) r = add(r, p);
  return r;
}

// scalarBytes must be 32 (scalars below 2^256; reduced mod r).
template <class F>
Jac<F> msm(const uint8_t* points, const uint8_t* scalars, size_t n, size_t scalarBytes, unsigned maxThreads = 0) {
  (void)scalarBytes;
  const unsigned threads = maxThreads ? maxThreads : threadCount();
  // Width classes: 1, then up to 16, 32, 64, 128 and 256 bits. The top bit
  // of an index is its point's sign.
  const unsigned CLASSES = 6;
  static const unsigned top[CLASSES] = {1, 16, 32, 64, 128, 256};
  std::vector<uint32_t> idx[CLASSES];
  unsigned maxBits[CLASSES] = {0, 0, 0, 0, 0, 0};
  for (size_t i = 0; i < n; i++) {
    const uint8_t* sp = scalars + i * 32;
    uint64_t k[4];
    memcpy(k, sp, 32);
    if (fzero(k)) continue;
    const uint8_t* p = points + i * 2 * F::BYTES;
    bool inf = true;
    for (size_t b = 0; b < 2 * F::BYTES && inf; b += 8) {
      uint64_t v;
      memcpy(&v, p + b, 8);
      inf = v == 0;
    }
    if (inf) continue;
    const bool negative = scalarMagnitude(sp, k);
    unsigned bits = 0;
    for (int l = 3; l >= 0 && !bits; l--) {
      if (k[l]) bits = (unsigned)l * 64 + 64 - __builtin_clzll(k[l]);
    }
    if (!bits) continue;
    unsigned cl = bits == 1 ? 0 : 1;
    while (bits > top[cl]) cl++;
    idx[cl].push_back((uint32_t)i | (negative ? 0x80000000u : 0));
    maxBits[cl] = std::max(maxBits[cl], bits);
  }
  Jac<F> r = idx[0].empty() ? Jac<F>::inf() : sumPoints<F>(points, idx[0], threads);
  for (unsigned cl = 1; cl < CLASSES; cl++) {
    if (!idx[cl].empty()) r = add(r, pippenger<F>(points, scalars, idx[cl], maxBits[cl], threads));
  }
  return r;
}

// Montgomery to standard form, big-endian: the uncompressed form snarkjs
// hashes (an Fq2 element as c1 then c0).
void fqToBE(const Fq& a, uint8_t* o) {
  const uint64_t one[4] = {1, 0, 0, 0};
  uint64_t s[4];
  fmul(FQ, s, a.v, one);
  for (int i = 0; i < 4; i++) {
    for (int b = 0; b < 8; b++) o[31 - (i * 8 + b)] = (uint8_t)(s[i] >> (8 * b));
  }
}
void toBE(const Fq& a, uint8_t* o) { fqToBE(a, o); }
void toBE(const Fq2& a, uint8_t* o) {
  fqToBE(a.b, o);
  fqToBE(a.a, o + 32);
}

// ---- fixed scalar times many points ----
// Signed 5-bit window digits of k (wNAF), computed once for all points.
std::vector<int8_t> wnaf(const uint64_t* kin, unsigned w) {
  uint64_t k[5] = {kin[0], kin[1], kin[2], kin[3], 0};
  std::vector<int8_t> d;
  const int64_t full = (int64_t)1 << w, half = full >> 1;
  while ((k[0] | k[1] | k[2] | k[3] | k[4]) != 0) {
    int8_t di = 0;
    if (k[0] & 1) {
      int64_t v = (int64_t)(k[0] & (uint64_t)(full - 1));
      if (v >= half) v -= full;
      di = (int8_t)v;
      // k -= v
      if (v > 0) {
        uint64_t b = (uint64_t)v;
        for (int i = 0; i < 5 && b; i++) {
          uint64_t o = k[i];
          k[i] = o - b;
          b = o < b ? 1 : 0;
        }
      } else {
        uint64_t c = (uint64_t)(-v);
        for (int i = 0; i < 5 && c; i++) {
          uint64_t o = k[i];
          k[i] = o + c;
          c = k[i] < o ? 1 : 0;
        }
      }
    }
    d.push_back(di);
    for (int i = 0; i < 4; i++) k[i] = (k[i] >> 1) | (k[i + 1] << 63);
    k[4] >>= 1;
  }
  return d;
}

template <class F>
Jac<F> mulWnaf(const Aff<F>& P, const std::vector<int8_t>& d) {
  if (P.inf) return Jac<F>::inf();
  // Odd multiples P, 3P, ..., 15P.
  Jac<F> tab[8];
  oddMultiples(P, tab);
  Jac<F> r = Jac<F>::inf();
  for (size_t i = d.size(); i-- > 0;) {
    r = dbl(r);
    const int v = d[i];
    if (v > 0) r = add(r, tab[v >> 1]);
    else if (v < 0) r = add(r, neg(tab[(-v) >> 1]));
  }
  return r;
}

// ---- N-API glue ----
bool bytesArg(napi_env env, napi_value v, uint8_t** data, size_t* len) {
  bool isTyped = false;
  napi_is_typedarray(env, v, &isTyped);
  if (!isTyped) {
    napi_throw_type_error(env, nullptr, "expected a Uint8Array");
    return false;
  }
  napi_typedarray_type type;
  size_t length;
  void* ptr;
  napi_value ab;
  size_t offset;
  napi_get_typedarray_info(env, v, &type, &length, &ptr, &ab, &offset);
  if (type != napi_uint8_array) {
    napi_throw_type_error(env, nullptr, "expected a Uint8Array");
    return false;
  }
  *data = (uint8_t*)ptr;
  *len = length;
  return true;
}

napi_value newBytes(napi_env env, size_t len, uint8_t** data) {
  napi_value ab, out;
  napi_create_arraybuffer(env, len, (void**)data, &ab);
  napi_create_typedarray(env, napi_uint8_array, len, ab, 0, &out);
  return out;
}

template <class F>
napi_value msmCall(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  uint8_t *pts, *sc;
  size_t lp, ls;
  if (argc < 2 || !bytesArg(env, argv[0], &pts, &lp) || !bytesArg(env, argv[1], &sc, &ls)) return nullptr;
  size_t n = lp / (2 * F::BYTES);
  if (lp % (2 * F::BYTES) || ls < n * 32) {
    napi_throw_range_error(env, nullptr, "points and scalars differ in count");
    return nullptr;
  }
  Jac<F> r = msm<F>(pts, sc, n, 32);
  uint8_t* out;
  napi_value res = newBytes(env, 3 * F::BYTES, &out);
  if (r.isInf()) {
    F::zero().store(out);
    F::one().store(out + F::BYTES);
    F::zero().store(out + 2 * F::BYTES);
  } else {
    r.x.store(out);
    r.y.store(out + F::BYTES);
    r.z.store(out + 2 * F::BYTES);
  }
  return res;
}

// coset(values, w, wInv, nInv, shift): evaluations of the polynomial through
// `values` (on the n-th roots of unity) at shift * w^i, as snarkjs computes
// with ifft, batchApplyKey and fft. All in Montgomery form.
napi_value cosetCall(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  uint8_t* b[5];
  size_t l[5];
  for (int i = 0; i < 5; i++) {
    if (i >= (int)argc || !bytesArg(env, argv[i], &b[i], &l[i])) return nullptr;
  }
  size_t n = l[0] / 32;
  if (n == 0 || (n & (n - 1)) || l[1] != 32 || l[2] != 32 || l[3] != 32 || l[4] != 32) {
    napi_throw_range_error(env, nullptr, "coset: expected 2^k elements and four 32-byte field elements");
    return nullptr;
  }
  uint8_t* out;
  napi_value res = newBytes(env, n * 32, &out);
  Fr* a = (Fr*)out;
  memcpy(out, b[0], n * 32);
  Fr w, wInv, nInv, shift;
  memcpy(w.v, b[1], 32);
  memcpy(wInv.v, b[2], 32);
  memcpy(nInv.v, b[3], 32);
  memcpy(shift.v, b[4], 32);
  cosetMany(&a, 1, n, w, wInv, nInv, shift);
  return res;
}

// x^e in Fr (Montgomery), e of 4 limbs.
Fr frPow(const Fr& x, const uint64_t* e) {
  Fr r;
  memcpy(r.v, FR.one, 32);
  for (int i = 255; i >= 0; i--) {
    r = rmul(r, r);
    if ((e[i >> 6] >> (i & 63)) & 1) r = rmul(r, x);
  }
  return r;
}

// Small integer to Montgomery form.
Fr frOf(uint64_t v) {
  const Fr x{{v, 0, 0, 0}};
  Fr r;
  fmul(FR, r.v, x.v, frConsts().r2);
  return r;
}

// The transform constants of a 2^power domain, as ffjavascript's Fr has
// them: w a primitive 2^power-th root of unity (powers of 5^((r-1)/2^28)),
// and the coset shift, a primitive 2^(power+1)-th root (25 at power 28).
struct Domain {
  Fr w, wInv, nInv, shift;
  explicit Domain(unsigned power) {
    const uint64_t t[4] = {(FR.p[0] >> 28) | (FR.p[1] << 36), (FR.p[1] >> 28) | (FR.p[2] << 36), (FR.p[2] >> 28) | (FR.p[3] << 36), FR.p[3] >> 28};
    const uint64_t pm2[4] = {FR.p[0] - 2, FR.p[1], FR.p[2], FR.p[3]};
    Fr root = frPow(frOf(5), t);  // order 2^28
    Fr up = root;
    for (unsigned k = 28; k > power; k--) {
      up = root;
      root = rmul(root, root);
    }
    w = root;
    wInv = frPow(w, pm2);
    nInv = frPow(frOf(uint64_t(1) << power), pm2);
    shift = power == 28 ? frOf(25) : up;
  }
};

// quotient(abc): the H multi-exponentiation's scalars from qap's A | B | C
// buffer (n each, Montgomery): (a·b - c) on the coset shift·w^i, in
// standard form, written over the first n elements of abc (returned as a
// view of them; the rest is scratch).
napi_value quotientCall(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  uint8_t* b;
  size_t l;
  if (argc < 1 || !bytesArg(env, argv[0], &b, &l)) return nullptr;
  const size_t n = l / 96;
  unsigned power = 0;
  while ((size_t(1) << power) < n) power++;
  if (n == 0 || (n & (n - 1)) || l != n * 96 || power > 28) {
    napi_throw_range_error(env, nullptr, "quotient: expected 3·2^k field elements, k <= 28");
    return nullptr;
  }
  const Domain d(power);
  Fr* a = (Fr*)b;
  Fr* vs[3] = {a, a + n, a + 2 * n};
  cosetMany(vs, 3, n, d.w, d.wInv, d.nInv, d.shift);
  const Fr one{{1, 0, 0, 0}};
  parallelFor(n, [&](size_t lo, size_t hi) {
    for (size_t i = lo; i < hi; i++) a[i] = rmul(rsub(rmul(vs[0][i], vs[1][i]), vs[2][i]), one);
  }, 4096);
  napi_value ab, out;
  size_t offset;
  napi_typedarray_type type;
  size_t length;
  void* data;
  napi_get_typedarray_info(env, argv[0], &type, &length, &data, &ab, &offset);
  napi_create_typedarray(env, napi_uint8_array, n * 32, ab, offset, &out);
  return out;
}

// Affine standard-form coordinates, little-endian; zero bytes for infinity.
template <class F>
void storeStandard(const Jac<F>& p, uint8_t* o) {
  uint8_t aff[2 * F::BYTES];
  batchAffine(&p, aff, 1);
  const uint64_t one[4] = {1, 0, 0, 0};
  for (size_t at = 0; at < 2 * F::BYTES; at += 32) {
    uint64_t v[4], s[4];
    memcpy(v, aff + at, 32);
    fmul(FQ, s, v, one);
    memcpy(o + at, s, 32);
  }
}

template <class F>
Jac<F> scaled(const Jac<F>& p, const uint64_t* k) {
  uint8_t aff[2 * F::BYTES];
  batchAffine(&p, aff, 1);
  return mulFullEndo(loadAff<F>(aff), k);
}

// assemble(a, b1, b2, c, h, alpha1, beta1, beta2, delta1, delta2, r, s):
// the proof from the multi-exponentiations (Jacobian Montgomery) and the
// key's points (affine Montgomery), with the blinding scalars r and s
// (32 bytes, standard, below the group order), as snarkjs randomizes it:
//   A = a + α + r·δ, B = b2 + β + s·δ, C = c + h + s·A + r·(b1 + β + s·δ) - r·s·δ.
// Returns A | B | C affine, standard form (64 + 128 + 64 bytes).
napi_value assembleCall(napi_env env, napi_callback_info info) {
  size_t argc = 12;
  napi_value argv[12];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  static const size_t want[12] = {96, 96, 192, 96, 96, 64, 64, 128, 64, 128, 32, 32};
  uint8_t* b[12];
  for (int i = 0; i < 12; i++) {
    size_t l;
    if (i >= (int)argc || !bytesArg(env, argv[i], &b[i], &l)) return nullptr;
    if (l != want[i]) {
      napi_throw_range_error(env, nullptr, "assemble: an argument has the wrong size");
      return nullptr;
    }
  }
  uint64_t r[4], s[4], rs[4], nrs[4];
  memcpy(r, b[10], 32);
  memcpy(s, b[11], 32);
  if (geq(r, FR.p) || geq(s, FR.p)) {
    napi_throw_range_error(env, nullptr, "assemble: r and s must be below the group order");
    return nullptr;
  }
  // r·s in standard form: (r·s/R)·R²/R.
  fmul(FR, rs, r, s);
  fmul(FR, rs, rs, frConsts().r2);
  memcpy(nrs, FR.p, 32);
  if (!fzero(rs)) subP(nrs, rs);
  else memset(nrs, 0, 32);
  const Aff<Fq> alpha1 = loadAff<Fq>(b[5]), beta1 = loadAff<Fq>(b[6]), delta1 = loadAff<Fq>(b[8]);
  const Aff<Fq2> beta2 = loadAff<Fq2>(b[7]), delta2 = loadAff<Fq2>(b[9]);
  const Jac<Fq> A = add(addMixed(loadJac<Fq>(b[0]), alpha1), mulFullEndo(delta1, r));
  const Jac<Fq2> B = add(addMixed(loadJac<Fq2>(b[2]), beta2), mulFullEndo(delta2, s));
  const Jac<Fq> B1 = add(addMixed(loadJac<Fq>(b[1]), beta1), mulFullEndo(delta1, s));
  Jac<Fq> C = add(loadJac<Fq>(b[3]), loadJac<Fq>(b[4]));
  C = add(C, scaled(A, s));
  C = add(C, scaled(B1, r));
  C = add(C, mulFullEndo(delta1, nrs));
  uint8_t* out;
  napi_value res = newBytes(env, 256, &out);
  storeStandard(A, out);
  storeStandard(B, out + 64);
  storeStandard(C, out + 192);
  return res;
}

// A proving key's coefficient entries in compact form: (constraint u32,
// signal | matrix << 31 u32, index u32) with the index into a table of the
// distinct coefficients. Keys repeat few values (LeNet's 1.2 million
// entries hold 4 thousand), so 44-byte entries become 12.
struct Key256 {
  uint64_t v[4];
  bool operator==(const Key256& o) const { return memcmp(v, o.v, 32) == 0; }
};
struct Key256Hash {
  size_t operator()(const Key256& k) const { return (size_t)(k.v[0] ^ (k.v[1] * 0x9e3779b97f4a7c15ULL) ^ (k.v[2] >> 7) ^ (k.v[3] << 13)); }
};

// compactCoefficients(entries, table[, out]) -> [compact entries, table]:
// whole 44-byte entries of a coefficient section (without its count) in
// compact form (into `out` if given), against the table of distinct
// coefficients so far (extended with the chunk's new ones), so a section
// converts chunk by chunk.
napi_value compactCoefficientsCall(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  uint8_t *e, *t, *out;
  size_t le, lt, lo = 0;
  if (argc < 2 || !bytesArg(env, argv[0], &e, &le) || !bytesArg(env, argv[1], &t, &lt)) return nullptr;
  napi_valuetype ot = napi_undefined;
  if (argc >= 3) napi_typeof(env, argv[2], &ot);
  if (ot != napi_undefined && !bytesArg(env, argv[2], &out, &lo)) return nullptr;
  const size_t n = le / 44;
  if (le % 44 || lt % 32 || (ot != napi_undefined && lo != n * 12)) {
    napi_throw_range_error(env, nullptr, "compactCoefficients: expected whole 44-byte entries, 32-byte table values and 12 output bytes an entry");
    return nullptr;
  }
  std::unordered_map<Key256, uint32_t, Key256Hash> index;
  std::vector<Key256> table(lt / 32);
  memcpy(table.data(), t, lt);
  for (size_t i = 0; i < table.size(); i++) index.emplace(table[i], (uint32_t)i);
  napi_value entries = ot != napi_undefined ? argv[2] : newBytes(env, n * 12, &out);
  for (size_t i = 0; i < n; i++) {
    const uint8_t* x = e + i * 44;
    uint32_t m, c, sig;
    memcpy(&m, x, 4);
    memcpy(&c, x + 4, 4);
    memcpy(&sig, x + 8, 4);
    if (m > 1 || sig >> 31) {
      napi_throw_range_error(env, nullptr, "compactCoefficients: an entry's matrix is not A or B, or its signal is out of range");
      return nullptr;
    }
    Key256 k;
    memcpy(k.v, x + 12, 32);
    auto it = index.emplace(k, (uint32_t)table.size());
    if (it.second) table.push_back(k);
    const uint32_t packed[3] = {c, sig | (m << 31), it.first->second};
    memcpy(out + i * 12, packed, 12);
  }
  uint8_t* to;
  napi_value tab = newBytes(env, table.size() * 32, &to);
  memcpy(to, table.data(), table.size() * 32);
  napi_value res;
  napi_create_array_with_length(env, 2, &res);
  napi_set_element(env, res, 0, entries);
  napi_set_element(env, res, 1, tab);
  return res;
}

// qap(coefficients, witness, n[, table]): A·w, B·w and their pointwise
// product over the constraint domain, as one buffer A | B | C (Montgomery).
// The coefficients are the proving key's section 4 (a count, then entries
// of matrix u32, constraint u32, signal u32, coefficient 32 bytes), or with
// `table` its compact form (compactCoefficients). Stored coefficients carry
// an extra factor R, so a Montgomery product with a standard-form witness
// value lands in Montgomery form; for a witness value 1 that product is the
// table's own, computed once. One thread per matrix: each scans every entry
// and keeps its own.
napi_value qapCall(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  uint8_t *co, *w, *tb = nullptr;
  size_t lc, lw, lt = 0;
  uint32_t n = 0;
  if (argc < 3 || !bytesArg(env, argv[0], &co, &lc) || !bytesArg(env, argv[1], &w, &lw)) return nullptr;
  napi_get_value_uint32(env, argv[2], &n);
  napi_valuetype tt = napi_undefined;
  if (argc >= 4) napi_typeof(env, argv[3], &tt);
  const bool compact = tt != napi_undefined;
  if (compact && !bytesArg(env, argv[3], &tb, &lt)) return nullptr;
  uint32_t count = 0;
  const size_t entry = compact ? 12 : 12 + 32;
  if (compact) count = (uint32_t)(lc / 12);
  else if (lc >= 4) memcpy(&count, co, 4);
  const uint8_t* first = compact ? co : co + 4;
  if ((compact ? lc % 12 != 0 || lt % 32 != 0 : lc < 4 + (size_t)count * entry) || n == 0) {
    napi_throw_range_error(env, nullptr, "qap: coefficient section shorter than its count");
    return nullptr;
  }
  uint8_t* out;
  napi_value res = newBytes(env, (size_t)3 * n * 32, &out);
  memset(out, 0, (size_t)3 * n * 32);
  Fr* acc[2] = {(Fr*)out, (Fr*)(out + (size_t)n * 32)};
  const size_t nw = lw / 32, nt = lt / 32;
  const Fr* table = (const Fr*)tb;
  std::vector<Fr> times1(nt);
  const Fr one{{1, 0, 0, 0}};
  for (size_t i = 0; i < nt; i++) times1[i] = rmul(table[i], one);
  // One flag per thread: neither writes the other's.
  bool bad[2] = {false, false};
  auto scan = [&](uint32_t m) {
    for (uint32_t i = 0; i < count; i++) {
      const uint8_t* e = first + (size_t)i * entry;
      uint32_t c, sig, k = 0;
      if (compact) {
        memcpy(&c, e, 4);
        memcpy(&sig, e + 4, 4);
        if (sig >> 31 != m) continue;
        sig &= 0x7fffffffu;
        memcpy(&k, e + 8, 4);
      } else {
        uint32_t mat;
        memcpy(&mat, e, 4);
        if (mat != m) continue;
        memcpy(&c, e + 4, 4);
        memcpy(&sig, e + 8, 4);
      }
      if (c >= n || sig >= nw || (compact && k >= nt)) {
        bad[m] = true;
        return;
      }
      Fr x;
      memcpy(x.v, w + (size_t)sig * 32, 32);
      if (fzero(x.v)) continue;  // most witness values are 0
      if (compact) {
        const bool isOne = x.v[0] == 1 && (x.v[1] | x.v[2] | x.v[3]) == 0;
        acc[m][c] = radd(acc[m][c], isOne ? times1[k] : rmul(table[k], x));
      } else {
        Fr kv;
        memcpy(kv.v, e + 12, 32);
        acc[m][c] = radd(acc[m][c], rmul(kv, x));
      }
    }
  };
  std::thread tb1(scan, 1);
  scan(0);
  tb1.join();
  if (bad[0] || bad[1]) {
    napi_throw_range_error(env, nullptr, "qap: a coefficient names a constraint, signal or table value out of range");
    return nullptr;
  }
  Fr* cc = (Fr*)(out + (size_t)2 * n * 32);
  parallelFor(n, [&](size_t lo, size_t hi) {
    for (size_t i = lo; i < hi; i++) cc[i] = rmul(acc[0][i], acc[1][i]);
  }, 4096);
  return res;
}


// setupSums(g2, acc, bases, lcs, count, matrix, sigLo, sigHi) -> Promise:
// for the `count` whole constraints in lcs (the i-th uses base point i),
// adds coefficient·base into acc[signal - sigLo] for every term of the given
// matrix (0 A, 1 B, 2 C) whose signal is in [sigLo, sigHi). acc holds
// Jacobian Montgomery points (all zero is infinity). Runs off the event
// loop; threads share out the signals, so no two touch one accumulator.
//
// A signal's terms are gathered (per thread, per chunk) and summed as one
// multi-exponentiation when there are enough of them: r1cs coefficients are
// mostly small (weights, powers of two) or their negatives, and a bucket sum
// adds each point once per window instead of doubling it bit by bit. The
// ±2^e terms of bit decompositions share one doubling chain per constraint.
const size_t MSM_MIN_TERMS = 16;

// c as a magnitude below 2^64 and a sign, if it is one (c or r - c small).
inline bool coefSmall(const uint8_t* coef, uint64_t* mag = nullptr, bool* negative = nullptr) {
  uint64_t k[4];
  memcpy(k, coef, 32);
  const uint64_t* half = frHalf();
  bool gtHalf = false;
  for (int i = 3; i >= 0; i--) {
    if (k[i] != half[i]) {
      gtHalf = k[i] > half[i];
      break;
    }
  }
  if (gtHalf) {
    uint64_t t[4];
    memcpy(t, FR.p, 32);
    subP(t, k);
    memcpy(k, t, 32);
  }
  if (mag) *mag = k[0];
  if (negative) *negative = gtHalf;
  return (k[1] | k[2] | k[3]) == 0;
}

struct SumsJob {
  napi_async_work work;
  napi_deferred deferred;
  napi_ref refs[3];
  bool g2;
  uint8_t *acc, *bases, *lcs;
  size_t ll;
  uint32_t count, matrix, lo, hi;
  bool ok;
};

template <class F>
bool sumsRun(SumsJob& j) {
  const size_t jb = 3 * F::BYTES, ab = 2 * F::BYTES;
  const unsigned nt = threadCount();
  std::vector<char> ok(nt, 1);
  struct Term {
    uint32_t s, c;
    const uint8_t* coef;
  };
  // ±2^e on constraint c's base for signal s.
  struct Pow2 {
    uint32_t s, c;
    uint8_t exp;
    bool negative;
  };
  auto work = [&](unsigned t) {
    std::vector<Term> terms;
    std::vector<Pow2> pow2;
    ok[t] = walkConstraints(j.lcs, j.ll, j.count, [&](uint32_t c, uint32_t m, uint32_t s, const uint8_t* coef) {
      if (m != j.matrix || s < j.lo || s >= j.hi || (s - j.lo) % nt != t) return;
      uint64_t mag;
      bool negative;
      if (coefSmall(coef, &mag, &negative) && mag > 1 && (mag & (mag - 1)) == 0) {
        pow2.push_back(Pow2{s, c, (uint8_t)(63 - __builtin_clzll(mag)), negative});
      } else {
        terms.push_back(Term{s, c, coef});
      }
    });
    if (!ok[t]) return;
    // A bit decomposition's terms: e = 1, 2, ... on one constraint's base for
    // different signals. One doubling chain per constraint serves them all.
    std::sort(pow2.begin(), pow2.end(), [](const Pow2& x, const Pow2& y) { return x.c < y.c || (x.c == y.c && x.exp < y.exp); });
    for (size_t g = 0; g < pow2.size();) {
      const uint32_t c = pow2[g].c;
      size_t e = g;
      while (e < pow2.size() && pow2[e].c == c) e++;
      const Aff<F> P = loadAff<F>(j.bases + (size_t)c * ab);
      if (!P.inf) {
        Jac<F> chain = toJac(P);
        unsigned at = 0;
        for (size_t i = g; i < e; i++) {
          for (; at < pow2[i].exp; at++) chain = dbl(chain);
          uint8_t* a = j.acc + (size_t)(pow2[i].s - j.lo) * jb;
          storeJac(a, add(loadJac<F>(a), pow2[i].negative ? neg(chain) : chain));
        }
      }
      g = e;
    }
    // The other terms, by signal: a group of any size is one multi-
    // exponentiation (which negates, and windows each scalar width apart).
    std::sort(terms.begin(), terms.end(), [](const Term& x, const Term& y) { return x.s < y.s || (x.s == y.s && x.c < y.c); });
    std::vector<uint8_t> pts, sc;
    for (size_t g = 0; g < terms.size();) {
      size_t e = g;
      while (e < terms.size() && terms[e].s == terms[g].s) e++;
      uint8_t* a = j.acc + (size_t)(terms[g].s - j.lo) * jb;
      Jac<F> J = loadJac<F>(a);
      const size_t d = e - g;
      if (d >= MSM_MIN_TERMS) {
        pts.resize(d * ab);
        sc.resize(d * 32);
        for (size_t i = 0; i < d; i++) {
          memcpy(pts.data() + i * ab, j.bases + (size_t)terms[g + i].c * ab, ab);
          memcpy(sc.data() + i * 32, terms[g + i].coef, 32);
        }
        J = add(J, msm<F>(pts.data(), sc.data(), d, 32, 1));
      } else {
        for (size_t i = g; i < e; i++) accumulateTerm(J, loadAff<F>(j.bases + (size_t)terms[i].c * ab), terms[i].coef);
      }
      storeJac(a, J);
      g = e;
    }
  };
  std::vector<std::thread> th;
  for (unsigned t = 1; t < nt; t++) th.emplace_back(work, t);
  work(0);
  for (auto& x : th) x.join();
  for (char o : ok) {
    if (!o) return false;
  }
  return true;
}

void sumsExecute(napi_env, void* data) {
  SumsJob& j = *(SumsJob*)data;
  j.ok = j.g2 ? sumsRun<Fq2>(j) : sumsRun<Fq>(j);
}

void sumsComplete(napi_env env, napi_status, void* data) {
  SumsJob* j = (SumsJob*)data;
  for (napi_ref r : j->refs) napi_delete_reference(env, r);
  napi_delete_async_work(env, j->work);
  if (j->ok) {
    napi_value u;
    napi_get_undefined(env, &u);
    napi_resolve_deferred(env, j->deferred, u);
  } else {
    napi_value msg, err;
    napi_create_string_utf8(env, "setupSums: constraint bytes end inside a constraint", NAPI_AUTO_LENGTH, &msg);
    napi_create_range_error(env, nullptr, msg, &err);
    napi_reject_deferred(env, j->deferred, err);
  }
  delete j;
}

napi_value setupSumsCall(napi_env env, napi_callback_info info);

bool boolArg(napi_env env, napi_value v) {
  bool b = false;
  napi_get_value_bool(env, v, &b);
  return b;
}

napi_value setupSumsCall(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value argv[8];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  if (argc < 8) {
    napi_throw_type_error(env, nullptr, "setupSums: 8 arguments");
    return nullptr;
  }
  SumsJob* j = new SumsJob();
  j->g2 = boolArg(env, argv[0]);
  size_t la, lb;
  if (!bytesArg(env, argv[1], &j->acc, &la) || !bytesArg(env, argv[2], &j->bases, &lb) || !bytesArg(env, argv[3], &j->lcs, &j->ll)) {
    delete j;
    return nullptr;
  }
  napi_get_value_uint32(env, argv[4], &j->count);
  napi_get_value_uint32(env, argv[5], &j->matrix);
  napi_get_value_uint32(env, argv[6], &j->lo);
  napi_get_value_uint32(env, argv[7], &j->hi);
  const size_t fb = j->g2 ? 64 : 32;
  if (j->hi < j->lo || la < (size_t)(j->hi - j->lo) * 3 * fb || lb < (size_t)j->count * 2 * fb || j->matrix > 2) {
    delete j;
    napi_throw_range_error(env, nullptr, "setupSums: buffers too short for the ranges given");
    return nullptr;
  }
  // The buffers stay referenced until the work completes.
  for (int i = 0; i < 3; i++) napi_create_reference(env, argv[i + 1], 1, &j->refs[i]);
  napi_value promise, name;
  napi_create_promise(env, &j->deferred, &promise);
  napi_create_string_utf8(env, "zkinfer-setup-sums", NAPI_AUTO_LENGTH, &name);
  napi_create_async_work(env, nullptr, name, sumsExecute, sumsComplete, j, &j->work);
  napi_queue_async_work(env, j->work);
  return promise;
}

// Adds base point `index` into acc (Jacobian), for snarkjs' extra public
// terms: acc[i] += bases[first + i].
template <class F>
napi_value addBasesImpl(napi_env env, napi_value* argv) {
  uint8_t *acc, *bases;
  size_t la, lb;
  uint32_t first = 0, n = 0;
  if (!bytesArg(env, argv[1], &acc, &la) || !bytesArg(env, argv[2], &bases, &lb)) return nullptr;
  napi_get_value_uint32(env, argv[3], &first);
  napi_get_value_uint32(env, argv[4], &n);
  const size_t jb = 3 * F::BYTES, ab = 2 * F::BYTES;
  if (la < (size_t)n * jb || lb < ((size_t)first + n) * ab) {
    napi_throw_range_error(env, nullptr, "addBases: buffers too short");
    return nullptr;
  }
  for (uint32_t i = 0; i < n; i++) {
    Jac<F> J = loadJac<F>(acc + i * jb);
    J = addMixed(J, loadAff<F>(bases + ((size_t)first + i) * ab));
    storeJac(acc + i * jb, J);
  }
  return nullptr;
}

napi_value addBasesCall(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  if (argc < 5) {
    napi_throw_type_error(env, nullptr, "addBases: 5 arguments");
    return nullptr;
  }
  return boolArg(env, argv[0]) ? addBasesImpl<Fq2>(env, argv) : addBasesImpl<Fq>(env, argv);
}

// toAffine(g2, jacobian) -> affine points, infinity as zero bytes.
napi_value toAffineCall(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  uint8_t* in;
  size_t l;
  if (argc < 2 || !bytesArg(env, argv[1], &in, &l)) return nullptr;
  const bool g2 = boolArg(env, argv[0]);
  const size_t fb = g2 ? 64 : 32;
  if (l % (3 * fb)) {
    napi_throw_range_error(env, nullptr, "toAffine: not a whole number of points");
    return nullptr;
  }
  const size_t n = l / (3 * fb);
  uint8_t* out;
  napi_value res = newBytes(env, n * 2 * fb, &out);
  if (g2) {
    std::vector<Jac<Fq2>> j(n);
    for (size_t i = 0; i < n; i++) j[i] = loadJac<Fq2>(in + i * 3 * fb);
    batchAffineParallel(j.data(), out, n);
  } else {
    std::vector<Jac<Fq>> j(n);
    for (size_t i = 0; i < n; i++) j[i] = loadJac<Fq>(in + i * 3 * fb);
    batchAffineParallel(j.data(), out, n);
  }
  return res;
}

// toUncompressed(g2, affine) -> snarkjs' uncompressed form (big-endian,
// standard), which its circuit and contribution hashes take.
napi_value toUncompressedCall(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  uint8_t* in;
  size_t l;
  if (argc < 2 || !bytesArg(env, argv[1], &in, &l)) return nullptr;
  const bool g2 = boolArg(env, argv[0]);
  const size_t ab = g2 ? 128 : 64;
  if (l % ab) {
    napi_throw_range_error(env, nullptr, "toUncompressed: not a whole number of points");
    return nullptr;
  }
  const size_t n = l / ab;
  uint8_t* out;
  napi_value res = newBytes(env, l, &out);
  parallelFor(n, [&](size_t lo, size_t hi) {
    for (size_t i = lo; i < hi; i++) {
      const uint8_t* p = in + i * ab;
      uint8_t* o = out + i * ab;
      if (g2) {
        Aff<Fq2> a = loadAff<Fq2>(p);
        if (a.inf) {
          memset(o, 0, ab);
          continue;
        }
        toBE(a.x, o);
        toBE(a.y, o + 64);
      } else {
        Aff<Fq> a = loadAff<Fq>(p);
        if (a.inf) {
          memset(o, 0, ab);
          continue;
        }
        toBE(a.x, o);
        toBE(a.y, o + 32);
      }
    }
  });
  return res;
}

// subG1(a, b) -> affine a_i - b_i.
napi_value subG1Call(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  uint8_t *a, *b;
  size_t la, lb;
  if (argc < 2 || !bytesArg(env, argv[0], &a, &la) || !bytesArg(env, argv[1], &b, &lb)) return nullptr;
  if (la != lb || la % 64) {
    napi_throw_range_error(env, nullptr, "subG1: point counts differ");
    return nullptr;
  }
  const size_t n = la / 64;
  std::vector<Jac<Fq>> j(n);
  parallelFor(n, [&](size_t lo, size_t hi) {
    for (size_t i = lo; i < hi; i++) {
      Aff<Fq> q = loadAff<Fq>(b + i * 64);
      q.y = Fq::zero() - q.y;
      j[i] = addMixed(toJac(loadAff<Fq>(a + i * 64)), q);
    }
  });
  uint8_t* out;
  napi_value res = newBytes(env, la, &out);
  batchAffineParallel(j.data(), out, n);
  return res;
}

// scaleG1(points, k) -> k·P_i affine for one scalar shared by all points
// (its signed digits are computed once). k is 32 bytes standard form, or 66
// bytes of GLV parts: sign byte (1 negative), |k1| 32 bytes, sign byte,
// |k2| 32 bytes, for k = ±|k1| ± |k2|·λ with λ the cube root of unity in Fr
// 4407920970296243842393367215006156084916469457145843978461.
napi_value scaleG1Call(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  uint8_t *p, *k;
  size_t lp, lk;
  if (argc < 2 || !bytesArg(env, argv[0], &p, &lp) || !bytesArg(env, argv[1], &k, &lk)) return nullptr;
  if (lp % 64 || (lk != 32 && lk != 66)) {
    napi_throw_range_error(env, nullptr, "scaleG1: expected affine G1 points and a 32-byte scalar or 66-byte GLV parts");
    return nullptr;
  }
  const size_t n = lp / 64;
  std::vector<Jac<Fq>> j(n);
  if (lk == 32) {
    uint64_t kk[4];
    memcpy(kk, k, 32);
    const std::vector<int8_t> d = wnaf(kk, 5);
    parallelFor(n, [&](size_t lo, size_t hi) {
      for (size_t i = lo; i < hi; i++) j[i] = mulWnaf(loadAff<Fq>(p + i * 64), d);
    }, 16);
  } else {
    uint64_t k1[4], k2[4];
    memcpy(k1, k + 1, 32);
    memcpy(k2, k + 34, 32);
    const std::vector<int8_t> d1 = wnaf(k1, 5), d2 = wnaf(k2, 5);
    const bool n1 = k[0] != 0, n2 = k[33] != 0;
    parallelFor(n, [&](size_t lo, size_t hi) {
      for (size_t i = lo; i < hi; i++) j[i] = mulEndo(loadAff<Fq>(p + i * 64), d1, n1, d2, n2);
    }, 16);
  }
  uint8_t* out;
  napi_value res = newBytes(env, lp, &out);
  batchAffineParallel(j.data(), out, n);
  return res;
}

// setupCoefficients(lcs, count, first) -> the zkey coefficient entries of
// the A and B terms of `count` constraints numbered from `first`: (matrix,
// constraint, signal u32; value·R^2 mod r, 32 bytes), in r1cs order.
napi_value setupCoefficientsCall(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  uint8_t* lcs;
  size_t ll;
  uint32_t count = 0, first = 0;
  if (argc < 3 || !bytesArg(env, argv[0], &lcs, &ll)) return nullptr;
  napi_get_value_uint32(env, argv[1], &count);
  napi_get_value_uint32(env, argv[2], &first);
  size_t entries = 0;
  if (!walkConstraints(lcs, ll, count, [&](uint32_t, uint32_t m, uint32_t, const uint8_t*) { entries += m < 2; })) {
    napi_throw_range_error(env, nullptr, "setupCoefficients: constraint bytes end inside a constraint");
    return nullptr;
  }
  uint8_t* out;
  napi_value res = newBytes(env, entries * 44, &out);
  const uint64_t* r3 = frConsts().r3;
  size_t k = 0;
  walkConstraints(lcs, ll, count, [&](uint32_t c, uint32_t m, uint32_t s, const uint8_t* coef) {
    if (m >= 2) return;
    uint8_t* e = out + k++ * 44;
    const uint32_t cc = first + c;
    memcpy(e, &m, 4);
    memcpy(e + 4, &cc, 4);
    memcpy(e + 8, &s, 4);
    uint64_t v[4], o[4];
    memcpy(v, coef, 32);
    fmul(FR, o, v, r3);
    memcpy(e + 12, o, 32);
  });
  return res;
}


// fixedBase(g2, generator, scalars) -> scalar_i·G affine, for many 32-byte
// standard-form scalars and one affine base G. A table of b·2^(w·j)·G for
// every w-bit window j turns each product into one addition per window; w
// follows the count so the table costs no more than the products, up to 11
// bits: wider tables leave the caches and their random reads cost more than
// the windows they save.
template <class F>
napi_value fixedBaseImpl(napi_env env, napi_value* argv) {
  uint8_t *g, *sc;
  size_t lg, ls;
  if (!bytesArg(env, argv[1], &g, &lg) || !bytesArg(env, argv[2], &sc, &ls)) return nullptr;
  const size_t ab = 2 * F::BYTES;
  if (lg != ab || ls % 32) {
    napi_throw_range_error(env, nullptr, "fixedBase: expected one affine base and 32-byte scalars");
    return nullptr;
  }
  const size_t n = ls / 32;
  unsigned lgn = 0;
  while ((size_t(1) << (lgn + 1)) <= n) lgn++;
  const unsigned w = std::max(4u, std::min(11u, lgn > 3 ? lgn - 3 : 4u));
  const unsigned windows = (256 + w - 1) / w;
  const size_t entries = size_t(1) << w;
  std::vector<uint8_t> table((size_t)windows * entries * ab);
  {
    Aff<F> base = loadAff<F>(g);
    std::vector<Jac<F>> row(entries);
    for (unsigned j = 0; j < windows; j++) {
      row[0] = Jac<F>::inf();
      for (size_t b = 1; b < entries; b++) row[b] = addMixed(row[b - 1], base);
      const Jac<F> next = addMixed(row[entries - 1], base);
      batchAffineParallel(row.data(), table.data() + (size_t)j * entries * ab, entries);
      uint8_t nb[2 * F::BYTES];
      batchAffine(&next, nb, 1);
      base = loadAff<F>(nb);
    }
  }
  uint8_t* o;
  napi_value res = newBytes(env, n * ab, &o);
  if constexpr (!std::is_same_v<F, Fq>) {
    // G2: Jacobian accumulators. The affine blocks below measured slower in
    // Fq2 (their table reads no longer overlap the arithmetic).
    std::vector<Jac<F>> out(n);
    parallelFor(n, [&](size_t lo, size_t hi) {
      for (size_t i = lo; i < hi; i++) {
        Jac<F> acc = Jac<F>::inf();
        for (unsigned j = 0; j < windows; j++) {
          const uint32_t d = digit(sc + i * 32, j * w, w);
          if (d) acc = addMixed(acc, loadAff<F>(table.data() + ((size_t)j * entries + d) * ab));
        }
        out[i] = acc;
      }
    }, 16);
    batchAffineParallel(out.data(), o, n);
    return res;
  }
  // G1: accumulators stay affine. Each window's additions over a block of
  // points share one inversion (about 6 multiplications an addition against
  // 11 for a mixed Jacobian one), and no conversion is left at the end.
  parallelFor(n, [&](size_t lo, size_t hi) {
    const size_t B = 256;
    std::vector<Aff<F>> acc(B);
    std::vector<F> den(B), pre(B);
    std::vector<uint32_t> qi(B);
    std::vector<const uint8_t*> qt(B);
    for (size_t b0 = lo; b0 < hi; b0 += B) {
      const size_t m = std::min(B, hi - b0);
      for (size_t i = 0; i < m; i++) acc[i].inf = true;
      for (unsigned j = 0; j < windows; j++) {
        size_t k = 0;
        for (size_t i = 0; i < m; i++) {
          const uint32_t d = digit(sc + (b0 + i) * 32, j * w, w);
          if (!d) continue;
          const uint8_t* te = table.data() + ((size_t)j * entries + d) * ab;
          const Aff<F> T = loadAff<F>(te);
          Aff<F>& A = acc[i];
          if (A.inf) {
            A = T;
          } else if (A.x == T.x) {
            // Equal or opposite points: only for crafted scalars.
            if (A.y == T.y) {
              uint8_t buf[2 * F::BYTES];
              const Jac<F> D = dbl(toJac(A));
              batchAffine(&D, buf, 1);
              A = loadAff<F>(buf);
            } else {
              A.inf = true;
            }
          } else {
            den[k] = T.x - A.x;
            qi[k] = (uint32_t)i;
            qt[k] = te;
            k++;
          }
        }
        if (!k) continue;
        F prod = F::one();
        for (size_t q = 0; q < k; q++) {
          pre[q] = prod;
          prod = prod * den[q];
        }
        F inv = prod.inv();
        for (size_t q = k; q-- > 0;) {
          const F dinv = inv * pre[q];
          inv = inv * den[q];
          Aff<F>& A = acc[qi[q]];
          const Aff<F> T = loadAff<F>(qt[q]);
          const F l = (T.y - A.y) * dinv;
          const F x3 = l.sq() - A.x - T.x;
          A.y = l * (A.x - x3) - A.y;
          A.x = x3;
        }
      }
      for (size_t i = 0; i < m; i++) {
        uint8_t* dst = o + (b0 + i) * ab;
        if (acc[i].inf) {
          memset(dst, 0, ab);
        } else {
          acc[i].x.store(dst);
          acc[i].y.store(dst + F::BYTES);
        }
      }
    }
  }, 16);
  return res;
}

napi_value fixedBaseCall(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  if (argc < 3) {
    napi_throw_type_error(env, nullptr, "fixedBase: 3 arguments");
    return nullptr;
  }
  return boolArg(env, argv[0]) ? fixedBaseImpl<Fq2>(env, argv) : fixedBaseImpl<Fq>(env, argv);
}


// ---- scalar field batches for a development ptau ----
// frPowers(x, n) -> x^0 .. x^(n-1), Montgomery; each thread starts from its
// own first power.
napi_value frPowersCall(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  uint8_t* xb;
  size_t lx;
  uint32_t n = 0;
  if (argc < 2 || !bytesArg(env, argv[0], &xb, &lx)) return nullptr;
  napi_get_value_uint32(env, argv[1], &n);
  if (lx != 32) {
    napi_throw_range_error(env, nullptr, "frPowers: expected a 32-byte field element");
    return nullptr;
  }
  Fr x;
  memcpy(x.v, xb, 32);
  uint8_t* out;
  napi_value res = newBytes(env, (size_t)n * 32, &out);
  powersInto((Fr*)out, x, n);
  return res;
}

// frScaleStandard(values, k) -> values_i·k in standard form (Montgomery in),
// the scalars a fixed-base multiplication takes.
napi_value frScaleStandardCall(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  uint8_t *v, *kb;
  size_t lv, lk;
  if (argc < 2 || !bytesArg(env, argv[0], &v, &lv) || !bytesArg(env, argv[1], &kb, &lk)) return nullptr;
  if (lv % 32 || lk != 32) {
    napi_throw_range_error(env, nullptr, "frScaleStandard: expected field elements and one 32-byte factor");
    return nullptr;
  }
  const size_t n = lv / 32;
  Fr k, one{{1, 0, 0, 0}};
  memcpy(k.v, kb, 32);
  uint8_t* out;
  napi_value res = newBytes(env, lv, &out);
  parallelFor(n, [&](size_t lo, size_t hi) {
    for (size_t i = lo; i < hi; i++) {
      Fr a;
      memcpy(a.v, v + i * 32, 32);
      const Fr r = rmul(rmul(a, k), one);
      memcpy(out + i * 32, r.v, 32);
    }
  }, 4096);
  return res;
}

// frIfft(values, wInv, nInv) -> inverse FFT over the n-th roots of unity
// (n = count, a power of two; wInv the inverse of the root), Montgomery.
napi_value frIfftCall(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  uint8_t *v, *wb, *nb;
  size_t lv, lw, ln;
  if (argc < 3 || !bytesArg(env, argv[0], &v, &lv) || !bytesArg(env, argv[1], &wb, &lw) || !bytesArg(env, argv[2], &nb, &ln)) return nullptr;
  const size_t n = lv / 32;
  if (n == 0 || (n & (n - 1)) || lv % 32 || lw != 32 || ln != 32) {
    napi_throw_range_error(env, nullptr, "frIfft: expected 2^k elements and two 32-byte field elements");
    return nullptr;
  }
  uint8_t* out;
  napi_value res = newBytes(env, lv, &out);
  memcpy(out, v, lv);
  Fr* a = (Fr*)out;
  Fr wInv, nInv;
  memcpy(wInv.v, wb, 32);
  memcpy(nInv.v, nb, 32);
  ntt(a, n, wInv);
  parallelFor(n, [&](size_t lo, size_t hi) {
    for (size_t i = lo; i < hi; i++) a[i] = rmul(a[i], nInv);
  }, 4096);
  return res;
}

napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"msmG1", nullptr, msmCall<Fq>, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"msmG2", nullptr, msmCall<Fq2>, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"coset", nullptr, cosetCall, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"qap", nullptr, qapCall, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"compactCoefficients", nullptr, compactCoefficientsCall, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"quotient", nullptr, quotientCall, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"assemble", nullptr, assembleCall, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"setupSums", nullptr, setupSumsCall, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"addBases", nullptr, addBasesCall, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"toAffine", nullptr, toAffineCall, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"toUncompressed", nullptr, toUncompressedCall, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"subG1", nullptr, subG1Call, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"scaleG1", nullptr, scaleG1Call, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"setupCoefficients", nullptr, setupCoefficientsCall, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"fixedBase", nullptr, fixedBaseCall, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"frPowers", nullptr, frPowersCall, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"frScaleStandard", nullptr, frScaleStandardCall, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"frIfft", nullptr, frIfftCall, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
