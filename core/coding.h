// Fixed-width little-endian and varint encoding with bounds checks.
//
// Encoders append to a std::string or write to a buffer the caller sized.
// Decoders take a std::string_view "input" that they advance; they return
// false on truncated or overlong input and never read past the view.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace strata {

inline constexpr size_t kVarint32BytesMax = 5;
inline constexpr size_t kVarint64BytesMax = 10;

inline void EncodeFixed16(char* dst, uint16_t v) {
  dst[0] = static_cast<char>(v);
  dst[1] = static_cast<char>(v >> 8);
}
inline void EncodeFixed32(char* dst, uint32_t v) {
  for (int i = 0; i < 4; ++i) dst[i] = static_cast<char>(v >> (8 * i));
}
inline void EncodeFixed64(char* dst, uint64_t v) {
  for (int i = 0; i < 8; ++i) dst[i] = static_cast<char>(v >> (8 * i));
}
inline uint16_t DecodeFixed16(const char* p) {
  const auto* u = reinterpret_cast<const uint8_t*>(p);
  return static_cast<uint16_t>(u[0] | (u[1] << 8));
}
inline uint32_t DecodeFixed32(const char* p) {
  const auto* u = reinterpret_cast<const uint8_t*>(p);
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | u[i];
  return v;
}
inline uint64_t DecodeFixed64(const char* p) {
  const auto* u = reinterpret_cast<const uint8_t*>(p);
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | u[i];
  return v;
}

inline void PutFixed16(std::string* dst, uint16_t v) {
  char buf[2];
  EncodeFixed16(buf, v);
  dst->append(buf, sizeof(buf));
}
inline void PutFixed32(std::string* dst, uint32_t v) {
  char buf[4];
  EncodeFixed32(buf, v);
  dst->append(buf, sizeof(buf));
}
inline void PutFixed64(std::string* dst, uint64_t v) {
  char buf[8];
  EncodeFixed64(buf, v);
  dst->append(buf, sizeof(buf));
}

// Writes a varint to dst (room for kVarint64BytesMax) and returns its length.
inline size_t EncodeVarint64(char* dst, uint64_t v) {
  size_t n = 0;
  while (v >= 0x80) {
    dst[n++] = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  dst[n++] = static_cast<char>(v);
  return n;
}
inline void PutVarint64(std::string* dst, uint64_t v) {
  char buf[kVarint64BytesMax];
  dst->append(buf, EncodeVarint64(buf, v));
}
inline void PutVarint32(std::string* dst, uint32_t v) { PutVarint64(dst, v); }
inline size_t VarintLength(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

// Decodes a varint of at most `bytes_max` bytes from the front of *input.
inline bool GetVarintBounded(std::string_view* input, uint64_t* value, size_t bytes_max,
                             uint64_t value_max) {
  uint64_t result = 0;
  const size_t limit = input->size() < bytes_max ? input->size() : bytes_max;
  for (size_t i = 0; i < limit; ++i) {
    const uint64_t byte = static_cast<uint8_t>((*input)[i]);
    result |= (byte & 0x7f) << (7 * i);
    if ((byte & 0x80) == 0) {
      if (result > value_max) return false;
      if (i == 9 && byte > 1) return false;  // bits beyond 64
      *value = result;
      input->remove_prefix(i + 1);
      return true;
    }
  }
  return false;  // truncated, or longer than bytes_max
}
inline bool GetVarint64(std::string_view* input, uint64_t* value) {
  return GetVarintBounded(input, value, kVarint64BytesMax, UINT64_MAX);
}
inline bool GetVarint32(std::string_view* input, uint32_t* value) {
  uint64_t v = 0;
  if (!GetVarintBounded(input, &v, kVarint32BytesMax, UINT32_MAX)) return false;
  *value = static_cast<uint32_t>(v);
  return true;
}
inline bool GetFixed32(std::string_view* input, uint32_t* value) {
  if (input->size() < 4) return false;
  *value = DecodeFixed32(input->data());
  input->remove_prefix(4);
  return true;
}
inline bool GetFixed64(std::string_view* input, uint64_t* value) {
  if (input->size() < 8) return false;
  *value = DecodeFixed64(input->data());
  input->remove_prefix(8);
  return true;
}
// A varint32 length followed by that many bytes.
inline bool GetLengthPrefixed(std::string_view* input, std::string_view* result) {
  uint32_t len = 0;
  std::string_view copy = *input;
  if (!GetVarint32(&copy, &len) || copy.size() < len) return false;
  *result = copy.substr(0, len);
  copy.remove_prefix(len);
  *input = copy;
  return true;
}
inline void PutLengthPrefixed(std::string* dst, std::string_view value) {
  PutVarint32(dst, static_cast<uint32_t>(value.size()));
  dst->append(value);
}

}  // namespace strata
