#include "core/coding.h"

#include <gtest/gtest.h>

#include <random>

#include "core/checksum.h"
#include "tests/testing/test_util.h"

namespace strata::io {
namespace {

TEST(CodingTest, FixedRoundTripIsLittleEndian) {
  std::string s;
  PutFixed32(&s, 0x04030201u);
  PutFixed64(&s, 0x0807060504030201ull);
  ASSERT_EQ(s.size(), 12u);
  EXPECT_EQ(s[0], 1);
  EXPECT_EQ(s[3], 4);
  EXPECT_EQ(DecodeFixed32(s.data()), 0x04030201u);
  EXPECT_EQ(DecodeFixed64(s.data() + 4), 0x0807060504030201ull);
}

TEST(CodingTest, VarintRoundTripAtBoundaries) {
  const uint64_t values[] = {0, 1, 127, 128, 16383, 16384, (1ull << 32) - 1, 1ull << 32,
                             UINT64_MAX};
  for (uint64_t v : values) {
    std::string s;
    PutVarint64(&s, v);
    EXPECT_EQ(s.size(), VarintLength(v));
    std::string_view in = s;
    uint64_t out = 0;
    ASSERT_TRUE(GetVarint64(&in, &out)) << v;
    EXPECT_EQ(out, v);
    EXPECT_TRUE(in.empty());
  }
}

TEST(CodingTest, TruncatedVarintIsAnErrorNeverAnOverread) {
  std::string s;
  PutVarint64(&s, UINT64_MAX);
  for (size_t len = 0; len < s.size(); ++len) {
    // Copy into an exactly-sized heap buffer so ASan catches any overread.
    std::unique_ptr<char[]> buf(new char[len == 0 ? 1 : len]);
    std::memcpy(buf.get(), s.data(), len);
    std::string_view in(buf.get(), len);
    uint64_t out = 0;
    EXPECT_FALSE(GetVarint64(&in, &out)) << len;
    EXPECT_EQ(in.size(), len) << "input must be untouched on failure";
  }
}

TEST(CodingTest, Varint32RejectsOverflowAndOverlong) {
  std::string big;
  PutVarint64(&big, 1ull << 32);
  std::string_view in = big;
  uint32_t out = 0;
  EXPECT_FALSE(GetVarint32(&in, &out));
  std::string overlong(11, '\x80');
  std::string_view in64 = overlong;
  uint64_t out64 = 0;
  EXPECT_FALSE(GetVarint64(&in64, &out64));
  // Tenth byte may only carry bit 63.
  std::string bad(9, '\xff');
  bad.push_back('\x02');
  std::string_view in_bad = bad;
  EXPECT_FALSE(GetVarint64(&in_bad, &out64));
}

TEST(CodingTest, LengthPrefixedChecksBounds) {
  std::string s;
  PutLengthPrefixed(&s, "hello");
  std::string_view in = s;
  std::string_view out;
  ASSERT_TRUE(GetLengthPrefixed(&in, &out));
  EXPECT_EQ(out, "hello");
  std::string cut = s.substr(0, s.size() - 1);
  std::string_view in_cut = cut;
  EXPECT_FALSE(GetLengthPrefixed(&in_cut, &out));
}

TEST(ChecksumTest, StreamingEqualsOneShotAndSeesOneBit) {
  std::mt19937_64 rng(testing::TestSeed(7));
  std::string data(10000, '\0');
  for (char& c : data) c = static_cast<char>(rng());
  Checksummer sum;
  sum.Update(std::string_view(data).substr(0, 1234));
  sum.Update(std::string_view(data).substr(1234));
  EXPECT_EQ(sum.Digest(), Checksum64(data));
  std::string flipped = data;
  flipped[5000] ^= 0x10;
  EXPECT_NE(Checksum64(flipped), Checksum64(data));
}

}  // namespace
}  // namespace strata::io
