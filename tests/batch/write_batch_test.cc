#include "strata/write_batch.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "strata/limits.h"

namespace strata {
namespace {

struct Recorder : WriteBatch::Handler {
  std::vector<std::string> ops;
  Status OnPut(std::string_view k, std::string_view v) override {
    ops.push_back("put " + std::string(k) + "=" + std::string(v));
    return Status::Ok();
  }
  Status OnDelete(std::string_view k) override {
    ops.push_back("del " + std::string(k));
    return Status::Ok();
  }
  Status OnPutVersioned(std::string_view k, uint64_t ver, std::string_view v) override {
    ops.push_back("putv " + std::string(k) + "@" + std::to_string(ver) + "=" + std::string(v));
    return Status::Ok();
  }
};

TEST(WriteBatchTest, EmptyBatch) {
  WriteBatch b;
  EXPECT_EQ(b.Count(), 0u);
  EXPECT_EQ(b.ApproximateSize(), WriteBatch::kHeaderBytes);
  Recorder r;
  ASSERT_TRUE(b.Iterate(&r).ok());
  EXPECT_TRUE(r.ops.empty());
}

TEST(WriteBatchTest, IteratesInOrder) {
  WriteBatch b;
  ASSERT_TRUE(b.Put("a", "1").ok());
  ASSERT_TRUE(b.Delete("b").ok());
  ASSERT_TRUE(b.PutVersioned("c", 42, "3").ok());
  ASSERT_TRUE(b.Put("", "").ok());
  EXPECT_EQ(b.Count(), 4u);
  Recorder r;
  ASSERT_TRUE(b.Iterate(&r).ok());
  EXPECT_EQ(r.ops, (std::vector<std::string>{"put a=1", "del b", "putv c@42=3", "put ="}));
}

TEST(WriteBatchTest, SerializeParseRoundTrip) {
  WriteBatch b;
  ASSERT_TRUE(b.Put("key", std::string(1000, 'v')).ok());
  ASSERT_TRUE(b.Delete("gone").ok());
  b.set_sequence(77);
  Result<WriteBatch> parsed = WriteBatch::Parse(b.Serialize());
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->rep(), b.rep());
  EXPECT_EQ(parsed->sequence(), 77u);
  EXPECT_EQ(parsed->Count(), 2u);
}

TEST(WriteBatchTest, EveryFlippedBitIsRejected) {
  WriteBatch b;
  ASSERT_TRUE(b.Put("alpha", "one").ok());
  ASSERT_TRUE(b.Delete("beta").ok());
  const std::string good = b.Serialize();
  for (size_t byte = 0; byte < good.size(); ++byte) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string bad = good;
      bad[byte] ^= static_cast<char>(1 << bit);
      Result<WriteBatch> r = WriteBatch::Parse(bad);
      ASSERT_FALSE(r.ok()) << "byte " << byte << " bit " << bit;
      EXPECT_TRUE(r.status().IsCorruption()) << r.status().ToString();
    }
  }
}

TEST(WriteBatchTest, TruncatedIsRejected) {
  WriteBatch b;
  ASSERT_TRUE(b.Put("alpha", "one").ok());
  const std::string good = b.Serialize();
  for (size_t len = 0; len < good.size(); ++len) {
    EXPECT_TRUE(WriteBatch::Parse(good.substr(0, len)).status().IsCorruption()) << len;
  }
}

TEST(WriteBatchTest, FramingErrorsFoundWithoutChecksum) {
  WriteBatch b;
  ASSERT_TRUE(b.Put("alpha", "one").ok());
  std::string rep = b.rep();
  rep[WriteBatch::kHeaderBytes] = 9;  // unknown type
  Result<WriteBatch> r = WriteBatch::FromRep(rep);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("unknown entry type"), std::string::npos);
  std::string wrong_count = b.rep();
  wrong_count[8] = 5;
  EXPECT_TRUE(WriteBatch::FromRep(wrong_count).status().IsCorruption());
  std::string zero_type = b.rep();
  zero_type[WriteBatch::kHeaderBytes] = 0;  // zeroed space never parses
  EXPECT_TRUE(WriteBatch::FromRep(zero_type).status().IsCorruption());
}

TEST(WriteBatchTest, LimitsAreInvalidArgumentAndLeaveBatchUnchanged) {
  WriteBatch b;
  ASSERT_TRUE(b.Put("k", "v").ok());
  const std::string before = b.rep();
  EXPECT_TRUE(b.Put(std::string(kKeyBytesMax + 1, 'k'), "v").IsInvalidArgument());
  EXPECT_TRUE(b.Put("k", std::string(kValueBytesMax + 1, 'v')).IsInvalidArgument());
  EXPECT_TRUE(b.Delete(std::string(kKeyBytesMax + 1, 'k')).IsInvalidArgument());
  EXPECT_EQ(b.rep(), before);
  EXPECT_TRUE(b.Put(std::string(kKeyBytesMax, 'k'), "v").ok());
}

TEST(WriteBatchTest, BatchSizeLimit) {
  WriteBatch b;
  const std::string value(kValueBytesMax, 'v');
  Status s;
  int added = 0;
  while ((s = b.Put("k", value)).ok()) ++added;
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_EQ(b.Count(), static_cast<uint32_t>(added));
  EXPECT_LE(b.ApproximateSize(), kWriteBatchBytesMax);
}

TEST(WriteBatchTest, AppendConcatenates) {
  WriteBatch a, b;
  ASSERT_TRUE(a.Put("a", "1").ok());
  ASSERT_TRUE(b.Delete("b").ok());
  ASSERT_TRUE(b.Put("c", "3").ok());
  ASSERT_TRUE(a.Append(b).ok());
  Recorder r;
  ASSERT_TRUE(a.Iterate(&r).ok());
  EXPECT_EQ(r.ops, (std::vector<std::string>{"put a=1", "del b", "put c=3"}));
}

}  // namespace
}  // namespace strata
