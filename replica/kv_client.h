// KvClient: the client side of `strata raftkv` (replica/kv_protocol.h).
//
// Finds the leader itself: tries the cluster's client addresses in turn,
// follows REDIRECT answers, and on RETRY, a refused connection or a timeout
// moves on (with a short pause after each full round) until the deadline.
// A write keeps its request id across retries, so a write whose outcome was
// unknown (leadership lost) is applied once. Write ids of one client ascend;
// one request is in flight at a time.
//
// Status mapping: Ok; NotFound (get); Busy when no leader answered before the
// deadline; InvalidArgument for a request the node refused as bad.
//
// Not thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "replica/kv_protocol.h"

namespace strata::replica {

struct KvClientOptions {
  std::vector<std::string> cluster;  // client addresses (raft port + 1)
  int timeout_ms = 10000;            // per operation, retries included
  uint64_t client_id = 0;            // 0: a random id
};

class KvClient {
 public:
  explicit KvClient(KvClientOptions options);
  ~KvClient();
  KvClient(const KvClient&) = delete;
  KvClient& operator=(const KvClient&) = delete;

  Status Put(std::string_view key, std::string_view value);
  Status Delete(std::string_view key);
  Status Get(std::string_view key, std::string* value);
  // Every user key >= start, page by page (each page is linearizable on its
  // own; the whole scan is not one snapshot).
  Status Scan(std::string_view start, const std::function<void(const KvPair&)>& fn);
  // STATUS of one node (no redirect, no retry).
  Status NodeStatus(const std::string& address, std::string* text);

  uint64_t client_id() const { return options_.client_id; }

 private:
  Status Call(KvRequest request, KvResponse* response);
  Status RoundTrip(const std::string& address, const KvRequest& request, int timeout_ms,
                   KvResponse* response);
  void Disconnect();

  KvClientOptions options_;
  uint64_t next_request_id_ = 1;
  std::string target_;  // current guess of the leader
  size_t next_index_ = 0;
  int fd_ = -1;
  std::string fd_address_;
};

}  // namespace strata::replica
