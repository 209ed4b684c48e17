// LogStoreIo: a libraft 0.15 raft_io whose storage is one group of a strata
// LogStoreHost, so that strata's WAL is the consensus log (many raft groups
// may share one host, and so one WAL and its group commit).
//
// Networking is not ours: a stock raft_uv instance, on a scratch directory it
// only probes and never loads, does init, start (tick timer and receiving),
// send, time, random and async_work; its tick and recv callbacks are handed
// on to the core as if they came from this io. Storage is ours:
//  - term and vote: the group's HardState, durable before set_term/set_vote
//    return (set_term clears the vote);
//  - entries, with their type: the group's log;
//  - snapshots: one file per snapshot in options.snapshot_dir (FORMAT.md,
//    "Raft snapshot file"), written and synced before the log drops what it
//    covers. The newest valid file IS the snapshot; older ones are removed
//    once a newer one is durable.
//
// Ordering (what the core relies on): append, truncate and snapshot requests
// go through one FIFO. A writer thread performs them in order (appends
// without waiting for durability; appends queued back to back share log
// records), a sync thread then waits for each append's durability ticket in
// the same order and completes it, so callbacks fire in submission order
// while later appends are already being written: appends pipeline behind a
// running fdatasync and one fdatasync covers every append written before it. truncate returns at
// once and takes effect after every earlier append and before every later one. A snapshot put or
// get completes after every earlier append.
//
// Load: the newest snapshot file and the group's log must agree. When the
// log does not hold the snapshot's last entry (index and term), a crash
// interrupted an install between writing the snapshot file and resetting the
// log: load finishes the install (the log restarts after the snapshot, as
// the install would have left it). A log compacted past the newest snapshot,
// or a damaged newest snapshot file, is RAFT_CORRUPT and changes nothing.
// Left-over "*.tmp" files of an interrupted snapshot write are removed.
//
// Errors: a failed append, truncate or sync fails the io for good: that
// request and every later append gets RAFT_IOERR (a sync error is never
// retried), and io->errmsg names the failure. Close completes every pending
// request (with its outcome) before it calls back.
//
// Threading: every raft_io method must be called on the loop thread (as
// libraft does); callbacks run on the loop thread.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "io/file_system.h"
#include "replica/raft_c.h"
#include "strata/log_store.h"
#include "strata/status.h"

namespace strata::replica {

struct LogStoreIoOptions {
  LogStoreHost* host = nullptr;  // REQUIRED; must outlive the io
  uint64_t group = 1;
  std::string snapshot_dir;  // REQUIRED: this group's snapshot files (created if missing)
  std::string scratch_dir;   // REQUIRED: the wrapped raft_uv's directory (created if missing)
  std::shared_ptr<io::FileSystem> file_system;  // for snapshot files; null = the default
  // A raft append larger than this (payload bytes) is split into several
  // log records (a record must fit in one WAL segment).
  uint64_t append_chunk_bytes = 8ull << 20;
};

struct LogStoreIoStats {
  uint64_t appends = 0;  // append requests
  uint64_t entries_appended = 0;
  uint64_t truncations = 0;
  uint64_t snapshots_taken = 0;  // snapshot_put with trailing > 0
  uint64_t installs = 0;         // snapshot_put with trailing == 0
  uint64_t snapshot_gets = 0;
  uint64_t interrupted_installs_finished = 0;  // by load
};

// One raft snapshot as stored on disk.
struct RaftSnapshotFile {
  uint64_t group = 0;
  uint64_t index = 0;
  uint64_t term = 0;
  uint64_t configuration_index = 0;
  struct Server {
    uint64_t id = 0;
    uint8_t role = 0;
    std::string address;
    bool operator==(const Server&) const = default;
  };
  std::vector<Server> servers;
  std::string data;  // the state machine's snapshot, its buffers concatenated
  bool operator==(const RaftSnapshotFile&) const = default;
};

std::string RaftSnapshotFileName(uint64_t index);  // "snapshot-<20 digits>"
std::string EncodeRaftSnapshotFile(const RaftSnapshotFile& file);
// Validates every length, the checksum and the field ranges; Corruption
// naming `path` otherwise.
Status DecodeRaftSnapshotFile(std::string_view bytes, const std::string& path,
                              RaftSnapshotFile* file);

class LogStoreIo {
 public:
  // Wraps raft_uv_init(loop, scratch_dir, transport). The transport must be
  // initialised (raft_uv_tcp_init) and outlive the io.
  static Status Create(uv_loop_t* loop, raft_uv_transport* transport,
                       const LogStoreIoOptions& options, std::unique_ptr<LogStoreIo>* out);
  // REQUIRES: the io was never initialised, or its close callback has fired.
  ~LogStoreIo();
  LogStoreIo(const LogStoreIo&) = delete;
  LogStoreIo& operator=(const LogStoreIo&) = delete;

