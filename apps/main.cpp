// cryptounet: privacy-preserving U-Net segmentation on CKKS. Sub-commands live in apps/cmd_*.cpp.
#include "command.h"

#include <spdlog/spdlog.h>

#include <exception>

int main(int argc, char** argv) {
  CLI::App app{"cryptounet: encrypted U-Net segmentation with RNS-CKKS"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "cryptounet 0.1.0");
  for (const auto& setup : cryptounet::app::command_registry()) setup(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    return 1;
  }
  return 0;
}
