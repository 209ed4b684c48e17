// Engine: the contract every strata backend keeps (see docs/ARCHITECTURE.md).
//
// Promises: a write acknowledged with sync survives a crash; without sync it
// may be lost only as a suffix; a WriteBatch is applied whole or not at all;
// keys compare bytewise; every byte read from disk is checksummed and a
// mismatch is Corruption naming the file and offset.
//
// Thread safety: all methods may be called concurrently.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "strata/checkpoint.h"
#include "strata/iterator.h"
#include "strata/options.h"
#include "strata/snapshot.h"
#include "strata/status.h"
#include "strata/write_batch.h"

namespace strata {

struct EngineStats {
  uint64_t user_bytes_written = 0;    // keys + values handed to Put/Write
  uint64_t wal_bytes_written = 0;     // bytes appended to the WAL
  uint64_t flush_bytes_written = 0;   // memtable flushes (LSM) / page writes (B+ tree)
  uint64_t compaction_bytes_read = 0;
  uint64_t compaction_bytes_written = 0;
  uint64_t stall_micros = 0;          // time writers waited on backpressure
  // Engine-specific counters ("lsm.level0.files", "cache.hits", ...).
  std::vector<std::pair<std::string, uint64_t>> properties;

  uint64_t device_bytes_written() const {
    return wal_bytes_written + flush_bytes_written + compaction_bytes_written;
  }
  // Device bytes per user byte; 0 when nothing was written.
  double write_amplification() const {
    return user_bytes_written == 0
               ? 0.0
               : static_cast<double>(device_bytes_written()) / user_bytes_written;
  }
};

class Engine {
 public:
  virtual ~Engine() = default;

  virtual std::string_view kind() const = 0;

  virtual Status Put(const WriteOptions& options, std::string_view key,
                     std::string_view value) = 0;
  virtual Status Delete(const WriteOptions& options, std::string_view key) = 0;
  virtual Status Write(const WriteOptions& options, const WriteBatch& batch) = 0;

  // NotFound if the key is absent or deleted.
  virtual Status Get(const ReadOptions& options, std::string_view key,
                     std::string* value) = 0;
  virtual std::unique_ptr<Iterator> NewIterator(const ReadOptions& options) = 0;
  virtual std::unique_ptr<Snapshot> GetSnapshot() = 0;

  // Stores value only if `version` is greater than the key's stored version
  // (a key written by Put has version 0; an absent key accepts any version).
  // Atomic per key without a global lock. *applied says whether it stored.
  virtual Status PutIfNewer(const WriteOptions& options, std::string_view key,
                            uint64_t version, std::string_view value, bool* applied) = 0;
  virtual Status GetVersioned(const ReadOptions& options, std::string_view key,
                              std::string* value, uint64_t* version) = 0;

  virtual EngineStats Stats() const = 0;

  // Maintenance; engines without the notion return NotSupported.
  virtual Status Flush() { return Status::NotSupported("Flush"); }
  virtual Status CompactAll() { return Status::NotSupported("CompactAll"); }
  // A consistent copy of the database in `dir` (a new directory).
  virtual Status Checkpoint(const std::string& dir) {
    (void)dir;
    return Status::NotSupported("Checkpoint");
  }
  // A consistent copy as of options.snapshot (or now), crash-safe; fills
  // *info (may be null). See strata/checkpoint.h.
  virtual Status CreateCheckpoint(const CheckpointOptions& options, CheckpointInfo* info) {
    (void)options;
    (void)info;
    return Status::NotSupported("CreateCheckpoint");
  }
};

// Opens (or creates) the database in `path`. Dispatches to the engine kind
// recorded in the directory, or Options::engine for a new one.
Status Open(const Options& options, const std::string& path, std::unique_ptr<Engine>* engine);

// Engine kinds register a factory under their name ("lsm", "btree").
using EngineFactory = Status (*)(const Options& options, const std::string& path,
                                 std::unique_ptr<Engine>* engine);
Status RegisterEngineKind(std::string_view kind, EngineFactory factory);
std::vector<std::string> RegisteredEngineKinds();

}  // namespace strata
