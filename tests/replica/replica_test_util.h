// Helpers shared by the replica tests.
#pragma once

#include <algorithm>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "replica/snapshot_transport.h"
#include "replica/state_machine.h"
#include "strata/engine.h"

namespace strata::replica::testing {

// Options for small test engines.
inline Options TestEngineOptions() {
  Options options;
  options.engine = "lsm";
  options.wal_segment_bytes = 1 * kMiB;
  options.memtable_bytes = 1 * kMiB;
  return options;
}

// transport null: snapshots carry their stream inline.
inline std::unique_ptr<EngineStateMachine> OpenStateMachine(
    const std::string& dir, SnapshotTransport* transport = nullptr,
    const std::string& source = "") {
  StateMachineOptions options;
  options.engine_options = TestEngineOptions();
  options.db_dir = dir;
  options.transport = transport;
  options.snapshot_source = source;
  std::unique_ptr<EngineStateMachine> sm;
  Status s = EngineStateMachine::Open(options, &sm);
  if (!s.ok()) return nullptr;
  return sm;
}

// An in-process SnapshotTransport: members by name, each stream collected
// from EngineStateMachine::ServeStream; `cut` truncates one member's stream.
class MapTransport final : public SnapshotTransport {
 public:
  std::map<std::string, EngineStateMachine*> members;
  std::map<std::string, size_t> cut;  // name -> bytes kept
  std::vector<std::string> asked;
  Status Fetch(const std::string& preferred, uint64_t min_index,
               const std::function<Status(const snapshot::ByteSource&)>& consume) override {
    std::vector<std::string> order{preferred};
    for (const auto& [name, sm] : members) {
      if (name != preferred) order.push_back(name);
    }
    Status last = Status::IOError("nobody");
    for (const std::string& name : order) {
      asked.push_back(name);
      auto it = members.find(name);
      if (it == members.end()) continue;
      std::string stream;
      uint64_t applied = 0;
      last = it->second->ServeStream(min_index, &applied, [&](std::string_view b) {
        stream.append(b);
        return Status::Ok();
      });
      if (!last.ok()) continue;
      if (cut.count(name) != 0) stream.resize(cut[name]);
      std::string_view rest = stream;
      last = consume([&rest](char* out, size_t n, size_t* got) {
        *got = std::min(n, rest.size());
        std::memcpy(out, rest.data(), *got);
        rest.remove_prefix(*got);
        return Status::Ok();
      });
      if (last.ok()) return last;
    }
    return last;
  }
};

// Every key, value and version of an engine, reserved keys included.
using Contents = std::vector<std::tuple<std::string, std::string, uint64_t>>;
inline Contents ReadAll(Engine* engine) {
  Contents out;
  std::unique_ptr<Iterator> it = engine->NewIterator(ReadOptions());
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    out.emplace_back(std::string(it->key()), std::string(it->value()), it->version().value_or(0));
  }
  return out;
}

// Only the user keys.
inline Contents UserContents(Engine* engine) {
  Contents all = ReadAll(engine);
  Contents out;
  for (auto& entry : all) {
    if (!IsReservedKey(std::get<0>(entry))) out.push_back(std::move(entry));
  }
  return out;
}

}  // namespace strata::replica::testing
