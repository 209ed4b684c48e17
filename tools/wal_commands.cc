// `strata wal dump|verify`: inspect WAL segments (a segment file or a WAL
// directory) without opening the log, so a live log can be looked at too.
#include <fmt/core.h>

#include <memory>
#include <string>

#include "io/file_system.h"
#include "tools/commands.h"
#include "wal/format.h"
#include "wal/inspect.h"

namespace strata::tools {

namespace {

constexpr size_t kPreviewBytesDefault = 32;
constexpr size_t kHexBytesPerLine = 16;

// Printable ASCII as is, everything else as \xNN (text) or \u00NN (JSON).
std::string Escape(std::string_view bytes, bool json) {
  std::string out;
  for (char c : bytes) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u >= 0x20 && u < 0x7f) {
      out += c;
    } else {
      out += json ? fmt::format("\\u{:04x}", u) : fmt::format("\\x{:02x}", u);
    }
  }
  return out;
}

void PrintHex(std::string_view bytes, uint64_t base) {
  for (size_t at = 0; at < bytes.size(); at += kHexBytesPerLine) {
    std::string hex, ascii;
    for (size_t k = at; k < at + kHexBytesPerLine && k < bytes.size(); ++k) {
      const auto u = static_cast<unsigned char>(bytes[k]);
      hex += fmt::format("{:02x} ", u);
      ascii += (u >= 0x20 && u < 0x7f) ? static_cast<char>(u) : '.';
    }
    fmt::print("    {:08x}  {:<48} |{}|\n", base + at, hex, ascii);
  }
}

std::string TypeName(uint8_t type) {
  switch (static_cast<wal::RecordType>(type)) {
    case wal::RecordType::kData:
      return "data";
    case wal::RecordType::kSeal:
      return "seal";
    case wal::RecordType::kGrow:
      return "grow";
  }
  return fmt::format("type{}", type);
}

// What a grow or seal record says, in words.
std::string ControlSummary(const wal::InspectedRecord& r) {
  if (r.type == static_cast<uint8_t>(wal::RecordType::kGrow)) {
    return fmt::format("allocated {} bytes", wal::DecodeGrowPayload(r.payload));
  }
  return fmt::format("next segment starts at lsn {}", r.lsn);
}

struct DumpArgs {
  std::string path;
  bool json = false;
  bool hex = false;
  size_t preview_bytes = kPreviewBytesDefault;
};

