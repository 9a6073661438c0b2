// libFuzzer target: TIFF and OME-TIFF files (io::tiff_page_count, io::read_tiff on the first pages), through libtiff
// and libxml2 as the tools use them.
#include <algorithm>
#include <cstdint>

#include "fuzz_input_file.h"
#include "io/tiff.h"
#include "refusal.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = cryptounet::fuzz::input_file("fuzz_tiff", ".tif", data, size);
  cryptounet::fuzz::expect_parse_or_refusal([&] {
    const int pages = cryptounet::io::tiff_page_count(path);
    for (int page = 0; page < std::min(pages, 4); ++page) (void)cryptounet::io::read_tiff(path, page);
  });
  return 0;
}
