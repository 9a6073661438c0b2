// Sub-command registry for the `cryptounet` CLI. Each apps/cmd_*.cpp registers its sub-commands with
// CRYPTOUNET_COMMAND; main.cpp only builds the CLI11 app and dispatches. Adding a command = adding a file.
#pragma once
#include <CLI/CLI.hpp>

#include <functional>
#include <vector>

namespace cryptounet::app {

// A setup function adds one sub-command (with its options and callback) to the root app.
using CommandSetup = std::function<void(CLI::App& root)>;

inline std::vector<CommandSetup>& command_registry() {
  static std::vector<CommandSetup> registry;
  return registry;
}

struct CommandRegistrar {
  explicit CommandRegistrar(CommandSetup setup) { command_registry().push_back(std::move(setup)); }
};

}  // namespace cryptounet::app

#define CRYPTOUNET_CONCAT_INNER(a, b) a##b
#define CRYPTOUNET_CONCAT(a, b) CRYPTOUNET_CONCAT_INNER(a, b)
// Usage at namespace scope: CRYPTOUNET_COMMAND(setup_predict);  with void setup_predict(CLI::App&).
#define CRYPTOUNET_COMMAND(fn) \
  static const ::cryptounet::app::CommandRegistrar CRYPTOUNET_CONCAT(cryptounet_cmd_, __LINE__){fn}
