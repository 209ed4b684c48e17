// `strata kv DIR get|put|delete|scan|flush|compact|stats`: a database from the
// shell. `--engine` picks the kind of a new directory; an existing
// directory's own kind wins. `put -` reads "key<TAB>value" lines from stdin
// (the way to store values up to kValueBytesMax: an argument is limited to
// 128 KiB by the kernel). get, scan and stats open the database read-only:
// they never create one and work on a directory they may not write.
#include <fmt/core.h>

#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include "io/disk_detect.h"
#include "io/file_system.h"
#include "strata/engine.h"
#include "tools/commands.h"

namespace strata::tools {

namespace {

// The smallest segments that hold a batch of kWriteBatchBytesMax, so that the
// CLI stores every documented maximum.
constexpr uint64_t kToolWalSegmentBytes = kWalSegmentBytesForMaxBatch;

struct KvArgs {
  std::string dir;
  std::string engine = "lsm";
  bool sync = false;
  std::string key;
  std::string value;
  std::string start;
  std::optional<std::string> end;
  uint64_t limit = 0;
};

Status OpenDb(const KvArgs& args, std::unique_ptr<Engine>* db, bool read_only = false) {
  Options options;
  options.read_only = read_only;
  // An existing directory's kind wins over --engine.
  const bool exists = io::DefaultFileSystem()->FileExists(io::JoinPath(args.dir, "KIND"));
  options.engine = exists || read_only ? "" : args.engine;
  // Each open prepares (fallocates) WAL segments ahead of need; a
  // short-lived command keeps them as small as the largest batch allows
  // (every segment records its own size, so a database written by a
  // long-running process with bigger segments opens fine).
  options.wal_segment_bytes = kToolWalSegmentBytes;
  return Open(options, args.dir, db);
}

Status RunGet(const KvArgs& args) {
  std::unique_ptr<Engine> db;
  STRATA_RETURN_IF_ERROR(OpenDb(args, &db, true));
  std::string value;
  uint64_t version = 0;
  STRATA_RETURN_IF_ERROR(db->GetVersioned(ReadOptions{}, args.key, &value, &version));
  fmt::print("{}\n", value);
  return Status::Ok();
}

Status PutLines(Engine* db, const KvArgs& args) {
  std::string line;
  uint64_t line_number = 0;
  WriteBatch batch;
  constexpr size_t kBatchBytes = 1 << 20;  // group stdin lines into batches this big
  while (std::getline(std::cin, line)) {
    ++line_number;
    const size_t tab = line.find('\t');
    if (tab == std::string::npos) {
      return Status::InvalidArgument(
          fmt::format("stdin line {}: expected key<TAB>value", line_number));
    }
    STRATA_RETURN_IF_ERROR(batch.Put(std::string_view(line).substr(0, tab),
                                     std::string_view(line).substr(tab + 1)));
    if (batch.ApproximateSize() >= kBatchBytes) {
      STRATA_RETURN_IF_ERROR(db->Write(WriteOptions{args.sync}, batch));
      batch.Clear();
    }
  }
  return db->Write(WriteOptions{args.sync}, batch);
}

// The write's error, else Close's (the final sync of what was written).
Status WriteThenClose(Engine* db, Status written) {
  Status closed = db->Close();
  return written.ok() ? closed : written;
}

Status RunPut(const KvArgs& args) {
  std::unique_ptr<Engine> db;
  STRATA_RETURN_IF_ERROR(OpenDb(args, &db));
  if (args.key == "-") return WriteThenClose(db.get(), PutLines(db.get(), args));
  return WriteThenClose(db.get(), db->Put(WriteOptions{args.sync}, args.key, args.value));
}

Status RunDelete(const KvArgs& args) {
  std::unique_ptr<Engine> db;
  STRATA_RETURN_IF_ERROR(OpenDb(args, &db));
  return WriteThenClose(db.get(), db->Delete(WriteOptions{args.sync}, args.key));
}

Status RunScan(const KvArgs& args) {
  std::unique_ptr<Engine> db;
  STRATA_RETURN_IF_ERROR(OpenDb(args, &db, true));
  ReadOptions ro;
  ro.upper_bound = args.end;
  auto it = db->NewIterator(ro);
  uint64_t n = 0;
  for (it->Seek(args.start); it->Valid() && (args.limit == 0 || n < args.limit); it->Next(), ++n) {
    fmt::print("{}\t{}\n", it->key(), it->value());
  }
  Status s = it->status();
  it.reset();  // before the engine
  return s;
}

Status RunMaintenance(const KvArgs& args, bool compact) {
  std::unique_ptr<Engine> db;
  STRATA_RETURN_IF_ERROR(OpenDb(args, &db));
  return WriteThenClose(db.get(), compact ? db->CompactAll() : db->Flush());
}

Status RunStats(const KvArgs& args) {
  std::unique_ptr<Engine> db;
  STRATA_RETURN_IF_ERROR(OpenDb(args, &db, true));
  const EngineStats st = db->Stats();
  fmt::print("kind {}\n", db->kind());
  // What this open resolved (the same rules as the engine's: STRATA_PROFILE,
  // else the stored decision; no probe, read-only).
  ResolvedDiskProfile profile;
  io::DetectOptions detect;
  detect.allow_probe = false;
  STRATA_RETURN_IF_ERROR(io::ResolveDiskProfile(io::DefaultFileSystem().get(), DiskProfile::kAuto,
                                                args.dir, detect, &profile));
  PrintDiskProfile(profile);
  for (const auto& [name, value] : st.properties) fmt::print("{} {}\n", name, value);
  return Status::Ok();
}

}  // namespace

void RegisterKvCommands(CLI::App& app, int* exit_code) {
  CLI::App* kv = app.add_subcommand("kv", "Read and write a database (lsm or btree)");
  auto args = std::make_shared<KvArgs>();
  kv->add_option("DIR", args->dir, "Database directory")->required();
  kv->add_option("--engine", args->engine, "Kind for a new directory (lsm|btree)")
      ->check(CLI::IsMember({"lsm", "btree"}));
  kv->add_flag("--sync", args->sync, "fdatasync each write");
  kv->require_subcommand(1);
  kv->fallthrough();

  CLI::App* get = kv->add_subcommand("get", "Print a key's value (exit 1 if absent)");
  get->add_option("KEY", args->key)->required();
  get->callback([=] { *exit_code = ExitFor(RunGet(*args)); });

  CLI::App* put = kv->add_subcommand("put", "Store KEY VALUE, or key<TAB>value lines with -");
  put->add_option("KEY", args->key, "Key, or - to read lines from stdin")->required();
  put->add_option("VALUE", args->value);
  put->callback([=] {
    if (args->key != "-" && put->count("VALUE") == 0) {
      *exit_code = ExitFor(Status::InvalidArgument("put: VALUE is required unless KEY is -"));
      return;
    }
    *exit_code = ExitFor(RunPut(*args));
  });

  CLI::App* del = kv->add_subcommand("delete", "Delete a key");
  del->add_option("KEY", args->key)->required();
  del->callback([=] { *exit_code = ExitFor(RunDelete(*args)); });

  CLI::App* scan = kv->add_subcommand("scan", "Print key<TAB>value lines in key order");
  scan->add_option("--start", args->start, "First key (inclusive)");
  scan->add_option("--end", args->end, "Stop before this key");
  scan->add_option("--limit", args->limit, "At most this many entries (0: all)")
      ->check(CLI::NonNegativeNumber);
  scan->callback([=] { *exit_code = ExitFor(RunScan(*args)); });

  kv->add_subcommand("flush", "Flush memtables to disk")->callback([=] {
    *exit_code = ExitFor(RunMaintenance(*args, false));
  });
  kv->add_subcommand("compact", "Compact everything")->callback([=] {
    *exit_code = ExitFor(RunMaintenance(*args, true));
  });
  kv->add_subcommand("stats", "Print engine properties")->callback([=] {
    *exit_code = ExitFor(RunStats(*args));
  });
}

}  // namespace strata::tools
