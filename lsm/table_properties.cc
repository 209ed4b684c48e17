#include "lsm/table_properties.h"

#include <map>

#include "core/coding.h"
#include "lsm/block.h"
#include "lsm/block_builder.h"
#include "lsm/format.h"

namespace strata::lsm {

namespace {

// On-disk compression codes in the properties block: 0 is never valid.
constexpr uint64_t kPropCompressionNone = 1;
constexpr uint64_t kPropCompressionZstd = 2;
constexpr uint64_t kPropCompressionLz4 = 3;

struct NumberField {
  const char* name;
  uint64_t TableProperties::*field;
};

constexpr NumberField kNumberFields[] = {
    {"strata.compressed_block_count", &TableProperties::compressed_block_count},
    {"strata.data_block_count", &TableProperties::data_block_count},
    {"strata.data_bytes", &TableProperties::data_bytes},
    {"strata.deletion_count", &TableProperties::deletion_count},
    {"strata.entry_count", &TableProperties::entry_count},
    {"strata.filter_bytes", &TableProperties::filter_bytes},
    {"strata.index_bytes", &TableProperties::index_bytes},
    {"strata.largest_seq", &TableProperties::largest_seq},
    {"strata.range_del_bytes", &TableProperties::range_del_bytes},
    {"strata.range_del_count", &TableProperties::range_del_count},
    {"strata.range_del_offset", &TableProperties::range_del_offset},
    {"strata.raw_data_bytes", &TableProperties::raw_data_bytes},
    {"strata.raw_key_bytes", &TableProperties::raw_key_bytes},
    {"strata.raw_value_bytes", &TableProperties::raw_value_bytes},
    {"strata.smallest_seq", &TableProperties::smallest_seq},
};

std::string Varint(uint64_t v) {
  std::string s;
  PutVarint64(&s, v);
  return s;
}

}  // namespace

std::string EncodeTableProperties(const TableProperties& props) {
  std::map<std::string, std::string> fields;
  for (const NumberField& f : kNumberFields) {
    // Tables without range tombstones keep the format 1 properties exactly.
    if (props.range_del_count == 0 && std::string_view(f.name).starts_with("strata.range_del")) {
      continue;
    }
    fields[f.name] = Varint(props.*f.field);
  }
  fields["strata.compression"] = Varint(props.compression == Compression::kZstd  ? kPropCompressionZstd
                                        : props.compression == Compression::kLz4 ? kPropCompressionLz4
                                                                                 : kPropCompressionNone);
  fields["strata.largest_key"] = props.largest_key;
  fields["strata.smallest_key"] = props.smallest_key;
  // Every entry is a restart: names stay whole, so a hex dump reads plainly.
  BlockBuilder builder(/*restart_interval=*/1);
  for (const auto& [name, value] : fields) builder.Add(name, value);
  return std::string(builder.Finish());
}

Status DecodeTableProperties(std::string block, const std::string& name, uint64_t offset,
                             TableProperties* props) {
  std::shared_ptr<const Block> parsed;
  STRATA_RETURN_IF_ERROR(Block::Parse(std::move(block), name, offset, &parsed, CompareBytewise));
  auto it = parsed->NewIterator(CompareBytewise);
  *props = TableProperties{};
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const std::string_view key = it->key();
    std::string_view value = it->value();
    if (key == "strata.smallest_key") {
      props->smallest_key.assign(value);
      continue;
    }
    if (key == "strata.largest_key") {
      props->largest_key.assign(value);
      continue;
    }
    uint64_t number = 0;
    const bool is_number = GetVarint64(&value, &number) && value.empty();
    if (key == "strata.compression") {
      if (!is_number || (number != kPropCompressionNone && number != kPropCompressionZstd &&
                         number != kPropCompressionLz4)) {
        return TableCorruption(name, offset, "bad compression property");
      }
      props->compression = number == kPropCompressionZstd  ? Compression::kZstd
                           : number == kPropCompressionLz4 ? Compression::kLz4
                                                           : Compression::kNone;
      continue;
    }
    for (const NumberField& f : kNumberFields) {
      if (key != f.name) continue;
      if (!is_number) return TableCorruption(name, offset, "bad property " + std::string(key));
      props->*f.field = number;
    }
  }
  STRATA_RETURN_IF_ERROR(it->status());
  return CheckTableProperties(*props, name, offset);
}

Status CheckTableProperties(const TableProperties& props, const std::string& name,
                            uint64_t offset) {
  if (props.smallest_seq > props.largest_seq) {
    return TableCorruption(name, offset, "properties: smallest_seq above largest_seq");
  }
  if (props.range_del_count == 0 && (props.range_del_offset != 0 || props.range_del_bytes != 0)) {
    return TableCorruption(name, offset, "properties: a range-deletion block without tombstones");
  }
  if (props.entry_count == 0) {
    if (!props.smallest_key.empty() || !props.largest_key.empty() ||
        props.data_block_count != 0) {
      return TableCorruption(name, offset, "properties: keys or data blocks without entries");
    }
    return Status::Ok();
  }
  ParsedInternalKey parsed;
  if (!ParseInternalKey(props.smallest_key, &parsed) ||
      !ParseInternalKey(props.largest_key, &parsed)) {
    return TableCorruption(name, offset, "properties: malformed smallest or largest key");
  }
  if (CompareInternalKeys(props.smallest_key, props.largest_key) > 0) {
    return TableCorruption(name, offset, "properties: smallest key above largest key");
  }
  if (props.data_block_count == 0 || props.data_block_count > props.entry_count ||
      props.deletion_count > props.entry_count) {
    return TableCorruption(name, offset, "properties: inconsistent entry and block counts");
  }
  return Status::Ok();
}

}  // namespace strata::lsm
