// Schedule files on disk: bounded reads, format by content (or extension when
// writing), and atomic writes (a temporary file, then rename).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "vmcore/schedule/schedule_io.h"

namespace faultline {

struct LoadedSchedule {
  std::optional<Schedule> schedule;
  ScheduleFormat format = ScheduleFormat::Auto;
  std::string error;  // "path: what is wrong" when schedule is empty
};

LoadedSchedule load_schedule_file(const std::filesystem::path& path);
// A regular file of at most max_bytes, or nullopt and *error ("path: why").
std::optional<std::string> read_input_file(const std::filesystem::path& path, size_t max_bytes, std::string* error);

// .txtpb (and .textproto, .txt) is text; anything else binary.
ScheduleFormat format_for_path(const std::filesystem::path& path);

// A file name for a failure signature: "dangling-mapping:do_no_page" ->
// "dangling-mapping_do_no_page.txtpb".
std::string signature_file_name(const std::string& signature);

// Writes a temporary file beside path, then renames it into place.
bool write_file_atomic(const std::filesystem::path& path, std::string_view data, std::string* error);
// Removes the temporary files of write_file_atomic in dir whose writer no
// longer runs (a killed merge); returns how many.
size_t remove_stale_temporaries(const std::filesystem::path& dir);
bool save_schedule_file(const std::filesystem::path& path, const Schedule& s, std::string* error,
                        ScheduleFormat format = ScheduleFormat::Auto);

}  // namespace faultline
