// `strata sst ...`: dump, props, verify and layout of SSTables (lsm/FORMAT.md).
#include <fmt/core.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/coding.h"
#include "io/file_system.h"
#include "lsm/dbformat.h"
#include "lsm/format.h"
#include "lsm/table.h"
#include "tools/commands.h"

namespace strata::tools {

namespace {

using lsm::Table;

// Value bytes shown by `dump` before "...".
constexpr size_t kValuePreviewBytes = 32;
constexpr size_t kHexBytesPerLine = 16;

std::string Escape(std::string_view bytes) {
  std::string out;
  for (char c : bytes) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isprint(u) && c != '\\' && c != '\'') {
      out.push_back(c);
    } else {
      out += fmt::format("\\x{:02x}", u);
    }
  }
  return out;
}

std::string BaseName(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// "000123.sst" -> 123; anything else -> 0 (only used as the cache key).
uint64_t FileNumberOf(const std::string& path) {
  const std::string base = BaseName(path);
  uint64_t n = 0;
  for (char c : base) {
    if (!std::isdigit(static_cast<unsigned char>(c))) break;
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  return n;
}

Status OpenTable(const std::string& path, std::unique_ptr<Table>* table) {
  // Opening a FIFO for reading waits for a writer, a device may be endless:
  // only regular files are tables.
  std::error_code ec;
  const std::filesystem::file_status st = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::exists(st)) return Status::NotFound(path + ": no such file");
  if (!std::filesystem::is_regular_file(st)) {
    return Status::InvalidArgument(path + ": not a regular file");
  }
  auto fs = io::DefaultFileSystem();
  std::unique_ptr<io::RandomAccessFile> file;
  STRATA_RETURN_IF_ERROR(fs->NewRandomAccessFile(path, io::FileOptions{}, &file));
  STRATA_ASSIGN_OR_RETURN(const uint64_t size, file->Size());
  return Table::Open(lsm::TableOptions{}, std::move(file), size, FileNumberOf(path), nullptr,
                     table);
}

std::string DescribeKey(std::string_view internal_key) {
  lsm::ParsedInternalKey parsed;
  if (!lsm::ParseInternalKey(internal_key, &parsed)) {
    return fmt::format("<bad internal key '{}'>", Escape(internal_key));
  }
  const char* type = parsed.type == lsm::ValueType::kDeletion ? "del"
                     : parsed.type == lsm::ValueType::kValue  ? "put"
                                                              : "putv";
  return fmt::format("'{}' @ {} : {}", Escape(parsed.user_key), parsed.sequence, type);
}

std::string DescribeValue(std::string_view internal_key, std::string_view value) {
  lsm::ParsedInternalKey parsed;
  if (!lsm::ParseInternalKey(internal_key, &parsed) || parsed.type == lsm::ValueType::kDeletion) {
    return "";
  }
  std::string prefix;
  if (parsed.type == lsm::ValueType::kVersionedValue && value.size() >= 8) {
    prefix = fmt::format("version={} ", DecodeFixed64(value.data()));
    value.remove_prefix(8);
  }
  const bool cut = value.size() > kValuePreviewBytes;
  return fmt::format(" => {}'{}{}' ({} bytes)", prefix, Escape(value.substr(0, kValuePreviewBytes)),
                     cut ? "..." : "", value.size());
}

void PrintHexRegion(std::string_view file, uint64_t offset, uint64_t bytes,
                    const std::string& label) {
  fmt::print("# {} @ {} ({} bytes)\n", label, offset, bytes);
  for (uint64_t line = 0; line < bytes; line += kHexBytesPerLine) {
    const uint64_t n = std::min<uint64_t>(kHexBytesPerLine, bytes - line);
    std::string hex, ascii;
    for (uint64_t i = 0; i < kHexBytesPerLine; ++i) {
      if (i < n) {
        const auto u = static_cast<unsigned char>(file[offset + line + i]);
        hex += fmt::format("{:02x} ", u);
        ascii.push_back(std::isprint(u) ? static_cast<char>(u) : '.');
      } else {
        hex += "   ";
      }
    }
    fmt::print("{:08x}  {} |{}|\n", offset + line, hex, ascii);
  }
}

// One block as laid out in the file (for layout and hex dumps).
struct BlockInfo {
  std::string kind;
  lsm::BlockHandle handle;
  uint8_t type = 0;
  uint64_t raw_bytes = 0;
  uint64_t entry_count = 0;
};

// Lists every block in file order: data blocks, filter, index, properties.
Status CollectBlocks(const Table& table, const std::string& file, std::vector<BlockInfo>* out) {
  auto index = table.NewIndexIterator();
  uint64_t block_index = 0;
  for (index->SeekToFirst(); index->Valid(); index->Next(), ++block_index) {
    BlockInfo info;
    info.kind = fmt::format("data {}", block_index);
    STRATA_RETURN_IF_ERROR(table.DecodeDataHandle(index->value(), &info.handle));
    std::shared_ptr<const lsm::Block> block;
    STRATA_RETURN_IF_ERROR(table.GetDataBlock(info.handle, false, nullptr, &block));
    info.raw_bytes = block->bytes();
    auto it = block->NewIterator();
    for (it->SeekToFirst(); it->Valid(); it->Next()) ++info.entry_count;
    STRATA_RETURN_IF_ERROR(it->status());
    out->push_back(info);
  }
  STRATA_RETURN_IF_ERROR(index->status());
  const lsm::Footer& f = table.footer();
  if (!f.filter.empty()) out->push_back(BlockInfo{"filter", f.filter, 0, f.filter.bytes, 0});
  out->push_back(BlockInfo{"index", f.index, 0, f.index.bytes, block_index});
  out->push_back(BlockInfo{"properties", f.properties, 0, f.properties.bytes, 0});
  if (const auto& p = table.properties(); p.range_del_count > 0) {
    const lsm::BlockHandle handle{p.range_del_offset, p.range_del_bytes};
    out->push_back(BlockInfo{"range-deletion", handle, 0, handle.bytes, p.range_del_count});
  }
  for (BlockInfo& b : *out) {
    const uint64_t type_offset = b.handle.offset + b.handle.bytes;
    if (type_offset < file.size()) b.type = static_cast<uint8_t>(file[type_offset]);
  }
  std::sort(out->begin(), out->end(),
            [](const BlockInfo& a, const BlockInfo& b) { return a.handle.offset < b.handle.offset; });
  return Status::Ok();
}

Status ReadWholeFile(const std::string& path, std::string* data) {
  return io::ReadFileToString(io::DefaultFileSystem().get(), path, data);
}

Status RunDump(const std::string& path, bool hex, uint64_t limit) {
  std::unique_ptr<Table> table;
  STRATA_RETURN_IF_ERROR(OpenTable(path, &table));
  const lsm::TableProperties& props = table->properties();
  fmt::print("{}: {} entries, {} bytes\n", BaseName(path), props.entry_count, table->file_bytes());
  if (props.entry_count > 0) {
    fmt::print("smallest: {}\nlargest:  {}\n", DescribeKey(props.smallest_key),
               DescribeKey(props.largest_key));
  }
  auto it = table->NewIterator(ReadOptions{});
  uint64_t n = 0;
  for (it->SeekToFirst(); it->Valid() && n < limit; it->Next(), ++n) {
    fmt::print("{}{}\n", DescribeKey(it->key()), DescribeValue(it->key(), it->value()));
  }
  STRATA_RETURN_IF_ERROR(it->status());
  if (n == limit && it->Valid()) fmt::print("... (--limit {} reached)\n", limit);
  if (table->range_dels() != nullptr) {
    for (const lsm::RangeTombstone& t : table->range_dels()->tombstones()) {
      fmt::print("range deletion ['{}', '{}') @ {}\n", Escape(t.begin), Escape(t.end), t.seq);
    }
  }
  if (!hex) return Status::Ok();

  std::string file;
  STRATA_RETURN_IF_ERROR(ReadWholeFile(path, &file));
  std::vector<BlockInfo> blocks;
  STRATA_RETURN_IF_ERROR(CollectBlocks(*table, file, &blocks));
  fmt::print("\n");
  for (const BlockInfo& b : blocks) {
    PrintHexRegion(file, b.handle.offset, b.handle.bytes,
                   fmt::format("{} block contents ({})", b.kind, lsm::BlockTypeName(b.type)));
    PrintHexRegion(file, b.handle.offset + b.handle.bytes, lsm::kBlockTrailerBytes,
                   fmt::format("{} block trailer: type, xxh3", b.kind));
  }
  PrintHexRegion(file, file.size() - lsm::kFooterBytes, lsm::kFooterBytes,
                 "footer: index, filter, properties handles, version, xxh3, magic");
  return Status::Ok();
}

Status RunProps(const std::string& path) {
  std::unique_ptr<Table> table;
  STRATA_RETURN_IF_ERROR(OpenTable(path, &table));
  const lsm::TableProperties& p = table->properties();
  fmt::print("file: {}\nfile_bytes: {}\nformat_version: {}\n", BaseName(path), table->file_bytes(),
             table->footer().format_version);
  fmt::print("entry_count: {}\ndeletion_count: {}\n", p.entry_count, p.deletion_count);
  fmt::print("data_block_count: {}\ncompressed_block_count: {}\n", p.data_block_count,
             p.compressed_block_count);
  fmt::print("data_bytes: {}\nraw_data_bytes: {}\n", p.data_bytes, p.raw_data_bytes);
  fmt::print("raw_key_bytes: {}\nraw_value_bytes: {}\n", p.raw_key_bytes, p.raw_value_bytes);
  fmt::print("index_bytes: {}\nfilter_bytes: {}\n", p.index_bytes, p.filter_bytes);
  fmt::print("compression: {}\n", p.compression == Compression::kZstd  ? "zstd"
                                  : p.compression == Compression::kLz4 ? "lz4"
                                                                       : "none");
  fmt::print("smallest_seq: {}\nlargest_seq: {}\n", p.smallest_seq, p.largest_seq);
  if (p.range_del_count > 0) fmt::print("range_del_count: {}\n", p.range_del_count);
  if (p.entry_count > 0) {
    fmt::print("smallest_key: {}\nlargest_key: {}\n", DescribeKey(p.smallest_key),
               DescribeKey(p.largest_key));
  }
  return Status::Ok();
}

Status RunLayout(const std::string& path) {
  std::unique_ptr<Table> table;
  STRATA_RETURN_IF_ERROR(OpenTable(path, &table));
  std::string file;
  STRATA_RETURN_IF_ERROR(ReadWholeFile(path, &file));
  std::vector<BlockInfo> blocks;
  STRATA_RETURN_IF_ERROR(CollectBlocks(*table, file, &blocks));
  fmt::print("{:<12} {:>10} {:>9} {:>9} {:>6} {:>6} {:>8}\n", "block", "offset", "stored",
             "raw", "type", "ratio", "entries");
  uint64_t stored_total = 0, contents_total = 0, raw_total = 0;
  for (const BlockInfo& b : blocks) {
    const uint64_t stored = b.handle.bytes + lsm::kBlockTrailerBytes;
    const double ratio = b.handle.bytes == 0 ? 1.0 : double(b.raw_bytes) / b.handle.bytes;
    fmt::print("{:<12} {:>10} {:>9} {:>9} {:>6} {:>6.2f} {:>8}\n", b.kind, b.handle.offset, stored,
               b.raw_bytes, lsm::BlockTypeName(b.type), ratio, b.entry_count);
    if (b.kind.starts_with("data")) {
      stored_total += stored;
      contents_total += b.handle.bytes;
      raw_total += b.raw_bytes;
    }
  }
  fmt::print("{:<12} {:>10} {:>9}\n", "footer", file.size() - lsm::kFooterBytes,
             lsm::kFooterBytes);
  const lsm::TableProperties& p = table->properties();
  // Ratio of block contents before and after compression (trailers excluded).
  fmt::print("data: {} blocks, {} bytes stored (with trailers), {} raw, compression ratio {:.2f}\n",
             p.data_block_count, stored_total, raw_total,
             contents_total == 0 ? 1.0 : double(raw_total) / contents_total);
  fmt::print("file: {} bytes (data {:.1f}%, index {}, filter {}, footer {})\n", file.size(),
             file.empty() ? 0.0 : 100.0 * stored_total / file.size(), p.index_bytes,
             p.filter_bytes, lsm::kFooterBytes);
  return Status::Ok();
}

// Corruption in any file -> exit 1 with file and offset; I/O errors -> 3.
int RunVerify(const std::string& path) {
  auto fs = io::DefaultFileSystem();
  std::vector<std::string> files;
  std::vector<std::string> names;
  if (fs->ListDir(path, &names).ok()) {
    std::sort(names.begin(), names.end());
    for (const std::string& name : names) {
      if (name.ends_with(".sst")) files.push_back(io::JoinPath(path, name));
    }
    if (files.empty()) fmt::print("{}: no *.sst files\n", path);
  } else {
    files.push_back(path);
  }
  int corrupt = 0;
  for (const std::string& file : files) {
    std::unique_ptr<Table> table;
    Status s = OpenTable(file, &table);
    if (s.ok()) s = table->VerifyChecksums();
    if (s.ok()) {
      fmt::print("OK {} ({} entries, {} data blocks)\n", file, table->properties().entry_count,
                 table->properties().data_block_count);
    } else if (s.IsCorruption()) {
      fmt::print("CORRUPT {}: {}\n", file, s.message());
      ++corrupt;
    } else {
      return ExitFor(s);
    }
  }
  if (corrupt > 0) {
    fmt::print(stderr, "strata: {} of {} sstables corrupt\n", corrupt, files.size());
    return kExitNotFoundOrCheckFailed;
  }
  return kExitOk;
}

}  // namespace

