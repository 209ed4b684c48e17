// KvNode: one member of a replicated KV store (`strata raftkv serve`).
//
// libraft 0.15 with networking on --listen (raft_uv's transport) and its
// log, term, vote and snapshots in one of two places (KvNodeOptions::raft_log):
//  - "strata": a LogStore (group 1 of a LogStoreHost in <data>/raftlog) with
//    snapshot files in <data>/raftsnap, through LogStoreIo
//    (replica/log_store_io.h); <data>/raft is the wrapped raft_uv's scratch;
//  - "uv": stock raft_uv files in <data>/raft.
// A data directory keeps the kind it was created with: opening it with the
// other is InvalidArgument. An EngineStateMachine over the engine in
// <data>/db; the client
// protocol (replica/kv_protocol.h) on the raft port + 1 of the same host;
// the snapshot stream service (replica/snapshot_transport.h) on raft port + 2:
// raft snapshots are small manifests, and a follower that installs one
// fetches the engine's state from a member over that port.
// Everything (raft, the engine, client connections) runs on one libuv loop
// thread. SIGTERM or SIGINT closes the node cleanly (RunKvNode returns Ok).
//
// Writes: raft_apply of one Command per request (the client's id and request
// id deduplicate retries). Reads: a raft_barrier on the leader, then the
// engine, so a read never misses a write acknowledged before it started.
// Followers answer REDIRECT to the leader's client address, or RETRY.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "strata/status.h"

namespace strata::replica {

struct KvNodeOptions {
  uint64_t id = 0;
  std::string listen;  // raft address, 127.0.0.1:PORT
  // Every member (id, raft address); this node is added if missing. Every
  // member must start with the same list (each bootstraps the configuration).
  std::vector<std::pair<uint64_t, std::string>> peers;
  std::string data_dir;
  std::string engine = "lsm";
  std::string raft_log = "strata";  // "strata" or "uv" (see above)
  unsigned election_timeout_ms = 1000;
  unsigned heartbeat_timeout_ms = 100;
  unsigned snapshot_threshold = 1024;  // entries between snapshots
  unsigned snapshot_trailing = 128;    // entries kept behind a snapshot
  // Set TCP_NODELAY on raft_uv's sockets (it never does; without it a
  // batched AppendEntries can wait up to 40 ms for a delayed ACK).
  bool tcp_nodelay = true;
};

// Parses "1=127.0.0.1:7001,2=127.0.0.1:7003".
Status ParsePeers(std::string_view text, std::vector<std::pair<uint64_t, std::string>>* peers);

// Runs the node until SIGTERM/SIGINT. InvalidArgument for bad options
// (including an engine kind this build does not have).
Status RunKvNode(const KvNodeOptions& options);

}  // namespace strata::replica
