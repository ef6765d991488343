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

uint32_t conflict_feature(uint32_t first_label, sim::Access first, uint32_t second_label, sim::Access second) {
  return feature_hash(FeatureKind::Conflict, (uint64_t(first_label) << 32) | second_label,
                      (uint64_t(first) << 8) | uint64_t(second));
}

std::optional<FeatureKinds> parse_feature_kinds(std::string_view list) {
  if (list == "all" || list == "1") return kInterleavingFeatures;
  if (list == "none" || list == "0" || list.empty()) return FeatureKinds{0};
  FeatureKinds kinds = 0;
  while (!list.empty()) {
    const size_t comma = list.find(',');
    const std::string_view name = list.substr(0, comma);
    if (name == "conflict")
      kinds |= feature_bit(FeatureKind::Conflict);
    else if (name == "handoff")
      kinds |= feature_bit(FeatureKind::Handoff);
    else if (name == "switch")
      kinds |= feature_bit(FeatureKind::Switch);
    else if (name == "label")
      kinds |= feature_bit(FeatureKind::Label);
    else
      return std::nullopt;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return kinds;
}

InterleavingCoverage::LastAccess* InterleavingCoverage::slot(uint64_t obj) {
  uint32_t i = uint32_t((obj * 0x9e3779b97f4a7c15ull) >> 54) % kSlots;
  for (uint32_t probes = 0; probes < kSlots; ++probes, i = (i + 1) % kSlots) {
    LastAccess& s = table_[i];
    if (!s.used) {
      s.used = true;
      s.obj = obj;
      used_[nused_++] = i;
      return &s;
    }
    if (s.obj == obj) return &s;
  }
  return &table_[0];  // full (cannot happen with the model's object counts)
}

uint32_t InterleavingCoverage::count_label(uint64_t key) {
  uint32_t i = uint32_t((key * 0x9e3779b97f4a7c15ull) >> 54) % kSlots;
  for (uint32_t probes = 0; probes < kSlots; ++probes, i = (i + 1) % kSlots) {
    LabelCount& l = labels_[i];
    if (!l.count) {
      l.key = key;
      labels_used_[nlabels_++] = i;
    }
    if (l.key == key) return ++l.count;
  }
  return 0;  // full (cannot happen with the model's label counts)
}

void InterleavingCoverage::reset() {
  for (uint32_t k = 0; k < nused_; ++k) table_[used_[k]] = LastAccess{};
  nused_ = 0;
  for (uint32_t k = 0; k < nlabels_; ++k) labels_[labels_used_[k]] = LabelCount{};
  nlabels_ = 0;
}

}  // namespace faultline
