// The LSM engine's factory, registered as kind "lsm" in registry/builtin_engines.cc.
#pragma once

#include <memory>
#include <string>

#include "strata/engine.h"

namespace strata::lsm {

Status OpenLsmEngine(const Options& options, const std::string& path,
                     std::unique_ptr<Engine>* engine);

}  // namespace strata::lsm
