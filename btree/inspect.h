// Human-readable page descriptions for `strata btree dump` and FORMAT.md.
#pragma once

#include <cstdint>
#include <string>

#include "io/file_system.h"
#include "strata/status.h"

namespace strata::btree {

// Hex dump in 16-byte lines ("offset  bytes  |ascii|"); runs of all-zero
// lines are shown once followed by "*", as hexdump -C does.
std::string HexDump(const char* data, size_t bytes, uint64_t base_offset);

// Describes page `no` of a btree.db file with `page_bytes` pages: its header
// fields and (for meta, branch, leaf, free-list pages) its contents; with
// `hex`, also its bytes. Damaged pages are described as far as they can be,
// with the validation error.
Status DescribePage(const io::RandomAccessFile& in, size_t page_bytes, uint64_t no, bool hex,
                    std::string* out);

}  // namespace strata::btree
