// `cryptounet demo --mri`: brain extraction (skull stripping) on a T1 MRI volume, a few slices encrypted end to end
// and the whole volume in plaintext, both scored against the volume's brain mask.
#pragma once

#include "henn/planner.h"

#include <string>

namespace cryptounet::app {

// The held-out subject of models/brain_he (Debian's insighttoolkit5-examples; docs/MODEL.md, "Brain MRI").
inline constexpr const char* kMriDemoData = "/usr/share/doc/insighttoolkit5-examples/examples/Data/";

struct MriDemoOptions {
  std::string model = "models/brain_he.onnx";
  std::string volume = std::string(kMriDemoData) + "KmeansTest_T1UCharRaw.nii.gz";
  std::string truth = std::string(kMriDemoData) + "KmeansTest_T1RawSkullStrip.nii.gz";  // brain where > 0
  std::string out = "out/demo";  // writes brain_labels.nii.gz there (empty: nothing written)
  int slices = 8;                // encrypted slices, evenly spread over the middle 70 % of the volume
  bool json = false;
  henn::PlanOptions plan;
};

void run_mri_demo(const MriDemoOptions& options);

}  // namespace cryptounet::app
