// Disk profile detection for engines and tools: what the block device under a
// directory is, whether its rotational flag can be trusted, a short probe
// that measures it when not, and the PROFILE file that stores the decision
// with a database (io/FORMAT.md).
//
// How the device kinds whose rotational flag is not trusted are recognised,
// under <sysfs>/dev/block/<major>:<minor> (resolved through its symlink; for a
// partition, a directory holding a `partition` file, its parent disk):
// - virtio: the disk's canonical sysfs path has a "virtio<N>" component
//   (…/virtio1/block/vda). The host decides what the flag says: a virtio disk
//   backed by an SSD or a host page cache often claims rotational=1.
// - NVMe over fabrics: the name starts with "nvme" and the controller's
//   `transport` (device/transport, or device/nvme*/transport for a
//   multipath head) is not "pcie" (tcp, rdma, fc, loop, or unreadable).
// - loop: the name starts with "loop" or the disk has a `loop/` directory.
//   Its flag says nothing about the disk under the backing file.
// - device-mapper: the disk has a `dm/` directory (dm-N: LVM, crypt,
//   multipath). Its flag is inherited from some of its tables' devices.
// Every other device's flag is trusted.
//
// Thread safety: all functions may be called concurrently.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "io/file_system.h"
#include "strata/disk_profile.h"
#include "strata/status.h"

namespace strata::io {

inline constexpr std::string_view kProfileFileName = "PROFILE";
// The probe's scratch file, in the database directory; removed by the probe
// (a leftover from a crash is overwritten by the next probe).
inline constexpr std::string_view kProbeFileName = "PROFILE.probe";

enum class BlockDeviceKind : uint8_t { kLocal, kVirtio, kNvmeFabrics, kLoop, kDeviceMapper };
std::string_view BlockDeviceKindName(BlockDeviceKind kind);

struct BlockDevice {
  bool found = false;  // <sysfs>/dev/block/<major>:<minor> exists
  std::string name;    // "vda", "nvme0n1", "dm-0"
  unsigned major = 0;
  unsigned minor = 0;
  BlockDeviceKind kind = BlockDeviceKind::kLocal;
  std::string transport;  // NVMe only: "pcie", "tcp", ...
  int rotational = -1;    // queue/rotational; -1: unreadable
  bool rotational_trusted() const { return kind == BlockDeviceKind::kLocal && rotational >= 0; }
  // "vda 254:0 virtio rotational=1".
  std::string Describe() const;
};

// Reads the sysfs tree rooted at `sysfs_root` ("/sys"; tests pass a fake tree).
BlockDevice ClassifyBlockDevice(const std::string& sysfs_root, unsigned major, unsigned minor);

struct DiskProbeOptions {
  uint64_t file_bytes = 2 * 1024 * 1024;  // scratch file, written with O_DIRECT
  uint32_t reads_per_pattern = 32;        // 4 KiB reads, random and sequential
  uint32_t reads_min = 8;                 // fewer by the budget: no verdict
  // Each pattern stops at this much time (an HDD's random reads are slow).
  std::chrono::milliseconds budget_per_pattern{60};
  uint64_t seed = 0x9E3779B97F4A7C15ULL;
};

// Writes the scratch file in `dir` with O_DIRECT, fdatasyncs it, times random
// and then sequential O_DIRECT 4 KiB reads of it, and removes it.
// NotSupported where O_DIRECT is refused (tmpfs); other failures are IOError.
Status ProbeDisk(FileSystem* fs, const std::string& dir, const DiskProbeOptions& options,
                 DiskProbeFigures* figures);

// The probe's verdict: hdd when random reads take at least kProbeHddRandomNs
// and kProbeHddRatio times the sequential ones (a seek and a rotation against
// the drive's read-ahead), else ssd. `why` gets the figures in words.
inline constexpr uint64_t kProbeHddRandomNs = 1'000'000;
inline constexpr double kProbeHddRatio = 4.0;
DiskProfile ClassifyProbe(const DiskProbeFigures& figures, std::string* why);

struct DetectOptions {
  bool allow_probe = true;  // the probe writes a scratch file in `dir`
  bool read_stored = true;  // false: ignore a stored PROFILE (strata io probe)
  bool force_probe = false;  // probe even when the flag is trusted
  std::string sysfs_root = "/sys";  // test hook
  DiskProbeOptions probe;
  // Runs the probe; null: DefaultFileSystem() (the real disk, whatever
  // wrapper the engine uses: a fault-injecting one keeps its schedule).
  FileSystem* probe_fs = nullptr;
};

// The resolution order of strata/disk_profile.h. A stored PROFILE that
// cannot be decoded is Corruption naming the file and offset (an explicit
// profile or STRATA_PROFILE skip reading it). `fs` reads PROFILE.
Status ResolveDiskProfile(FileSystem* fs, DiskProfile requested, const std::string& dir,
                          const DetectOptions& options, ResolvedDiskProfile* out);

// Writes <dir>/PROFILE atomically if `resolved` was detected (source
// "detected") and no PROFILE exists; otherwise does nothing.
Status PersistDiskProfile(FileSystem* fs, const std::string& dir,
                          const ResolvedDiskProfile& resolved);

// PROFILE's bytes (io/FORMAT.md), and their decoder: every field is checked
// (Corruption naming `path` and the offset of the bad line).
std::string EncodeProfileFile(const ResolvedDiskProfile& resolved);
Status DecodeProfileFile(std::string_view data, const std::string& path,
                         ResolvedDiskProfile* out);

// Forgets the probes this process remembers per device (tests).
void ClearProbeCacheForTesting();

}  // namespace strata::io
