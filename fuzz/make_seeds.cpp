// Writes the seed-* files of the committed fuzz corpus: valid inputs for every fuzz target (small parameters, so that
// the fuzzer starts from well-formed objects and explores their fields), each cut to the fuzzers' largest input as
// libFuzzer would cut it: make_seeds <corpus-root> <max-len> [model.onnx model.json] (scripts/fuzz.sh seeds).
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "ckks/encoder.h"
#include "ckks/encryptor.h"
#include "ckks/keygenerator.h"
#include "ckks/serialization.h"
#include "fuzz_context.h"
#include "henn/batch.h"
#include "henn/key_bundle.h"
#include "io/tiff.h"
#include "serve/fake_backend.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <nifti2_io.h>
#include <tiffio.h>

namespace {

namespace fs = std::filesystem;
using namespace cryptounet;

std::size_t max_len = 0;

void write_seed(const fs::path& dir, const std::string& name, const std::string& bytes) {
  fs::create_directories(dir);
  std::ofstream(dir / ("seed-" + name), std::ios::binary) << bytes.substr(0, max_len);
}

void seed(const fs::path& dir, const std::string& name, char selector, const std::string& bytes) {
  write_seed(dir, name, selector + bytes);
}

template <class T>
std::string serialized(const ckks::Context& ctx, const T& object) {
  std::ostringstream out;
  ckks::save(out, ctx, object);
  return out.str();
}

std::string read_all(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

io::Image gradient(int width, int height, int channels, int bits) {
  io::Image image;
  image.width = width;
  image.height = height;
  image.channels = channels;
  image.bit_depth = bits;
  for (int j = 0; j < width * height * channels; ++j) image.samples.push_back(static_cast<std::uint16_t>(j * 7 % 251));
  return image;
}

// Valid image files of each reader: plain and OME-TIFF, NIfTI-1, DICOM single- and multi-frame.
void image_file_seeds(const fs::path& root) {
  const auto tmp = fs::temp_directory_path() / "cryptounet-make-seeds.img";
  io::write_tiff(tmp.string(), {gradient(9, 7, 1, 8)});
  write_seed(root / "fuzz_tiff", "gray8", read_all(tmp));
  io::write_tiff(tmp.string(), {gradient(5, 4, 3, 16), gradient(5, 4, 3, 16)});
  write_seed(root / "fuzz_tiff", "rgb16-stack", read_all(tmp));
  {
    TIFF* tif = TIFFOpen(tmp.c_str(), "w");
    for (int page = 0; page < 4; ++page) {
      TIFFSetField(tif, TIFFTAG_IMAGEWIDTH, 4u);
      TIFFSetField(tif, TIFFTAG_IMAGELENGTH, 3u);
      TIFFSetField(tif, TIFFTAG_BITSPERSAMPLE, 8);
      TIFFSetField(tif, TIFFTAG_SAMPLESPERPIXEL, 1);
      TIFFSetField(tif, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISBLACK);
      TIFFSetField(tif, TIFFTAG_ROWSPERSTRIP, 3u);
      if (page == 0)
        TIFFSetField(tif, TIFFTAG_IMAGEDESCRIPTION,
                     R"(<?xml version="1.0" encoding="UTF-8"?><OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06">)"
                     R"(<Image ID="Image:0"><Pixels ID="Pixels:0" DimensionOrder="XYCZT" Type="uint8" SizeX="4" SizeY="3" )"
                     R"(SizeZ="1" SizeC="2" SizeT="1"><TiffData IFD="0" PlaneCount="2"/></Pixels></Image>)"
                     R"(<Image ID="Image:1"><Pixels ID="Pixels:1" DimensionOrder="XYZCT" Type="uint8" SizeX="4" SizeY="3" )"
                     R"(SizeZ="2" SizeC="1" SizeT="1"><TiffData IFD="2" FirstZ="0" PlaneCount="2"/></Pixels></Image></OME>)");
      std::uint8_t row[4] = {1, 2, 3, static_cast<std::uint8_t>(page)};
      for (std::uint32_t y = 0; y < 3; ++y) TIFFWriteScanline(tif, row, y, 0);
      TIFFWriteDirectory(tif);
    }
    TIFFClose(tif);
  }
  write_seed(root / "fuzz_tiff", "ome", read_all(tmp));

  {
    const std::int64_t dims[8] = {3, 5, 4, 3, 1, 1, 1, 1};
    nifti_image* nim = nifti_make_new_nim(dims, DT_INT16, 1);
    auto* voxels = static_cast<std::int16_t*>(nim->data);
    for (int j = 0; j < 5 * 4 * 3; ++j) voxels[j] = static_cast<std::int16_t>(j * 13 - 300);
    nim->scl_slope = 0.5;
    nim->scl_inter = 4;
    nim->sform_code = NIFTI_XFORM_SCANNER_ANAT;
    const double m[4][4] = {{0.8, 0, 0, -2}, {0, 0, 1.5, 3}, {0, 0.9, 0, 7}, {0, 0, 0, 1}};
    for (int r = 0; r < 4; ++r)
      for (int c = 0; c < 4; ++c) nim->sto_xyz.m[r][c] = m[r][c];
    const std::string path = tmp.string() + ".nii";
    nifti_set_filenames(nim, path.c_str(), 0, 1);
    nifti_image_write(nim);
    nifti_image_free(nim);
    write_seed(root / "fuzz_nifti", "nifti1", read_all(path));
    fs::remove(path);
  }

  for (const int frames : {1, 3}) {
    DcmFileFormat file;
    DcmDataset* d = file.getDataset();
    d->putAndInsertString(DCM_SOPClassUID, frames == 1 ? UID_CTImageStorage : UID_EnhancedMRImageStorage);
    d->putAndInsertString(DCM_SOPInstanceUID, "1.2.826.0.1.3680043.8.498.11");
    d->putAndInsertString(DCM_StudyInstanceUID, "1.2.826.0.1.3680043.8.498.12");
    d->putAndInsertString(DCM_SeriesInstanceUID, "1.2.826.0.1.3680043.8.498.13");
    d->putAndInsertString(DCM_FrameOfReferenceUID, "1.2.826.0.1.3680043.8.498.14");
    d->putAndInsertString(DCM_PatientID, "P1");
    d->putAndInsertString(DCM_PhotometricInterpretation, frames == 1 ? "MONOCHROME2" : "MONOCHROME1");
    d->putAndInsertUint16(DCM_SamplesPerPixel, 1);
    d->putAndInsertUint16(DCM_Rows, 6);
    d->putAndInsertUint16(DCM_Columns, 5);
    d->putAndInsertUint16(DCM_BitsAllocated, 16);
    d->putAndInsertUint16(DCM_BitsStored, 12);
    d->putAndInsertUint16(DCM_HighBit, 11);
    d->putAndInsertUint16(DCM_PixelRepresentation, 1);
    d->putAndInsertString(DCM_PixelSpacing, "0.5\\0.5");
    d->putAndInsertString(DCM_ImageOrientationPatient, "1\\0\\0\\0\\1\\0");
    if (frames == 1) {
      d->putAndInsertString(DCM_ImagePositionPatient, "0\\0\\0");
      d->putAndInsertString(DCM_RescaleSlope, "2");
      d->putAndInsertString(DCM_RescaleIntercept, "-1024");
    } else {
      d->putAndInsertString(DCM_NumberOfFrames, std::to_string(frames).c_str());
      for (int f = 0; f < frames; ++f) {
        DcmItem* groups = nullptr;
        DcmItem* position = nullptr;
        d->findOrCreateSequenceItem(DCM_PerFrameFunctionalGroupsSequence, groups, f);
        groups->findOrCreateSequenceItem(DCM_PlanePositionSequence, position);
        position->putAndInsertString(DCM_ImagePositionPatient, ("0\\0\\" + std::to_string(f)).c_str());
      }
    }
    std::vector<Uint16> pixels(static_cast<std::size_t>(frames) * 30);
    for (std::size_t j = 0; j < pixels.size(); ++j) pixels[j] = static_cast<Uint16>(j * 37 % 4096);
    d->putAndInsertUint16Array(DCM_PixelData, pixels.data(), pixels.size());
    file.saveFile(tmp.c_str(), frames == 1 ? EXS_LittleEndianExplicit : EXS_LittleEndianImplicit);
    write_seed(root / "fuzz_dicom", frames == 1 ? "ct" : "enhanced-mr", read_all(tmp));
  }
  fs::remove(tmp);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: make_seeds <corpus-root> <max-len> [model.onnx model.json]\n";
    return 2;
  }
  const fs::path root = argv[1];
  max_len = std::stoul(argv[2]);
  const auto& ctx = fuzz::small_context();

