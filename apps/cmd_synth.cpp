// `cryptounet synth`: writes synthetic fluorescence-nuclei images with exact masks as a DSB-layout folder.
#include "command.h"
#include "io/synth.h"

#include <fmt/core.h>

#include <cstdint>
#include <string>

namespace {

struct SynthOptions {
  std::string out;
  int count = 8;
  int size = 128;
  std::uint64_t seed = 2018;
};

void setup_synth(CLI::App& root) {
  auto opts = std::make_shared<SynthOptions>();
  CLI::App* cmd = root.add_subcommand("synth", "Generate synthetic fluorescence-nuclei images + masks (DSB layout)");
  cmd->add_option("-o,--out", opts->out, "Output folder (images/, masks/, labels/)")->required();
  cmd->add_option("--count", opts->count, "Number of images")->check(CLI::Range(1, 100000));
  cmd->add_option("--size", opts->size, "Image side in pixels")->check(CLI::Range(8, 8192));
  cmd->add_option("--seed", opts->seed, "Seed (same seed -> same images on every platform)");
  cmd->callback([opts] {
    cryptounet::io::SynthParams params;
    params.width = params.height = opts->size;
    cryptounet::io::write_synthetic_dataset(opts->out, opts->count, opts->seed, params);
    fmt::print("wrote {} synthetic {}x{} images (seed {}) to {}\n", opts->count, opts->size, opts->size, opts->seed,
               opts->out);
  });
}

}  // namespace

CRYPTOUNET_COMMAND(setup_synth);
