#include "host/known_differences.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "vmcore/kernel/syscalls.h"
#include "vmcore/mm/kernel_config.h"
#include "vmcore/schedule/syscall_table.h"

namespace faultline::host {

extern const char kKnownDifferencesJson[];

namespace {

using nlohmann::json;

const SyscallKind* kind_named(const std::string& name) {
  for (const SyscallKind& k : syscall_kinds())
    if (name == k.name) return &k;
  return nullptr;
}

const SyscallField* field_named(const SyscallKind& kind, const std::string& name) {
  for (const SyscallField& f : kind.fields)
    if (name == f.name) return &f;
  return nullptr;
}

// Whether a field's value is `want`: a number, an enum value's name, one of a
// list of them, or "set" for an optional field that is.
bool field_is(const SyscallKind& kind, const SyscallField& field, const Syscall& c, const json& want) {
  if (want.is_array())
    return std::any_of(want.begin(), want.end(), [&](const json& w) { return field_is(kind, field, c, w); });
  if (want == "set" && field.has) return field.has(c);
  const uint64_t v = field.get(c);
  if (want.is_number_unsigned()) return v == want.get<uint64_t>();
  if (!want.is_string() || field.role != FieldRole::Enum) return false;
  const auto* call = Syscall::descriptor()->FindFieldByName(kind.name);
  const auto* f = call->message_type()->FindFieldByName(field.name);
  const auto* value = f->enum_type()->FindValueByNumber(int(v));
  return value && value->name() == want.get<std::string>();
}

// A field of the syscall's file ("file.kind", "file.launder_page"): an enum
// value's name, a bool or a number.
bool file_field_is(const File& f, const std::string& name, const json& want) {
  const auto* field = File::descriptor()->FindFieldByName(name);
  const auto* r = File::GetReflection();
  if (!field || field->is_repeated()) return false;
  switch (field->cpp_type()) {
    case google::protobuf::FieldDescriptor::CPPTYPE_ENUM:
      return want.is_string() && r->GetEnum(f, field)->name() == want.get<std::string>();
    case google::protobuf::FieldDescriptor::CPPTYPE_BOOL:
      return want.is_boolean() && r->GetBool(f, field) == want.get<bool>();
    case google::protobuf::FieldDescriptor::CPPTYPE_UINT32:
      return want.is_number_unsigned() && r->GetUInt32(f, field) == want.get<uint32_t>();
    case google::protobuf::FieldDescriptor::CPPTYPE_UINT64:
      return want.is_number_unsigned() && r->GetUInt64(f, field) == want.get<uint64_t>();
    default: return false;
  }
}

bool when_holds(const SyscallKind& kind, const json& when, const Schedule& s, const Syscall& c) {
  for (const auto& [key, want] : when.items()) {
    if (key.starts_with("file.")) {
      const SyscallField* file = field_named(kind, "file");
      const uint64_t f = file ? file->get(c) : ~0ull;
      if (f >= uint64_t(s.files_size()) || !file_field_is(s.files(int(f)), key.substr(5), want)) return false;
      continue;
    }
    const SyscallField* field = field_named(kind, key);
    if (!field || !field_is(kind, *field, c, want)) return false;
  }
  return true;
}

template <class... Args>
bool fail(std::string* error, size_t i, fmt::format_string<Args...> f, Args&&... args) {
  *error = fmt::format("differences[{}]: {}", i, fmt::format(f, std::forward<Args>(args)...));
  return false;
}

bool parse_entry(const json& j, size_t i, KnownDifference* d, std::string* error) {
  static const std::set<std::string> kKeys = {"name",   "presets", "syscall", "when",   "model",    "host",
                                              "action", "outcome", "reason",  "kernel", "emulation"};
  static const std::set<std::string> kEmulations = {"fault_in_pages_writeable", "fault_in_pages_readable"};
  if (!j.is_object()) return fail(error, i, "not an object");
  for (const auto& [key, value] : j.items())
    if (!kKeys.count(key)) return fail(error, i, "unknown key \"{}\"", key);
  auto text = [&](const char* key, std::string* out, bool required) {
    if (!j.contains(key)) return !required || fail(error, i, "\"{}\" is missing", key);
    if (!j[key].is_string() || j[key].get<std::string>().empty())
      return fail(error, i, "\"{}\" must be a non-empty string", key);
    *out = j[key].get<std::string>();
    return true;
  };
  std::string action;
  if (!text("name", &d->name, true) || !text("reason", &d->reason, true) || !text("kernel", &d->kernel, true) ||
      !text("syscall", &d->syscall, false) || !text("outcome", &d->outcome, false) ||
      !text("model", &d->model, false) || !text("host", &d->host, false) || !text("action", &action, false) ||
      !text("emulation", &d->emulation, false))
    return false;
  if (!j.contains("presets") || !j["presets"].is_array() || j["presets"].empty())
    return fail(error, i, "\"presets\" must be a non-empty list");
  for (const json& p : j["presets"]) {
    if (!p.is_string() || !mm::preset_config(p.get<std::string>()))
      return fail(error, i, "unknown preset {}", p.dump());
    d->presets.push_back(p.get<std::string>());
  }
  if (d->syscall.empty() == d->outcome.empty()) return fail(error, i, "needs either \"syscall\" or \"outcome\"");
  if (d->outcome.empty()) {
    const SyscallKind* kind = kind_named(d->syscall);
    if (!kind) return fail(error, i, "unknown syscall \"{}\"", d->syscall);
    if (d->model.empty()) return fail(error, i, "\"model\" (the model's result) is missing");
    if (j.contains("when")) {
      if (!j["when"].is_object()) return fail(error, i, "\"when\" must be an object");
      for (const auto& [key, want] : j["when"].items())
        if (key.starts_with("file.") ? !File::descriptor()->FindFieldByName(key.substr(5)) || !field_named(*kind, "file")
                                     : !field_named(*kind, key))
          return fail(error, i, "{} has no field \"{}\"", d->syscall, key);
      d->when = j["when"];
    }
    if (action == "host-follows-model") {
      d->action = KnownDifference::Action::HostFollowsModel;
      if (!d->host.empty()) return fail(error, i, "a host-follows-model entry has no \"host\" result");
    } else if (action == "accept") {
      d->action = KnownDifference::Action::Accept;
      if (d->host.empty()) return fail(error, i, "an accept entry needs the \"host\" result");
    } else if (action == "diverges") {
      d->action = KnownDifference::Action::Diverges;
      if (d->host.empty()) return fail(error, i, "a diverges entry needs the \"host\" result");
    } else if (action == "host-emulates") {
      d->action = KnownDifference::Action::HostEmulates;
      if (!kEmulations.count(d->emulation))
        return fail(error, i, "a host-emulates entry needs an \"emulation\" the host knows (fault_in_pages_writeable, fault_in_pages_readable)");
    } else {
      return fail(error, i, "\"action\" must be \"host-follows-model\", \"accept\", \"diverges\" or \"host-emulates\"");
    }
    if (!d->emulation.empty() && d->action != KnownDifference::Action::HostEmulates)
      return fail(error, i, "\"emulation\" belongs to a host-emulates entry");
  }
  return true;
}

bool result_is(const std::string& want, const SyscallResult& r) { return want == "*" || want == mm::result_name(r.ret); }

bool for_preset(const KnownDifference& d, const std::string& preset) {
  return std::find(d.presets.begin(), d.presets.end(), preset) != d.presets.end();
}

}  // namespace

std::optional<KnownDifferences> KnownDifferences::parse(const std::string& text, std::string* error) {
  const json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("differences") || !j["differences"].is_array()) {
    *error = "not a JSON object with a \"differences\" list";
    return std::nullopt;
  }
  KnownDifferences out;
  std::set<std::string> names;
  for (size_t i = 0; i < j["differences"].size(); ++i) {
    KnownDifference d;
    if (!parse_entry(j["differences"][i], i, &d, error)) return std::nullopt;
    if (!names.insert(d.name).second) {
      fail(error, i, "the name \"{}\" is taken", d.name);
      return std::nullopt;
    }
    out.entries_.push_back(std::move(d));
  }
  return out;
}

