// EngineStateMachine: a libraft state machine (struct raft_fsm, version 1)
// over any strata Engine.
//
// Entries: every raft command is an encoded Command (replica/command.h).
// apply() writes the command's batch, the client's last request id and the
// entry's raft index (raft_last_applied(r) + 1, the only way 0.15 tells the
// FSM an entry's index) in ONE WriteBatch under reserved keys, so the engine
// always knows exactly which entries it holds. libraft re-applies every
// entry after its last snapshot on each start; entries at or below the
// stored index are skipped. A command whose (client id, request id) was
// already applied is a duplicate: only the index advances.
//
// Durability: apply writes without sync (the raft log is the durable copy of
// every entry after the last snapshot). snapshot() stores the snapshot index
// with a synced write first, so everything the raft log may then drop is
// durable in the engine.
//
// Snapshots, out of band (StateMachineOptions::transport set, what raftkv
// does): the raft snapshot is a small manifest (raft index + the address of
// this member's snapshot service, replica/FORMAT.md); taking one only syncs
// the applied index. A follower's restore() fetches a snapshot stream
// (snapshot/FORMAT.md) of a state at or past that index from a member
// (snapshot_transport.h) and installs it atomically over the database
// directory (snapshot/install.h: built beside it, swapped by
// RENAME_EXCHANGE), closing and reopening the engine around the switch. It
// retries other members and later attempts until fetch_deadline_ms, then
// stops the node (libraft 0.15 cannot survive a failed restore: its log was
// already reset to the snapshot). ServeStream() is the member's side.
// Without a transport the stream travels INSIDE the raft snapshot buffer
// (one InstallSnapshot message, a copy in the raft_io): for small states and
// tests; such manifests are always accepted by restore().
// restore() skips a manifest at or below the engine's applied index (a
// restart, or a stale snapshot).
//
// Failures: apply/snapshot/restore never return an error to libraft (a
// non-zero apply is retried forever). An engine failure or a corrupt entry
// prints a message naming the raft index and aborts the process: the node
// stops loudly and restarts from its durable state.
//
// Reserved keys: every key starting with kReservedPrefix belongs to the
// state machine; clients must not write such keys (IsReservedKey).
//
// Threading: every method runs on the raft loop thread, except ServeStream,
// which may run on any thread at the same time.
#pragma once

#include <cstdint>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>

#include "replica/raft_c.h"
#include "replica/snapshot_transport.h"
#include "snapshot/stream_writer.h"
#include "strata/engine.h"
#include "strata/options.h"

namespace strata::replica {

inline constexpr std::string_view kReservedPrefix{"\xff\xffstrata.replica/", 18};
inline constexpr uint32_t kManifestMagic = 0x314e4d53;  // "SMN1": stream inline
inline constexpr uint32_t kRemoteManifestMagic = 0x324e4d53;  // "SMN2": out of band
inline constexpr size_t kManifestHeaderBytes = 16;  // magic, pad or source bytes, index

bool IsReservedKey(std::string_view key);
std::string AppliedIndexKey();
std::string ClientKey(uint64_t client_id);

// What apply() reports through raft_apply's callback `result`.
enum class ApplyOutcome : uintptr_t { kApplied = 1, kDuplicate = 2, kSkipped = 3 };

struct StateMachineOptions {
  Options engine_options;  // for opening db_dir (and installing into it)
  std::string db_dir;
  snapshot::StreamOptions stream;
  // Out-of-band snapshots (see above); null: the stream rides in the raft
  // snapshot. Must outlive the state machine.
  SnapshotTransport* transport = nullptr;
  std::string snapshot_source;  // this member's snapshot service address
  // How long restore() keeps trying members before it stops the node.
  int fetch_deadline_ms = 120000;
};

struct StateMachineStats {
  uint64_t applied = 0;     // entries written to the engine
  uint64_t duplicates = 0;  // of which the batch was a duplicate request
  uint64_t skipped = 0;     // entries the engine already held
  uint64_t snapshots = 0;
  uint64_t restores_installed = 0;
  uint64_t restores_skipped = 0;
  uint64_t restores_fetched = 0;  // of restores_installed, fetched out of band
  uint64_t fetch_attempts_failed = 0;
};

class EngineStateMachine {
 public:
  // Opens (or creates) the engine in options.db_dir and reads its applied index.
  static Status Open(const StateMachineOptions& options, std::unique_ptr<EngineStateMachine>* out);
  ~EngineStateMachine();
  EngineStateMachine(const EngineStateMachine&) = delete;
  EngineStateMachine& operator=(const EngineStateMachine&) = delete;

  // The fsm to hand to raft_init / raft_fixture_grow.
  raft_fsm* fsm() { return &fsm_; }
  // REQUIRES: called before raft starts applying (after raft_init, or after
  // raft_fixture_grow with raft_fixture_get).
  void set_raft(raft* r) { raft_ = r; }

  // Valid until the next restore(); do not keep it across raft callbacks.
  Engine* engine() { return engine_.get(); }
  // Raft index of the last entry the engine holds (0: none).
  uint64_t applied_index() const { return applied_index_; }
  const StateMachineStats& stats() const { return stats_; }

  // Reads the applied index stored in `engine` (0 if absent), as of
  // `snapshot` when given.
  static Status ReadAppliedIndex(Engine* engine, uint64_t* index,
                                 const Snapshot* snapshot = nullptr);

  // A member's side of an out-of-band snapshot: writes a stream of the
  // engine as it is now to `sink` if its applied index is >= min_index
  // (else Busy, nothing written). *applied gets that index. Thread-safe.
  Status ServeStream(uint64_t min_index, uint64_t* applied, const snapshot::ByteSink& sink);

 private:
  explicit EngineStateMachine(const StateMachineOptions& options);
  Status OpenEngine();
  [[noreturn]] void Fatal(const std::string& what) const;

  int Apply(const raft_buffer* buf, void** result);
  int TakeSnapshot(raft_buffer* bufs[], unsigned* n_bufs);
  int HandToRaft(const std::string& out, raft_buffer* bufs[], unsigned* n_bufs);
  int Restore(raft_buffer* buf);
  // Installs `source` (a snapshot stream) over the database; returns the
  // PrepareInstall error, stops the node on a failure after the switch.
  Status InstallStream(const snapshot::ByteSource& source, uint64_t index);

  static int ApplyTrampoline(raft_fsm* fsm, const raft_buffer* buf, void** result);
  static int SnapshotTrampoline(raft_fsm* fsm, raft_buffer* bufs[], unsigned* n_bufs);
  static int RestoreTrampoline(raft_fsm* fsm, raft_buffer* buf);

  StateMachineOptions options_;
  raft_fsm fsm_{};
  raft* raft_ = nullptr;
  // engine_ is replaced only on the loop thread, under the exclusive lock;
  // ServeStream (any thread) holds it shared.
  std::shared_mutex engine_mu_;
  std::unique_ptr<Engine> engine_;
  uint64_t applied_index_ = 0;
  StateMachineStats stats_;
};

}  // namespace strata::replica
