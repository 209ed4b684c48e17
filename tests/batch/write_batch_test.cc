#include "strata/write_batch.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/coding.h"
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
  Status OnDeleteRange(std::string_view b, std::string_view e) override {
    ops.push_back("delrange [" + std::string(b) + "," + std::string(e) + ")");
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

TEST(WriteBatchTest, DeleteRangeRoundTripsInOrder) {
  WriteBatch b;
  ASSERT_TRUE(b.Put("a", "1").ok());
  ASSERT_TRUE(b.DeleteRange("b", "d").ok());
  ASSERT_TRUE(b.DeleteRange("", std::string(1, '\0')).ok());  // the smallest range
  ASSERT_TRUE(b.Delete("e").ok());
  EXPECT_EQ(b.Count(), 4u);
  b.set_sequence(9);
  Result<WriteBatch> parsed = WriteBatch::Parse(b.Serialize());
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  Recorder r;
  ASSERT_TRUE(parsed->Iterate(&r).ok());
  EXPECT_EQ(r.ops, (std::vector<std::string>{"put a=1", "delrange [b,d)",
                                             std::string("delrange [,\0)", 13), "del e"}));
}

// The bytes batch/FORMAT.md shows for DeleteRange("a", "c") at sequence 7.
TEST(WriteBatchTest, DeleteRangeEncodingMatchesFormatDoc) {
  WriteBatch b;
  ASSERT_TRUE(b.DeleteRange("a", "c").ok());
  b.set_sequence(7);
  const std::string want(
      "\x07\0\0\0\0\0\0\0\x01\0\0\0\x04\x01"
      "a"
      "\x01"
      "c",
      17);
  EXPECT_EQ(b.rep(), want);
}

TEST(WriteBatchTest, EmptyOrInvertedRangeIsInvalidAndPoisonsTheBatch) {
  for (auto [begin, end] : std::vector<std::pair<std::string, std::string>>{
           {"b", "b"}, {"c", "b"}, {"", ""}, {"ab", "a"}}) {
    WriteBatch b;
    ASSERT_TRUE(b.Put("x", "1").ok());
    const size_t size = b.ApproximateSize();
    Status s = b.DeleteRange(begin, end);
    EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
    EXPECT_NE(s.ToString().find("range"), std::string::npos) << s.ToString();
    EXPECT_EQ(b.Count(), 1u);
    EXPECT_EQ(b.ApproximateSize(), size);
    EXPECT_TRUE(b.status().IsInvalidArgument());
    WriteBatch c;
    ASSERT_TRUE(c.Append(b).ok());
    EXPECT_TRUE(c.status().IsInvalidArgument());  // the error travels with Append
    b.Clear();
    EXPECT_TRUE(b.status().ok());
  }
}

TEST(WriteBatchTest, DecoderRejectsInvertedOrOversizedRange) {
  auto rep_with = [](std::string_view begin, std::string_view end) {
    std::string rep(WriteBatch::kHeaderBytes, '\0');
    rep[8] = 1;  // count
    rep.push_back(static_cast<char>(BatchEntryType::kDeleteRange));
    PutLengthPrefixed(&rep, begin);
    PutLengthPrefixed(&rep, end);
    return rep;
  };
  EXPECT_TRUE(WriteBatch::FromRep(rep_with("a", "b")).ok());
  for (const std::string& rep : {rep_with("b", "a"), rep_with("a", "a"), rep_with("", ""),
                                 rep_with("a", std::string(kKeyBytesMax + 1, 'z'))}) {
    Result<WriteBatch> r = WriteBatch::FromRep(rep);
    ASSERT_FALSE(r.ok());
    EXPECT_TRUE(r.status().IsCorruption()) << r.status().ToString();
    EXPECT_NE(r.status().ToString().find("@ 12"), std::string::npos) << r.status().ToString();
  }
  std::string truncated = rep_with("a", "b");
  truncated.pop_back();
  EXPECT_TRUE(WriteBatch::FromRep(truncated).status().IsCorruption());
}

}  // namespace
}  // namespace strata
