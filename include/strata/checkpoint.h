// Checkpoints: a consistent copy of an engine's state in a new directory
// that opens with strata::Open as a normal database.
//
// Engine::CreateCheckpoint (strata/engine.h) takes these. The copy holds
// exactly the writes with sequence <= CheckpointInfo::sequence: as of
// CheckpointOptions::snapshot, or of the moment of the call when it is null.
// Creation is crash-safe: the copy is built in "<dir>.tmp-<pid>-<n>" and
// renamed to `dir` only when every file and directory in it is synced, so a
// crash leaves either no `dir` or a complete one. A leftover tmp directory
// holds no KIND file until it is complete and is never named `dir`; the next
// checkpoint to the same `dir` removes leftovers of processes that no longer
// run. Everything the copy holds is durable in the source first.
//
// Cost per engine: the LSM hard-links its immutable tables and writes only
// a manifest (plus rewrites of tables holding writes newer than the
// snapshot); the B+ tree rewrites its one mutable file into a compact new
// tree (one sequential write of the live data; files_linked is 0).
#pragma once

#include <cstdint>
#include <string>

namespace strata {

class Snapshot;

struct CheckpointOptions {
  // Must not exist yet; its parent must.
  std::string dir;
  // Copy the state as of this snapshot (of the same engine); null: as of now.
  const Snapshot* snapshot = nullptr;
};

struct CheckpointInfo {
  // Every write with a sequence number <= this is in the copy, none after.
  uint64_t sequence = 0;
  uint64_t files_linked = 0;   // immutable files shared by hard link
  uint64_t files_copied = 0;   // copied or rewritten (also links refused, e.g. EXDEV)
  uint64_t bytes_linked = 0;
  uint64_t bytes_written = 0;  // bytes the checkpoint wrote (copies, rewrites, metadata)
};

}  // namespace strata
