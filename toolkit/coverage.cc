#include "toolkit/coverage.h"

namespace faultline {

uint32_t feature_hash(FeatureKind kind, uint64_t a, uint64_t b) {
  uint64_t h = 0x9e3779b97f4a7c15ull * (uint64_t(kind) + 1);
  for (uint64_t v : {a, b}) {
    h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
  }
  return uint32_t(h ^ (h >> 32));
}

InterleavingCoverage::LastAccess* InterleavingCoverage::slot(uint64_t obj) {
  uint32_t i = uint32_t((obj * 0x9e3779b97f4a7c15ull) >> 54) % kSlots;
  for (uint32_t probes = 0; probes < kSlots; ++probes, i = (i + 1) % kSlots) {
    LastAccess& s = table_[i];
    if (s.task == sim::kNoTask) {
      s.obj = obj;
      used_[nused_++] = i;
      return &s;
    }
    if (s.obj == obj) return &s;
  }
  return &table_[0];  // full (cannot happen with the model's object counts)
}

void InterleavingCoverage::reset() {
  for (uint32_t k = 0; k < nused_; ++k) table_[used_[k]] = LastAccess{};
  nused_ = 0;
}

}  // namespace faultline
