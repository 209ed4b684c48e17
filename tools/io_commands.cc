// `strata io ...`: smoke checks of the io layer on a real directory.
#include <fmt/core.h>

#include <chrono>
#include <string>

#include "io/disk_detect.h"
#include "io/file_system.h"
#include "tools/commands.h"

namespace strata::tools {

namespace {

// Appends `count` blocks of `block_bytes` with fdatasync after each, then reads
// them back; prints what it measured.
Status RunSmoke(const std::string& dir, int count, size_t block_bytes) {
  auto fs = io::DefaultFileSystem();
  STRATA_RETURN_IF_ERROR(fs->CreateDir(dir));
  const std::string path = io::JoinPath(dir, "smoke.dat");
  std::unique_ptr<io::WritableFile> file;
  STRATA_RETURN_IF_ERROR(fs->NewWritableFile(path, io::FileOptions{}, &file));
  std::string block(block_bytes, 'x');
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < count; ++i) {
    block[0] = static_cast<char>(i);
    STRATA_RETURN_IF_ERROR(file->Append(block));
    STRATA_RETURN_IF_ERROR(file->Sync());
  }
  const auto wrote = std::chrono::steady_clock::now();
  STRATA_RETURN_IF_ERROR(file->Close());
  std::unique_ptr<io::RandomAccessFile> reader;
  STRATA_RETURN_IF_ERROR(fs->NewRandomAccessFile(path, io::FileOptions{}, &reader));
  std::string buf(block_bytes, '\0');
  for (int i = 0; i < count; ++i) {
    size_t n = 0;
    STRATA_RETURN_IF_ERROR(reader->Read(static_cast<uint64_t>(i) * block_bytes, block_bytes,
                                        buf.data(), &n));
    if (n != block_bytes || buf[0] != static_cast<char>(i)) {
      return Status::Corruption(path + " @ " + std::to_string(i * block_bytes) +
                                ": read back differs from what was written");
    }
  }
  const auto read = std::chrono::steady_clock::now();
  const double write_s = std::chrono::duration<double>(wrote - start).count();
  const double read_s = std::chrono::duration<double>(read - wrote).count();
  fmt::print("io smoke ({}): {} x {} B append+fdatasync: {:.0f} syncs/s, {:.1f} us/sync\n",
             fs->name(), count, block_bytes, count / write_s, 1e6 * write_s / count);
  fmt::print("io smoke ({}): read back {} blocks: {:.0f} reads/s\n", fs->name(), count,
             count / read_s);
  return fs->RemoveFile(path);
}

// The stored decision of DIR (if any), then a fresh detection with the probe
// run whatever the rotational flag says.
Status RunProbe(const std::string& dir, const std::string& sysfs_root) {
  auto fs = io::DefaultFileSystem();
  STRATA_RETURN_IF_ERROR(fs->CreateDir(dir));
  io::DetectOptions detect;
  detect.sysfs_root = sysfs_root;
  ResolvedDiskProfile stored;
  if (fs->FileExists(io::JoinPath(dir, io::kProfileFileName))) {
    STRATA_RETURN_IF_ERROR(io::ResolveDiskProfile(fs.get(), DiskProfile::kAuto, dir, detect,
                                                  &stored));
    if (stored.source == "stored") {
      fmt::print("stored in {}/{}:\n", dir, io::kProfileFileName);
      PrintDiskProfile(stored);
    }
  }
  detect.read_stored = false;
  detect.force_probe = true;
  ResolvedDiskProfile now;
  STRATA_RETURN_IF_ERROR(io::ResolveDiskProfile(fs.get(), DiskProfile::kAuto, dir, detect, &now));
  fmt::print("detected now:\n");
  PrintDiskProfile(now);
  return Status::Ok();
}

}  // namespace

void PrintDiskProfile(const ResolvedDiskProfile& p) {
  fmt::print("profile {}\n", DiskProfileName(p.profile));
  fmt::print("profile.source {}\n", p.source);
  fmt::print("profile.reason {}\n", p.reason);
  if (p.source != "detected" && p.source != "stored") return;
  fmt::print("profile.device {}\n", p.device.empty() ? "-" : p.device);
  fmt::print("profile.rotational {}\n", p.rotational);
  fmt::print("profile.rotational_trusted {}\n", p.rotational_trusted ? 1 : 0);
  fmt::print("profile.probed {}\n", p.probed ? 1 : 0);
  if (!p.probed) return;
  fmt::print("profile.probe.random_reads {}\n", p.probe.random_reads);
  fmt::print("profile.probe.random_read_us {:.1f}\n", p.probe.random_read_ns / 1e3);
  fmt::print("profile.probe.sequential_reads {}\n", p.probe.sequential_reads);
  fmt::print("profile.probe.sequential_read_us {:.1f}\n", p.probe.sequential_read_ns / 1e3);
  fmt::print("profile.probe.elapsed_us {}\n", p.probe.elapsed_us);
}

void RegisterIoCommands(CLI::App& app, int* exit_code) {
  CLI::App* io_cmd = app.add_subcommand("io", "io layer checks");
  io_cmd->require_subcommand(1);
  CLI::App* smoke = io_cmd->add_subcommand("smoke", "Append+fdatasync, then read back");
  auto dir = std::make_shared<std::string>();
  auto count = std::make_shared<int>(2000);
  auto block = std::make_shared<size_t>(4096);
  smoke->add_option("DIR", *dir, "Scratch directory")->required();
  smoke->add_option("--count", *count, "Blocks to write")->check(CLI::PositiveNumber);
  smoke->add_option("--block-bytes", *block, "Bytes per block")->check(CLI::PositiveNumber);
  smoke->callback([=] { *exit_code = ExitFor(RunSmoke(*dir, *count, *block)); });

  CLI::App* probe = io_cmd->add_subcommand(
      "probe", "Disk profile of DIR: its stored decision, and detection with the probe now");
  auto probe_dir = std::make_shared<std::string>();
  auto sysfs_root = std::make_shared<std::string>("/sys");
  probe->add_option("DIR", *probe_dir, "Database or scratch directory")->required();
  probe->add_option("--sysfs-root", *sysfs_root, "Where sysfs is (tests pass a fake tree)");
  probe->callback([=] { *exit_code = ExitFor(RunProbe(*probe_dir, *sysfs_root)); });
}

}  // namespace strata::tools
