// Which kind of disk an engine tunes itself for, and why.
//
// Order: an explicit DiskProfile (kSsd, kHdd) wins. For kAuto, the
// environment variable STRATA_PROFILE (ssd|hdd) comes first, because virtio
// disks often claim rotational=1; then /sys/dev/block/<major>:<minor>/queue/
// rotational of the device holding `path` (or of its parent disk, for a
// partition; `path` may not exist yet, its nearest existing ancestor is
// used). When nothing can be read the answer is ssd. `reason` says which
// rule decided, so engines and tools can report what auto picked.
#pragma once

#include <string>
#include <string_view>

#include "strata/options.h"

namespace strata {

struct ResolvedDiskProfile {
  DiskProfile profile = DiskProfile::kSsd;  // never kAuto
  std::string reason;
};

ResolvedDiskProfile ResolveDiskProfile(DiskProfile requested, const std::string& path);

// "ssd", "hdd" or "auto".
std::string_view DiskProfileName(DiskProfile profile);

}  // namespace strata