Status RunDump(const DumpArgs& args) {
  auto fs = io::DefaultFileSystem();
  wal::InspectCallbacks cb;
  bool first_json = true;
  auto json_sep = [&] {
    if (!first_json) fmt::print(",\n");
    first_json = false;
  };
  if (args.json) fmt::print("[\n");
  cb.on_segment_begin = [&](const wal::InspectedSegment& s) {
    if (args.json) {
      json_sep();
      fmt::print(R"({{"segment":"{}","seq":{},"file_bytes":{},"header":"{}"}})", Escape(s.path, true),
                 s.seq, s.file_bytes,
                 s.header_status.ok() ? "ok" : Escape(s.header_status.message(), true));
      return;
    }
    fmt::print("{}: segment {}, {} bytes, header {}\n", s.path, s.seq, s.file_bytes,
               s.header_status.ok() ? "ok" : s.header_status.message());
    if (args.hex) PrintHex(s.header_bytes, 0);
  };
  cb.on_record = [&](const wal::InspectedRecord& r) {
    const std::string_view preview = r.payload.substr(0, args.preview_bytes);
    if (args.json) {
      json_sep();
      fmt::print(
          R"({{"seq":{},"offset":{},"lsn":{},"type":"{}","length":{},"checksum":"ok","preview":"{}"}})",
          r.segment_seq, r.offset, r.lsn, TypeName(r.type), r.payload_bytes,
          Escape(preview, true));
      return;
    }
    fmt::print("  @{:<10} lsn {:<8} {} len {:<6} checksum ok  \"{}\"{}\n", r.offset, r.lsn,
               TypeName(r.type), r.payload_bytes, Escape(preview, false),
               r.payload.size() > preview.size() ? "..." : "");
    if (args.hex) PrintHex(r.bytes, r.offset);
  };
  cb.on_control_record = [&](const wal::InspectedRecord& r) {
    if (args.json) {
      json_sep();
      fmt::print(R"({{"seq":{},"offset":{},"lsn":{},"type":"{}","length":{},"checksum":"ok"{}}})",
                 r.segment_seq, r.offset, r.lsn, TypeName(r.type), r.payload_bytes,
                 r.type == static_cast<uint8_t>(wal::RecordType::kGrow)
                     ? fmt::format(R"(,"allocated_bytes":{})", wal::DecodeGrowPayload(r.payload))
                     : std::string());
      return;
    }
    fmt::print("  @{:<10} lsn {:<8} {} len {:<6} checksum ok  ({})\n", r.offset, r.lsn,
               TypeName(r.type), r.payload_bytes, ControlSummary(r));
    if (args.hex) PrintHex(r.bytes, r.offset);
  };
  cb.on_segment_end = [&](const wal::InspectedSegment& s) {
    const std::string state = s.scan.damaged ? "BAD" : "end";
    if (args.json) {
      json_sep();
      fmt::print(R"({{"seq":{},"offset":{},"end":"{}","damaged":{},"valid_after":{}}})", s.seq,
                 s.scan.end_offset, wal::RecordCheckName(s.scan.end_check),
                 s.scan.damaged ? "true" : "false", s.scan.valid_after ? "true" : "false");
      return;
    }
    fmt::print("  @{:<10} {}: {}{}\n", s.scan.end_offset, state,
               wal::RecordCheckName(s.scan.end_check),
               s.scan.valid_after
                   ? fmt::format(" (valid records follow at {})", s.scan.valid_after_offset)
                   : "");
  };
  wal::InspectResult result;
  STRATA_RETURN_IF_ERROR(wal::InspectPath(fs.get(), args.path, cb, &result));
  if (args.json) {
    json_sep();
    fmt::print(R"({{"segments":{},"records":{},"torn_tail":{},"corrupt":{}}})" "\n]\n",
               result.segment_count, result.record_count, result.torn_tail ? "true" : "false",
               result.corrupt ? "true" : "false");
  } else {
    fmt::print("{} segments, {} records\n", result.segment_count, result.record_count);
  }
  // Random bytes, an empty file or anything that is not a WAL: what Open
  // would refuse is Corruption (exit 3), after the listing.
  if (result.corrupt) {
    return Status::Corruption(fmt::format("{} @ {}: {}", result.corrupt_file,
                                          result.corrupt_offset, result.corrupt_reason));
  }
  return Status::Ok();
}

int RunVerify(const std::string& path) {
  wal::InspectResult result;
  Status s = wal::InspectPath(io::DefaultFileSystem().get(), path, {}, &result);
  if (!s.ok()) return ExitFor(s);
  if (result.corrupt) {
    fmt::print("corrupt: {} @ {}: {}\n", result.corrupt_file, result.corrupt_offset,
               result.corrupt_reason);
    return kExitNotFoundOrCheckFailed;
  }
  fmt::print("ok: {} segments, {} records", result.segment_count, result.record_count);
  if (result.torn_tail) {
    fmt::print("; torn tail at {} @ {} (a crash-cut record, dropped on next open)",
               result.torn_file, result.torn_offset);
  }
  fmt::print("\n");
  return kExitOk;
}

}  // namespace

void RegisterWalCommands(CLI::App& app, int* exit_code) {
  CLI::App* wal_cmd = app.add_subcommand("wal", "Inspect write-ahead log segments");
  wal_cmd->require_subcommand(1);

  auto dump = std::make_shared<DumpArgs>();
  CLI::App* dump_cmd = wal_cmd->add_subcommand(
      "dump", "List each record: offset, lsn, type, length, checksum state, payload preview");
  dump_cmd->add_option("PATH", dump->path, "A segment file (*.wal) or a WAL directory")
      ->required();
  dump_cmd->add_flag("--json", dump->json, "One JSON object per segment, record and end");
  dump_cmd->add_flag("--hex", dump->hex, "Hex dump of every record's bytes");
  dump_cmd->add_option("--preview-bytes", dump->preview_bytes, "Payload bytes to preview");
  dump_cmd->callback([=] { *exit_code = ExitFor(RunDump(*dump)); });

  auto verify_path = std::make_shared<std::string>();
  CLI::App* verify_cmd = wal_cmd->add_subcommand(
      "verify",
      "Check every record; exit 0 when clean (a torn tail is clean), 1 with the first bad "
      "offset when corrupt");
  verify_cmd->add_option("PATH", *verify_path, "A segment file (*.wal) or a WAL directory")
      ->required();
  verify_cmd->callback([=] { *exit_code = RunVerify(*verify_path); });
}

}  // namespace strata::tools
