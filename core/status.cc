#include "strata/status.h"

#include <cstdio>
#include <cstdlib>
#include <string>

namespace strata {

namespace {
const std::string& EmptyString() {
  static const std::string* empty = new std::string();
  return *empty;
}
}  // namespace

Status::Status(Code code, std::string_view msg)
    : code_(code), message_(std::make_shared<const std::string>(msg)) {}

const std::string& Status::message() const { return message_ ? *message_ : EmptyString(); }

std::string_view Status::CodeName(Code code) {
  switch (code) {
    case Code::kOk: return "OK";
    case Code::kNotFound: return "NotFound";
    case Code::kCorruption: return "Corruption";
    case Code::kIOError: return "IOError";
    case Code::kInvalidArgument: return "InvalidArgument";
    case Code::kNotSupported: return "NotSupported";
    case Code::kBusy: return "Busy";
  }
  return "Unknown";
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  std::string out(CodeName(code_));
  if (!message().empty()) {
    out += ": ";
    out += message();
  }
  return out;
}

Status Status::WithContext(std::string_view context) const {
  if (ok()) return *this;
  std::string msg(context);
  if (!message().empty()) {
    msg += ": ";
    msg += message();
  }
  return Status(code_, msg);
}

namespace internal {
void ResultFromOkStatus() {
  std::fprintf(stderr, "strata: assertion failed: Result<T> built from an ok Status\n");
  std::abort();
}
}  // namespace internal

}  // namespace strata
