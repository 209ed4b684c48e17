// The `strata stress` workload and its verifier: values name their write,
// the verifier catches a lost acknowledged write, a value never written and
// a half batch, and accepts what may be in flight.
#include <fmt/core.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "io/file_system.h"
#include "strata/engine.h"
#include "tests/testing/test_util.h"
#include "tools/stress/expected_state.h"
#include "tools/stress/kill_loop.h"
#include "tools/stress/workload.h"

namespace strata::stress {
namespace {

constexpr uint64_t kKeys = 64;

class StressVerifyTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(ExpectedState::Open(dir_.Join("expected"), kKeys, &state_).ok());
    ASSERT_TRUE(Open(StressEngineOptions(GetParam()), dir_.Join("db"), &db_).ok());
  }
  // A write the workload would make, acknowledged.
  void AckedPut(uint64_t key) {
    const KeyState s{state_->NextGeneration(), WriteKind::kPut};
    ASSERT_TRUE(db_->Put(WriteOptions{}, KeyName(key), ValueFor(key, s.generation)).ok());
    state_->Ack(key, s);
  }
  // Runs a few hundred workload ops so the state is not trivial.
  void RunWorkload(uint64_t seed) {
    WorkloadOptions wo;
    wo.threads = 2;
    wo.seed = seed;
    wo.ops_per_thread = 300;
    Workload workload(db_.get(), state_.get(), wo);
    const Status s = workload.Run();
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_GE(workload.counts().total(), 600u);  // a snapshot read also writes
    EXPECT_GT(workload.counts().delete_ranges.load(), 0u);
  }

  testing::ScratchDir dir_;
  std::unique_ptr<ExpectedState> state_;
  std::unique_ptr<Engine> db_;
};

TEST(StressValueTest, ValuesNameTheirKeyAndGeneration) {
  for (uint64_t key : {0ull, 7ull, 12345678ull}) {
    for (uint64_t gen : {1ull, 2ull, 0xdeadbeefull}) {
      const std::string v = ValueFor(key, gen);
      uint64_t parsed = 0;
      ASSERT_TRUE(ParseValue(v, key, &parsed)) << v;
      EXPECT_EQ(parsed, gen);
      EXPECT_FALSE(ParseValue(v, key + 1, &parsed)) << "another key's value";
      EXPECT_FALSE(ParseValue(v.substr(0, v.size() - 1) + "#", key, &parsed));
      if (v.size() > 28) {
        EXPECT_FALSE(ParseValue(v.substr(0, 28), key, &parsed));
      }
    }
  }
  uint64_t key = 0;
  EXPECT_TRUE(ParseKey(KeyName(42), &key));
  EXPECT_EQ(key, 42u);
  EXPECT_FALSE(ParseKey("k42", &key));
}

TEST(StressStateTest, SurvivesReopenAndRefusesAnotherKeyCount) {
  testing::ScratchDir dir;
  {
    std::unique_ptr<ExpectedState> s;
    ASSERT_TRUE(ExpectedState::Open(dir.Join("e"), 10, &s).ok());
    EXPECT_EQ(s->NextGeneration(), 1u);
    s->SetPending(3, KeyState{5, WriteKind::kDelete});
    s->Ack(4, KeyState{6, WriteKind::kVersioned});
  }
  std::unique_ptr<ExpectedState> s;
  ASSERT_TRUE(ExpectedState::Open(dir.Join("e"), 10, &s).ok());
  EXPECT_EQ(s->NextGeneration(), 2u);
  EXPECT_EQ(s->pending(3), (KeyState{5, WriteKind::kDelete}));
  EXPECT_EQ(s->acked(4), (KeyState{6, WriteKind::kVersioned}));
  EXPECT_TRUE(s->pending(4).none());
  std::unique_ptr<ExpectedState> other;
  EXPECT_TRUE(ExpectedState::Open(dir.Join("e"), 11, &other).IsInvalidArgument());
}

