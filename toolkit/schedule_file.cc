#include "toolkit/schedule_file.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace faultline {

LoadedSchedule load_schedule_file(const std::filesystem::path& path) {
  LoadedSchedule r;
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::exists(status)) {
    r.error = fmt::format("{}: no such file", path.string());
    return r;
  }
  if (!std::filesystem::is_regular_file(status)) {
    r.error = fmt::format("{}: not a regular file", path.string());
    return r;
  }
  const auto size = std::filesystem::file_size(path, ec);
  if (!ec && size > kMaxScheduleBytes) {
    r.error = fmt::format("{}: input too large: {} bytes (at most {})", path.string(), size, kMaxScheduleBytes);
    return r;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    r.error = fmt::format("{}: cannot open: {}", path.string(), std::strerror(errno));
    return r;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  // The content decides, not the name: a binary file named .txtpb loads too.
  ParsedSchedule p = parse_schedule(ss.str());
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

bool write_file_atomic(const std::filesystem::path& path, std::string_view data, std::string* error) {
  const auto dir = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  const auto tmp = dir / fmt::format(".{}.tmp.{}", path.filename().string(), getpid());
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
