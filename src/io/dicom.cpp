#include "io/dicom.h"

#include <dcmtk/config/osconfig.h>  // DCMTK: before any of its headers
#include <dcmtk/dcmdata/dcdict.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcpixel.h>
#include <dcmtk/dcmdata/dcrledrg.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmdata/dcxfer.h>
#include <dcmtk/dcmfg/fgderimg.h>
#include <dcmtk/dcmfg/fgfracon.h>
#include <dcmtk/dcmfg/fgpixmsr.h>
#include <dcmtk/dcmfg/fgplanor.h>
#include <dcmtk/dcmfg/fgplanpo.h>
#include <dcmtk/dcmfg/fgseg.h>
#include <dcmtk/dcmiod/iodreferences.h>
#include <dcmtk/dcmjpeg/djdecode.h>
#include <dcmtk/dcmjpls/djdecode.h>
#include <dcmtk/dcmseg/segdoc.h>
#include <dcmtk/dcmseg/segment.h>
#include <dcmtk/oflog/oflog.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <stdexcept>

namespace cryptounet::io {

namespace {

// Decoders for the compressed transfer syntaxes, registered once per process. DCMTK's own log is silenced: every
// failure reaches the caller as an OFCondition, turned into an exception naming the file.
void initialise_dcmtk() {
  static const bool done = [] {
    OFLog::configure(OFLogger::OFF_LOG_LEVEL);
    DcmRLEDecoderRegistration::registerCodecs();
    DJDecoderRegistration::registerCodecs();
    DJLSDecoderRegistration::registerCodecs();
    return true;
  }();
  (void)done;
}

std::string text(DcmItem& item, const DcmTagKey& tag) {
  OFString value;
  return item.findAndGetOFStringArray(tag, value).good() ? std::string(value.c_str()) : std::string();
}

// An attribute of frame `index`: at the top level (classic objects), else inside `macro` in that frame's item of
// the per-frame functional groups, else in the shared functional groups (enhanced objects). Empty when absent.
std::string frame_attribute(DcmItem& dataset, int index, const DcmTagKey& macro, const DcmTagKey& attribute) {
  std::string value = text(dataset, attribute);
  if (!value.empty()) return value;
  const auto in_group = [&](const DcmTagKey& groups_sequence, int item_index) {
    DcmItem* groups = nullptr;
    DcmItem* item = nullptr;
    if (dataset.findAndGetSequenceItem(groups_sequence, groups, item_index).good() && groups &&
        groups->findAndGetSequenceItem(macro, item, 0).good() && item)
      return text(*item, attribute);
    return std::string();
  };
  value = in_group(DCM_PerFrameFunctionalGroupsSequence, index);
  return value.empty() ? in_group(DCM_SharedFunctionalGroupsSequence, 0) : value;
}

// The backslash-separated values of a multi-valued string.
std::vector<std::string> split_values(const std::string& values) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (std::size_t end; (end = values.find('\\', start)) != std::string::npos; start = end + 1)
    parts.push_back(values.substr(start, end - start));
  parts.push_back(values.substr(start));
  return parts;
}

struct FileError {
  std::string path;
  [[noreturn]] void fail(const std::string& what) const { throw std::runtime_error("DICOM '" + path + "': " + what); }
  void check(const OFCondition& condition, const std::string& what) const {
    if (condition.bad()) fail(what + " (" + condition.text() + ")");
  }
};

double decimal_or(const std::string& value, double fallback, const FileError& file, const char* what) {
  if (value.empty()) return fallback;
  char* end = nullptr;
  const double parsed = std::strtod(value.c_str(), &end);
  if (end == value.c_str() || !std::isfinite(parsed)) file.fail(std::string("bad ") + what + " '" + value + "'");
  return parsed;
}

}  // namespace

bool is_dicom_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char head[132] = {0};
  return in.read(head, sizeof head) && std::memcmp(head + 128, "DICM", 4) == 0;
}

struct DicomFrames::Data {
  std::unique_ptr<DcmFileFormat> file;  // the source's attributes, pixel data dropped
  int frames = 0, rows = 0, columns = 0;
  bool inverted = false;                // MONOCHROME1: the lowest value is displayed white
  std::vector<std::vector<std::int32_t>> stored;  // stored pixel values of each frame, row-major
  std::vector<double> slope, intercept;  // per frame
  double low = 0, high = 0;             // modality value range of the whole object
};

