// TableProperties: what a table holds, written in its properties block
// (lsm/FORMAT.md, "Properties block") and read back at open.
// A plain value; copy freely.
#pragma once

#include <cstdint>
#include <string>

#include "lsm/dbformat.h"
#include "strata/options.h"
#include "strata/status.h"

namespace strata::lsm {

struct TableProperties {
  uint64_t entry_count = 0;
  uint64_t deletion_count = 0;
  uint64_t data_bytes = 0;        // data blocks as stored, trailers included
  uint64_t raw_data_bytes = 0;    // data blocks before compression
  uint64_t raw_key_bytes = 0;     // sum of internal key sizes
  uint64_t raw_value_bytes = 0;
  uint64_t data_block_count = 0;
  uint64_t compressed_block_count = 0;  // data blocks stored with zstd
  uint64_t index_bytes = 0;       // index block as stored, trailer included
  uint64_t filter_bytes = 0;      // filter block as stored, 0 without a filter
  std::string smallest_key;       // internal keys; empty when entry_count == 0
  std::string largest_key;
  SequenceNumber smallest_seq = 0;
  SequenceNumber largest_seq = 0;
  // The range-deletion block (lsm/FORMAT.md): written, with table format
  // version 2, only when the table holds range tombstones (count > 0).
  // smallest/largest key and seq describe the point entries only.
  uint64_t range_del_count = 0;
  uint64_t range_del_offset = 0;
  uint64_t range_del_bytes = 0;                  // block contents, trailer excluded
  Compression compression = Compression::kNone;  // what the builder was asked to use
};

// Serialises as a block of (name, value) entries sorted by name; numbers are varints.
std::string EncodeTableProperties(const TableProperties& props);
// Parses the uncompressed properties block. Unknown names are skipped so that
// newer writers can add properties; a bad value is Corruption.
Status DecodeTableProperties(std::string block, const std::string& name, uint64_t offset,
                             TableProperties* props);
// What DecodeTableProperties checks once the fields are read: counts agree
// (entries >= data blocks, deletions), sequences are ordered, and with
// entries, smallest and largest are well-formed internal keys in order.
Status CheckTableProperties(const TableProperties& props, const std::string& name,
                            uint64_t offset);

}  // namespace strata::lsm
