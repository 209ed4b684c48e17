// Disk profile resolution: which kind of disk the engine tunes itself for.
//
// Order: the STRATA_PROFILE environment variable (ssd|hdd) wins, because
// virtio disks often claim rotational=1; then an explicit Options::profile;
// then /sys/dev/block/<major>:<minor>/queue/rotational of the device holding
// the database (or of its parent disk, for a partition). When nothing can be
// read the profile is ssd. `reason` says which rule decided, for the
// engine's properties and tools.
#pragma once

#include <string>

#include "strata/options.h"

namespace strata::lsm {

struct ResolvedProfile {
  DiskProfile profile = DiskProfile::kSsd;
  std::string reason;
};

ResolvedProfile ResolveDiskProfile(DiskProfile requested, const std::string& path);

}  // namespace strata::lsm
