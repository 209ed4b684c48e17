// Resolving --profile=auto for strata's engines, and saying why.
//
// auto reads the rotational flag of the block device holding the database
// directory (/sys/dev/block/MAJ:MIN/queue/rotational, or its parent for a
// partition). STRATA_PROFILE=ssd|hdd in the environment overrides it,
// because virtio disks often claim rotational=1. The bench passes the
// resolved profile to the engine, so what it prints is what runs.
#pragma once

#include <string>

namespace strata::bench {

struct ProfileChoice {
  std::string profile;  // "ssd" or "hdd"
  std::string reason;   // "--profile=ssd", "auto: .../rotational=0", ...
};

ProfileChoice ResolveProfile(const std::string& flag, const std::string& db_dir);

}  // namespace strata::bench
