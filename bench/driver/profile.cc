#include "bench/driver/profile.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cstdlib>
#include <fstream>
#include <string>

namespace strata::bench {

namespace {

// Reads "0" or "1" from a sysfs file; -1 if unreadable.
int ReadFlag(const std::string& path) {
  std::ifstream in(path);
  int v = -1;
  if (!(in >> v)) return -1;
  return v;
}

// The nearest existing ancestor of `path` (the db directory may not exist yet).
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

ProfileChoice ResolveProfile(const std::string& flag, const std::string& db_dir) {
  if (flag == "ssd" || flag == "hdd") return {flag, "--profile=" + flag};
  if (const char* env = std::getenv("STRATA_PROFILE")) {
    const std::string v = env;
    if (v == "ssd" || v == "hdd") return {v, "auto: STRATA_PROFILE=" + v};
  }
  struct stat st {};
  const std::string dir = ExistingAncestor(db_dir);
  if (::stat(dir.c_str(), &st) != 0) return {"ssd", "auto: cannot stat " + dir + ", assumed ssd"};
  const std::string base = "/sys/dev/block/" + std::to_string(major(st.st_dev)) + ":" +
                           std::to_string(minor(st.st_dev));
  for (const std::string& path : {base + "/queue/rotational", base + "/../queue/rotational"}) {
    const int rotational = ReadFlag(path);
    if (rotational == 0 || rotational == 1) {
      return {rotational == 1 ? "hdd" : "ssd",
              "auto: " + path + "=" + std::to_string(rotational) +
                  (rotational == 1 ? "; virtio disks often claim 1, override with --profile=ssd"
                                   : "")};
    }
  }
  return {"ssd", "auto: no rotational flag for " + dir + " (" + base + "), assumed ssd"};
}

}  // namespace strata::bench