TEST(StressStateTest, RefusesAFileWithoutItsMagic) {
  testing::ScratchDir dir;
  {
    std::unique_ptr<ExpectedState> s;
    ASSERT_TRUE(ExpectedState::Open(dir.Join("e"), 10, &s).ok());
  }
  // The size of a 10-key state and its key count, but zeros where the magic
  // goes: not a state file.
  std::string zeros;
  ASSERT_TRUE(io::ReadFileToString(io::DefaultFileSystem().get(), dir.Join("e"), &zeros).ok());
  zeros.assign(zeros.size(), '\0');
  zeros[8] = 10;  // the key count word (host order: little-endian here)
  std::unique_ptr<io::WritableFile> out;
  ASSERT_TRUE(io::DefaultFileSystem()->NewWritableFile(dir.Join("z"), io::FileOptions{}, &out).ok());
  ASSERT_TRUE(out->Append(zeros).ok());
  ASSERT_TRUE(out->Close().ok());
  std::unique_ptr<ExpectedState> s;
  EXPECT_TRUE(ExpectedState::Open(dir.Join("z"), 10, &s).IsInvalidArgument());
}

TEST_P(StressVerifyTest, CleanWorkloadVerifies) {
  RunWorkload(testing::TestSeed(1));
  const Status s = VerifyAfterRestart(db_.get(), state_.get());
  EXPECT_TRUE(s.ok()) << s.ToString();
}

TEST_P(StressVerifyTest, LostAcknowledgedWriteIsNamed) {
  RunWorkload(testing::TestSeed(2));
  AckedPut(9);
  const KeyState acked = state_->acked(9);
  ASSERT_TRUE(db_->Delete(WriteOptions{}, KeyName(9)).ok());  // behind the state's back
  const Status s = VerifyAfterRestart(db_.get(), state_.get());
  ASSERT_TRUE(IsViolation(s)) << s.ToString();
  EXPECT_NE(s.message().find("key k00000009: expected " + acked.ToString() + ", found absent"),
            std::string::npos)
      << s.message();
}

TEST_P(StressVerifyTest, ValueNeverWrittenIsNamed) {
  AckedPut(5);
  // A value of generation that no write used, then bytes no write stored.
  ASSERT_TRUE(db_->Put(WriteOptions{}, KeyName(5), ValueFor(5, 999)).ok());
  Status s = VerifyAfterRestart(db_.get(), state_.get());
  ASSERT_TRUE(IsViolation(s)) << s.ToString();
  EXPECT_NE(s.message().find("found generation 999"), std::string::npos) << s.message();
  ASSERT_TRUE(db_->Put(WriteOptions{}, KeyName(5), "garbage").ok());
  s = VerifyAfterRestart(db_.get(), state_.get());
  EXPECT_NE(s.message().find("a value no write stored ('garbage')"), std::string::npos)
      << s.message();
  ASSERT_TRUE(db_->Delete(WriteOptions{}, KeyName(5)).ok());
  ASSERT_TRUE(db_->Put(WriteOptions{}, "intruder", "x").ok());
  state_->Ack(5, KeyState{});
  s = VerifyAfterRestart(db_.get(), state_.get());
  EXPECT_NE(s.message().find("key 'intruder' was never written"), std::string::npos)
      << s.message();
}

TEST_P(StressVerifyTest, InFlightWritesMayLandOrNot) {
  AckedPut(1);
  AckedPut(2);
  // Key 1: the pending put landed; key 2: it did not.
  const KeyState p1{state_->NextGeneration(), WriteKind::kPut};
  const KeyState p2{state_->NextGeneration(), WriteKind::kDelete};
  state_->SetPending(1, p1);
  state_->SetPending(2, p2);
  const KeyState old2 = state_->acked(2);
  ASSERT_TRUE(db_->Put(WriteOptions{}, KeyName(1), ValueFor(1, p1.generation)).ok());
  const Status s = VerifyAfterRestart(db_.get(), state_.get());
  ASSERT_TRUE(s.ok()) << s.ToString();
  // Resolved: the state says what the database holds.
  EXPECT_EQ(state_->acked(1), p1);
  EXPECT_EQ(state_->acked(2), old2);
  EXPECT_TRUE(state_->pending(1).none());
  EXPECT_TRUE(state_->pending(2).none());
}

