// Record and segment header encoding: round trip and every rejection.
#include <gtest/gtest.h>

#include "core/coding.h"
#include "wal/format.h"
#include "wal/limits.h"

namespace strata::wal {
namespace {

TEST(WalFormat, RecordRoundTrip) {
  for (size_t bytes : {0, 1, 7, 8, 100, 4096}) {
    const std::string payload(bytes, 'p');
    std::string buf(RecordBytes(bytes), 'x');
    EXPECT_EQ(EncodeRecord(7, 42, payload, buf.data()), buf.size());
    EXPECT_EQ(buf.size() % kRecordAlignment, 0u);
    RecordHeader header;
    std::string_view out;
    ASSERT_EQ(CheckRecord(buf, 7, &header, &out), RecordCheck::kOk);
    EXPECT_EQ(out, payload);
    EXPECT_EQ(header.lsn, 42u);
    EXPECT_EQ(header.segment_seq, 7u);
    EXPECT_EQ(header.type, static_cast<uint8_t>(RecordType::kData));
  }
}

// A seal: header only, the next record's lsn; a seal with a payload is a
// bad header.
TEST(WalFormat, SealRecord) {
  std::string buf(kSealRecordBytes, 'x');
  EXPECT_EQ(EncodeSealRecord(5, 77, buf.data()), kSealRecordBytes);
  RecordHeader header;
  std::string_view out;
  ASSERT_EQ(CheckRecord(buf, 5, &header, &out), RecordCheck::kOk);
  EXPECT_EQ(header.type, static_cast<uint8_t>(RecordType::kSeal));
  EXPECT_EQ(header.lsn, 77u);
  EXPECT_TRUE(out.empty());
  std::string with_payload(RecordBytes(3), '\0');
  EncodeRecord(5, 77, "abc", with_payload.data());
  with_payload[12] = static_cast<char>(RecordType::kSeal);
  EXPECT_EQ(CheckRecord(with_payload, 5, &header, &out), RecordCheck::kBadHeader);
}

TEST(WalFormat, RecordRejections) {
  const std::string payload = "hello, wal";
  std::string buf(RecordBytes(payload.size()), '\0');
  EncodeRecord(3, 9, payload, buf.data());
  RecordHeader h;
  std::string_view out;
  EXPECT_EQ(CheckRecord(buf, 4, &h, &out), RecordCheck::kStale);
  EXPECT_EQ(CheckRecord(buf.substr(0, 20), 3, &h, &out), RecordCheck::kEndOfData);
  EXPECT_EQ(CheckRecord(buf.substr(0, 40), 3, &h, &out), RecordCheck::kTruncated);
  EXPECT_EQ(CheckRecord(std::string(64, '\0'), 3, &h, &out), RecordCheck::kZero);
  for (size_t byte = 0; byte < kRecordHeaderBytes + payload.size(); ++byte) {
    if (byte >= 16 && byte < 24) continue;  // the seq field: flips read as stale
    std::string bad = buf;
    bad[byte] = static_cast<char>(bad[byte] ^ 0x10);
    EXPECT_NE(CheckRecord(bad, 3, &h, &out), RecordCheck::kOk) << "byte " << byte;
  }
  std::string bad_type = buf;
  bad_type[12] = 0;
  EXPECT_EQ(CheckRecord(bad_type, 3, &h, &out), RecordCheck::kBadHeader);
  std::string huge = buf;
  EncodeFixed32(huge.data() + 8, static_cast<uint32_t>(kRecordPayloadBytesMax + 1));
  EXPECT_EQ(CheckRecord(huge, 3, &h, &out), RecordCheck::kBadHeader);
}

TEST(WalFormat, SegmentHeader) {
  std::string block(kSegmentHeaderBytes, '\0');
  EncodeSegmentHeader(SegmentHeader{12, kSegmentBytesMin, 2 * kDirectBlockBytes}, block.data());
  SegmentHeader h;
  ASSERT_TRUE(DecodeSegmentHeader(block, "seg", &h).ok());
  EXPECT_EQ(h.seq, 12u);
  EXPECT_EQ(h.segment_bytes, kSegmentBytesMin);
  EXPECT_EQ(h.allocated_bytes, 2 * kDirectBlockBytes);
  EXPECT_EQ(h.version, kFormatVersion);
  // An allocation that is not a whole number of blocks past the header, or
  // beyond the segment size, is refused.
  for (uint64_t allocated : {uint64_t{0}, kSegmentHeaderBytes, kSegmentHeaderBytes + 100,
                             kSegmentBytesMin + kDirectBlockBytes}) {
    std::string odd(kSegmentHeaderBytes, '\0');
    EncodeSegmentHeader(SegmentHeader{12, kSegmentBytesMin, allocated}, odd.data());
    Status s = DecodeSegmentHeader(odd, "seg", &h);
    EXPECT_TRUE(s.IsCorruption()) << allocated;
    EXPECT_NE(s.message().find("allocated size"), std::string::npos) << s.ToString();
  }
  for (size_t byte = 0; byte < kSegmentHeaderUsedBytes; ++byte) {
    std::string bad = block;
    bad[byte] = static_cast<char>(bad[byte] ^ 1);
    Status s = DecodeSegmentHeader(bad, "seg", &h);
    EXPECT_TRUE(s.IsCorruption()) << byte;
    EXPECT_NE(s.message().find("seg @ 0"), std::string::npos);
  }
  EXPECT_TRUE(DecodeSegmentHeader(block.substr(0, 10), "seg", &h).IsCorruption());
}

// A grow record: 40 bytes, 8-byte payload (the allocated size), the next
// record's lsn; any other payload length is a damaged header.
TEST(WalFormat, GrowRecord) {
  std::string buf(kGrowRecordBytes, '\0');
  EXPECT_EQ(EncodeGrowRecord(3, 17, 1 * kMiB, buf.data()), kGrowRecordBytes);
  RecordHeader h;
  std::string_view payload;
  ASSERT_EQ(CheckRecord(buf, 3, &h, &payload), RecordCheck::kOk);
  EXPECT_EQ(h.type, static_cast<uint8_t>(RecordType::kGrow));
  EXPECT_EQ(h.lsn, 17u);
  EXPECT_EQ(DecodeGrowPayload(payload), 1 * kMiB);
  for (uint32_t bytes : {0u, 7u, 16u}) {
    std::string odd(RecordBytes(bytes), '\0');
    EncodeRecord(3, 17, std::string(bytes, 'g'), odd.data());
    odd[12] = static_cast<char>(RecordType::kGrow);
    EXPECT_EQ(CheckRecord(odd, 3, &h, &payload), RecordCheck::kBadHeader) << bytes;
  }
  std::string flipped = buf;
  flipped[kRecordHeaderBytes] ^= 1;  // the declared size is covered by the checksum
  EXPECT_EQ(CheckRecord(flipped, 3, &h, &payload), RecordCheck::kBadChecksum);
}

TEST(WalFormat, FileNames) {
  uint64_t seq = 0;
  EXPECT_EQ(SegmentFileName(42), "000000000042.wal");
  EXPECT_EQ(ParseFileName("000000000042.wal", &seq), FileKind::kSegment);
  EXPECT_EQ(seq, 42u);
  EXPECT_EQ(ParseFileName(TempSegmentFileName(5), &seq), FileKind::kTemp);
  EXPECT_EQ(ParseFileName(FreeSegmentFileName(6), &seq), FileKind::kFree);
  EXPECT_EQ(seq, 6u);
  EXPECT_EQ(ParseFileName("LOCK", &seq), FileKind::kOther);
  EXPECT_EQ(ParseFileName("12.walx", &seq), FileKind::kOther);
  EXPECT_EQ(ParseFileName("99999999999999999999999.wal", &seq), FileKind::kOther);
}

}  // namespace
}  // namespace strata::wal
