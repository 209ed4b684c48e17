#include "strata/status.h"

#include <gtest/gtest.h>

namespace strata {
namespace {

TEST(StatusTest, OkHasNoMessage) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.ToString(), "OK");
  EXPECT_TRUE(s.message().empty());
}

TEST(StatusTest, EachCodeCarriesItsMessage) {
  EXPECT_TRUE(Status::NotFound("k").IsNotFound());
  EXPECT_TRUE(Status::Corruption("c").IsCorruption());
  EXPECT_TRUE(Status::IOError("i").IsIOError());
  EXPECT_TRUE(Status::InvalidArgument("a").IsInvalidArgument());
  EXPECT_TRUE(Status::NotSupported("n").IsNotSupported());
  EXPECT_TRUE(Status::Busy("b").IsBusy());
  EXPECT_EQ(Status::Corruption("000042.log @ 1048576: checksum mismatch").ToString(),
            "Corruption: 000042.log @ 1048576: checksum mismatch");
}

TEST(StatusTest, WithContextPrefixes) {
  Status s = Status::IOError("pwrite: No space left").WithContext("000001.log");
  EXPECT_TRUE(s.IsIOError());
  EXPECT_EQ(s.message(), "000001.log: pwrite: No space left");
  EXPECT_TRUE(Status::Ok().WithContext("x").ok());
}

Result<int> Half(int v) {
  if (v % 2 != 0) return Status::InvalidArgument("odd");
  return v / 2;
}

Status UseHalf(int v, int* out) {
  STRATA_ASSIGN_OR_RETURN(*out, Half(v));
  return Status::Ok();
}

TEST(StatusTest, ResultCarriesValueOrError) {
  int out = 0;
  EXPECT_TRUE(UseHalf(8, &out).ok());
  EXPECT_EQ(out, 4);
  Status s = UseHalf(3, &out);
  EXPECT_TRUE(s.IsInvalidArgument());
}

TEST(StatusDeathTest, ResultFromOkStatusAborts) {
  // A misuse is a programmer error, never a fake value or a made-up error.
  EXPECT_DEATH({ Result<int> r(Status::Ok()); (void)r; }, "Result<T> built from an ok Status");
}

}  // namespace
}  // namespace strata
