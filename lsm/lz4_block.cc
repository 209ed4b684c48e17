#include "lsm/lz4_block.h"

#include <fmt/core.h>
#include <lz4.h>

#include <limits>

#include "core/coding.h"
#include "lsm/format.h"

namespace strata::lsm {

bool Lz4CompressBlock(std::string_view raw, std::string* out) {
  if (raw.size() > static_cast<size_t>(LZ4_MAX_INPUT_SIZE)) return false;
  out->clear();
  PutVarint32(out, static_cast<uint32_t>(raw.size()));
  const size_t header = out->size();
  const int bound = LZ4_compressBound(static_cast<int>(raw.size()));
  out->resize(header + static_cast<size_t>(bound));
  const int n = LZ4_compress_default(raw.data(), out->data() + header,
                                     static_cast<int>(raw.size()), bound);
  if (n <= 0) return false;
  out->resize(header + static_cast<size_t>(n));
  return true;
}

Status Lz4BlockRawBytes(std::string_view stored, const std::string& name, uint64_t offset,
                        size_t raw_bytes_max, size_t* raw_bytes, size_t* data_offset) {
  std::string_view rest = stored;
  uint32_t n = 0;
  if (!GetVarint32(&rest, &n)) {
    return TableCorruption(name, offset, "bad lz4 block size");
  }
  if (n > raw_bytes_max || n > static_cast<uint32_t>(std::numeric_limits<int>::max())) {
    return TableCorruption(name, offset,
                           fmt::format("lz4 block of {} bytes exceeds the block limit", n));
  }
  *raw_bytes = n;
  *data_offset = stored.size() - rest.size();
  return Status::Ok();
}

Status Lz4DecompressBlock(std::string_view stored, size_t data_offset, const std::string& name,
                          uint64_t offset, char* out, size_t raw_bytes) {
  const std::string_view data = stored.substr(data_offset);
  const int n = LZ4_decompress_safe(data.data(), out, static_cast<int>(data.size()),
                                    static_cast<int>(raw_bytes));
  if (n < 0 || static_cast<size_t>(n) != raw_bytes) {
    return TableCorruption(name, offset, "lz4 decompression failed");
  }
  return Status::Ok();
}

}  // namespace strata::lsm