const KnownDifferences& KnownDifferences::builtin() {
  static const KnownDifferences list = [] {
    std::string error;
    auto parsed = parse(kKnownDifferencesJson, &error);
    if (!parsed) {
      fmt::print(stderr, "faultline: host/known_differences.json: {}\n", error);
      std::abort();  // a build whose own data is malformed; the tests catch it first
    }
    return std::move(*parsed);
  }();
  return list;
}

const KnownDifference* KnownDifferences::for_call(const std::string& preset, const Schedule& s, const Syscall& c,
                                                  const SyscallResult& model, const SyscallResult* host) const {
  const SyscallKind* kind = syscall_kind(c);
  for (const KnownDifference& d : entries_) {
    if (d.syscall.empty() || !for_preset(d, preset) || !kind || d.syscall != kind->name) continue;
    if (!result_is(d.model, model) || !when_holds(*kind, d.when, s, c)) continue;
    const bool before_host =
        d.action == KnownDifference::Action::HostFollowsModel || d.action == KnownDifference::Action::HostEmulates;
    if (before_host != (host == nullptr)) continue;
    if (host && !result_is(d.host, *host)) continue;
    return &d;
  }
  return nullptr;
}

const KnownDifference* KnownDifferences::for_outcome(const std::string& preset, const std::string& signature) const {
  for (const KnownDifference& d : entries_)
    if (!d.outcome.empty() && for_preset(d, preset) && signature.starts_with(d.outcome)) return &d;
  return nullptr;
}

}  // namespace faultline::host
