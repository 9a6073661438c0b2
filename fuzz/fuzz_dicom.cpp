// libFuzzer target: DICOM files (io::DicomFrames::read, every frame as an image) through DCMTK, and the DICOM
// Segmentation written from what was read (the source's attributes flow into it).
#include <cstdint>
#include <vector>

#include "fuzz_input_file.h"
#include "io/dicom.h"
#include "refusal.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = cryptounet::fuzz::input_file("fuzz_dicom", ".dcm", data, size, {".seg"});
  cryptounet::fuzz::expect_parse_or_refusal([&] {
    const auto dicom = cryptounet::io::DicomFrames::read(path);
    std::vector<cryptounet::io::Mask> masks;
    for (int f = 0; f < dicom.frame_count(); ++f) {
      const auto image = dicom.frame_image(f);
      cryptounet::io::Mask mask(image.width, image.height);
      for (std::size_t j = 0; j < mask.pixels.size(); ++j) mask.pixels[j] = image.samples[j] > 32767;
      masks.push_back(std::move(mask));
    }
    dicom.write_segmentation(path + ".seg", masks, "Nucleus");
  });
  return 0;
}