void RegisterSstCommands(CLI::App& app, int* exit_code) {
  CLI::App* sst = app.add_subcommand("sst", "Inspect and verify SSTables (lsm/FORMAT.md)");
  sst->require_subcommand(1);

  CLI::App* dump = sst->add_subcommand("dump", "Print key range and entries (user key, seq, type)");
  auto dump_file = std::make_shared<std::string>();
  auto hex = std::make_shared<bool>(false);
  auto limit = std::make_shared<uint64_t>(UINT64_MAX);
  dump->add_option("FILE", *dump_file, "SSTable file")->required();
  dump->add_flag("--hex", *hex, "Also print every block, trailer and the footer in hex");
  dump->add_option("--limit", *limit, "Print at most this many entries");
  dump->callback([=] { *exit_code = ExitFor(RunDump(*dump_file, *hex, *limit)); });

  CLI::App* props = sst->add_subcommand("props", "Print the properties block");
  auto props_file = std::make_shared<std::string>();
  props->add_option("FILE", *props_file, "SSTable file")->required();
  props->callback([=] { *exit_code = ExitFor(RunProps(*props_file)); });

  CLI::App* verify = sst->add_subcommand(
      "verify", "Check every checksum of a file or of every *.sst in a directory (exit 1 if bad)");
  auto verify_path = std::make_shared<std::string>();
  verify->add_option("PATH", *verify_path, "SSTable file or directory")->required();
  verify->callback([=] { *exit_code = RunVerify(*verify_path); });

  CLI::App* layout = sst->add_subcommand("layout", "List blocks: offsets, sizes, compression");
  auto layout_file = std::make_shared<std::string>();
  layout->add_option("FILE", *layout_file, "SSTable file")->required();
  layout->callback([=] { *exit_code = ExitFor(RunLayout(*layout_file)); });
}

}  // namespace strata::tools
