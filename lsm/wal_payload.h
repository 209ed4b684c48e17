// WalPayloadCodec: how the LSM stores a WriteBatch rep in a WAL record.
//
// A record payload is the batch rep (12-byte header: fixed64 sequence,
// fixed32 count; then the entries), either as is or with the entries
// compressed by zstd. Sequence numbers are below 2^56, so the header's byte
// 7 (the sequence's top byte) is always 0 in a plain rep; a compressed
// payload sets it to kWalPayloadZstd and follows the header with the
// entries' raw size and a zstd frame (lsm/FORMAT.md, "WAL record payload").
// Old logs hold plain reps only, and read as before.
//
// Why: values written by users are often compressible, and the WAL is about
// half of what an LSM writes (its records are the only copy of the data
// before a flush). Only payloads of kWalCompressMinBytes or more are
// compressed (the buffered groups of unsynced writes, large batches): a small
// synced write would gain little and wait for the compressor.
//
// Threading: Encode is used by one thread at a time (the write leader);
// Decode is a free function.
#pragma once

#include <zstd.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "strata/status.h"

namespace strata::lsm {

inline constexpr uint8_t kWalPayloadZstd = 1;
inline constexpr size_t kWalCompressMinBytes = 4096;
// zstd's fastest regular level: the write leader compresses inline.
inline constexpr int kWalZstdLevel = 1;

class WalPayloadCodec {
 public:
  // With compress false (Options::compression == kNone), Encode logs every
  // rep as is.
  explicit WalPayloadCodec(bool compress) : compress_(compress) {}
  ~WalPayloadCodec();
  WalPayloadCodec(const WalPayloadCodec&) = delete;
  WalPayloadCodec& operator=(const WalPayloadCodec&) = delete;

  // The payload to log for `rep`: rep itself, or a compressed form held in
  // this codec until the next call. Compression is kept only when it saves
  // at least 1/8.
  std::string_view Encode(const std::string& rep);

 private:
  const bool compress_;
  ZSTD_CCtx* cctx_ = nullptr;
  std::string buffer_;
};

// The rep inside a payload. `where` names the record in errors. A bad
// format byte, a wrong size or a frame that does not decompress is
// Corruption.
Status DecodeWalPayload(std::string_view payload, std::string_view where, std::string* rep);

}  // namespace strata::lsm
