#include "lsm/format.h"

#include <zstd.h>

#include <memory>

#include "core/checksum.h"
#include "core/coding.h"
#include "io/file_system.h"
#include "lsm/lz4_block.h"

namespace strata::lsm {

namespace {

constexpr size_t kFooterChecksummedBytes = 3 * 16 + 4;

void PutHandleFixed(std::string* dst, const BlockHandle& h) {
  PutFixed64(dst, h.offset);
  PutFixed64(dst, h.bytes);
}

BlockHandle GetHandleFixed(const char* p) {
  return BlockHandle{DecodeFixed64(p), DecodeFixed64(p + 8)};
}

uint64_t TrailerChecksum(std::string_view contents, uint8_t type) {
  Checksummer sum;
  sum.Update(contents);
  const char type_byte = static_cast<char>(type);
  sum.Update(std::string_view(&type_byte, 1));
  return sum.Digest();
}

// One decompression context per thread: creating one per block costs more
// than decompressing a 4 KiB block.
struct DctxDeleter {
  void operator()(ZSTD_DCtx* ctx) const { ZSTD_freeDCtx(ctx); }
};
ZSTD_DCtx* ThreadDctx() {
  thread_local std::unique_ptr<ZSTD_DCtx, DctxDeleter> ctx(ZSTD_createDCtx());
  return ctx.get();
}

}  // namespace

void EncodeBlockHandle(const BlockHandle& handle, std::string* dst) {
  PutVarint64(dst, handle.offset);
  PutVarint64(dst, handle.bytes);
}

bool DecodeBlockHandle(std::string_view* input, BlockHandle* handle) {
  return GetVarint64(input, &handle->offset) && GetVarint64(input, &handle->bytes);
}

void EncodeFooter(const Footer& footer, std::string* dst) {
  const size_t start = dst->size();
  PutHandleFixed(dst, footer.index);
  PutHandleFixed(dst, footer.filter);
  PutHandleFixed(dst, footer.properties);
  PutFixed32(dst, footer.format_version);
  PutFixed64(dst, Checksum64(std::string_view(*dst).substr(start)));
  PutFixed64(dst, kTableMagic);
}

Status TableCorruption(const std::string& name, uint64_t offset, std::string_view message) {
  std::string msg = name;
  msg += " @ ";
  msg += std::to_string(offset);
  msg += ": ";
  msg += message;
  return Status::Corruption(msg);
}

Status DecodeFooter(std::string_view bytes, uint64_t file_bytes, const std::string& name,
                    Footer* footer) {
  if (file_bytes < kFooterBytes || bytes.size() != kFooterBytes) {
    return TableCorruption(name, 0,
                           "file too short for an sstable footer (" + std::to_string(file_bytes) +
                               " bytes)");
  }
  const uint64_t footer_offset = file_bytes - kFooterBytes;
  const char* p = bytes.data();
  if (DecodeFixed64(p + kFooterBytes - 8) != kTableMagic) {
    return TableCorruption(name, footer_offset + kFooterBytes - 8,
                           "bad magic number (not a strata sstable, or truncated)");
  }
  const uint64_t stored = DecodeFixed64(p + kFooterChecksummedBytes);
  if (Checksum64(bytes.substr(0, kFooterChecksummedBytes)) != stored) {
    return TableCorruption(name, footer_offset, "footer checksum mismatch");
  }
  footer->index = GetHandleFixed(p);
  footer->filter = GetHandleFixed(p + 16);
  footer->properties = GetHandleFixed(p + 32);
  footer->format_version = DecodeFixed32(p + 48);
  if (footer->format_version != kTableFormatVersion &&
      footer->format_version != kTableFormatVersionRangeDel) {
    return TableCorruption(name, footer_offset + 48,
                           "unsupported format version " + std::to_string(footer->format_version));
  }
  const BlockHandle* handles[] = {&footer->index, &footer->filter, &footer->properties};
  const char* names[] = {"index", "filter", "properties"};
  for (int i = 0; i < 3; ++i) {
    const BlockHandle& h = *handles[i];
    if (i == 1 && h.empty()) continue;
    if (h.offset > footer_offset || h.bytes > footer_offset - h.offset ||
        footer_offset - h.offset - h.bytes < kBlockTrailerBytes) {
      return TableCorruption(name, footer_offset + 16 * i,
                             std::string(names[i]) + " block handle outside the file");
    }
  }
  return Status::Ok();
}

void AppendBlockTrailer(std::string_view contents, BlockType type, std::string* dst) {
  const uint8_t type_byte = static_cast<uint8_t>(type);
  dst->push_back(static_cast<char>(type_byte));
  PutFixed64(dst, TrailerChecksum(contents, type_byte));
}

namespace {

// Size and checksum of a stored block (contents + trailer), then its type.
Status VerifyStoredBlock(const BlockHandle& handle, const std::string& name,
                         std::string_view stored, BlockType* type) {
  if (stored.size() != handle.bytes + kBlockTrailerBytes) {
    return TableCorruption(name, handle.offset, "block truncated (file shorter than its index)");
  }
  const uint8_t type_byte = static_cast<uint8_t>(stored[handle.bytes]);
  const uint64_t expected = DecodeFixed64(stored.data() + handle.bytes + 1);
  // The type byte follows the contents, so the checksum over both is one
  // pass over the stored bytes (the same digest as TrailerChecksum's two).
  if (Checksum64(stored.data(), handle.bytes + 1) != expected) {
    return TableCorruption(name, handle.offset, "block checksum mismatch");
  }
  if (type_byte != static_cast<uint8_t>(BlockType::kRaw) &&
      type_byte != static_cast<uint8_t>(BlockType::kZstd) &&
      type_byte != static_cast<uint8_t>(BlockType::kLz4)) {
    return TableCorruption(name, handle.offset + handle.bytes,
                           "unknown block compression type " + std::to_string(type_byte));
  }
  *type = static_cast<BlockType>(type_byte);
  return Status::Ok();
}

Status ZstdContentBytes(const BlockHandle& handle, const std::string& name,
                        std::string_view contents, size_t* raw_bytes) {
  const unsigned long long n = ZSTD_getFrameContentSize(contents.data(), contents.size());
  if (n == ZSTD_CONTENTSIZE_ERROR || n == ZSTD_CONTENTSIZE_UNKNOWN || n > kBlockBytesMax) {
    return TableCorruption(name, handle.offset, "bad zstd frame header");
  }
  *raw_bytes = static_cast<size_t>(n);
  return Status::Ok();
}

Status ZstdDecompress(const BlockHandle& handle, const std::string& name,
                      std::string_view contents, char* out, size_t raw_bytes) {
  const size_t n =
      ZSTD_decompressDCtx(ThreadDctx(), out, raw_bytes, contents.data(), contents.size());
  if (ZSTD_isError(n) || n != raw_bytes) {
    return TableCorruption(name, handle.offset, "zstd decompression failed");
  }
  return Status::Ok();
}

}  // namespace

Status DecodeStoredBlock(const BlockHandle& handle, const std::string& name,
                         std::string* block) {
  BlockType type;
  STRATA_RETURN_IF_ERROR(VerifyStoredBlock(handle, name, *block, &type));
  const std::string_view contents = std::string_view(*block).substr(0, handle.bytes);
  if (type == BlockType::kRaw) {
    block->resize(handle.bytes);
    return Status::Ok();
  }
  size_t raw_bytes = 0;
  if (type == BlockType::kLz4) {
    size_t data_offset = 0;
    STRATA_RETURN_IF_ERROR(Lz4BlockRawBytes(contents, name, handle.offset, kBlockBytesMax,
                                            &raw_bytes, &data_offset));
    std::string raw(raw_bytes, '\0');
    STRATA_RETURN_IF_ERROR(
        Lz4DecompressBlock(contents, data_offset, name, handle.offset, raw.data(), raw_bytes));
    *block = std::move(raw);
    return Status::Ok();
  }
  STRATA_RETURN_IF_ERROR(ZstdContentBytes(handle, name, contents, &raw_bytes));
  std::string raw(raw_bytes, '\0');
  STRATA_RETURN_IF_ERROR(ZstdDecompress(handle, name, contents, raw.data(), raw_bytes));
  *block = std::move(raw);
  return Status::Ok();
}

Status DecodeStoredBlock(const BlockHandle& handle, const std::string& name,
                         BlockBuffer* block) {
  BlockType type;
  STRATA_RETURN_IF_ERROR(VerifyStoredBlock(handle, name, block->view(), &type));
  const std::string_view contents = block->view().substr(0, handle.bytes);
  if (type == BlockType::kRaw) {
    block->Shrink(handle.bytes);
    return Status::Ok();
  }
  size_t raw_bytes = 0;
  if (type == BlockType::kLz4) {
    size_t data_offset = 0;
    STRATA_RETURN_IF_ERROR(Lz4BlockRawBytes(contents, name, handle.offset, kBlockBytesMax,
                                            &raw_bytes, &data_offset));
    BlockBuffer raw(raw_bytes);
    STRATA_RETURN_IF_ERROR(
        Lz4DecompressBlock(contents, data_offset, name, handle.offset, raw.data(), raw_bytes));
    *block = std::move(raw);
    return Status::Ok();
  }
  STRATA_RETURN_IF_ERROR(ZstdContentBytes(handle, name, contents, &raw_bytes));
  BlockBuffer raw(raw_bytes);
  STRATA_RETURN_IF_ERROR(ZstdDecompress(handle, name, contents, raw.data(), raw_bytes));
  *block = std::move(raw);
  return Status::Ok();
}

Status ReadBlock(const io::RandomAccessFile& file, const BlockHandle& handle,
                 const std::string& name, std::string* block) {
  if (handle.bytes > kBlockBytesMax) {
    return TableCorruption(name, handle.offset, "block larger than the limit");
  }
  block->resize(handle.bytes + kBlockTrailerBytes);
  size_t n = 0;
  STRATA_RETURN_IF_ERROR(file.Read(handle.offset, block->size(), block->data(), &n));
  block->resize(n);
  return DecodeStoredBlock(handle, name, block);
}

Status ReadBlock(const io::RandomAccessFile& file, const BlockHandle& handle,
                 const std::string& name, BlockBuffer* block) {
  if (handle.bytes > kBlockBytesMax) {
    return TableCorruption(name, handle.offset, "block larger than the limit");
  }
  *block = BlockBuffer(handle.bytes + kBlockTrailerBytes);
  size_t n = 0;
  STRATA_RETURN_IF_ERROR(file.Read(handle.offset, block->size(), block->data(), &n));
  block->Shrink(n);
  return DecodeStoredBlock(handle, name, block);
}

const char* BlockTypeName(uint8_t type) {
  switch (type) {
    case static_cast<uint8_t>(BlockType::kRaw):
      return "raw";
    case static_cast<uint8_t>(BlockType::kZstd):
      return "zstd";
    case static_cast<uint8_t>(BlockType::kLz4):
      return "lz4";
    default:
      return "unknown";
  }
}

}  // namespace strata::lsm