TEST_P(StressVerifyTest, HalfBatchIsNamed) {
  for (uint64_t k = 8; k < 12; ++k) AckedPut(k);
  const uint64_t gen = state_->NextGeneration();
  for (uint64_t k = 8; k < 12; ++k) state_->SetPending(k, KeyState{gen, WriteKind::kPut});
  // Half of the batch reaches the database.
  ASSERT_TRUE(db_->Put(WriteOptions{}, KeyName(8), ValueFor(8, gen)).ok());
  ASSERT_TRUE(db_->Put(WriteOptions{}, KeyName(9), ValueFor(9, gen)).ok());
  const Status s = VerifyAfterRestart(db_.get(), state_.get());
  ASSERT_TRUE(IsViolation(s)) << s.ToString();
  EXPECT_NE(s.message().find(fmt::format("half a batch after restart: generation {}", gen)),
            std::string::npos)
      << s.message();
}

TEST_P(StressVerifyTest, BatchAcknowledgedHalfwayMustBeWhole) {
  // The ack loop stopped after key 8: key 8 is acked at the batch's
  // generation, 9..11 still pending; none of them may show the old value.
  for (uint64_t k = 8; k < 12; ++k) AckedPut(k);
  const uint64_t gen = state_->NextGeneration();
  for (uint64_t k = 8; k < 12; ++k) state_->SetPending(k, KeyState{gen, WriteKind::kPut});
  state_->Ack(8, KeyState{gen, WriteKind::kPut});
  ASSERT_TRUE(db_->Put(WriteOptions{}, KeyName(8), ValueFor(8, gen)).ok());
  const Status s = VerifyAfterRestart(db_.get(), state_.get());
  EXPECT_TRUE(IsViolation(s)) << s.ToString();
}

// The order log and the prefix rule after a power loss (sync=false). Three
// logged writes, in order: a put of key 20, a batch of keys 21..22, a put of
// key 23. Which of them the database holds decides whether some cut fits.
class StressPrefixTest : public StressVerifyTest {
 protected:
  // A logged, acknowledged write of `keys`, one generation; applied to the
  // database only if `apply`.
  uint64_t LoggedPut(std::vector<uint64_t> keys, bool apply) {
    const uint64_t gen = state_->NextGeneration();
    for (uint64_t k : keys) {
      const KeyState next{gen, WriteKind::kPut};
      EXPECT_TRUE(state_->LogAppend(k, state_->acked(k), next));
      if (apply) {
        EXPECT_TRUE(db_->Put(WriteOptions{}, KeyName(k), ValueFor(k, gen)).ok());
      }
      state_->Ack(k, next);
    }
    return gen;
  }
  void SetUp() override {
    StressVerifyTest::SetUp();
    AckedPut(22);  // a state from before the log
    before22_ = state_->acked(22);
    ASSERT_TRUE(VerifyAfterRestart(db_.get(), state_.get()).ok());  // empties the log
  }
  KeyState before22_;
};

TEST_P(StressPrefixTest, EveryPrefixFitsAndResolvesTheState) {
  for (int kept = 0; kept <= 3; ++kept) {
    SCOPED_TRACE(fmt::format("kept {}", kept));
    LoggedPut({20}, kept >= 1);
    const uint64_t batch = LoggedPut({21, 22}, kept >= 2);
    LoggedPut({23}, kept >= 3);
    ASSERT_EQ(state_->log_count(), 4u);
    const Status s = VerifyPrefixAfterPowerLoss(db_.get(), state_.get());
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(state_->log_count(), 0u);
    EXPECT_EQ(state_->acked(22).generation, kept >= 2 ? batch : before22_.generation);
    EXPECT_EQ(state_->acked(23).present(), kept >= 3);
    // What it resolved to is what an ordinary verification then finds.
    ASSERT_TRUE(VerifyAfterRestart(db_.get(), state_.get()).ok());
    // Start the next round from the same keys, all deleted.
    for (uint64_t k = 20; k < 24; ++k) {
      ASSERT_TRUE(db_->Delete(WriteOptions{}, KeyName(k)).ok());
      state_->Ack(k, KeyState{state_->NextGeneration(), WriteKind::kDelete});
    }
    before22_ = state_->acked(22);
  }
}

