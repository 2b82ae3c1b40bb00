// Where tests find data: the repository's tests/data and the project's ../shared/fixtures.
// Tests that need ../shared call STILTS_REQUIRE_SHARED() first: it skips cleanly when it is absent
// (a user's clone has no ../shared).
#pragma once

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>

#include "test_paths.h"

namespace stilts::testing {

// STILTS_SHARED_DIR in the environment overrides the folder configured at build time.
inline std::filesystem::path shared_dir() {
  if (const char* env = std::getenv("STILTS_SHARED_DIR")) return env;
  return STILTS_SHARED_DIR_DEFAULT;
}

inline std::filesystem::path fixtures_dir() { return shared_dir() / "fixtures"; }
// The real XTREME-R task files (fixtures/data/xtreme-r; its README says where each comes from).
inline std::filesystem::path xtreme_r_dir() { return fixtures_dir() / "data" / "xtreme-r"; }
inline std::filesystem::path repo_dir() { return STILTS_SOURCE_DIR; }
inline std::filesystem::path test_data_dir() { return repo_dir() / "tests" / "data"; }
inline std::filesystem::path cli_path() { return STILTS_CLI_PATH; }

// A fresh empty directory under the system temp folder, named after the running test, inside a folder
// of this checkout's own (two checkouts' test suites running at once, e.g. a clean-clone CI check
// beside a developer's, never share one; the same test reuses its directory from run to run).
inline std::filesystem::path make_temp_dir() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name = std::string("stilts-") + info->test_suite_name() + "-" + info->name();
  for (char& c : name) {
    if (c == '/') c = '_';
  }
  char checkout[17];
  std::snprintf(checkout, sizeof checkout, "%016zx", std::hash<std::string>{}(repo_dir().string()));
  auto dir = std::filesystem::temp_directory_path() / (std::string("stilts-tests-") + checkout) / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace stilts::testing

#define STILTS_REQUIRE_SHARED(sub)                                                        \
  do {                                                                                    \
    if (!std::filesystem::exists(::stilts::testing::fixtures_dir() / (sub))) {           \
      GTEST_SKIP() << "needs ../shared/fixtures/" << (sub) << " (absent in this checkout)"; \
    }                                                                                     \
  } while (false)
