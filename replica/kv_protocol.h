// The raftkv client protocol (replica/FORMAT.md): length-prefixed frames over
// TCP on the node's client port, which is its raft port + 1.
//
// frame    = fixed32 body_bytes | body           (body_bytes <= kMaxFrameBytes)
// request  = u8 op | fixed64 client_id | fixed64 request_id
//            | varint32 key_bytes | key | varint32 value_bytes | value
// response = u8 code | varint32 payload_bytes | payload
//
// PUT/DELETE go through raft; (client_id, request_id) deduplicates retries
// (request ids of one client ascend; client_id 0 is refused). GET and SCAN
// are linearizable: served on the leader after a raft barrier. SCAN's key is
// the first key (inclusive), its value a fixed32 page limit; its payload is
// varint32 count | (varint32 key_bytes key varint32 value_bytes value)* |
// u8 more. STATUS is node-local (not linearizable): "key=value" words.
// A follower answers REDIRECT with the leader's client address as payload,
// or RETRY when it knows no leader.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "strata/status.h"

namespace strata::replica {

inline constexpr uint32_t kMaxFrameBytes = 64u << 20;
inline constexpr uint32_t kScanPageMax = 4096;

enum class KvOp : uint8_t { kPut = 1, kDelete = 2, kGet = 3, kScan = 4, kStatus = 5 };
enum class KvCode : uint8_t {
  kOk = 0,
  kNotFound = 1,
  kRedirect = 2,  // payload: the leader's client address
  kRetry = 3,     // no leader known, or leadership changed: outcome unknown, retry
  kError = 4,     // bad request or node failure; payload: message
};

struct KvRequest {
  KvOp op = KvOp::kStatus;
  uint64_t client_id = 0;
  uint64_t request_id = 0;
  std::string key;
  std::string value;
};

struct KvResponse {
  KvCode code = KvCode::kOk;
  std::string payload;
};

struct KvPair {
  std::string key;
  std::string value;
};

// Encoders return a whole frame (length prefix included).
std::string EncodeRequest(const KvRequest& request);
std::string EncodeResponse(const KvResponse& response);
// Decoders take a frame's body; every length is checked.
Status DecodeRequest(std::string_view body, KvRequest* request);
Status DecodeResponse(std::string_view body, KvResponse* response);

std::string EncodeScanPayload(const std::vector<KvPair>& pairs, bool more);
Status DecodeScanPayload(std::string_view payload, std::vector<KvPair>* pairs, bool* more);

// "127.0.0.1:7001" -> host, port (1..65535).
Status ParseAddress(std::string_view address, std::string* host, uint16_t* port);
// The client address of a node whose raft address is `raft_address`.
Result<std::string> ClientAddressFor(std::string_view raft_address);
// The snapshot stream service (snapshot_transport.h) of that node: raft port + 2.
Result<std::string> SnapshotAddressFor(std::string_view raft_address);

}  // namespace strata::replica
