// The payload of one raft command entry: an encoded WriteBatch with the
// client request id that makes retries idempotent (see replica/FORMAT.md).
//
// Layout (little-endian):
//   fixed32 magic "SRC1" | fixed32 batch_bytes | fixed64 client_id
//   | fixed64 request_id | batch (WriteBatch::Serialize(), checksummed)
//   | zero padding to the next multiple of 8 bytes
//
// Self-delimiting and padded to 8 bytes because libraft 0.15's raft_uv
// slices a multi-entry AppendEntries on 8-byte boundaries on the receiver
// while the sender packs entries back to back: an entry whose length is not
// a multiple of 8 would shift every later entry of the same message.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "strata/status.h"
#include "strata/write_batch.h"

namespace strata::replica {

inline constexpr uint32_t kCommandMagic = 0x31435253;  // "SRC1"
inline constexpr size_t kCommandHeaderBytes = 24;
inline constexpr size_t kCommandAlignment = 8;

struct Command {
  // 0: no deduplication. Otherwise a client's request ids must ascend; a
  // request id at or below the client's last applied one is a duplicate.
  uint64_t client_id = 0;
  uint64_t request_id = 0;
  WriteBatch batch;
};

// Encoded size is always a multiple of kCommandAlignment.
std::string EncodeCommand(uint64_t client_id, uint64_t request_id, const WriteBatch& batch);

// Validates magic, length, zero padding and the batch's checksum and framing.
// Corruption names what is wrong and where.
Result<Command> DecodeCommand(std::string_view entry);

}  // namespace strata::replica
