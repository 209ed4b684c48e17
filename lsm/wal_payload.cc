#include "lsm/wal_payload.h"

#include <fmt/core.h>

#include "core/coding.h"
#include "wal/limits.h"

namespace strata::lsm {

namespace {

constexpr size_t kRepHeaderBytes = 12;
constexpr size_t kFormatByte = 7;  // the top byte of the fixed64 sequence

}  // namespace

WalPayloadCodec::~WalPayloadCodec() {
  if (cctx_ != nullptr) ZSTD_freeCCtx(cctx_);
}

std::string_view WalPayloadCodec::Encode(const std::string& rep) {
  if (!compress_ || rep.size() < kWalCompressMinBytes) return rep;
  if (cctx_ == nullptr) cctx_ = ZSTD_createCCtx();
  if (cctx_ == nullptr) return rep;  // out of memory: log it plain
  const std::string_view entries = std::string_view(rep).substr(kRepHeaderBytes);
  buffer_.assign(rep, 0, kRepHeaderBytes);
  buffer_[kFormatByte] = static_cast<char>(kWalPayloadZstd);
  PutVarint64(&buffer_, entries.size());
  const size_t prefix = buffer_.size();
  buffer_.resize(prefix + ZSTD_compressBound(entries.size()));
  const size_t n = ZSTD_compressCCtx(cctx_, buffer_.data() + prefix, buffer_.size() - prefix,
                                     entries.data(), entries.size(), kWalZstdLevel);
  if (ZSTD_isError(n) || prefix + n > rep.size() - rep.size() / 8) return rep;
  buffer_.resize(prefix + n);
  return buffer_;
}

Status DecodeWalPayload(std::string_view payload, std::string_view where, std::string* rep) {
  if (payload.size() < kRepHeaderBytes) {
    return Status::Corruption(fmt::format("{}: payload of {} bytes is shorter than a batch header",
                                          where, payload.size()));
  }
  const uint8_t format = static_cast<uint8_t>(payload[kFormatByte]);
  if (format == 0) {
    rep->assign(payload);
    return Status::Ok();
  }
  if (format != kWalPayloadZstd) {
    return Status::Corruption(fmt::format("{}: unknown payload format {}", where, format));
  }
  std::string_view rest = payload.substr(kRepHeaderBytes);
  uint64_t raw_bytes = 0;
  if (!GetVarint64(&rest, &raw_bytes) ||
      raw_bytes > wal::kRecordPayloadBytesMax - kRepHeaderBytes) {
    return Status::Corruption(fmt::format("{}: bad uncompressed size", where));
  }
  // The frame records its size too; checking it first bounds the buffer.
  if (ZSTD_getFrameContentSize(rest.data(), rest.size()) != raw_bytes) {
    return Status::Corruption(fmt::format("{}: compressed batch size mismatch", where));
  }
  rep->assign(payload.substr(0, kRepHeaderBytes));
  (*rep)[kFormatByte] = 0;
  rep->resize(kRepHeaderBytes + raw_bytes);
  const size_t n =
      ZSTD_decompress(rep->data() + kRepHeaderBytes, raw_bytes, rest.data(), rest.size());
  if (ZSTD_isError(n) || n != raw_bytes) {
    return Status::Corruption(fmt::format("{}: compressed batch does not decompress to {} bytes",
                                          where, raw_bytes));
  }
  return Status::Ok();
}

}  // namespace strata::lsm
