// AlignedBuffer: an owning byte buffer whose start is aligned to
// kDirectIoAlignment, for O_DIRECT reads and writes.
//
// The memory is allocated once, in the constructor, with the full capacity;
// Append never reallocates (overflowing the capacity is a programmer error),
// so a writer that owns one buffer does no allocation per record.
// PadToAlignment zero-fills up to the next multiple of kDirectIoAlignment so
// that the buffer's size is a legal O_DIRECT write length.
//
// Ownership: the buffer owns its memory; it is movable, not copyable.
// Thread safety: none; one owner at a time.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <utility>

#include "core/assert.h"
#include "io/file_system.h"

namespace strata::io {

// Rounds `bytes` up to a multiple of kDirectIoAlignment.
constexpr size_t AlignUp(size_t bytes) {
  return (bytes + kDirectIoAlignment - 1) / kDirectIoAlignment * kDirectIoAlignment;
}
constexpr size_t AlignDown(size_t bytes) { return bytes / kDirectIoAlignment * kDirectIoAlignment; }
static_assert((kDirectIoAlignment & (kDirectIoAlignment - 1)) == 0,
              "the O_DIRECT alignment must be a power of two");

class AlignedBuffer {
 public:
  // Capacity is rounded up to a multiple of kDirectIoAlignment so that a full
  // buffer is always a legal O_DIRECT length.
  explicit AlignedBuffer(size_t capacity) : capacity_(AlignUp(capacity)) {
    if (capacity_ == 0) return;
    data_ = static_cast<char*>(std::aligned_alloc(kDirectIoAlignment, capacity_));
    // Out of memory at setup time is fatal, as it is for operator new.
    STRATA_ASSERT(data_ != nullptr);
  }
  ~AlignedBuffer() { std::free(data_); }

  AlignedBuffer(AlignedBuffer&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)),
        size_(std::exchange(other.size_, 0)),
        capacity_(std::exchange(other.capacity_, 0)) {}
  AlignedBuffer& operator=(AlignedBuffer&& other) noexcept {
    if (this != &other) {
      std::free(data_);
      data_ = std::exchange(other.data_, nullptr);
      size_ = std::exchange(other.size_, 0);
      capacity_ = std::exchange(other.capacity_, 0);
    }
    return *this;
  }
  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;

  char* data() { return data_; }
  const char* data() const { return data_; }
  size_t size() const { return size_; }
  size_t capacity() const { return capacity_; }
  size_t remaining() const { return capacity_ - size_; }
  std::string_view view() const { return std::string_view(data_, size_); }

  // REQUIRES: bytes.size() <= remaining().
  void Append(std::string_view bytes) {
    STRATA_ASSERT(bytes.size() <= remaining());
    if (bytes.empty()) return;
    std::memcpy(data_ + size_, bytes.data(), bytes.size());
    size_ += bytes.size();
  }

  // Sets the size (e.g. after a read filled the buffer). REQUIRES: size <= capacity().
  void Resize(size_t size) {
    STRATA_ASSERT(size <= capacity_);
    size_ = size;
  }

  void Clear() { size_ = 0; }

  // Zero-fills up to the next alignment boundary; returns the bytes added.
  // Never exceeds the capacity, which is itself aligned.
  size_t PadToAlignment() {
    const size_t padded = AlignUp(size_);
    STRATA_ASSERT(padded <= capacity_);
    const size_t pad_bytes = padded - size_;
    if (pad_bytes > 0) std::memset(data_ + size_, 0, pad_bytes);
    size_ = padded;
    return pad_bytes;
  }

 private:
  char* data_ = nullptr;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

}  // namespace strata::io
