#include "io/tiff.h"
#include "temp_dir.h"
#include "tiff_files.h"

#include <gtest/gtest.h>
#include <tiffio.h>

#include <stdexcept>
#include <string>

namespace cryptounet::io {
namespace {

// `pages` 3x2 8-bit gray pages with the constant value 10 * page, the OME-XML in the first page's ImageDescription
// (as Bio-Formats and tifffile write it).
void write_ome_tiff(const std::string& path, int pages, const std::string& xml) {
  TIFF* tif = TIFFOpen(path.c_str(), "w");
  ASSERT_NE(tif, nullptr);
  for (int page = 0; page < pages; ++page) {
    test::set_page_fields(tif, {.width = 3, .height = 2});
    TIFFSetField(tif, TIFFTAG_ROWSPERSTRIP, 2u);
    if (page == 0) TIFFSetField(tif, TIFFTAG_IMAGEDESCRIPTION, xml.c_str());
    unsigned char row[3];
    for (unsigned char& v : row) v = static_cast<unsigned char>(10 * page);
    for (std::uint32_t y = 0; y < 2; ++y) ASSERT_GE(TIFFWriteScanline(tif, row, y, 0), 0);
    ASSERT_TRUE(TIFFWriteDirectory(tif));
  }
  TIFFClose(tif);
}

std::string ome(const std::string& images) {
  return R"(<?xml version="1.0" encoding="UTF-8"?>
<OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06">)" + images + "</OME>";
}

// Two series: the first is 2 z-planes x 2 channels stored channel-fastest (XYCZT) in pages 0-3, the second (2 planes)
// in pages 4-5. Only the first is read, page z + SizeZ * c.
TEST(OmeTiff, ReadsTheFirstSeriesInItsDimensionOrder) {
  test::TempDir dir;
  write_ome_tiff(dir.file("cells.ome.tif"), 6, ome(R"(
  <Image ID="Image:0"><Pixels ID="Pixels:0" DimensionOrder="XYCZT" Type="uint8" SizeX="3" SizeY="2" SizeZ="2"
      SizeC="2" SizeT="1"><Channel ID="Channel:0:0"/><Channel ID="Channel:0:1"/>
    <TiffData IFD="0" PlaneCount="4"/></Pixels></Image>
  <Image ID="Image:1"><Pixels ID="Pixels:1" DimensionOrder="XYZCT" Type="uint8" SizeX="3" SizeY="2" SizeZ="2"
      SizeC="1" SizeT="1"><TiffData IFD="4" PlaneCount="2"/></Pixels></Image>)"));
  ASSERT_EQ(tiff_page_count(dir.file("cells.ome.tif")), 4);
  const int expected_page[4] = {0, 2, 1, 3};  // (z, c) = (0,0) (1,0) (0,1) (1,1) -> file plane c + 2 z
  for (int page = 0; page < 4; ++page)
    EXPECT_EQ(read_tiff(dir.file("cells.ome.tif"), page).samples[0], 10 * expected_page[page]) << page;
  EXPECT_THROW(read_tiff(dir.file("cells.ome.tif"), 4), std::runtime_error);
}

// TiffData per plane (FirstZ/FirstT), and a series without TiffData: its planes are the first pages in order.
TEST(OmeTiff, PlanesPlacedOneByOneOrImplicitly) {
  test::TempDir dir;
  write_ome_tiff(dir.file("t.ome.tif"), 2, ome(R"(<Image ID="Image:0"><Pixels DimensionOrder="XYZCT" SizeX="3"
      SizeY="2" SizeZ="1" SizeC="1" SizeT="2"><TiffData IFD="1" FirstT="0"/><TiffData IFD="0" FirstT="1"/>
      </Pixels></Image>)"));
  ASSERT_EQ(tiff_page_count(dir.file("t.ome.tif")), 2);
  EXPECT_EQ(read_tiff(dir.file("t.ome.tif"), 0).samples[0], 10);
  EXPECT_EQ(read_tiff(dir.file("t.ome.tif"), 1).samples[0], 0);
  write_ome_tiff(dir.file("z.ome.tif"), 3, ome(R"(<Image ID="Image:0"><Pixels DimensionOrder="XYZCT" SizeX="3"
      SizeY="2" SizeZ="3" SizeC="1" SizeT="1"/></Image>)"));
  ASSERT_EQ(tiff_page_count(dir.file("z.ome.tif")), 3);
  EXPECT_EQ(read_tiff(dir.file("z.ome.tif"), 2).samples[0], 20);
}

TEST(OmeTiff, InconsistentMetadataIsRefusedNamingTheFile) {
  test::TempDir dir;
  const auto error_of = [&](const std::string& xml) {
    write_ome_tiff(dir.file("bad.ome.tif"), 2, xml);
    try {
      tiff_page_count(dir.file("bad.ome.tif"));
    } catch (const std::runtime_error& e) {
      return std::string(e.what());
    }
    return std::string("(no exception)");
  };
  const std::string pixels = R"(<Image ID="Image:0"><Pixels DimensionOrder="XYZCT" SizeX="3" SizeY="2" )";
  EXPECT_NE(error_of(ome(pixels + R"(SizeZ="5" SizeC="1" SizeT="1"/></Image>)")).find("the file has 2 pages"),
            std::string::npos);
  EXPECT_NE(error_of(ome(pixels + R"(SizeZ="2" SizeC="1" SizeT="1"><TiffData IFD="0" PlaneCount="1"/></Pixels>
      </Image>)")).find("no page for plane z 1"), std::string::npos);
  EXPECT_NE(error_of(ome(pixels + R"(SizeZ="2" SizeC="1" SizeT="1"><TiffData><UUID FileName="other.ome.tif">urn:uuid:1
      </UUID></TiffData></Pixels></Image>)")).find("another file"), std::string::npos);
  EXPECT_NE(error_of(ome(pixels + R"(SizeZ="-1" SizeC="1" SizeT="1"/></Image>)")).find("SizeZ"), std::string::npos);
  const std::string broken = error_of("<OME><Image");
  EXPECT_NE(broken.find("bad.ome.tif"), std::string::npos) << broken;
  EXPECT_NE(broken.find("unreadable OME-XML"), std::string::npos) << broken;
}

}  // namespace
}  // namespace cryptounet::io
