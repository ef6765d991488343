// faultline corpus: merge, convert, check, stats (see the fuzzing issue).
#include "replay/commands.h"

namespace faultline::cli {

void add_corpus(CLI::App& app, int& exit_code) {}

}  // namespace faultline::cli