  // HTTP requests: method selector, delivery mode, path, '\n', body.
  const auto request = [&](const std::string& name, char method, const std::string& path, const std::string& body) {
    seed(root / "fuzz_http", name, method, std::string(1, '\0') + path + "\n" + body);
  };
  request("health", 0, "/healthz", "");
  request("metrics", 0, "/metrics", "");
  request("keys", 1, "/v1/keys", serve::FakeBackend::make_keys(0xC0FFEE, "public keys"));
  request("secret", 1, "/v1/keys", serve::FakeBackend::make_secret_key(0xC0FFEE, "secret"));
  request("submit", 1, "/v1/keys/{K}/jobs", serve::FakeBackend::make_batch(0xC0FFEE, "batch"));
  request("status", 0, "/v1/jobs/{J}", "");
  request("result", 0, "/v1/jobs/{J}/result", "");
  request("delete-job", 2, "/v1/jobs/{J}", "");
  request("get-key", 0, "/v1/keys/{K}", "");

  std::ostringstream params;
  ckks::save(params, ctx->parameters());
  write_seed(root / "fuzz_ckks_params", "params", params.str());  // this target has no selector byte

  ckks::KeyGenerator keygen(ctx);
  const auto public_key = keygen.create_public_key();
  const auto relin = keygen.create_relin_key();
  const std::vector<int> steps = {1, -1};
  const auto galois = keygen.create_galois_keys(steps);
  const auto objects = root / "fuzz_ckks_objects";  // selector bytes as in fuzz_ckks_objects.cpp
  seed(objects, "secret", 0, serialized(*ctx, keygen.secret_key()));
  seed(objects, "public", 1, serialized(*ctx, public_key));
  seed(objects, "relin", 2, serialized(*ctx, relin));
  seed(objects, "galois", 3, serialized(*ctx, galois));

