// libFuzzer target: NIfTI-1/2 volumes (io::NiftiVolume::read, then a slice along each axis), through nifti2_io.
#include <cstdint>

#include "fuzz_input_file.h"
#include "io/nifti.h"
#include "refusal.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = cryptounet::fuzz::input_file("fuzz_nifti", ".nii", data, size);
  cryptounet::fuzz::expect_parse_or_refusal([&] {
    const auto volume = cryptounet::io::NiftiVolume::read(path);
    for (int axis = 0; axis < 3; ++axis) (void)volume.slice_image(axis, volume.size(axis) / 2);
    (void)volume.axial_axis();
  });
  return 0;
}
