// Snapshot stream format constants (snapshot/FORMAT.md has the byte tables).
//
// stream  = header frame | chunk frame* | trailer frame
// header  = magic[8] | version u32 | sequence u64 | chunk_bytes u32 |
//           kind_bytes u8 | kind | checksum u64
// chunk   = type u8 (1) | chunk_index u32 | entry_count u32 | payload_bytes u32 |
//           payload | checksum u64
// trailer = type u8 (2) | chunk_count u32 | entry_count u64 | payload_bytes u64 |
//           checksum u64
// entry   = type u8 | varint32 key_bytes | key | [version u64, type 2] |
//           varint32 value_bytes | value
// All integers little-endian. The header checksum is XXH3-64 of the header
// bytes before it; every later frame's checksum is XXH3-64 of the frame bytes
// before it, seeded with the header checksum (a frame of another stream
// never verifies in this one).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "strata/limits.h"

namespace strata::snapshot {

inline constexpr std::string_view kStreamMagic = "STRASNAP";
inline constexpr uint32_t kStreamVersion = 1;

inline constexpr size_t kHeaderFixedBytes = 8 + 4 + 8 + 4 + 1;  // up to the kind
inline constexpr size_t kEngineKindBytesMax = 32;
inline constexpr size_t kChecksumBytes = 8;
inline constexpr size_t kChunkHeaderBytes = 1 + 4 + 4 + 4;
inline constexpr size_t kTrailerBytes = 1 + 4 + 8 + 8 + kChecksumBytes;

// On-disk values: never renumbered or reused; 0 is never valid.
enum class FrameType : uint8_t { kChunk = 1, kTrailer = 2 };
enum class EntryType : uint8_t { kValue = 1, kVersionedValue = 2 };

// Largest encoded entry: type, two varint32 lengths, version, key, value.
inline constexpr size_t kEntryBytesMax = 1 + 5 + 8 + 5 + kKeyBytesMax + kValueBytesMax;
// The writer closes a chunk once its payload reaches chunk_bytes, so a
// payload is below chunk_bytes + kEntryBytesMax.
inline constexpr size_t kChunkBytesMin = 1;
inline constexpr size_t kChunkBytesMax = 8 * kMiB;
inline constexpr size_t kChunkBytesDefault = 1 * kMiB;
inline constexpr size_t kChunkPayloadBytesMax = kChunkBytesMax + kEntryBytesMax;
// An install applies one chunk as one WriteBatch.
static_assert(kChunkPayloadBytesMax < kWriteBatchBytesMax);

}  // namespace strata::snapshot