  ckks::Encoder encoder(ctx);
  ckks::Encryptor encryptor(ctx, public_key);
  const std::vector<double> values(16, 0.5);
  const auto pt = encoder.encode(values, ctx->max_level(), 0x1p30);
  const auto ct = encryptor.encrypt(pt);
  seed(objects, "ct", 4, serialized(*ctx, ct));
  seed(objects, "cts", 5, serialized(*ctx, std::vector<ckks::Ciphertext>{ct, ct}));
  seed(objects, "pt", 6, serialized(*ctx, pt));

  henn::InferencePlan plan;
  plan.spec = ctx->parameters().spec();
  plan.layout = henn::Layout::create(16, 16, static_cast<int>(ctx->slot_count()), 0);
  plan.levels = ctx->max_level();
  plan.rotation_steps = steps;
  plan.rotation_levels = {ctx->max_level(), ctx->max_level()};
  plan.relin_level = ctx->max_level();
  plan.input_scale = 0x1p30;
  std::ostringstream plan_bytes;
  henn::save_plan(plan_bytes, plan, ctx->parameters());
  seed(root / "fuzz_henn_files", "plan", 0, plan_bytes.str());
  const auto tmp = fs::temp_directory_path() / "cryptounet-make-seeds.bin";
  henn::save_evaluation_keys(tmp.string(), henn::EvaluationKeys{plan, ctx, relin, galois});
  seed(root / "fuzz_henn_files", "eval", 1, read_all(tmp));
  seed(root / "fuzz_henn_files", "eval-header", 3, read_all(tmp));
  henn::EncryptedBatch batch{plan.layout, 12, {{"img", 16, 16}}, {ct}};
  henn::save_batch(tmp.string(), *ctx, batch);
  seed(root / "fuzz_henn_files", "batch", 2, read_all(tmp));
  fs::remove(tmp);

  image_file_seeds(root);

  if (argc >= 5) {
    seed(root / "fuzz_model", "onnx", 0, read_all(argv[3]));
    seed(root / "fuzz_model", "json", 1, read_all(argv[4]));
  }
  std::cout << "seeds written to " << root << "\n";
  return 0;
}
