// PNG image folders: every supported format decodes to the expected CHW bytes; every other
// input is an error naming the file.
#include <gtest/gtest.h>
#include <png.h>

#include <csetjmp>
#include <filesystem>

#include "data_test_util.hpp"
#include "pocket/images.hpp"

namespace pocket {
namespace {

namespace fs = std::filesystem;
using test::fresh_dir;

struct PngSpec {
  int width = 32;
  int height = 32;
  int color_type = PNG_COLOR_TYPE_RGB;
  int bit_depth = 8;
  bool interlaced = false;
};

// Writes a PNG with libpng's low-level API. `rows` holds height rows of packed samples.
// Trivially destructible locals only (libpng errors longjmp).
bool write_png_raw(const char* path, const PngSpec* spec, const uint8_t* rows_data, size_t row_bytes,
                   const png_color* palette, int palette_size) {
  std::FILE* f = std::fopen(path, "wb");
  if (!f) return false;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png_create_info_struct(png);
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    std::fclose(f);
    return false;
  }
  png_init_io(png, f);
  png_set_IHDR(png, info, static_cast<png_uint_32>(spec->width), static_cast<png_uint_32>(spec->height),
               spec->bit_depth, spec->color_type, spec->interlaced ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  if (palette) png_set_PLTE(png, info, palette, palette_size);
  png_write_info(png, info);
  const int passes = png_set_interlace_handling(png);
  for (int pass = 0; pass < passes; ++pass) {
    for (int y = 0; y < spec->height; ++y) png_write_row(png, rows_data + static_cast<size_t>(y) * row_bytes);
  }
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  return std::fclose(f) == 0;
}

int channels_of(int color_type) {
  switch (color_type) {
    case PNG_COLOR_TYPE_GRAY:
    case PNG_COLOR_TYPE_PALETTE:
      return 1;
    case PNG_COLOR_TYPE_GRAY_ALPHA:
      return 2;
    case PNG_COLOR_TYPE_RGB:
      return 3;
    default:
      return 4;
  }
}

// A PNG whose sample s of pixel (y, x) is sample(y, x, s) (8-bit formats) and which must decode
// to expected(c, y, x).
void write_png(const std::string& path, const PngSpec& spec,
               const std::function<uint8_t(int, int, int)>& sample, const std::vector<png_color>& palette = {}) {
  const int channels = channels_of(spec.color_type);
  const size_t row_bytes = static_cast<size_t>(spec.width * channels * spec.bit_depth + 7) / 8;
  std::vector<uint8_t> data(row_bytes * static_cast<size_t>(spec.height), 0);
  for (int y = 0; y < spec.height; ++y) {
    for (int x = 0; x < spec.width; ++x) {
      for (int s = 0; s < channels; ++s) {
        const uint8_t v = sample(y, x, s);
        if (spec.bit_depth == 8) {
          data[static_cast<size_t>(y) * row_bytes + static_cast<size_t>(x * channels + s)] = v;
        } else if (spec.bit_depth == 16) {
          const size_t at = static_cast<size_t>(y) * row_bytes + static_cast<size_t>((x * channels + s) * 2);
          data[at] = v;
          data[at + 1] = v;
        } else {  // 1, 2 or 4 bits per sample, one channel, MSB first
          const int bit = x * spec.bit_depth;
          const int shift = 8 - spec.bit_depth - bit % 8;
          data[static_cast<size_t>(y) * row_bytes + static_cast<size_t>(bit / 8)] |= static_cast<uint8_t>(v << shift);
        }
      }
    }
  }
  ASSERT_TRUE(write_png_raw(path.c_str(), &spec, data.data(), row_bytes, palette.empty() ? nullptr : palette.data(),
                            static_cast<int>(palette.size())))
      << path;
}

uint8_t chw(const std::vector<uint8_t>& img, int c, int y, int x) {
  return img[static_cast<size_t>(c * 1024 + y * 32 + x)];
}

uint8_t pattern(int y, int x, int s) { return static_cast<uint8_t>(y * 7 + x * 3 + s * 50); }

TEST(PngImage, RgbIsReadAsChw) {
  const std::string dir = fresh_dir("png-rgb");
  write_png(dir + "/a.png", {}, pattern);
  auto img = load_png_image(dir + "/a.png");
  ASSERT_TRUE(img.is_ok()) << img.message();
  ASSERT_EQ(img->size(), 3072u);
  for (int c = 0; c < 3; ++c) {
    for (int y = 0; y < 32; ++y) {
      for (int x = 0; x < 32; ++x) ASSERT_EQ(chw(*img, c, y, x), pattern(y, x, c)) << c << " " << y << " " << x;
    }
  }
}

TEST(PngImage, RgbaDropsAlphaAndKeepsColour) {
  const std::string dir = fresh_dir("png-rgba");
  PngSpec spec;
  spec.color_type = PNG_COLOR_TYPE_RGB_ALPHA;
  // Alpha varies, including fully transparent pixels: their colour is kept as stored.
  write_png(dir + "/a.png", spec, [](int y, int x, int s) { return s == 3 ? static_cast<uint8_t>(x * 8) : pattern(y, x, s); });
  auto img = load_png_image(dir + "/a.png");
  ASSERT_TRUE(img.is_ok()) << img.message();
  for (int c = 0; c < 3; ++c) {
    for (int y = 0; y < 32; ++y) {
      for (int x = 0; x < 32; ++x) ASSERT_EQ(chw(*img, c, y, x), pattern(y, x, c));
    }
  }
}

TEST(PngImage, GrayscaleIsReplicated) {
  const std::string dir = fresh_dir("png-gray");
  PngSpec gray;
  gray.color_type = PNG_COLOR_TYPE_GRAY;
  write_png(dir + "/g.png", gray, [](int y, int x, int) { return static_cast<uint8_t>(y * 8 + x); });
  PngSpec gray_alpha;
  gray_alpha.color_type = PNG_COLOR_TYPE_GRAY_ALPHA;
  write_png(dir + "/ga.png", gray_alpha, [](int y, int x, int s) { return static_cast<uint8_t>(s == 1 ? 0 : y * 8 + x); });
  for (const char* name : {"/g.png", "/ga.png"}) {
    auto img = load_png_image(dir + name);
    ASSERT_TRUE(img.is_ok()) << img.message();
    for (int c = 0; c < 3; ++c) {
      for (int y = 0; y < 32; ++y) {
        for (int x = 0; x < 32; ++x) ASSERT_EQ(chw(*img, c, y, x), static_cast<uint8_t>(y * 8 + x)) << name;
      }
    }
  }
}

TEST(PngImage, PaletteAndInterlaced) {
  const std::string dir = fresh_dir("png-palette");
  std::vector<png_color> palette;
  for (int i = 0; i < 16; ++i) {
    palette.push_back(png_color{static_cast<png_byte>(i * 16), static_cast<png_byte>(255 - i), static_cast<png_byte>(i)});
  }
  PngSpec spec;
  spec.color_type = PNG_COLOR_TYPE_PALETTE;
  spec.bit_depth = 4;
  write_png(dir + "/p.png", spec, [](int y, int x, int) { return static_cast<uint8_t>((x + y) % 16); }, palette);
  auto img = load_png_image(dir + "/p.png");
  ASSERT_TRUE(img.is_ok()) << img.message();
  for (int y = 0; y < 32; ++y) {
    for (int x = 0; x < 32; ++x) {
      const png_color& col = palette[static_cast<size_t>((x + y) % 16)];
      ASSERT_EQ(chw(*img, 0, y, x), col.red);
      ASSERT_EQ(chw(*img, 1, y, x), col.green);
      ASSERT_EQ(chw(*img, 2, y, x), col.blue);
    }
  }
  PngSpec interlaced;
  interlaced.interlaced = true;
  write_png(dir + "/i.png", interlaced, pattern);
  auto inter = load_png_image(dir + "/i.png");
  ASSERT_TRUE(inter.is_ok()) << inter.message();
  for (int y = 0; y < 32; ++y) {
    for (int x = 0; x < 32; ++x) ASSERT_EQ(chw(*inter, 1, y, x), pattern(y, x, 1));
  }
}

TEST(PngImage, WrongSizeIsAnErrorNamingTheFile) {
  const std::string dir = fresh_dir("png-size");
  PngSpec spec;
  spec.width = 33;
  write_png(dir + "/wide.png", spec, pattern);
  auto r = load_png_image(dir + "/wide.png");
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.message().find(dir + "/wide.png: image is 33x32, expected 32x32"), std::string::npos) << r.message();
  spec.width = 32;
  spec.height = 16;
  write_png(dir + "/short.png", spec, pattern);
  auto s = load_png_image(dir + "/short.png");
  ASSERT_FALSE(s.is_ok());
  EXPECT_NE(s.message().find("image is 32x16"), std::string::npos) << s.message();
}

TEST(PngImage, UnsupportedDepthsAreErrors) {
  const std::string dir = fresh_dir("png-depth");
  PngSpec deep;
  deep.bit_depth = 16;
  write_png(dir + "/deep.png", deep, pattern);
  auto r = load_png_image(dir + "/deep.png");
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.message().find(dir + "/deep.png: 16-bit RGB PNG is not supported: save it with 8-bit samples"),
            std::string::npos)
      << r.message();
  PngSpec bilevel;
  bilevel.color_type = PNG_COLOR_TYPE_GRAY;
  bilevel.bit_depth = 1;
  write_png(dir + "/bw.png", bilevel, [](int y, int x, int) { return static_cast<uint8_t>((x + y) % 2); });
  auto bw = load_png_image(dir + "/bw.png");
  ASSERT_FALSE(bw.is_ok());
  EXPECT_NE(bw.message().find("1-bit grayscale PNG is not supported"), std::string::npos) << bw.message();
}

