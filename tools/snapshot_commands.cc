// `strata snapshot create|verify|install|checkpoint`: snapshot streams and
// checkpoints from the shell
// (snapshot/FORMAT.md). `-` is stdout for create and stdin for verify and
// install, so `strata snapshot create A - | strata snapshot install - B`
// copies a database through a pipe.
#include <fmt/core.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>

#include "io/file_system.h"
#include "snapshot/install.h"
#include "snapshot/stream_reader.h"
#include "snapshot/stream_writer.h"
#include "strata/engine.h"
#include "tools/commands.h"

namespace strata::tools {

namespace {

constexpr uint64_t kToolWalSegmentBytes = 4 * kMiB;

Options ToolOptions() {
  Options options;
  options.engine = "";  // the directory's own kind
  options.create_if_missing = false;
  options.wal_segment_bytes = kToolWalSegmentBytes;
  return options;
}

Status WriteAllToStdout(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(STDOUT_FILENO, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::IOError(fmt::format("stdout: write: {}", std::strerror(errno)));
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

Status ReadFromStdin(char* buf, size_t n, size_t* bytes_read) {
  for (;;) {
    const ssize_t got = ::read(STDIN_FILENO, buf, n);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return Status::IOError(fmt::format("stdin: read: {}", std::strerror(errno)));
    *bytes_read = static_cast<size_t>(got);
    return Status::Ok();
  }
}

void PrintInfo(std::FILE* out, std::string_view what, const snapshot::StreamInfo& info) {
  fmt::print(out, "{}: engine {}, sequence {}, {} entries in {} chunks, {} bytes\n", what,
             info.engine_kind, info.sequence, info.entry_count, info.chunk_count,
             info.stream_bytes);
}

Status RunCreate(const std::string& dir, const std::string& out, size_t chunk_bytes) {
  std::unique_ptr<Engine> db;
  STRATA_RETURN_IF_ERROR(Open(ToolOptions(), dir, &db));
  std::unique_ptr<Snapshot> snap = db->GetSnapshot();
  snapshot::StreamOptions options;
  options.chunk_bytes = chunk_bytes;
  snapshot::StreamInfo info;
  if (out == "-") {
    STRATA_RETURN_IF_ERROR(
        snapshot::WriteSnapshotStream(db.get(), *snap, options, WriteAllToStdout, &info));
    PrintInfo(stderr, "created", info);
    return Status::Ok();
  }
  STRATA_RETURN_IF_ERROR(snapshot::WriteSnapshotFile(db.get(), *snap, options,
                                                     io::DefaultFileSystem().get(), out, &info));
  PrintInfo(stdout, "created " + out, info);
  return Status::Ok();
}

// Runs fn with a ByteSource over FILE or stdin.
template <typename Fn>
Status WithSource(const std::string& file, Fn fn) {
  if (file == "-") return fn(snapshot::ByteSource(ReadFromStdin));
  std::unique_ptr<io::SequentialFile> in;
  STRATA_RETURN_IF_ERROR(io::DefaultFileSystem()->NewSequentialFile(file, io::FileOptions{}, &in));
  return fn(snapshot::FileByteSource(in.get()));
}

int RunVerify(const std::string& file) {
  snapshot::StreamInfo info;
  Status s = WithSource(file, [&](const snapshot::ByteSource& source) {
    return snapshot::VerifySnapshotStream(source, &info);
  });
  if (s.IsCorruption()) {
    fmt::print("CORRUPT {}: {}\n", file, s.message());
    return kExitNotFoundOrCheckFailed;
  }
  if (!s.ok()) return ExitFor(s);
  PrintInfo(stdout, "OK " + file, info);
  return kExitOk;
}

Status RunInstall(const std::string& file, const std::string& dir) {
  snapshot::InstallInfo info;
  Options options;
  options.wal_segment_bytes = kToolWalSegmentBytes;
  STRATA_RETURN_IF_ERROR(WithSource(file, [&](const snapshot::ByteSource& source) {
    return snapshot::InstallSnapshot(source, dir, options, &info);
  }));
  PrintInfo(stdout, fmt::format("installed into {}{}", dir,
                                info.replaced_existing ? " (replaced its old state)" : ""),
            info.stream);
  return Status::Ok();
}

Status RunCheckpoint(const std::string& dir, const std::string& out) {
  std::unique_ptr<Engine> db;
  STRATA_RETURN_IF_ERROR(Open(ToolOptions(), dir, &db));
  CheckpointOptions options;
  options.dir = out;
  CheckpointInfo info;
  STRATA_RETURN_IF_ERROR(db->CreateCheckpoint(options, &info));
  fmt::print("checkpoint {}: sequence {}, {} files linked ({} bytes), {} copied, {} bytes written\n",
             out, info.sequence, info.files_linked, info.bytes_linked, info.files_copied,
             info.bytes_written);
  return Status::Ok();
}

}  // namespace

void RegisterSnapshotCommands(CLI::App& app, int* exit_code) {
  CLI::App* group = app.add_subcommand(
      "snapshot", "Snapshot streams: create, verify, install atomically (snapshot/FORMAT.md)");
  group->require_subcommand(1);

  auto create_dir = std::make_shared<std::string>();
  auto create_out = std::make_shared<std::string>();
  auto chunk_bytes = std::make_shared<size_t>(snapshot::kChunkBytesDefault);
  CLI::App* create = group->add_subcommand("create", "Stream a database's current state");
  create->add_option("DIR", *create_dir, "Database directory")->required();
  create->add_option("OUT", *create_out, "Stream file, or - for stdout")->required();
  create->add_option("--chunk-bytes", *chunk_bytes, "Target payload bytes per chunk");
  create->callback(
      [=] { *exit_code = ExitFor(RunCreate(*create_dir, *create_out, *chunk_bytes)); });

  auto verify_file = std::make_shared<std::string>();
  CLI::App* verify = group->add_subcommand(
      "verify", "Check every chunk and the trailer (exit 1 naming the bad chunk)");
  verify->add_option("FILE", *verify_file, "Stream file, or - for stdin")->required();
  verify->callback([=] { *exit_code = RunVerify(*verify_file); });

  auto install_file = std::make_shared<std::string>();
  auto install_dir = std::make_shared<std::string>();
  CLI::App* install = group->add_subcommand(
      "install", "Verify a stream and make it DIR's state atomically (old state or new, never a mix)");
  install->add_option("FILE", *install_file, "Stream file, or - for stdin")->required();
  install->add_option("DIR", *install_dir, "Database directory (replaced if it exists)")
      ->required();
  install->callback([=] { *exit_code = ExitFor(RunInstall(*install_file, *install_dir)); });

  auto checkpoint_dir = std::make_shared<std::string>();
  auto checkpoint_out = std::make_shared<std::string>();
  CLI::App* checkpoint = group->add_subcommand(
      "checkpoint", "Copy a database to a new directory (hard links where possible)");
  checkpoint->add_option("DIR", *checkpoint_dir, "Database directory")->required();
  checkpoint->add_option("OUT", *checkpoint_out, "New directory")->required();
  checkpoint->callback(
      [=] { *exit_code = ExitFor(RunCheckpoint(*checkpoint_dir, *checkpoint_out)); });
}

}  // namespace strata::tools
