#include "strata/disk_profile.h"

#include <fmt/core.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <filesystem>
#include <fstream>

#include "core/checksum.h"
#include "io/disk_detect.h"
#include "io/file_system.h"
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

// A fake sysfs tree: devices under devices/..., and dev/block/<M:m>
// symlinks to them, as the kernel lays them out.
class FakeSysfs {
 public:
  explicit FakeSysfs(const std::string& root) : root_(root) {}
  const std::string& root() const { return root_; }

  // Creates devices/<rel> with queue/rotational and links dev/block/<mm> to it.
  std::filesystem::path AddDisk(const std::string& mm, const std::string& rel, int rotational) {
    const std::filesystem::path disk = std::filesystem::path(root_) / "devices" / rel;
    std::filesystem::create_directories(disk / "queue");
    if (rotational >= 0) Write(disk / "queue" / "rotational", std::to_string(rotational) + "\n");
    Link(mm, disk);
    return disk;
  }
  void Link(const std::string& mm, const std::filesystem::path& target) {
    std::filesystem::create_directories(std::filesystem::path(root_) / "dev" / "block");
    std::filesystem::create_directory_symlink(target,
                                              std::filesystem::path(root_) / "dev" / "block" / mm);
  }
  static void Write(const std::filesystem::path& path, const std::string& text) {
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path) << text;
  }

 private:
  std::string root_;
};

// The major:minor of the device holding `path`.
std::pair<unsigned, unsigned> DeviceOf(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0);
  return {major(st.st_dev), minor(st.st_dev)};
}

TEST(DiskProfileTest, ClassifiesSysfsFixtures) {
  testing::ScratchDir dir;
  FakeSysfs sys(dir.Join("sys"));
  sys.AddDisk("8:0", "pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0/block/sda", 1);
  const auto sda = std::filesystem::path(sys.root()) / "devices" /
                   "pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0/block/sda";
  FakeSysfs::Write(sda / "sda1" / "partition", "1\n");
  sys.Link("8:1", sda / "sda1");
  sys.AddDisk("254:0", "pci0000:00/0000:00:02.0/virtio1/block/vda", 1);
  sys.AddDisk("254:16", "pci0000:00/0000:00:03.0/virtio_not/block/vdb", 1);
  const auto nvme0n1 = sys.AddDisk("259:0", "pci0000:00/0000:00:04.0/nvme/nvme0/nvme0n1", 0);
  FakeSysfs::Write(nvme0n1.parent_path() / "transport", "pcie\n");
  std::filesystem::create_directory_symlink(nvme0n1.parent_path(), nvme0n1 / "device");
  const auto nvme1n1 = sys.AddDisk("259:1", "virtual/nvme-fabrics/ctl/nvme1/nvme1n1", 0);
  FakeSysfs::Write(nvme1n1.parent_path() / "transport", "tcp\n");
  std::filesystem::create_directory_symlink(nvme1n1.parent_path(), nvme1n1 / "device");
  // A multipath head: device is the subsystem; its controllers carry transport.
  const auto head = sys.AddDisk("259:2", "virtual/nvme-subsystem/nvme-subsys2/nvme2n1", 0);
  FakeSysfs::Write(head.parent_path() / "nvme2" / "transport", "rdma\n");
  std::filesystem::create_directory_symlink(head.parent_path(), head / "device");
  sys.AddDisk("7:0", "virtual/block/loop0", 0);
  const auto dm = sys.AddDisk("253:0", "virtual/block/dm-0", 1);
  FakeSysfs::Write(dm / "dm" / "name", "vg-root\n");
  sys.AddDisk("8:16", "pci0000:00/0000:00:1f.2/ata2/host1/target1:0:0/1:0:0:0/block/sdb", -1);

  struct Case {
    unsigned major, minor;
    std::string name;
    io::BlockDeviceKind kind;
    int rotational;
    bool trusted;
  };
  const Case cases[] = {
      {8, 0, "sda", io::BlockDeviceKind::kLocal, 1, true},
      {8, 1, "sda", io::BlockDeviceKind::kLocal, 1, true},  // partition: its disk
      {254, 0, "vda", io::BlockDeviceKind::kVirtio, 1, false},
      {254, 16, "vdb", io::BlockDeviceKind::kLocal, 1, true},  // "virtio_not" is no virtio bus
      {259, 0, "nvme0n1", io::BlockDeviceKind::kLocal, 0, true},
      {259, 1, "nvme1n1", io::BlockDeviceKind::kNvmeFabrics, 0, false},
      {259, 2, "nvme2n1", io::BlockDeviceKind::kNvmeFabrics, 0, false},
      {7, 0, "loop0", io::BlockDeviceKind::kLoop, 0, false},
      {253, 0, "dm-0", io::BlockDeviceKind::kDeviceMapper, 1, false},
      {8, 16, "sdb", io::BlockDeviceKind::kLocal, -1, false},  // unreadable flag
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const io::BlockDevice dev = io::ClassifyBlockDevice(sys.root(), c.major, c.minor);
    EXPECT_TRUE(dev.found);
    EXPECT_EQ(dev.name, c.name);
    EXPECT_EQ(dev.kind, c.kind) << io::BlockDeviceKindName(dev.kind);
    EXPECT_EQ(dev.rotational, c.rotational);
    EXPECT_EQ(dev.rotational_trusted(), c.trusted);
  }
  EXPECT_EQ(io::ClassifyBlockDevice(sys.root(), 1, 2).found, false);
  EXPECT_EQ(io::ClassifyBlockDevice(sys.root(), 259, 1).transport, "tcp");
}

