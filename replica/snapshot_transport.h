// Out-of-band raft snapshots: the raft snapshot is a small manifest (the
// raft index it covers and the address of the member that took it), and a
// follower that installs it fetches the data as a snapshot stream
// (snapshot/FORMAT.md) straight from a member, into snapshot/install.h.
//
// A member may serve a state at or PAST the manifest's index: every state a
// member applied is committed, and EngineStateMachine stores the applied raft
// index inside the engine, so the follower skips the entries its installed
// state already holds. That is why a manifest stays servable after its taker
// restarted or compacted further, and why any member can serve it.
//
// SnapshotTransport is the follower's side (how to reach members);
// SnapshotServer the member's side. TcpSnapshotServer/TcpSnapshotTransport do
// it over TCP (replica/FORMAT.md, "Snapshot stream service"); tests may plug
// in an in-process transport.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "snapshot/stream_reader.h"
#include "snapshot/stream_writer.h"
#include "strata/status.h"

namespace strata::replica {

// What a member serves: writes a stream of a state whose applied raft index
// is >= min_index to `sink` (nothing when it is behind: Busy, *applied set).
using StreamServer =
    std::function<Status(uint64_t min_index, uint64_t* applied, const snapshot::ByteSink& sink)>;

class SnapshotTransport {
 public:
  virtual ~SnapshotTransport() = default;
  // Asks `preferred` first, then the other members, for a stream of a state
  // at raft index >= min_index, and hands each stream that starts to
  // `consume` (which reads it to the end and checks it). Returns Ok as soon
  // as one consume returned Ok; otherwise the last error.
  virtual Status Fetch(const std::string& preferred, uint64_t min_index,
                       const std::function<Status(const snapshot::ByteSource&)>& consume) = 0;
};

struct TcpSnapshotOptions {
  // Connect, read and write timeout of one stream request.
  int io_timeout_ms = 10000;
};

// Serves StreamServer on 127.0.0.1:PORT-style addresses, one connection at a
// time on its own thread (a stream is long; raft sends few).
class TcpSnapshotServer {
 public:
  static Status Start(const std::string& address, StreamServer server,
                      const TcpSnapshotOptions& options, std::unique_ptr<TcpSnapshotServer>* out);
  ~TcpSnapshotServer();  // stops accepting and joins
  const std::string& address() const { return address_; }
  uint64_t streams_served() const { return served_.load(); }

 private:
  TcpSnapshotServer() = default;
  void Run();
  void Serve(int fd);

  std::string address_;
  StreamServer server_;
  TcpSnapshotOptions options_;
  int listen_fd_ = -1;
  int wake_fds_[2] = {-1, -1};  // a pipe: writing to it stops Run()
  std::atomic<int> serving_fd_{-1};
  std::thread thread_;
  std::atomic<uint64_t> served_{0};
};

class TcpSnapshotTransport final : public SnapshotTransport {
 public:
  // `members`: the snapshot service address of every other member (a node
  // that lists itself only gets "behind" from its own server).
  TcpSnapshotTransport(std::vector<std::string> members, const TcpSnapshotOptions& options)
      : members_(std::move(members)), options_(options) {}
  Status Fetch(const std::string& preferred, uint64_t min_index,
               const std::function<Status(const snapshot::ByteSource&)>& consume) override;

 private:
  Status FetchFrom(const std::string& address, uint64_t min_index,
                   const std::function<Status(const snapshot::ByteSource&)>& consume);
  std::vector<std::string> members_;
  TcpSnapshotOptions options_;
};

}  // namespace strata::replica
