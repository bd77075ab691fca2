// The files `pocket gen` copies next to the generated code (runtime/*.c|h, runtime/arm/*.c,
// targets/*/*), embedded byte for byte at build time by cmake/embed_files.cmake.
#pragma once

#include <cstddef>
#include <string_view>

namespace pocket::codegen::embedded {

struct EmbeddedFile {
  const char* path;           // relative to the source tree: "runtime/pocket_conv2d.c"
  const unsigned char* data;  // `size` bytes (followed by a NUL)
  size_t size;
};
extern const EmbeddedFile kFiles[];
extern const size_t kFileCount;

}  // namespace pocket::codegen::embedded
