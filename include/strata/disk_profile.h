// Which kind of disk an engine tunes itself for, and why.
//
// Order: an explicit DiskProfile (kSsd, kHdd) wins. For kAuto, the
// environment variable STRATA_PROFILE (ssd|hdd) comes next. Then the
// decision stored with the database (the file PROFILE, io/FORMAT.md), made
// once by detection when the database was first opened for writing. Then
// detection itself: the block device holding `path` (its nearest existing
// ancestor when `path` does not exist yet; the whole disk for a partition) is
// looked up under /sys/dev/block/<major>:<minor>. Its queue/rotational flag
// decides on a local disk. On a device whose flag cannot be trusted (virtio,
// NVMe over fabrics, loop, device-mapper: io/disk_detect.h says how each is
// recognised) a short probe decides: O_DIRECT 4 KiB reads of a scratch file,
// random against sequential (io/disk_detect.h). When nothing can be read or
// measured the answer is ssd. `reason` says which rule decided, so engines and
// tools can report what auto picked.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "strata/options.h"

namespace strata {

// What the probe measured (all zero when it did not run).
struct DiskProbeFigures {
  uint32_t random_reads = 0;
  uint32_t sequential_reads = 0;
  uint64_t random_read_ns = 0;      // median latency of one random 4 KiB read
  uint64_t sequential_read_ns = 0;  // median latency of one sequential 4 KiB read
  uint64_t elapsed_us = 0;          // the whole probe: scratch file, reads, removal
};

struct ResolvedDiskProfile {
  DiskProfile profile = DiskProfile::kSsd;  // never kAuto
  std::string reason;
  // "explicit" (Options::profile), "env" (STRATA_PROFILE), "stored" (the
  // database's PROFILE file) or "detected" (sysfs, and the probe if it ran).
  std::string source;
  // The block device looked at ("vda 254:0 virtio"); empty when not detected.
  std::string device;
  int rotational = -1;  // the device's queue/rotational flag; -1: unread
  bool rotational_trusted = false;
  bool probed = false;
  DiskProbeFigures probe;
};

// Detection without a scratch file of its own: reads a stored decision, and
// probes only in an existing directory (the probe's scratch file lives there).
// Never writes PROFILE. A PROFILE that cannot be read or decoded is ignored
// here (the reason says so); engines reject it (io/disk_detect.h).
ResolvedDiskProfile ResolveDiskProfile(DiskProfile requested, const std::string& path);

// "ssd", "hdd" or "auto".
std::string_view DiskProfileName(DiskProfile profile);

// One line: "ssd (detected): <reason>".
std::string DescribeDiskProfile(const ResolvedDiskProfile& resolved);

}  // namespace strata
