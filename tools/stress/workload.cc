#include "tools/stress/workload.h"

#include <fmt/core.h>

#include <algorithm>
#include <charconv>
#include <map>
#include <optional>
#include <thread>

#include "core/assert.h"

namespace strata::stress {

namespace {

constexpr std::string_view kViolationPrefix = "violation: ";
constexpr size_t kKeyDigits = 8;
constexpr size_t kGenerationDigits = 16;
constexpr size_t kValuePaddingBytesMax = 96;
constexpr int kIterateStepsMax = 32;
constexpr uint64_t kOpsCountEvery = 64;
constexpr uint64_t kDeleteRangeGroupsMax = 4;

// Padding bytes derived from key and generation (so a value cut short or
// glued to another's tail does not parse).
std::string Padding(uint64_t key, uint64_t generation) {
  uint64_t x = (key + 1) * 0x9E3779B97F4A7C15ull ^ generation * 0xC2B2AE3D27D4EB4Full;
  std::string out(x % (kValuePaddingBytesMax + 1), '\0');
  for (char& c : out) {
    x ^= x >> 29;
    x *= 0xBF58476D1CE4E5B9ull;
    c = static_cast<char>('a' + (x >> 59) % 26);
  }
  return out;
}

bool ParseHex(std::string_view s, uint64_t* out) {
  const auto r = std::from_chars(s.data(), s.data() + s.size(), *out, 16);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

// What a read found, in the state's terms.
struct Observed {
  bool found = false;
  bool parsed = false;
  uint64_t generation = 0;
  std::optional<uint64_t> version;  // when the read returned one
  std::string raw;                  // for messages when unparsed

  std::string ToString() const {
    if (!found) return "absent";
    if (!parsed) return fmt::format("a value no write stored ('{}')", raw.substr(0, 64));
    return version ? fmt::format("generation {} (version {})", generation, *version)
                   : fmt::format("generation {}", generation);
  }
};

// Whether `o` is what state `e` stores. A versioned write reads back with its
// generation as version; a plain Put with version 0.
bool Matches(const Observed& o, const KeyState& e) {
  if (!e.present()) return !o.found;
  if (!o.found || !o.parsed || o.generation != e.generation) return false;
  if (!o.version) return true;
  return *o.version == (e.kind == WriteKind::kVersioned ? e.generation : 0);
}

Status Observe(Engine* db, const ReadOptions& ro, uint64_t key, bool versioned, Observed* o) {
  *o = Observed();
  Status s;
  if (versioned) {
    uint64_t version = 0;
    s = db->GetVersioned(ro, KeyName(key), &o->raw, &version);
    if (s.ok()) o->version = version;
  } else {
    s = db->Get(ro, KeyName(key), &o->raw);
  }
  if (s.IsNotFound()) return Status::Ok();
  STRATA_RETURN_IF_ERROR(s);
  o->found = true;
  o->parsed = ParseValue(o->raw, key, &o->generation);
  return Status::Ok();
}

Status Mismatch(std::string_view what, uint64_t key, const std::string& expected,
                const Observed& found) {
  return Violation(fmt::format("{}, key {}: expected {}, found {}", what, KeyName(key), expected,
                               found.ToString()));
}

}  // namespace

std::string KeyName(uint64_t key) { return fmt::format("k{:0{}}", key, kKeyDigits); }

bool ParseKey(std::string_view name, uint64_t* key) {
  if (name.size() != 1 + kKeyDigits || name[0] != 'k') return false;
  const auto r = std::from_chars(name.data() + 1, name.data() + name.size(), *key);
  return r.ec == std::errc() && r.ptr == name.data() + name.size();
}

std::string ValueFor(uint64_t key, uint64_t generation) {
  return fmt::format("{}:{:0{}x}:{}", KeyName(key), generation, kGenerationDigits,
                     Padding(key, generation));
}

bool ParseValue(std::string_view value, uint64_t key, uint64_t* generation) {
  const std::string name = KeyName(key);
  const size_t head = name.size() + 1 + kGenerationDigits + 1;
  if (value.size() < head || !value.starts_with(name) || value[name.size()] != ':' ||
      value[head - 1] != ':') {
    return false;
  }
  if (!ParseHex(value.substr(name.size() + 1, kGenerationDigits), generation)) return false;
  return value.substr(head) == Padding(key, *generation);
}

Status Violation(std::string_view what) {
  return Status::Corruption(std::string(kViolationPrefix) + std::string(what));
}

bool IsViolation(const Status& s) {
  return s.IsCorruption() && s.message().starts_with(kViolationPrefix);
}

uint64_t WorkloadCounts::total() const {
  return puts + deletes + batches + delete_ranges + put_if_newer + gets + iterations +
         snapshot_reads;
}

// ---------------------------------------------------------------------------
// Verification after a restart

namespace {

// Per generation in flight at the crash: did some key of it land, and which
// pending key did not.
struct BatchLanding {
  std::optional<uint64_t> landed_key;
  std::optional<uint64_t> missing_key;
};

Status VerifyScan(Engine* db, ExpectedState* state) {
  std::unique_ptr<Iterator> it = db->NewIterator(ReadOptions{});
  uint64_t next_key = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    uint64_t key = 0;
    if (!ParseKey(it->key(), &key) || key >= state->key_count()) {
      return Violation(fmt::format("scan after restart: key '{}' was never written", it->key()));
    }
    for (; next_key < key; ++next_key) {
      if (state->acked(next_key).present()) {
        return Violation(fmt::format("scan after restart, key {}: expected {}, found absent",
                                     KeyName(next_key), state->acked(next_key).ToString()));
      }
    }
    Observed o;
    o.found = true;
    o.raw.assign(it->value());
    o.parsed = ParseValue(o.raw, key, &o.generation);
    o.version = it->version();
    if (!Matches(o, state->acked(key))) {
      return Mismatch("scan after restart", key, state->acked(key).ToString(), o);
    }
    next_key = key + 1;
  }
  STRATA_RETURN_IF_ERROR(it->status());
  for (; next_key < state->key_count(); ++next_key) {
    if (state->acked(next_key).present()) {
      return Violation(fmt::format("scan after restart, key {}: expected {}, found absent",
                                   KeyName(next_key), state->acked(next_key).ToString()));
    }
  }
  return Status::Ok();
}

}  // namespace

Status VerifyAfterRestart(Engine* db, ExpectedState* state) {
  const uint64_t n = state->key_count();
  std::vector<uint8_t> took_pending(n, 0);
  std::map<uint64_t, BatchLanding> landings;  // generation -> what landed
  for (uint64_t key = 0; key < n; ++key) {
    const KeyState acked = state->acked(key);
    const KeyState pending = state->pending(key);
    Observed o;
    STRATA_RETURN_IF_ERROR(Observe(db, ReadOptions{}, key, true, &o));
    const bool is_acked = Matches(o, acked);
    const bool is_pending = !pending.none() && Matches(o, pending);
    if (!is_acked && !is_pending) {
      const std::string expected =
          pending.none() ? acked.ToString()
                         : fmt::format("{} (acknowledged) or {} (in flight)", acked.ToString(),
                                       pending.ToString());
      return Mismatch("after restart", key, expected, o);
    }
    took_pending[key] = is_pending && !is_acked;
    if (!pending.none()) {
      BatchLanding& l = landings[pending.generation];
      if (is_pending && !is_acked) l.landed_key = key;  // a delete over a delete tells nothing
      if (!is_pending) l.missing_key = key;
    }
    if (acked.generation != 0 && is_acked) landings[acked.generation].landed_key = key;
  }
  for (const auto& [generation, l] : landings) {
    if (l.landed_key && l.missing_key) {
      return Violation(fmt::format(
          "half a batch after restart: generation {} reached key {} but not key {}", generation,
          KeyName(*l.landed_key), KeyName(*l.missing_key)));
    }
  }
  for (uint64_t key = 0; key < n; ++key) {
    if (took_pending[key]) {
      state->Ack(key, state->pending(key));
    } else {
      state->ClearPending(key);
    }
  }
  state->LogReset();  // the state is exact again
  return VerifyScan(db, state);
}

namespace {

// The order log's writes that happened or may have (cancelled ones
// skipped), each with its index in the log, in log order.
Status LoggedWrites(const ExpectedState& state,
                    std::vector<std::pair<uint64_t, LogEntry>>* writes) {
  writes->clear();
  for (uint64_t i = 0; i < state.log_count(); ++i) {
    const LogEntry e = state.log_entry(i);
    if (e.key >= state.key_count() || e.after.generation == 0) {
      return Status::Corruption(fmt::format("stress: order log entry {} is not a write", i));
    }
    if (!e.cancelled()) writes->emplace_back(i, e);
  }
  return Status::Ok();
}

// Reads every key after a power cut: a key `logged` does not name must read
// as its acked state; the reads of the others go to *observed.
template <typename LoggedKeys>
Status ObserveAfterPowerLoss(Engine* db, const ExpectedState& state, const LoggedKeys& logged,
                             std::map<uint64_t, Observed>* observed) {
  for (uint64_t key = 0; key < state.key_count(); ++key) {
    Observed o;
    STRATA_RETURN_IF_ERROR(Observe(db, ReadOptions{}, key, true, &o));
    if (logged.contains(key)) {
      observed->emplace(key, std::move(o));
    } else if (!Matches(o, state.acked(key))) {
      return Mismatch("after power loss (a key no logged write touched)", key,
                      state.acked(key).ToString(), o);
    }
  }
  return Status::Ok();
}

// The logged keys' acked states are set: no write is pending any more, the
// log starts again, and a full scan must agree.
Status FinishPowerLossVerification(Engine* db, ExpectedState* state) {
  for (uint64_t key = 0; key < state->key_count(); ++key) state->ClearPending(key);
  state->LogReset();
  return VerifyScan(db, state);
}

// One logged write of a key, with what the read after the cut says of it.
struct KeyWrite {
  LogEntry entry;
  bool surely_kept = false;
  bool surely_lost = false;
};

// VerifyPrefixAfterPowerLoss for a log of several writers.
Status VerifyPartialOrderAfterPowerLoss(Engine* db, ExpectedState* state) {
  std::vector<std::pair<uint64_t, LogEntry>> logged;
  STRATA_RETURN_IF_ERROR(LoggedWrites(*state, &logged));
  std::map<uint64_t, std::vector<KeyWrite>> histories;  // key -> its writes, in issue order
  for (const auto& [i, e] : logged) {
    std::vector<KeyWrite>& h = histories[e.key];
    if (!h.empty() && e.after.generation <= h.back().entry.after.generation) {
      return Status::Corruption(fmt::format(
          "stress: order log entry {}: key {} written at generation {} after {}", i,
          KeyName(e.key), e.after.generation, h.back().entry.after.generation));
    }
    h.push_back(KeyWrite{e});
  }
  // Per key: the positions p (0: the state before its first logged write,
  // p: after its p-th) whose state the read matches. Writes after the
  // latest such position surely did not survive; writes up to the earliest
  // surely did.
  std::map<uint64_t, Observed> observed;
  STRATA_RETURN_IF_ERROR(ObserveAfterPowerLoss(db, *state, histories, &observed));
  std::map<uint64_t, KeyState> resolved;
  for (auto& [key, writes] : histories) {
    const Observed& o = observed.at(key);
    std::optional<size_t> earliest, latest;
    for (size_t p = 0; p <= writes.size(); ++p) {
      const KeyState s = p == 0 ? writes[0].entry.before : writes[p - 1].entry.after;
      if (!Matches(o, s)) continue;
      if (!earliest) earliest = p;
      latest = p;
      resolved[key] = s;
    }
    if (!latest) {
      return Mismatch("after power loss (no logged write of the key explains it)", key,
                      fmt::format("{} or one of its {} logged writes (the last: {})",
                                  writes[0].entry.before.ToString(), writes.size(),
                                  writes.back().entry.after.ToString()),
                      o);
    }
    for (size_t p = 1; p <= writes.size(); ++p) {
      writes[p - 1].surely_kept = p <= *earliest;
      writes[p - 1].surely_lost = p > *latest;
    }
  }
  // A batch lands whole; and no write surely kept may have been issued
  // after one surely lost was acknowledged.
  struct Landing {
    std::optional<uint64_t> kept_key, lost_key;
  };
  std::map<uint64_t, Landing> batches;  // generation -> keys
  const KeyWrite* first_lost = nullptr;  // the surely lost write acknowledged first
  uint64_t first_lost_key = 0;
  const KeyWrite* last_kept = nullptr;  // the surely kept write issued last
  uint64_t last_kept_key = 0;
  for (const auto& [key, writes] : histories) {
    for (const KeyWrite& w : writes) {
      Landing& l = batches[w.entry.after.generation];
      if (w.surely_kept) l.kept_key = key;
      if (w.surely_lost) l.lost_key = key;
      if (w.surely_lost && w.entry.acked() && (!first_lost || w.entry.ack < first_lost->entry.ack)) {
        first_lost = &w, first_lost_key = key;
      }
      if (w.surely_kept && w.entry.issue != LogEntry::kNotYet &&
          (!last_kept || w.entry.issue > last_kept->entry.issue)) {
        last_kept = &w, last_kept_key = key;
      }
    }
  }
  for (const auto& [generation, l] : batches) {
    if (l.kept_key && l.lost_key) {
      return Violation(fmt::format(
          "half a batch after power loss: generation {} reached key {} but not key {}",
          generation, KeyName(*l.kept_key), KeyName(*l.lost_key)));
    }
  }
  if (first_lost && last_kept && first_lost->entry.ack < last_kept->entry.issue) {
    return Violation(fmt::format(
        "not a prefix after power loss: key {} lost {} (acknowledged at ticket {}), yet key {} "
        "kept {} (issued later, at ticket {})",
        KeyName(first_lost_key), first_lost->entry.after.ToString(), first_lost->entry.ack,
        KeyName(last_kept_key), last_kept->entry.after.ToString(), last_kept->entry.issue));
  }
  for (const auto& [key, s] : resolved) state->Ack(key, s);
  return FinishPowerLossVerification(db, state);
}

}  // namespace

Status VerifyPrefixAfterPowerLoss(Engine* db, ExpectedState* state) {
  const uint64_t entries = state->log_count();
  if (entries == 0) return VerifyAfterRestart(db, state);
  if (state->log_writers() > 1) return VerifyPartialOrderAfterPowerLoss(db, state);
  // One writer. A cut c (0..cuts) keeps the writes of the first c distinct generations
  // of the log. Per logged key, its history: (index of the generation, the
  // state it wrote), and the state before its first write.
  std::vector<uint64_t> generations;
  struct History {
    KeyState before;
    std::vector<std::pair<uint64_t, KeyState>> writes;
  };
  std::map<uint64_t, History> histories;
  std::vector<std::pair<uint64_t, LogEntry>> logged_writes;
  STRATA_RETURN_IF_ERROR(LoggedWrites(*state, &logged_writes));
  for (const auto& [i, e] : logged_writes) {
    if (generations.empty() || generations.back() != e.after.generation) {
      if (!generations.empty() && e.after.generation < generations.back()) {
        return Status::Corruption(fmt::format(
            "stress: order log entry {}: generation {} after {} (more than one writer?)", i,
            e.after.generation, generations.back()));
      }
      generations.push_back(e.after.generation);
    }
    auto [it, fresh] = histories.try_emplace(e.key);
    if (fresh) it->second.before = e.before;
    it->second.writes.emplace_back(generations.size() - 1, e.after);
  }
  const uint64_t cuts = generations.size();
  // The state a key's history gives it at cut c.
  auto at_cut = [](const History& h, uint64_t c) {
    KeyState s = h.before;
    for (const auto& [g, after] : h.writes) {
      if (g < c) s = after;
    }
    return s;
  };
  // fits[c]: how many logged keys read as their state at cut c (a
  // difference array over each key's matching cut intervals).
  std::vector<int64_t> diff(cuts + 2, 0);
  std::map<uint64_t, Observed> observed;
  STRATA_RETURN_IF_ERROR(ObserveAfterPowerLoss(db, *state, histories, &observed));
  for (const auto& [key, h] : histories) {
    const Observed& o = observed.at(key);
    // The history's state holds on cuts [from, to].
    uint64_t from = 0;
    KeyState s = h.before;
    for (const auto& [g, after] : h.writes) {
      if (Matches(o, s)) ++diff[from], --diff[g + 1];
      from = g + 1;
      s = after;
    }
    if (Matches(o, s)) ++diff[from], --diff[cuts + 1];
  }
  const int64_t logged = static_cast<int64_t>(histories.size());
  std::optional<uint64_t> cut;
  uint64_t best = 0;
  int64_t best_fits = -1;
  int64_t fits = 0;
  for (uint64_t c = 0; c <= cuts; ++c) {
    fits += diff[c];
    if (fits == logged) cut = c;
    if (fits >= best_fits) best = c, best_fits = fits;
  }
  if (!cut) {
    for (const auto& [key, h] : histories) {
      const KeyState expected = at_cut(h, best);
      const Observed& o = observed.at(key);
      if (!Matches(o, expected)) {
        return Mismatch(
            fmt::format("not a prefix after power loss: no cut of the {} logged writes fits; "
                        "at the best one (through generation {}, {} of {} keys fit)",
                        entries, best == 0 ? 0 : generations[best - 1], best_fits, logged),
            key, expected.ToString(), o);
      }
    }
    return Status::Corruption("stress: no cut fits, yet the best one does");
  }
  for (const auto& [key, h] : histories) state->Ack(key, at_cut(h, *cut));
  return FinishPowerLossVerification(db, state);
}

// ---------------------------------------------------------------------------
// The workload

Workload::Workload(Engine* db, ExpectedState* state, const WorkloadOptions& options)
    : db_(db),
      state_(state),
      options_(options),
      write_options_{options.sync},
      key_locks_(new std::mutex[state->key_count()]) {
  STRATA_ASSERT(options_.threads > 0);
  if (options_.record_order) state_->NoteLogWriters(static_cast<uint64_t>(options_.threads));
}

void Workload::Logged::Issued() {
  if (state && first) state->LogIssued(*first, count, state->NextTicket());
}

void Workload::Logged::Acked() {
  if (state && first) state->LogAcked(*first, count, state->NextTicket());
}

void Workload::Logged::Cancelled() {
  if (state && first) state->LogCancel(*first, count);
}

Workload::Logged Workload::LogWrites(const std::vector<uint64_t>& keys,
                                     const std::vector<KeyState>& next) {
  Logged logged;
  if (!options_.record_order) return logged;
  logged.state = state_;
  logged.count = keys.size();
  logged.first = state_->LogClaim(keys.size());
  if (!logged.first) {
    Stop();
    return logged;
  }
  for (size_t i = 0; i < keys.size(); ++i) {
    state_->LogSet(*logged.first + i, keys[i], state_->acked(keys[i]), next[i]);
  }
  return logged;
}

// A key whose write failed keeps that write pending (it may have landed or
// not) until the next verification resolves it; the failing thread stops,
// but another may still reach the key before it sees the stop. It must
// neither overwrite that pending state (the verifier would no longer know
// the failed write, which may show up after the restart) nor expect a read
// to return the acked state: it leaves the key alone.
// REQUIRES: the locks of keys [first, end) held.
bool Workload::Unresolved(uint64_t first, uint64_t end) const {
  for (uint64_t k = first; k < end; ++k) {
    if (!state_->pending(k).none()) return true;
  }
  return false;
}

Status Workload::WriteStatus(const Status& s) const {
  return options_.test_ack_failed_writes ? Status::Ok() : s;
}

Status Workload::Run() {
  std::vector<std::thread> threads;
  for (int i = 0; i < options_.threads; ++i) threads.emplace_back([this, i] { Thread(i); });
  for (std::thread& t : threads) t.join();
  std::lock_guard lock(failure_mu_);
  return failure_;
}

void Workload::Fail(const Status& s) {
  std::lock_guard lock(failure_mu_);
  if (failure_.ok()) failure_ = s;
  stop_.store(true);
}

void Workload::Thread(int index) {
  std::mt19937_64 rng(options_.seed * 1000003 + static_cast<uint64_t>(index));
  uint64_t done = 0;
  while (!stop_.load() && (options_.ops_per_thread == 0 || done < options_.ops_per_thread)) {
    const Status s = RunOne(rng);
    if (!s.ok()) {
      Fail(s);
      return;
    }
    if (++done % kOpsCountEvery == 0) state_->CountOps(kOpsCountEvery);
  }
  state_->CountOps(done % kOpsCountEvery);
}

Status Workload::RunOne(std::mt19937_64& rng) {
  const uint64_t key = rng() % state_->key_count();
  const uint64_t dice = rng() % 100;
  if (dice < 25) return WriteOne(key, WriteKind::kPut);
  if (dice < 33) return WriteOne(key, WriteKind::kDelete);
  if (dice < 35) return DeleteRange(key, rng);
  if (dice < 45) return Batch(key, rng);
  if (dice < 55) return PutIfNewer(key, rng);
  if (dice < 80) return Read(key, rng);
  if (dice < 92) return Iterate(key, rng);
  return SnapshotRead(key);
}

Status Workload::WriteOne(uint64_t key, WriteKind kind) {
  std::lock_guard lock(key_locks_[key]);
  if (Unresolved(key, key + 1)) return Status::Ok();
  const KeyState next{state_->NextGeneration(), kind};
  Logged logged = LogWrites({key}, {next});
  if (logged.full()) return Status::Ok();
  state_->SetPending(key, next);
  logged.Issued();
  const Status s = kind == WriteKind::kDelete
                       ? db_->Delete(write_options_, KeyName(key))
                       : db_->Put(write_options_, KeyName(key), ValueFor(key, next.generation));
  STRATA_RETURN_IF_ERROR(WriteStatus(s));
  logged.Acked();
  state_->Ack(key, next);
  ++(kind == WriteKind::kDelete ? counts_.deletes : counts_.puts);
  return Status::Ok();
}

// PutIfNewer with a version above every stored one must apply; now and then
// one with the stored version itself, which must not.
Status Workload::PutIfNewer(uint64_t key, std::mt19937_64& rng) {
  std::lock_guard lock(key_locks_[key]);
  if (Unresolved(key, key + 1)) return Status::Ok();
  const KeyState current = state_->acked(key);
  const bool stale = current.kind == WriteKind::kVersioned && rng() % 4 == 0;
  const KeyState next{state_->NextGeneration(), WriteKind::kVersioned};
  Logged logged = LogWrites({key}, {next});
  if (logged.full()) return Status::Ok();
  state_->SetPending(key, next);
  logged.Issued();
  const uint64_t version = stale ? current.generation : next.generation;
  bool applied = false;
  const Status s = db_->PutIfNewer(write_options_, KeyName(key), version,
                                   ValueFor(key, next.generation), &applied);
  if (!s.ok() && options_.test_ack_failed_writes) applied = !stale;
  STRATA_RETURN_IF_ERROR(WriteStatus(s));
  if (applied == stale) {
    return Violation(fmt::format("PutIfNewer, key {}: version {} over {}: applied={}",
                                 KeyName(key), version, current.ToString(), applied));
  }
  if (applied) {
    logged.Acked();
    state_->Ack(key, next);
  } else {
    logged.Cancelled();  // it did not happen
    state_->ClearPending(key);
  }
  ++counts_.put_if_newer;
  return Status::Ok();
}

Status Workload::Batch(uint64_t key, std::mt19937_64& rng) {
  const uint64_t first = key - key % kBatchKeys;
  const uint64_t end = std::min(first + kBatchKeys, state_->key_count());
  std::vector<std::unique_lock<std::mutex>> locks;  // ascending: no deadlock
  for (uint64_t k = first; k < end; ++k) locks.emplace_back(key_locks_[k]);
  if (Unresolved(first, end)) return Status::Ok();
  const uint64_t generation = state_->NextGeneration();
  WriteBatch batch;
  std::vector<uint64_t> keys;
  std::vector<KeyState> next;
  for (uint64_t k = first; k < end; ++k) {
    const bool del = rng() % 4 == 0;
    keys.push_back(k);
    next.push_back(KeyState{generation, del ? WriteKind::kDelete : WriteKind::kPut});
    STRATA_RETURN_IF_ERROR(del ? batch.Delete(KeyName(k))
                               : batch.Put(KeyName(k), ValueFor(k, generation)));
  }
  Logged logged = LogWrites(keys, next);
  if (logged.full()) return Status::Ok();
  for (size_t i = 0; i < keys.size(); ++i) state_->SetPending(keys[i], next[i]);
  logged.Issued();
  STRATA_RETURN_IF_ERROR(WriteStatus(db_->Write(write_options_, batch)));
  logged.Acked();
  for (size_t i = 0; i < keys.size(); ++i) state_->Ack(keys[i], next[i]);
  ++counts_.batches;
  return Status::Ok();
}

// [first, end): 1 to kDeleteRangeGroupsMax whole batch groups. Every key of
// the range, present or not, gets the pending state delete@generation (the
// optional Put's key: put@generation) before the batch is issued, and the
// acked one after, all under the keys' locks: to the verifier the range is
// one batch, landed on all its keys or on none.
Status Workload::DeleteRange(uint64_t key, std::mt19937_64& rng) {
  const uint64_t first = key - key % kBatchKeys;
  const uint64_t groups = 1 + rng() % kDeleteRangeGroupsMax;
  const uint64_t end = std::min(first + groups * kBatchKeys, state_->key_count());
  std::vector<std::unique_lock<std::mutex>> locks;  // ascending: no deadlock
  for (uint64_t k = first; k < end; ++k) locks.emplace_back(key_locks_[k]);
  if (Unresolved(first, end)) return Status::Ok();
  const uint64_t generation = state_->NextGeneration();
  WriteBatch batch;
  STRATA_RETURN_IF_ERROR(batch.DeleteRange(KeyName(first), KeyName(end)));
  // Half the time a Put inside the range after it: the later entry of a
  // batch wins.
  std::optional<uint64_t> put_key;
  if (rng() % 2 == 0) {
    put_key = first + rng() % (end - first);
    STRATA_RETURN_IF_ERROR(batch.Put(KeyName(*put_key), ValueFor(*put_key, generation)));
  }
  std::vector<uint64_t> keys;
  std::vector<KeyState> next;
  for (uint64_t k = first; k < end; ++k) {
    keys.push_back(k);
    next.push_back(KeyState{generation, k == put_key ? WriteKind::kPut : WriteKind::kDelete});
  }
  Logged logged = LogWrites(keys, next);
  if (logged.full()) return Status::Ok();
  for (size_t i = 0; i < keys.size(); ++i) state_->SetPending(keys[i], next[i]);
  logged.Issued();
  STRATA_RETURN_IF_ERROR(WriteStatus(db_->Write(write_options_, batch)));
  logged.Acked();
  for (size_t i = 0; i < keys.size(); ++i) state_->Ack(keys[i], next[i]);
  ++counts_.delete_ranges;
  return Status::Ok();
}

// Under the key's lock nothing is in flight: the read must return the acked state.
Status Workload::Read(uint64_t key, std::mt19937_64& rng) {
  std::lock_guard lock(key_locks_[key]);
  if (Unresolved(key, key + 1)) return Status::Ok();
  Observed o;
  STRATA_RETURN_IF_ERROR(Observe(db_, ReadOptions{}, key, rng() % 2 == 0, &o));
  const KeyState expected = state_->acked(key);
  if (!Matches(o, expected)) return Mismatch("get", key, expected.ToString(), o);
  ++counts_.gets;
  return Status::Ok();
}

// Without locks: keys in order (ascending forward, descending backward),
// inside the key space, each value one that was written for that key.
Status Workload::Iterate(uint64_t key, std::mt19937_64& rng) {
  ReadOptions ro;
  const bool forward = rng() % 2 == 0;
  if (forward && rng() % 4 == 0) ro.upper_bound = KeyName(key + rng() % 64);
  std::unique_ptr<Iterator> it = db_->NewIterator(ro);
  it->Seek(KeyName(key));
  if (!forward && !it->Valid() && it->status().ok()) it->SeekToLast();
  const uint64_t bound = state_->generation_bound();
  std::optional<uint64_t> previous;
  for (int step = 0; it->Valid() && step < kIterateStepsMax; ++step) {
    uint64_t k = 0;
    uint64_t generation = 0;
    if (!ParseKey(it->key(), &k) || k >= state_->key_count()) {
      return Violation(fmt::format("iterator: key '{}' was never written", it->key()));
    }
    if (previous && (forward ? k <= *previous : k >= *previous)) {
      return Violation(fmt::format("iterator ({}): key {} after key {}",
                                   forward ? "forward" : "backward", KeyName(k),
                                   KeyName(*previous)));
    }
    if (ro.upper_bound && it->key() >= *ro.upper_bound) {
      return Violation(fmt::format("iterator: key {} at or past the upper bound {}", KeyName(k),
                                   *ro.upper_bound));
    }
    if (!ParseValue(it->value(), k, &generation) || generation >= bound) {
      return Violation(fmt::format("iterator, key {}: a value no write stored ('{}')",
                                   KeyName(k), it->value().substr(0, 64)));
    }
    previous = k;
    forward ? it->Next() : it->Prev();
  }
  STRATA_RETURN_IF_ERROR(it->status());
  ++counts_.iterations;
  return Status::Ok();
}

// A snapshot taken while the key is locked reads the acked state of then,
// by Get and by an iterator, after the key was overwritten.
Status Workload::SnapshotRead(uint64_t key) {
  std::unique_ptr<Snapshot> snapshot;
  KeyState expected;
  {
    std::lock_guard lock(key_locks_[key]);
    if (Unresolved(key, key + 1)) return Status::Ok();
    expected = state_->acked(key);
    snapshot = db_->GetSnapshot();
  }
  STRATA_RETURN_IF_ERROR(WriteOne(key, WriteKind::kPut));
  ReadOptions ro;
  ro.snapshot = snapshot.get();
  Observed o;
  STRATA_RETURN_IF_ERROR(Observe(db_, ro, key, false, &o));
  if (!Matches(o, expected)) return Mismatch("snapshot get", key, expected.ToString(), o);
  std::unique_ptr<Iterator> it = db_->NewIterator(ro);
  it->Seek(KeyName(key));
  STRATA_RETURN_IF_ERROR(it->status());
  o = Observed();
  if (it->Valid() && it->key() == KeyName(key)) {
    o.found = true;
    o.raw.assign(it->value());
    o.parsed = ParseValue(o.raw, key, &o.generation);
  }
  if (!Matches(o, expected)) return Mismatch("snapshot iterator", key, expected.ToString(), o);
  it.reset();
  ++counts_.snapshot_reads;
  return Status::Ok();
}

}  // namespace strata::stress
