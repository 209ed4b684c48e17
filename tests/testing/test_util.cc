#include "tests/testing/test_util.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace strata::testing {

ScratchDir::ScratchDir() {
  const char* base = std::getenv("STRATA_TEST_TMPDIR");
  std::string root = base ? base : (std::filesystem::temp_directory_path() / "strata-test").string();
  std::error_code ec;
  std::filesystem::create_directories(root, ec);
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name = info ? std::string(info->test_suite_name()) + "." + info->name() : "test";
  for (char& c : name) {
    if (c == '/') c = '_';
  }
  std::string templ = root + "/" + name + ".XXXXXX";
  char* made = ::mkdtemp(templ.data());
  if (made == nullptr) {
    ADD_FAILURE() << "mkdtemp failed for " << templ;
    path_ = root;
    return;
  }
  path_ = made;
}

ScratchDir::~ScratchDir() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  if (info && info->result()->Failed()) {
    std::fprintf(stderr, "kept scratch directory %s\n", path_.c_str());
    return;
  }
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

uint64_t TestSeed(uint64_t default_seed) {
  if (const char* env = std::getenv("STRATA_SEED")) return std::strtoull(env, nullptr, 10);
  return default_seed;
}

}  // namespace strata::testing
