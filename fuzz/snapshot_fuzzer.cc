// libFuzzer target: a snapshot stream (snapshot/FORMAT.md) through
// ReadSnapshotStream, read in pieces of a size the mode byte picks (the
// reader must not depend on how the source splits the bytes). Fixup mode
// rewrites the header checksum, every chunk's checksum (the payload length
// clamped to the bytes present) and the trailer's totals and checksum, so the
// entry decoder and the totals check see the mutations.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "core/checksum.h"
#include "core/coding.h"
#include "fuzz/fuzz_util.h"
#include "snapshot/format.h"
#include "snapshot/stream_reader.h"

namespace strata::fuzz {
namespace {

void Fixup(std::string* s) {
  using namespace snapshot;
  if (s->size() < kHeaderFixedBytes) return;
  const size_t kind = static_cast<uint8_t>((*s)[kHeaderFixedBytes - 1]);
  size_t offset = kHeaderFixedBytes + kind;
  if (s->size() < offset + kChecksumBytes) return;
  const uint64_t seed = Checksum64(std::string_view(*s).substr(0, offset));
  EncodeFixed64(s->data() + offset, seed);
  offset += kChecksumBytes;
  uint32_t chunks = 0;
  uint64_t entries = 0;
  uint64_t payload_total = 0;
  while (offset < s->size()) {
    char* p = s->data() + offset;
    const size_t left = s->size() - offset;
    if (p[0] == 2 && left >= kTrailerBytes) {
      EncodeFixed32(p + 1, chunks);
      EncodeFixed64(p + 5, entries);
      EncodeFixed64(p + 13, payload_total);
      EncodeFixed64(p + 21, Checksum64(std::string_view(p, 21), seed));
      return;
    }
    if (p[0] != 1 || left < kChunkHeaderBytes + kChecksumBytes) return;
    EncodeFixed32(p + 1, chunks);
    uint32_t n = DecodeFixed32(p + 9);
    if (n > left - kChunkHeaderBytes - kChecksumBytes) {
      n = static_cast<uint32_t>(left - kChunkHeaderBytes - kChecksumBytes);
      EncodeFixed32(p + 9, n);
    }
    EncodeFixed64(p + kChunkHeaderBytes + n,
                  Checksum64(std::string_view(p, kChunkHeaderBytes + n), seed));
    ++chunks;
    entries += DecodeFixed32(p + 5);
    payload_total += n;
    offset += kChunkHeaderBytes + n + kChecksumBytes;
  }
}

class Visitor final : public snapshot::StreamVisitor {
 public:
  Status OnHeader(const snapshot::StreamHeader&) override { return Status::Ok(); }
  Status OnChunk(uint32_t, const std::vector<snapshot::StreamEntry>& entries) override {
    for (const snapshot::StreamEntry& e : entries) {
      if (!last.empty() && e.key <= last) __builtin_trap();  // the reader checks the order
      last.assign(e.key);
      bytes += e.value.size();
    }
    return Status::Ok();
  }
  Status OnEnd(const snapshot::StreamInfo&) override { return Status::Ok(); }
  std::string last;
  uint64_t bytes = 0;
};

}  // namespace
}  // namespace strata::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace strata;
  fuzz::Input in;
  if (!fuzz::SplitInput(data, size, &in)) return 0;
  if (in.fixup()) fuzz::Fixup(&in.bytes);
  const size_t piece = 1 + (in.mode >> 1) * 7;
  size_t pos = 0;
  const std::string& bytes = in.bytes;
  snapshot::ByteSource source = [&](char* buf, size_t n, size_t* got) {
    *got = std::min({n, piece, bytes.size() - pos});
    std::memcpy(buf, bytes.data() + pos, *got);
    pos += *got;
    return Status::Ok();
  };
  fuzz::Visitor visitor;
  (void)snapshot::ReadSnapshotStream(source, &visitor);
  return 0;
}
