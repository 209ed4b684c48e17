// LZ4 for table blocks (block type 3, lsm/FORMAT.md): the stored contents are
// the raw size as a varint32 followed by one LZ4 block (the LZ4 block
// format, not the frame format), which carries no size of its own.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "strata/status.h"

namespace strata::lsm {

// Replaces *out with the stored form of `raw`. False when LZ4 fails (the
// caller stores the block raw).
bool Lz4CompressBlock(std::string_view raw, std::string* out);

// The raw size the stored contents announce, and where the LZ4 data starts.
// Corruption (naming `name` and `offset`) when the size does not decode or
// exceeds `raw_bytes_max`.
Status Lz4BlockRawBytes(std::string_view stored, const std::string& name, uint64_t offset,
                        size_t raw_bytes_max, size_t* raw_bytes, size_t* data_offset);

// Decompresses into out[0, raw_bytes): Corruption unless the LZ4 data decodes
// to exactly raw_bytes bytes.
Status Lz4DecompressBlock(std::string_view stored, size_t data_offset, const std::string& name,
                          uint64_t offset, char* out, size_t raw_bytes);

}  // namespace strata::lsm
