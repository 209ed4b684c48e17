// Disk profile resolution: explicit, environment, stored PROFILE, detection
// (sysfs, then the probe where the rotational flag is not trusted).
#include <fmt/core.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "io/disk_detect.h"
#include "strata/disk_profile.h"

namespace strata {

namespace io {
namespace {

// The first line of a sysfs attribute; empty when it cannot be read.
std::string ReadAttribute(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::string line;
  if (!std::getline(in, line)) return "";
  while (!line.empty() && (line.back() == '\n' || line.back() == ' ')) line.pop_back();
  return line;
}

// Reads a 0/1 sysfs flag; -1 when it cannot be read.
int ReadFlag(const std::filesystem::path& path) {
  const std::string v = ReadAttribute(path);
  if (v == "0") return 0;
  if (v == "1") return 1;
  return -1;
}

bool Exists(const std::filesystem::path& path) {
  std::error_code ec;
  return std::filesystem::exists(path, ec);
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

// The NVMe controller's transport: device/transport, or for a multipath head
// (whose device is the subsystem) the first device/nvme*/transport.
std::string NvmeTransport(const std::filesystem::path& disk) {
  std::string t = ReadAttribute(disk / "device" / "transport");
  if (!t.empty()) return t;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(disk / "device", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("nvme", 0) != 0) continue;
    t = ReadAttribute(entry.path() / "transport");
    if (!t.empty()) return t;
  }
  return "";
}

bool HasVirtioComponent(const std::filesystem::path& canonical) {
  for (const auto& part : canonical) {
    const std::string s = part.string();
    if (s.size() > 6 && s.rfind("virtio", 0) == 0 &&
        s.find_first_not_of("0123456789", 6) == std::string::npos) {
      return true;
    }
  }
  return false;
}

// Probes remembered per device for the life of the process: a probe per
// database open would cost every open tens of milliseconds.
std::mutex probe_cache_mu;
std::map<std::pair<unsigned, unsigned>, DiskProbeFigures>& ProbeCache() {
  static auto* cache = new std::map<std::pair<unsigned, unsigned>, DiskProbeFigures>();
  return *cache;
}

// The probe's figures for `dev`: remembered from an earlier probe in this
// process (unless forced), else measured in `dir`. NotSupported when it may
// not run here.
Status ProbeDevice(FileSystem* fs, const std::string& dir, const BlockDevice& dev,
                   const DetectOptions& options, DiskProbeFigures* figures, std::string* note) {
  const std::pair<unsigned, unsigned> key{dev.major, dev.minor};
  if (!options.force_probe) {
    std::lock_guard lock(probe_cache_mu);
    auto it = ProbeCache().find(key);
    if (it != ProbeCache().end()) {
      *figures = it->second;
      *note = "measured earlier in this process: ";
      return Status::Ok();
    }
  }
  if (!options.allow_probe) return Status::NotSupported("not run (nothing may be written)");
  if (!fs->FileExists(dir)) return Status::NotSupported("not run (" + dir + " does not exist)");
  FileSystem* probe_fs = options.probe_fs != nullptr ? options.probe_fs : DefaultFileSystem().get();
  STRATA_RETURN_IF_ERROR(ProbeDisk(probe_fs, dir, options.probe, figures));
  std::lock_guard lock(probe_cache_mu);
  ProbeCache()[key] = *figures;
  return Status::Ok();
}

ResolvedDiskProfile Fixed(DiskProfile profile, std::string reason, std::string source) {
  ResolvedDiskProfile r;
  r.profile = profile;
  r.reason = std::move(reason);
  r.source = std::move(source);
  return r;
}

}  // namespace

std::string_view BlockDeviceKindName(BlockDeviceKind kind) {
  switch (kind) {
    case BlockDeviceKind::kLocal: return "local";
    case BlockDeviceKind::kVirtio: return "virtio";
    case BlockDeviceKind::kNvmeFabrics: return "nvme-over-fabrics";
    case BlockDeviceKind::kLoop: return "loop";
    case BlockDeviceKind::kDeviceMapper: return "device-mapper";
  }
  return "local";
}

std::string BlockDevice::Describe() const {
  std::string s = fmt::format("{} {}:{} {}", name.empty() ? "?" : name, major, minor,
                              BlockDeviceKindName(kind));
  if (!transport.empty()) s += " transport=" + transport;
  return s + fmt::format(" rotational={}", rotational);
}

BlockDevice ClassifyBlockDevice(const std::string& sysfs_root, unsigned major, unsigned minor) {
  namespace fs = std::filesystem;
  BlockDevice dev;
  dev.major = major;
  dev.minor = minor;
  const fs::path link = fs::path(sysfs_root) / "dev" / "block" / fmt::format("{}:{}", major, minor);
  std::error_code ec;
  fs::path disk = fs::canonical(link, ec);
  if (ec) return dev;
  dev.found = true;
  if (Exists(disk / "partition")) disk = disk.parent_path();
  dev.name = disk.filename().string();
  dev.rotational = ReadFlag(disk / "queue" / "rotational");
  if (Exists(disk / "dm")) {
    dev.kind = BlockDeviceKind::kDeviceMapper;
  } else if (dev.name.rfind("loop", 0) == 0 || Exists(disk / "loop")) {
    dev.kind = BlockDeviceKind::kLoop;
  } else if (dev.name.rfind("nvme", 0) == 0) {
    dev.transport = NvmeTransport(disk);
    if (dev.transport != "pcie") dev.kind = BlockDeviceKind::kNvmeFabrics;
  } else if (HasVirtioComponent(disk)) {
    dev.kind = BlockDeviceKind::kVirtio;
  }
  return dev;
}

DiskProfile ClassifyProbe(const DiskProbeFigures& f, std::string* why) {
  const double ratio = f.sequential_read_ns == 0
                           ? 0.0
                           : static_cast<double>(f.random_read_ns) / f.sequential_read_ns;
  const bool hdd = f.random_read_ns >= kProbeHddRandomNs && ratio >= kProbeHddRatio;
  *why = fmt::format(
      "probe: {} random 4 KiB O_DIRECT reads median {:.0f} us, {} sequential median {:.0f} us "
      "(ratio {:.2f}; hdd needs >= {} us and >= {:.0f}x) in {} us",
      f.random_reads, f.random_read_ns / 1e3, f.sequential_reads, f.sequential_read_ns / 1e3,
      ratio, kProbeHddRandomNs / 1000, kProbeHddRatio, f.elapsed_us);
  return hdd ? DiskProfile::kHdd : DiskProfile::kSsd;
}

Status ResolveDiskProfile(FileSystem* fs, DiskProfile requested, const std::string& dir,
                          const DetectOptions& options, ResolvedDiskProfile* out) {
  if (requested == DiskProfile::kSsd || requested == DiskProfile::kHdd) {
    *out = Fixed(requested, "explicit", "explicit");
    return Status::Ok();
  }
  if (const char* env = std::getenv("STRATA_PROFILE")) {
    const std::string_view v(env);
    if (v == "ssd" || v == "hdd") {
      *out = Fixed(v == "hdd" ? DiskProfile::kHdd : DiskProfile::kSsd,
                   "auto: STRATA_PROFILE=" + std::string(v), "env");
      return Status::Ok();
    }
  }
  const std::string stored = JoinPath(dir, kProfileFileName);
  if (options.read_stored && fs->FileExists(stored)) {
    std::string data;
    STRATA_RETURN_IF_ERROR(ReadFileToString(fs, stored, &data));
    return DecodeProfileFile(data, stored, out);
  }
  ResolvedDiskProfile r;
  r.source = "detected";
  const std::string existing = ExistingAncestor(dir);
  struct stat st {};
  if (::stat(existing.c_str(), &st) != 0) {
    r.reason = "auto: cannot stat " + existing + "; assumed ssd";
    *out = std::move(r);
    return Status::Ok();
  }
  const BlockDevice dev = ClassifyBlockDevice(options.sysfs_root, major(st.st_dev),
                                              minor(st.st_dev));
  r.device = dev.Describe();
  r.rotational = dev.rotational;
  r.rotational_trusted = dev.rotational_trusted();
  if (!dev.found) {
    r.reason = fmt::format("auto: no {}/dev/block/{}:{}", options.sysfs_root, dev.major,
                           dev.minor);
  } else if (r.rotational_trusted) {
    r.profile = dev.rotational == 1 ? DiskProfile::kHdd : DiskProfile::kSsd;
    r.reason = fmt::format("auto: {} disk {} says rotational={}", BlockDeviceKindName(dev.kind),
                           dev.name, dev.rotational);
  } else {
    r.reason = fmt::format("auto: {} disk {} says rotational={}, not trusted",
                           BlockDeviceKindName(dev.kind), dev.name, dev.rotational);
  }
  if (!r.rotational_trusted || options.force_probe) {
    std::string note;
    const Status probed = ProbeDevice(fs, dir, dev, options, &r.probe, &note);
    if (probed.ok()) {
      r.probed = true;
      std::string why;
      const DiskProfile verdict = ClassifyProbe(r.probe, &why);
      if (!r.rotational_trusted) r.profile = verdict;
      r.reason += fmt::format("; {}{} -> {}", note, why, DiskProfileName(verdict));
    } else {
      r.reason += "; probe " + std::string(probed.message());
      if (!r.rotational_trusted) r.reason += "; assumed ssd";
    }
  }
  *out = std::move(r);
  return Status::Ok();
}

Status PersistDiskProfile(FileSystem* fs, const std::string& dir,
                          const ResolvedDiskProfile& resolved) {
  if (resolved.source != "detected") return Status::Ok();
  const std::string path = JoinPath(dir, kProfileFileName);
  if (fs->FileExists(path)) return Status::Ok();
  return WriteFileAtomically(fs, path, EncodeProfileFile(resolved));
}

void ClearProbeCacheForTesting() {
  std::lock_guard lock(probe_cache_mu);
  ProbeCache().clear();
}

}  // namespace io

std::string_view DiskProfileName(DiskProfile profile) {
  switch (profile) {
    case DiskProfile::kSsd: return "ssd";
    case DiskProfile::kHdd: return "hdd";
    case DiskProfile::kAuto: return "auto";
  }
  return "auto";
}

std::string DescribeDiskProfile(const ResolvedDiskProfile& r) {
  return fmt::format("{} ({}): {}", DiskProfileName(r.profile), r.source, r.reason);
}

ResolvedDiskProfile ResolveDiskProfile(DiskProfile requested, const std::string& path) {
  ResolvedDiskProfile r;
  io::DetectOptions options;
  Status s = io::ResolveDiskProfile(io::DefaultFileSystem().get(), requested, path, options, &r);
  if (s.ok()) return r;
  // A stored PROFILE that does not decode: detect without it, and say so.
  options.read_stored = false;
  const std::string bad = s.ToString();
  s = io::ResolveDiskProfile(io::DefaultFileSystem().get(), requested, path, options, &r);
  if (!s.ok()) r = ResolvedDiskProfile{};
  r.reason += "; stored decision ignored: " + bad;
  return r;
}

}  // namespace strata
