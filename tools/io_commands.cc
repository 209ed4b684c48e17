// `strata io ...`: smoke checks of the io layer on a real directory.
#include <fmt/core.h>

#include <chrono>
#include <string>

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

}  // namespace

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
}

}  // namespace strata::tools
