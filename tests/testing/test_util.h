// Helpers shared by every test: scratch directories and seeds.
#pragma once

#include <cstdint>
#include <string>

namespace strata::testing {

// A fresh empty directory for this test, removed on destruction unless the
// test failed (kept for inspection; the path is printed).
class ScratchDir {
 public:
  ScratchDir();
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::string& path() const { return path_; }
  std::string Join(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// The seed for a randomized test: STRATA_SEED from the environment if set,
// else `default_seed`. Print it with SCOPED_TRACE so a failure can be replayed.
uint64_t TestSeed(uint64_t default_seed);

}  // namespace strata::testing