DicomFrames DicomFrames::read(const std::string& path) {
  const FileError file{path};
  if (!is_dicom_file(path))
    throw std::runtime_error("'" + path + "' is not a DICOM file (no 'DICM' marker after the 128-byte preamble)");
  initialise_dcmtk();
  if (!dcmDataDict.isDictionaryLoaded()) file.fail("the DCMTK data dictionary is not installed");
  auto data = std::make_shared<Data>();
  data->file = std::make_unique<DcmFileFormat>();
  // Values above 4 KiB stay in the file until asked for, so the pixel data is read only after its size is checked.
  file.check(data->file->loadFile(path.c_str(), EXS_Unknown, EGL_noChange, DCM_MaxReadLength, ERM_fileOnly),
             "unreadable");
  DcmDataset& dataset = *data->file->getDataset();

  Uint16 rows = 0, columns = 0, samples = 1, allocated = 0, bits = 0, high_bit = 0, representation = 0;
  Sint32 frames = 1;
  if (dataset.findAndGetUint16(DCM_Rows, rows).bad() || dataset.findAndGetUint16(DCM_Columns, columns).bad())
    file.fail("not an image (no Rows and Columns)");
  dataset.findAndGetUint16(DCM_SamplesPerPixel, samples);
  dataset.findAndGetUint16(DCM_BitsAllocated, allocated);
  dataset.findAndGetUint16(DCM_BitsStored, bits);
  dataset.findAndGetUint16(DCM_HighBit, high_bit);
  dataset.findAndGetUint16(DCM_PixelRepresentation, representation);
  if (dataset.tagExists(DCM_NumberOfFrames) && dataset.findAndGetSint32(DCM_NumberOfFrames, frames).bad())
    file.fail("bad Number of Frames");
  const std::string photometric = text(dataset, DCM_PhotometricInterpretation);
  if (samples != 1 || (photometric != "MONOCHROME1" && photometric != "MONOCHROME2"))
    file.fail("photometric interpretation '" + photometric + "' with " + std::to_string(samples) +
              " samples per pixel is not supported (grayscale: MONOCHROME1 or MONOCHROME2)");
  if (allocated != 8 && allocated != 16)
    file.fail(std::to_string(allocated) + " bits allocated are not supported (8 or 16)");
  if (bits < 1 || bits > allocated || high_bit != bits - 1)
    file.fail("bits stored " + std::to_string(bits) + " with high bit " + std::to_string(high_bit) +
              " are not supported");
  if (representation > 1) file.fail("bad pixel representation " + std::to_string(representation));
  if (rows < 1 || columns < 1 || rows > kMaxSide || columns > kMaxSide || frames < 1 || frames > kMaxFrames ||
      std::int64_t{frames} * rows * columns > kMaxPixels)
    file.fail(std::to_string(frames) + " frames of " + std::to_string(rows) + "x" + std::to_string(columns) +
              " exceed the limits (sides 1.." + std::to_string(kMaxSide) + ", at most " + std::to_string(kMaxFrames) +
              " frames and 2^28 pixels in all)");
  data->frames = frames;
  data->rows = rows;
  data->columns = columns;
  data->inverted = photometric == "MONOCHROME1";

  DcmElement* element = nullptr;
  if (dataset.findAndGetElement(DCM_PixelData, element).bad() || !element || element->ident() != EVR_PixelData)
    file.fail("no pixel data");
  auto* pixels = static_cast<DcmPixelData*>(element);
  const std::size_t frame_pixels = static_cast<std::size_t>(rows) * columns;
  const std::size_t frame_bytes = frame_pixels * (allocated / 8);
  const DcmXfer syntax(dataset.getOriginalXfer());
  // Uncompressed pixel data is read only as far as the file backs it; compressed frames are decoded one at a time.
  std::error_code size_error;
  const std::uintmax_t file_size = std::filesystem::file_size(path, size_error);
  if (!syntax.isEncapsulated() && (size_error || element->getLengthField() > file_size))
    file.fail("pixel data of " + std::to_string(element->getLengthField()) + " bytes in a file of " +
              std::to_string(file_size));
  if (!syntax.isEncapsulated() && element->getLengthField() < frame_bytes * static_cast<std::size_t>(frames))
    file.fail("pixel data holds " + std::to_string(element->getLengthField()) + " bytes, " + std::to_string(frames) +
              " frames of " + std::to_string(rows) + "x" + std::to_string(columns) + " need " +
              std::to_string(frame_bytes * frames));
  std::vector<std::uint8_t> buffer(frame_bytes);
  Uint32 fragment = 0;
  const std::int32_t value_mask = (std::int32_t{1} << bits) - 1, sign_bit = std::int32_t{1} << (bits - 1);
  for (int f = 0; f < frames; ++f) {
    OFString decoded_model;
    file.check(pixels->getUncompressedFrame(&dataset, static_cast<Uint32>(f), fragment, buffer.data(),
                                            static_cast<Uint32>(frame_bytes), decoded_model),
               "cannot decode frame " + std::to_string(f) + " (transfer syntax " + syntax.getXferName() + ")");
    std::vector<std::int32_t>& out = data->stored.emplace_back(frame_pixels);
    for (std::size_t j = 0; j < frame_pixels; ++j) {
      std::int32_t v;
      if (allocated == 8) {
        v = buffer[j];
      } else {
        std::uint16_t word;
        std::memcpy(&word, buffer.data() + 2 * j, 2);  // host byte order
        v = word;
      }
      v &= value_mask;
      if (representation == 1 && (v & sign_bit)) v -= value_mask + 1;
      out[j] = v;
    }
  }
  dataset.findAndDeleteElement(DCM_PixelData);
  file.check(data->file->loadAllDataIntoMemory(), "unreadable attributes");

  data->slope.resize(frames);
  data->intercept.resize(frames);
  data->low = std::numeric_limits<double>::infinity();
  data->high = -data->low;
  for (int f = 0; f < frames; ++f) {
    data->slope[f] = decimal_or(
        frame_attribute(dataset, f, DCM_PixelValueTransformationSequence, DCM_RescaleSlope), 1.0, file,
        "Rescale Slope");
    data->intercept[f] = decimal_or(
        frame_attribute(dataset, f, DCM_PixelValueTransformationSequence, DCM_RescaleIntercept), 0.0, file,
        "Rescale Intercept");
    if (data->slope[f] == 0) file.fail("Rescale Slope 0");
    const auto [low, high] = std::minmax_element(data->stored[f].begin(), data->stored[f].end());
    for (const double v : {*low * data->slope[f] + data->intercept[f], *high * data->slope[f] + data->intercept[f]}) {
      if (!std::isfinite(v)) file.fail("non-finite modality value");
      data->low = std::min(data->low, v);
      data->high = std::max(data->high, v);
    }
  }
  DicomFrames result;
  result.data_ = std::move(data);
  return result;
}

