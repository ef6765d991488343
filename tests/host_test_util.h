// Helpers for running schedules on the host kernel in tests.
#pragma once

#include <gtest/gtest.h>

#include "host/oracle.h"
#include "tests/test_util.h"

namespace faultline::testing {

// The host side of the tests: REGULAR files are unnamed files in the build's bin directory.
inline const host::HostEnv& host_env() {
  static const host::HostEnv env = [] {
    std::string error;
    auto e = host::probe_env(FAULTLINE_BIN_DIR, &error);
    EXPECT_TRUE(e) << error;
    return e ? *e : host::HostEnv{};
  }();
  return env;
}

// The newest preset, on which the host's kernel is the closest.
inline const char* newest_preset() { return mm::kernel_presets().back().name; }

// Runs s on `preset` and on the host; a difference fails the test, a
// schedule the host cannot run here skips it with the reason.
inline void expect_agrees_on_host(const Schedule& s, const char* preset = newest_preset()) {
  const host::HostComparison c = host::compare_with_host(s, *mm::preset_config(preset), host_env());
  if (c.verdict == host::HostVerdict::Refused) GTEST_SKIP() << "not run on the host: " << c.refusal;
  EXPECT_EQ(c.verdict, host::HostVerdict::Agree) << host::render_comparison(s, c, host_env());
}

}  // namespace faultline::testing