TEST(PngImage, CorruptFilesAreErrors) {
  const std::string dir = fresh_dir("png-corrupt");
  test::write_text(dir + "/text.png", "this is not a png at all");
  auto text = load_png_image(dir + "/text.png");
  ASSERT_FALSE(text.is_ok());
  EXPECT_NE(text.message().find(dir + "/text.png: not a PNG file"), std::string::npos) << text.message();
  write_png(dir + "/whole.png", {}, pattern);
  auto bytes = test::read_bytes(dir + "/whole.png");
  bytes.resize(bytes.size() / 2);
  test::write_bytes(dir + "/half.png", bytes);
  auto half = load_png_image(dir + "/half.png");
  ASSERT_FALSE(half.is_ok());
  EXPECT_NE(half.message().find(dir + "/half.png: cannot decode the PNG: unexpected end of file"), std::string::npos)
      << half.message();
  // A flipped byte in the image data breaks its CRC.
  bytes = test::read_bytes(dir + "/whole.png");
  bytes[bytes.size() - 20] ^= 0xff;
  test::write_bytes(dir + "/flipped.png", bytes);
  auto flipped = load_png_image(dir + "/flipped.png");
  ASSERT_FALSE(flipped.is_ok());
  EXPECT_NE(flipped.message().find("flipped.png: cannot decode the PNG"), std::string::npos) << flipped.message();
  auto missing = load_png_image(dir + "/missing.png");
  ASSERT_FALSE(missing.is_ok());
  EXPECT_NE(missing.message().find("missing.png: file not found"), std::string::npos) << missing.message();
}