int DicomFrames::frame_count() const { return data_->frames; }
int DicomFrames::width() const { return data_->columns; }
int DicomFrames::height() const { return data_->rows; }

Plane DicomFrames::frame(int index) const {
  if (index < 0 || index >= data_->frames)
    throw std::out_of_range("DICOM frame " + std::to_string(index) + " of " + std::to_string(data_->frames));
  Plane plane(data_->columns, data_->rows);
  const std::vector<std::int32_t>& stored = data_->stored[static_cast<std::size_t>(index)];
  for (std::size_t j = 0; j < plane.pixels.size(); ++j)
    plane.pixels[j] = stored[j] * data_->slope[index] + data_->intercept[index];
  return plane;
}

Image DicomFrames::frame_image(int index) const {
  const Plane plane = frame(index);
  Image image;
  image.width = plane.width;
  image.height = plane.height;
  image.channels = 1;
  image.bit_depth = 16;
  image.samples.resize(plane.pixels.size());
  const double span = data_->high - data_->low;
  for (std::size_t j = 0; j < plane.pixels.size(); ++j) {
    const double level = span > 0 ? (plane.pixels[j] - data_->low) / span : 0.0;
    image.samples[j] = static_cast<std::uint16_t>(std::lround((data_->inverted ? 1.0 - level : level) * 65535.0));
  }
  return image;
}

