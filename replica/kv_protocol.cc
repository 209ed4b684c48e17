#include "replica/kv_protocol.h"

#include <fmt/core.h>

#include <charconv>

#include "core/coding.h"

namespace strata::replica {

namespace {

std::string Frame(const std::string& body) {
  std::string out;
  PutFixed32(&out, static_cast<uint32_t>(body.size()));
  out += body;
  return out;
}

void PutBytes(std::string* dst, std::string_view bytes) {
  PutVarint32(dst, static_cast<uint32_t>(bytes.size()));
  dst->append(bytes);
}

bool GetBytes(std::string_view* in, std::string* out) {
  uint32_t n = 0;
  if (!GetVarint32(in, &n) || n > in->size()) return false;
  out->assign(in->data(), n);
  in->remove_prefix(n);
  return true;
}

}  // namespace

std::string EncodeRequest(const KvRequest& request) {
  std::string body;
  body.push_back(static_cast<char>(request.op));
  PutFixed64(&body, request.client_id);
  PutFixed64(&body, request.request_id);
  PutBytes(&body, request.key);
  PutBytes(&body, request.value);
  return Frame(body);
}

std::string EncodeResponse(const KvResponse& response) {
  std::string body;
  body.push_back(static_cast<char>(response.code));
  PutBytes(&body, response.payload);
  return Frame(body);
}

Status DecodeRequest(std::string_view body, KvRequest* request) {
  if (body.size() < 17) return Status::InvalidArgument("request: shorter than its header");
  const uint8_t op = static_cast<uint8_t>(body[0]);
  if (op < static_cast<uint8_t>(KvOp::kPut) || op > static_cast<uint8_t>(KvOp::kStatus)) {
    return Status::InvalidArgument(fmt::format("request: unknown op {}", op));
  }
  request->op = static_cast<KvOp>(op);
  request->client_id = DecodeFixed64(body.data() + 1);
  request->request_id = DecodeFixed64(body.data() + 9);
  body.remove_prefix(17);
  if (!GetBytes(&body, &request->key) || !GetBytes(&body, &request->value) || !body.empty()) {
    return Status::InvalidArgument("request: bad key/value framing");
  }
  return Status::Ok();
}

Status DecodeResponse(std::string_view body, KvResponse* response) {
  if (body.empty()) return Status::Corruption("response: empty");
  const uint8_t code = static_cast<uint8_t>(body[0]);
  if (code > static_cast<uint8_t>(KvCode::kError)) {
    return Status::Corruption(fmt::format("response: unknown code {}", code));
  }
  response->code = static_cast<KvCode>(code);
  body.remove_prefix(1);
  if (!GetBytes(&body, &response->payload) || !body.empty()) {
    return Status::Corruption("response: bad payload framing");
  }
  return Status::Ok();
}

std::string EncodeScanPayload(const std::vector<KvPair>& pairs, bool more) {
  std::string out;
  PutVarint32(&out, static_cast<uint32_t>(pairs.size()));
  for (const KvPair& p : pairs) {
    PutBytes(&out, p.key);
    PutBytes(&out, p.value);
  }
  out.push_back(more ? '\1' : '\0');
  return out;
}

Status DecodeScanPayload(std::string_view payload, std::vector<KvPair>* pairs, bool* more) {
  uint32_t count = 0;
  if (!GetVarint32(&payload, &count) || count > kScanPageMax) {
    return Status::Corruption("scan payload: bad count");
  }
  pairs->clear();
  for (uint32_t i = 0; i < count; ++i) {
    KvPair p;
    if (!GetBytes(&payload, &p.key) || !GetBytes(&payload, &p.value)) {
      return Status::Corruption(fmt::format("scan payload: bad pair {}", i));
    }
    pairs->push_back(std::move(p));
  }
  if (payload.size() != 1 || (payload[0] != '\0' && payload[0] != '\1')) {
    return Status::Corruption("scan payload: bad trailer");
  }
  *more = payload[0] == '\1';
  return Status::Ok();
}

Status ParseAddress(std::string_view address, std::string* host, uint16_t* port) {
  const size_t colon = address.rfind(':');
  if (colon == std::string_view::npos || colon == 0) {
    return Status::InvalidArgument(fmt::format("address {:?}: want HOST:PORT", address));
  }
  std::string_view p = address.substr(colon + 1);
  unsigned value = 0;
  auto [ptr, ec] = std::from_chars(p.data(), p.data() + p.size(), value);
  if (ec != std::errc() || ptr != p.data() + p.size() || value == 0 || value > 65535) {
    return Status::InvalidArgument(fmt::format("address {:?}: bad port", address));
  }
  host->assign(address.substr(0, colon));
  *port = static_cast<uint16_t>(value);
  return Status::Ok();
}

Result<std::string> ClientAddressFor(std::string_view raft_address) {
  std::string host;
  uint16_t port = 0;
  STRATA_RETURN_IF_ERROR(ParseAddress(raft_address, &host, &port));
  if (port == 65535) {
    return Status::InvalidArgument(
        fmt::format("address {:?}: raft port 65535 leaves no client port", raft_address));
  }
  return fmt::format("{}:{}", host, port + 1);
}

Result<std::string> SnapshotAddressFor(std::string_view raft_address) {
  std::string host;
  uint16_t port = 0;
  STRATA_RETURN_IF_ERROR(ParseAddress(raft_address, &host, &port));
  if (port >= 65534) {
    return Status::InvalidArgument(
        fmt::format("address {:?}: raft port {} leaves no snapshot port", raft_address, port));
  }
  return fmt::format("{}:{}", host, port + 2);
}

}  // namespace strata::replica
