// Snapshot stream reader: parses and verifies the stream of
// snapshot/FORMAT.md and hands each verified chunk's entries to a visitor.
//
// Verification: the header and every frame carry an XXH3-64 checksum; a
// chunk's entries reach the visitor only after its checksum matched and
// every length, count and key order in it checked out. Keys ascend strictly
// across the whole stream. The trailer's totals (chunks, entries, payload
// bytes) must match what was read, and nothing may follow it, so a
// truncated or extended stream is Corruption. Every Corruption names the
// frame ("header", "chunk 7", "trailer") and its stream offset.
//
// Memory: one chunk (below kChunkPayloadBytesMax plus framing) and the last
// key. Threading: one call per stream.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "io/file_system.h"
#include "snapshot/stream_writer.h"

namespace strata::snapshot {

// Fills buf with up to n bytes; *bytes_read == 0 means end of stream.
using ByteSource = std::function<Status(char* buf, size_t n, size_t* bytes_read)>;

// Reads a SequentialFile front to back.
ByteSource FileByteSource(io::SequentialFile* file);

struct StreamHeader {
  std::string engine_kind;
  uint64_t sequence = 0;
  uint32_t chunk_bytes = 0;
};

// Views into the current chunk; valid during OnChunk only.
struct StreamEntry {
  std::string_view key;
  std::string_view value;
  uint64_t version = 0;  // 0: a plain value
};

class StreamVisitor {
 public:
  virtual ~StreamVisitor() = default;
  virtual Status OnHeader(const StreamHeader& header) = 0;
  virtual Status OnChunk(uint32_t chunk_index, const std::vector<StreamEntry>& entries) = 0;
  // After the trailer verified: the stream is complete.
  virtual Status OnEnd(const StreamInfo& info) = 0;
};

// Reads and verifies the whole stream, calling `visitor` as it goes.
Status ReadSnapshotStream(const ByteSource& source, StreamVisitor* visitor);

// Reads and verifies without applying anything; fills *info (may be null).
Status VerifySnapshotStream(const ByteSource& source, StreamInfo* info);

}  // namespace strata::snapshot
