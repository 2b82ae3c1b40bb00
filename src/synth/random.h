// Randomness for the synthetic world that gives the same numbers on every platform and standard
// library: std::mt19937_64 is specified bit for bit, but std::uniform_int_distribution and friends are
// not, so the draws below are written out here.
#pragma once

#include <cstdint>
#include <random>
#include <string_view>
#include <utility>
#include <vector>

#include "common/error.h"

namespace stilts::synth {

// splitmix64's finaliser: a well-mixed 64-bit value from any 64-bit value.
inline uint64_t mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// FNV-1a over bytes.
inline uint64_t fnv1a64(std::string_view bytes, uint64_t h = 0xcbf29ce484222325ULL) {
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

// The seed of a named stream of draws: streams are independent, so e.g. a bigger corpus leaves the
// lexicon and the task data unchanged.
inline uint64_t stream_seed(uint64_t seed, std::string_view stream) { return mix64(fnv1a64(stream, mix64(seed))); }

class Rng {
 public:
  explicit Rng(uint64_t seed) : engine_(seed) {}

  uint64_t next() { return engine_(); }

  // Uniform in [0, n), unbiased (rejection of the incomplete top block).
  int64_t below(int64_t n) {
    STILTS_CHECK(n > 0, "Rng::below(", n, ")");
    const uint64_t range = static_cast<uint64_t>(n);
    const uint64_t limit = UINT64_MAX - UINT64_MAX % range;
    uint64_t x = engine_();
    while (x >= limit) x = engine_();
    return static_cast<int64_t>(x % range);
  }
  // Uniform in [lo, hi].
  int64_t between(int64_t lo, int64_t hi) { return lo + below(hi - lo + 1); }
  // Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }
  bool chance(double p) { return uniform() < p; }

  template <typename T>
  const T& pick(const std::vector<T>& items) {
    STILTS_CHECK(!items.empty(), "Rng::pick from an empty list");
    return items[static_cast<size_t>(below(static_cast<int64_t>(items.size())))];
  }
  // Index drawn with probability proportional to `weights`.
  size_t weighted(const std::vector<double>& weights) {
    double total = 0;
    for (double w : weights) total += w;
    double x = uniform() * total;
    for (size_t i = 0; i < weights.size(); ++i) {
      if (x < weights[i]) return i;
      x -= weights[i];
    }
    return weights.size() - 1;
  }
  // Fisher-Yates.
  template <typename T>
  void shuffle(std::vector<T>& items) {
    for (size_t i = items.size(); i > 1; --i) {
      const size_t j = static_cast<size_t>(below(static_cast<int64_t>(i)));
      std::swap(items[i - 1], items[j]);
    }
  }

 private:
  std::mt19937_64 engine_;
};

}  // namespace stilts::synth
