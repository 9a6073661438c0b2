#include "io/nifti.h"

#include <nifti2_io.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>

namespace cryptounet::io {

namespace {

constexpr std::int64_t kMaxSide = 16384;
constexpr std::int64_t kMaxVoxels = std::int64_t{1} << 28;  // 2 GiB as doubles; a whole-brain MRI is ~2^24

struct NiftiDeleter {
  void operator()(nifti_image* nim) const { nifti_image_free(nim); }
};
using NiftiPtr = std::unique_ptr<nifti_image, NiftiDeleter>;

template <class T>
void convert(const void* data, std::vector<double>& out) {
  const T* typed = static_cast<const T*>(data);
  for (std::size_t j = 0; j < out.size(); ++j) out[j] = static_cast<double>(typed[j]);
}

void check_axis(int axis) {
  if (axis < 0 || axis > 2) throw std::invalid_argument("NIfTI axis must be 0, 1 or 2, not " + std::to_string(axis));
}

}  // namespace

struct NiftiVolume::Data {
  NiftiPtr header;             // the input's header, voxel data dropped
  std::int64_t dims[3] = {1, 1, 1};
  std::vector<double> voxels;  // i fastest, then j, then k
  double low = 0, high = 0;    // intensity range
};

NiftiVolume NiftiVolume::read(const std::string& path) {
  // Header first: the voxel buffer is allocated only once the grid is known to be sane.
  NiftiPtr nim(nifti_image_read(path.c_str(), 0));
  if (!nim) throw std::runtime_error("cannot read NIfTI '" + path + "'");
  for (int d = 4; d <= 7; ++d)
    if (nim->dim[0] >= d && nim->dim[d] > 1)
      throw std::runtime_error("NIfTI '" + path + "': not a 3-D volume (dim[" + std::to_string(d) + "] = " +
                               std::to_string(nim->dim[d]) + ")");
  auto data = std::make_shared<Data>();
  data->dims[0] = nim->nx;
  data->dims[1] = nim->dim[0] >= 2 ? nim->ny : 1;
  data->dims[2] = nim->dim[0] >= 3 ? nim->nz : 1;
  for (std::int64_t side : data->dims)
    if (side < 1 || side > kMaxSide) throw std::runtime_error("NIfTI '" + path + "': side out of range");
  if (data->dims[0] * data->dims[1] * data->dims[2] > kMaxVoxels)
    throw std::runtime_error("NIfTI '" + path + "': more than 2^28 voxels");
  // The voxel buffer is sized by the header: a header must not claim more data than the file can hold (deflate
  // expands at most 1032-fold).
  if (!nim->iname) throw std::runtime_error("NIfTI '" + path + "': no voxel data file");
  std::error_code size_error;
  const std::uintmax_t file_size = std::filesystem::file_size(nim->iname, size_error);  // .nii, or the .img of a pair
  const bool compressed = nifti_is_gzfile(nim->iname);
  const double claimed = static_cast<double>(nim->nvox) * nim->nbyper + (compressed ? 0.0 : nim->iname_offset);
  if (size_error || nim->nbyper <= 0 || claimed > static_cast<double>(file_size) * (compressed ? 1032.0 : 1.0))
    throw std::runtime_error("NIfTI '" + path + "': the header claims more voxel data than the file holds");
  if (nifti_image_load(nim.get()) != 0 || !nim->data)
    throw std::runtime_error("NIfTI '" + path + "': cannot read the voxel data");
  data->voxels.resize(static_cast<std::size_t>(data->dims[0] * data->dims[1] * data->dims[2]));
  switch (nim->datatype) {
    case DT_UINT8: convert<std::uint8_t>(nim->data, data->voxels); break;
    case DT_INT8: convert<std::int8_t>(nim->data, data->voxels); break;
    case DT_UINT16: convert<std::uint16_t>(nim->data, data->voxels); break;
    case DT_INT16: convert<std::int16_t>(nim->data, data->voxels); break;
    case DT_UINT32: convert<std::uint32_t>(nim->data, data->voxels); break;
    case DT_INT32: convert<std::int32_t>(nim->data, data->voxels); break;
    case DT_UINT64: convert<std::uint64_t>(nim->data, data->voxels); break;
    case DT_INT64: convert<std::int64_t>(nim->data, data->voxels); break;
    case DT_FLOAT32: convert<float>(nim->data, data->voxels); break;
    case DT_FLOAT64: convert<double>(nim->data, data->voxels); break;
    default:
      throw std::runtime_error("NIfTI '" + path + "': voxel type " + std::to_string(nim->datatype) +
                               " is not a real scalar");
  }
  if (nim->scl_slope != 0.0 && std::isfinite(nim->scl_slope) && std::isfinite(nim->scl_inter))
    for (double& v : data->voxels) v = v * nim->scl_slope + nim->scl_inter;
  for (const double v : data->voxels)
    if (!std::isfinite(v)) throw std::runtime_error("NIfTI '" + path + "': non-finite voxel value");
  const auto [low, high] = std::minmax_element(data->voxels.begin(), data->voxels.end());
  data->low = *low;
  data->high = *high;
  nifti_image_unload(nim.get());
  data->header = std::move(nim);
  NiftiVolume volume;
  volume.data_ = std::move(data);
  return volume;
}

int NiftiVolume::size(int axis) const {
  check_axis(axis);
  return static_cast<int>(data_->dims[axis]);
}

int NiftiVolume::axial_axis() const {
  const nifti_image& h = *data_->header;
  if (h.sform_code <= 0 && h.qform_code <= 0) return 2;
  int codes[3];
  nifti_dmat44_to_orientation(h.sform_code > 0 ? h.sto_xyz : h.qto_xyz, &codes[0], &codes[1], &codes[2]);
  for (int axis = 0; axis < 3; ++axis)
    if (codes[axis] == NIFTI_I2S || codes[axis] == NIFTI_S2I) return axis;
  return 2;
}

Plane NiftiVolume::slice(int axis, int index) const {
  check_axis(axis);
  if (index < 0 || index >= size(axis))
    throw std::out_of_range("NIfTI slice " + std::to_string(index) + " of " + std::to_string(size(axis)));
  const int u = axis == 0 ? 1 : 0, v = axis == 2 ? 1 : 2;  // in-plane axes: width along u, height along v
  const std::int64_t stride[3] = {1, data_->dims[0], data_->dims[0] * data_->dims[1]};
  Plane plane(size(u), size(v));
  for (int y = 0; y < plane.height; ++y)
    for (int x = 0; x < plane.width; ++x)
      plane.at(y, x) = data_->voxels[static_cast<std::size_t>(index * stride[axis] + x * stride[u] + y * stride[v])];
  return plane;
}

Image NiftiVolume::slice_image(int axis, int index) const {
  const Plane plane = slice(axis, index);
  Image image;
  image.width = plane.width;
  image.height = plane.height;
  image.channels = 1;
  image.bit_depth = 16;
  const double span = data_->high - data_->low;
  image.samples.resize(plane.pixels.size());
  for (std::size_t j = 0; j < plane.pixels.size(); ++j)
    image.samples[j] =
        span > 0 ? static_cast<std::uint16_t>(std::lround((plane.pixels[j] - data_->low) / span * 65535.0)) : 0;
  return image;
}

void NiftiVolume::write_labels(const std::string& path, int axis, const std::vector<LabelImage>& slices) const {
  check_axis(axis);
  const int u = axis == 0 ? 1 : 0, v = axis == 2 ? 1 : 2;
  if (slices.size() != static_cast<std::size_t>(size(axis)))
    throw std::invalid_argument("write_labels '" + path + "': " + std::to_string(slices.size()) + " slices for " +
                                std::to_string(size(axis)));
  const std::int64_t stride[3] = {1, data_->dims[0], data_->dims[0] * data_->dims[1]};
  const std::size_t count = data_->voxels.size();
  auto* labels = static_cast<std::uint16_t*>(std::calloc(count, sizeof(std::uint16_t)));  // freed by nifti
  NiftiPtr out(nifti_copy_nim_info(data_->header.get()));
  if (!out || !labels) {
    std::free(labels);
    throw std::runtime_error("write_labels '" + path + "': out of memory");
  }
  out->data = labels;
  for (std::size_t s = 0; s < slices.size(); ++s) {
    const LabelImage& slice = slices[s];
    if (slice.width != size(u) || slice.height != size(v) ||
        slice.pixels.size() != static_cast<std::size_t>(slice.width) * slice.height)
      throw std::invalid_argument("write_labels '" + path + "': slice " + std::to_string(s) + " is " +
                                  std::to_string(slice.width) + "x" + std::to_string(slice.height));
    for (int y = 0; y < slice.height; ++y)
      for (int x = 0; x < slice.width; ++x)
        labels[static_cast<std::int64_t>(s) * stride[axis] + x * stride[u] + y * stride[v]] = slice.at(y, x);
  }
  out->datatype = DT_UINT16;
  nifti_datatype_sizes(out->datatype, &out->nbyper, &out->swapsize);
  out->scl_slope = 0;  // labels are stored values, not scaled intensities
  out->scl_inter = 0;
  out->cal_min = 0;
  out->cal_max = *std::max_element(labels, labels + count);
  out->intent_code = NIFTI_INTENT_LABEL;
  std::strncpy(out->descrip, "cryptounet labels", sizeof out->descrip - 1);
  if (nifti_set_filenames(out.get(), path.c_str(), 0, 1) != 0)
    throw std::invalid_argument("write_labels '" + path + "': not a NIfTI file name (.nii or .nii.gz)");
  nifti_image_write(out.get());
  // nifti_image_write reports failure only on stderr: read the header back to be sure the file is there.
  NiftiPtr check(nifti_image_read(path.c_str(), 0));
  if (!check || check->nvox != out->nvox) throw std::runtime_error("writing NIfTI '" + path + "' failed");
}

}  // namespace cryptounet::io