  // What to hand to raft_init.
  raft_io* io() { return &io_; }
  LogStoreIoStats stats() const;

 private:
  struct Request;
  class Queue;

  LogStoreIo(uv_loop_t* loop, const LogStoreIoOptions& options);

  // raft_io methods.
  int Init(raft_id id, const char* address);
  void Close(raft_io_close_cb cb);
  int Load(raft_term* term, raft_id* voted_for, raft_snapshot** snapshot, raft_index* start_index,
           raft_entry** entries, size_t* n_entries);
  int Start(unsigned msecs, raft_io_tick_cb tick, raft_io_recv_cb recv);
  int Bootstrap(const raft_configuration* conf);
  int Recover(const raft_configuration* conf);
  int SetTerm(raft_term term);
  int SetVote(raft_id server_id);
  int Append(raft_io_append* req, const raft_entry entries[], unsigned n, raft_io_append_cb cb);
  int Truncate(raft_index index);
  int SnapshotPut(unsigned trailing, raft_io_snapshot_put* req, const raft_snapshot* snapshot,
                  raft_io_snapshot_put_cb cb);
  int SnapshotGet(raft_io_snapshot_get* req, raft_io_snapshot_get_cb cb);

  // Storage helpers.
  Status ListSnapshots(std::vector<uint64_t>* indexes);
  Status ReadNewestSnapshot(bool* found, RaftSnapshotFile* file);
  Status LoadState(HardState* hard, bool* have_snapshot, RaftSnapshotFile* snapshot,
                   std::vector<LogEntry>* entries);
  Status RemoveSnapshotsBelow(uint64_t index);
  Status PutSnapshot(Request* request);
  // A raft_malloc'd snapshot raft takes ownership of; null when out of memory.
  static raft_snapshot* MakeRaftSnapshot(const RaftSnapshotFile& file);
  int Fail(int code, const Status& s);  // sets errmsg, returns code
  Status Failed() const;
  void SetFailed(const Status& s);

  // Threads and completion.
  void Submit(Request* request);
  void WriterLoop();
  void WriteAppends(const std::vector<Request*>& run);
  void SyncerLoop();
  void DrainCompleted();
  void Complete(Request* request);
  void FinishClose();

  uv_loop_t* loop_;
  LogStoreIoOptions options_;
  LogStore* log_ = nullptr;
  std::shared_ptr<io::FileSystem> fs_;
  raft_io io_{};                    // the io raft sees
  raft_io inner_{};                 // the wrapped raft_uv
  bool inner_created_ = false;      // raft_uv_init succeeded
  bool inner_initialised_ = false;  // and its init() too
  raft_io_tick_cb tick_cb_ = nullptr;
  raft_io_recv_cb recv_cb_ = nullptr;
  raft_io_close_cb close_cb_ = nullptr;
  uint64_t next_index_ = 1;  // index of the next appended entry (loop thread)

  uv_async_t async_{};
  bool async_open_ = false;
  std::unique_ptr<Queue> to_writer_;
  std::unique_ptr<Queue> to_syncer_;
  std::thread writer_;
  std::thread syncer_;
  bool threads_started_ = false;

  std::mutex done_mu_;
  std::deque<Request*> done_;  // completed, in order; drained on the loop

  // The first failed append, truncate or sync: every later append fails too.
  mutable std::mutex fail_mu_;
  Status failed_;

  mutable std::mutex stats_mu_;
  LogStoreIoStats stats_;
};

}  // namespace strata::replica