void DicomFrames::write_segmentation(const std::string& path, const std::vector<Mask>& masks,
                                     const std::string& label) const {
  const FileError out{path};
  const Data& d = *data_;
  if (masks.size() != static_cast<std::size_t>(d.frames))
    throw std::invalid_argument("write_segmentation '" + path + "': " + std::to_string(masks.size()) +
                                " masks for " + std::to_string(d.frames) + " frames");
  for (const Mask& mask : masks)
    if (mask.width != d.columns || mask.height != d.rows ||
        mask.pixels.size() != static_cast<std::size_t>(d.columns) * d.rows)
      throw std::invalid_argument("write_segmentation '" + path + "': a mask is " + std::to_string(mask.width) + "x" +
                                  std::to_string(mask.height) + ", the frames " + std::to_string(d.columns) + "x" +
                                  std::to_string(d.rows));
  DcmDataset& source = *d.file->getDataset();

  DcmSegmentation* created = nullptr;
  out.check(DcmSegmentation::createBinarySegmentation(
                created, static_cast<Uint16>(d.rows), static_cast<Uint16>(d.columns),
                IODGeneralEquipmentModule::EquipmentInfo("cryptounet", "cryptounet", "1", "cryptounet"),
                ContentIdentificationMacro("1", "SEGMENTATION", label + " segmentation", "")),
            "cannot create the segmentation");
  const std::unique_ptr<DcmSegmentation> seg(created);
  out.check(seg->importFromSourceImage(source), "cannot take over the source's patient and study");
  out.check(seg->getSegmentationSeriesModule().setSeriesNumber("999"), "series number");
  out.check(seg->getSeries().setSeriesDescription((label + " segmentation").c_str(), OFFalse), "series description");

  DcmSegment* segment = nullptr;
  out.check(DcmSegment::create(segment, label.c_str(), CodeSequenceMacro("91723000", "SCT", "Anatomical Structure"),
                               CodeSequenceMacro("84640000", "SCT", "Nucleus"), DcmSegTypes::SAT_AUTOMATIC,
                               "cryptounet U-Net"),
            "cannot create the segment");
  Uint16 segment_number = 0;
  const OFCondition added = seg->addSegment(segment, segment_number);
  if (added.bad()) delete segment;
  out.check(added, "cannot add the segment");

  // Geometry is carried over only within the source's frame of reference, which the segmentation shares.
  const bool in_frame_of_reference = !text(source, DCM_FrameOfReferenceUID).empty();
  FGPixelMeasures measures;
  const std::string spacing = frame_attribute(source, 0, DCM_PixelMeasuresSequence, DCM_PixelSpacing);
  const std::string thickness = frame_attribute(source, 0, DCM_PixelMeasuresSequence, DCM_SliceThickness);
  if (!spacing.empty()) {
    out.check(measures.setPixelSpacing(spacing.c_str()), "pixel spacing");
    if (!thickness.empty()) out.check(measures.setSliceThickness(thickness.c_str()), "slice thickness");
    out.check(seg->addForAllFrames(measures), "pixel measures");
  }
  const auto orientation =
      split_values(frame_attribute(source, 0, DCM_PlaneOrientationSequence, DCM_ImageOrientationPatient));
  if (in_frame_of_reference && (spacing.empty() || orientation.size() != 6))
    out.fail("the source has a Frame of Reference but no Pixel Spacing or Image Orientation (Patient): a "
             "segmentation in its frame of reference needs the plane geometry");
  if (in_frame_of_reference) {
    FGPlaneOrientationPatient plane;
    out.check(plane.setImageOrientationPatient(orientation[0].c_str(), orientation[1].c_str(), orientation[2].c_str(),
                                               orientation[3].c_str(), orientation[4].c_str(), orientation[5].c_str()),
              "image orientation");
    out.check(seg->addForAllFrames(plane), "image orientation");
  }

  const std::string sop_class = text(source, DCM_SOPClassUID), sop_instance = text(source, DCM_SOPInstanceUID);
  const bool multi_frame = source.tagExists(DCM_NumberOfFrames);
  FGSegmentation segmentation;
  out.check(segmentation.setReferencedSegmentNumber(segment_number), "segment number");
  std::vector<Uint8> pixels(static_cast<std::size_t>(d.rows) * d.columns);
  for (int f = 0; f < d.frames; ++f) {
    FGFrameContent content;
    out.check(content.setStackID("1"), "stack");
    out.check(content.setInStackPositionNumber(static_cast<Uint32>(f + 1)), "stack position");
    out.check(content.setDimensionIndexValues(segment_number, 0), "dimension index");
    out.check(content.setDimensionIndexValues(static_cast<Uint32>(f + 1), 1), "dimension index");
    // Read from an item: DCMTK 3.6.7's setters of Referenced Frame Number refuse every SOP class but Segmentation.
    DcmItem source_item;
    source_item.putAndInsertString(DCM_ReferencedSOPClassUID, sop_class.c_str());
    source_item.putAndInsertString(DCM_ReferencedSOPInstanceUID, sop_instance.c_str());
    if (multi_frame) source_item.putAndInsertString(DCM_ReferencedFrameNumber, std::to_string(f + 1).c_str());
    ImageSOPInstanceReferenceMacro reference;
    out.check(reference.read(source_item), "cannot reference source frame " + std::to_string(f));
    const std::unique_ptr<FGDerivationImage> derivation(DcmSegmentation::createDerivationImageFG(
        OFVector<ImageSOPInstanceReferenceMacro>(1, reference), "U-Net segmentation (cryptounet)"));
    if (!derivation) out.fail("cannot reference source frame " + std::to_string(f));
    OFVector<FGBase*> groups;
    groups.push_back(&content);
    groups.push_back(&segmentation);
    groups.push_back(derivation.get());
    FGPlanePosPatient position;
    const auto origin = split_values(frame_attribute(source, f, DCM_PlanePositionSequence, DCM_ImagePositionPatient));
    if (in_frame_of_reference) {
      if (origin.size() != 3)
        out.fail("the source has a Frame of Reference but no Image Position (Patient) for frame " + std::to_string(f));
      out.check(position.setImagePositionPatient(origin[0].c_str(), origin[1].c_str(), origin[2].c_str()),
                "image position");
      groups.push_back(&position);
    }
    std::transform(masks[f].pixels.begin(), masks[f].pixels.end(), pixels.begin(),
                   [](std::uint8_t v) { return static_cast<Uint8>(v != 0); });
    out.check(seg->addFrame(pixels.data(), segment_number, groups), "cannot add frame " + std::to_string(f));
  }

  char organisation[100];
  dcmGenerateUniqueIdentifier(organisation, SITE_INSTANCE_UID_ROOT);
  IODMultiframeDimensionModule& dimensions = seg->getDimensions();
  out.check(dimensions.addDimensionIndex(DCM_ReferencedSegmentNumber, organisation, DCM_SegmentIdentificationSequence,
                                         "Segment"),
            "dimensions");
  out.check(dimensions.addDimensionIndex(DCM_InStackPositionNumber, organisation, DCM_FrameContentSequence, "Frame"),
            "dimensions");

  const std::string study = text(source, DCM_StudyInstanceUID);
  IODReferences references;
  auto* reference = new IODImageReference(text(source, DCM_PatientID).c_str(), study.c_str(),
                                          text(source, DCM_SeriesInstanceUID).c_str(), sop_instance.c_str(),
                                          sop_class.c_str());
  if (!references.add(reference)) {  // ownership passes only on success
    delete reference;
    out.fail("cannot reference the source series");
  }
  if (seg->getCommonInstanceReference().addReferences(references, study.c_str()) != 1)
    out.fail("cannot reference the source series");
  DcmFileFormat result;
  out.check(seg->writeDataset(*result.getDataset()), "cannot write the segmentation");
  // DCMTK 3.6.7 misplaces bits when a frame's pixel count is not a multiple of 8; the standard packs all frames as
  // one bit stream, least significant bit first, without padding between frames.
  const std::size_t frame_pixels = static_cast<std::size_t>(d.rows) * d.columns;
  std::vector<Uint8> packed((frame_pixels * d.frames + 7) / 8, 0);
  for (std::size_t f = 0; f < masks.size(); ++f)
    for (std::size_t j = 0; j < frame_pixels; ++j)
      if (masks[f].pixels[j]) {
        const std::size_t bit = f * frame_pixels + j;
        packed[bit / 8] = static_cast<Uint8>(packed[bit / 8] | (1u << (bit % 8)));
      }
  out.check(result.getDataset()->putAndInsertUint8Array(DCM_PixelData, packed.data(), packed.size()),
            "cannot write the segmentation");
  out.check(result.saveFile(path.c_str(), EXS_LittleEndianExplicit), "cannot write the segmentation");
}

}  // namespace cryptounet::io
