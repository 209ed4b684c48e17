// The B+ tree engine's factory, registered as kind "btree" in core/builtin_engines.cc.
#pragma once

#include <memory>
#include <string>

#include "strata/engine.h"

namespace strata::btree {

Status OpenBtreeEngine(const Options& options, const std::string& path,
                       std::unique_ptr<Engine>* engine);

}  // namespace strata::btree
