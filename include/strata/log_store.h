// LogStore: one logical consensus log (Raft, Multi-Paxos) with a hard state.
//
// Entries have consecutive indexes and a term. An empty new log has
// FirstIndex() == 1 and LastIndex() == 0. Many logical logs may share one
// physical WAL (see wal/log_store.h), so that a node with thousands of groups
// still does one fdatasync per commit group.
//
// Every entry carries its type (LogEntryType) as well as index, term and data.
//
// Errors: out-of-range indexes, appends that leave a gap, truncation below
// the first index and an entry type outside LogEntryType are
// InvalidArgument; nothing stored is lost.
// Thread safety: all methods may be called concurrently; calls on one log are
// applied in the order they return.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "strata/limits.h"
#include "strata/options.h"
#include "strata/status.h"

namespace strata {

// What an entry is to the consensus engine (the numbers are libraft's
// RAFT_COMMAND, RAFT_BARRIER and RAFT_CHANGE).
enum class LogEntryType : uint8_t {
  kCommand = 1,       // a command for the state machine
  kBarrier = 2,       // a no-op the leader appends to learn what is committed
  kConfigChange = 3,  // a new cluster configuration
};

struct LogEntry {
  uint64_t index = 0;
  uint64_t term = 0;
  std::string data;
  LogEntryType type = LogEntryType::kCommand;
};

// The cluster configuration a snapshot carries: the index of the entry
// that set it and its bytes (opaque to the store; libraft's encoded
// raft_configuration). Empty data: none stored.
struct LogConfiguration {
  uint64_t index = 0;
  std::string data;
  bool operator==(const LogConfiguration&) const = default;
};

// The snapshot point of a log: the last index and term a snapshot covers
// (FirstIndex() - 1 and its term) and the configuration stored with it.
struct SnapshotMeta {
  uint64_t index = 0;
  uint64_t term = 0;
  LogConfiguration configuration;
  bool operator==(const SnapshotMeta&) const = default;
};

struct HardState {
  uint64_t term = 0;
  uint64_t vote = 0;
  uint64_t commit = 0;
  bool operator==(const HardState&) const = default;
};

class LogStore {
 public:
  virtual ~LogStore() = default;

  // Appends entries whose first index is LastIndex()+1 (or, to overwrite a
  // conflicting tail, any index in [FirstIndex(), LastIndex()+1]: entries
  // from that index on are replaced). Durable before return when sync.
  virtual Status Append(std::span<const LogEntry> entries, bool sync) = 0;

  // Asynchronous append: as Append(entries, false), returning a durability
  // ticket. WaitDurable(ticket) returns once these entries are durable (and
  // everything any log of the host wrote before them). A log's tickets grow
  // with its calls, so waiting in ticket order reports durability in order;
  // appends, truncations and compactions may go on while a wait syncs, and
  // one sync serves every waiter it covers. An empty `entries` returns a
  // ticket for everything written so far.
  virtual Result<uint64_t> AppendAsync(std::span<const LogEntry> entries) = 0;
  virtual Status WaitDurable(uint64_t ticket) = 0;

  virtual Status Entry(uint64_t index, LogEntry* entry) const = 0;
  // Entries in [lo, hi), stopping early once max_bytes of data is reached
  // (always at least one entry when lo < hi).
  virtual Status Entries(uint64_t lo, uint64_t hi, uint64_t max_bytes,
                         std::vector<LogEntry>* entries) const = 0;
  virtual uint64_t FirstIndex() const = 0;
  virtual uint64_t LastIndex() const = 0;
  // Term of `index`; also answers for FirstIndex()-1 (the compaction point).
  virtual Result<uint64_t> Term(uint64_t index) const = 0;

