// `strata manifest dump DIR [--hex]`: every record of an LSM database's live
// manifest, decoded (lsm/FORMAT.md (Manifest)).
#include <fmt/core.h>

#include <string>

#include "io/file_system.h"
#include "lsm/block_cache.h"
#include "lsm/manifest.h"
#include "lsm/version_edit.h"
#include "lsm/version_set.h"
#include "tools/commands.h"

namespace strata::tools {

namespace {

void PrintHex(std::string_view data, uint64_t base) {
  for (size_t row = 0; row < data.size(); row += 16) {
    std::string hex, ascii;
    for (size_t i = row; i < row + 16 && i < data.size(); ++i) {
      const auto c = static_cast<unsigned char>(data[i]);
      hex += fmt::format("{:02x} ", c);
      ascii += c >= 0x20 && c < 0x7f ? static_cast<char>(c) : '.';
    }
    fmt::print("  {:08x}  {:<48} {}\n", base + row, hex, ascii);
  }
}

Status DumpManifest(const std::string& dir, bool hex) {
  auto fs = io::DefaultFileSystem();
  std::string name;
  STRATA_RETURN_IF_ERROR(lsm::ReadCurrentFile(fs.get(), dir, &name));
  const std::string path = io::JoinPath(dir, name);
  fmt::print("{} (CURRENT)\n", name);
  if (hex) {
    std::string header;
    STRATA_RETURN_IF_ERROR(io::ReadFileToString(fs.get(), path, &header));
    fmt::print("header @ 0: {} bytes\n", lsm::kManifestHeaderBytes);
    PrintHex(std::string_view(header).substr(0, lsm::kManifestHeaderBytes), 0);
  }
  lsm::ManifestReadReport report;
  STRATA_RETURN_IF_ERROR(lsm::ReadManifest(
      fs.get(), path,
      [&](uint64_t offset, std::string_view payload) -> Status {
        lsm::VersionEdit edit;
        STRATA_RETURN_IF_ERROR(edit.DecodeFrom(payload, fmt::format("{} @ {}", name, offset)));
        fmt::print("record @ {}: {} payload bytes\n{}", offset, payload.size(),
                   edit.DebugString());
        if (hex) {
          std::string raw;
          Status s = io::ReadFileToString(fs.get(), path, &raw);
          if (s.ok()) {
            PrintHex(std::string_view(raw).substr(
                         offset, lsm::kManifestRecordHeaderBytes + payload.size()),
                     offset);
          }
        }
        return Status::Ok();
      },
      &report));
  fmt::print("{} records", report.record_count);
  if (report.torn_tail) fmt::print(", torn tail at {} (ignored)", report.torn_offset);
  fmt::print("\n");
  // Records that decode one by one can still make a manifest Open refuses
  // (none complete, a removal of an unknown file, a missing table): replay
  // it as Open does, writing nothing.
  lsm::BlockCache cache(0);
  lsm::VersionSet versions(fs, dir, lsm::TableOptions{}, &cache);
  Status s = versions.RecoverReadOnly();
  if (!s.ok()) return s.WithContext("open would refuse this manifest");
  return Status::Ok();
}

}  // namespace

void RegisterManifestCommands(CLI::App& app, int* exit_code) {
  CLI::App* manifest = app.add_subcommand("manifest", "Inspect LSM manifests");
  manifest->require_subcommand(1);
  CLI::App* dump = manifest->add_subcommand("dump", "Decode every record of the live manifest");
  auto dir = std::make_shared<std::string>();
  auto hex = std::make_shared<bool>(false);
  dump->add_option("DIR", *dir, "Database directory")->required();
  dump->add_flag("--hex", *hex, "Also print the raw bytes");
  dump->callback([=] { *exit_code = ExitFor(DumpManifest(*dir, *hex)); });
}

}  // namespace strata::tools
