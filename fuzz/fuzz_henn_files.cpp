// libFuzzer target: the henn file formats the server reads from clients: the inference-plan header (load_plan),
// evaluation-key bundles (load_evaluation_keys, and load_evaluation_key_plan, the header the server checks first)
// and encrypted batches (load_batch, against the small context). Byte 0 picks the loader; the header-first readers
// a server runs on an upload's first bytes (upload_check.h) read the same bytes as the key and batch loaders, before
// them. The file loaders take paths, so the input goes through a per-process file.
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "refusal.h"
#include "fuzz_context.h"
#include "henn/batch.h"
#include "henn/key_bundle.h"
#include "henn/upload_check.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  using namespace cryptounet;
  static const std::string path =
      (std::filesystem::temp_directory_path() / ("fuzz-henn-" + std::to_string(::getpid()) + ".bin")).string();
  const std::string bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  if (data[0] % 4 != 0) {
    cryptounet::fuzz::expect_parse_or_refusal([&] {
      (void)henn::identify_file(bytes);
      if (data[0] % 4 == 2) (void)henn::read_batch_upload_header(bytes);
      else (void)henn::read_keys_header(bytes);
    });
  }
  cryptounet::fuzz::expect_parse_or_refusal([&] {
    switch (data[0] % 4) {
      case 0: {
        std::istringstream in(bytes);
        (void)henn::load_plan(in);
        break;
      }
      case 1:
        std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
        (void)henn::load_evaluation_keys(path);
        break;
      case 2:
        std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
        (void)henn::load_batch(path, *fuzz::small_context());
        break;
      case 3:
        std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
        (void)henn::load_evaluation_key_plan(path);
        break;
    }
  });
  return 0;
}