  // Drops entries with index >= `index`. Durable before it returns.
  virtual Status TruncateSuffix(uint64_t index) = 0;
  // Entries <= `index` are no longer needed (a snapshot covers them).
  virtual Status CompactPrefix(uint64_t index) = 0;
  // CompactPrefix that also stores the configuration of the snapshot that
  // covers the dropped entries, in the same record (a crash keeps both or
  // neither; like CompactPrefix, not durable before it returns).
  virtual Status CompactPrefix(uint64_t index, const LogConfiguration& configuration) = 0;
  // Drops every entry; the log restarts after (last_index, last_term), as
  // after installing a snapshot. Durable before it returns.
  virtual Status Reset(uint64_t last_index, uint64_t last_term) = 0;
  // Reset that also stores the installed snapshot's configuration, in the
  // same durable record.
  virtual Status Reset(uint64_t last_index, uint64_t last_term,
                       const LogConfiguration& configuration) = 0;
  // The snapshot point and the configuration last stored with it
  // (CompactPrefix and Reset without one keep the stored configuration).
  virtual SnapshotMeta GetSnapshotMeta() const = 0;

  virtual Status SetHardState(const HardState& state) = 0;  // durable, atomic
  virtual HardState GetHardState() const = 0;
};

struct LogStoreHostOptions {
  std::shared_ptr<io::FileSystem> file_system;  // null = the default file system
  uint64_t segment_bytes = 64 * kMiB;
  bool direct_io = false;
  WalRecoveryMode recovery = WalRecoveryMode::kStrict;
  // Cold groups: a segment is released only once no group's live entries
  // lie in it, so a group that stops writing (an idle replica group) would
  // keep its segment, and every later one, forever. Once a group's oldest
  // live entry lies this many segments behind the newest segment, its live
  // entries in segments at least max(1, rewrite_lag_segments / 2) behind are
  // copied to the head of the log (rewrite records, wal/FORMAT.md) and the
  // old segments can go. Only for a group whose live entries total at most
  // rewrite_lag_segments * segment_bytes / 4 (a busy group with a long
  // uncompacted log needs its segments anyway: moving it would only write
  // it twice), and only while that group holds the oldest entry of all that
  // no rewrite can move. Runs in the release after a compaction or reset,
  // copying at most segment_bytes per release. 0 disables it.
  uint32_t rewrite_lag_segments = 8;
};

// What a LogStoreHost's disk space is kept for (LogStoreHost::Stats).
struct LogStoreHostStats {
  uint64_t segments = 0;  // segment files the shared log holds
  // The group whose oldest live entry is the oldest of all groups' (it keeps
  // the oldest needed segment, and every newer one) and how many segments
  // that entry lies behind the newest segment. has_pinning_group is false
  // when no group holds an entry.
  bool has_pinning_group = false;
  uint64_t pinning_group = 0;
  uint64_t pinning_lag_segments = 0;
  // Since the host was opened: rewrite records written for cold groups, the
  // entries they copied and their payload bytes.
  uint64_t rewrite_records = 0;
  uint64_t rewritten_entries = 0;
  uint64_t rewritten_bytes = 0;
};

// Many LogStores, one per replica group, sharing one physical WAL directory:
// concurrent appends of different groups share fdatasyncs (group commit).
// Thread safety: all methods may be called concurrently.
class LogStoreHost {
 public:
  virtual ~LogStoreHost() = default;
  // The log of `group_id`, empty until first written. Owned by the host and
  // valid until it is destroyed.
  virtual LogStore* Group(uint64_t group_id) = 0;
  // Groups holding entries or state, ascending.
  virtual std::vector<uint64_t> GroupIds() const = 0;
  // Makes every earlier call of every group durable.
  virtual Status Sync() = 0;
  virtual LogStoreHostStats Stats() const = 0;
};

// Opens (recovering) or creates the shared log in `dir` (wal/log_store.h).
Status OpenLogStoreHost(const LogStoreHostOptions& options, const std::string& dir,
                        std::unique_ptr<LogStoreHost>* host);

}  // namespace strata
