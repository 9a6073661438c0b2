#include "io/volume_masks.h"

#include "io/dicom.h"
#include "io/nifti.h"

#include <filesystem>
#include <stdexcept>

namespace cryptounet::io {

VolumeMasks::VolumeMasks(const std::vector<std::string>& inputs, int axis) {
  for (const std::string& path : inputs) {
    const ImageFormat format = detect_image_format(path);
    if (format != ImageFormat::Nifti && format != ImageFormat::Dicom) continue;
    Volume volume{path, format, axis, {}};
    const int pages = image_page_count(path, axis);
    volume.masks.resize(static_cast<std::size_t>(pages));
    const std::string stem = image_stem(path);
    for (int page = 0; page < pages; ++page)
      if (!pages_.emplace(page_id(stem, page, pages), std::make_pair(volumes_.size(), page)).second)
        throw std::invalid_argument("'" + path + "': another input has the same name '" + stem + "'");
    volumes_.push_back(std::move(volume));
  }
}

bool VolumeMasks::add(const std::string& id, const Mask& mask) {
  const auto found = pages_.find(id);
  if (found == pages_.end()) return false;
  volumes_[found->second.first].masks[static_cast<std::size_t>(found->second.second)] = mask;
  return true;
}

std::vector<std::string> VolumeMasks::write(const std::string& dir) const {
  std::vector<std::string> written;
  for (const Volume& volume : volumes_) {
    for (std::size_t page = 0; page < volume.masks.size(); ++page)
      if (volume.masks[page].pixels.empty())
        throw std::runtime_error("'" + volume.path + "': no mask for page " + std::to_string(page) +
                                 ", the volume is not written");
    const std::filesystem::path stem = std::filesystem::path(dir) / image_stem(volume.path);
    if (volume.format == ImageFormat::Nifti) {
      std::vector<LabelImage> slices;
      for (const Mask& mask : volume.masks) {
        LabelImage slice(mask.width, mask.height);
        slice.pixels.assign(mask.pixels.begin(), mask.pixels.end());
        slices.push_back(std::move(slice));
      }
      written.push_back(stem.string() + "_mask.nii.gz");
      const NiftiVolume nifti = NiftiVolume::read(volume.path);
      nifti.write_labels(written.back(), volume.axis == kAxialAxis ? nifti.axial_axis() : volume.axis, slices);
    } else {
      written.push_back(stem.string() + "_seg.dcm");
      DicomFrames::read(volume.path).write_segmentation(written.back(), volume.masks, kSegmentLabel);
    }
  }
  return written;
}

}  // namespace cryptounet::io
