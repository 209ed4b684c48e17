#include "lsm/disk_profile.h"

#include <fmt/core.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cstdlib>
#include <fstream>
#include <string_view>

namespace strata::lsm {

namespace {

// Reads a 0/1 file; -1 when it cannot be read.
int ReadFlag(const std::string& path) {
  std::ifstream in(path);
  int v = -1;
  if (!(in >> v)) return -1;
  return v;
}

}  // namespace

ResolvedProfile ResolveDiskProfile(DiskProfile requested, const std::string& path) {
  if (const char* env = std::getenv("STRATA_PROFILE")) {
    const std::string_view v(env);
    if (v == "ssd") return {DiskProfile::kSsd, "STRATA_PROFILE=ssd"};
    if (v == "hdd") return {DiskProfile::kHdd, "STRATA_PROFILE=hdd"};
  }
  if (requested == DiskProfile::kSsd) return {DiskProfile::kSsd, "Options::profile=ssd"};
  if (requested == DiskProfile::kHdd) return {DiskProfile::kHdd, "Options::profile=hdd"};
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    return {DiskProfile::kSsd, "auto: cannot stat " + path + "; defaulting to ssd"};
  }
  const std::string dev =
      fmt::format("/sys/dev/block/{}:{}", major(st.st_dev), minor(st.st_dev));
  for (const std::string& candidate :
       {dev + "/queue/rotational", dev + "/../queue/rotational"}) {
    const int rotational = ReadFlag(candidate);
    if (rotational == 0) return {DiskProfile::kSsd, "auto: " + candidate + "=0"};
    if (rotational == 1) return {DiskProfile::kHdd, "auto: " + candidate + "=1"};
  }
  return {DiskProfile::kSsd, "auto: no rotational flag under " + dev + "; defaulting to ssd"};
}

}  // namespace strata::lsm