TEST_P(StressPrefixTest, ALaterWriteWithoutAnEarlierOneIsNamed) {
  const uint64_t first = LoggedPut({20}, false);  // lost
  LoggedPut({21, 22}, true);
  LoggedPut({23}, true);
  const Status s = VerifyPrefixAfterPowerLoss(db_.get(), state_.get());
  ASSERT_TRUE(IsViolation(s)) << s.ToString();
  EXPECT_NE(s.message().find("not a prefix after power loss"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find(fmt::format("key k00000020: expected put@{}, found absent", first)),
            std::string::npos)
      << s.message();
}

TEST_P(StressPrefixTest, HalfABatchFitsNoCut) {
  LoggedPut({20}, true);
  const uint64_t gen = state_->NextGeneration();
  // Key 21 of the batch landed, key 22 did not.
  for (uint64_t k : {21, 22}) {
    const KeyState next{gen, WriteKind::kPut};
    ASSERT_TRUE(state_->LogAppend(k, state_->acked(k), next));
    state_->Ack(k, next);
  }
  ASSERT_TRUE(db_->Put(WriteOptions{}, KeyName(21), ValueFor(21, gen)).ok());
  const Status s = VerifyPrefixAfterPowerLoss(db_.get(), state_.get());
  ASSERT_TRUE(IsViolation(s)) << s.ToString();
  EXPECT_NE(s.message().find("not a prefix after power loss"), std::string::npos) << s.message();
}

TEST_P(StressPrefixTest, AnUnloggedKeyMustReadAsAcked) {
  LoggedPut({20}, true);
  ASSERT_TRUE(db_->Delete(WriteOptions{}, KeyName(22)).ok());  // not in the log
  const Status s = VerifyPrefixAfterPowerLoss(db_.get(), state_.get());
  ASSERT_TRUE(IsViolation(s)) << s.ToString();
  EXPECT_NE(s.message().find("key k00000022: expected " + before22_.ToString()),
            std::string::npos)
      << s.message();
}

// A single writer with the order log, then no power loss: the whole log is
// the prefix.
TEST_P(StressPrefixTest, LoggedWorkloadVerifiesWhole) {
  WorkloadOptions wo;
  wo.threads = 1;
  wo.record_order = true;
  wo.seed = testing::TestSeed(5);
  wo.ops_per_thread = 800;
  Workload workload(db_.get(), state_.get(), wo);
  ASSERT_TRUE(workload.Run().ok());
  EXPECT_GT(state_->log_count(), 200u);
  EXPECT_GT(workload.counts().delete_ranges.load(), 0u);
  const Status s = VerifyPrefixAfterPowerLoss(db_.get(), state_.get());
  EXPECT_TRUE(s.ok()) << s.ToString();
}

// Several writers: the log knows the commit order only where one write was
// acknowledged before another was issued (tickets).
class StressPartialOrderTest : public StressVerifyTest {
 protected:
  void SetUp() override {
    StressVerifyTest::SetUp();
    AckedPut(22);
    ASSERT_TRUE(VerifyAfterRestart(db_.get(), state_.get()).ok());  // empties the log
    state_->NoteLogWriters(2);
  }
  // A logged write of `keys` (one generation) with tickets `issue` and `ack`
  // (LogEntry::kNotYet: it failed); applied to the database only if `apply`.
  uint64_t TicketedPut(std::vector<uint64_t> keys, bool apply, uint64_t issue, uint64_t ack) {
    const uint64_t gen = state_->NextGeneration();
    const std::optional<uint64_t> first = state_->LogClaim(keys.size());
    EXPECT_TRUE(first.has_value());
    for (size_t i = 0; i < keys.size(); ++i) {
      const KeyState next{gen, WriteKind::kPut};
      state_->LogSet(*first + i, keys[i], state_->acked(keys[i]), next);
      if (apply) {
        EXPECT_TRUE(db_->Put(WriteOptions{}, KeyName(keys[i]), ValueFor(keys[i], gen)).ok());
      }
      if (ack != LogEntry::kNotYet) {
        state_->Ack(keys[i], next);
      } else {
        state_->SetPending(keys[i], next);
      }
    }
    state_->LogIssued(*first, keys.size(), issue);
    state_->LogAcked(*first, keys.size(), ack);
    return gen;
  }
};

TEST_P(StressPartialOrderTest, OverlappingWritesMayLandInEitherOrder) {
  for (const bool keep_first : {false, true}) {
    SCOPED_TRACE(fmt::format("keep_first {}", keep_first));
    const uint64_t t = state_->NextTicket();
    // Issued 1 then 2, acknowledged 4 then 3: neither surely precedes.
    const uint64_t a = TicketedPut({20}, keep_first, t + 1, t + 4);
    const uint64_t b = TicketedPut({21}, !keep_first, t + 2, t + 3);
    for (int i = 0; i < 4; ++i) state_->NextTicket();
    const Status s = VerifyPrefixAfterPowerLoss(db_.get(), state_.get());
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(state_->log_count(), 0u);
    EXPECT_EQ(state_->log_writers(), 0u);
    // The state now says what survived.
    EXPECT_EQ(state_->acked(20).generation == a, keep_first);
    EXPECT_EQ(state_->acked(21).generation == b, !keep_first);
    ASSERT_TRUE(VerifyAfterRestart(db_.get(), state_.get()).ok());
    state_->NoteLogWriters(2);
  }
}

TEST_P(StressPartialOrderTest, AWriteIssuedAfterALostAcknowledgedOneIsNamed) {
  const uint64_t t = state_->NextTicket();
  const uint64_t lost = TicketedPut({20}, false, t + 1, t + 2);
  const uint64_t kept = TicketedPut({21}, true, t + 3, t + 4);
  const Status s = VerifyPrefixAfterPowerLoss(db_.get(), state_.get());
  ASSERT_TRUE(IsViolation(s)) << s.ToString();
  EXPECT_NE(s.message().find(fmt::format(
                "not a prefix after power loss: key k00000020 lost put@{} (acknowledged at "
                "ticket {}), yet key k00000021 kept put@{} (issued later, at ticket {})",
                lost, t + 2, kept, t + 3)),
            std::string::npos)
      << s.message();
}

// A failed write may land or not; if it landed, every write acknowledged
// before it was issued must have landed too.
TEST_P(StressPartialOrderTest, AFailedWriteThatLandedNeedsWhatPrecededIt) {
  const uint64_t t = state_->NextTicket();
  TicketedPut({20}, true, t + 1, t + 2);
  TicketedPut({21}, true, t + 3, LogEntry::kNotYet);
  TicketedPut({23}, false, t + 4, LogEntry::kNotYet);
  ASSERT_TRUE(VerifyPrefixAfterPowerLoss(db_.get(), state_.get()).ok());
  state_->NoteLogWriters(2);
  const uint64_t u = state_->NextTicket() + 10;
  TicketedPut({20}, false, u + 1, u + 2);
  TicketedPut({21}, true, u + 3, LogEntry::kNotYet);
  const Status s = VerifyPrefixAfterPowerLoss(db_.get(), state_.get());
  ASSERT_TRUE(IsViolation(s)) << s.ToString();
  EXPECT_NE(s.message().find("not a prefix after power loss: key k00000020"), std::string::npos)
      << s.message();
}

TEST_P(StressPartialOrderTest, HalfABatchIsNamed) {
  const uint64_t t = state_->NextTicket();
  const uint64_t gen = TicketedPut({21, 22}, false, t + 1, t + 2);
  ASSERT_TRUE(db_->Put(WriteOptions{}, KeyName(21), ValueFor(21, gen)).ok());
  const Status s = VerifyPrefixAfterPowerLoss(db_.get(), state_.get());
  ASSERT_TRUE(IsViolation(s)) << s.ToString();
  EXPECT_NE(s.message().find(fmt::format(
                "half a batch after power loss: generation {} reached key k00000021 but not "
                "key k00000022",
                gen)),
            std::string::npos)
      << s.message();
}

TEST_P(StressPartialOrderTest, AValueNoLoggedWriteStoredIsNamed) {
  const uint64_t t = state_->NextTicket();
  TicketedPut({20}, true, t + 1, t + 2);
  const uint64_t stray = state_->NextGeneration();  // never logged
  ASSERT_TRUE(db_->Put(WriteOptions{}, KeyName(20), ValueFor(20, stray)).ok());
  const Status s = VerifyPrefixAfterPowerLoss(db_.get(), state_.get());
  ASSERT_TRUE(IsViolation(s)) << s.ToString();
  EXPECT_NE(s.message().find("no logged write of the key explains it), key k00000020"),
            std::string::npos)
      << s.message();
}

// Four writers with the order log, no power loss: every write survived,
// which is a prefix of any order.
TEST_P(StressPartialOrderTest, LoggedWorkloadOfSeveralWritersVerifiesWhole) {
  WorkloadOptions wo;
  wo.threads = 4;
  wo.record_order = true;
  wo.seed = testing::TestSeed(6);
  wo.ops_per_thread = 400;
  Workload workload(db_.get(), state_.get(), wo);
  ASSERT_TRUE(workload.Run().ok());
  EXPECT_GT(state_->log_count(), 200u);
  EXPECT_EQ(state_->log_writers(), 4u);
  uint64_t acked = 0, cancelled = 0;
  for (uint64_t i = 0; i < state_->log_count(); ++i) {
    const LogEntry e = state_->log_entry(i);
    EXPECT_NE(e.issue, LogEntry::kNotYet) << i;
    acked += e.acked();
    cancelled += e.cancelled();
    if (e.acked()) {
      EXPECT_LT(e.issue, e.ack) << i;
    }
  }
  EXPECT_EQ(acked + cancelled, state_->log_count());  // stale PutIfNewers are cancelled
  const Status s = VerifyPrefixAfterPowerLoss(db_.get(), state_.get());
  EXPECT_TRUE(s.ok()) << s.ToString();
}

// The log is shared by the writers: claims never overlap, and a full log
// refuses a claim whole.
TEST(StressOrderLogTest, ClaimsAreDisjointAndAFullLogRefuses) {
  testing::ScratchDir dir;
  std::unique_ptr<ExpectedState> state;
  ASSERT_TRUE(ExpectedState::Open(dir.Join("expected"), kKeys, &state).ok());
  std::vector<std::thread> threads;
  std::vector<std::vector<uint64_t>> claimed(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      while (const std::optional<uint64_t> first = state->LogClaim(3)) {
        claimed[t].push_back(*first);
      }
    });
  }
  for (auto& t : threads) t.join();
  std::vector<uint64_t> all;
  for (const auto& c : claimed) all.insert(all.end(), c.begin(), c.end());
  std::sort(all.begin(), all.end());
  ASSERT_EQ(all.size(), ExpectedState::kLogCapacity / 3);
  for (size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i], 3 * i);
  EXPECT_EQ(state->log_count(), 3 * all.size());
  EXPECT_FALSE(state->LogClaim(ExpectedState::kLogCapacity - state->log_count() + 1));
  EXPECT_TRUE(state->LogClaim(ExpectedState::kLogCapacity - state->log_count()));
}