TEST(DiskProfileTest, ProbeVerdictNeedsSlowAndRelativelySlowRandomReads) {
  auto verdict = [](uint64_t random_ns, uint64_t sequential_ns) {
    DiskProbeFigures f;
    f.random_reads = f.sequential_reads = 32;
    f.random_read_ns = random_ns;
    f.sequential_read_ns = sequential_ns;
    std::string why;
    return io::ClassifyProbe(f, &why);
  };
  EXPECT_EQ(verdict(8'000'000, 150'000), DiskProfile::kHdd);  // seek + rotation vs read-ahead
  EXPECT_EQ(verdict(1'000'000, 250'000), DiskProfile::kHdd);  // exactly at both limits
  EXPECT_EQ(verdict(80'000, 70'000), DiskProfile::kSsd);      // this machine's virtio SSD
  EXPECT_EQ(verdict(2'000'000, 1'000'000), DiskProfile::kSsd);  // slow, but as slow in order
  EXPECT_EQ(verdict(900'000, 10'000), DiskProfile::kSsd);       // relatively slow, but fast
}

// A fake sysfs for the device that really holds `dir`, so that the resolver
// (which stats the directory) reads the fixture.
std::string FakeSysfsFor(const testing::ScratchDir& dir, const std::string& rel, int rotational) {
  FakeSysfs sys(dir.Join("sys"));
  const auto [maj, min] = DeviceOf(dir.path());
  sys.AddDisk(fmt::format("{}:{}", maj, min), rel, rotational);
  return sys.root();
}

TEST(DiskProfileTest, TrustedFlagDecidesWithoutProbe) {
  ScopedProfileEnv env(nullptr);
  testing::ScratchDir dir;
  io::DetectOptions detect;
  detect.sysfs_root = FakeSysfsFor(dir, "pci0000:00/ata1/host0/block/sda", 1);
  ResolvedDiskProfile r;
  ASSERT_TRUE(io::ResolveDiskProfile(io::DefaultFileSystem().get(), DiskProfile::kAuto, dir.path(),
                                     detect, &r)
                  .ok());
  EXPECT_EQ(r.profile, DiskProfile::kHdd);
  EXPECT_EQ(r.source, "detected");
  EXPECT_TRUE(r.rotational_trusted);
  EXPECT_FALSE(r.probed);
  EXPECT_NE(r.reason.find("local disk sda says rotational=1"), std::string::npos) << r.reason;
}

TEST(DiskProfileTest, UntrustedFlagIsProbedAndTheProbeDecides) {
  ScopedProfileEnv env(nullptr);
  io::ClearProbeCacheForTesting();
  testing::ScratchDir dir;
  io::DetectOptions detect;
  detect.sysfs_root = FakeSysfsFor(dir, "pci0000:00/0000:00:02.0/virtio1/block/vda", 1);
  ResolvedDiskProfile r;
  ASSERT_TRUE(io::ResolveDiskProfile(io::DefaultFileSystem().get(), DiskProfile::kAuto, dir.path(),
                                     detect, &r)
                  .ok());
  EXPECT_FALSE(r.rotational_trusted);
  EXPECT_EQ(r.rotational, 1);
  EXPECT_NE(r.reason.find("virtio disk vda says rotational=1, not trusted"), std::string::npos)
      << r.reason;
  if (!r.probed) {
    // Only where O_DIRECT is refused (tmpfs): then the flag is not believed.
    EXPECT_NE(r.reason.find("assumed ssd"), std::string::npos) << r.reason;
    EXPECT_EQ(r.profile, DiskProfile::kSsd);
    return;
  }
  EXPECT_GE(r.probe.random_reads, detect.probe.reads_min);
  EXPECT_GE(r.probe.sequential_reads, detect.probe.reads_min);
  EXPECT_GT(r.probe.random_read_ns, 0u);
  EXPECT_GT(r.probe.sequential_read_ns, 0u);
  std::string why;
  EXPECT_EQ(r.profile, io::ClassifyProbe(r.probe, &why));  // the probe, not the flag, decided
  EXPECT_FALSE(io::DefaultFileSystem()->FileExists(dir.Join(std::string(io::kProbeFileName))));

  // Without permission to write the scratch file (read-only opens), and
  // nothing measured earlier, the untrusted flag is not believed: ssd.
  io::ClearProbeCacheForTesting();
  detect.allow_probe = false;
  ASSERT_TRUE(io::ResolveDiskProfile(io::DefaultFileSystem().get(), DiskProfile::kAuto, dir.path(),
                                     detect, &r)
                  .ok());
  EXPECT_FALSE(r.probed);
  EXPECT_EQ(r.profile, DiskProfile::kSsd);
  EXPECT_NE(r.reason.find("probe not run"), std::string::npos) << r.reason;
}

ResolvedDiskProfile StoredHdd() {
  ResolvedDiskProfile r;
  r.profile = DiskProfile::kHdd;
  r.source = "detected";
  r.reason = "auto: loop disk loop3 says rotational=0, not trusted; probe: ... -> hdd";
  r.device = "loop3 7:3 loop rotational=0";
  r.rotational = 0;
  r.rotational_trusted = false;
  r.probed = true;
  r.probe = {32, 31, 8'123'456, 140'000, 91'000};
  return r;
}

TEST(DiskProfileTest, StoredDecisionRoundTrips) {
  const ResolvedDiskProfile in = StoredHdd();
  ResolvedDiskProfile out;
  ASSERT_TRUE(io::DecodeProfileFile(io::EncodeProfileFile(in), "PROFILE", &out).ok());
  EXPECT_EQ(out.profile, in.profile);
  EXPECT_EQ(out.source, "stored");
  EXPECT_EQ(out.reason, in.reason);
  EXPECT_EQ(out.device, in.device);
  EXPECT_EQ(out.rotational, in.rotational);
  EXPECT_EQ(out.rotational_trusted, in.rotational_trusted);
  EXPECT_EQ(out.probed, in.probed);
  EXPECT_EQ(out.probe.random_reads, in.probe.random_reads);
  EXPECT_EQ(out.probe.sequential_reads, in.probe.sequential_reads);
  EXPECT_EQ(out.probe.random_read_ns, in.probe.random_read_ns);
  EXPECT_EQ(out.probe.sequential_read_ns, in.probe.sequential_read_ns);
  EXPECT_EQ(out.probe.elapsed_us, in.probe.elapsed_us);

  // Persisted once: a later detection never overwrites the stored file.
  testing::ScratchDir dir;
  auto fs = io::DefaultFileSystem();
  ASSERT_TRUE(io::PersistDiskProfile(fs.get(), dir.path(), in).ok());
  ResolvedDiskProfile other = in;
  other.profile = DiskProfile::kSsd;
  ASSERT_TRUE(io::PersistDiskProfile(fs.get(), dir.path(), other).ok());
  ResolvedDiskProfile stored;
  ScopedProfileEnv env(nullptr);
  ASSERT_TRUE(
      io::ResolveDiskProfile(fs.get(), DiskProfile::kAuto, dir.path(), {}, &stored).ok());
  EXPECT_EQ(stored.source, "stored");
  EXPECT_EQ(stored.profile, DiskProfile::kHdd);
  // Explicit and environment decisions are not stored.
  testing::ScratchDir other_dir;
  ASSERT_TRUE(io::PersistDiskProfile(fs.get(), other_dir.path(),
                                     ResolveDiskProfile(DiskProfile::kHdd, other_dir.path()))
                  .ok());
  EXPECT_FALSE(fs->FileExists(other_dir.Join("PROFILE")));
}

TEST(DiskProfileTest, OverridePrecedenceExplicitThenEnvThenStored) {
  testing::ScratchDir dir;
  auto fs = io::DefaultFileSystem();
  ASSERT_TRUE(io::PersistDiskProfile(fs.get(), dir.path(), StoredHdd()).ok());
  ResolvedDiskProfile r;
  {
    ScopedProfileEnv env(nullptr);
    ASSERT_TRUE(io::ResolveDiskProfile(fs.get(), DiskProfile::kAuto, dir.path(), {}, &r).ok());
    EXPECT_EQ(r.profile, DiskProfile::kHdd);
    EXPECT_EQ(r.source, "stored");
    ASSERT_TRUE(io::ResolveDiskProfile(fs.get(), DiskProfile::kSsd, dir.path(), {}, &r).ok());
    EXPECT_EQ(r.profile, DiskProfile::kSsd);
    EXPECT_EQ(r.source, "explicit");
  }
  {
    ScopedProfileEnv env("ssd");
    ASSERT_TRUE(io::ResolveDiskProfile(fs.get(), DiskProfile::kAuto, dir.path(), {}, &r).ok());
    EXPECT_EQ(r.profile, DiskProfile::kSsd);
    EXPECT_EQ(r.source, "env");
    ASSERT_TRUE(io::ResolveDiskProfile(fs.get(), DiskProfile::kHdd, dir.path(), {}, &r).ok());
    EXPECT_EQ(r.profile, DiskProfile::kHdd);
    EXPECT_EQ(r.source, "explicit");
  }
  {
    // A bad stored file does not stop an override (it is not read).
    std::ofstream(dir.Join("PROFILE"), std::ios::trunc) << "garbage\n";
    ScopedProfileEnv env("hdd");
    ASSERT_TRUE(io::ResolveDiskProfile(fs.get(), DiskProfile::kAuto, dir.path(), {}, &r).ok());
    EXPECT_EQ(r.source, "env");
  }
}

// Each damage is rejected with Corruption naming the file and an offset.
TEST(DiskProfileTest, BadStoredFileIsRejectedClearly) {
  const std::string good = io::EncodeProfileFile(StoredHdd());
  auto resign = [](std::string body) {  // a valid checksum over bad content
    const size_t at = body.rfind("checksum ");
    body.resize(at);
    return body + fmt::format("checksum {:016x}\n", Checksum64(body));
  };
  std::string flipped = good;
  flipped[good.find("hdd")] = 'x';
  std::string bad_profile = good;
  bad_profile.replace(good.find("profile hdd"), 11, "profile fst");
  std::string bad_number = good;
  bad_number.replace(good.find("probe.random_reads 32"), 21, "probe.random_reads -2");
  std::string unprobed = good;
  unprobed.replace(good.find("probed 1"), 8, "probed 0");
  std::string version2 = good;
  version2.replace(0, 16, "strata-profile 2");
  const std::pair<std::string, std::string> cases[] = {
      {"", "empty"},
      {good.substr(0, good.size() - 5), "truncated"},
      {flipped, "checksum mismatch"},
      {resign(bad_profile), "profile is not ssd or hdd"},
      {resign(bad_number), "not a number"},
      {resign(unprobed), "probed does not match"},
      {resign(version2), "version 1"},
      {good + "extra\n", "lines, expected"},
  };
  for (const auto& [data, message] : cases) {
    SCOPED_TRACE(message);
    ResolvedDiskProfile r;
    const Status s = io::DecodeProfileFile(data, "/db/PROFILE", &r);
    EXPECT_TRUE(s.IsCorruption()) << s.ToString();
    EXPECT_NE(s.ToString().find("/db/PROFILE @ "), std::string::npos) << s.ToString();
    EXPECT_NE(s.ToString().find(message), std::string::npos) << s.ToString();
  }
}

}  // namespace
}  // namespace strata
