#include "io/aligned_buffer.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <utility>

namespace strata::io {
namespace {

bool IsAligned(const void* p) { return reinterpret_cast<uintptr_t>(p) % kDirectIoAlignment == 0; }

TEST(AlignedBuffer, AlignedStartAndCapacity) {
  AlignedBuffer buf(5000);
  EXPECT_TRUE(IsAligned(buf.data()));
  EXPECT_EQ(buf.capacity(), 2 * kDirectIoAlignment);  // rounded up
  EXPECT_EQ(buf.size(), 0u);
  EXPECT_EQ(buf.remaining(), buf.capacity());
}

TEST(AlignedBuffer, AppendPadClear) {
  AlignedBuffer buf(kDirectIoAlignment * 2);
  buf.Append("record-1");
  buf.Append("record-2");
  EXPECT_EQ(buf.view(), "record-1record-2");
  const char* before = buf.data();
  EXPECT_EQ(buf.PadToAlignment(), kDirectIoAlignment - 16);
  EXPECT_EQ(buf.size(), kDirectIoAlignment);
  EXPECT_EQ(buf.view().substr(16), std::string(kDirectIoAlignment - 16, '\0'));
  EXPECT_EQ(buf.PadToAlignment(), 0u);  // already aligned
  buf.Append(std::string(kDirectIoAlignment, 'z'));
  EXPECT_EQ(buf.remaining(), 0u);
  EXPECT_EQ(buf.data(), before);  // never reallocates
  buf.Clear();
  EXPECT_EQ(buf.size(), 0u);
  EXPECT_EQ(buf.PadToAlignment(), 0u);
}

TEST(AlignedBuffer, MoveTransfersOwnership) {
  AlignedBuffer a(kDirectIoAlignment);
  a.Append("abc");
  const char* data = a.data();
  AlignedBuffer b(std::move(a));
  EXPECT_EQ(b.data(), data);
  EXPECT_EQ(b.view(), "abc");
  EXPECT_EQ(a.capacity(), 0u);  // NOLINT(bugprone-use-after-move): moved-from is empty
  AlignedBuffer c(0);
  c = std::move(b);
  EXPECT_EQ(c.view(), "abc");
}

TEST(AlignedBuffer, AlignHelpers) {
  EXPECT_EQ(AlignUp(0), 0u);
  EXPECT_EQ(AlignUp(1), kDirectIoAlignment);
  EXPECT_EQ(AlignUp(kDirectIoAlignment), kDirectIoAlignment);
  EXPECT_EQ(AlignDown(kDirectIoAlignment + 1), kDirectIoAlignment);
}

TEST(AlignedBufferDeathTest, OverflowIsAProgrammerError) {
  AlignedBuffer buf(kDirectIoAlignment);
  EXPECT_DEATH(buf.Append(std::string(kDirectIoAlignment + 1, 'x')), "assertion failed");
}

}  // namespace
}  // namespace strata::io