// DeleteRange in the workload: the range is one batch to the verifier.
TEST_P(StressVerifyTest, HalfADeleteRangeIsNamed) {
  for (uint64_t k = 8; k < 16; ++k) AckedPut(k);
  const uint64_t gen = state_->NextGeneration();
  for (uint64_t k = 8; k < 16; ++k) state_->SetPending(k, KeyState{gen, WriteKind::kDelete});
  // Only part of the range reached the database.
  WriteBatch b;
  ASSERT_TRUE(b.DeleteRange(KeyName(8), KeyName(11)).ok());
  ASSERT_TRUE(db_->Write(WriteOptions{}, b).ok());
  const Status s = VerifyAfterRestart(db_.get(), state_.get());
  ASSERT_TRUE(IsViolation(s)) << s.ToString();
  EXPECT_NE(s.message().find(fmt::format("half a batch after restart: generation {}", gen)),
            std::string::npos)
      << s.message();
}

INSTANTIATE_TEST_SUITE_P(Engines, StressPartialOrderTest,
                         ::testing::ValuesIn(RegisteredEngineKinds()),
                         [](const auto& info) { return info.param; });

INSTANTIATE_TEST_SUITE_P(Engines, StressPrefixTest, ::testing::ValuesIn(RegisteredEngineKinds()),
                         [](const auto& info) { return info.param; });

INSTANTIATE_TEST_SUITE_P(Engines, StressVerifyTest,
                         ::testing::ValuesIn(RegisteredEngineKinds()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace strata::stress
