// CLI options that override the level planner (keygen and demo share them), bound straight into
// henn::PlanOptions so that the planner's defaults are the only defaults.
#pragma once
#include <CLI/CLI.hpp>

#include "henn/planner.h"

namespace cryptounet::app {

inline void add_plan_options(CLI::App* cmd, henn::PlanOptions& plan) {
  cmd->add_option("--log-n", plan.log_n, "Force log2 N (default: smallest that fits)");
  cmd->add_option("--scale-bits", plan.scale_bits, "Scaling prime bits / log2 scale")->capture_default_str();
  cmd->add_option("--weight-bits", plan.weight_bits, "Integer weight precision bits")->capture_default_str();
}

}  // namespace cryptounet::app
