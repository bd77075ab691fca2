// PNG image folders, decoded with libpng's sequential read API.
//
// libpng reports errors by longjmp. The decoding function below therefore keeps only trivially
// destructible locals (no C++ object is ever skipped by the jump) and hands everything back
// through plain structs; the C++ side builds messages and containers afterwards.
#include <png.h>

#include <algorithm>
#include <cctype>
#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "pocket/fileio.hpp"
#include "pocket/images.hpp"

namespace pocket {

namespace fs = std::filesystem;

namespace {

constexpr int kRowBytes = kCifarSide * kCifarChannels;  // one decoded RGB row

struct PngInput {
  const uint8_t* data;
  size_t size;
  size_t pos;
};

enum class PngOutcome : uint8_t { Ok, LibpngError, WrongSize, Unsupported };

struct PngOutput {
  char message[256];
  png_uint_32 width;
  png_uint_32 height;
  int bit_depth;
  int color_type;
};

void read_from_memory(png_structp png, png_bytep out, size_t count) {
  auto* in = static_cast<PngInput*>(png_get_io_ptr(png));
  if (count > in->size - in->pos) png_error(png, "unexpected end of file (the PNG is truncated)");
  std::memcpy(out, in->data + in->pos, count);
  in->pos += count;
}

void on_error(png_structp png, png_const_charp message) {
  auto* out = static_cast<PngOutput*>(png_get_error_ptr(png));
  std::snprintf(out->message, sizeof out->message, "%s", message);
  png_longjmp(png, 1);
}

void on_warning(png_structp, png_const_charp) {}

bool supported_format(int color_type, int bit_depth) {
  if (color_type == PNG_COLOR_TYPE_PALETTE) return true;  // indices of any depth expand to 8-bit RGB
  return bit_depth == 8;
}

// Decodes a 32x32 PNG into `rgb` (HWC, 3072 bytes). Only trivially destructible locals here.
PngOutcome decode_png(PngInput* in, PngOutput* out, uint8_t* rgb) {
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, out, on_error, on_warning);
  if (png == nullptr) {
    std::snprintf(out->message, sizeof out->message, "out of memory");
    return PngOutcome::LibpngError;
  }
  png_infop info = png_create_info_struct(png);
  if (info == nullptr) {
    png_destroy_read_struct(&png, nullptr, nullptr);
    std::snprintf(out->message, sizeof out->message, "out of memory");
    return PngOutcome::LibpngError;
  }
  png_bytep rows[kCifarSide];
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_read_struct(&png, &info, nullptr);
    return PngOutcome::LibpngError;
  }
  png_set_read_fn(png, in, read_from_memory);
  png_read_info(png, info);
  out->width = png_get_image_width(png, info);
  out->height = png_get_image_height(png, info);
  out->bit_depth = png_get_bit_depth(png, info);
  out->color_type = png_get_color_type(png, info);
  if (out->width != kCifarSide || out->height != kCifarSide) {
    png_destroy_read_struct(&png, &info, nullptr);
    return PngOutcome::WrongSize;
  }
  if (!supported_format(out->color_type, out->bit_depth)) {
    png_destroy_read_struct(&png, &info, nullptr);
    return PngOutcome::Unsupported;
  }
  if (out->color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
  if ((out->color_type & PNG_COLOR_MASK_COLOR) == 0) png_set_gray_to_rgb(png);
  if ((out->color_type & PNG_COLOR_MASK_ALPHA) != 0) png_set_strip_alpha(png);
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  if (png_get_rowbytes(png, info) != static_cast<size_t>(kRowBytes)) {
    png_error(png, "unexpected row size after conversion to 8-bit RGB");
  }
  for (int y = 0; y < kCifarSide; ++y) rows[y] = rgb + y * kRowBytes;
  png_read_image(png, rows);
  png_read_end(png, nullptr);
  png_destroy_read_struct(&png, &info, nullptr);
  return PngOutcome::Ok;
}

std::string color_type_name(int color_type) {
  switch (color_type) {
    case PNG_COLOR_TYPE_GRAY:
      return "grayscale";
    case PNG_COLOR_TYPE_GRAY_ALPHA:
      return "grayscale+alpha";
    case PNG_COLOR_TYPE_RGB:
      return "RGB";
    case PNG_COLOR_TYPE_RGB_ALPHA:
      return "RGBA";
    case PNG_COLOR_TYPE_PALETTE:
      return "palette";
    default:
      return "color type " + std::to_string(color_type);
  }
}

bool has_png_extension(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext == ".png";
}

}  // namespace

Result<std::vector<uint8_t>> load_png_image(const std::string& path) {
  POCKET_ASSIGN_OR_RETURN(const std::vector<uint8_t> bytes, read_file_bytes(path));
  if (bytes.size() < 8 || png_sig_cmp(bytes.data(), 0, 8) != 0) {
    return Error{path + ": not a PNG file (bad signature)"};
  }
  PngInput in{bytes.data(), bytes.size(), 0};
  PngOutput out{};
  std::vector<uint8_t> rgb(static_cast<size_t>(kCifarImageBytes));
  switch (decode_png(&in, &out, rgb.data())) {
    case PngOutcome::Ok:
      break;
    case PngOutcome::LibpngError:
      return Error{path + ": cannot decode the PNG: " + out.message};
    case PngOutcome::WrongSize:
      return Error{path + ": image is " + std::to_string(out.width) + "x" + std::to_string(out.height) +
                   ", expected 32x32: resize it to 32x32 first (images are not resized here, so calibration "
                   "sees exactly what the model will be given)"};
    case PngOutcome::Unsupported:
      return Error{path + ": " + std::to_string(out.bit_depth) + "-bit " + color_type_name(out.color_type) +
                   " PNG is not supported: save it with 8-bit samples (RGB, RGBA, grayscale or palette)"};
  }
  // HWC -> CHW.
  std::vector<uint8_t> chw(static_cast<size_t>(kCifarImageBytes));
  constexpr int kPlane = kCifarSide * kCifarSide;
  for (int i = 0; i < kPlane; ++i) {
    for (int c = 0; c < kCifarChannels; ++c) {
      chw[static_cast<size_t>(c * kPlane + i)] = rgb[static_cast<size_t>(i * kCifarChannels + c)];
    }
  }
  return chw;
}

Result<Dataset> load_image_dir(const std::string& dir) {
  std::error_code ec;
  const auto st = fs::status(dir, ec);
  if (!fs::exists(st)) return Error{"image directory " + dir + " does not exist: pass a directory of 32x32 PNG files"};
  if (!fs::is_directory(st)) return Error{dir + " is not a directory: pass a directory of 32x32 PNG files"};
  std::vector<std::string> names;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code ec2;
    if (it->is_regular_file(ec2) && has_png_extension(it->path())) names.push_back(it->path().filename().string());
  }
  if (ec) return Error{dir + ": cannot list the directory: " + ec.message()};
  if (names.empty()) return Error{"no .png files in " + dir + ": put 32x32 PNG images there"};
  std::sort(names.begin(), names.end());
  Dataset data;
  data.pixels.reserve(names.size() * static_cast<size_t>(kCifarImageBytes));
  for (const auto& name : names) {
    POCKET_ASSIGN_OR_RETURN(const std::vector<uint8_t> image, load_png_image((fs::path(dir) / name).string()));
    data.pixels.insert(data.pixels.end(), image.begin(), image.end());
  }
  data.labels.assign(names.size(), kUnknownLabel);
  data.source = dir;
  return data;
}

}  // namespace pocket
