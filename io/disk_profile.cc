#include "strata/disk_profile.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cstdlib>
#include <fstream>
#include <string>

namespace strata {

namespace {

// Reads a 0/1 sysfs flag; -1 when it cannot be read.
int ReadFlag(const std::string& path) {
  std::ifstream in(path);
  int v = -1;
  if (!(in >> v)) return -1;
  return v;
}

// The nearest existing ancestor of `path` (a new database does not exist yet).
std::string ExistingAncestor(std::string path) {
  struct stat st {};
  while (!path.empty() && ::stat(path.c_str(), &st) != 0) {
    const size_t slash = path.find_last_of('/');
    if (slash == std::string::npos) return ".";
    path = slash == 0 ? "/" : path.substr(0, slash);
  }
  return path.empty() ? "." : path;
}

}  // namespace

std::string_view DiskProfileName(DiskProfile profile) {
  switch (profile) {
    case DiskProfile::kSsd: return "ssd";
    case DiskProfile::kHdd: return "hdd";
    case DiskProfile::kAuto: return "auto";
  }
  return "auto";
}

ResolvedDiskProfile ResolveDiskProfile(DiskProfile requested, const std::string& path) {
  if (requested == DiskProfile::kSsd) return {DiskProfile::kSsd, "explicit"};
  if (requested == DiskProfile::kHdd) return {DiskProfile::kHdd, "explicit"};
  if (const char* env = std::getenv("STRATA_PROFILE")) {
    const std::string_view v(env);
    if (v == "ssd") return {DiskProfile::kSsd, "auto: STRATA_PROFILE=ssd"};
    if (v == "hdd") return {DiskProfile::kHdd, "auto: STRATA_PROFILE=hdd"};
  }
  const std::string dir = ExistingAncestor(path);
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) {
    return {DiskProfile::kSsd, "auto: cannot stat " + dir + "; assumed ssd"};
  }
  const std::string dev = "/sys/dev/block/" + std::to_string(major(st.st_dev)) + ":" +
                          std::to_string(minor(st.st_dev));
  for (const std::string& candidate : {dev + "/queue/rotational", dev + "/../queue/rotational"}) {
    const int rotational = ReadFlag(candidate);
    if (rotational == 0) return {DiskProfile::kSsd, "auto: " + candidate + "=0"};
    if (rotational == 1) {
      return {DiskProfile::kHdd,
              "auto: " + candidate +
                  "=1 (virtio disks often claim 1; override with profile=ssd or STRATA_PROFILE)"};
    }
  }
  return {DiskProfile::kSsd, "auto: no rotational flag under " + dev + "; assumed ssd"};
}

}  // namespace strata
