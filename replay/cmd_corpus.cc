// faultline corpus merge|convert|check|stats: corpora shared between libFuzzer,
// AFL++ and machines. Writes are atomic; inputs are never modified or deleted.
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <vector>

#include "host/oracle.h"
#include "replay/commands.h"
#include "toolkit/record.h"
#include "toolkit/coverage.h"
#include "toolkit/schedule_file.h"
#include "vmcore/run.h"

namespace faultline::cli {

namespace {

namespace fs = std::filesystem;

// Every regular file under the paths (recursively), sorted; AFL++ bookkeeping
// (.state, .synced, fuzzer_stats, fuzzer_setup, ...) and hidden files are skipped.
std::vector<fs::path> input_files(const std::vector<std::string>& paths) {
  std::vector<fs::path> files;
  auto wanted = [](const fs::path& p) {
    const std::string name = p.filename().string();
    if (name.empty() || name[0] == '.' || name == "README.txt") return false;
    for (const auto& part : p)
      if (part == ".state" || part == ".synced" || part == "plot_data" || part == "fuzzer_stats" ||
          part == "fuzzer_setup" || part == "fuzz_bitmap" || part == "cmdline" || part == "is_main_node" ||
          part == "target_hash")
        return false;
    return true;
  };
  for (const std::string& p : paths) {
    std::error_code ec;
    if (fs::is_regular_file(p, ec)) {
      files.emplace_back(p);
      continue;
    }
    if (!fs::is_directory(p, ec)) continue;
    for (auto it = fs::recursive_directory_iterator(p, ec); !ec && it != fs::recursive_directory_iterator(); ++it)
      if (it->is_regular_file() && wanted(it->path())) files.push_back(it->path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string content_name(const std::string& binary) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : binary) h = (h ^ c) * 0x100000001b3ull;
  return fmt::format("{:016x}.pb", h);
}

// ---- merge -----------------------------------------------------------------------

struct MergeArgs {
  std::string out;
  std::vector<std::string> inputs;
  std::string kernel;
};

// What a run covers, for merging: the labels it reached (with libFuzzer-style
// hit-count buckets: the command has no code coverage of its own), its
// interleaving features, and its failure signature.
std::set<uint32_t> merge_features(Runner& runner, InterleavingCoverage& coverage, const Outcome& out) {
  std::set<uint32_t> features;
  coverage.collect(runner.events(), [&](uint32_t f) { features.insert(f); });
  if (!out.signature.empty()) features.insert(feature_hash(FeatureKind::Outcome, sim::fnv1a32(out.signature.c_str())));
  return features;
}

// Keeps the inputs that add coverage, smallest first; what OUT already holds
// counts as covered.
int merge(const MergeArgs& args) {
  std::optional<mm::KernelConfig> kernel;
  if (!parse_kernel(args.kernel, &kernel)) return kExitBadInput;
  struct Candidate {
    std::string binary;
    fs::path from;
  };
  std::vector<Candidate> existing, candidates;
  size_t unreadable = 0;
  for (const fs::path& f : input_files({args.out})) {
    if (const LoadedSchedule l = load_schedule_file(f); l.schedule) existing.push_back({to_binary(*l.schedule), f});
  }
  for (const fs::path& f : input_files(args.inputs)) {
    const LoadedSchedule l = load_schedule_file(f);
    if (!l.schedule) {
      ++unreadable;
      continue;
    }
    candidates.push_back({to_binary(*l.schedule), f});
  }
  std::stable_sort(candidates.begin(), candidates.end(),
                   [](const Candidate& a, const Candidate& b) { return a.binary.size() < b.binary.size(); });
  std::error_code ec;
  fs::create_directories(args.out, ec);
  if (ec) {
    error_line(fmt::format("{}: cannot create: {}", args.out, ec.message()));
    return kExitBadInput;
  }
  if (const size_t stale = remove_stale_temporaries(args.out))
    fmt::print("merge: removed {} temporary file{} of a merge that was killed\n", stale, stale == 1 ? "" : "s");
  std::set<uint32_t> features;
  std::set<std::string> names;
  Runner runner;
  InterleavingCoverage coverage(kInterleavingFeatures | feature_bit(FeatureKind::Label));
  // Runs c and adds its features; true if it added any. nullopt: invalid.
  auto covers_more = [&](const Candidate& c) -> std::optional<bool> {
    Schedule s;
    parse_binary(c.binary, &s);
    sim::ReplayStrategy strategy = replay_strategy(s);
    const Outcome out = runner.run(s, strategy, RunOptions{.kernel = kernel, .keep_results = false});
    if (out.kind == OutcomeKind::InvalidSchedule) return std::nullopt;
    const size_t before = features.size();
    features.merge(merge_features(runner, coverage, out));
    return features.size() > before;
  };
  for (const Candidate& c : existing) {
    names.insert(c.from.filename().string());
    covers_more(c);
  }
  const size_t had = features.size();
  size_t kept = 0, invalid = 0;
  for (const Candidate& c : candidates) {
    const std::optional<bool> more = covers_more(c);
    if (!more) ++invalid;
    if (!more.value_or(false)) continue;
    const std::string name = content_name(c.binary);
    if (names.insert(name).second) {
      std::string error;
      if (!write_file_atomic(fs::path(args.out) / name, c.binary, &error)) {
        error_line(error);
        return kExitBadInput;
      }
    }
    ++kept;
  }
  fmt::print(
      "merge: {} inputs read, {} added to {} ({} files there before); {} features, {} new; {} unreadable, {} invalid\n",
      candidates.size(), kept, args.out, existing.size(), features.size(), features.size() - had, unreadable, invalid);
  return kExitOk;
}

// ---- convert -----------------------------------------------------------------------

struct ConvertArgs {
  std::string in;
  std::string out;
  std::string to;  // text | binary (default: by the output's extension, or binary for a directory)
};

// True if b is a or lies inside it.
bool within(const fs::path& a, const fs::path& b) {
  std::error_code ec;
  const fs::path ca = fs::weakly_canonical(a, ec), cb = fs::weakly_canonical(b, ec);
  const auto [ai, bi] = std::mismatch(ca.begin(), ca.end(), cb.begin(), cb.end());
  return ai == ca.end();
}

int convert(const ConvertArgs& args) {
  std::error_code ec;
  const bool dir = fs::is_directory(args.in, ec);
  auto format_for = [&](const fs::path& out) {
    if (args.to == "text") return ScheduleFormat::Text;
    if (args.to == "binary") return ScheduleFormat::Binary;
    return format_for_path(out);
  };
  if (within(args.in, args.out)) {
    error_line(fmt::format("{}: the output lies in the input; inputs are never modified", args.out));
    return kExitBadInput;
  }
  if (!dir) {
    const LoadedSchedule l = load_schedule_file(args.in);
    if (!l.schedule) {
      error_line(l.error);
      return kExitBadInput;
    }
    std::string error;
    if (!save_schedule_file(args.out, *l.schedule, &error, format_for(args.out))) {
      error_line(error);
      return kExitBadInput;
    }
    return kExitOk;
  }
  const std::string ext = args.to == "text" ? ".txtpb" : ".pb";
  size_t converted = 0, failed = 0;
  std::map<fs::path, fs::path> written;  // output -> the input it came from
  for (const fs::path& f : input_files({args.in})) {
    // The input's layout is kept (AFL++ sync directories hold equal names).
    const fs::path out = fs::path(args.out) / fs::relative(f, args.in).replace_extension(ext);
    if (const auto [at, fresh] = written.emplace(out, f); !fresh) {
      error_line(fmt::format("{}: not written: {} converts to the same name", f.string(), at->second.string()));
      ++failed;
      continue;
    }
    const LoadedSchedule l = load_schedule_file(f);
    std::string error;
    fs::create_directories(out.parent_path(), ec);
    if (!l.schedule || !save_schedule_file(out, *l.schedule, &error, format_for(out))) {
      error_line(l.schedule ? error : l.error);
      ++failed;
      continue;
    }
    ++converted;
  }
  fmt::print("convert: {} files written to {}{}\n", converted, args.out,
             failed ? fmt::format(", {} failed", failed) : "");
  return failed ? kExitBadInput : kExitOk;
}

// ---- check -----------------------------------------------------------------------------

struct CheckArgs {
  std::vector<std::string> paths;
  std::string kernel;
};

// Every file parses and replays; recorded outcomes still hold.
int check(const CheckArgs& args) {
  std::optional<mm::KernelConfig> kernel;
  if (!parse_kernel(args.kernel, &kernel)) return kExitBadInput;
  size_t ok = 0, bad = 0, departed = 0;
  Runner runner;
  for (const fs::path& f : input_files(args.paths)) {
    const LoadedSchedule l = load_schedule_file(f);
    if (!l.schedule) {
      fmt::print("FAIL {}\n", l.error);
      ++bad;
      continue;
    }
    sim::ReplayStrategy strategy = replay_strategy(*l.schedule);
    const Outcome out = runner.run(*l.schedule, strategy, RunOptions{.kernel = kernel, .keep_results = false});
    if (out.kind == OutcomeKind::InvalidSchedule) {
      fmt::print("FAIL {}: invalid schedule: {}", f.string(), out.report);
      ++bad;
      continue;
    }
    const Recording& rec = l.schedule->recording();
    if (!kernel && !rec.outcome().empty() &&
        (rec.outcome() != outcome_name(out.kind) || rec.signature() != out.signature)) {
      fmt::print("DEPARTS {}: recorded {} {}, now {} {}\n", f.string(), rec.outcome(), rec.signature(),
                 outcome_name(out.kind), out.signature);
      ++departed;
      continue;
    }
    ++ok;
  }
  fmt::print("check: {} ok, {} departing from their recording, {} failing to load or replay\n", ok, departed, bad);
  return bad || departed ? kExitFailure : kExitOk;
}

// ---- stats -----------------------------------------------------------------------------

struct StatsArgs {
  std::vector<std::string> paths;
  std::string kernel;
};

int stats(const StatsArgs& args) {
  std::optional<mm::KernelConfig> kernel;
  if (!parse_kernel(args.kernel, &kernel)) return kExitBadInput;
  size_t files = 0, unreadable = 0, bytes = 0, tasks = 0, syscalls = 0, decisions = 0;
  std::map<std::string, size_t> outcomes, calls, formats, presets;
  std::set<uint32_t> features;
  Runner runner;
  InterleavingCoverage coverage;
  for (const fs::path& f : input_files(args.paths)) {
    const LoadedSchedule l = load_schedule_file(f);
    if (!l.schedule) {
      ++unreadable;
      continue;
    }
    const Schedule& s = *l.schedule;
    ++files;
    bytes += s.ByteSizeLong();
    ++formats[l.format == ScheduleFormat::Text ? "text" : "binary"];
    ++presets[s.kernel().preset().empty() ? "v2.6.20" : s.kernel().preset()];
    tasks += size_t(s.tasks_size());
    decisions += size_t(s.decisions_size());
    for (const Task& t : s.tasks())
      for (const Syscall& c : t.syscalls()) {
        ++syscalls;
        ++calls[Syscall::descriptor()->FindFieldByNumber(c.call_case())
                    ? Syscall::descriptor()->FindFieldByNumber(c.call_case())->name()
                    : "none"];
      }
    sim::ReplayStrategy strategy = replay_strategy(s);
    const Outcome out = runner.run(s, strategy, RunOptions{.kernel = kernel, .keep_results = false});
    ++outcomes[out.signature.empty() ? outcome_name(out.kind)
                                     : fmt::format("{} {}", outcome_name(out.kind), out.signature)];
    if (out.kind != OutcomeKind::InvalidSchedule)
      coverage.collect(runner.events(), [&](uint32_t x) { features.insert(x); });
  }
  fmt::print("files: {} ({} unreadable), {} bytes of schedules\n", files, unreadable, bytes);
  if (files)
    fmt::print("per schedule: {:.1f} tasks, {:.1f} syscalls, {:.1f} decisions\n", double(tasks) / double(files),
               double(syscalls) / double(files), double(decisions) / double(files));
  fmt::print("interleaving features: {}\n", features.size());
  auto table = [](const char* title, const std::map<std::string, size_t>& m) {
    fmt::print("{}:\n", title);
    for (const auto& [k, n] : m) fmt::print("  {:>6}  {}\n", n, k);
  };
  table("formats", formats);
  table("kernels (as written)", presets);
  table("syscalls", calls);
  table(kernel ? "outcomes (on the given kernel)" : "outcomes", outcomes);
  return kExitOk;
}

// ---- host-parts ------------------------------------------------------------------

struct HostPartsArgs {
  std::string out;
  std::vector<std::string> inputs;
  std::string kernel;
};

// Each task of each input alone, made host-runnable: the starting corpus of
// fuzz_host_diff. Only parts the host runs on the kernel are written.
int host_parts(const HostPartsArgs& args) {
  std::optional<mm::KernelConfig> kernel;
  if (!parse_kernel(args.kernel.empty() ? mm::kernel_presets().back().name : args.kernel, &kernel))
    return kExitBadInput;
  std::error_code ec;
  fs::create_directories(args.out, ec);
  std::string error;
  const std::optional<host::HostEnv> env = host::probe_env(args.out, &error);
  if (!env) {
    error_line(error);
    return kExitBadInput;
  }
  size_t written = 0, refused = 0;
  for (const fs::path& f : input_files(args.inputs)) {
    const LoadedSchedule l = load_schedule_file(f);
    if (!l.schedule) {
      error_line(l.error);
      continue;
    }
    for (Schedule part : host::single_task_parts(*l.schedule)) {
      host::make_host_runnable(part, *env);
      *part.mutable_kernel() = kernel_message(*kernel);
      if (host::compare_with_host(part, *kernel, *env).verdict == host::HostVerdict::Refused) {
        ++refused;
        continue;
      }
      seal(part);
      const std::string binary = part.SerializeAsString();
      if (!write_file_atomic(fs::path(args.out) / content_name(binary), binary, &error)) {
        error_line(error);
        return kExitBadInput;
      }
      ++written;
    }
  }
  fmt::print("{} single-task parts written to {}, {} the host cannot run\n", written, args.out, refused);
  return kExitOk;
}

}  // namespace

void add_corpus(CLI::App& app, int& exit_code) {
  CLI::App* corpus = app.add_subcommand("corpus", "Corpus tools: merge, convert, check, stats, host-parts");
  corpus->require_subcommand(1);

  auto hargs = std::make_shared<HostPartsArgs>();
  CLI::App* h = corpus->add_subcommand(
      "host-parts", "Write each task of each schedule alone, as the host can run it, into OUT (fuzz_host_diff's corpus)");
  h->add_option("out", hargs->out, "Output directory (created)")->required();
  h->add_option("inputs", hargs->inputs, "Input files or directories")->required();
  h->add_option("--kernel", hargs->kernel, "Keep the parts the host runs on this preset (default: the newest)");
  h->callback([hargs, &exit_code] { exit_code = host_parts(*hargs); });

  auto margs = std::make_shared<MergeArgs>();
  CLI::App* m = corpus->add_subcommand("merge", "Merge corpora (libFuzzer and AFL++ outputs) into OUT, by coverage");
  m->add_option("out", margs->out, "Output directory (created; existing files are kept)")->required();
  m->add_option("inputs", margs->inputs, "Input files or directories (searched recursively)")->required();
  m->add_option("--kernel", margs->kernel, "Measure coverage on this preset");
  m->callback([margs, &exit_code] { exit_code = merge(*margs); });

  auto cargs = std::make_shared<ConvertArgs>();
  CLI::App* c = corpus->add_subcommand("convert", "Convert between text (.txtpb) and binary schedules");
  c->add_option("in", cargs->in, "A file or a directory")->required();
  c->add_option("out", cargs->out, "A file (format by extension) or a directory")->required();
  c->add_option("--to", cargs->to, "text or binary")->check(CLI::IsMember({"text", "binary"}));
  c->callback([cargs, &exit_code] { exit_code = convert(*cargs); });

  auto kargs = std::make_shared<CheckArgs>();
  CLI::App* k = corpus->add_subcommand("check", "Check that every file parses, replays and keeps its recorded outcome");
  k->add_option("paths", kargs->paths, "Files or directories")->required();
  k->add_option("--kernel", kargs->kernel, "Replay on this preset (recorded outcomes are then not compared)");
  k->callback([kargs, &exit_code] { exit_code = check(*kargs); });

  auto sargs = std::make_shared<StatsArgs>();
  CLI::App* st = corpus->add_subcommand("stats", "Summarize a corpus");
  st->add_option("paths", sargs->paths, "Files or directories")->required();
  st->add_option("--kernel", sargs->kernel, "Replay on this preset");
  st->callback([sargs, &exit_code] { exit_code = stats(*sargs); });
}

}  // namespace faultline::cli
