// SSTable framing shared by the builder and the reader: block handles, the
// block trailer (compression type + XXH3 checksum) and the fixed-size footer.
// lsm/FORMAT.md documents every byte.
//
// Threading: plain values and free functions; no shared state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "strata/limits.h"
#include "strata/options.h"
#include "strata/status.h"

namespace strata::io {
class RandomAccessFile;
}

namespace strata::lsm {

// "strataST" read as a little-endian fixed64.
inline constexpr uint64_t kTableMagic = 0x5453617461727473ull;
inline constexpr uint32_t kTableFormatVersion = 1;
// Tables that hold range tombstones (a range-deletion block): a reader that
// only knows version 1 refuses them instead of ignoring the deletions.
inline constexpr uint32_t kTableFormatVersionRangeDel = 2;

// On-disk block compression types: never renumbered; 0 is never valid.
enum class BlockType : uint8_t { kRaw = 1, kZstd = 2, kLz4 = 3 };

// compression type (1) + XXH3-64 of contents and type byte (8).
inline constexpr size_t kBlockTrailerBytes = 1 + 8;
// Largest uncompressed block a reader accepts: one maximal key and value plus framing.
inline constexpr size_t kBlockBytesMax = 2 * (kKeyBytesMax + kValueBytesMax);
static_assert(kBlockBytesMax < (size_t{1} << 32), "block offsets inside a block are 32-bit");

// Where a block lives: `bytes` excludes the trailer.
struct BlockHandle {
  uint64_t offset = 0;
  uint64_t bytes = 0;
  bool empty() const { return bytes == 0 && offset == 0; }
};
inline constexpr size_t kBlockHandleBytesMax = 2 * 10;

// Varint pair; used as the value of index entries.
void EncodeBlockHandle(const BlockHandle& handle, std::string* dst);
bool DecodeBlockHandle(std::string_view* input, BlockHandle* handle);

// index, filter, properties handles (3 x 16) | version (4) | checksum (8) | magic (8).
inline constexpr size_t kFooterBytes = 3 * 16 + 4 + 8 + 8;

struct Footer {
  BlockHandle index;
  BlockHandle filter;  // empty when the table has no bloom filter
  BlockHandle properties;
  uint32_t format_version = kTableFormatVersion;
};

void EncodeFooter(const Footer& footer, std::string* dst);
// Checks magic, checksum, version and that every handle lies inside
// [0, file_bytes - kFooterBytes). `name` and `offset` go into Corruption messages.
Status DecodeFooter(std::string_view bytes, uint64_t file_bytes, const std::string& name,
                    Footer* footer);

// Appends the trailer for `contents` stored with `type`.
void AppendBlockTrailer(std::string_view contents, BlockType type, std::string* dst);


// "000123.sst @ 4096: message" as a Corruption status.
Status TableCorruption(const std::string& name, uint64_t offset, std::string_view message);

// Heap bytes that, unlike a std::string's, are not zeroed when allocated:
// block bytes are overwritten by a read or a decompression right away.
class BlockBuffer {
 public:
  BlockBuffer() = default;
  explicit BlockBuffer(size_t size) : bytes_(new char[size]), size_(size) {}
  char* data() { return bytes_.get(); }
  const char* data() const { return bytes_.get(); }
  size_t size() const { return size_; }
  std::string_view view() const { return std::string_view(bytes_.get(), size_); }
  // Forgets the tail; the allocation stays.
  void Shrink(size_t size) {
    if (size < size_) size_ = size;
  }

 private:
  std::unique_ptr<char[]> bytes_;
  size_t size_ = 0;
};

// Checks the trailer of *block (contents + trailer as read: it must be exactly
// handle.bytes + kBlockTrailerBytes) and turns it in place into the
// uncompressed block contents.
Status DecodeStoredBlock(const BlockHandle& handle, const std::string& name, std::string* block);

Status DecodeStoredBlock(const BlockHandle& handle, const std::string& name, BlockBuffer* block);

// Reads, verifies and decompresses one block into *block.
Status ReadBlock(const io::RandomAccessFile& file, const BlockHandle& handle,
                 const std::string& name, std::string* block);
Status ReadBlock(const io::RandomAccessFile& file, const BlockHandle& handle,
                 const std::string& name, BlockBuffer* block);

// Maps between the options enum and the on-disk byte.
const char* BlockTypeName(uint8_t type);

}  // namespace strata::lsm