TEST(ImageDir, SortedByNameWithUnknownLabels) {
  const std::string dir = fresh_dir("imgdir");
  // Written out of order; the first sample value tells which file an image came from.
  for (const char* name : {"b.png", "a.png", "c.PNG", "a10.png"}) {
    const auto tag = static_cast<uint8_t>(name[0] + (name[1] == '1' ? 100 : 0));
    write_png(dir + "/" + name, {}, [tag](int, int, int) { return tag; });
  }
  test::write_text(dir + "/notes.txt", "ignored");
  test::write_text(dir + "/image.jpg", "ignored");
  fs::create_directories(dir + "/sub.png");  // a directory, ignored
  auto r = load_image_dir(dir);
  ASSERT_TRUE(r.is_ok()) << r.message();
  ASSERT_EQ(r->size(), 4);
  EXPECT_EQ(r->pixels.size(), 4u * 3072);
  EXPECT_EQ(r->labels, std::vector<uint8_t>(4, kUnknownLabel));
  EXPECT_TRUE(r->class_names.empty());
  EXPECT_EQ(r->source, dir);
  // Byte order: "a.png" < "a10.png" < "b.png" < "c.PNG".
  EXPECT_EQ(r->image(0)[0], 'a');
  EXPECT_EQ(r->image(1)[0], 'a' + 100);
  EXPECT_EQ(r->image(2)[0], 'b');
  EXPECT_EQ(r->image(3)[3071], 'c');
  // Usable with the rest of the data API.
  Tensor out;
  const std::vector<int64_t> idx{3, 0};
  make_batch(*r, idx, Normalization::unit(), out);
  EXPECT_EQ(out.data[0], Normalization::unit().apply(0, 'c'));
  EXPECT_EQ(batch_labels(*r, idx), (std::vector<int>{255, 255}));
}

TEST(ImageDir, Errors) {
  const std::string dir = fresh_dir("imgdir-errors");
  auto missing = load_image_dir(dir + "/nope");
  ASSERT_FALSE(missing.is_ok());
  EXPECT_NE(missing.message().find(dir + "/nope does not exist"), std::string::npos) << missing.message();
  test::write_text(dir + "/file", "x");
  auto file = load_image_dir(dir + "/file");
  ASSERT_FALSE(file.is_ok());
  EXPECT_NE(file.message().find("is not a directory"), std::string::npos) << file.message();
  fs::create_directories(dir + "/empty");
  test::write_text(dir + "/empty/readme.txt", "no images");
  auto empty = load_image_dir(dir + "/empty");
  ASSERT_FALSE(empty.is_ok());
  EXPECT_NE(empty.message().find("no .png files in " + dir + "/empty"), std::string::npos) << empty.message();
  // One bad image fails the folder, naming that image.
  fs::create_directories(dir + "/mixed");
  write_png(dir + "/mixed/good.png", {}, pattern);
  PngSpec big;
  big.width = 64;
  big.height = 64;
  write_png(dir + "/mixed/big.png", big, pattern);
  auto mixed = load_image_dir(dir + "/mixed");
  ASSERT_FALSE(mixed.is_ok());
  EXPECT_NE(mixed.message().find(dir + "/mixed/big.png: image is 64x64"), std::string::npos) << mixed.message();
}

}  // namespace
}  // namespace pocket
