// libFuzzer target: the replica/ decoders of untrusted bytes
// (replica/FORMAT.md). Mode bits 1-2 pick the decoder:
//   0: a raft snapshot file (DecodeRaftSnapshotFile); fixup recomputes its
//      XXH3 trailer. A decoded file must encode and decode to itself.
//   1: a raft command entry (DecodeCommand); a decoded command re-encoded
//      must decode, and encode to the same bytes again.
//   2: a raftkv request body (DecodeRequest), re-encoded and decoded again.
//   3: a raftkv response body (DecodeResponse) and a scan payload
//      (DecodeScanPayload).
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/assert.h"
#include "core/checksum.h"
#include "core/coding.h"
#include "fuzz/fuzz_util.h"
#include "replica/command.h"
#include "replica/kv_protocol.h"
#include "replica/log_store_io.h"

namespace strata::fuzz {
namespace {

void SnapshotFile(Input& in) {
  if (in.fixup() && in.bytes.size() >= 8) {
    const size_t body = in.bytes.size() - 8;
    EncodeFixed64(in.bytes.data() + body, Checksum64(std::string_view(in.bytes).substr(0, body)));
  }
  replica::RaftSnapshotFile file;
  if (!replica::DecodeRaftSnapshotFile(in.bytes, "fuzz", &file).ok()) return;
  replica::RaftSnapshotFile again;
  STRATA_ASSERT(
      replica::DecodeRaftSnapshotFile(replica::EncodeRaftSnapshotFile(file), "fuzz", &again).ok());
  STRATA_ASSERT(again == file);
}

void CommandEntry(const Input& in) {
  Result<replica::Command> cmd = replica::DecodeCommand(in.bytes);
  if (!cmd.ok()) return;
  const std::string encoded = replica::EncodeCommand(cmd->client_id, cmd->request_id, cmd->batch);
  Result<replica::Command> again = replica::DecodeCommand(encoded);
  STRATA_ASSERT(again.ok());
  STRATA_ASSERT(again->client_id == cmd->client_id && again->request_id == cmd->request_id);
  STRATA_ASSERT(replica::EncodeCommand(again->client_id, again->request_id, again->batch) ==
                encoded);
}

void Request(const Input& in) {
  replica::KvRequest request;
  if (!replica::DecodeRequest(in.bytes, &request).ok()) return;
  const std::string frame = replica::EncodeRequest(request);
  replica::KvRequest again;
  STRATA_ASSERT(frame.size() >= 4);
  STRATA_ASSERT(replica::DecodeRequest(std::string_view(frame).substr(4), &again).ok());
  STRATA_ASSERT(again.op == request.op && again.key == request.key &&
                again.value == request.value && again.client_id == request.client_id &&
                again.request_id == request.request_id);
}

void Response(const Input& in) {
  replica::KvResponse response;
  if (replica::DecodeResponse(in.bytes, &response).ok()) {
    std::vector<replica::KvPair> pairs;
    bool more = false;
    (void)replica::DecodeScanPayload(response.payload, &pairs, &more);
  }
  std::vector<replica::KvPair> pairs;
  bool more = false;
  (void)replica::DecodeScanPayload(in.bytes, &pairs, &more);
}

}  // namespace
}  // namespace strata::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  strata::fuzz::Input in;
  if (!strata::fuzz::SplitInput(data, size, &in)) return 0;
  switch ((in.mode >> 1) & 3) {
    case 0:
      strata::fuzz::SnapshotFile(in);
      break;
    case 1:
      strata::fuzz::CommandEntry(in);
      break;
    case 2:
      strata::fuzz::Request(in);
      break;
    default:
      strata::fuzz::Response(in);
      break;
  }
  return 0;
}
