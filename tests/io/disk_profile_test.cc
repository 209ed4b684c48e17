#include "strata/disk_profile.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include "tests/testing/test_util.h"

namespace strata {
namespace {

// Sets STRATA_PROFILE for one test and restores it.
class ScopedProfileEnv {
 public:
  explicit ScopedProfileEnv(const char* value) {
    if (const char* old = std::getenv("STRATA_PROFILE")) old_ = old;
    if (value) {
      ::setenv("STRATA_PROFILE", value, 1);
    } else {
      ::unsetenv("STRATA_PROFILE");
    }
  }
  ~ScopedProfileEnv() {
    if (old_.empty()) {
      ::unsetenv("STRATA_PROFILE");
    } else {
      ::setenv("STRATA_PROFILE", old_.c_str(), 1);
    }
  }

 private:
  std::string old_;
};

TEST(DiskProfileTest, ExplicitChoiceWinsOverEnvironment) {
  ScopedProfileEnv env("hdd");
  testing::ScratchDir dir;
  ResolvedDiskProfile r = ResolveDiskProfile(DiskProfile::kSsd, dir.path());
  EXPECT_EQ(r.profile, DiskProfile::kSsd);
  EXPECT_EQ(r.reason, "explicit");
}

TEST(DiskProfileTest, EnvironmentOverridesAuto) {
  ScopedProfileEnv env("ssd");
  testing::ScratchDir dir;
  ResolvedDiskProfile r = ResolveDiskProfile(DiskProfile::kAuto, dir.path());
  EXPECT_EQ(r.profile, DiskProfile::kSsd);
  EXPECT_EQ(r.reason, "auto: STRATA_PROFILE=ssd");
}

TEST(DiskProfileTest, AutoReadsTheDeviceOfAPathThatDoesNotExistYet) {
  ScopedProfileEnv env(nullptr);
  testing::ScratchDir dir;
  ResolvedDiskProfile r = ResolveDiskProfile(DiskProfile::kAuto, dir.Join("not/yet/db"));
  EXPECT_NE(r.profile, DiskProfile::kAuto);
  EXPECT_EQ(r.reason.rfind("auto: ", 0), 0u) << r.reason;
  EXPECT_EQ(DiskProfileName(r.profile), r.profile == DiskProfile::kHdd ? "hdd" : "ssd");
}

}  // namespace
}  // namespace strata
