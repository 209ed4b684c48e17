#include "replica/command.h"

#include <fmt/core.h>

#include "core/coding.h"

namespace strata::replica {

std::string EncodeCommand(uint64_t client_id, uint64_t request_id, const WriteBatch& batch) {
  const std::string body = batch.Serialize();
  std::string out;
  out.reserve(kCommandHeaderBytes + body.size() + kCommandAlignment);
  PutFixed32(&out, kCommandMagic);
  PutFixed32(&out, static_cast<uint32_t>(body.size()));
  PutFixed64(&out, client_id);
  PutFixed64(&out, request_id);
  out += body;
  out.resize((out.size() + kCommandAlignment - 1) / kCommandAlignment * kCommandAlignment, '\0');
  return out;
}

Result<Command> DecodeCommand(std::string_view entry) {
  if (entry.size() < kCommandHeaderBytes || entry.size() % kCommandAlignment != 0) {
    return Status::Corruption(
        fmt::format("raft command: {} bytes is not a padded command", entry.size()));
  }
  if (DecodeFixed32(entry.data()) != kCommandMagic) {
    return Status::Corruption("raft command: bad magic at offset 0");
  }
  const uint64_t batch_bytes = DecodeFixed32(entry.data() + 4);
  const uint64_t end = kCommandHeaderBytes + batch_bytes;
  const uint64_t padded = (end + kCommandAlignment - 1) / kCommandAlignment * kCommandAlignment;
  if (padded != entry.size()) {
    return Status::Corruption(
        fmt::format("raft command: batch length {} at offset 4 does not fit the {} byte entry",
                    batch_bytes, entry.size()));
  }
  for (size_t i = end; i < entry.size(); ++i) {
    if (entry[i] != '\0') {
      return Status::Corruption(fmt::format("raft command: non-zero padding at offset {}", i));
    }
  }
  Command cmd;
  cmd.client_id = DecodeFixed64(entry.data() + 8);
  cmd.request_id = DecodeFixed64(entry.data() + 16);
  Result<WriteBatch> batch = WriteBatch::Parse(entry.substr(kCommandHeaderBytes, batch_bytes));
  if (!batch.ok()) {
    return Status::Corruption(fmt::format("raft command: batch at offset {}: {}",
                                          kCommandHeaderBytes, batch.status().ToString()));
  }
  cmd.batch = std::move(batch).value();
  return cmd;
}

}  // namespace strata::replica
