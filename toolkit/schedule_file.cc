#include "toolkit/schedule_file.h"

#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace faultline {

std::optional<std::string> read_input_file(const std::filesystem::path& path, size_t max_bytes, std::string* error) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::exists(status)) {
    *error = fmt::format("{}: no such file", path.string());
    return std::nullopt;
  }
  if (!std::filesystem::is_regular_file(status)) {
    *error = fmt::format("{}: not a regular file", path.string());
    return std::nullopt;
  }
  const auto size = std::filesystem::file_size(path, ec);
  if (!ec && size > max_bytes) {
    *error = fmt::format("{}: input too large: {} bytes (at most {})", path.string(), size, max_bytes);
    return std::nullopt;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *error = fmt::format("{}: cannot open: {}", path.string(), std::strerror(errno));
    return std::nullopt;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

LoadedSchedule load_schedule_file(const std::filesystem::path& path) {
  LoadedSchedule r;
  const std::optional<std::string> text = read_input_file(path, kMaxScheduleBytes, &r.error);
  if (!text) return r;
  // The content decides, not the name: a binary file named .txtpb loads too.
  ParsedSchedule p = parse_schedule(*text);
  if (!p.schedule) {
    r.error = fmt::format("{}: {}", path.string(), p.error);
    return r;
  }
  r.schedule = std::move(p.schedule);
  r.format = p.format;
  return r;
}

ScheduleFormat format_for_path(const std::filesystem::path& path) {
  const auto ext = path.extension();
  return ext == ".txtpb" || ext == ".textproto" || ext == ".txt" ? ScheduleFormat::Text : ScheduleFormat::Binary;
}

std::string signature_file_name(const std::string& signature) {
  std::string name;
  for (char c : signature) name += (isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.') ? c : '_';
  return name.substr(0, 120) + ".txtpb";
}

namespace {

// write_file_atomic's temporary file: ".<name>.tmp.<pid>" beside the file.
constexpr std::string_view kTemporaryInfix = ".tmp.";

std::filesystem::path temporary_for(const std::filesystem::path& path) {
  const auto dir = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  return dir / fmt::format(".{}{}{}", path.filename().string(), kTemporaryInfix, getpid());
}

// The pid of the process that wrote a temporary file, or 0 if the name is not one.
pid_t temporary_writer(const std::string& name) {
  const size_t at = name.rfind(kTemporaryInfix);
  if (name.empty() || name[0] != '.' || at == std::string::npos) return 0;
  const std::string pid = name.substr(at + kTemporaryInfix.size());
  if (pid.empty() || pid.size() > 9 || !std::all_of(pid.begin(), pid.end(), ::isdigit)) return 0;
  return pid_t(std::stoi(pid));
}

}  // namespace

size_t remove_stale_temporaries(const std::filesystem::path& dir) {
  size_t removed = 0;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator(dir, ec); !ec && it != std::filesystem::directory_iterator();
       it.increment(ec)) {
    const pid_t writer = temporary_writer(it->path().filename().string());
    if (!writer || !it->is_regular_file()) continue;
    if (writer != getpid() && kill(writer, 0) == 0) continue;  // its writer still runs
    if (std::error_code rm; std::filesystem::remove(it->path(), rm)) ++removed;
  }
  return removed;
}

bool write_file_atomic(const std::filesystem::path& path, std::string_view data, std::string* error) {
  const auto tmp = temporary_for(path);
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(data.data(), std::streamsize(data.size()));
    out.flush();
    if (!out) {
      if (error) *error = fmt::format("{}: cannot write: {}", path.string(), std::strerror(errno));
      std::filesystem::remove(tmp);
      return false;
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    if (error) *error = fmt::format("{}: cannot rename into place: {}", path.string(), ec.message());
    std::filesystem::remove(tmp);
    return false;
  }
  return true;
}

bool save_schedule_file(const std::filesystem::path& path, const Schedule& s, std::string* error,
                        ScheduleFormat format) {
  if (format == ScheduleFormat::Auto) format = format_for_path(path);
  return write_file_atomic(path, format == ScheduleFormat::Text ? to_text(s) : to_binary(s), error);
}

}  // namespace faultline
